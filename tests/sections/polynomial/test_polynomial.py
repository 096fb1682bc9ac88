"""Section II, Figs 1-3: polynomial regression (mlreview.sections.polynomial.fit, figures.polynomial)."""

from __future__ import annotations


import numpy as np
import pytest
import yaml

from mlreview.cli import run_step
from mlreview.sections.polynomial.plots import polynomial_label, y_limits
from mlreview.io import load_json, load_npz
from mlreview.sections.polynomial import fit as poly
from tests.conftest import ROOT

CONFIG = ROOT / "config" / "config.yaml"
TIE = {"absolute": 1.0e-20, "relative": 1.0e-12}


def figure_params(figure: str, **overrides) -> dict:
    """The params the workflow rule passes: shared keys + the figure's keys, functions narrowed."""
    section = yaml.safe_load(CONFIG.read_text())["polynomial"]
    own = dict(section["figures"][figure])
    params = {key: value for key, value in section.items() if key != "figures"}
    params.update(own)
    params["figure"] = figure
    params["functions"] = {name: section["functions"][name] for name in own["functions"]}
    params.update(overrides)
    return params


# --------------------------------------------------------------------------- config


def test_config_params_have_the_spec_values():
    p1 = figure_params("fig01")
    assert p1["sigma"] == 0.0 and p1["n_train"] == 10 and p1["n_test"] == 20
    assert set(p1["functions"]) == {"linear", "tenth"} and p1["degrees"] == [1, 3, 10]
    p3 = figure_params("fig03")
    assert list(p3["functions"]) == ["tenth"] and p3["n_train"] == 10_000 and p3["n_test"] == 100
    assert p3["extrapolation"]["error_at"] == [1.0, 1.1, 1.2]
    assert p3["train_range"] == [0.0, 1.0] and p3["test_range"] == [0.0, 1.2]


# --------------------------------------------------------------------------- data


def test_true_function_matches_the_formulas():
    coeffs = figure_params("fig01")["functions"]
    x = np.array([0.0, 0.5, 1.0, 1.2])
    np.testing.assert_allclose(poly.true_function(coeffs["linear"], x), 2 * x)
    np.testing.assert_allclose(poly.true_function(coeffs["tenth"], x), 2 * x - 10 * x**5 + 15 * x**10)


def test_generators_are_seeded_and_prefix_stable():
    a = [g.uniform(size=3) for g in poly.realisation_generators(7, 5)]
    b = [g.uniform(size=3) for g in poly.realisation_generators(7, 2)]
    c = [g.uniform(size=3) for g in poly.realisation_generators(8, 2)]
    assert len(a) == 6 and len(b) == 3
    for i in range(3):
        np.testing.assert_array_equal(a[i], b[i])  # repetition r does not depend on R
    assert not np.allclose(a[0], c[0])
    assert not np.allclose(a[0], a[1])
    with pytest.raises(ValueError):
        poly.realisation_generators(1, -1)


def test_draw_realisation_ranges_noise_and_shapes():
    functions = {"linear": [0.0, 2.0], "square": [0.0, 0.0, 1.0]}
    rng = np.random.default_rng(0)
    kw = dict(n_train=4000, n_test=3000, train_range=[0.0, 1.0], test_range=[0.0, 1.2])
    noiseless = poly.draw_realisation(rng, functions, sigma=0.0, **kw)
    assert noiseless["y_train"].shape == (4000, 2) and noiseless["y_test"].shape == (3000, 2)
    assert noiseless["x_train"].min() >= 0 and noiseless["x_train"].max() <= 1
    assert noiseless["x_test"].max() <= 1.2 and noiseless["x_test"].max() > 1.15
    np.testing.assert_array_equal(noiseless["y_train"][:, 0], 2 * noiseless["x_train"])
    np.testing.assert_array_equal(noiseless["y_test"][:, 1], noiseless["x_test"] ** 2)
    noisy = poly.draw_realisation(np.random.default_rng(0), functions, sigma=2.0, **kw)
    np.testing.assert_array_equal(noisy["x_train"], noiseless["x_train"])  # sigma does not shift streams
    resid = noisy["y_train"] - noiseless["y_train"]
    assert resid.std() == pytest.approx(2.0, rel=0.05)
    assert abs(np.corrcoef(resid[:, 0], resid[:, 1])[0, 1]) < 0.1  # own noise per function
    with pytest.raises(ValueError):
        poly.draw_realisation(rng, functions, sigma=-1.0, **kw)


# --------------------------------------------------------------------------- fitting


def test_fit_recovers_a_noiseless_cubic_and_is_nested():
    x = np.linspace(0.0, 1.0, 30)
    y = 1.0 - 2.0 * x + 3.0 * x**3
    model = poly.fit_degree(x, y, 3)
    lr = model[-1]
    np.testing.assert_allclose(lr.coef_, [-2.0, 0.0, 3.0], atol=1e-9)
    assert lr.intercept_ == pytest.approx(1.0, abs=1e-10)
    rng = np.random.default_rng(1)
    noisy = y + rng.standard_normal(x.size)
    e = [poly.mse(poly.predict(poly.fit_degree(x, noisy, d), x), noisy[:, None])[0] for d in (1, 3, 10)]
    assert e[0] >= e[1] >= e[2]  # nested least-squares classes


def test_underdetermined_fits_are_minimum_norm_interpolants():
    # Well-conditioned case: degree 3 through 3 points (centred rank 2, 3 coefficients).
    x = np.array([0.1, 0.5, 0.9])
    y = np.array([1.0, -1.0, 2.0])
    model = poly.fit_degree(x, y, 3)
    feats = np.vander(x, 4, increasing=True)[:, 1:]
    coef = np.linalg.pinv(feats - feats.mean(0)) @ (y - y.mean())
    np.testing.assert_allclose(model[-1].coef_, coef, atol=1e-10)
    np.testing.assert_allclose(poly.predict(model, x)[:, 0], y, atol=1e-10)
    # Fig 1 case: degree 10 through 10 noiseless points of 2x interpolates them, and its
    # coefficient vector is no longer than the generating one (2, 0, ..., 0), which also
    # interpolates: the solver picked a minimum-norm solution (up to the rank cut-off).
    rng = np.random.default_rng(3)
    x = rng.uniform(0, 1, 10)
    model = poly.fit_degree(x, 2 * x, 10)
    assert poly.mse(poly.predict(model, x), 2 * x[:, None])[0] < 1e-12
    assert np.linalg.norm(model[-1].coef_) <= 2.0 + 1e-9
    assert not np.allclose(model[-1].coef_, [2.0] + [0.0] * 9, atol=1e-3)  # not the generating polynomial


def test_mse_masks_and_empty_selection():
    pred = np.array([[1.0, 0.0], [3.0, 0.0]])
    target = np.zeros((2, 2))
    np.testing.assert_allclose(poly.mse(pred, target), [5.0, 0.0])
    np.testing.assert_allclose(poly.mse(pred, target, np.array([False, True])), [9.0, 0.0])
    assert np.all(np.isnan(poly.mse(pred, target, np.array([False, False]))))
    with pytest.raises(ValueError):
        poly.mse(pred, target[:1])


# --------------------------------------------------------------------------- statistics


def test_extreme_mask_counts_ties_within_the_tolerance():
    values = np.array([[1e-31, 3e-31, 1e-3], [2.0, 1.0, 3.0], [np.nan, 1.0, 2.0], [5.0, 5.0 + 1e-13, 4.0]])
    low = poly.extreme_mask(values, "lowest", **TIE)
    high = poly.extreme_mask(values, "highest", **TIE)
    np.testing.assert_array_equal(low, [[1, 1, 0], [0, 1, 0], [0, 0, 0], [0, 0, 1]])
    np.testing.assert_array_equal(high, [[0, 0, 1], [0, 0, 1], [0, 0, 0], [1, 1, 0]])
    # NaN rows are left out of the fractions: 3 usable rows.
    np.testing.assert_allclose(poly.extreme_fractions(values, "lowest", **TIE), [1 / 3, 2 / 3, 1 / 3])
    assert np.all(np.isnan(poly.extreme_fractions(np.full((2, 3), np.nan), "lowest", **TIE)))
    with pytest.raises(ValueError):
        poly.extreme_mask(values, "middle", **TIE)


def test_x_break_and_grid():
    grid = poly.extrapolation_grid(0.95, 1.3, 0.0001)
    assert grid.size == 3501 and grid[0] == 0.95 and grid[-1] == pytest.approx(1.3)
    np.testing.assert_allclose(np.diff(grid), 0.0001)
    err = np.where(grid > 1.05 + 1e-9, 2.0, 0.5)  # exceeds 1 from the first grid point above 1.05
    assert poly.x_break(grid, err, 1.0) == pytest.approx(1.0501, abs=1e-9)
    assert np.isnan(poly.x_break(grid, np.zeros_like(grid), 1.0))


def test_median_interval_uses_order_statistics():
    # n = 20: the 95% interval is [x_(6), x_(15)] (1-based), coverage 95.9%.
    assert poly.median_interval(np.arange(20.0)) == (5.0, 14.0)
    assert poly.median_interval(np.arange(50.0)) == (17.0, 32.0)
    assert all(np.isnan(poly.median_interval(np.arange(5.0))))  # too few values for 95%
    assert all(np.isnan(poly.median_interval([])))


def test_extrapolation_of_an_exact_model_never_breaks():
    x = np.linspace(0, 1, 50)
    coeffs = [0.0, 2.0, 0.0, 0.0, 0.0, -10.0, 0.0, 0.0, 0.0, 0.0, 15.0]
    model = poly.fit_degree(x, poly.true_function(coeffs, x), 10)
    ext = {"start": 0.95, "stop": 1.3, "step": 0.001, "error_at": [1.0, 1.2]}
    out = poly.extrapolation_errors(model, {"tenth": coeffs}, ext, 1.0, [0.0, 1.0])
    assert np.isnan(out["x_break"][0])
    assert out["error_at"].shape == (2, 1) and np.all(out["error_at"] < 1e-3)
    assert out["max_error_train_range"][0] < 1e-6


# --------------------------------------------------------------------------- steps


def test_fit_step_fig01_like_metrics(tmp_path):
    params = figure_params("fig01", repetitions=12)
    metrics = run_step("polynomial_fit", params, outputs={"data": tmp_path / "f.npz", "metrics": tmp_path / "f.json"})
    assert (tmp_path / "f.json").exists()
    assert load_json(tmp_path / "f.json")["metrics"]["repetitions"] == 12
    for kind in poly.ERROR_KINDS:
        assert set(metrics[kind]) == {"linear", "tenth"}
        assert set(metrics[kind]["linear"]) == {"deg1", "deg3", "deg10"}
    rep = metrics["repeated"]
    # Noiseless linear data: degree 1 fits and predicts exactly (floating-point level), C01/C03.
    assert rep["max_mse"]["linear"]["deg1"] < 1e-20
    assert rep["best_in_and_out"]["linear"]["deg1"] == 1.0
    assert rep["best_in_and_out"]["tenth"]["deg10"] == 1.0
    assert set(rep["median_e_out_ratio"]["linear"]) == {"deg3_over_deg1", "deg10_over_deg1", "deg10_over_deg3"}
    assert "extrapolation" not in metrics
    arrays = load_npz(tmp_path / "f.npz")
    assert arrays["rep_e_in"].shape == (12, 3, 2)
    assert arrays["fit_tenth_deg10"].shape == (params["curve_points"],)
    np.testing.assert_allclose(arrays["true_pred_linear"], 2 * arrays["x_pred"])
    # Deterministic: the same params give the same numbers.
    again = poly.polynomial_fit(params, data=tmp_path / "g.npz")
    assert again["e_out"] == metrics["e_out"]


def test_fit_step_noisy_degree10_always_lowest_e_in(tmp_path):
    """C04 follows from nesting: it must hold in every repetition."""
    metrics = poly.polynomial_fit(figure_params("fig02", repetitions=20), data=tmp_path / "f.npz")
    assert metrics["repeated"]["min_over_functions"]["lowest_e_in"]["deg10"] == 1.0
    assert 0 <= metrics["repeated"]["min_over_functions"]["highest_e_out"]["deg10"] <= 1


def test_fit_and_plot_steps_fig03_like(tmp_path):
    params = figure_params("fig03", n_train=2000, repetitions=5)
    params["extrapolation"] = dict(params["extrapolation"], step=0.001)
    out = {"data": tmp_path / "f3.npz", "metrics": tmp_path / "f3.json"}
    metrics = run_step("polynomial_fit", params, outputs=out)
    ext = metrics["extrapolation"]["tenth"]
    assert set(ext["error_at"]) == {"x_1.0", "x_1.1", "x_1.2"}
    assert 0.95 <= ext["x_break_median"] <= 1.3
    assert ext["error_at_median"]["x_1.2"] > ext["max_error_train_range_median"]
    assert metrics["repeated"]["lowest_e_in"]["tenth"]["deg10"] == 1.0
    figs = {"pdf": tmp_path / "f3.pdf", "png": tmp_path / "f3.png"}
    assert run_step("polynomial_plot", params, inputs={"data": out["data"]}, outputs=figs) is None
    assert all(p.stat().st_size > 0 for p in figs.values())


def test_fit_step_rejects_an_unfitted_extrapolation_degree(tmp_path):
    params = figure_params("fig03", n_train=100, repetitions=1)
    params["extrapolation"] = dict(params["extrapolation"], degree=7)
    with pytest.raises(ValueError, match="extrapolation degree"):
        poly.polynomial_fit(params, data=tmp_path / "x.npz")


# --------------------------------------------------------------------------- plotting helpers


def test_polynomial_label_and_y_limits():
    assert polynomial_label([0.0, 2.0]) == "2x"
    assert polynomial_label([0, 2, 0, 0, 0, -10, 0, 0, 0, 0, 15]) == "2x − 10x⁵ + 15x¹⁰"
    assert polynomial_label([-1.0, 0.0, 1.0]) == "−1 + x²"
    assert polynomial_label([0.0]) == "0"
    assert y_limits(np.array([0.0, 2.0]), 1.0) == (-4.0, 6.0)
    assert y_limits(np.array([-1.0, 5.0]), 0.0) == (-2.0, 6.0)
