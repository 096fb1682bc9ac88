"""SUSY logistic regression (Figs 22, 23, 25): the split, the objective and its exact optimum,
the minibatch model, the steps and plots on a small parquet with a known logistic truth."""

from __future__ import annotations

import copy

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from sklearn.linear_model import LogisticRegression

from mlreview import cli
from mlreview import logistic as lg
from mlreview.data import susy as S
from mlreview.errors import MlreviewError
from mlreview.io import load_npz
from mlreview.sections.logistic_regression import susy as sl
from tests.conftest import ROOT

N = 6000


@pytest.fixture(scope="module")
def section() -> dict:
    return yaml.safe_load((ROOT / "config" / "config.yaml").read_text())["logistic_regression"]["susy"]


def shared(section, **own) -> dict:
    """The params of one SUSY logistic rule (as common.smk's susy_logistic_params builds them)."""
    base = {k: copy.deepcopy(v) for k, v in section.items() if k not in ("fits", "fig22", "fig23", "ablation", "fig25")}
    base.update({"train_rows": 5000, "test_rows": 1000, "test_fraction": 0.2})
    return {**base, **own}


@pytest.fixture(scope="module")
def parquet(tmp_path_factory):
    """Label drawn from a logistic model of the features: the first low-level feature matters
    most, one high-level feature adds information, the others are noise."""
    rng = np.random.default_rng(11)
    columns = {name: rng.standard_normal(N).astype(np.float32) * 2.0 + 3.0 for name in S.FEATURES}
    z = 1.5 * (columns["lepton1_pt"] - 3.0) + 1.0 * (columns["m_r"] - 3.0) - 0.3
    columns = {S.LABEL: (rng.random(N) < 1.0 / (1.0 + np.exp(-z))).astype(np.int8), **columns}
    path = tmp_path_factory.mktemp("susy") / "susy.parquet"
    pq.write_table(pa.table(columns, schema=S.schema({S.META_SOURCE: b"toy"})), path, row_group_size=1000)
    return path


def test_split_rows_first_training_last_test():
    params = {"train_rows": 4_500_000, "test_rows": 500_000, "test_fraction": 0.1}
    assert sl.split_rows(5_000_000, params) == {"train": (0, 4_500_000), "test": (4_500_000, 5_000_000)}
    # a smaller file keeps at most 10% for the test and trains on the rows before them
    assert sl.split_rows(1_000_000, params) == {"train": (0, 900_000), "test": (900_000, 1_000_000)}
    assert sl.split_rows(6_000_000, params)["train"] == (0, 4_500_000)
    with pytest.raises(MlreviewError, match="features must be one of"):
        S.feature_names("some")


def test_standardisation_uses_training_rows(parquet, section):
    sets, info = sl.load_sets(parquet, "low", shared(section))
    X_train, X_test = sets["train"][0], sets["test"][0]
    assert X_train.shape == (5000, 8) and X_test.shape == (1000, 8) and X_train.dtype == np.float32
    np.testing.assert_allclose(X_train.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(X_train.std(axis=0), 1.0, atol=1e-4)
    assert not np.allclose(X_test.mean(axis=0), 0.0, atol=1e-5)  # test rows use the training statistics
    raw, _ = sl.load_sets(parquet, "all", shared(section, standardize=False))
    assert raw["train"][0].shape[1] == 18 and raw["train"][0].mean() > 2.0
    assert info["source"] == "toy" and info["split"]["test"] == {"start": 5000, "stop": 6000, "n": 1000}


def test_objective_matches_sklearn_and_the_reference_is_its_minimum():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((3000, 4))
    y = (rng.random(3000) < 1 / (1 + np.exp(-(X @ [1.0, -2.0, 0.5, 0.0] + 0.3)))).astype(int)
    alpha = 1e-2
    ref = lg.reference_optimum(X, y, alpha, {"tol": 1e-10, "max_iter": 1000})
    assert ref["converged"]
    # the objective is the one scikit-learn minimises with C = 1 / (alpha n), divided by n C
    model = LogisticRegression(C=1.0 / (alpha * len(y)), tol=1e-10, max_iter=1000).fit(X, y)
    np.testing.assert_allclose(ref["coef"], model.coef_.ravel(), rtol=1e-6)
    # stationary: every small step raises the objective
    for i in range(4):
        for step in (1e-3, -1e-3):
            w = ref["coef"].copy()
            w[i] += step
            assert lg.penalised_log_loss(w, ref["intercept"], X, y, alpha) > ref["objective"]
    # the stable loss agrees with the plain formula
    p = 1 / (1 + np.exp(-(X @ ref["coef"] + ref["intercept"])))
    plain = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)) + 0.5 * alpha * ref["coef"] @ ref["coef"]
    assert abs(plain - ref["objective"]) < 1e-12


def test_classifier_metrics_fractions():
    y = np.array([1, 1, 1, 0, 0], dtype=np.int8)
    z = np.array([2.0, 0.0, -1.0, -3.0, 0.5])  # P >= 0.5 at z >= 0
    m = sl.classifier_metrics(y, z, 0.95, 11)
    assert m["signal_high_fraction"] == pytest.approx(2 / 3) and m["background_low_fraction"] == 0.5
    assert m["accuracy"] == 3 / 5 and m["n"] == 5


def test_fit_step_reaches_the_optimum_with_enough_epochs(parquet, section, tmp_path):
    params = shared(section, features="low", alpha=1e-5)
    params["torch"] = {**params["torch"], "epochs": 30, "batch_size": 100, "lr": 0.1}
    m = cli.run_step("susy_logistic_fit", params, inputs={"parquet": parquet},
                     outputs={"data": tmp_path / "fit.npz", "metrics": tmp_path / "m.json"})
    conv = m["convergence"]
    assert conv["epochs"] == 30 and conv["steps_per_epoch"] == 50 and len(conv["history"]) == 30
    assert conv["relative_gap"] < 1e-3 and conv["converged"]
    assert m["test"]["auc"] > 0.8 and isinstance(m["c32"]["holds"], bool)
    assert m["coef"]["lepton1_pt"] > 1.0 and abs(m["coef"]["lepton2_pt"]) < 0.2
    d = load_npz(tmp_path / "fit.npz")
    assert d["p_test"].shape == (1000,) and str(d["source"]) == "toy"
    np.testing.assert_allclose(d["p_test"], 1 / (1 + np.exp(-d["logit_test"])), atol=1e-6)
    # one epoch at lr 0.5 is not converged on 5,000 rows, and the metrics say so
    one = cli.run_step("susy_logistic_fit", shared(section, features="low", alpha=1e-5), inputs={"parquet": parquet},
                       outputs={"data": tmp_path / "one.npz"})
    assert one["convergence"]["converged"] is False and one["convergence"]["relative_gap"] > 1e-3


def test_scan_ablation_fig25_and_plots(parquet, section, tmp_path):
    fig23 = {k: v for k, v in section["fig23"].items() if k != "plot"}
    fig23["alphas"] = {"torch": {"low": -6.0, "high": -1.0, "n": 3}, "sgd": {"low": -4.0, "high": 1.0, "n": 3}}
    m = cli.run_step("susy_logistic_scan", shared(section, **fig23), inputs={"parquet": parquet},
                     outputs={"data": tmp_path / "fig23.npz", "metrics": tmp_path / "fig23.json"})
    assert set(m["torch"]) >= {"alphas", "lam_1e-06", "lam_0.1"} and m["n_train"] == 5000
    gap = m["c33"]["max_train_minus_test_auc"]
    assert gap is not None and abs(gap) < 0.05
    d = load_npz(tmp_path / "fig23.npz")
    assert d["torch_rejection"].shape == (3, section["roc_points"]) and d["sgd_test_auc"].shape == (3,)
    assert np.all((d["sgd_test_auc"] > 0.5) & (d["torch_test_auc"] > 0.8))

    ab = cli.run_step("susy_logistic_ablation", shared(section, **section["ablation"]), inputs={"parquet": parquet})
    assert ab["c34"]["most_important"] in ("lepton1_pt", "m_r") and len(ab["auc_loss"]) == 18
    assert ab["auc_loss"]["lepton1_pt"] > 0.05

    for fit in ("low", "all"):
        cli.run_step("susy_logistic_fit", shared(section, **section["fits"][fit]), inputs={"parquet": parquet},
                     outputs={"data": tmp_path / f"{fit}.npz"})
    m25 = cli.run_step("fig25_roc", shared(section, **{k: v for k, v in section["fig25"].items() if k != "plot"}),
                       inputs={"parquet": parquet, "low": tmp_path / "low.npz", "all_features": tmp_path / "all.npz"},
                       outputs={"data": tmp_path / "fig25.npz", "metrics": tmp_path / "fig25.json"})
    # m_r (a high-level feature here) carries information: 18 features beat 8, and both beat the cut
    assert m25["c38"]["holds"] and m25["c37"]["holds"] and set(m25["low"]["rejection"]) == {"eff_0.5", "eff_0.8"}

    for step, data, part in (("fig22_plot", "low.npz", "fig22"), ("fig23_plot", "fig23.npz", "fig23"),
                             ("fig25_plot", "fig25.npz", "fig25")):
        out = {"pdf": tmp_path / f"{part}.pdf", "png": tmp_path / f"{part}.png"}
        cli.run_step(step, section[part], inputs={"data": tmp_path / data}, outputs=out)
        assert out["png"].stat().st_size > 10_000


def test_fig25_refuses_fits_on_other_rows(parquet, section, tmp_path):
    for fit, rows in (("low", 5000), ("all", 4000)):
        cli.run_step("susy_logistic_fit", shared(section, **section["fits"][fit], train_rows=rows,
                                             test_rows=1000 if fit == "low" else 500),
                     inputs={"parquet": parquet}, outputs={"data": tmp_path / f"{fit}.npz"})
    with pytest.raises(MlreviewError, match="other test rows"):
        cli.run_step("fig25_roc", shared(section, **{k: v for k, v in section["fig25"].items() if k != "plot"}),
                     inputs={"parquet": parquet, "low": tmp_path / "low.npz", "all_features": tmp_path / "all.npz"},
                     outputs={"data": tmp_path / "fig25.npz"})


def test_reference_from_a_warm_start_is_the_same_optimum():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((2000, 3))
    y = (rng.random(2000) < 1 / (1 + np.exp(-(X @ [2.0, -1.0, 0.0])))).astype(int)
    cold = lg.reference_optimum(X, y, 1e-3, {"tol": 1e-10, "max_iter": 1000})
    warm = lg.reference_optimum(X, y, 1e-3, {"tol": 1e-10, "max_iter": 1000}, init=(np.array([5.0, 5.0, 5.0]), 3.0))
    np.testing.assert_allclose(warm["coef"], cold["coef"], rtol=1e-5)
    assert abs(warm["objective"] - cold["objective"]) < 1e-10
    near = lg.reference_optimum(X, y, 1e-3, {"tol": 1e-10, "max_iter": 1000}, init=(cold["coef"] * 1.01, cold["intercept"]))
    assert near["n_iter"] < cold["n_iter"]
    newton = lg.reference_optimum(X, y, 1e-3, {"solver": "newton-cholesky", "tol": 1e-10, "max_iter": 100},
                                  init=(cold["coef"] * 1.01, cold["intercept"]))
    assert newton["converged"] and abs(newton["objective"] - cold["objective"]) < 1e-10


def test_a_scan_reuses_its_optima_and_starts_from_the_nearest():
    """convergence() with a scan's optima: an alpha solved before is reused, a new one starts from the
    nearest alpha's optimum when that is the better start, and the optimum is the one of a lone solve."""
    rng = np.random.default_rng(2)
    X = rng.standard_normal((3000, 3)).astype(np.float32)
    y = (rng.random(3000) < 1 / (1 + np.exp(-(X @ [2.0, -1.0, 0.5])))).astype(np.int8)
    sets = {"train": (X, y)}
    params = {"reference_optimum": True, "convergence_tol": 1e-3,
              "reference": {"solver": "newton-cholesky", "tol": 1e-10, "max_iter": 100}}
    far = (np.zeros(3), 0.0)  # the zero model (objective log 2): a fit far from every optimum
    optima: dict = {}
    first = sl.convergence(sets, 1e-4, *far, params, optima)
    again = sl.convergence(sets, 1e-4, *far, params, optima)
    near = sl.convergence(sets, 2e-4, *far, params, optima)
    alone = sl.convergence(sets, 2e-4, *far, params)
    assert first["optimum_start"] == "zero" and again["optimum_start"] == "reused" and again["optimum_n_iter"] == 0
    assert again["objective_optimum"] == first["objective_optimum"]
    assert near["optimum_start"] == "optimum at alpha 0.0001"
    assert near["optimum_n_iter"] < alone["optimum_n_iter"]
    assert near["objective_optimum"] == pytest.approx(alone["objective_optimum"], rel=1e-12)
    assert sorted(optima) == [1e-4, 2e-4]
