"""Section VIII ensembles: bagging the perceptron (Fig 30), the variance of an ensemble average
(spec 4.4), Iris trees/forests/AdaBoost (Fig 32), random forests on Ising phases (Fig 33) and
XGBoost on SUSY (Fig 34)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import AdaBoostClassifier, RandomForestClassifier
from sklearn.tree import DecisionTreeClassifier

from mlreview import cli
from mlreview.steps import registry
from mlreview.cli import run_step
from mlreview.data import susy as S
from mlreview.data.ising import load_phase_sets
from mlreview.errors import MlreviewError
from mlreview.io import load_npz, save_json
from mlreview.sections.ensembles import bagging as bg
from mlreview.sections.ensembles import iris as ie
from mlreview.sections.ensembles import ising_forest as rf
from mlreview.sections.ensembles import susy_xgboost as xg
from tests.conftest import phase_set_params
from tests.test_susy import write_parquet

#: the steps of this section (each must resolve to a function of the section's modules)
MODULES = ("mlreview.sections.ensembles.bagging", "mlreview.sections.ensembles.iris", "mlreview.sections.ensembles.ising_forest",
           "mlreview.sections.ensembles.susy_xgboost", "mlreview.sections.ensembles.plots")


def test_steps_are_registered():
    steps = [name for name, target in registry().items() if target.partition(":")[0] in MODULES]
    assert len(steps) == 12
    for name in steps:
        assert callable(cli.resolve(name))


def written(pdf, png):
    return pdf.stat().st_size > 1000 and png.stat().st_size > 1000


# ----------------------------------------------------------------------------- Fig 30


def test_random_line_labels_both_sides_and_points_stay_in_the_box():
    rng = np.random.default_rng(0)
    w = bg.random_line(rng, [-1.0, 1.0])
    x, y = bg.draw_points(rng, 2000, [-1.0, 1.0], w)
    assert x.min() >= -1 and x.max() <= 1 and set(np.unique(y)) <= {-1, 1}
    np.testing.assert_array_equal(y, bg.predict(w, x))


def test_line_through_two_points_passes_through_them():
    class Fixed:
        def uniform(self, low, high, size):
            return np.array([[0.0, 0.0], [1.0, 1.0]])

    w = bg.random_line(Fixed(), [-1, 1])
    # the line x2 = x1: points above it and below it get opposite labels
    assert w @ [1, 0, 0] == pytest.approx(0) and w @ [1, 1, 1] == pytest.approx(0)
    assert np.sign(w @ [1, 0, 1]) == -np.sign(w @ [1, 1, 0])


def test_perceptron_separates_separable_data_and_reports_the_cap():
    rng = np.random.default_rng(1)
    w_true = np.array([0.1, 1.0, -2.0])
    x, y = bg.draw_points(rng, 200, [-1, 1], w_true)
    w, updates, ok = bg.perceptron(bg.augment(x), y, rng, 100_000)
    assert ok and updates > 0
    np.testing.assert_array_equal(bg.predict(w, x), y)
    # one point: a single update w = y x classifies it
    w1, k1, ok1 = bg.perceptron(np.array([[1.0, 0.5, -0.5]]), np.array([-1]), rng, 10)
    np.testing.assert_allclose(w1, [-1.0, -0.5, 0.5])
    assert k1 == 1 and ok1
    # not separable (same point, both labels): stops at the cap, not converged
    _, k2, ok2 = bg.perceptron(np.array([[1.0, 0.2, 0.2]] * 2), np.array([1, -1]), rng, 7)
    assert k2 == 7 and not ok2


def test_vote_is_the_majority_of_the_members():
    members = np.array([[0.0, 1.0, 0.0], [0.0, 1.0, 0.0], [0.0, -1.0, 0.0]])  # two say sign(x1), one -sign(x1)
    x = np.array([[0.5, 0.0], [-0.5, 0.0]])
    np.testing.assert_array_equal(bg.vote(members, x), [1, -1])
    scores = bg.score(members, x, np.array([1, -1]), 0.95)
    np.testing.assert_allclose(scores["individual_accuracies"], [1.0, 1.0, 0.0])
    assert scores["vote"]["accuracy"] == 1.0 and scores["averaged"]["accuracy"] == 1.0


def fig30_params(**kw):
    return {"n_points": 200, "n_bootstrap": 9, "bootstrap_size": 20, "box": [-1.0, 1.0], "max_updates": 10000,
            "n_test": 2000, "repetitions": 8, "seed": 3, "confidence": 0.95, "plot": {"x2_range": [-3.0, 4.0]}, **kw}


def test_bagging_fit_and_plot(tmp_path):
    data, metrics = tmp_path / "fig30.npz", tmp_path / "fig30.json"
    m = run_step("bagging_fit", fig30_params(), outputs={"data": data, "metrics": metrics})
    d = load_npz(data)
    assert d["weights"].shape == (9, 3) and d["x"].shape == (200, 2)
    np.testing.assert_allclose(d["w_average"], d["weights"].mean(axis=0))
    assert m["repetitions"]["n"] == 8 and m["perceptron_updates"]["all_converged"]
    assert len(m["displayed"]["test"]["individual_accuracies"]) == 9
    # bagging beats the typical member on fresh points (C40's proxy) even at this size
    assert m["c40"]["fraction_vote_beats_median_test"] >= 0.5
    assert m["c40"]["mean_vote_test_error"] < m["c40"]["mean_individual_test_error"]
    # seeded: the same params give the same numbers
    again = run_step("bagging_fit", fig30_params(), outputs={"data": tmp_path / "b.npz"})
    assert again["c40"] == m["c40"]
    pdf, png = tmp_path / "fig30.pdf", tmp_path / "fig30.png"
    run_step("fig30_plot", fig30_params(), inputs={"data": data}, outputs={"pdf": pdf, "png": png})
    assert written(pdf, png)


def test_bagging_needs_a_repetition(tmp_path):
    with pytest.raises(ValueError, match="repetitions"):
        run_step("bagging_fit", fig30_params(repetitions=0), outputs={"data": tmp_path / "x.npz"})


# ----------------------------------------------------------------------------- spec 4.4


def test_ensemble_variance_formula_and_limits():
    np.testing.assert_allclose(bg.ensemble_variance_formula(0.0, [1, 4], 2.0), [4.0, 1.0])
    np.testing.assert_allclose(bg.ensemble_variance_formula(1.0, [1, 4], 1.0), [1.0, 1.0])
    rng = np.random.default_rng(4)
    # rho = 1: every member is the same draw, averaging does nothing
    np.testing.assert_allclose(bg.ensemble_average_variance(1.0, [1, 7], 20000, 1.0, rng), [1.0, 1.0], rtol=0.05)
    with pytest.raises(ValueError, match="rho"):
        bg.ensemble_average_variance(1.5, [1], 10, 1.0, rng)


@pytest.mark.parametrize("rho", [0.0, 0.3, 0.7])
def test_ensemble_variance_matches_the_formula(rho):
    members = [1, 3, 10, 40]
    measured = bg.ensemble_average_variance(rho, members, 40000, 1.5, np.random.default_rng(5))
    np.testing.assert_allclose(measured, bg.ensemble_variance_formula(rho, members, 1.5), rtol=0.03)


def test_variance_step_and_plot(tmp_path):
    params = {"rhos": [0.0, 0.5], "members": [1, 2, 10], "draws": 20000, "sigma": 1.0, "seed": 1}
    data = tmp_path / "v.npz"
    m = run_step("ensemble_variance", params, outputs={"data": data, "metrics": tmp_path / "v.json"})
    assert len(m["table"]) == 6 and m["c88"]["max_relative_error"] < 0.05
    assert m["c88"]["sampling_relative_sd"] == pytest.approx(np.sqrt(2 / 19999))
    pdf, png = tmp_path / "v.pdf", tmp_path / "v.png"
    run_step("ensemble_variance_plot", params, inputs={"data": data}, outputs={"pdf": pdf, "png": png})
    assert written(pdf, png)


# ----------------------------------------------------------------------------- Fig 32


def fig32_params(**kw):
    return {"feature_pairs": [[2, 3]], "n_estimators": 5, "adaboost_max_depth": 2, "random_state": 0,
            "shuffle_seed": 13, "cv_folds": 3, "cv_seed": 1, "mesh_step": 0.2, "mesh_margin": 0.5,
            "plot": {"cmap": "RdYlBu", "titles": ["Tree", "Forest", "AdaBoost"]}, **kw}


def test_pair_data_is_standardised_and_shuffled():
    X = np.arange(20.0).reshape(10, 2) ** 1.5
    y = np.arange(10)
    Xp, yp = ie.pair_data(X, y, (1, 0), 13)
    np.testing.assert_allclose(Xp.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(Xp.std(axis=0), 1)
    assert sorted(yp) == list(range(10)) and list(yp) != list(range(10))
    # column order follows the pair
    assert np.corrcoef(Xp[:, 0], X[yp, 1])[0, 1] > 0.999


def test_vote_share_sums_to_one_and_its_argmax_is_the_prediction():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(120, 2))
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5).astype(int)
    grid = rng.normal(size=(300, 2)) * 2
    for model in (RandomForestClassifier(n_estimators=7, random_state=0),
                  AdaBoostClassifier(DecisionTreeClassifier(max_depth=2), n_estimators=9, random_state=0),
                  DecisionTreeClassifier(random_state=0)):
        model.fit(X, y)
        share = ie.vote_share(model, grid)
        assert share.shape == (300, 3)
        np.testing.assert_allclose(share.sum(axis=1), 1.0)
        if not isinstance(model, RandomForestClassifier):  # the forest predicts from mean probabilities
            np.testing.assert_array_equal(model.classes_[np.argmax(share, axis=1)], model.predict(grid))


def test_iris_fit_and_plot(tmp_path):
    data = tmp_path / "fig32.npz"
    m = run_step("iris_ensembles_fit", fig32_params(), outputs={"data": data, "metrics": tmp_path / "fig32.json"})
    entry = m["petal_length__petal_width"]
    for model in ("tree", "forest", "adaboost"):
        assert 0.85 < entry[model]["cv_accuracy"] <= 1.0 and len(entry[model]["cv_scores"]) == 3
        assert entry[model]["train_accuracy"] >= entry[model]["cv_accuracy"] - 0.05
    assert m["table"][0]["features"] == "petal length / petal width"
    d = load_npz(data)
    assert d["pair0_forest_share"].shape == (len(d["pair0_gy"]), len(d["pair0_gx"]), 3)
    pdf, png = tmp_path / "fig32.pdf", tmp_path / "fig32.png"
    run_step("fig32_plot", fig32_params(), inputs={"data": data}, outputs={"pdf": pdf, "png": png})
    assert written(pdf, png)


# ----------------------------------------------------------------------------- Fig 33


def forest_data(n=400, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 6)).astype(np.float32)
    y = (X[:, 0] + 0.5 * X[:, 1] + 0.3 * rng.normal(size=n) > 0).astype(int)
    return X, y


def test_forest_scores_match_scikit_learn():
    """Accumulated tree by tree, the predictions equal RandomForestClassifier.predict and the OOB
    accuracy equals oob_score_ of a fresh forest of the same size (no row is never out of bag)."""
    X, y = forest_data()
    X_test, y_test = forest_data(150, seed=1)
    sets = {"train": (X, y), "test": (X_test, y_test)}
    options = {"max_features": "sqrt", "random_state": 3}
    grown = rf.make_forest(options, 2, 1)
    scores = None
    for size in (5, 20, 40):
        have = len(getattr(grown, "estimators_", []))
        grown.set_params(n_estimators=size)
        grown.fit(X, y)
        scores = scores or rf.ForestScores(sets, grown.classes_)
        scores.add(grown.estimators_[have:], grown.estimators_samples_[have:])
    fresh = RandomForestClassifier(n_estimators=40, oob_score=True, **options).fit(X, y)
    np.testing.assert_array_equal(scores.predict("test"), fresh.predict(X_test))
    np.testing.assert_array_equal(scores.predict("train"), fresh.predict(X))
    oob_pred, seen = scores.oob()
    assert seen.all()
    assert np.mean(oob_pred == y) == pytest.approx(fresh.oob_score_)


def test_forest_options_and_sizes_are_checked():
    with pytest.raises(ValueError, match="n_jobs"):
        rf.make_forest({"n_jobs": 4}, 2, 1)
    with pytest.raises(ValueError, match="increasing"):
        rf.forest_sizes([10, 10, 20])
    assert rf.forest_sizes([1, 5]) == [1, 5]


def test_linear_fit_r2():
    x = np.arange(1, 11)
    assert rf.linear_fit_r2(x, 3 * x + 1) == pytest.approx(1.0)
    assert rf.linear_fit_r2(x, x**3) < 0.95
    assert rf.linear_fit_r2(x, np.ones(10)) == 1.0


def fig33_params():
    return phase_set_params() | {
        "train_fraction": 0.8, "split_seed": 7, "n_estimators": [2, 4, 6], "min_samples_split": {"fine": 2, "coarse": 60},
        "forest": {"bootstrap": True, "max_depth": None, "max_features": "sqrt", "criterion": "gini",
                   "random_state": 0},
        "threads": 1, "plot": {"sets": ["train", "test", "critical", "oob"], "ylim": [0.0, 1.05]}}


def test_ising_forest_fit_compare_and_plot(ising_file, tmp_path):
    params = fig33_params()
    data, metrics = tmp_path / "fig33.npz", tmp_path / "fig33.json"
    m = run_step("ising_forest_fit", params, inputs={"dataset": ising_file}, outputs={"data": data, "metrics": metrics})
    sets = load_phase_sets(ising_file, params)  # the split shared with Fig 21
    assert m["n_train"] == len(sets["train"][1]) and m["n_critical"] == len(sets["critical"][1])
    for kind in ("fine", "coarse"):
        times = [m[kind][f"n{s}"]["fit_seconds"] for s in (2, 4, 6)]
        assert times == sorted(times)  # cumulative
        assert m[kind]["n6"]["oob"]["n"] + m[kind]["n6"]["oob"]["rows_never_out_of_bag"] == m["n_train"]
    # coarse trees (min_samples_split 60 on ~100 rows) are shallower than fine ones
    assert m["coarse"]["n6"]["mean_depth"] < m["fine"]["n6"]["mean_depth"]
    assert m["c43"]["n_estimators"] == 6 and len(m["table"]) == 3
    assert m["c44"]["size_ratio"] == 3.0
    d = load_npz(data)
    assert d["fine_test_ci"].shape == (3, 2)
    pdf, png = tmp_path / "fig33.pdf", tmp_path / "fig33.png"
    run_step("fig33_plot", params, inputs={"data": data}, outputs={"pdf": pdf, "png": png})
    assert written(pdf, png)
    # C46 against a Fig 21 metrics file
    logistic = tmp_path / "fig21.json"
    save_json(logistic, {"metrics": {"n_train": 10, "liblinear": {
        "lam_0.1": {"test": {"accuracy": 0.6}}, "lam_1": {"test": {"accuracy": 0.7}}, "convergence_warnings": 0}}})
    c = run_step("ising_forest_vs_logistic", {}, inputs={"forest": metrics, "logistic": logistic})
    low = min(m[k][f"n{s}"]["test"]["accuracy"] for k in ("fine", "coarse") for s in (2, 4, 6))
    assert c["logistic_best_lambda_key"] == "lam_1" and c["forest_min_test_accuracy"] == low
    assert c["c46"]["forest_minus_logistic_test"] == pytest.approx(low - 0.7)


def test_claim_quantities_of_fig33():
    def entry(acc, crit, t):
        return {"train": {"accuracy": acc}, "test": {"accuracy": acc}, "oob": {"accuracy": acc},
                "critical": {"accuracy": crit, "ci_low": crit - 0.01, "ci_high": crit + 0.01}, "fit_seconds": t}

    results = {"fine": {"n10": entry(1.0, 0.80, 1.0), "n20": entry(1.0, 0.85, 2.0)},
               "coarse": {"n10": entry(0.99, 0.68, 0.5), "n20": entry(0.995, 0.70, 1.1)}}
    q = rf.claim_quantities(results, [10, 20], 2 / 3)
    assert q["c41"]["min_train_test_accuracy"] == 0.99
    assert q["c42"]["coarse_max_distance_from_trivial"] == pytest.approx(0.70 - 2 / 3)
    assert q["c42"]["fine_minus_coarse_critical"] == pytest.approx(0.15)
    assert q["c44"]["fine_critical_gain"] == pytest.approx(0.05) and q["c44"]["fine_time_ratio"] == 2.0
    assert q["c45"]["r2_fine"] == pytest.approx(1.0) and q["largest"]["fine"]["critical"] == 0.85


# ----------------------------------------------------------------------------- Fig 34


def test_ranks_and_grid_settings():
    assert xg.ranks({"a": 1.0, "b": 3.0, "c": 3.0}) == {"a": 3, "b": 1, "c": 2}
    grid = xg.grid_settings({"x": [1, 2], "y": [0.5]})
    assert grid == [{"x": 1, "y": 0.5}, {"x": 2, "y": 0.5}]


def fig34_params(**kw):
    return {"n_events": 2000, "test_fraction": 0.2, "split_seed": 0, "confidence": 0.95, "roc_points": 101,
            "booster": {"objective": "binary:logistic", "max_depth": 2, "learning_rate": 0.3, "random_state": 1,
                        "tree_method": "hist"},
            "n_estimators": {"all": 20, "low": 10, "high": 10}, "threads": 1,
            "tuning": {"cv_folds": 2, "n_estimators": 5, "grid": {"max_depth": [2, 3], "learning_rate": [0.3]},
                       "feature_sets": ["all"], "threads": 1}, **kw}


@pytest.fixture(scope="module")
def susy_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("susy") / "susy.parquet"
    write_parquet(path, 3000, seed=3, separated=True)
    return path


def test_xgboost_fit_tune_and_plot(susy_file, tmp_path):
    params = fig34_params()
    data, tuning = tmp_path / "fig34.npz", tmp_path / "tune.npz"
    m = run_step("susy_xgboost_fit", params, inputs={"parquet": susy_file},
                 outputs={"data": data, "metrics": tmp_path / "fig34.json"})
    assert m["source"] == "toy" and m["n_train"] == 1600 and m["n_test"] == 400
    # the lepton pT columns separate the classes (write_parquet's `separated`): the low-level model
    # finds them, and they top its importances; the high-level set holds only noise
    assert m["low"]["auc"] > 0.99 and m["high"]["auc"] < 0.7
    assert set(m["c49"]["top2_by_weight"]) <= set(S.FEATURES)
    assert {m["low"]["rank"]["gain"]["lepton1_pt"], m["low"]["rank"]["gain"]["lepton2_pt"]} == {1, 2}
    assert len(m["all"]["importance"]["weight"]) == 18 and len(m["high"]["importance"]["gain"]) == 10
    assert m["c47"]["all_features_test_accuracy"] == m["all"]["test"]["accuracy"]
    # C48 quotes the logistic-regression accuracy of the Figs 23/25 fit (its metrics file) for comparison
    save_json(tmp_path / "lr.json", {"metrics": {"test": {"accuracy": 0.79}, "n_train": 1600,
                                                 "features": list(S.FEATURES)}})
    t = run_step("susy_xgboost_tune", params, inputs={"parquet": susy_file, "logistic": tmp_path / "lr.json"},
                 outputs={"data": tuning, "metrics": tmp_path / "tune.json"})
    assert t["c48"]["logistic_regression"] == {"test_accuracy": 0.79, "n_train": 1600, "n_features": 18}
    assert t["grid_size"] == 2 and len(t["all"]["grid"]) == 2
    assert t["c48"]["best_params"]["max_depth"] in (2, 3)
    assert load_npz(tuning)["all_cv_accuracy"].shape == (1, 2)  # sorted keys: learning_rate, max_depth
    pdf, png = tmp_path / "fig34.pdf", tmp_path / "fig34.png"
    run_step("fig34_plot", params, inputs={"data": data, "tuning": tuning}, outputs={"pdf": pdf, "png": png})
    assert written(pdf, png)


def test_xgboost_needs_enough_events_and_rejects_reserved_options(susy_file, tmp_path):
    with pytest.raises(MlreviewError, match="n_events"):
        xg.load_split(susy_file, fig34_params(n_events=5000))
    with pytest.raises(ValueError, match="n_jobs"):
        xg.booster({"n_jobs": 2}, 10, 1)
