"""Perceptron capacity: Cover's count and Gardner's maximal stability (figure ``perceptron_capacity``).

P random patterns x_mu in N dimensions (Gaussian, or +-1 spins) get random labels y_mu = +-1. They
are *linearly separable* (by a perceptron through the origin) when some w has y_mu w.x_mu > 0 for
every mu. Cover (1965): for points in general position the fraction of the 2^P labellings that are
separable is exactly

    C(P, N) / 2^P = 2^(1-P) sum_{k<N} binom(P-1, k) = Prob[Binomial(P-1, 1/2) <= N-1],

which is 1/2 at P = 2N for every N and tends to a step at alpha = P/N = 2.

The *stability* of a separating w is kappa = min_mu y_mu w.x_mu / |w| (the patterns have unit
variance per component, so kappa is the normalised margin); the largest achievable one, kappa_max,
is the hard-margin solution: minimise |w| subject to y_mu w.x_mu >= 1, then kappa_max = 1/|w|.
Gardner (1988): in the limit N -> infinity at fixed alpha, kappa_max solves

    1/alpha = integral_{-kappa}^{infinity} Dt (t + kappa)^2        (Dt the standard Gaussian measure),

so kappa_max = 0 at alpha = 2 and kappa_max > 0 below.

How it is computed here. The hard-margin problem is a least-distance program (LDP), solved exactly
by the Lawson-Hanson reduction to non-negative least squares (``scipy.optimize.nnls``, an active-set
method with finite termination): min |E u - f|, u >= 0 with E = [A^T; 1^T], f = (0, ..., 0, 1),
A the rows y_mu x_mu; a zero residual means no w satisfies A w >= 1 (not separable), otherwise
w = -r[:N] / r[N]. It decides separability and gives kappa_max in one solve. The same decision is
cross-checked on a subset of the instances by a linear program with HiGHS
(``scipy.optimize.linprog``): maximise t subject to A w >= t, |w_i| <= 1, t <= 1, separable iff t > 0
(the bounded form; the plain feasibility LP A w >= 1 made HiGHS report numerical difficulties on
infeasible instances). The LP costs ~10x more than the NNLS at N = 200, hence the subset.

Patterns of one replicate are nested: the first P of P_max patterns, for P along the alpha grid.
Separability can only be lost by adding patterns, so once a prefix is not separable every longer
one is not either and is not solved again. Each alpha still sees ``replicates`` independent samples
(the estimates at different alpha of one N are correlated, not biased).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import optimize, special

from mlreview.errors import MlreviewError
from mlreview.io import save_npz
from mlreview.steps import step

PATTERN_KINDS = ("gaussian", "binary")
SQRT_2PI = math.sqrt(2 * math.pi)


# --- exact results ----------------------------------------------------------------------------

def cover_fraction(P, N) -> np.ndarray:
    """Cover's fraction of separable dichotomies of P points in general position in N dimensions
    (through the origin): 2^(1-P) sum_{k<N} binom(P-1, k) = Prob[Binomial(P-1, 1/2) <= N-1]."""
    P = np.asarray(P)
    N = np.asarray(N)
    if np.any(P < 1) or np.any(N < 1):
        raise ValueError("P and N must be positive")
    k, n = np.broadcast_arrays(N - 1, P - 1)
    # the binomial CDF (what scipy.stats.binom.cdf evaluates); bdtr is nan for k > n, where it is 1
    return np.where(k >= n, 1.0, special.bdtr(np.minimum(k, n), n, 0.5))


def cover_curve(N: int, alpha_low: float, alpha_high: float) -> tuple[np.ndarray, np.ndarray]:
    """(alpha, Cover's fraction) at every integer P from alpha_low N to alpha_high N (the figure's lines)."""
    P = np.arange(max(1, int(alpha_low * N)), int(np.ceil(alpha_high * N)) + 1)
    return P / N, cover_fraction(P, N)


def gaussian_pdf(t):
    """The standard normal density phi(t) (numpy; scipy.stats is not imported for it)."""
    return np.exp(-0.5 * np.square(t)) / SQRT_2PI


def cover_count(P: int, N: int) -> int:
    """Cover's number of separable dichotomies C(P, N) = 2 sum_{k<N} binom(P-1, k) (exact integer)."""
    from math import comb

    return 2 * sum(comb(P - 1, k) for k in range(min(N, P)))


def gardner_inverse_capacity(kappa: float) -> float:
    """1/alpha_c(kappa) = integral_{-kappa}^inf Dt (t + kappa)^2 (scipy.integrate.quad; the check of the
    closed form)."""
    from scipy import integrate

    value, _ = integrate.quad(lambda t: math.exp(-0.5 * t * t) / SQRT_2PI * (t + kappa) ** 2, -kappa, np.inf)
    return float(value)


def gardner_inverse_capacity_closed(kappa) -> np.ndarray:
    """The same integral in closed form, (1 + kappa^2) Phi(kappa) + kappa phi(kappa)."""
    kappa = np.asarray(kappa, float)
    return (1 + kappa**2) * special.ndtr(kappa) + kappa * gaussian_pdf(kappa)


def gardner_kappa(alpha: float, bracket: tuple[float, float] = (-3.0, 10.0)) -> float:
    """kappa_max(alpha) of Gardner's replica-symmetric theory: the root of alpha_c(kappa) = alpha.

    The root is found on the closed form and checked against the quadrature (they agree to 1e-9).
    Exact for kappa >= 0 (alpha <= 2); below zero (alpha > 2) the replica-symmetric solution is
    unstable and the value is only indicative.
    """
    kappa = float(optimize.brentq(lambda k: alpha * gardner_inverse_capacity_closed(k) - 1.0, *bracket,
                                  xtol=1e-13))
    if abs(alpha * gardner_inverse_capacity(kappa) - 1.0) > 1e-9:
        raise MlreviewError(f"Gardner's integral: quadrature and closed form disagree at kappa = {kappa}")
    return kappa


# --- separability and maximal stability -------------------------------------------------------

@dataclass(frozen=True)
class Stability:
    separable: bool
    kappa: float  # kappa_max (nan when not separable)
    w: np.ndarray | None  # the hard-margin solution (min |w| with A w >= 1), None when not separable
    support: np.ndarray | None = None  # rows of A with a positive multiplier (the support vectors)


def max_stability(A: np.ndarray, tol: float, start: np.ndarray | None = None) -> Stability:
    """Hard-margin perceptron through the origin for the rows ``A`` = y_mu x_mu (Lawson-Hanson LDP).

    ``tol``: residual norm of the NNLS at or below which no w has A w >= 1 (not separable); for a
    separable set the residual is kappa_max / sqrt(1 + kappa_max^2). It is also the violation of
    A w >= 1 that a row may keep in the working-set solve.

    ``start``: the rows of a first working set (for nested example sets, the support vectors of the
    previous, shorter set). The NNLS is then solved on the working set only; the next working set is
    its support vectors and the rows its solution violates by more than ``tol``, until no row is
    violated. The result is the same hard-margin solution (min |w| over a subset of the constraints
    that satisfies all of them is the minimum over all); |w| grows strictly from one working set to
    the next (the previous solution is optimal on its support and violates a new row), so no working
    set comes back and the loop ends. A working set that is not separable means that A is not either.
    Worth it where P is many times N (the teacher-student run: NNLS problems of a few hundred columns
    instead of thousands); near capacity (P ~ 2N) the rounds cost more than one solve.
    """
    A = np.asarray(A, dtype=np.float64)
    P, N = A.shape
    rows = np.arange(P) if start is None else np.unique(np.asarray(start, dtype=np.int64))
    while True:
        u, rnorm, w = _ldp(A[rows], P, N)
        if rnorm <= tol:
            return Stability(False, float("nan"), None)
        margins = A @ w
        violated = np.flatnonzero(margins < 1.0 - tol)
        violated = violated[~np.isin(violated, rows)]
        if violated.size == 0:
            break
        rows = np.union1d(rows[u > 0], violated)
    if margins.min() <= 0:  # cannot happen for an exact solution; guards against round-off
        return Stability(False, float("nan"), None)
    return Stability(True, float(margins.min() / np.linalg.norm(w)), w, rows[u > 0])


def _ldp(A: np.ndarray, P_all: int, N: int) -> tuple[np.ndarray, float, np.ndarray]:
    """The Lawson-Hanson NNLS of the rows ``A``: (u, residual norm, w = -r[:N] / r[N])."""
    P = len(A)
    E = np.empty((N + 1, P))
    E[:N] = A.T
    E[N] = 1.0
    f = np.zeros(N + 1)
    f[N] = 1.0
    try:
        u, rnorm = optimize.nnls(E, f, maxiter=max(3 * P, 100 * (N + 1)))
    except RuntimeError as err:  # iteration cap of the active-set method
        raise MlreviewError(f"the hard-margin NNLS did not terminate for P = {P} of {P_all} rows, "
                            f"N = {N}: {err}") from err
    r = E @ u - f
    with np.errstate(divide="ignore", invalid="ignore"):
        return u, float(rnorm), -r[:N] / r[N]


def lp_separable(A: np.ndarray, tol: float) -> bool:
    """Separability by a linear program (HiGHS): max t subject to A w >= t, |w_i| <= 1, t <= 1;
    separable iff the optimum t exceeds ``tol``."""
    A = np.asarray(A, dtype=np.float64)
    P, N = A.shape
    c = np.zeros(N + 1)
    c[-1] = -1.0
    A_ub = np.hstack([-A, np.ones((P, 1))])
    res = optimize.linprog(c, A_ub=A_ub, b_ub=np.zeros(P), bounds=[(-1.0, 1.0)] * N + [(None, 1.0)],
                           method="highs")
    if res.status != 0:
        raise MlreviewError(f"HiGHS did not solve the separability LP (P = {P}, N = {N}): {res.message}")
    return bool(-res.fun > tol)


def perceptron_train(A, max_epochs):
    """Rosenblatt's perceptron through the origin on the rows ``A`` = y_mu x_mu, from w = 0, patterns
    in order: w += a_mu whenever a_mu.w <= 0. Returns (w, epochs, converged). Compiled by numba on
    first use (numba is imported only by the steps that train a perceptron)."""
    return _compiled_perceptron()(np.ascontiguousarray(A, dtype=np.float64), int(max_epochs))


@functools.cache
def _compiled_perceptron():
    import numba

    return numba.njit(cache=True)(_perceptron_loop)


def _perceptron_loop(A, max_epochs):
    P, N = A.shape
    w = np.zeros(N)
    for epoch in range(max_epochs):
        mistakes = 0
        for mu in range(P):
            h = 0.0
            for i in range(N):
                h += A[mu, i] * w[i]
            if h <= 0.0:
                mistakes += 1
                for i in range(N):
                    w[i] += A[mu, i]
        if mistakes == 0:
            return w, epoch + 1, True
    return w, max_epochs, False


def draw_patterns(rng: np.random.Generator, kind: str, P: int, N: int) -> np.ndarray:
    """P patterns of N components: standard Gaussian, or +-1 with probability 1/2 each."""
    if kind == "gaussian":
        return rng.standard_normal((P, N))
    if kind == "binary":
        return 2.0 * rng.integers(0, 2, size=(P, N)) - 1.0
    raise MlreviewError(f"perceptron patterns: unknown kind {kind!r}; use one of {PATTERN_KINDS}")


def alpha_grid(spec: Mapping) -> np.ndarray:
    """alpha from ``low`` to ``high`` (inclusive) in steps of ``step``."""
    low, high, step = (float(spec[k]) for k in ("low", "high", "step"))
    n = int(round((high - low) / step)) + 1
    return low + step * np.arange(n)


def capacity_replicate(rng: np.random.Generator, kind: str, N: int, P_list: np.ndarray, tol: float,
                       lp_tol: float | None = None) -> dict[str, np.ndarray]:
    """One replicate along the P grid: separability (and kappa_max) of the nested prefixes of one
    draw of max(P_list) patterns with random labels; with ``lp_tol`` also the LP's decision
    (solved on the same prefixes, up to the first non-separable one)."""
    X = draw_patterns(rng, kind, int(P_list.max()), N)
    y = rng.choice(np.array([-1.0, 1.0]), size=int(P_list.max()))
    A = y[:, None] * X
    separable = np.zeros(len(P_list), bool)
    kappa = np.full(len(P_list), np.nan)
    lp = np.zeros(len(P_list), bool)
    lp_done = np.zeros(len(P_list), bool)
    for j, P in enumerate(P_list):
        result = max_stability(A[:P], tol)
        if lp_tol is not None:
            lp[j] = lp_separable(A[:P], lp_tol)
            lp_done[j] = True
        if not result.separable:
            break  # every longer prefix is not separable either
        separable[j] = True
        kappa[j] = result.kappa
    return {"separable": separable, "kappa": kappa, "lp": lp, "lp_done": lp_done}


def kappa_median_clipped(kappa: np.ndarray, separable: np.ndarray) -> float:
    """Median over replicates of kappa_max, a non-separable replicate counting as kappa_max <= 0
    (set to 0): equal to the median of kappa_max when at least half are separable, else 0, an upper
    bound of the (negative) median."""
    return float(np.median(np.where(separable, kappa, 0.0)))


@step
def perceptron_capacity_fit(params: Mapping, *, data: Path) -> dict:
    """Workflow step: P(separable) and kappa_max against alpha for every pattern kind and N.

    params: ``patterns`` (kinds), ``sizes`` (N), ``alphas`` {low, high, step}, ``replicates``,
    ``lp_check_replicates`` (the first replicates of every (kind, N) also solved by the LP),
    ``separable_tol`` (NNLS residual), ``lp_tol`` (LP margin), ``kappa_alpha_max`` (the largest
    alpha of the kappa-vs-Gardner check), ``seed``.
    """
    kinds = list(params["patterns"])
    sizes = [int(n) for n in params["sizes"]]
    alphas = alpha_grid(params["alphas"])
    R, n_lp = int(params["replicates"]), int(params["lp_check_replicates"])
    tol, lp_tol = float(params["separable_tol"]), float(params["lp_tol"])
    kappa_alpha_max = float(params["kappa_alpha_max"])
    arrays: dict[str, np.ndarray] = {"alphas": alphas, "sizes": np.array(sizes)}
    metrics: dict = {"replicates": R, "lp_check_replicates": n_lp, "kinds": {}}
    all_z, lp_disagree, lp_checked = [], 0, 0
    alpha_two = int(np.argmin(np.abs(alphas - 2.0)))
    for kind in kinds:
        if kind not in PATTERN_KINDS:
            raise MlreviewError(f"learning_theory perceptron_capacity.patterns: unknown kind {kind!r}; "
                                f"use some of {list(PATTERN_KINDS)}")
        per_n = {}
        for N in sizes:
            P_list = np.maximum(1, np.rint(alphas * N).astype(int))
            rng = np.random.default_rng([int(params["seed"]), PATTERN_KINDS.index(kind), N])
            sep = np.zeros((R, len(P_list)), bool)
            kap = np.full((R, len(P_list)), np.nan)
            for r in range(R):
                out = capacity_replicate(rng, kind, N, P_list, tol, lp_tol if r < n_lp else None)
                sep[r], kap[r] = out["separable"], out["kappa"]
                if r < n_lp:
                    done = out["lp_done"]
                    lp_checked += int(done.sum())
                    lp_disagree += int(np.sum(out["lp"][done] != out["separable"][done]))
            p_hat = sep.mean(axis=0)
            exact = cover_fraction(P_list, N)
            se = np.sqrt(exact * (1 - exact) / R)
            diff = p_hat - exact
            z = np.where(se > 0, diff / np.where(se > 0, se, 1.0), np.where(np.abs(diff) > 0, np.inf, 0.0))
            all_z.append(z)
            all_sep = sep.all(axis=0)
            kappa_mean = np.where(all_sep, _masked_mean(kap, sep), np.nan)
            kappa_se = np.where(all_sep, _masked_std(kap, sep) / np.sqrt(R), np.nan)
            kappa_median = np.array([kappa_median_clipped(kap[:, j], sep[:, j]) for j in range(len(P_list))])
            arrays.update({
                f"{kind}_N{N}_P": P_list, f"{kind}_N{N}_separable": sep, f"{kind}_N{N}_kappa": kap,
                f"{kind}_N{N}_p_separable": p_hat, f"{kind}_N{N}_cover": exact, f"{kind}_N{N}_se": se,
                f"{kind}_N{N}_kappa_mean": kappa_mean, f"{kind}_N{N}_kappa_se": kappa_se,
                f"{kind}_N{N}_kappa_median": kappa_median,
            })
            per_n[str(N)] = {
                "P": P_list, "alpha": P_list / N, "p_separable": p_hat, "cover": exact, "binomial_se": se,
                "z": z, "max_abs_z": float(np.max(np.abs(z))),
                "kappa_mean": kappa_mean, "kappa_se": kappa_se, "kappa_median_clipped": kappa_median,
            }
        metrics["kinds"][kind] = per_n
    z_all = np.concatenate(all_z)
    n_points = int(np.sum(np.isfinite(z_all)))
    metrics["cover"] = {
        "max_abs_z": float(np.max(np.abs(z_all))),
        "n_points": int(z_all.size),
        "n_outside_3se": int(np.sum(np.abs(z_all) > 3)),
        "n_nontrivial": int(sum(np.sum((np.asarray(v["cover"]) > 1e-12) & (np.asarray(v["cover"]) < 1 - 1e-12))
                                for per_n in metrics["kinds"].values() for v in per_n.values())),
        "all_within_3se": bool(np.all(np.abs(z_all) <= 3)),
        "finite_points": n_points,
    }
    for kind, per_n in metrics["kinds"].items():
        zs = np.concatenate([np.asarray(v["z"]) for v in per_n.values()])
        at_two = {N: {"p_separable": float(v["p_separable"][alpha_two]), "cover": float(v["cover"][alpha_two]),
                      "z": float(v["z"][alpha_two])} for N, v in per_n.items()}
        metrics["cover"][kind] = {
            "max_abs_z": float(np.max(np.abs(zs))),
            "n_outside_3se": int(np.sum(np.abs(zs) > 3)),
            "all_within_3se": bool(np.all(np.abs(zs) <= 3)),
            "alpha_two": at_two,
            "alpha_two_max_abs_z": float(max(abs(v["z"]) for v in at_two.values())),
        }
    metrics["lp_check"] = {"instances": lp_checked, "disagreements": lp_disagree}
    # Gardner: kappa_max at the largest N against the replica result
    N_max = max(sizes)
    gardner = {}
    for kind in kinds:
        v = metrics["kinds"][kind][str(N_max)]
        alpha_eff = np.asarray(v["alpha"])
        theory = np.array([gardner_kappa(a) for a in alpha_eff])
        use = (alpha_eff <= kappa_alpha_max + 1e-12) & np.isfinite(np.asarray(v["kappa_mean"], float))
        rel = np.abs(np.asarray(v["kappa_mean"], float)[use] - theory[use]) / theory[use]
        gardner[kind] = {
            "N": N_max, "alpha": alpha_eff, "theory": theory,
            "max_relative_deviation": float(rel.max()) if rel.size else None,
            "alphas_checked": alpha_eff[use],
            "relative_deviation": rel,
            "kappa_median_alpha_two": float(v["kappa_median_clipped"][alpha_two]),
            "fraction_separable_alpha_two": float(v["p_separable"][alpha_two]),
            "abs_kappa_median_alpha_two": abs(float(v["kappa_median_clipped"][alpha_two])),
        }
    metrics["gardner"] = gardner
    curve_kappa = np.linspace(0.0, 3.0, 121)
    arrays["theory_kappa"] = curve_kappa
    arrays["theory_alpha"] = 1.0 / gardner_inverse_capacity_closed(curve_kappa)  # gardner_kappa checks it
    for N in sizes:
        arrays[f"N{N}_cover_curve_alpha"], arrays[f"N{N}_cover_curve"] = cover_curve(N, alphas.min(), alphas.max())
    arrays["kinds"] = np.array(kinds)
    save_npz(data, **arrays)
    return metrics


def _masked_mean(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    count = mask.sum(axis=0)
    total = np.where(mask, values, 0.0).sum(axis=0)
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def _masked_std(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    mean = _masked_mean(values, mask)
    count = mask.sum(axis=0)
    sq = np.where(mask, (values - mean) ** 2, 0.0).sum(axis=0)
    return np.where(count > 1, np.sqrt(sq / np.maximum(count - 1, 1)), np.nan)
