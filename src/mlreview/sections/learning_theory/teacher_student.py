"""Teacher-student perceptrons with continuous weights (figure ``teacher_student``, left panel).

A teacher w* ~ N(0, I_N) labels Gaussian inputs x ~ N(0, I_N) by y = sign(w*.x). A student w trained
on P = alpha N examples errs on a fresh input with probability

    eps_g = arccos(R) / pi,    R = w.w* / (|w| |w*|),

exactly (the two fields are jointly Gaussian with correlation R). Students:

- Hebb, w = sum_mu y_mu x_mu. Its overlap in the limit N -> infinity is exactly
  R = sqrt(2 alpha / (2 alpha + pi)) (the teacher component of w grows as P sqrt(2/pi), the
  orthogonal one as sqrt(P N)); eps_g decays only as alpha^(-1/2).
- The perceptron algorithm (Rosenblatt, from w = 0, cyclic order, until no training error; the
  teacher's labels are always separable).
- Logistic regression without penalty (scikit-learn's L-BFGS objective with ``C = inf``,
  :func:`mlreview.logistic.logistic_lbfgs`): on separable data the likelihood has no maximum, |w|
  grows until the optimiser's gradient tolerance stops it and its direction drifts towards the
  maximum-margin one (Soudry et al. 2018).
- Maximal stability (the hard-margin perceptron through the origin, solved exactly as in
  :mod:`.perceptron`). Its replica-symmetric theory (exact: the problem is convex) follows from
  Gardner's volume with a teacher in the limit q -> 1: with I(R, kappa) = int_{t<kappa} Dt
  H(-R t / sqrt(1-R^2)) (kappa - t)^2, the stationarity of (1 - R^2)/2 - alpha I(R, kappa) in R and
  its vanishing give

      2 R sqrt(1-R^2) I(R, kappa) + int_{t<kappa} Dt (kappa - t)^2 t G(R t / sqrt(1-R^2)) = 0,
      alpha = (1 - R^2) / (2 I(R, kappa)),

  (G the standard normal density); at R = 0 this is Gardner's capacity, and eps_g alpha -> 0.50
  as alpha -> infinity (the literature's 0.5005/alpha).

The consistent learners (perceptron, logistic, maximal stability) reach eps_g ~ c / alpha; the
constants c are fitted at the largest alphas (``fit_alpha_min``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
from scipy import optimize, special

from mlreview.errors import MlreviewError
from mlreview.io import save_npz
from mlreview.logistic import logistic_lbfgs
from mlreview.stats import mean_and_se
from mlreview.steps import step

from .perceptron import gaussian_pdf, max_stability, perceptron_train

STUDENTS = ("hebb", "perceptron", "logistic", "max_margin")


def generalisation_error(R) -> np.ndarray:
    """eps_g = arccos(R) / pi for Gaussian inputs."""
    return np.arccos(np.clip(np.asarray(R, float), -1.0, 1.0)) / np.pi


def overlap(w: np.ndarray, teacher: np.ndarray) -> float:
    return float(w @ teacher / (np.linalg.norm(w) * np.linalg.norm(teacher)))


def hebb_overlap(alpha) -> np.ndarray:
    """R of the Hebb student for N -> infinity: sqrt(2 alpha / (2 alpha + pi))."""
    alpha = np.asarray(alpha, float)
    return np.sqrt(2 * alpha / (2 * alpha + np.pi))


# --- replica theory of the maximal-stability student --------------------------------------------

#: the t integrals run from T_LOW (Gaussian weight below 1e-31) to kappa, by Gauss-Legendre quadrature
T_LOW = -12.0
_LEG_NODES, _LEG_WEIGHTS = np.polynomial.legendre.leggauss(400)


def _truncated(f, kappa: float) -> float:
    """int_{T_LOW}^{kappa} f(t) dt for a smooth vectorised f."""
    half = (kappa - T_LOW) / 2
    t = T_LOW + half * (_LEG_NODES + 1)
    return float(half * np.sum(_LEG_WEIGHTS * f(t)))


def _I1(R: float, kappa: float) -> float:
    """int_{t<kappa} Dt H(-R t / sqrt(1-R^2)) (kappa - t)^2."""
    s = np.sqrt(1 - R * R)
    return _truncated(lambda t: gaussian_pdf(t) * special.ndtr(R * t / s) * (kappa - t) ** 2, kappa)


def _I2(R: float, kappa: float) -> float:
    """int_{t<kappa} Dt (kappa - t)^2 t G(R t / sqrt(1-R^2))."""
    s = np.sqrt(1 - R * R)
    return _truncated(lambda t: gaussian_pdf(t) * (kappa - t) ** 2 * t * gaussian_pdf(R * t / s), kappa)


def max_margin_kappa(R: float) -> float:
    """kappa of the maximal-stability student at teacher overlap R (0 < R < 1): the root of
    2 R sqrt(1-R^2) I(R, kappa) + I2(R, kappa) = 0, bracketed from kappa = 0 upwards."""
    g = lambda k: 2 * R * np.sqrt(1 - R * R) * _I1(R, k) + _I2(R, k)  # noqa: E731
    low, high = 0.0, 1.0
    if g(low) >= 0:
        raise MlreviewError(f"max-margin theory: no positive kappa at R = {R}")
    while g(high) < 0:
        high *= 2
        if high > 1e3:
            raise MlreviewError(f"max-margin theory: kappa not bracketed at R = {R}")
    return float(optimize.brentq(g, low, high, xtol=1e-13))


def max_margin_alpha(R: float) -> tuple[float, float]:
    """(alpha, kappa) at which the maximal-stability student has teacher overlap R."""
    kappa = max_margin_kappa(R)
    return float((1 - R * R) / (2 * _I1(R, kappa))), kappa


def max_margin_overlap(alpha: float) -> float:
    """R of the maximal-stability student at alpha (the root of alpha(R) = alpha; alpha(R) grows with R)."""
    f = lambda R: max_margin_alpha(R)[0] - alpha  # noqa: E731
    low, high = 0.5, 0.9
    while f(low) > 0:
        low /= 2
        if low < 1e-4:
            raise MlreviewError(f"max-margin theory: alpha = {alpha} is too small to bracket R")
    while f(high) < 0:
        high = 1 - (1 - high) / 4
        if 1 - high < 1e-12:
            raise MlreviewError(f"max-margin theory: alpha = {alpha} is too large to bracket R")
    return float(optimize.brentq(f, low, high, xtol=1e-12))


def max_margin_curve(alpha_low: float, alpha_high: float, points: int) -> tuple[np.ndarray, np.ndarray]:
    """(alpha, eps_g) of the maximal-stability theory from alpha_low to alpha_high, parametrised by R
    (1 - R geometrically spaced, about even in log alpha; one kappa root per point)."""
    R_low, R_high = max_margin_overlap(alpha_low), max_margin_overlap(alpha_high)
    R = 1 - np.geomspace(1 - R_low, 1 - R_high, int(points))
    alpha = np.array([max_margin_alpha(float(r))[0] for r in R])
    return alpha, generalisation_error(R)


# --- the students ------------------------------------------------------------------------------

def train_students(X: np.ndarray, y: np.ndarray, params: Mapping, support: np.ndarray | None = None
                   ) -> dict[str, dict]:
    """Every student on the examples (X, y); each returns its weights and a record. ``support``: the
    maximal-stability student's support vectors on a shorter prefix of the same examples (its
    first working set, :func:`.perceptron.max_stability`)."""
    A = y[:, None] * X
    out: dict[str, dict] = {"hebb": {"w": A.sum(axis=0)}}
    w, epochs, converged = perceptron_train(A, int(params["perceptron_max_epochs"]))
    out["perceptron"] = {"w": w, "epochs": int(epochs), "converged": bool(converged)}
    fit = logistic_lbfgs(X, y, np.inf, int(params["logistic_max_iter"]), float(params["logistic_tol"]),
                         fit_intercept=False)
    out["logistic"] = {"w": fit["w"], "iterations": fit["iterations"], "not_converged": fit["capped"]}
    result = max_stability(A, float(params["separable_tol"]), start=support)
    if not result.separable:  # the teacher separates its own labels: only round-off can get here
        raise MlreviewError(f"teacher-student: the maximal-stability solver found P = {len(y)} teacher-labelled "
                            "examples not separable; lower learning_theory.teacher_student.separable_tol")
    out["max_margin"] = {"w": result.w, "kappa": result.kappa, "support": result.support}
    return out


def hebb_replicates(rng: np.random.Generator, N: int, P_list: np.ndarray, replicates: int) -> np.ndarray:
    """eps_g of the Hebb student for further independent teachers and nested example sets."""
    out = np.zeros((replicates, len(P_list)))
    for r in range(replicates):
        teacher = rng.standard_normal(N)
        X = rng.standard_normal((int(P_list.max()), N))
        y = np.sign(X @ teacher)
        bounds = np.concatenate([[0], P_list])  # w at each P: the sums of y x over the segments, accumulated
        w = np.cumsum([y[a:b] @ X[a:b] for a, b in zip(bounds[:-1], bounds[1:])], axis=0)
        out[r] = generalisation_error(w @ teacher / (np.linalg.norm(w, axis=1) * np.linalg.norm(teacher)))
    return out


def fitted_constant(alpha: np.ndarray, eps: np.ndarray, alpha_min: float) -> dict:
    """c of eps_g = c / alpha by least squares in log space at alpha >= alpha_min (slope fixed at
    -1), and the free slope of log eps_g against log alpha there."""
    use = np.asarray(alpha) >= alpha_min
    la, le = np.log(np.asarray(alpha)[use]), np.log(np.asarray(eps)[use])
    slope = float(np.polyfit(la, le, 1)[0]) if use.sum() >= 2 else float("nan")
    return {"c": float(np.exp(np.mean(le + la))), "free_slope": slope, "alphas": np.asarray(alpha)[use],
            "eps_alpha": np.asarray(eps)[use] * np.asarray(alpha)[use]}


@step
def teacher_student_fit(params: Mapping, *, data: Path) -> dict:
    """Workflow step: eps_g of the four students against alpha, with the exact Hebb curve and the
    replica theory of the maximal-stability student.

    params: ``N``, ``alphas`` {low, high, n} (log-spaced), ``replicates`` (teachers and example sets
    for all students), ``hebb_replicates`` (more of them for the Hebb student alone: it costs nothing,
    and its check against the exact curve is statistical), ``perceptron_max_epochs``,
    ``logistic_max_iter``, ``logistic_tol``, ``separable_tol``, ``fit_alpha_min``, ``theory_points``,
    ``seed``.
    """
    N, R_reps = int(params["N"]), int(params["replicates"])
    spec = params["alphas"]
    alphas = np.geomspace(float(spec["low"]), float(spec["high"]), int(spec["n"]))
    P_list = np.maximum(1, np.rint(alphas * N).astype(int))
    alphas = P_list / N
    rng = np.random.default_rng(int(params["seed"]))
    eps = {s: np.zeros((R_reps, len(P_list))) for s in STUDENTS}
    perceptron_epochs = np.zeros((R_reps, len(P_list)), int)
    perceptron_converged = np.zeros((R_reps, len(P_list)), bool)
    logistic_iter = np.zeros((R_reps, len(P_list)), int)
    logistic_capped = np.zeros((R_reps, len(P_list)), bool)
    logistic_norm = np.zeros((R_reps, len(P_list)))
    kappa = np.zeros((R_reps, len(P_list)))
    for r in range(R_reps):
        teacher = rng.standard_normal(N)
        X = rng.standard_normal((int(P_list.max()), N))
        y = np.sign(X @ teacher)
        support = None
        for j, P in enumerate(P_list):
            trained = train_students(X[:P], y[:P], params, support)
            support = trained["max_margin"]["support"]
            for s in STUDENTS:
                eps[s][r, j] = generalisation_error(overlap(trained[s]["w"], teacher))
            perceptron_epochs[r, j] = trained["perceptron"]["epochs"]
            perceptron_converged[r, j] = trained["perceptron"]["converged"]
            logistic_iter[r, j] = trained["logistic"]["iterations"]
            logistic_capped[r, j] = trained["logistic"]["not_converged"]
            logistic_norm[r, j] = np.linalg.norm(trained["logistic"]["w"])
            kappa[r, j] = trained["max_margin"]["kappa"]
    hebb_eps = hebb_replicates(rng, N, P_list, int(params["hebb_replicates"]))
    eps["hebb"] = np.concatenate([eps["hebb"], hebb_eps])
    # theory
    hebb_theory = generalisation_error(hebb_overlap(alphas))
    mm_R = np.array([max_margin_overlap(a) for a in alphas])
    mm_theory = generalisation_error(mm_R)
    curve_alpha = np.geomspace(alphas.min(), alphas.max(), int(params["theory_points"]))
    curve_mm_alpha, curve_mm = max_margin_curve(alphas.min(), alphas.max(), int(params["theory_points"]))
    summary: dict = {}
    arrays = {"N": N, "alphas": alphas, "P": P_list, "curve_alpha": curve_alpha,
              "curve_hebb": generalisation_error(hebb_overlap(curve_alpha)), "curve_max_margin_alpha": curve_mm_alpha,
              "curve_max_margin": curve_mm,
              "kappa": kappa, "logistic_norm": logistic_norm}
    for s in STUDENTS:
        stats_ = [mean_and_se(eps[s][:, j]) for j in range(len(P_list))]
        mean = np.array([m for m, _ in stats_])
        se = np.array([e for _, e in stats_])
        arrays[f"eps_{s}"] = eps[s]
        arrays[f"mean_{s}"], arrays[f"se_{s}"] = mean, se
        summary[s] = {"mean": mean, "se": se,
                      "fit": fitted_constant(alphas, mean, float(params["fit_alpha_min"]))}
    z_hebb = (summary["hebb"]["mean"] - hebb_theory) / summary["hebb"]["se"]
    rel_mm = (summary["max_margin"]["mean"] - mm_theory) / mm_theory
    z_mm = (summary["max_margin"]["mean"] - mm_theory) / summary["max_margin"]["se"]
    arrays["theory_hebb"], arrays["theory_max_margin"] = hebb_theory, mm_theory
    save_npz(data, **arrays)
    theory_fit = fitted_constant(alphas, mm_theory, float(params["fit_alpha_min"]))
    return {
        "N": N, "replicates": R_reps, "hebb_replicates": R_reps + int(params["hebb_replicates"]),
        "alpha": alphas, "P": P_list,
        "students": summary,
        "hebb": {"theory": hebb_theory, "z": z_hebb, "max_abs_z": float(np.max(np.abs(z_hebb)))},
        "max_margin": {"theory": mm_theory, "theory_R": mm_R, "relative_deviation": rel_mm,
                       "max_abs_relative_deviation": float(np.max(np.abs(rel_mm))), "z": z_mm,
                       "max_abs_z": float(np.max(np.abs(z_mm))),
                       "theory_eps_alpha_at_largest": float(mm_theory[-1] * alphas[-1]),
                       "mean_kappa": kappa.mean(axis=0)},
        "fitted_constants": {s: summary[s]["fit"]["c"] for s in ("perceptron", "logistic", "max_margin")},
        "theory_fit": theory_fit,
        "max_margin_constant_vs_theory": float(summary["max_margin"]["fit"]["c"] / theory_fit["c"] - 1),
        "fitted_slopes": {s: summary[s]["fit"]["free_slope"] for s in ("perceptron", "logistic", "max_margin")},
        "consistent_slope_deviation": float(max(abs(summary[s]["fit"]["free_slope"] + 1)
                                                for s in ("logistic", "max_margin"))),
        "perceptron": {"all_converged": bool(perceptron_converged.all()),
                       "max_epochs_used": int(perceptron_epochs.max())},
        "logistic": {"max_iterations": int(logistic_iter.max()), "runs_at_max_iter": int(logistic_capped.sum()),
                     "median_norm_at_largest_alpha": float(np.median(logistic_norm[:, -1]))},
    }
