"""The interpolation peak of least squares (figure ``interpolation_peak``, panels a and b).

Isotropic Gaussian design: rows x ~ N(0, I_p), y = x.w* + noise of variance sigma^2, n samples. The
minimum-norm least-squares fit w_hat = X^+ y (pseudo-inverse) has test excess risk
E_x[(x.(w_hat - w*))^2] = |w_hat - w*|^2, whose expectation over designs and noise is exactly

    sigma^2 p / (n - p - 1)                                  for n > p + 1,
    |w*|^2 (1 - n/p) + sigma^2 n / (p - n - 1)              for n < p - 1

(inverse-Wishart means; the bias term is the part of w* outside the row space of X), and infinite for
|n - p| <= 1. At n = p the risk is sigma^2 |X^{-1} z|^2 with z ~ N(0, I): dominated by the smallest
singular value of the square Gaussian matrix, whose density near zero is flat in s (Edelman), so
Prob[|w_hat - w*|^2 > t] ~ t^(-1/2): a tail with slope -1/2 on log-log axes (and an infinite mean).

Ridge, w_lambda = (X^T X + lambda I)^{-1} X^T y (no 1/n in front of the squared error), is computed
in closed form from the SVD of X. The cross-validated lambda of each replicate minimises the exact
leave-one-out error of ridge, e_i / (1 - H_ii) with the hat matrix H = U diag(s^2/(s^2+lambda)) U^T.
The asymptotic ridge risk (p, n -> infinity at fixed p/n; Marchenko-Pastur) is drawn as a guide:
with gamma = p/n, l = lambda/n and m the Stieltjes transform of the Marchenko-Pastur law at -l,

    risk = |w*|^2 l^2 m'(-l) + sigma^2 gamma (m(-l) - l m'(-l)).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from mlreview.io import save_npz
from mlreview.steps import step

# --- exact results ---------------------------------------------------------------------------

def min_norm_risk(n, p: int, sigma: float, w_norm: float) -> np.ndarray:
    """Exact finite-n expected excess risk of the minimum-norm least-squares fit (NaN where infinite,
    |n - p| <= 1)."""
    n = np.asarray(n, dtype=float)
    over = n > p + 1
    under = n < p - 1
    risk = np.full(n.shape, np.nan)
    risk[over] = sigma**2 * p / (n[over] - p - 1)
    risk[under] = w_norm**2 * (1 - n[under] / p) + sigma**2 * n[under] / (p - n[under] - 1)
    return risk


def ridge_risk_asymptotic(n, p: int, sigma: float, w_norm: float, lam: float) -> np.ndarray:
    """Asymptotic (Marchenko-Pastur) excess risk of ridge with penalty ``lam`` (lam > 0)."""
    n = np.asarray(n, dtype=float)
    gamma, l = p / n, lam / n
    b = l + 1 - gamma
    m = (-b + np.sqrt(b**2 + 4 * gamma * l)) / (2 * gamma * l)
    dm = (gamma * m**2 + m) / (2 * gamma * l * m + b)  # dm/dz at z = -l
    return w_norm**2 * l**2 * dm + sigma**2 * gamma * (m - l * dm)


def optimal_ridge_lambda(p: int, sigma: float, w_norm: float) -> float:
    """The Bayes-optimal penalty for an isotropic w* of norm w_norm: sigma^2 p / |w*|^2."""
    return sigma**2 * p / w_norm**2


# --- fits ------------------------------------------------------------------------------------

def svd_batch(X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Thin SVD of a stack of design matrices (batch, n, p)."""
    return np.linalg.svd(X, full_matrices=False)


def pinv_weights(s: np.ndarray, rcond: float | None = None) -> np.ndarray:
    """1/s where s exceeds rcond * s_max (numpy.linalg.lstsq's default rcond: eps * max(n, p)), else 0."""
    s = np.asarray(s)
    if rcond is None:
        rcond = np.finfo(float).eps * max(s.shape[-1], 1)
    keep = s > rcond * s[..., :1]
    return np.where(keep, 1.0 / np.where(keep, s, 1.0), 0.0)


def coefficients(U, s, Vt, y, filt) -> np.ndarray:
    """w = V diag(filt) U^T y for a batch (filt: the spectral filter, e.g. 1/s or s/(s^2 + lambda))."""
    return np.einsum("bkp,bk->bp", Vt, filt * np.einsum("bnk,bn->bk", U, y))


def loo_ridge_lambda(U, s, y, lambdas: np.ndarray) -> np.ndarray:
    """Per replicate, the lambda of ``lambdas`` with the smallest exact leave-one-out squared error."""
    Uy = np.einsum("bnk,bn->bk", U, y)
    best = np.empty(len(y))
    errors = np.empty((len(y), len(lambdas)))
    for j, lam in enumerate(lambdas):
        shrink = s**2 / (s**2 + lam)
        fitted = np.einsum("bnk,bk->bn", U, shrink * Uy)
        h_diag = np.einsum("bnk,bk->bn", U**2, shrink)
        errors[:, j] = np.mean(((y - fitted) / (1 - h_diag)) ** 2, axis=1)
    best[:] = lambdas[np.argmin(errors, axis=1)]
    return best


def n_grid(spec: Mapping, p: int) -> np.ndarray:
    """Sample sizes: ``n`` log-spaced from ``low`` to ``high`` and p, p +- each of ``near_p``."""
    logs = np.rint(np.geomspace(float(spec["low"]), float(spec["high"]), int(spec["n"]))).astype(int)
    near = [p] + [p + d for d in spec["near_p"]] + [p - d for d in spec["near_p"]]
    grid = np.unique(np.concatenate([logs, np.asarray(near, int)]))
    return grid[grid >= 1]


def risk_replicates(rng: np.random.Generator, n: int, p: int, w_star: np.ndarray, sigma: float,
                    replicates: int, batch: int, ridge_lambdas, cv_lambdas) -> dict[str, np.ndarray]:
    """Excess risks |w - w*|^2 of the min-norm fit, of ridge at each lambda and of the LOO-chosen ridge,
    and the chosen lambdas, over ``replicates`` independent designs and noises."""
    out = {"min_norm": [], "ridge": [], "cv": [], "cv_lambda": []}
    done = 0
    while done < replicates:
        b = min(batch, replicates - done)
        X = rng.standard_normal((b, n, p))
        y = X @ w_star + sigma * rng.standard_normal((b, n))
        U, s, Vt = svd_batch(X)
        w = coefficients(U, s, Vt, y, pinv_weights(s))
        out["min_norm"].append(np.sum((w - w_star) ** 2, axis=1))
        ridge = []
        for lam in ridge_lambdas:
            wl = coefficients(U, s, Vt, y, s / (s**2 + lam))
            ridge.append(np.sum((wl - w_star) ** 2, axis=1))
        out["ridge"].append(np.stack(ridge, axis=1))
        chosen = loo_ridge_lambda(U, s, y, cv_lambdas) if n >= 2 else np.full(b, np.nan)
        wc = coefficients(U, s, Vt, y, s / (s**2 + chosen[:, None]))
        out["cv"].append(np.sum((wc - w_star) ** 2, axis=1))
        out["cv_lambda"].append(chosen)
        done += b
    return {k: np.concatenate(v) for k, v in out.items()}


def _mean_se_median(values: np.ndarray) -> tuple[float, float, float]:
    values = np.asarray(values, float)
    return float(values.mean()), float(values.std(ddof=1) / np.sqrt(len(values))), float(np.median(values))


def replicates_at(n: int, p: int, params: Mapping) -> int:
    """``replicates``, or ``replicates_near_p`` within the largest of ``n_grid.near_p`` of p (where the
    risk is heavy-tailed and its mean converges slowly)."""
    near = max(int(v) for v in params["n_grid"]["near_p"])
    return int(params["replicates_near_p"]) if abs(n - p) <= near else int(params["replicates"])


@step
def interpolation_peak_fit(params: Mapping, *, data: Path) -> dict:
    """Workflow step (panel a): excess risk of the min-norm fit and of ridge against n for the isotropic
    Gaussian design, against the exact finite-n expectation.

    params: ``p``, ``sigma``, ``w_norm``, ``n_grid`` {low, high, n, near_p}, ``replicates``,
    ``replicates_near_p``, ``batch``, ``ridge_lambdas``, ``cv_lambdas`` {low, high, n} (log10),
    ``check`` {relative, n_se, min_distance}, ``seed``.
    """
    p, sigma, w_norm = int(params["p"]), float(params["sigma"]), float(params["w_norm"])
    batch = int(params["batch"])
    ridge_lambdas = np.asarray(params["ridge_lambdas"], float)
    cv = params["cv_lambdas"]
    cv_lambdas = np.logspace(float(cv["low"]), float(cv["high"]), int(cv["n"]))
    grid = n_grid(params["n_grid"], p)
    rng = np.random.default_rng(int(params["seed"]))
    direction = rng.standard_normal(p)
    w_star = w_norm * direction / np.linalg.norm(direction)
    counts = np.array([replicates_at(int(n), p, params) for n in grid])
    results = [risk_replicates(rng, int(n), p, w_star, sigma, int(R), batch, ridge_lambdas, cv_lambdas)
               for n, R in zip(grid, counts)]
    mean, se, median = np.array([_mean_se_median(r["min_norm"]) for r in results]).T
    ridge_stats = np.array([[_mean_se_median(r["ridge"][:, j]) for j in range(len(ridge_lambdas))] for r in results])
    cv_stats = np.array([_mean_se_median(r["cv"]) for r in results])
    cv_lambda_median = np.array([np.median(r["cv_lambda"]) for r in results])
    cv_lambda_smallest = np.array([np.mean(r["cv_lambda"] == cv_lambdas[0]) for r in results])
    exact = min_norm_risk(grid, p, sigma, w_norm)
    check = params["check"]
    rel, n_se, min_distance = float(check["relative"]), float(check["n_se"]), int(check["min_distance"])
    allowed = np.maximum(rel * exact, n_se * se)
    ratio = np.abs(mean - exact) / allowed
    checked = np.abs(grid - p) >= min_distance
    ridge_mean, ridge_se = ridge_stats[:, :, 0], ridge_stats[:, :, 1]
    cv_mean, cv_se, cv_median = cv_stats.T
    lam_opt = optimal_ridge_lambda(p, sigma, w_norm)
    curve_n = np.unique(np.concatenate([np.geomspace(grid.min(), grid.max(), 400), grid.astype(float)]))
    curve_n = curve_n[np.abs(curve_n - p) > 1.0 + 1e-9]
    save_npz(data, n=grid, p=p, replicates=counts, mean=mean, se=se, median=median, exact=exact,
             ridge_mean=ridge_mean, ridge_se=ridge_se, ridge_lambdas=ridge_lambdas, cv_mean=cv_mean, cv_se=cv_se,
             cv_median=cv_median, cv_lambda_median=cv_lambda_median,
             min_norm_all=np.concatenate([r["min_norm"] for r in results]), curve_n=curve_n,
             curve_exact=min_norm_risk(curve_n, p, sigma, w_norm),
             curve_ridge=np.stack([ridge_risk_asymptotic(curve_n, p, sigma, w_norm, lam) for lam in ridge_lambdas]),
             curve_optimal=ridge_risk_asymptotic(curve_n, p, sigma, w_norm, lam_opt), lambda_optimal=lam_opt)
    at = {int(n): i for i, n in enumerate(grid)}
    below = int(p - min_distance) if (p - min_distance) in at else None
    near = np.abs(grid - p) <= 2
    return {
        "p": p, "sigma": sigma, "w_norm": w_norm, "n": grid, "replicates": counts,
        "min_norm": {"mean": mean, "se": se, "median": median, "exact": exact, "ratio_to_allowed": ratio},
        "check": {
            "n_checked": int(checked.sum()),
            "worst_ratio": float(np.nanmax(ratio[checked])),
            "worst_n": int(grid[checked][np.nanargmax(ratio[checked])]),
            "n_failing": int(np.sum(ratio[checked] > 1)),
            "all_within": bool(np.all(ratio[checked] <= 1)),
            "max_relative_error": float(np.nanmax(np.abs(mean - exact)[checked] / exact[checked])),
        },
        "ridge": {"lambdas": ridge_lambdas, "mean": ridge_mean, "se": ridge_se,
                  "at_p": {f"{lam:g}": float(ridge_mean[at[p], j]) for j, lam in enumerate(ridge_lambdas)}},
        "cv": {"mean": cv_mean, "se": cv_se, "median": cv_median, "median_lambda": cv_lambda_median,
               "fraction_smallest_lambda": cv_lambda_smallest, "lambda_optimal": lam_opt,
               "reference_n": below,
               "peak_ratio": float(cv_mean[near].max() / cv_mean[at[below]]) if below is not None else None,
               "median_peak_ratio": float(cv_median[near].max() / cv_median[at[below]]) if below is not None else None},
        "min_norm_peak_ratio": float(mean[near].max() / mean[at[below]]) if below is not None else None,
    }


# --- panel b: the heavy tail at n = p ----------------------------------------------------------

def square_system_risks(rng: np.random.Generator, p: int, sigma: float, replicates: int, batch: int) -> np.ndarray:
    """|w_hat - w*|^2 = sigma^2 |X^{-1} z|^2 for ``replicates`` square Gaussian designs (n = p)."""
    out = []
    done = 0
    while done < replicates:
        b = min(batch, replicates - done)
        X = rng.standard_normal((b, p, p))
        z = rng.standard_normal((b, p, 1))
        out.append(sigma**2 * np.sum(np.linalg.solve(X, z)[..., 0] ** 2, axis=1))
        done += b
    return np.concatenate(out)


def ccdf(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted values and the empirical Prob[X >= x] at each (1, (R-1)/R, ..., 1/R)."""
    x = np.sort(np.asarray(values))
    R = len(x)
    return x, (R - np.arange(R)) / R


def tail_slope(values: np.ndarray, q_low: float, q_high: float) -> dict:
    """Slope of log CCDF against log x by least squares over the points with CCDF in [q_low, q_high],
    and Hill's estimate -k / sum ln(x_(i) / x_(k)) from the top k = q_high R values (with its
    standard error k^(-1/2) times the slope)."""
    x, c = ccdf(values)
    use = (c >= q_low) & (c <= q_high)
    slope = float(np.polyfit(np.log(x[use]), np.log(c[use]), 1)[0])
    k = int(q_high * len(x))
    top = x[-k:]
    hill = -k / float(np.sum(np.log(top / x[-k - 1])))
    return {"ls_slope": slope, "points": int(use.sum()), "hill_slope": hill, "hill_se": abs(hill) / np.sqrt(k),
            "hill_k": k}


@step
def interpolation_tail_fit(params: Mapping, *, data: Path) -> dict:
    """Workflow step (panel b): the complementary CDF of |w_hat - w*|^2 at n = p.

    params: ``p``, ``sigma``, ``replicates``, ``batch``, ``fit`` {q_low, q_high}, ``seed``.
    """
    p, sigma = int(params["p"]), float(params["sigma"])
    R = int(params["replicates"])
    rng = np.random.default_rng(int(params["seed"]))
    risks = square_system_risks(rng, p, sigma, R, int(params["batch"]))
    fit = params["fit"]
    slope = tail_slope(risks, float(fit["q_low"]), float(fit["q_high"]))
    x, c = ccdf(risks)
    save_npz(data, risk=x, ccdf=c, p=p, q_low=float(fit["q_low"]), q_high=float(fit["q_high"]),
             ls_slope=slope["ls_slope"])
    return {
        "p": p, "n": p, "sigma": sigma, "replicates": R, "fit": {**slope, "q_low": float(fit["q_low"]),
                                                                 "q_high": float(fit["q_high"])},
        "slope_deviation": abs(slope["ls_slope"] + 0.5),
        "hill_deviation": abs(slope["hill_slope"] + 0.5),
        "median": float(np.median(risks)), "mean": float(np.mean(risks)),
        "quantiles": {"q90": float(np.quantile(risks, 0.9)), "q99": float(np.quantile(risks, 0.99)),
                      "max": float(risks.max())},
    }
