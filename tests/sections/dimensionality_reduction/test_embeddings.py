"""Figs 53 and 54: views of a Gaussian mixture and of MNIST by PCA and t-SNE (models.embeddings)."""

from __future__ import annotations

import numpy as np
import pytest

from mlreview.steps import registry
from mlreview.cli import run_step
from mlreview.io import load_npz, save_npz
from mlreview.sections.dimensionality_reduction import embeddings as em

STEPS = {
    "gaussian_mixture_views": "mlreview.sections.dimensionality_reduction.embeddings:gaussian_mixture_views",
    "mnist_embed": "mlreview.sections.dimensionality_reduction.embeddings:mnist_embed",
    "fig53_plot": "mlreview.sections.dimensionality_reduction.plots:fig53_plot",
    "fig54_plot": "mlreview.sections.dimensionality_reduction.plots:fig54_plot",
}

TSNE = {"perplexity": 10.0, "iterations": 200, "exaggeration_iterations": 50, "exaggeration": 12.0,
        "learning_rate": "auto", "initialization": "pca", "metric": "euclidean", "gradient": "bh", "seed": 4}
SCORES = {"knn_neighbors": 5, "cv_folds": 3, "seed": 0, "silhouette_sample": None}


def test_steps_are_registered():
    for name, target in STEPS.items():
        assert registry()[name] == target


def test_gaussian_mixture_shapes_range_and_seed():
    X, labels, means = em.gaussian_mixture(4, 6, 25, [-10.0, 10.0], 1.0, seed=5)
    assert X.shape == (100, 6) and means.shape == (4, 6) and np.array_equal(np.bincount(labels), [25] * 4)
    assert means.min() >= -10 and means.max() <= 10
    # the points scatter around their own mean with the requested spread
    assert np.std(X - means[labels]) == pytest.approx(1.0, rel=0.15)
    X2, _, _ = em.gaussian_mixture(4, 6, 25, [-10.0, 10.0], 1.0, seed=5)
    assert np.array_equal(X, X2)


def test_random_projection_is_orthonormal():
    q = em.random_projection(40, seed=1)
    assert q.shape == (40, 2) and np.allclose(q.T @ q, np.eye(2))
    assert not np.allclose(q, em.random_projection(40, seed=2))


def test_mnist_subset():
    assert np.array_equal(em.mnist_subset(10, None, 0), np.arange(10))
    assert np.array_equal(em.mnist_subset(10, 50, 0), np.arange(10))
    rows = em.mnist_subset(100, 20, 3)
    assert len(set(rows)) == 20 and np.all(np.diff(rows) > 0) and np.array_equal(rows, em.mnist_subset(100, 20, 3))


def mixture_params() -> dict:
    return {
        "mixture": {"n_clusters": 5, "dimension": 20, "mean_range": [-10.0, 10.0], "std": 1.0, "per_cluster": 30,
                    "seed": 53},
        "projection_seed": 1, "threads": 1, "tsne": TSNE, "scores": SCORES, "c63_min_tsne_knn": 0.99,
        "plot": {"cmap": "nipy_spectral", "marker_size": 3.0, "alpha": 0.8},
    }


def test_mixture_step_and_plot(tmp_path):
    p = mixture_params()
    m = run_step("gaussian_mixture_views", {k: v for k, v in p.items() if k != "plot"},
                 outputs={"data": tmp_path / "fig53.npz", "metrics": tmp_path / "fig53.json"})
    assert m["n_points"] == 150 and m["dimension"] == 20
    assert set(m["scores"]) == {"coordinates", "random", "pca", "tsne"}
    # five clusters far apart in 20 dimensions: t-SNE separates them all
    assert m["scores"]["tsne"]["knn_accuracy"] == 1.0
    assert 0 < m["evr"]["pc1_pc2"] < 1 and m["evr"]["pc1"] >= m["evr"]["pc2"]
    assert {"holds", "tsne_knn", "pca_knn"} <= set(m["c63"]) and "holds" in m["c64"]
    d = load_npz(tmp_path / "fig53.npz")
    assert all(d[f"view_{v}"].shape == (150, 2) for v in ("coordinates", "random", "pca", "tsne"))
    run_step("fig53_plot", p, inputs={"data": tmp_path / "fig53.npz"},
             outputs={"pdf": tmp_path / "fig53.pdf", "png": tmp_path / "fig53.png"})
    assert (tmp_path / "fig53.png").stat().st_size > 1000


@pytest.fixture(scope="module")
def mnist_file(tmp_path_factory):
    """Three 'digits' on 28 x 28 pixels: a bright band per class plus noise."""
    rng = np.random.default_rng(1)
    n = 150
    y = rng.integers(0, 3, n).astype(np.uint8)
    x = rng.integers(0, 60, (n, 28, 28)).astype(np.uint8)
    for k in range(3):
        x[y == k, 5 + 8 * k: 10 + 8 * k, :] = 250
    path = tmp_path_factory.mktemp("mnist") / "mnist.npz"
    save_npz(path, x_train=x, y_train=y, x_test=x[:10], y_test=y[:10])
    return path


def test_mnist_step_and_plot(mnist_file, tmp_path):
    p = {"n_points": 120, "subset_seed": 0, "pca_dims": 10, "threads": 1, "raw_tsne": True, "tsne": TSNE,
         "scores": SCORES, "plot": {"cmap": "tab10", "marker_size": 2.0, "alpha": 0.5}}
    m = run_step("mnist_embed", {k: v for k, v in p.items() if k != "plot"}, inputs={"npz": mnist_file},
                 outputs={"data": tmp_path / "fig54.npz", "metrics": tmp_path / "fig54.json"})
    assert m["n_points"] == 120 and m["pca_dims"] == 10 and 0 < m["pca_evr_retained"] <= 1
    assert m["tsne"]["n_input_dims"] == 10 and m["tsne_raw"]["n_input_dims"] == 784
    assert m["tsne_seconds"] == m["tsne"]["seconds"] and m["barnes_hut_angle_used"] is True
    assert m["scores"]["tsne"]["knn_accuracy"] == 1.0 and m["scores"]["tsne_raw"]["knn_accuracy"] == 1.0
    assert m["c66"]["knn_gain"] == pytest.approx(m["scores"]["tsne"]["knn_accuracy"] - m["scores"]["pca"]["knn_accuracy"])
    assert set(m["c67"]) == {"silhouette_drop", "knn_drop", "holds"}
    run_step("fig54_plot", p, inputs={"data": tmp_path / "fig54.npz"},
             outputs={"pdf": tmp_path / "fig54.pdf", "png": tmp_path / "fig54.png"})
    assert (tmp_path / "fig54.png").stat().st_size > 1000
    # without the raw-pixel run: no C67 quantities, two panels
    p["raw_tsne"] = False
    m = run_step("mnist_embed", {k: v for k, v in p.items() if k != "plot"}, inputs={"npz": mnist_file},
                 outputs={"data": tmp_path / "b.npz"})
    assert "c67" not in m and "tsne_raw" not in m
    assert "view_tsne_raw" not in load_npz(tmp_path / "b.npz")
