"""Logistic regression for every data set of the project (Ising phases, MNIST, SUSY).

One small toolbox, shared by the sections of the review that fit a logistic model:

* :func:`fit_logistic` - scikit-learn ``LogisticRegression`` with ``C = 1 / lambda`` (the penalty
  strength in scikit-learn's convention: C multiplies the *summed* loss); solver, penalty and the
  other options come from the config;
* :func:`fit_sgd` - ``SGDClassifier(loss="log_loss", alpha=lambda)`` (alpha multiplies the penalty
  added to the *mean* loss). The two lambda axes are therefore not on the same footing; the review
  plots both against the same lambda and so does the project;
* :func:`evaluate` - accuracy with its Wilson interval (:func:`mlreview.stats.accuracy_with_ci`)
  on named evaluation sets;
* :func:`convergence_warnings` - counts scikit-learn ConvergenceWarnings instead of hiding them;
* :func:`logistic_lbfgs` - scikit-learn's L-BFGS objective and options, minimised by scipy directly,
  for steps that fit only this model many times on small sets (learning theory): scikit-learn's
  import alone cost about 1.8 CPU-s per step, so scikit-learn is imported by the functions that use it.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING

import numpy as np

from mlreview.stats import accuracy_with_ci

if TYPE_CHECKING:
    from sklearn.linear_model import LogisticRegression, SGDClassifier

#: Options set by the functions themselves; the config must not give them.
_RESERVED_LOGISTIC = {"C"}
_RESERVED_SGD = {"alpha", "loss"}


def _check_lambda(lam: float) -> float:
    lam = float(lam)
    if not np.isfinite(lam) or lam <= 0.0:
        raise ValueError(f"the regularisation strength lambda must be positive and finite, got {lam}")
    return lam


def _check_options(options: Mapping, reserved: set[str]) -> dict:
    clash = reserved & set(options)
    if clash:
        raise ValueError(f"options {sorted(clash)} are set from lambda; remove them from the config")
    return dict(options)


def logistic_model(lam: float, options: Mapping) -> LogisticRegression:
    """An unfitted ``LogisticRegression(C=1/lam, **options)``."""
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=1.0 / _check_lambda(lam), **_check_options(options, _RESERVED_LOGISTIC))


def sgd_model(lam: float, options: Mapping) -> SGDClassifier:
    """An unfitted ``SGDClassifier(loss="log_loss", alpha=lam, **options)``."""
    from sklearn.linear_model import SGDClassifier

    return SGDClassifier(loss="log_loss", alpha=_check_lambda(lam), **_check_options(options, _RESERVED_SGD))


def fit_logistic(X, y, lam: float, options: Mapping) -> LogisticRegression:
    """Fit scikit-learn logistic regression with ``C = 1 / lam`` (binary or multinomial)."""
    return logistic_model(lam, options).fit(X, y)


def fit_sgd(X, y, lam: float, options: Mapping) -> SGDClassifier:
    """Fit logistic regression (log loss) by stochastic gradient descent with ``alpha = lam``."""
    return sgd_model(lam, options).fit(X, y)


@contextmanager
def convergence_warnings() -> Iterator[list]:
    """Collect the ConvergenceWarnings raised inside the block (the list is filled on exit)."""
    from sklearn.exceptions import ConvergenceWarning

    caught: list = []
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always", ConvergenceWarning)
        try:
            yield caught
        finally:
            caught.extend(w for w in record if issubclass(w.category, ConvergenceWarning))


def predict_sets(model, sets: Mapping[str, tuple]) -> dict[str, np.ndarray]:
    """The model's predicted labels on each named set ``{name: (X, y)}``.

    Binary models predict class 1 when P(1) >= 0.5 (scikit-learn's ``predict``, i.e. the sign of
    the decision function), multi-class models the argmax.
    """
    return {name: model.predict(X) for name, (X, _) in sets.items()}


def evaluate(model, sets: Mapping[str, tuple], confidence: float = 0.95,
             predictions: Mapping[str, np.ndarray] | None = None) -> dict[str, dict]:
    """Accuracy with its Wilson interval on each named set ``{name: (X, y)}``, from ``predictions``
    (:func:`predict_sets`) when the caller has them, else predicted here."""
    predictions = predict_sets(model, sets) if predictions is None else predictions
    return {name: accuracy_with_ci(y, predictions[name], confidence) for name, (_, y) in sets.items()}


#: rows per block when evaluating the loss (bounds the float64 temporaries; not a data choice)
_LOSS_BLOCK = 1 << 20


def penalised_log_loss(w, b: float, X, y, alpha: float) -> float:
    """Mean binary cross-entropy of the logits ``X @ w + b`` plus ``alpha * (1/2) * ||w||^2``:
    the objective of SGDClassifier(loss="log_loss", penalty="l2") and of the SUSY minibatch model
    (the bias is not penalised)."""
    w = np.asarray(w, dtype=np.float64).ravel()
    y = np.asarray(y)
    total = 0.0
    for start in range(0, len(y), _LOSS_BLOCK):
        z = np.asarray(X[start:start + _LOSS_BLOCK], dtype=np.float64) @ w + float(b)
        # log(1 + exp(-z)) for y = 1, log(1 + exp(z)) for y = 0, computed stably
        total += float(np.logaddexp(0.0, np.where(y[start:start + _LOSS_BLOCK] == 1, -z, z)).sum())
    return total / len(y) + 0.5 * float(alpha) * float(w @ w)


def reference_optimum(X, y, alpha: float, options: Mapping, init: tuple | None = None) -> dict:
    """The exact minimiser of :func:`penalised_log_loss`, as a convergence reference.

    scikit-learn's LogisticRegression minimises ``C * sum(loss) + (1/2) ||w||^2``, which is
    ``n C`` times the mean-loss objective with ``alpha = 1 / (n C)``: so ``C = 1 / (alpha n)``.
    ``options`` are LogisticRegression's (``solver`` defaults to L-BFGS; ``newton-cholesky``
    suits many rows and few features). ``init = (coef, intercept)`` starts the solver there (e.g.
    at the solution being checked, which is usually close: the objective is convex, so the
    optimum does not depend on the start). Returns the objective at the optimum, the
    coefficients, iterations and whether the solver converged.
    """
    lam = _check_lambda(alpha) * len(y)  # LogisticRegression's 1/C
    model = logistic_model(lam, {"solver": "lbfgs", **options, "warm_start": init is not None})
    if init is not None:
        model.coef_ = np.asarray(init[0], dtype=np.float64).reshape(1, -1)
        model.intercept_ = np.array([float(init[1])])
    with convergence_warnings() as caught:
        model.fit(X, y)
    w, b = model.coef_.ravel(), float(model.intercept_[0])
    return {"objective": penalised_log_loss(w, b, X, y, alpha), "coef": w, "intercept": b,
            "n_iter": int(np.max(model.n_iter_)), "converged": not caught}


#: scikit-learn's line-search budget and function tolerance for its L-BFGS solver (:func:`logistic_lbfgs`)
MAX_LINE_SEARCH = 50
FTOL = 64 * np.finfo(float).eps


def logistic_lbfgs(X: np.ndarray, y: np.ndarray, C: float, max_iter: int, tol: float,
                   fit_intercept: bool = True) -> dict:
    """Fit P(y = 1 | x) = sigmoid(x.w + b) to labels y in {-1, +1} (or {0, 1}): scikit-learn's
    ``LogisticRegression(solver="lbfgs", C=C)`` (scikit-learn 1.9) written out - the mean log-loss
    over the n examples plus |w|^2 / (2 C n) (the intercept is not penalised; C = inf drops the
    penalty; the objective of :func:`penalised_log_loss` with alpha = 1 / (C n)), minimised by
    ``scipy.optimize.minimize(method="L-BFGS-B")`` from zero with ``gtol = tol``, ``ftol = 64 eps`` and
    50 line-search steps. Tested against scikit-learn: the same iterations and weights.

    Returns ``w``, ``b`` (0 without intercept), ``iterations`` (L-BFGS iterations) and ``capped``
    (L-BFGS did not report convergence: ``max_iter`` reached, or its line search failed - where
    scikit-learn warns with a ConvergenceWarning)."""
    from scipy import optimize, special

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
