"""Hopfield associative memory: Hebbian storage, retrieval, capacity, temperature, digits.

Network: N spins s_i = +-1, Hebbian couplings J = (1/N) sum_mu xi^mu xi^mu^T with zero diagonal,
energy E = -1/2 s.J.s. The kernels work with the integer counts C = N J (exact in float32 and
float64): at zero temperature only the sign of the field matters, and at temperature T the
field is C s / N.

Dynamics at T = 0 (:func:`descend`): asynchronous updates in a fresh random order every sweep,
s_i <- sign(h_i) (a zero field keeps the spin), until a sweep changes nothing - a local minimum
of E under single flips (:func:`.kernels.dense_sweeps`). At T > 0: Glauber (heat-bath) dynamics
in the pattern representation (:func:`.kernels.pattern_glauber`).

Known results checked here:

* capacity: started at a stored pattern, the network stays near it (m ~ 1) up to
  alpha = p/N = alpha_c ~ 0.138 (Amit, Gutfreund & Sompolinsky 1985), then the overlap collapses;
  at finite N the drop is smeared and sits slightly above alpha_c;
* p = 1 (and p << N) at temperature T: the retrieval overlap solves m = tanh(m/T) (T_c = 1); for
  p = 1 the network is a Curie-Weiss magnet, whose finite-N <|m|> is an exact sum over M;
* the symmetric three-pattern mixture: m = [tanh(3 m/T) + tanh(m/T)] / 4, stable while the
  Hessian of the mean-field free energy is positive definite, i.e. below T ~ 0.46 (AGS 1985).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from scipy.optimize import brentq, minimize_scalar
from scipy.special import erf, gammaln

from mlreview.data.mnist import load_mnist
from mlreview.io import save_npz, to_jsonable
from mlreview.ising.autocorr import blocking_standard_error
from mlreview.ising.kernels import seed_state
from mlreview.sections.energy_landscapes.kernels import dense_sweeps, pattern_glauber
from mlreview.stats import wilson_interval
from mlreview.steps import step

_NO_SCHEDULE = np.empty(0)


# ----------------------------------------------------------------------------- basics
def grid(spec: Mapping) -> np.ndarray:
    """Values from ``start`` to ``stop`` (inclusive) in steps of ``step``."""
    start, stop, step = (float(spec[k]) for k in ("start", "stop", "step"))
    n = int(round((stop - start) / step)) + 1
    return np.round(start + step * np.arange(n), 10)


def random_patterns(rng: np.random.Generator, p: int, n: int, up_probability=0.5) -> np.ndarray:
    """p patterns of n independent +-1 spins (int8), each +1 with ``up_probability`` (a number or
    an array of n per-site probabilities)."""
    return np.where(rng.random((p, n)) < up_probability, 1, -1).astype(np.int8)


def hebbian_counts(patterns: np.ndarray) -> np.ndarray:
    """C = sum_mu xi^mu xi^mu^T with zero diagonal (float32, integer-valued): J = C / N."""
    xi = np.asarray(patterns, np.float32)
    C = xi.T @ xi
    np.fill_diagonal(C, 0.0)
    return C


def hebbian_fields(patterns: np.ndarray, states: np.ndarray) -> np.ndarray:
    """C s for every row s of ``states`` (float64, exact integers), via the p overlaps:
    sum_mu xi^mu (xi^mu . s) - p s (the zero diagonal)."""
    xi = np.asarray(patterns, np.float64)
    s = np.atleast_2d(np.asarray(states, np.float64))
    return (s @ xi.T) @ xi - len(xi) * s


def energy(C: np.ndarray, s: np.ndarray) -> float:
    """E = -1/2 s.J.s with J = C / N."""
    s = np.asarray(s, np.float64)
    return float(-0.5 * s @ (np.asarray(C, np.float64) @ s) / len(s))


def overlaps(patterns: np.ndarray, states: np.ndarray) -> np.ndarray:
    """m = xi . s / N, row by row (``patterns`` and ``states`` of the same shape)."""
    return np.einsum("ij,ij->i", np.asarray(patterns, np.float64), np.asarray(states, np.float64)) / patterns.shape[1]


def descend(C: np.ndarray, patterns: np.ndarray, cues: np.ndarray, state: np.ndarray,
            max_sweeps: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Zero-temperature asynchronous dynamics from every cue (row) to a local minimum.

    Returns (final states (k, N) int8, sweeps per cue, stable flags); a cue that is not stable
    after ``max_sweeps`` sweeps is returned as it is (flag False).
    """
    cues = np.atleast_2d(np.asarray(cues, np.int8))
    H = hebbian_fields(patterns, cues)
    finals = cues.copy()
    sweeps = np.empty(len(cues), np.int64)
    stable = np.empty(len(cues), bool)
    for k in range(len(cues)):
        h = H[k].copy()
        _, sweeps[k], _, stable[k] = dense_sweeps(C, finals[k], h, _NO_SCHEDULE, True, int(max_sweeps), state)
    return finals, sweeps, stable


def flip_bits(rng: np.random.Generator, pattern: np.ndarray, n_flip: int) -> np.ndarray:
    """A copy of ``pattern`` with exactly ``n_flip`` distinct bits flipped (chosen at random)."""
    cue = np.array(pattern, np.int8)
    idx = rng.choice(len(cue), size=int(n_flip), replace=False)
    cue[idx] = -cue[idx]
    return cue


def crossing_down(x: np.ndarray, y: np.ndarray, level: float) -> float | None:
    """The first x where y falls below ``level`` (linear interpolation between grid points)."""
    below = np.flatnonzero(np.asarray(y) < level)
    if len(below) == 0 or below[0] == 0:
        return None
    k = below[0]
    x0, x1, y0, y1 = x[k - 1], x[k], y[k - 1], y[k]
    return float(x0 + (y0 - level) * (x1 - x0) / (y0 - y1))


def _non_increasing(values: list[float]) -> bool:
    return all(b <= a for a, b in zip(values, values[1:]))


def steepest_drop(x: np.ndarray, y: np.ndarray) -> float:
    """The midpoint of the grid interval where y drops fastest."""
    slope = np.diff(y) / np.diff(x)
    k = int(np.argmin(slope))
    return float(0.5 * (x[k] + x[k + 1]))


# ----------------------------------------------------------------------------- mean-field theory
def ags_alpha(y):
    """Amit-Gutfreund-Sompolinsky T = 0 retrieval branch in the parameter y = m / sqrt(2 alpha r):
    alpha(y) = (erf(y)/y - 2/sqrt(pi) exp(-y^2))^2 / 2 with overlap m = erf(y) (replica symmetric)."""
    y = np.asarray(y, float)
    return 0.5 * (erf(y) / y - 2.0 / math.sqrt(math.pi) * np.exp(-y * y)) ** 2


def ags_critical() -> tuple[float, float]:
    """(alpha_c, m at alpha_c): the largest alpha of the retrieval branch (0.1379, 0.967)."""
    res = minimize_scalar(lambda y: -float(ags_alpha(y)), bounds=(0.5, 3.0), method="bounded",
                          options={"xatol": 1e-12})
    return float(-res.fun), float(erf(res.x))


def ags_retrieval_curve(n: int = 200, y_max: float = 6.0) -> tuple[np.ndarray, np.ndarray]:
    """(alpha, m) along the retrieval branch from alpha ~ 0 up to alpha_c."""
    res = minimize_scalar(lambda y: -float(ags_alpha(y)), bounds=(0.5, 3.0), method="bounded",
                          options={"xatol": 1e-12})
    y = np.linspace(float(res.x), y_max, n)
    return ags_alpha(y), erf(y)


def retrieval_overlap(T: float) -> float:
    """The positive solution of m = tanh(m/T) (0 for T >= 1): pure-state retrieval, p << N."""
    if T <= 0:
        return 1.0
    if T >= 1.0:
        return 0.0
    return float(brentq(lambda m: m - math.tanh(m / T), 1e-12, 1.0, xtol=1e-14))


def _sign_configurations(p: int) -> np.ndarray:
    return np.array(list(itertools.product((-1.0, 1.0), repeat=p)))


def mixture_overlap(T: float, n: int = 3) -> float:
    """The overlap m of the symmetric n-mixture, m = < xi^1 tanh(m sum_{nu<=n} xi^nu / T) >
    over random signs (for n = 3: [tanh(3m/T) + tanh(m/T)] / 4); 0 where only m = 0 solves it."""
    xs = _sign_configurations(n)
    z = xs.sum(axis=1)

    def f(m):
        return m - float(np.mean(xs[:, 0] * np.tanh(m * z / T)))

    lo = 1e-9
    return float(brentq(f, lo, 1.0, xtol=1e-14)) if f(lo) < 0 else 0.0


def mixture_hessian_eigenvalues(T: float, n: int = 3, p: int = 3) -> np.ndarray:
    """Eigenvalues of the Hessian of the mean-field free energy f(m) = |m|^2/2 - T <ln 2cosh(xi.m/T)>
    at the symmetric n-mixture among p patterns: delta_{mu nu} - <xi^mu xi^nu (1 - tanh^2)>/T."""
    m = np.zeros(p)
    m[:n] = mixture_overlap(T, n)
    xs = _sign_configurations(p)
    t = np.tanh(xs @ m / T)
    A = np.eye(p) - np.einsum("ki,kj,k->ij", xs, xs, 1.0 - t**2) / (len(xs) * T)
    return np.linalg.eigvalsh(A)


def mixture_stability_temperature(n: int = 3, p: int = 3, bracket=(0.2, 0.9)) -> float:
    """The temperature where the smallest Hessian eigenvalue of the n-mixture crosses zero."""
    return float(brentq(lambda T: mixture_hessian_eigenvalues(T, n, p)[0], *bracket, xtol=1e-10))


def curie_weiss_abs_m(N: int, T: float) -> float:
    """Exact <|m|> of the one-pattern network (a Curie-Weiss magnet with J_ij = 1/N, zero
    diagonal) of N spins: E(M) = -(M^2 - N) / (2N), weights binom(N, (N+M)/2) exp(-E/T)."""
    k = np.arange(N + 1)
    M = 2 * k - N
    logw = gammaln(N + 1) - gammaln(k + 1) - gammaln(N - k + 1) + (M.astype(float) ** 2 - N) / (2 * N * T)
    w = np.exp(logw - logw.max())
    return float((np.abs(M) / N * w).sum() / w.sum())


# ----------------------------------------------------------------------------- capacity
def capacity_point(N: int, p: int, params: Mapping, seed: int) -> dict:
    """Final overlaps of zero-temperature retrieval started at stored patterns, for p patterns in
    networks of N spins. New networks (each with its own patterns) are drawn until the standard
    error of the mean overlap is at most ``target_se`` with at least ``min_runs`` runs, or
    ``max_runs`` runs are reached; each network serves min(p, ``starts_per_network``) starts."""
    runs, sweeps, unstable = [], [], 0
    target, min_runs, max_runs = float(params["target_se"]), int(params["min_runs"]), int(params["max_runs"])
    per_net = int(params["starts_per_network"])
    net = 0
    while True:
        rng = np.random.default_rng([seed, N, p, net])
        xi = random_patterns(rng, p, N)
        C = hebbian_counts(xi)
        starts = rng.choice(p, size=min(p, per_net, max_runs - len(runs)), replace=False)
        finals, sw, stable = descend(C, xi, xi[starts], seed_state(seed, N, p, net), int(params["max_sweeps"]))
        runs += overlaps(xi[starts], finals).tolist()
        sweeps += sw.tolist()
        unstable += int((~stable).sum())
        net += 1
        n = len(runs)
        se = float(np.std(runs, ddof=1) / math.sqrt(n)) if n > 1 else math.inf
        if n >= max_runs or (n >= min_runs and se <= target):
            break
    runs = np.asarray(runs)
    return {"overlaps": runs, "mean": float(runs.mean()), "se": se, "runs": n, "networks": net,
            "retrieved": float(np.mean(runs >= float(params["success_overlap"]))),
            "mean_sweeps": float(np.mean(sweeps)), "not_converged": unstable}


@step
def hopfield_capacity_fit(params: Mapping, *, data: Path) -> dict:
    """Workflow step: mean final overlap against alpha = p/N for every N (zero-temperature
    asynchronous retrieval from the stored patterns); where it falls below ``crossing_overlap``
    and where it drops fastest; the overlap at ``retrieval_alpha``."""
    sizes = sorted(int(n) for n in params["sizes"])
    alphas = grid(params["alphas"])
    seed = int(params["seed"])
    level = float(params["crossing_overlap"])
    arrays, per_size = {"alphas": alphas, "sizes": np.array(sizes)}, {}
    ags_a, ags_m = ags_retrieval_curve()
    for N in sizes:
        ps = np.maximum(1, np.rint(alphas * N).astype(int))
        points = [capacity_point(N, int(p), params, seed) for p in ps]
        alpha_eff = ps / N
        mean = np.array([pt["mean"] for pt in points])
        se = np.array([pt["se"] for pt in points])
        arrays.update({f"N{N}_alpha": alpha_eff, f"N{N}_mean": mean, f"N{N}_se": se,
                       f"N{N}_runs": np.array([pt["runs"] for pt in points]),
                       f"N{N}_retrieved": np.array([pt["retrieved"] for pt in points]),
                       f"N{N}_overlaps": np.concatenate([pt["overlaps"] for pt in points]),
                       f"N{N}_offsets": np.cumsum([0] + [pt["runs"] for pt in points])})
        at = int(np.argmin(np.abs(alpha_eff - float(params["retrieval_alpha"]))))
        below = alpha_eff <= float(params["ags_compare_max_alpha"]) + 1e-12
        ags_dev = np.abs(mean[below] - np.interp(alpha_eff[below], ags_a[::-1], ags_m[::-1]))
        per_size[f"N{N}"] = {
            "alpha_half": crossing_down(alpha_eff, mean, level),
            "alpha_steepest": steepest_drop(alpha_eff, mean),
            "overlap_at_retrieval_alpha": float(mean[at]), "se_at_retrieval_alpha": float(se[at]),
            "retrieval_alpha": float(alpha_eff[at]),
            "max_abs_deviation_from_ags": float(ags_dev.max()) if ags_dev.size else None,
            "max_se": float(se.max()), "runs_total": int(sum(pt["runs"] for pt in points)),
            "min_runs": int(min(pt["runs"] for pt in points)),
            "networks_total": int(sum(pt["networks"] for pt in points)),
            "not_converged": int(sum(pt["not_converged"] for pt in points)),
            "max_mean_sweeps": float(max(pt["mean_sweeps"] for pt in points)),
        }
    alpha_c_ags, m_c_ags = ags_critical()
    save_npz(data, **arrays, alpha_c=alpha_c_ags, crossing_overlap=level, ags_alpha=ags_a, ags_m=ags_m)
    largest = f"N{max(sizes)}"
    return to_jsonable({
        "sizes": per_size,
        "largest_size": max(sizes),
        "alpha_c_literature": float(params["alpha_c"]),
        "alpha_c_ags": alpha_c_ags, "overlap_at_alpha_c_ags": m_c_ags,
        "alpha_half_largest": per_size[largest]["alpha_half"],
        "alpha_steepest_largest": per_size[largest]["alpha_steepest"],
        "min_overlap_at_retrieval_alpha": min(v["overlap_at_retrieval_alpha"] for v in per_size.values()),
        "max_se": max(v["max_se"] for v in per_size.values()),
        "alpha_half_decreases_with_size": _non_increasing(
            [math.inf if v["alpha_half"] is None else v["alpha_half"] for v in per_size.values()]),
        "se_target_met": all(v["max_se"] <= float(params["target_se"]) for v in per_size.values()),
    })


# ----------------------------------------------------------------------------- basins
@step
def hopfield_basins_fit(params: Mapping, *, data: Path) -> dict:
    """Workflow step: probability that a cue with a fraction d of flipped bits is recalled
    (final overlap >= ``success_overlap``) against d, at a few alpha, for one N."""
    N, seed = int(params["size"]), int(params["seed"])
    alphas = np.asarray(params["alphas"], float)
    fractions = grid(params["flip_fractions"])
    runs, per_net = int(params["runs"]), int(params["starts_per_network"])
    success = np.zeros((len(alphas), len(fractions)))
    lo, hi = np.zeros_like(success), np.zeros_like(success)
    mean_m = np.zeros_like(success)
    for a, alpha in enumerate(alphas):
        p = max(1, int(round(alpha * N)))
        finals_m = [[] for _ in fractions]
        net = 0
        while len(finals_m[0]) < runs:
            rng = np.random.default_rng([seed, N, p, net])
            xi = random_patterns(rng, p, N)
            C = hebbian_counts(xi)
            starts = rng.choice(p, size=min(p, per_net, runs - len(finals_m[0])), replace=False)
            state = seed_state(seed, N, p, net)
            for f, d in enumerate(fractions):
                cues = np.array([flip_bits(rng, xi[mu], int(round(d * N))) for mu in starts])
                finals, _, _ = descend(C, xi, cues, state, int(params["max_sweeps"]))
                finals_m[f] += overlaps(xi[starts], finals).tolist()
            net += 1
        for f in range(len(fractions)):
            m = np.asarray(finals_m[f])
            k = int(np.sum(m >= float(params["success_overlap"])))
            success[a, f] = k / len(m)
            lo[a, f], hi[a, f] = wilson_interval(k, len(m), float(params["confidence"]))
            mean_m[a, f] = m.mean()
    save_npz(data, alphas=alphas, fractions=fractions, success=success, ci_low=lo, ci_high=hi,
             mean_overlap=mean_m, size=N, success_overlap=float(params["success_overlap"]))
    half = {}
    for a, alpha in enumerate(alphas):
        r = crossing_down(fractions, success[a], 0.5)
        half[f"alpha_{alpha:g}"] = r
    return to_jsonable({
        "size": N, "runs_per_point": runs,
        "basin_radius_half": half,
        "radius_shrinks_with_alpha": bool(all(
            (x is not None and y is not None and x >= y) or y is None
            for x, y in zip(list(half.values())[:-1], list(half.values())[1:]))),
        "success": {f"alpha_{alpha:g}": success[a] for a, alpha in enumerate(alphas)},
    })


# ----------------------------------------------------------------------------- temperature
def _glauber_series(xi: np.ndarray, start: np.ndarray, T: float, sweeps: int, state: np.ndarray) -> np.ndarray:
    """Overlaps with every pattern after each of ``sweeps`` Glauber sweeps from ``start``."""
    s = np.array(start, np.int8)
    M = xi.astype(np.int64) @ s.astype(np.int64)
    return pattern_glauber(np.ascontiguousarray(xi.T), s, M, 1.0 / T, int(sweeps), 1, state)


def antisymmetric_stiffness(series: np.ndarray, T: float, N: int) -> float:
    """The smallest Hessian eigenvalue lambda of the mixture, measured from its fluctuations.

    With the Hubbard-Stratonovich field x (P(x) ~ exp(-N f(x)/T), Hessian A = 1 - beta B,
    B = <xi xi^T (1 - tanh^2)>), the spins are independent given x, so the overlaps have the
    covariance B A^-1 / N: a mode with Hessian eigenvalue lambda has variance
    T (1 - lambda) / (N lambda) (for p = 1 the Curie-Weiss N var(m) = (1 - m^2) / (1 - beta (1 - m^2))).
    The two antisymmetric modes (orthogonal to (1, 1, 1)) together give
    lambda = 2T / (2T + N <|dm_perp|^2>) over the series.
    """
    dev = series - series.mean(axis=0)
    perp = dev - dev.mean(axis=1, keepdims=True)
    var = float(np.mean(np.sum(perp**2, axis=1)))
    return 2.0 * T / (2.0 * T + N * var)


def retrieval_against_temperature(params: Mapping, seed: int) -> dict:
    """Glauber runs started at pattern 1 of p, one per temperature: time averages after the
    equilibration of the overlap m with pattern 1, of |m|, and of the condensed overlap
    max_mu |m_mu| (the pattern the network sits in), with blocking standard errors."""
    N = int(params["size"])
    temps = grid(params["temperatures"])
    eq, meas = int(params["equilibration_sweeps"]), int(params["measurement_sweeps"])
    out = {}
    for p in [int(v) for v in params["patterns"]]:
        xi = random_patterns(np.random.default_rng([seed, N, p]), p, N)
        rows = {k: np.empty(len(temps)) for k in ("m", "abs_m", "condensed", "se", "condensed_se")}
        for t, T in enumerate(temps):
            series = _glauber_series(xi, xi[0], T, eq + meas, seed_state(seed, N, p, t))[eq:]
            m, cond = series[:, 0], np.abs(series).max(axis=1)
            rows["m"][t], rows["abs_m"][t], rows["condensed"][t] = m.mean(), np.abs(m).mean(), cond.mean()
            rows["se"][t] = blocking_standard_error(m).standard_error
            rows["condensed_se"][t] = blocking_standard_error(cond).standard_error
        out[p] = rows
    return {"T": temps, "N": N, "by_p": out}


def mixture_runs(params: Mapping, N: int, seed: int) -> dict:
    """Glauber runs of N spins started in the symmetric mixture sign(xi^1 + xi^2 + xi^3) of p = 3
    patterns (a new network per run). Per run, over the last ``window`` sweeps: the mean
    overlaps; kept = the spread max - min of the three overlaps stayed below
    ``asymmetry_threshold`` at every sweep of the window and their mean is above ``min_overlap``;
    for kept runs the stiffness of the antisymmetric modes from the fluctuations."""
    n_mix = int(params["patterns"])
    temps = grid(params["temperatures"])
    runs, sweeps, window = int(params["runs"]), int(params["sweeps"]), int(params["window"])
    final = np.empty((len(temps), runs, n_mix))
    kept = np.zeros((len(temps), runs), bool)
    stiffness = np.full((len(temps), runs), np.nan)
    for t, T in enumerate(temps):
        for r in range(runs):
            xi = random_patterns(np.random.default_rng([seed, N, n_mix, t, r]), n_mix, N)
            start = np.where(xi.sum(axis=0) > 0, 1, -1).astype(np.int8)
            w = _glauber_series(xi, start, T, sweeps, seed_state(seed, N, n_mix, t, r, 1))[-window:]
            final[t, r] = w.mean(axis=0)
            kept[t, r] = bool((w.max(axis=1) - w.min(axis=1)).max() < float(params["asymmetry_threshold"])
                              and w.mean() > float(params["min_overlap"]))
            if kept[t, r]:
                stiffness[t, r] = antisymmetric_stiffness(w, T, N)
    return {"T": temps, "final": final, "kept": kept, "stiffness": stiffness}


def _zero_of_line(x: np.ndarray, y: np.ndarray) -> float | None:
    """Where a straight-line fit of y(x) crosses zero (None with fewer than two points)."""
    if len(x) < 2:
        return None
    slope, intercept = np.polyfit(x, y, 1)
    return float(-intercept / slope) if slope < 0 else None


@step
def hopfield_temperature_fit(params: Mapping, *, data: Path) -> dict:
    """Workflow step: Glauber dynamics at temperature T.

    (a) Retrieval (:func:`retrieval_against_temperature`) against mean-field m = tanh(m/T) and,
    for p = 1, the exact finite-N <|m|> of the Curie-Weiss magnet. (b) The symmetric
    three-pattern mixture (:func:`mixture_runs`) for each N of ``mixture.sizes``: the fraction of
    runs that keep it, and its stiffness (smallest Hessian eigenvalue) measured from the
    fluctuations, against mean-field theory, whose eigenvalue changes sign at T ~ 0.46.
    """
    seed = int(params["seed"])
    ret, mix = params["retrieval"], params["mixture"]
    r = retrieval_against_temperature(ret, seed)
    temps, N = r["T"], r["N"]
    arrays: dict = {"retrieval_T": temps, "size": N}
    for p, rows in r["by_p"].items():
        arrays.update({f"p{p}_{k}": v for k, v in rows.items()})
    mf = np.array([retrieval_overlap(T) for T in temps])
    exact = np.array([curie_weiss_abs_m(N, T) for T in temps])
    arrays.update(mean_field=mf, exact_p1=exact)
    tmax = float(ret["claim_max_temperature"])
    sel = temps <= tmax + 1e-9
    claim_rows = r["by_p"][int(ret["claim_patterns"])]
    dev = np.abs(claim_rows["abs_m"][sel] - mf[sel])  # +-xi are both stored: the overlap up to its sign
    worst = int(np.argmax(dev))
    retrieval = {
        "size": N, "temperatures": temps, "mean_field": mf, "exact_p1_abs_m": exact,
        "by_patterns": {f"p{p}": {"m": v["m"], "condensed": v["condensed"], "se": v["se"]}
                        for p, v in r["by_p"].items()},
        "claim": {"patterns": int(ret["claim_patterns"]), "max_temperature": tmax,
                  "max_abs_deviation": float(dev.max()), "at_temperature": float(temps[sel][worst]),
                  "se_there": float(claim_rows["se"][sel][worst])},
    }
    if 1 in r["by_p"]:
        retrieval["max_abs_deviation_from_exact_p1"] = float(np.max(np.abs(r["by_p"][1]["abs_m"] - exact)))

    n_mix = int(mix["patterns"])
    t_theory = mixture_stability_temperature(n_mix, n_mix)
    fine = np.linspace(float(mix["theory_min_temperature"]), 1.0, 300)[:-1]
    arrays.update(mixture_theory_T=fine,
                  mixture_theory_m=np.array([mixture_overlap(T, n_mix) for T in fine]),
                  mixture_theory_stiffness=np.array([mixture_hessian_eigenvalues(T, n_mix, n_mix)[0] for T in fine]),
                  pure_theory_m=np.array([retrieval_overlap(T) for T in fine]),
                  mixture_stability_T=t_theory, mixture_sizes=np.array(mix["sizes"], int))
    mixture = {"patterns": n_mix, "stability_T_theory": t_theory, "by_size": {},
               "measurement": (f"runs start in sign(xi1 + xi2 + xi3); a run keeps the mixture when, over its last "
                               f"{mix['window']} of {mix['sweeps']} sweeps, max - min of the three overlaps stays "
                               f"below {mix['asymmetry_threshold']} (a pure state has ~ 0.9) and their mean is above "
                               f"{mix['min_overlap']}; its stiffness (smallest Hessian eigenvalue) is "
                               f"2T / (2T + N <|dm_perp|^2>) "
                               f"from the fluctuations of the overlaps orthogonal to (1, 1, 1), compared with "
                               f"theory where at least half of the runs keep the mixture")}
    worst_rel = []
    for Nm in sorted(int(n) for n in mix["sizes"]):
        runs = mixture_runs(mix, Nm, seed)
        mT = runs["T"]
        kept_fraction = runs["kept"].mean(axis=1)
        lam = np.nanmean(runs["stiffness"], axis=1) if runs["kept"].any() else np.full(len(mT), np.nan)
        lam_se = np.array([np.nanstd(x, ddof=1) / math.sqrt(np.sum(~np.isnan(x))) if np.sum(~np.isnan(x)) > 1
                           else np.nan for x in runs["stiffness"]])
        lam_theory = np.array([mixture_hessian_eigenvalues(T, n_mix, n_mix)[0] for T in mT])
        all_kept = (kept_fraction >= 0.5) & (lam_theory >= float(mix["min_stiffness"]))
        rel = np.abs(lam[all_kept] - lam_theory[all_kept]) / lam_theory[all_kept]
        worst_rel.append(float(rel.max()) if rel.size else None)
        arrays.update({f"mixture_N{Nm}_T": mT, f"mixture_N{Nm}_final": runs["final"],
                       f"mixture_N{Nm}_kept": kept_fraction, f"mixture_N{Nm}_stiffness": lam,
                       f"mixture_N{Nm}_stiffness_se": lam_se})
        mixture["by_size"][f"N{Nm}"] = {
            "kept_fraction": dict(zip([f"T_{T:.2f}" for T in mT], kept_fraction)),
            "survival_T_half": crossing_down(mT, kept_fraction, 0.5),
            "stiffness": dict(zip([f"T_{T:.2f}" for T in mT], lam)),
            "stiffness_theory": dict(zip([f"T_{T:.2f}" for T in mT], lam_theory)),
            "stiffness_max_relative_deviation": worst_rel[-1],
            "stiffness_compared_at": mT[all_kept],
            "stiffness_zero_linear_extrapolation": _zero_of_line(mT[all_kept], lam[all_kept]),
        }
    mixture["largest_size"] = max(int(n) for n in mix["sizes"])
    largest = mixture["by_size"][f"N{mixture['largest_size']}"]
    mixture["survival_T_half_largest"] = largest["survival_T_half"]
    mixture["stiffness_max_relative_deviation_largest"] = largest["stiffness_max_relative_deviation"]
    mixture["stiffness_zero_largest"] = largest["stiffness_zero_linear_extrapolation"]
    mixture["survival_rises_with_size"] = bool(np.all(np.diff(
        [v["survival_T_half"] or 0.0 for v in mixture["by_size"].values()]) >= 0))
    save_npz(data, **arrays)
    return to_jsonable({"retrieval": retrieval, "mixture": mixture})


# ----------------------------------------------------------------------------- digits
def binarise(images: np.ndarray, threshold: float) -> np.ndarray:
    """Grey images (n, 28, 28) 0-255 -> +-1 patterns (n, 784): +1 where the pixel > threshold."""
    x = np.asarray(images).reshape(len(images), -1)
    return np.where(x > threshold, 1, -1).astype(np.int8)


def _retrieval_curve(draw, counts, trials, seed, tag, params) -> dict:
    """Mean final overlap and retrieval fraction against the number of stored patterns p, each
    stored pattern used as a start, ``trials`` random pattern sets per p (``draw(rng, p)``)."""
    mean, frac, se = [], [], []
    for p in counts:
        finals_m = []
        for trial in range(trials):
            rng = np.random.default_rng([seed, tag, p, trial])
            xi = draw(rng, int(p))
            C = hebbian_counts(xi)
            finals, _, _ = descend(C, xi, xi, seed_state(seed, tag, p, trial), int(params["max_sweeps"]))
            finals_m += overlaps(xi, finals).tolist()
        m = np.asarray(finals_m)
        mean.append(m.mean())
        se.append(m.std(ddof=1) / math.sqrt(len(m)) if len(m) > 1 else 0.0)
        frac.append(np.mean(m >= float(params["success_overlap"])))
    return {"p": np.asarray(counts), "mean": np.asarray(mean), "se": np.asarray(se), "retrieved": np.asarray(frac)}


def capacity_from_curve(p: np.ndarray, retrieved: np.ndarray) -> float | None:
    """The p where the retrieved fraction falls below 1/2 (linear interpolation)."""
    return crossing_down(np.asarray(p, float), retrieved, 0.5)


@step
def hopfield_digits_fit(params: Mapping, *, mnist: Path, data: Path) -> dict:
    """Workflow step: binarised MNIST digits stored as Hopfield patterns.

    The picture: ``picture.sets`` sets of digits (each a list of classes, one training digit per
    class drawn at random), every stored digit cued with ``picture.flip_fraction`` of its bits
    flipped, and the state the network recalls. The capacity: the retrieved fraction (final
    overlap >= ``success_overlap`` when started at a stored pattern) against p for random training
    digits, for independent random +-1 patterns of the same N, and for independent patterns with
    the digits' mean pixel values (the bias alone).
    """
    arrays = load_mnist(mnist)
    X = binarise(arrays["x_train"], float(params["binarise_threshold"]))
    labels = arrays["y_train"].astype(int)
    N = X.shape[1]
    seed = int(params["seed"])
    pic = params["picture"]
    rng = np.random.default_rng([seed, 0])
    out: dict = {}
    picture_metrics = {}
    for s, classes in enumerate(pic["sets"]):
        idx = np.array([rng.choice(np.flatnonzero(labels == c)) for c in classes])
        xi = X[idx]
        C = hebbian_counts(xi)
        cues = np.array([flip_bits(rng, x, int(round(float(pic["flip_fraction"]) * N))) for x in xi])
        finals, _, _ = descend(C, xi, cues, seed_state(seed, 0, s), int(params["max_sweeps"]))
        m = overlaps(xi, finals)
        out.update({f"set{s}_stored": xi, f"set{s}_cue": cues, f"set{s}_recalled": finals,
                    f"set{s}_overlap": m, f"set{s}_classes": np.asarray(classes)})
        corr = (xi.astype(float) @ xi.T.astype(float)) / N
        picture_metrics[f"set{s}"] = {"classes": list(classes), "final_overlaps": m,
                                      "mean_pair_overlap": float(corr[np.triu_indices(len(xi), 1)].mean())
                                      if len(xi) > 1 else None}
    pool = np.random.default_rng([seed, 1]).choice(len(X), size=int(params["pool"]), replace=False)
    digits_pool = X[pool]
    pixel_up = (digits_pool > 0).mean(axis=0)
    trials = {k: int(v) for k, v in params["trials"].items()}

    def draw_digits(r, p):
        return digits_pool[r.choice(len(digits_pool), size=p, replace=False)]

    def draw_random(r, p):
        return random_patterns(r, p, N)

    def draw_biased(r, p):
        return random_patterns(r, p, N, pixel_up)

    curves = {
        "digits": _retrieval_curve(draw_digits, params["digit_counts"], trials["digits"], seed, 2, params),
        "biased": _retrieval_curve(draw_biased, params["digit_counts"], trials["biased"], seed, 3, params),
        "random": _retrieval_curve(draw_random, params["random_counts"], trials["random"], seed, 4, params),
    }
    for name, c in curves.items():
        out.update({f"{name}_{k}": v for k, v in c.items()})
    capacity = {name: capacity_from_curve(c["p"], c["retrieved"]) for name, c in curves.items()}
    pairs = (digits_pool[:200].astype(float) @ digits_pool[:200].T.astype(float)) / N
    save_npz(data, **out, size=N, n_sets=len(pic["sets"]), pixel_up=pixel_up,
             flip_fraction=float(pic["flip_fraction"]), alpha_c=ags_critical()[0])
    alpha = {k: (None if v is None else v / N) for k, v in capacity.items()}
    return to_jsonable({
        "size": N, "picture": picture_metrics,
        "capacity_p": capacity, "capacity_alpha": alpha,
        "random_over_digits": (None if not capacity["digits"] or capacity["random"] is None
                               else capacity["random"] / capacity["digits"]),
        "mean_pair_overlap_digits": float(pairs[np.triu_indices(len(pairs), 1)].mean()),
        "mean_pixel": float(2 * pixel_up.mean() - 1),
        "curves": {name: {"p": c["p"], "retrieved": c["retrieved"], "mean": c["mean"]} for name, c in curves.items()},
    })

