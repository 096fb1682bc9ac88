"""Ridge and LASSO estimators for an orthonormal design (Fig 12, claim C16).

For an orthonormal design (X^T X = I) the least-squares estimate is w_LS = X^T y and the
regularised estimators have closed forms (Hastie, Tibshirani & Friedman, Table 3.4):

* Ridge, cost ||y - Xw||^2 + lam ||w||^2:          w_ridge = w_LS / (1 + lam);
* LASSO, cost (1/2)||y - Xw||^2 + lam ||w||_1:     w_lasso = sign(w_LS) max(|w_LS| - lam, 0)
  (soft thresholding).

The two costs are the conventions under which both formulas hold with the same lam (the
review's Fig 12 follows them).

C16 check (not a tautology). A seeded orthonormal design Q (n = p = n_points, the Q factor of
the QR decomposition of a standard-normal matrix) and y = Q w_LS, with w_LS the plotted grid,
are fitted by scikit-learn's solvers, and the solutions are compared with the closed forms:

* ``Ridge(alpha=lam, fit_intercept=False)`` minimises ||y - Xw||^2 + alpha ||w||^2, i.e. the
  ridge cost above with alpha = lam (solved by Cholesky for dense X);
* ``Lasso(alpha=lam / n, fit_intercept=False)`` minimises (1/(2n))||y - Xw||^2 + alpha ||w||_1
  = (1/n) [(1/2)||y - Xw||^2 + lam ||w||_1], the LASSO cost above divided by n, so it has the
  same minimiser (coordinate descent; with orthonormal columns one sweep is exact up to
  rounding, the tolerance only decides when it stops).

Metrics: the largest absolute difference between solver and closed form for each estimator,
the exact-zero counts (LASSO solver zeros versus the number of grid points with
|w_LS| <= lam, and whether the two sets coincide point by point), and the number of exact
ridge zeros at nonzero w_LS (closed form and solver). Grid points lying on the threshold
(||w_LS| - lam| <= max |Q^T y - w_LS|, the rounding the solver sees) are zero in exact
arithmetic but the solver may return +-1e-16 there, depending on the seed and grid; they are
counted separately (``n_at_threshold``, ``max_abs_solver_at_threshold``), and the exact zero
pattern of C16 (``c16/zero_pattern_exact``) is: exactly 0 at every other |w_LS| < lam,
nonzero at every other |w_LS| > lam, and no ridge zero at w_LS != 0. The grid contains w_LS = 0 exactly,
where ridge is trivially 0; "ridge never zeroes" therefore means no zero at w_LS != 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
from sklearn.linear_model import Lasso, Ridge

from mlreview.io import save_npz
from mlreview.steps import step


def ridge_closed_form(w_ls, lam: float) -> np.ndarray:
    """Ridge estimate for an orthonormal design: w_LS / (1 + lam)."""
    return np.asarray(w_ls, dtype=np.float64) / (1.0 + lam)


def lasso_closed_form(w_ls, lam: float) -> np.ndarray:
    """LASSO estimate for an orthonormal design: soft thresholding of w_LS at lam."""
    w_ls = np.asarray(w_ls, dtype=np.float64)
    return np.sign(w_ls) * np.maximum(np.abs(w_ls) - lam, 0.0)


def orthonormal_design(n: int, seed: int) -> np.ndarray:
    """An n x n orthonormal matrix: the Q factor of a seeded standard-normal matrix."""
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    return q


def solver_estimates(
    design: np.ndarray, y: np.ndarray, lam: float, *, lasso_tol: float, lasso_max_iter: int
) -> tuple[np.ndarray, np.ndarray, int]:
    """(ridge, lasso, lasso iterations) from scikit-learn, with costs matching the closed forms."""
    n = design.shape[0]
    ridge = Ridge(alpha=lam, fit_intercept=False).fit(design, y)
    lasso = Lasso(alpha=lam / n, fit_intercept=False, tol=lasso_tol, max_iter=lasso_max_iter).fit(design, y)
    return ridge.coef_.astype(np.float64), lasso.coef_.astype(np.float64), int(lasso.n_iter_)


@step
def shrinkage_compute(params: Mapping, *, data: Path) -> dict:
    """Closed forms on the w_LS grid, the solver check of C16, and the npz for the plot."""
    lam = float(params["lam"])
    n = int(params["n_points"])
    w_ls = np.linspace(*map(float, params["w_range"]), n)
    ridge_cf = ridge_closed_form(w_ls, lam)
    lasso_cf = lasso_closed_form(w_ls, lam)

    design = orthonormal_design(n, int(params["seed"]))
    y = design @ w_ls
    ridge_sol, lasso_sol, lasso_iter = solver_estimates(
        design, y, lam, lasso_tol=float(params["lasso_tol"]), lasso_max_iter=int(params["lasso_max_iter"])
    )
    save_npz(
        data,
        w_ls=w_ls,
        ridge_closed_form=ridge_cf,
        lasso_closed_form=lasso_cf,
        ridge_solver=ridge_sol,
        lasso_solver=lasso_sol,
        lam=lam,
    )

    below = np.abs(w_ls) <= lam
    nonzero_ls = w_ls != 0.0
    # Grid points on the threshold itself (|w_LS| = lam up to the rounding of Q^T Q w_LS, which is
    # what the solver effectively thresholds) are zero in exact arithmetic but may come out as
    # +-1e-16 from the solver; they are counted and excluded from the exact zero-pattern check.
    band = float(np.max(np.abs(design.T @ y - w_ls)))
    at_threshold = np.abs(np.abs(w_ls) - lam) <= band
    inside = below & ~at_threshold
    outside = ~below & ~at_threshold
    zeros_inside = bool(np.all(lasso_sol[inside] == 0.0))
    nonzero_outside = bool(np.all(lasso_sol[outside] != 0.0))
    ridge_diff = float(np.max(np.abs(ridge_sol - ridge_cf)))
    lasso_diff = float(np.max(np.abs(lasso_sol - lasso_cf)))
    lasso_zero_match = bool(np.array_equal(lasso_sol == 0.0, below))
    ridge_zeros_solver = int(np.sum((ridge_sol == 0.0) & nonzero_ls))
    ridge_zeros_cf = int(np.sum((ridge_cf == 0.0) & nonzero_ls))
    return {
        "lam": lam,
        "n_points": n,
        "design_orthonormality_error": float(np.max(np.abs(design.T @ design - np.eye(n)))),
        "ridge": {
            "max_abs_diff_solver_vs_closed_form": ridge_diff,
            "n_exact_zeros_at_nonzero_wls_solver": ridge_zeros_solver,
            "n_exact_zeros_at_nonzero_wls_closed_form": ridge_zeros_cf,
        },
        "lasso": {
            "max_abs_diff_solver_vs_closed_form": lasso_diff,
            "n_exact_zeros_solver": int(np.sum(lasso_sol == 0.0)),
            "n_exact_zeros_closed_form": int(np.sum(lasso_cf == 0.0)),
            "n_abs_wls_le_lambda": int(np.sum(below)),
            "zero_set_matches_threshold": lasso_zero_match,
            "threshold_band": band,
            "n_at_threshold": int(np.sum(at_threshold)),
            "max_abs_solver_at_threshold": float(np.max(np.abs(lasso_sol[at_threshold]), initial=0.0)),
            "exact_zeros_inside_threshold": zeros_inside,
            "nonzero_outside_threshold": nonzero_outside,
            "solver_iterations": lasso_iter,
        },
        "c16": {
            "max_abs_diff_solver_vs_closed_form": max(ridge_diff, lasso_diff),
            "zero_pattern_exact": bool(
                zeros_inside and nonzero_outside and ridge_zeros_solver == 0 and ridge_zeros_cf == 0
            ),
        },
    }
