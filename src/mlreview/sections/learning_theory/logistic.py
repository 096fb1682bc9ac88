"""Binary logistic regression by L-BFGS (the logistic students of ``teacher_student`` and the
logistic classifier of ``interpolation_peak``).

The objective and the optimiser are scikit-learn's ``LogisticRegression(solver="lbfgs")``
(scikit-learn 1.9): the mean log-loss over the n examples plus |w|^2 / (2 C n) (the intercept is not
penalised; C = inf drops the penalty), minimised by ``scipy.optimize.minimize(method="L-BFGS-B")``
from w = 0 with ``gtol = tol``, ``ftol = 64 eps`` and 50 line-search steps. Written out here because
these steps fit only this model, thousands of times on small sets: scikit-learn's import alone cost
about 1.8 CPU-s per step, more than the fits of the small config
(``tests/sections/learning_theory/test_logistic.py`` checks the fit against scikit-learn's).

On linearly separable data the unpenalised likelihood has no maximum: |w| grows until the gradient
tolerance stops the optimiser, and w's direction drifts towards the maximum-margin one.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize, special

#: scikit-learn's line-search budget and function tolerance for its L-BFGS solver
MAX_LINE_SEARCH = 50
FTOL = 64 * np.finfo(float).eps


def logistic_lbfgs(X: np.ndarray, y: np.ndarray, C: float, max_iter: int, tol: float,
                   fit_intercept: bool = True) -> dict:
    """Fit P(y = 1 | x) = sigmoid(x.w + b) to labels y in {-1, +1} (or {0, 1}).

    Returns ``w``, ``b`` (0 without intercept), ``iterations`` (L-BFGS iterations) and ``capped``
    (L-BFGS did not report convergence: ``max_iter`` reached, or its line search failed - where
    scikit-learn warns with a ConvergenceWarning)."""
    X = np.asarray(X, dtype=np.float64)
    t = (np.asarray(y) > 0).astype(np.float64)  # labels in {0, 1}
    n, p = X.shape
    l2 = 0.0 if np.isinf(C) else 1.0 / (float(C) * n)

    def loss_and_grad(theta):
        w = theta[:p]
        z = X @ w + (theta[p] if fit_intercept else 0.0)
        loss = np.mean(np.logaddexp(0.0, z) - t * z) + 0.5 * l2 * (w @ w)
        residual = (special.expit(z) - t) / n
        grad = np.empty_like(theta)
        grad[:p] = X.T @ residual + l2 * w
        if fit_intercept:
            grad[p] = residual.sum()
        return loss, grad

    theta0 = np.zeros(p + int(fit_intercept))
    res = optimize.minimize(loss_and_grad, theta0, method="L-BFGS-B", jac=True,
                            options={"maxiter": int(max_iter), "maxls": MAX_LINE_SEARCH, "gtol": float(tol),
                                     "ftol": FTOL})
    return {"w": res.x[:p].copy(), "b": float(res.x[p]) if fit_intercept else 0.0,
            "iterations": min(int(res.nit), int(max_iter)), "capped": res.status != 0}
