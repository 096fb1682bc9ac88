"""Clustering (models.clustering): K-means (Fig 55), single linkage (Fig 56), DBSCAN (Fig 57)."""

from __future__ import annotations

import numpy as np
import pytest
import yaml
from scipy.cluster.hierarchy import linkage
from scipy.sparse.csgraph import minimum_spanning_tree
from scipy.spatial.distance import pdist, squareform
from sklearn.cluster import KMeans

from mlreview.steps import registry
from mlreview.cli import run_step
from mlreview.io import load_npz
from mlreview.sections.clustering import clustering as cl

STEPS = {
    "kmeans_fit": "mlreview.sections.clustering.clustering:kmeans_fit",
    "hierarchical_fit": "mlreview.sections.clustering.clustering:hierarchical_fit",
    "dbscan_fit": "mlreview.sections.clustering.clustering:dbscan_fit",
    "fig55_plot": "mlreview.sections.clustering.plots:fig55_plot",
    "fig56_plot": "mlreview.sections.clustering.plots:fig56_plot",
    "fig57_plot": "mlreview.sections.clustering.plots:fig57_plot",
}


@pytest.fixture(scope="module")
def config(root) -> dict:
    return yaml.safe_load((root / "config" / "config.yaml").read_text())["clustering"]


def test_steps_are_registered():
    for name, target in STEPS.items():
        assert registry()[name] == target


# ----------------------------------------------------------------------------- K-means


def test_blobs_and_sectors():
    X, truth = cl.blobs([[0.0, 0.0], [5.0, 5.0]], 50, 0.1, seed=0)
    assert X.shape == (100, 2) and np.array_equal(np.bincount(truth), [50, 50])
    assert np.allclose(X[truth == 1].mean(axis=0), [5.0, 5.0], atol=0.05)
    # points on a circle: three sectors of 120 degrees get a third each
    angle = np.linspace(0, 2 * np.pi, 300, endpoint=False)
    ring = np.column_stack([np.cos(angle), np.sin(angle)])
    sectors = cl.sector_assignment(ring, 3, seed=1)
    assert np.array_equal(np.bincount(sectors), [100, 100, 100])
    # each sector is one contiguous arc: the label changes 3 times around the circle
    assert np.sum(sectors != np.roll(sectors, 1)) == 3


def test_objective_centroids_and_nearest():
    X = np.array([[0.0, 0.0], [2.0, 0.0], [10.0, 0.0]])
    means = cl.centroids(X, np.array([0, 0, 1]), 2)
    assert np.allclose(means, [[1.0, 0.0], [10.0, 0.0]])
    assert cl.objective(X, means, np.array([0, 0, 1])) == pytest.approx(2.0)
    assert np.array_equal(cl.nearest(X, means), [0, 0, 1])
    # an empty cluster keeps its previous mean; none is allowed at the start
    kept = cl.centroids(X, np.array([0, 0, 0]), 2, previous=means)
    assert np.allclose(kept[1], [10.0, 0.0])
    with pytest.raises(ValueError, match="empty"):
        cl.centroids(X, np.array([0, 0, 0]), 2)


def test_kmeans_matches_scikit_learn_from_the_same_start():
    X, _ = cl.blobs([[0.0, 0.0], [2.0, 0.0], [1.0, 1.7]], 80, 0.6, seed=4)
    start = cl.sector_assignment(X, 3, seed=9)
    run = cl.kmeans(X, start, 3, tol=1e-12, max_iter=300)
    ref = KMeans(n_clusters=3, init=cl.centroids(X, start, 3), n_init=1, algorithm="lloyd", tol=0.0,
                 max_iter=300).fit(X)
    assert np.allclose(run["means"][-1], ref.cluster_centers_)
    assert np.array_equal(run["assignments"][-1], ref.labels_)
    assert run["c"][-1] == pytest.approx(ref.inertia_)
    # every half-step lowers C (or keeps it)
    steps = np.column_stack([run["c_means"], run["c"]]).ravel()
    assert np.all(np.diff(steps) <= 1e-9 * steps[0])


def test_kmeans_step_and_plot(config, tmp_path):
    p = config["fig55"]
    m = run_step("kmeans_fit", {k: v for k, v in p.items() if k != "plot"},
                 outputs={"data": tmp_path / "fig55.npz", "metrics": tmp_path / "fig55.json"})
    assert m["n_points"] == 300 and m["k"] == 3 and len(m["objective"]) == m["iterations"]
    assert m["c68"]["monotone"] and m["c68"]["max_increase"] <= m["c68"]["tolerance"]
    assert m["c69"]["holds"] and m["adjusted_rand_index"] > 0.95
    d = load_npz(tmp_path / "fig55.npz")
    assert d["means"].shape == (m["iterations"], 3, 2) and d["assignments"].shape == (m["iterations"], 300)
    run_step("fig55_plot", p, inputs={"data": tmp_path / "fig55.npz"},
             outputs={"pdf": tmp_path / "fig55.pdf", "png": tmp_path / "fig55.png"})
    assert (tmp_path / "fig55.png").stat().st_size > 1000


# ----------------------------------------------------------------------------- single linkage


def test_merge_groups_on_a_line():
    X = np.array([[0.0, 0.0], [1.0, 0.0], [3.0, 0.0], [7.0, 0.0]])
    Z = linkage(X, method="single")
    assert np.allclose(Z[:, 2], [1.0, 2.0, 4.0])
    assert cl.merge_groups(Z, 4) == [[0, 1], [0, 1, 2], [0, 1, 2, 3]]


def test_single_linkage_heights_are_the_minimum_spanning_tree_edges():
    X = np.random.default_rng(3).uniform(size=(12, 2))
    Z = linkage(X, method="single")
    mst = minimum_spanning_tree(squareform(pdist(X))).toarray()
    assert np.allclose(np.sort(Z[:, 2]), np.sort(mst[mst > 0]))


def test_hierarchical_step_and_plot(config, tmp_path):
    p = config["fig56"]
    m = run_step("hierarchical_fit", {k: v for k, v in p.items() if k != "plot"},
                 outputs={"data": tmp_path / "fig56.npz", "metrics": tmp_path / "fig56.json"})
    n = p["n_points"]
    heights = m["merge_heights"]
    assert len(m["merges"]) == n - 1 and np.all(np.diff(heights) >= 0)
    assert m["merges"][-1]["members"] == list(range(n))
    # the example cut lies between the last two merges and gives cut_clusters clusters
    assert heights[-2] < m["cut_height"] < heights[-1] and len(m["cut_clusters"]) == p["cut_clusters"]
    d = load_npz(tmp_path / "fig56.npz")
    assert d["merge_members"].shape == (n - 1, n) and d["merge_members"][-1].all()
    lo, hi = p["box"]
    assert d["X"].min() >= lo and d["X"].max() <= hi
    run_step("fig56_plot", p, inputs={"data": tmp_path / "fig56.npz"},
             outputs={"pdf": tmp_path / "fig56.pdf", "png": tmp_path / "fig56.png"})
    assert (tmp_path / "fig56.png").stat().st_size > 1000


# ----------------------------------------------------------------------------- DBSCAN


def test_dbscan_finds_two_blobs_and_an_outlier():
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(0, 0.05, (30, 2)), rng.normal(3, 0.05, (30, 2)), [[10.0, 10.0]]])
    labels, core = cl.dbscan_labels(X, eps=0.3, min_samples=5)
    assert len(set(labels) - {-1}) == 2 and labels[-1] == -1 and not core[-1] and core[:60].all()


def test_noisy_moons_are_standardised():
    X, truth = cl.noisy_moons(400, 0.05, 50, 0.5, seed=2)
    assert X.shape == (450, 2) and np.allclose(X.mean(axis=0), 0) and np.allclose(X.std(axis=0), 1)
    assert np.array_equal(np.bincount(truth + 1), [50, 200, 200])


def test_density_grid_is_a_normalised_density():
    X = np.random.default_rng(1).normal(size=(300, 2))
    x, y, dens = cl.density_grid(X, 120, pad=3.0)
    assert dens.shape == (120, 120) and np.all(dens >= 0)
    assert dens.sum() * (x[1] - x[0]) * (y[1] - y[0]) == pytest.approx(1.0, abs=0.02)


def test_dbscan_step_and_plot(config, tmp_path):
    p = {**config["fig57"], "density_grid": 40}
    m = run_step("dbscan_fit", {k: v for k, v in p.items() if k != "plot"},
                 outputs={"data": tmp_path / "fig57.npz", "metrics": tmp_path / "fig57.json"})
    assert m["n_points"] == p["n_moons"] + p["n_outliers"]
    assert m["n_clusters"] == 2 and m["c70"]["holds"]
    assert 0.5 < m["outliers_labelled_noise"] <= 1 and m["moon_points_labelled_noise"] < 0.1
    ill = m["illustration"]
    assert ill["core"] + ill["border"] + ill["noise"] == ill["n_points"] and ill["core"] > 0 and ill["noise"] > 0
    run_step("fig57_plot", p, inputs={"data": tmp_path / "fig57.npz"},
             outputs={"pdf": tmp_path / "fig57.pdf", "png": tmp_path / "fig57.png"})
    assert (tmp_path / "fig57.png").stat().st_size > 1000
