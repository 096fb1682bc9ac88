"""Figs 16, 17: OLS, Ridge and LASSO learning the 1D Ising couplings (models/figures.ising_regression)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import Lasso

from mlreview.steps import registry
from mlreview.cli import run_step
from mlreview.data.ising import load_ising1d
from mlreview.io import load_json, load_npz, save_json
from mlreview.ising.chain1d import ising1d_chains, chain_energies, coupling_matrix, pair_features, random_chains
from mlreview.sections.linear_regression import ising as ir
from mlreview.sections.linear_regression.paths import r2

STEPS = {
    "ising1d_regression": "mlreview.sections.linear_regression.ising:ising1d_regression",
    "fig16_plot": "mlreview.sections.linear_regression.ising_plots:fig16_plot",
    "fig17_plot": "mlreview.sections.linear_regression.ising_plots:fig17_plot",
}


# ----------------------------------------------------------------------------- the exact model


def test_exact_coupling_reproduces_the_energies_with_r2_one():
    states = random_chains(300, 40, seed=3)
    energies = chain_energies(states, 1.0)
    jmat = coupling_matrix(40, 1.0)
    assert r2(energies, pair_features(states, dtype=np.float64) @ jmat.ravel()) == 1.0
    m = ir.coupling_metrics(jmat)
    # only forward bonds: J_nn is the mean of -1 (forward) and 0 (backward), fully asymmetric
    assert m["J_nn"] == -0.5 and m["bond_sum_mean"] == -1.0
    assert m["J_forward_mean"] == -1.0 and m["J_backward_mean"] == 0.0
    assert m["nn_fraction"] == 1.0 and m["max_abs_non_nn"] == 0.0
    assert m["asymmetry"] == 1.0 and m["asymmetry_boundary"] == 1.0 and m["n_bonds_with_asymmetry"] == 39
    assert m["boundary_forward"] == -1.0 and m["boundary_backward"] == 0.0


# ----------------------------------------------------------------------------- coupling metrics


def test_nn_mask_includes_the_periodic_bond():
    mask = ir.nn_mask(5)
    assert mask.sum() == 10 and mask[4, 0] and mask[0, 4] and mask[1, 2] and mask[2, 1]
    assert not mask[0, 2] and not mask.diagonal().any()


def test_symmetric_split_has_zero_asymmetry_and_nn_fraction_counts_other_entries():
    L = 6
    sym = 0.5 * (coupling_matrix(L, 1.0) + coupling_matrix(L, 1.0).T)  # -0.5 on both entries
    m = ir.coupling_metrics(sym)
    assert m["J_nn"] == -0.5 and m["asymmetry"] == 0.0 and m["asymmetry_boundary"] == 0.0
    assert m["nn_fraction"] == 1.0
    extra = sym.copy()
    extra[0, 3] = 2.0  # a non-nearest-neighbour entry: sum |J| = 6 (nn) + 2
    assert ir.coupling_metrics(extra)["nn_fraction"] == pytest.approx(6.0 / 8.0)
    assert ir.coupling_metrics(extra)["max_abs_non_nn"] == 2.0


def test_boundary_bond_is_measured_apart_from_the_bulk():
    L = 5
    J = coupling_matrix(L, 1.0)  # bulk: all weight on J[j, j+1]
    J[L - 1, 0], J[0, L - 1] = -0.25, -0.75  # boundary: split 1:3
    m = ir.coupling_metrics(J)
    assert m["asymmetry"] == 1.0  # bulk bonds j = 0..L-2 only
    assert m["asymmetry_boundary"] == pytest.approx(0.5)
    J[1, 2], J[2, 1] = -0.5, -0.5  # one bulk bond split equally: mean over 4 bulk bonds
    assert ir.coupling_metrics(J)["asymmetry"] == pytest.approx(3.0 / 4.0)


def test_zero_bonds_have_no_asymmetry():
    L = 4
    J = coupling_matrix(L, 1.0)
    J[1, 2] = 0.0  # bond (1, 2) has two zero entries
    J[L - 1, 0] = 0.0
    m = ir.coupling_metrics(J)
    assert m["n_bonds_with_asymmetry"] == 2 and m["asymmetry"] == 1.0 and m["asymmetry_boundary"] is None
    z = ir.coupling_metrics(np.zeros((L, L)))
    assert z["nn_fraction"] is None and z["asymmetry"] is None and z["n_bonds_with_asymmetry"] == 0
    with pytest.raises(ValueError, match="square"):
        ir.coupling_metrics(np.zeros((3, 4)))


def test_monotonicity_helpers_and_union_grid():
    assert ir.max_increase([3, 2, 2, 1]) == 0.0
    assert ir.max_increase([1, 1.5, 1.2, 2.0]) == pytest.approx(0.8)
    assert ir.largest_rise([1.0, 0.5, 0.9, 0.7]) == pytest.approx(0.4)
    assert ir.largest_rise([3, 2, 1]) == 0.0
    assert not ir.is_nonmonotonic([1, 0.5, 0.2], 1e-3)
    assert not ir.is_nonmonotonic([1, 1.0005, 0.2], 1e-3)  # a rise within the noise tolerance
    assert ir.is_nonmonotonic([0.1, 1, 0.2], 1e-3)
    grid = ir.union_grid(np.logspace(-4, 0, 5), [1.0e-4, 1.0e-2, 3.0])
    np.testing.assert_allclose(grid, [1e-4, 1e-3, 1e-2, 1e-1, 1.0, 3.0])


# ----------------------------------------------------------------------------- the steps


def small_params(**overrides) -> dict:
    params = {
        "n_train": 120,
        "n_test": 60,
        "lambdas": {"low": -4.0, "high": 2.0, "n": 4},
        "metric_lambdas": {"low": -4.0, "high": 4.0, "n": 17},
        "lasso": {"max_iter": 100000, "tol": 1.0e-6},
        "coupling_lambdas": [1.0e-4, 1.0e-2],
        "monotonic_tol": 1.0e-3,
        "check_n_train": 200,
    }
    params.update(overrides)
    return params


PLOT = {"plot": {"ylim": [-0.1, 1.1], "cmap": "seismic", "clim": [-1.0, 1.0]}}


@pytest.fixture()
def inputs(tmp_path):
    chains = tmp_path / "ising1d.npz"
    ising1d_chains({"n_states": 250, "length": 8, "J": 1.0, "seed": 5}, data=chains)
    diabetes = tmp_path / "diabetes.json"
    save_json(diabetes, {"metrics": {"log10_lambda_half_ratio": 0.1}})
    return {"chains": chains, "diabetes": diabetes}


def test_fit_and_plot_steps(tmp_path, inputs, monkeypatch):
    for name, target in STEPS.items():
        monkeypatch.setitem(registry(), name, target)
    out = {"data": tmp_path / "fig16.npz", "metrics": tmp_path / "fig16.json"}
    m = run_step("ising1d_regression", small_params(), inputs=inputs, outputs=out)
    assert load_json(out["metrics"])["metrics"]["c18"] == m["c18"]
    for key in ("figure_grid", "metric_grid", "lambda_half", "log10_lambda_half_ratio", "lasso_best_lambda",
                "log10_lasso_best_lambda", "lasso_plateau_lambdas", "c18", "c20", "c21", "c22", "c26",
                "couplings", "figure_grid_couplings", "check_large_n", "convergence_warnings"):
        assert key in m, key
    assert set(m["figure_grid"]["ols"]) == {"lam_0.0001", "lam_0.01", "lam_1", "lam_100"}
    assert set(m["couplings"]["lasso"]) == {"lam_0.0001", "lam_0.01"}
    # 120 states > 29 distinct features of an 8-spin chain: every model recovers the energies
    assert m["c21"]["ols_test_r2"] == pytest.approx(1.0, abs=1e-10) and m["c21"]["ols_constant"]
    ols = m["couplings"]["ols"]["lam_0.0001"]
    assert ols["J_nn"] == pytest.approx(-0.5, abs=1e-9) and ols["asymmetry"] < 1e-9  # the symmetric split
    assert m["couplings"]["lasso"]["lam_0.01"]["nn_fraction"] > 0.99
    assert m["couplings"]["lasso"]["lam_0.01"]["asymmetry"] > 0.5  # LASSO picks one of the two entries
    assert m["check_large_n"]["n_train"] == 200
    assert m["log10_lambda_half_ratio"] > 2 and m["c18"]["holds"]
    assert m["c18"]["diabetes_log10_ratio"] == 0.1
    assert m["convergence_warnings"]["figure_grid"]["lasso"] == 0
    d = load_npz(out["data"])
    assert d["coupling_lasso_J"].shape == (2, 8, 8) and d["figure_grid_ridge_J"].shape == (4, 8, 8)
    assert d["figure_grid_ols_test_r2"].shape == (4,) and d["metric_grid_lasso_test_r2"].shape == (17,)

    files = {"pdf": tmp_path / "fig16.pdf", "png": tmp_path / "fig16.png"}
    assert run_step("fig16_plot", PLOT, inputs={"data": out["data"]}, outputs=files) is None
    # Fig 17, with the optional book of 1 x 3 panels, one page per figure-grid lambda
    files.update(pdf=tmp_path / "fig17.pdf", png=tmp_path / "fig17.png", panels=tmp_path / "panels.pdf")
    assert run_step("fig17_plot", PLOT, inputs={"data": out["data"]}, outputs=files) is None
    assert all(p.stat().st_size > 1000 for p in files.values())
    assert files["panels"].read_bytes().startswith(b"%PDF")


def test_metric_grid_warm_start_matches_cold_fits(inputs):
    states, energies = load_ising1d(inputs["chains"])
    split = ir._split(states, energies, 120, 60)
    lambdas = np.logspace(-3, 0, 7)
    warm = ir.fit_descending(lambda: ir._lasso_factory({"max_iter": 100000, "tol": 1e-8}, True), *split, lambdas)
    cold = ir.fit_path(lambda lam: Lasso(alpha=lam, max_iter=100000, tol=1e-8), *split, lambdas)
    np.testing.assert_allclose(warm["test_r2"], cold["test_r2"], atol=1e-6)
    np.testing.assert_array_equal(warm["lambdas"], lambdas)


def test_step_errors(tmp_path, inputs):
    with pytest.raises(ValueError, match="exceeds"):
        ir.ising1d_regression(small_params(n_train=200, n_test=100), data=tmp_path / "x.npz", **inputs)
    with pytest.raises(ValueError, match="check_n_train"):
        ir.ising1d_regression(small_params(check_n_train=1000), data=tmp_path / "x.npz", **inputs)
    m = ir.ising1d_regression(small_params(check_n_train=None), data=tmp_path / "x.npz", **inputs)
    assert "check_large_n" not in m
