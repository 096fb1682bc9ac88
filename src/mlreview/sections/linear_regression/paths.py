"""Shared helpers of the regularised linear-regression figures (Figs 14-17).

* :func:`r2` - the coefficient of determination as the spec defines it, with the mean of the
  TRUE targets in the denominator (the review's Eq. (58) prints the mean of the predictions,
  taken as a typo);
* :func:`fit_path` - fit one scikit-learn estimator per lambda and collect the train/test R^2,
  the coefficients, the intercepts and the convergence warnings;
* :func:`lambda_half` - the lambda at which a test-R^2 curve first drops below half its maximum,
  interpolated in log lambda (used by C18 and C20 to compare the scales at which Ridge and LASSO
  respond).

The lambda grids and their metrics keys are :mod:`mlreview.grids` (shared with Section VII).

The estimators are created by a factory ``lam -> estimator`` passed in by the caller (e.g.
``lambda lam: Ridge(alpha=lam)``), so that each figure keeps its own conventions and solver
settings; nothing here is specific to one data set.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence

import numpy as np
from sklearn.exceptions import ConvergenceWarning


def r2(y_true, y_pred) -> float:
    """1 - sum (y - y_pred)^2 / sum (y - mean(y))^2, with the mean of the true targets.

    Raises ``ValueError`` for mismatched shapes or constant targets (the ratio is undefined).
    """
    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"r2: y_true has shape {y_true.shape}, y_pred {y_pred.shape}")
    ss_tot = float(np.sum((y_true - y_true.mean()) ** 2))
    if ss_tot == 0.0:
        raise ValueError("r2: the true targets are constant, R^2 is undefined")
    ss_res = float(np.sum((y_true - y_pred) ** 2))
    return 1.0 - ss_res / ss_tot


def fit_path(
    model_factory: Callable[[float], object],
    X_train,
    y_train,
    X_test,
    y_test,
    lambdas: Sequence[float],
) -> dict[str, np.ndarray]:
    """Fit ``model_factory(lam)`` on the training data for every lambda.

    Returns a dict of arrays: ``lambdas`` (n_lam,), ``train_r2`` and ``test_r2`` (n_lam,),
    ``coef`` (n_lam, n_features), ``intercept`` (n_lam,), and ``convergence_warnings`` (n_lam,),
    the number of ``sklearn.exceptions.ConvergenceWarning`` raised by each fit (they are counted,
    not shown; other warnings pass through unchanged).
    """
    lambdas = np.asarray(lambdas, dtype=np.float64)
    X_train, X_test = np.asarray(X_train), np.asarray(X_test)
    y_train, y_test = np.asarray(y_train), np.asarray(y_test)
    n_lam, n_features = lambdas.size, X_train.shape[1]
    train_r2 = np.empty(n_lam)
    test_r2 = np.empty(n_lam)
    coef = np.empty((n_lam, n_features))
    intercept = np.empty(n_lam)
    n_warn = np.zeros(n_lam, dtype=np.int64)
    for i, lam in enumerate(lambdas):
        model = model_factory(float(lam))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            model.fit(X_train, y_train)
        for w in caught:
            if issubclass(w.category, ConvergenceWarning):
                n_warn[i] += 1
            else:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        train_r2[i] = r2(y_train, model.predict(X_train))
        test_r2[i] = r2(y_test, model.predict(X_test))
        coef[i] = np.ravel(model.coef_)
        intercept[i] = float(np.ravel(model.intercept_)[0])
    return {
        "lambdas": lambdas,
        "train_r2": train_r2,
        "test_r2": test_r2,
        "coef": coef,
        "intercept": intercept,
        "convergence_warnings": n_warn,
    }


def lambda_half(lambdas, test_r2) -> float | None:
    """The smallest lambda at which ``test_r2`` drops below half of its maximum over the grid.

    "Drops" means a downward crossing: the first grid index i >= 1 with
    ``test_r2[i] < max/2 <= test_r2[i-1]`` (a curve that starts below half its maximum has not
    dropped there). The crossing is located by linear interpolation of R^2 in log10(lambda)
    between grid points i-1 and i. Returns ``None`` when the curve never drops below half its
    maximum (including when the maximum is <= 0, where "half the maximum" lies above it).
    ``lambdas`` must be positive and increasing.
    """
    lambdas = np.asarray(lambdas, dtype=np.float64)
    values = np.asarray(test_r2, dtype=np.float64)
    if lambdas.shape != values.shape or lambdas.ndim != 1:
        raise ValueError("lambda_half: lambdas and test_r2 must be 1D arrays of the same length")
    if np.any(lambdas <= 0) or np.any(np.diff(lambdas) <= 0):
        raise ValueError("lambda_half: lambdas must be positive and strictly increasing")
    if not np.all(np.isfinite(values)):
        raise ValueError("lambda_half: test_r2 has non-finite values")
    half = 0.5 * float(values.max())
    crossing = np.flatnonzero((values[1:] < half) & (values[:-1] >= half))
    if crossing.size == 0:
        return None
    i = int(crossing[0]) + 1
    log_lam = np.log10(lambdas)
    t = (values[i - 1] - half) / (values[i - 1] - values[i])
    return float(10.0 ** (log_lam[i - 1] + t * (log_lam[i] - log_lam[i - 1])))
