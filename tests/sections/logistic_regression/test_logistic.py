"""Logistic regression: the shared toolbox (models.logistic), Fig 21 (Ising phases) and Fig 27 (MNIST)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression, SGDClassifier

from mlreview.steps import registry
from mlreview import logistic as lg
from mlreview.cli import run_step
from mlreview.data.fetch import DataFormatError
from mlreview.data.ising import load_phase_sets
from mlreview.data.splits import split_indices
from mlreview.digits import load_classifier
from mlreview.io import load_npz, save_npz
from mlreview.sections.logistic_regression import ising as il
from tests.conftest import TINY_L as L
from tests.conftest import TINY_PER_T as PER_T
from tests.conftest import TINY_TEMPS as TEMPS
from tests.conftest import phase_set_params

STEPS = {
    "ising_logistic_fit": "mlreview.sections.logistic_regression.ising:ising_logistic_fit",
    "fig21_plot": "mlreview.sections.logistic_regression.plots:fig21_plot",
    "mnist_softmax_fit": "mlreview.sections.logistic_regression.mnist:mnist_softmax_fit",
    "fig27_plot": "mlreview.sections.logistic_regression.plots:fig27_plot",
}


def test_steps_are_registered():
    for name, target in STEPS.items():
        assert registry()[name] == target

# ----------------------------------------------------------------------------- tiny inputs



@pytest.fixture(scope="module")
def mnist_file(tmp_path_factory):
    """Three 'digits' on 5 x 5 pixels: a bright row per class plus noise; the border pixel is always 0."""
    rng = np.random.default_rng(1)

    def draw(n):
        y = rng.integers(0, 3, n).astype(np.uint8)
        x = rng.integers(0, 60, (n, 5, 5)).astype(np.uint8)
        x[np.arange(n), y + 1, :] = 250
        x[:, 0, 0] = 0
        return x, y

    (xtr, ytr), (xte, yte) = draw(150), draw(60)
    path = tmp_path_factory.mktemp("mnist") / "mnist.npz"
    save_npz(path, x_train=xtr, y_train=ytr, x_test=xte, y_test=yte)
    return path


def ising_params() -> dict:
    return {
        **phase_set_params(),
        "train_fraction": 0.5,
        "split_seed": 5,
        "lambdas": {"low": -2, "high": 2, "n": 3},
        "liblinear": {"solver": "liblinear", "l1_ratio": 0.0, "max_iter": 100, "tol": 1e-4, "random_state": 1},
        "sgd": {"penalty": "l2", "max_iter": 20, "tol": 1e-3, "learning_rate": "optimal", "shuffle": True,
                "random_state": 1},
        "plot": {"ylim": [0.0, 1.0]},
    }


def mnist_params() -> dict:
    return {
        "lambda": 1e-2,
        "standardize": True,
        "dtype": "float64",
        "confidence": 0.95,
        "options": {"solver": "lbfgs", "l1_ratio": 0.0, "tol": 1e-4, "max_iter": 200, "random_state": 0},
        "plot": {"columns": 2, "cmap": "Greys", "title": "weights"},
    }


def all_keys(d, prefix=""):
    for k, v in d.items():
        yield f"{prefix}{k}"
        if isinstance(v, dict):
            yield from all_keys(v, f"{prefix}{k}/")


# ----------------------------------------------------------------------------- the toolbox


def test_c_is_one_over_lambda_and_alpha_is_lambda():
    opts = {"solver": "liblinear", "l1_ratio": 0.0}
    model = lg.logistic_model(1e-3, opts)
    assert isinstance(model, LogisticRegression) and model.C == pytest.approx(1e3) and model.solver == "liblinear"
    sgd = lg.sgd_model(1e-3, {"penalty": "l2"})
    assert isinstance(sgd, SGDClassifier) and sgd.alpha == 1e-3 and sgd.loss == "log_loss"
    # a stronger lambda shrinks the weights (same convention for both)
    rng = np.random.default_rng(2)
    X = rng.normal(size=(200, 3))
    y = (X[:, 0] > 0).astype(int)
    weak, strong = lg.fit_logistic(X, y, 1e-3, opts), lg.fit_logistic(X, y, 1e2, opts)
    assert np.abs(strong.coef_).sum() < np.abs(weak.coef_).sum()


@pytest.mark.parametrize("bad", [0.0, -1.0, float("inf"), float("nan")])
def test_lambda_must_be_positive(bad):
    with pytest.raises(ValueError, match="lambda"):
        lg.logistic_model(bad, {})


def test_reserved_options_are_refused():
    with pytest.raises(ValueError, match="C"):
        lg.logistic_model(1.0, {"C": 3.0})
    with pytest.raises(ValueError, match="alpha"):
        lg.sgd_model(1.0, {"alpha": 3.0})


def test_split_is_seeded_disjoint_and_complete():
    tr, te = split_indices(101, 0.8, seed=3)
    assert len(tr) == 81 and len(te) == 20
    assert np.array_equal(np.sort(np.concatenate([tr, te])), np.arange(101))
    tr2, te2 = split_indices(101, 0.8, seed=3)
    assert np.array_equal(tr, tr2) and np.array_equal(te, te2)
    assert not np.array_equal(split_indices(101, 0.8, seed=4)[0], tr)
    with pytest.raises(ValueError):
        split_indices(10, 1.0, seed=0)
    with pytest.raises(ValueError):
        split_indices(1, 0.5, seed=0)


def test_evaluate_gives_wilson_intervals():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(300, 2))
    y = (X[:, 0] + 0.3 * rng.normal(size=300) > 0).astype(int)
    model = lg.fit_logistic(X, y, 1.0, {"solver": "lbfgs"})
    scores = lg.evaluate(model, {"a": (X[:100], y[:100]), "b": (X[100:], y[100:])})
    assert set(scores) == {"a", "b"}
    for name, n in (("a", 100), ("b", 200)):
        s = scores[name]
        assert s["n"] == n and s["confidence"] == 0.95
        assert 0.0 <= s["ci_low"] < s["accuracy"] < s["ci_high"] <= 1.0
        assert s["accuracy"] == pytest.approx(np.mean(model.predict(X[:100] if name == "a" else X[100:])
                                                      == (y[:100] if name == "a" else y[100:])))
    # the same scores from predictions made once (Fig 21 also counts the states called ordered)
    sets = {"a": (X[:100], y[:100]), "b": (X[100:], y[100:])}
    predicted = lg.predict_sets(model, sets)
    assert lg.evaluate(model, sets, predictions=predicted) == scores


def test_convergence_warnings_are_counted():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(200, 5))
    y = (X @ np.arange(5) > 0).astype(int)
    with lg.convergence_warnings() as caught:
        lg.fit_sgd(X, y, 1e-4, {"max_iter": 1, "tol": 1e-12, "random_state": 0})
    assert len(caught) == 1
    with lg.convergence_warnings() as caught:
        lg.fit_logistic(X, y, 1e-4, {"solver": "lbfgs", "max_iter": 1})
    assert len(caught) == 1
    with lg.convergence_warnings() as caught:
        lg.fit_logistic(X, y, 1.0, {"solver": "lbfgs", "max_iter": 1000})
    assert caught == []


# ----------------------------------------------------------------------------- Fig 21


def test_claim_quantities():
    lambdas = np.array([0.01, 0.1, 1.0])
    acc = {
        "liblinear": {"train": np.array([0.9, 0.8, 0.5]), "test": np.array([0.85, 0.8, 0.5]),
                      "critical": np.array([0.8, 0.7, 0.45])},
        "sgd": {"train": np.array([0.8, 0.9, 0.5]), "test": np.array([0.7, 0.9, 0.4]),
                "critical": np.array([0.6, 0.75, 0.4]), "critical_predicted_ordered": np.array([0.5, 1.0, 0.0])},
    }
    q = il.claim_quantities(lambdas, ["lam_0.01", "lam_0.1", "lam_1"], acc)
    assert q["c28"]["max_abs_train_test_gap"] == pytest.approx(0.05) and q["c28"]["lambda_at_max"] == 0.01
    assert q["c29"]["n_liblinear_test_better"] == 2 and q["c29"]["liblinear_test_better_most"]
    assert q["c29"]["n_sgd_critical_better"] == 1 and q["c29"]["holds"]
    assert q["c29"]["n_sgd_critical_better_one_class"] == 1
    assert q["c30"]["sgd_best_lambda"] == 0.1 and q["c30"]["sgd_best_test_accuracy"] == 0.9
    assert q["c31"]["mean_test_minus_critical"] == pytest.approx(np.mean([0.05, 0.1, 0.05]))
    assert q["c31"]["per_lambda"]["lam_0.1"] == pytest.approx(0.1)


def test_ising_sets_use_the_shared_split_and_keep_critical_apart(ising_file):
    sets = load_phase_sets(ising_file, ising_params())
    n_fit = PER_T * sum(T < 2.0 or T > 2.5 for T in TEMPS)
    tr, te = split_indices(n_fit, 0.5, seed=5)
    assert len(sets["train"][1]) == len(tr) and len(sets["test"][1]) == len(te)
    assert len(sets["critical"][1]) == 3 * PER_T
    assert sets["train"][0].dtype == np.float32 and set(np.unique(sets["train"][0])) == {-1.0, 1.0}
    assert np.array_equal(sets["critical"][1], np.repeat([1, 1, 0], PER_T))


def test_ising_fit_and_plot(ising_file, tmp_path, caplog):
    params = ising_params()
    with caplog.at_level("INFO"):
        m = run_step("ising_logistic_fit", params, inputs={"dataset": ising_file},
                     outputs={"data": tmp_path / "fig21.npz", "metrics": tmp_path / "fig21.json"})
    # progress in the log: one line per solver and lambda, with the time left
    progress = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Fig 21 fits")]
    assert len(progress) == 2 * 3 and "left" in progress[0] and progress[-1].endswith("done)")
    assert not any(k.split("/")[-1].isdigit() for k in all_keys(m))
    assert m["n_train"] + m["n_test"] == 4 * PER_T and m["n_critical"] == 3 * PER_T and m["n_features"] == L * L
    for solver in ("liblinear", "sgd"):
        for key in ("lam_0.01", "lam_1", "lam_100"):
            for s in ("train", "test", "critical"):
                r = m[solver][key][s]
                assert r["ci_low"] <= r["accuracy"] <= r["ci_high"] + 1e-12 and r["n"] == m[f"n_{s}"]
                assert 0.0 <= m[solver][key]["predicted_ordered_fraction"][s] <= 1.0
    # the toy phases are easy: weak regularisation separates them on the test set
    assert m["liblinear"]["lam_0.01"]["test"]["accuracy"] > 0.8
    assert set(m) >= {"c28", "c29", "c30", "c31"}
    d = load_npz(tmp_path / "fig21.npz")
    assert d["liblinear_test_ci"].shape == (3, 2) and np.allclose(d["lambdas"], [0.01, 1, 100])
    run_step("fig21_plot", params, inputs={"data": tmp_path / "fig21.npz"},
             outputs={"pdf": tmp_path / "fig21.pdf", "png": tmp_path / "fig21.png"})
    assert (tmp_path / "fig21.pdf").stat().st_size > 0 and (tmp_path / "fig21.png").stat().st_size > 0


# ----------------------------------------------------------------------------- Fig 27


def test_mnist_fit_and_plot(mnist_file, tmp_path):
    params = mnist_params()
    m = run_step("mnist_softmax_fit", params, inputs={"npz": mnist_file},
                 outputs={"data": tmp_path / "fig27.npz", "metrics": tmp_path / "fig27.json"})
    assert m["n_train"] == 150 and m["n_test"] == 60 and m["n_features"] == 25 and m["n_classes"] == 3
    assert m["test"]["ci_low"] < m["test"]["accuracy"] <= m["test"]["ci_high"] + 1e-12 and m["test"]["n"] == 60
    assert m["test"]["accuracy"] > 0.9 and m["converged"] and m["convergence_warnings"] == 0
    # the always-zero pixel gets no gradient from the data: its 3 weights stay exactly 0
    assert m["fraction_zero_weights"] == pytest.approx(3 / 75)
    d = load_npz(tmp_path / "fig27.npz")
    assert d["weights"].shape == (3, 5, 5) and np.all(d["weights"][:, 0, 0] == 0.0)
    assert list(d["classes"]) == [0, 1, 2]
    run_step("fig27_plot", params, inputs={"data": tmp_path / "fig27.npz"},
             outputs={"pdf": tmp_path / "fig27.pdf", "png": tmp_path / "fig27.png"})
    assert (tmp_path / "fig27.png").stat().st_size > 0


def test_digit_classifier_file_reproduces_the_fit(mnist_file, tmp_path):
    """The Fig 27 file doubles as the fixed digit classifier of Figs 64 and 76: reading it back
    gives the fitted model's probabilities; with ``binarize`` it is trained and applied on 0/1 pixels."""
    from mlreview.data.mnist import load_mnist

    x_test = load_mnist(mnist_file, scale=True)["x_test"]
    y_test = load_mnist(mnist_file)["y_test"]
    for threshold in (None, 0.5):
        params = {**mnist_params(), "binarize": threshold}
        out = tmp_path / f"clf_{threshold}.npz"
        m = run_step("mnist_softmax_fit", params, inputs={"npz": mnist_file},
                     outputs={"data": out, "metrics": tmp_path / f"clf_{threshold}.json"})
        clf = load_classifier(out)
        assert clf.binarize == threshold and m["binarize"] == threshold
        p = clf.predict_proba(x_test)
        assert p.shape == (60, 3) and np.allclose(p.sum(axis=1), 1.0)
        # the file's classifier reproduces the metrics' test accuracy exactly
        assert np.mean(clf.predict(x_test) == y_test) == pytest.approx(m["test"]["accuracy"])
    # binarising is part of the classifier: grey images give the same answer as their 0/1 version
    assert np.allclose(clf.predict_proba(x_test), clf.predict_proba((x_test > 0.5).astype(float)))


def test_load_classifier_says_what_is_missing(tmp_path):
    save_npz(tmp_path / "old.npz", weights=np.zeros((3, 5, 5)))
    with pytest.raises(DataFormatError, match="mnist_softmax_fit"):
        load_classifier(tmp_path / "old.npz")
