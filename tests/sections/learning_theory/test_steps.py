"""Every compute step of the learning-theory section end to end on tiny inputs: the fits return their
metrics. The plot steps are run on the small config's real outputs by the small DAG
(tests/test_workflow.py), which checks that every figure is written; drawing them again here on tiny
inputs cost 13 s of the test suite for nothing that test does not show."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mlreview.data.susy import FEATURES, LABEL, schema
from mlreview.io import save_npz
from mlreview.ising.chain1d import ising1d_chains
from mlreview.sections.learning_theory.binary_perceptron import teacher_student_binary_fit
from mlreview.sections.learning_theory.classifiers import interpolation_mnist_fit, interpolation_susy_fit
from mlreview.sections.learning_theory.double_descent import double_descent_fit
from mlreview.sections.learning_theory.interpolation import interpolation_peak_fit, interpolation_tail_fit
from mlreview.sections.learning_theory.ising_interpolation import interpolation_ising_fit
from mlreview.sections.learning_theory.perceptron import perceptron_capacity_fit
from mlreview.sections.learning_theory.teacher_student import teacher_student_fit

LOGISTIC = {"C": 1.0e6, "max_iter": 200, "tol": 1.0e-6}


def _fake_mnist(path, rng):
    """Random 'digits' in the layout of the project's MNIST file (a class-dependent blob + noise)."""
    def images(n):
        labels = rng.integers(0, 10, n).astype(np.uint8)
        x = rng.integers(0, 60, (n, 28, 28))
        for c in range(10):
            x[labels == c, 2 * c:2 * c + 8, 4:20] += 150
        return np.clip(x, 0, 255).astype(np.uint8), labels
    x_train, y_train = images(600)
    x_test, y_test = images(300)
    save_npz(path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    return path


def _fake_susy(path, rng, n=3000):
    label = rng.integers(0, 2, n).astype(np.int8)
    columns = {LABEL: pa.array(label)}
    for j, name in enumerate(FEATURES):
        columns[name] = pa.array((rng.standard_normal(n) + 0.3 * label * (j % 3)).astype(np.float32))
    pq.write_table(pa.table(columns, schema=schema({b"source": b"test"})), path)
    return path


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("learning_theory")
    rng = np.random.default_rng(0)
    chains = tmp / "ising1d.npz"
    ising1d_chains({"n_states": 160, "length": 8, "J": 1.0, "seed": 1}, data=chains)
    mnist, susy = _fake_mnist(tmp / "mnist.npz", rng), _fake_susy(tmp / "susy.parquet", rng)
    names = ("synthetic", "tail", "ising", "susy", "mnist", "dd", "cap", "ts", "bin")
    out = {name: tmp / f"fit_{name}.npz" for name in names}
    metrics = {}
    metrics["synthetic"] = interpolation_peak_fit(
        {"p": 10, "sigma": 0.5, "w_norm": 1.0, "n_grid": {"low": 3, "high": 40, "n": 4, "near_p": [2, 5]},
         "replicates": 20, "replicates_near_p": 30, "batch": 16, "ridge_lambdas": [1e-6, 1e-1],
         "cv_lambdas": {"low": -2, "high": 2, "n": 5}, "check": {"relative": 0.05, "n_se": 3, "min_distance": 5},
         "seed": 1}, data=out["synthetic"])
    metrics["tail"] = interpolation_tail_fit({"p": 10, "sigma": 0.5, "replicates": 2000, "batch": 500,
                                              "fit": {"q_low": 1e-2, "q_high": 1e-1}, "seed": 2}, data=out["tail"])
    metrics["ising"] = interpolation_ising_fit({"noise_sigma": 1.0, "n_grid": [10, 25, 29, 33, 80], "replicates": 2,
                                                "n_test": 50, "rank_states": 100, "compare": {"low": 25, "high": 33},
                                                "seed": 3}, chains=chains, data=out["ising"])
    classification = {"replicates": 3, "ridge_lambda": 1e-6, "logistic": LOGISTIC, "separability_check": True,
                      "lp_tol": 1e-7, "seed": 4}
    metrics["susy"] = interpolation_susy_fit({**classification, "n_grid": [10, 19, 30, 60], "pool_rows": 2000,
                                              "test_rows": 500}, susy=susy, data=out["susy"])
    metrics["mnist"] = interpolation_mnist_fit({**classification, "n_grid": [5, 11, 20, 40],
                                                "positive_digits": [0, 2, 4, 6, 8],
                                                "pooling": 2, "pca_components": 10, "whiten": False, "pool_images": 500,
                                                "test_images": 200}, mnist=mnist, data=out["mnist"])
    metrics["dd"] = double_descent_fit({"n_train": 40, "n_test": 100, "features": {"low": 5, "high": 200, "n": 4,
                                                                                   "near_n": [0.9, 1.0, 1.1]},
                                        "ridge_lambdas": [1e-4, 1e-2], "rcond_factor": 1.0, "test_block": 64,
                                        "seed": 5}, mnist=mnist, data=out["dd"])
    metrics["cap"] = perceptron_capacity_fit({"patterns": ["gaussian", "binary"], "sizes": [5, 10],
                                              "alphas": {"low": 0.5, "high": 3.0, "step": 0.5}, "replicates": 10,
                                              "lp_check_replicates": 2, "separable_tol": 1e-9, "lp_tol": 1e-7,
                                              "kappa_alpha_max": 1.5, "seed": 6}, data=out["cap"])
    metrics["ts"] = teacher_student_fit({"N": 20, "alphas": {"low": 0.5, "high": 4.0, "n": 3}, "replicates": 2,
                                         "hebb_replicates": 5, "perceptron_max_epochs": 10000, "logistic_max_iter": 100,
                                         "logistic_tol": 1e-8, "separable_tol": 1e-9, "fit_alpha_min": 1.0,
                                         "theory_points": 10, "seed": 7}, data=out["ts"])
    metrics["bin"] = teacher_student_binary_fit({"sizes": [7, 9], "alpha_max": 2.0, "replicates": 3,
                                                 "theory_points": 10, "seed": 8}, data=out["bin"])
    return tmp, out, metrics


def test_fit_steps_return_their_metrics(outputs):
    _, out, metrics = outputs
    for name, path in out.items():
        assert path.stat().st_size > 0, name
    assert metrics["ising"]["rank"]["value"] == 29  # L(L-1)/2 + 1 for L = 8
    # (a chain and its reversal -s have the same pair features: at L = 8 a training set can fall short of rank 29)
    assert metrics["ising"]["noiseless"]["max_at_full_rank"] < 1e-20
    assert metrics["cap"]["lp_check"]["disagreements"] == 0
    dd = metrics["dd"]["models"]["min_norm"]
    N = np.asarray(metrics["dd"]["N"])
    assert np.all(np.asarray(dd["train_mse"])[N > 40] < 1e-12)  # the min-norm readout interpolates beyond N = n
    assert metrics["bin"]["theory"]["alpha_c"] == pytest.approx(1.245, abs=1e-3)
    assert metrics["synthetic"]["replicates"][list(metrics["synthetic"]["n"]).index(10)] == 30
