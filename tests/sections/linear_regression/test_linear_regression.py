"""Regression helpers (R^2, lambda grids, lambda_half, fit_path) and the diabetes step (Figs 14, 15)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Lasso, LinearRegression, Ridge
from sklearn.metrics import r2_score

from mlreview.cli import run_step
from mlreview.grids import lambda_key, lambda_keys, log_grid
from mlreview.io import load_json, load_npz
from mlreview.sections.linear_regression import diabetes
from mlreview.sections.linear_regression.paths import fit_path, lambda_half, r2

# ---------------------------------------------------------------- r2


def test_r2_definition_uses_mean_of_true_targets():
    y = np.array([1.0, 2.0, 3.0, 4.0])
    pred = np.array([1.5, 2.0, 2.5, 5.0])
    expected = 1.0 - np.sum((y - pred) ** 2) / np.sum((y - y.mean()) ** 2)
    assert r2(y, pred) == pytest.approx(expected, abs=1e-15)
    assert r2(y, pred) == pytest.approx(r2_score(y, pred), abs=1e-15)
    # The review's Eq. (58) (mean of the predictions) would give a different number here.
    misprint = 1.0 - np.sum((y - pred) ** 2) / np.sum((y - pred.mean()) ** 2)
    assert abs(r2(y, pred) - misprint) > 1e-3
    assert r2(y, y) == 1.0


def test_r2_constant_predictions():
    y = np.array([0.0, 1.0, 2.0, 5.0])  # mean 2, sum of squares 14
    assert r2(y, np.full(4, 2.0)) == pytest.approx(0.0, abs=1e-15)
    # A constant off the true mean by c: 1 - (14 + 4 c^2) / 14.
    assert r2(y, np.full(4, 3.0)) == pytest.approx(-4.0 / 14.0, abs=1e-15)


def test_r2_errors():
    with pytest.raises(ValueError, match="constant"):
        r2(np.ones(3), np.zeros(3))
    with pytest.raises(ValueError, match="shape"):
        r2(np.arange(3.0), np.arange(4.0))


# ---------------------------------------------------------------- grids and keys


def test_log_grid():
    np.testing.assert_array_equal(log_grid({"low": -2, "high": 2, "n": 10}), np.logspace(-2, 2, 10))
    assert log_grid({"low": -5.0, "high": 5.0, "n": 101})[50] == pytest.approx(1.0, rel=1e-15)
    with pytest.raises(ValueError):
        log_grid({"low": 0, "high": 1, "n": 0})


def test_lambda_keys_never_pure_digits_and_unique():
    keys = lambda_keys(np.logspace(-5, 5, 101))
    assert len(set(keys)) == 101
    assert all(k.startswith("lam_") and not k.isdigit() for k in keys)
    assert lambda_key(100.0) == "lam_100" and lambda_key(0.01) == "lam_0.01"
    with pytest.raises(ValueError, match="too fine"):
        lambda_keys([1.0, 1.0001])


# ---------------------------------------------------------------- lambda_half

GRID = np.logspace(-5, 5, 101)


def test_lambda_half_interpolates_in_log_lambda():
    # Flat at 0.8 up to lambda = 1, then falling by 0.1 per decade: half (0.4) at log10 lambda = 4.
    x = np.log10(GRID)
    curve = np.where(x <= 0, 0.8, 0.8 - 0.1 * x)
    assert lambda_half(GRID, curve) == pytest.approx(1e4, rel=1e-9)
    # Between grid points: falling by 0.7 per decade from lambda = 1 reaches 0.3 at log10 = 3/7.
    curve = np.where(x <= 0, 0.6, 0.6 - 0.7 * x)
    assert lambda_half(GRID, curve) == pytest.approx(10 ** (3.0 / 7.0), rel=1e-9)
    # Exactly half on a grid point is not yet below half; the crossing is that grid point.
    curve = np.where(x <= 0, 0.6, 0.6 - 0.3 * x)
    assert lambda_half(GRID, curve) == pytest.approx(10.0, rel=1e-12)
    # A step between two grid points: linear interpolation of R^2 in log lambda.
    curve = np.where(GRID < 0.5, 1.0, 0.0)  # 1.0 up to 10^-0.4, 0 from 10^-0.3
    assert np.log10(lambda_half(GRID, curve)) == pytest.approx(-0.35, abs=1e-12)


def test_lambda_half_uses_the_maximum_and_the_first_drop():
    x = np.log10(GRID)
    # Rises from 0.5 to 1 around lambda = 1e-2, then drops; half is 0.5, not reached before the peak.
    curve = np.where(x < -2, 0.5, 1.0) - np.where(x > 2, 0.2 * (x - 2), 0.0)
    assert lambda_half(GRID, curve) == pytest.approx(10**4.5, rel=1e-9)
    # Two drops below half: the smallest lambda counts.
    curve = np.ones_like(x)
    curve[(x > -1.05) & (x < -0.95)] = 0.0  # grid point lambda = 0.1
    curve[x > 3] = 0.0
    assert lambda_half(GRID, curve) == pytest.approx(10**-1.05, rel=1e-9)


def test_lambda_half_never_drops():
    x = np.log10(GRID)
    assert lambda_half(GRID, 0.9 - 0.01 * (x + 5)) is None  # falls to 0.8, never below 0.45
    assert lambda_half(GRID, np.full(GRID.size, 0.3)) is None
    # Starting below half and rising is no drop.
    assert lambda_half(GRID, np.where(x < 0, 0.1, 1.0)) is None
    # A maximum <= 0 has no meaningful half.
    assert lambda_half(GRID, -1.0 - 0.1 * (x + 5)) is None


def test_lambda_half_errors():
    with pytest.raises(ValueError, match="increasing"):
        lambda_half(GRID[::-1], np.ones(GRID.size))
    with pytest.raises(ValueError, match="same length"):
        lambda_half(GRID, np.ones(3))


# ---------------------------------------------------------------- fit_path


@pytest.fixture(scope="module")
def synthetic():
    rng = np.random.default_rng(7)
    X = rng.standard_normal((80, 6))
    w = np.array([2.0, -1.0, 0.0, 0.5, 0.0, 3.0])
    y = X @ w + 1.5 + 0.3 * rng.standard_normal(80)
    return X[:50], y[:50], X[50:], y[50:]


def test_fit_path_shapes_and_values(synthetic):
    X_train, y_train, X_test, y_test = synthetic
    lambdas = np.logspace(-3, 2, 7)
    out = fit_path(lambda lam: Ridge(alpha=lam), X_train, y_train, X_test, y_test, lambdas)
    assert set(out) == {"lambdas", "train_r2", "test_r2", "coef", "intercept", "convergence_warnings"}
    assert out["coef"].shape == (7, 6)
    for key in ("lambdas", "train_r2", "test_r2", "intercept", "convergence_warnings"):
        assert out[key].shape == (7,)
    np.testing.assert_array_equal(out["convergence_warnings"], 0)
    model = Ridge(alpha=lambdas[3]).fit(X_train, y_train)
    np.testing.assert_allclose(out["coef"][3], model.coef_, rtol=1e-12)
    assert out["test_r2"][3] == pytest.approx(r2_score(y_test, model.predict(X_test)), abs=1e-12)
    # Ridge shrinks: the coefficient norm and the training R^2 fall with lambda.
    assert np.all(np.diff(np.linalg.norm(out["coef"], axis=1)) < 0)
    assert np.all(np.diff(out["train_r2"]) < 0)


def test_ridge_at_tiny_lambda_is_ols(synthetic):
    X_train, y_train, X_test, y_test = synthetic
    out = fit_path(lambda lam: Ridge(alpha=lam), X_train, y_train, X_test, y_test, [1e-10])
    ols = LinearRegression().fit(X_train, y_train)
    np.testing.assert_allclose(out["coef"][0], ols.coef_, rtol=1e-8, atol=1e-10)
    assert out["intercept"][0] == pytest.approx(ols.intercept_, abs=1e-8)
    assert out["train_r2"][0] == pytest.approx(r2_score(y_train, ols.predict(X_train)), abs=1e-10)


def test_fit_path_counts_convergence_warnings(synthetic):
    X_train, y_train, X_test, y_test = synthetic
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # none may escape
        out = fit_path(
            lambda lam: Lasso(alpha=lam, max_iter=1, tol=0.0), X_train, y_train, X_test, y_test, [1e-4, 1e-3]
        )
    np.testing.assert_array_equal(out["convergence_warnings"], [1, 1])


# ---------------------------------------------------------------- the diabetes step


def test_load_split_takes_consecutive_samples():
    X_train, y_train, X_test, y_test, names = diabetes.load_split(3, 2)
    data = load_diabetes()
    np.testing.assert_array_equal(X_train, data.data[:3])
    np.testing.assert_array_equal(y_test, data.target[3:5])
    assert names == list(data.feature_names) and len(names) == 10
    with pytest.raises(ValueError):
        diabetes.load_split(400, 100)


def test_diabetes_steps(tmp_path, paper_config):
    section = paper_config["linear_regression"]["diabetes"]
    params = {
        **{k: v for k, v in section.items() if k != "plot"},
        "lambdas": {"low": -2.0, "high": 2.0, "n": 4},
        "path_lambdas": {"low": -2.0, "high": 2.0, "n": 5},
        "metric_lambdas": {"low": -5.0, "high": 5.0, "n": 11},
    }
    out = {"data": tmp_path / "diabetes.npz", "metrics": tmp_path / "diabetes.json"}
    m = run_step("diabetes_fit", params, outputs=out)
    assert load_json(out["metrics"])["metrics"] == m
    assert set(m) >= {
        "figure_grid",
        "metric_grid",
        "path_grid",
        "lambda_half",
        "log10_lambda_half_ratio",
        "c17",
        "c19",
        "convergence_warnings",
    }
    assert set(m["figure_grid"]["ridge"]) == {"lam_0.01", "lam_0.215", "lam_4.64", "lam_100"}
    assert set(m["figure_grid"]["lasso"]["lam_0.01"]) == {"train", "test"}
    assert len(m["metric_grid"]["lasso"]["test_r2"]) == 11
    assert len(m["path_grid"]["ridge"]["n_zero_coefs"]) == 5
    for model in ("ridge", "lasso"):
        c17 = m["c17"][model]
        assert set(c17) == {"max_test_r2", "argmax_lambda", "test_r2_at_smallest_lambda", "gain"}
        assert c17["gain"] == pytest.approx(c17["max_test_r2"] - c17["test_r2_at_smallest_lambda"])
        assert c17["gain"] >= 0.0
        assert m["lambda_half"][model] > 0.0
    ratio = abs(np.log10(m["lambda_half"]["ridge"] / m["lambda_half"]["lasso"]))
    assert m["log10_lambda_half_ratio"] == pytest.approx(ratio)
    assert set(m["c17"]) >= {"holds", "strict_holds"} and m["c17"]["holds"] is True
    assert set(m["c19"]) >= {"lasso_zeros_at_largest", "lasso_zeros_nondecreasing", "ridge_max_zeros", "holds"}
    # At lambda = 100 LASSO keeps only the intercept; Ridge has no exact zero.
    assert m["c19"]["lasso_zeros_at_largest"] == 10 and m["c19"]["ridge_max_zeros"] == 0

    data = load_npz(out["data"])
    assert data["figure_grid_ridge_test_r2"].shape == (4,)
    assert data["path_grid_lasso_coef"].shape == (5, 10)
    assert list(data["feature_names"]) == m["feature_names"]
    for step, fig in (("fig14_plot", "fig14"), ("fig15_plot", "fig15")):
        plot = {"pdf": tmp_path / f"{fig}.pdf", "png": tmp_path / f"{fig}.png"}
        run_step(step, section, inputs={"data": out["data"]}, outputs=plot)
        assert plot["pdf"].stat().st_size > 0 and plot["png"].stat().st_size > 0
