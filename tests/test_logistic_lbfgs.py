"""mlreview.logistic.logistic_lbfgs (the learning-theory steps' logistic regression) against scikit-learn's."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from mlreview.logistic import logistic_lbfgs


def _data(n, p, seed, separable):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    teacher = rng.standard_normal(p)
    field = X @ teacher + (0.0 if separable else 2.0 * rng.standard_normal(n))
    return X, np.where(field + 0.3 > 0, 1.0, -1.0)


@pytest.mark.parametrize("C, fit_intercept, separable", [(1.0, True, False), (1e6, True, True), (np.inf, False, True)])
def test_logistic_lbfgs_matches_scikit_learn(C, fit_intercept, separable):
    X, y = _data(60, 8, 3, separable)
    tol, max_iter = 1e-8, 1000
    ours = logistic_lbfgs(X, y, C, max_iter, tol, fit_intercept=fit_intercept)
    theirs = LogisticRegression(C=C, solver="lbfgs", max_iter=max_iter, tol=tol,
                                fit_intercept=fit_intercept).fit(X, y)
    scale = np.abs(theirs.coef_[0]).max()
    assert np.allclose(ours["w"], theirs.coef_[0], rtol=0, atol=1e-8 * scale)
    assert ours["b"] == pytest.approx(float(theirs.intercept_[0]) if fit_intercept else 0.0, abs=1e-8 * scale)
    assert ours["iterations"] == int(theirs.n_iter_[0])


def test_logistic_lbfgs_reports_the_iteration_cap():
    X, y = _data(60, 8, 4, True)
    fit = logistic_lbfgs(X, y, np.inf, 3, 1e-12, fit_intercept=False)
    assert fit["capped"] and fit["iterations"] == 3
    assert not logistic_lbfgs(X, y, 1.0, 1000, 1e-6)["capped"]
