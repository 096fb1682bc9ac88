"""Forward and reverse Kullback-Leibler divergences of Figs 69 and 70 (claims C76, C77).

p_data is a one-dimensional Gaussian mixture with weights ``data_weights``, means
``Delta * data_means`` and common variance ``data_variance``; the model p_theta is the single
Gaussian N(model_mean, model_variance), where ``model_variance: matched`` means the variance
of p_data (1 + Delta^2 for Fig 69) [decision m].

D_KL(p || q) = int p (log p - log q) dx is computed by ``scipy.integrate.quad`` over
[-limit, limit] with breakpoints at the component means of both densities (``points=``),
``epsabs``, ``epsrel`` and ``subdivisions`` (quad's ``limit``) from the ``quadrature`` block. The
integrand is built from log densities, so it is exactly 0 where p underflows and never takes
log 0. The part of the integral beyond +-limit is measured separately (quad on the two
half-lines) and reported as ``max_tail_beyond_limit``; it is not added to the divergences.

Log densities: the log-sum-exp over components is ``numpy.logaddexp.reduce`` (pairwise,
overflow-safe). ``scipy.special.logsumexp`` gives the same numbers (the tests check it) but
costs ~0.1 ms per scalar call in scipy 1.17, and quad makes ~10^5 scalar calls per figure,
which made a step ~25x slower.

"Data-Model" is D_KL(p_data || p_theta) and "Model-Data" is D_KL(p_theta || p_data).

Claim proxy (C76 for Fig 69, C77 for Fig 70): on the grid Deltas with Delta > 0 and
Delta >= ``claim_delta_min``, the divergence named by ``claim_larger`` exceeds the other one
strictly at every Delta, and the gap (larger minus smaller) is non-decreasing; the ratio
larger / smaller is reported at ``claim_ratio_delta``. Because the two divergences agree to
leading order for small Delta (both ~ Delta^8 / 12 for Fig 69), the gap there is far below the
numerical error; the metrics say at which Deltas the gap exceeds the summed uncertainty of the
two divergences, quad's error estimates plus the rounding estimate eps * int p (|log p| +
|log q|) (``n_unresolved``, ``smallest_resolved_delta``), and whether the inequality holds on
the resolved Deltas alone. ``holds`` is the check on all grid Deltas of the range, as stated.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
from scipy.integrate import quad

from mlreview.io import save_npz
from mlreview.steps import step

LOG_2PI = math.log(2.0 * math.pi)
DIRECTIONS = ("data_model", "model_data")


def delta_key(delta: float) -> str:
    """Metrics key of a Delta value (``delta_2.0``)."""
    return f"delta_{float(delta)!r}"


def mixture_log_density(weights: Sequence[float], means: Sequence[float], variances) -> Callable:
    """log of sum_k w_k N(x; m_k, v_k), vectorised over x (scalar in, scalar out).

    Components with the same mean and variance are merged (weights summed) first, so a
    mixture that collapses onto one Gaussian (Delta = 0) has exactly that Gaussian's log
    density and its divergence from that Gaussian is exactly 0, not rounding noise.
    """
    m_in = np.asarray(means, dtype=np.float64)
    v_in = np.broadcast_to(np.asarray(variances, dtype=np.float64), m_in.shape)
    pairs, index = np.unique(np.stack([m_in, v_in], axis=1), axis=0, return_inverse=True)
    m, v = pairs[:, 0], pairs[:, 1]
    w = np.bincount(index.ravel(), weights=np.asarray(weights, dtype=np.float64), minlength=len(pairs))
    with np.errstate(divide="ignore"):
        offset = np.log(w) - 0.5 * (LOG_2PI + np.log(v))

    def log_density(x):
        x = np.asarray(x, dtype=np.float64)
        terms = offset - 0.5 * (x[..., None] - m) ** 2 / v
        return np.logaddexp.reduce(terms, axis=-1)

    return log_density


def gaussian_kl(mean_p: float, var_p: float, mean_q: float, var_q: float) -> float:
    """Closed form D_KL(N(mean_p, var_p) || N(mean_q, var_q))."""
    return 0.5 * (math.log(var_q / var_p) + (var_p + (mean_p - mean_q) ** 2) / var_q - 1.0)


def mixture_variance(weights, means, variance) -> float:
    """Variance of a mixture of Gaussians with a common component variance."""
    w = np.asarray(weights, dtype=np.float64)
    m = np.asarray(means, dtype=np.float64)
    mean = float(np.sum(w * m))
    return float(np.sum(w * (variance + m**2)) - mean**2)


def integrate(integrand: Callable, quadrature: Mapping, points: Sequence[float] = ()) -> tuple[float, float]:
    """(integral, quad's error estimate) of ``integrand`` over [-limit, limit], with breakpoints."""
    limit = float(quadrature["limit"])
    inner = sorted({float(p) for p in points if -limit < p < limit})
    value, error = quad(
        integrand,
        -limit,
        limit,
        points=inner or None,
        epsabs=float(quadrature["epsabs"]),
        epsrel=float(quadrature["epsrel"]),
        limit=int(quadrature["subdivisions"]),
    )
    return float(value), float(error)


def kl_quad(
    log_p: Callable, log_q: Callable, quadrature: Mapping, points: Sequence[float] = ()
) -> tuple[float, float]:
    """(D_KL(p || q), quad's absolute error estimate) over [-limit, limit]."""

    def integrand(x: float) -> float:
        lp = float(log_p(x))
        return math.exp(lp) * (lp - float(log_q(x)))

    return integrate(integrand, quadrature, points)


def roundoff_estimate(
    log_p: Callable, log_q: Callable, quadrature: Mapping, points: Sequence[float] = ()
) -> float:
    """eps * int p (|log p| + |log q|): the size of the rounding error of the computed KL.

    The integrand's log p - log q is a difference of two numbers each carrying a relative
    rounding error of order machine epsilon; where the two divergences agree to many digits
    (small Delta) this, not quad's error estimate, limits how well their difference is known.
    """

    def integrand(x: float) -> float:
        lp = float(log_p(x))
        return math.exp(lp) * (abs(lp) + abs(float(log_q(x))))

    return float(np.finfo(np.float64).eps * integrate(integrand, quadrature, points)[0])


def kl_tail(log_p: Callable, log_q: Callable, quadrature: Mapping) -> float:
    """The part of int p (log p - log q) beyond +-limit (what the truncation leaves out)."""
    limit = float(quadrature["limit"])

    def integrand(x: float) -> float:
        lp = float(log_p(x))
        return math.exp(lp) * (lp - float(log_q(x)))

    opts = {"epsabs": float(quadrature["epsabs"]), "epsrel": float(quadrature["epsrel"])}
    return float(quad(integrand, limit, math.inf, **opts)[0] + quad(integrand, -math.inf, -limit, **opts)[0])


class Densities:
    """p_data and p_theta of one figure at one Delta."""

    def __init__(self, params: Mapping, delta: float):
        self.delta = float(delta)
        self.weights = np.asarray(params["data_weights"], dtype=np.float64)
        self.data_means = self.delta * np.asarray(params["data_means"], dtype=np.float64)
        self.data_variance = float(params["data_variance"])
        self.model_mean = float(params["model_mean"])
        if params["model_variance"] == "matched":
            self.model_variance = mixture_variance(self.weights, self.data_means, self.data_variance)
        else:
            self.model_variance = float(params["model_variance"])
        self.log_data = mixture_log_density(self.weights, self.data_means, self.data_variance)
        self.log_model = mixture_log_density([1.0], [self.model_mean], self.model_variance)

    @property
    def points(self) -> list[float]:
        return [*self.data_means.tolist(), self.model_mean]

    def divergences(self, quadrature: Mapping) -> dict[str, tuple[float, float]]:
        """{"data_model": (value, error), "model_data": (value, error)}."""
        return {
            "data_model": kl_quad(self.log_data, self.log_model, quadrature, self.points),
            "model_data": kl_quad(self.log_model, self.log_data, quadrature, self.points),
        }

    def roundoff(self, quadrature: Mapping) -> dict[str, float]:
        return {
            "data_model": roundoff_estimate(self.log_data, self.log_model, quadrature, self.points),
            "model_data": roundoff_estimate(self.log_model, self.log_data, quadrature, self.points),
        }

    def tails(self, quadrature: Mapping) -> dict[str, float]:
        return {
            "data_model": kl_tail(self.log_data, self.log_model, quadrature),
            "model_data": kl_tail(self.log_model, self.log_data, quadrature),
        }


def claim_proxy(deltas, kl: Mapping[str, np.ndarray], err: Mapping[str, np.ndarray], params: Mapping) -> dict:
    """The C76/C77 checks on the Delta grid (see the module docstring).

    ``err`` holds, per direction, the numerical uncertainty of each divergence (quad's error
    estimate plus the rounding estimate); a gap is "resolved" where it exceeds the sum of
    the two uncertainties.
    """
    larger = params["claim_larger"]
    if larger not in DIRECTIONS:
        raise ValueError(f"claim_larger must be one of {DIRECTIONS}, got {larger!r}")
    smaller = DIRECTIONS[1 - DIRECTIONS.index(larger)]
    deltas = np.asarray(deltas, dtype=np.float64)
    sel = (deltas > 0.0) & (deltas >= float(params["claim_delta_min"]))
    if not sel.any():
        raise ValueError("no grid Delta in the claim range")
    gap = kl[larger][sel] - kl[smaller][sel]
    noise = err[larger][sel] + err[smaller][sel]
    resolved = np.abs(gap) > noise
    violations = gap <= 0.0
    increments = np.diff(gap)
    return {
        "larger": larger,
        "delta_min": float(deltas[sel].min()),
        "n_deltas": int(sel.sum()),
        "inequality_holds": bool(not violations.any()),
        "n_violations": int(violations.sum()),
        "n_unresolved": int((~resolved).sum()),
        "smallest_resolved_delta": float(deltas[sel][resolved].min()) if resolved.any() else None,
        "inequality_holds_where_resolved": bool(not (violations & resolved).any()),
        "gap_non_decreasing": bool(np.all(increments >= 0.0)),
        "min_gap_increment": float(increments.min()) if increments.size else None,
        "holds": bool(not violations.any() and np.all(increments >= 0.0)),
    }


@step
def kl_divergence_compute(params: Mapping, *, data: Path) -> dict:
    """Divergences on the Delta grid, at the reference Deltas, densities for the plot, proxies."""
    quadrature = params["quadrature"]
    deltas = np.linspace(*map(float, params["delta_range"]), int(params["n_delta"]))
    kl = {d: np.empty_like(deltas) for d in DIRECTIONS}
    err = {d: np.empty_like(deltas) for d in DIRECTIONS}
    rounding = {d: np.empty_like(deltas) for d in DIRECTIONS}
    tail_max = 0.0
    for i, delta in enumerate(deltas):
        dens = Densities(params, delta)
        for direction, (value, error) in dens.divergences(quadrature).items():
            kl[direction][i], err[direction][i] = value, error
        for direction, value in dens.roundoff(quadrature).items():
            rounding[direction][i] = value
        tail_max = max(tail_max, *map(abs, dens.tails(quadrature).values()))

    reference = {}
    for delta in params["reference_deltas"]:
        res = Densities(params, delta).divergences(quadrature)
        reference[delta_key(delta)] = {d: res[d][0] for d in DIRECTIONS}

    ratio_delta = float(params["claim_ratio_delta"])
    ratio_res = Densities(params, ratio_delta).divergences(quadrature)
    larger = params["claim_larger"]
    smaller = DIRECTIONS[1 - DIRECTIONS.index(larger)] if larger in DIRECTIONS else None
    proxy = claim_proxy(deltas, kl, {d: err[d] + rounding[d] for d in DIRECTIONS}, params)
    proxy["ratio_delta"] = ratio_delta
    proxy["ratio"] = ratio_res[larger][0] / ratio_res[smaller][0]

    x = np.linspace(*map(float, params["x_plot"]), int(params["n_x_plot"]))
    shown = np.asarray(params["deltas_shown"], dtype=np.float64)
    p_data = np.empty((shown.size, x.size))
    p_model = np.empty_like(p_data)
    model_var = np.empty(shown.size)
    for k, delta in enumerate(shown):
        dens = Densities(params, delta)
        p_data[k] = np.exp(dens.log_data(x))
        p_model[k] = np.exp(dens.log_model(x))
        model_var[k] = dens.model_variance
    save_npz(
        data,
        deltas=deltas,
        kl_data_model=kl["data_model"],
        kl_model_data=kl["model_data"],
        err_data_model=err["data_model"],
        err_model_data=err["model_data"],
        roundoff_data_model=rounding["data_model"],
        roundoff_model_data=rounding["model_data"],
        x=x,
        deltas_shown=shown,
        p_data=p_data,
        p_model=p_model,
        model_variance_shown=model_var,
    )
    return {
        "figure": str(params.get("figure", "")),
        "delta": deltas,
        "kl_data_model": kl["data_model"],
        "kl_model_data": kl["model_data"],
        "reference": reference,
        "max_quad_error": float(max(err["data_model"].max(), err["model_data"].max())),
        "max_roundoff_estimate": float(max(rounding["data_model"].max(), rounding["model_data"].max())),
        "max_tail_beyond_limit": float(tail_max),
        "proxy": proxy,
    }
