"""Section XIII: K-means (Fig 55), single-linkage clustering (Fig 56) and DBSCAN (Fig 57).

K-means is Lloyd's two-step iteration written out (the figure shows its centres and objective
at every iteration, which scikit-learn does not expose); the tests check it against
scikit-learn's ``KMeans`` started from the same centres. Hierarchical clustering is scipy's
``linkage`` and DBSCAN scikit-learn's.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.stats import gaussian_kde
from sklearn.cluster import DBSCAN
from sklearn.datasets import make_moons
from sklearn.metrics import adjusted_rand_score

from mlreview.io import save_npz, to_jsonable
from mlreview.steps import step

# ---------------------------------------------------------------------------------------------
# K-means (Fig 55)
# ---------------------------------------------------------------------------------------------


def blobs(centres, per_blob: int, std: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(X, labels): ``per_blob`` isotropic Gaussian points of standard deviation ``std`` per centre."""
    centres = np.asarray(centres, float)
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(len(centres)), per_blob)
    return centres[labels] + std * rng.standard_normal((len(labels), centres.shape[1])), labels


def sector_assignment(X: np.ndarray, k: int, seed: int) -> np.ndarray:
    """The review's start: the plane cut into ``k`` equal angular sectors around the data
    centroid, rotated by a random angle; each point is assigned to its sector."""
    angle0 = np.random.default_rng(seed).uniform(0.0, 2.0 * np.pi)
    d = X - X.mean(axis=0)
    angle = np.mod(np.arctan2(d[:, 1], d[:, 0]) - angle0, 2.0 * np.pi)
    return np.minimum((angle / (2.0 * np.pi / k)).astype(int), k - 1)


def objective(X: np.ndarray, means: np.ndarray, assignment: np.ndarray) -> float:
    """C = sum_n sum_k r_nk ||x_n - mu_k||^2."""
    return float(np.sum((X - means[assignment]) ** 2))


def centroids(X: np.ndarray, assignment: np.ndarray, k: int, previous: np.ndarray | None = None) -> np.ndarray:
    """Mean of the points of every cluster (an empty cluster keeps its previous mean)."""
    means = np.empty((k, X.shape[1])) if previous is None else previous.copy()
    for j in range(k):
        members = assignment == j
        if members.any():
            means[j] = X[members].mean(axis=0)
        elif previous is None:
            raise ValueError(f"cluster {j} of the initial assignment is empty")
    return means


def nearest(X: np.ndarray, means: np.ndarray) -> np.ndarray:
    """Index of the nearest mean of every point."""
    return np.argmin(((X[:, None, :] - means[None, :, :]) ** 2).sum(axis=2), axis=1)


def kmeans(X: np.ndarray, assignment: np.ndarray, k: int, tol: float, max_iter: int) -> dict:
    """Lloyd's iteration from an initial ``assignment``.

    Iteration t: move every mean to the centroid of its points (objective ``c_means[t]``), then
    reassign every point to its nearest mean (objective ``c[t]``). Stops when C changes by less
    than ``tol`` or after ``max_iter`` iterations. Returns the means and objective after every
    iteration (row t - 1 = iteration t), the assignment of every iteration and the count.
    """
    means_hist, c_hist, c_means_hist, assign_hist = [], [], [], []
    means = None
    for _ in range(int(max_iter)):
        means = centroids(X, assignment, k, means)
        c_means_hist.append(objective(X, means, assignment))
        assignment = nearest(X, means)
        c = objective(X, means, assignment)
        means_hist.append(means.copy())
        c_hist.append(c)
        assign_hist.append(assignment.copy())
        if len(c_hist) > 1 and abs(c_hist[-2] - c) < tol:
            break
    return {"means": np.array(means_hist), "c": np.array(c_hist), "c_means": np.array(c_means_hist),
            "assignments": np.array(assign_hist), "iterations": len(c_hist)}


@step
def kmeans_fit(params: Mapping, *, data: Path) -> dict:
    """Workflow step (Fig 55): K-means on three Gaussian blobs from a random sector start."""
    X, truth = blobs(params["centres"], int(params["per_blob"]), float(params["std"]), int(params["seed"]))
    k = int(params["k"])
    start = sector_assignment(X, k, int(params["init_seed"]))
    run = kmeans(X, start, k, float(params["tol"]), int(params["max_iter"]))
    # every half-step (means update, reassignment) in order: C never increases (C68)
    steps = np.column_stack([run["c_means"], run["c"]]).ravel()
    increase = float(np.max(np.diff(steps))) if len(steps) > 1 else 0.0
    tolerance = float(params["c68_relative_tolerance"]) * float(steps[0])
    ari = float(adjusted_rand_score(truth, run["assignments"][-1]))
    save_npz(data, X=X, truth=truth, start=start, **{k_: v for k_, v in run.items() if k_ != "iterations"})
    c69 = params["c69"]
    return to_jsonable({
        "n_points": int(len(X)),
        "k": k,
        "iterations": run["iterations"],
        "objective": run["c"],
        "objective_after_means_update": run["c_means"],
        "final_objective": float(run["c"][-1]),
        "adjusted_rand_index": ari,
        "c68": {"max_increase": increase, "tolerance": tolerance, "monotone": bool(increase <= tolerance)},
        "c69": {"adjusted_rand_index": ari, "iterations": run["iterations"],
                "holds": bool(ari >= float(c69["min_ari"]) and run["iterations"] <= int(c69["max_iterations"]))},
    })


# ---------------------------------------------------------------------------------------------
# Single-linkage hierarchical clustering (Fig 56)
# ---------------------------------------------------------------------------------------------


def merge_groups(Z: np.ndarray, n: int) -> list[list[int]]:
    """The original points in the group formed at every merge of a scipy linkage matrix."""
    groups = [[i] for i in range(n)]
    for a, b, *_ in Z:
        groups.append(sorted(groups[int(a)] + groups[int(b)]))
    return groups[n:]


@step
def hierarchical_fit(params: Mapping, *, data: Path) -> dict:
    """Workflow step (Fig 56): scipy single (or other) linkage of a few uniform points."""
    low, high = (float(x) for x in params["box"])
    X = np.random.default_rng(int(params["seed"])).uniform(low, high, size=(int(params["n_points"]), 2))
    Z = linkage(X, method=params["method"], metric=params["metric"])
    n_clusters = int(params["cut_clusters"])
    heights = Z[:, 2]
    # the example cut: halfway between the merges that leave n_clusters and n_clusters - 1 groups
    cut = float(0.5 * (heights[-n_clusters] + heights[-n_clusters + 1])) if n_clusters > 1 else float(heights[-1])
    cut_labels = fcluster(Z, t=cut, criterion="distance")
    groups = merge_groups(Z, len(X))
    member_mask = np.zeros((len(groups), len(X)), bool)
    for i, g in enumerate(groups):
        member_mask[i, g] = True
    save_npz(data, X=X, linkage=Z, cut=cut, cut_labels=cut_labels, merge_members=member_mask)
    return to_jsonable({
        "n_points": int(len(X)),
        "method": params["method"],
        "merges": [{"step": i + 1, "members": g, "height": float(h)} for i, (g, h) in enumerate(zip(groups, heights))],
        "merge_heights": heights,
        "cut_height": cut,
        "cut_clusters": [sorted(np.flatnonzero(cut_labels == c).tolist()) for c in np.unique(cut_labels)],
    })


# ---------------------------------------------------------------------------------------------
# DBSCAN (Fig 57)
# ---------------------------------------------------------------------------------------------


def noisy_moons(n_moons: int, noise: float, n_outliers: int, margin: float,
                seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(X standardised, truth): two half-moons (truth 0, 1) plus uniform outliers (truth -1) over
    their bounding box enlarged by ``margin`` on every side."""
    rng = np.random.default_rng(seed)
    moons, truth = make_moons(n_samples=n_moons, noise=noise, random_state=int(rng.integers(2**31)))
    low, high = moons.min(axis=0) - margin, moons.max(axis=0) + margin
    outliers = rng.uniform(low, high, size=(n_outliers, 2))
    X = np.vstack([moons, outliers])
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    return X, np.concatenate([truth, np.full(n_outliers, -1)])


def dbscan_labels(X: np.ndarray, eps: float, min_samples: int) -> tuple[np.ndarray, np.ndarray]:
    """(cluster labels with -1 for noise, core-point mask) of scikit-learn's DBSCAN."""
    model = DBSCAN(eps=eps, min_samples=min_samples).fit(X)
    core = np.zeros(len(X), bool)
    core[model.core_sample_indices_] = True
    return model.labels_, core


def density_grid(X: np.ndarray, n: int, pad: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x, y, density): a Gaussian kernel density estimate of ``X`` on an n x n grid."""
    low, high = X.min(axis=0) - pad, X.max(axis=0) + pad
    x, y = np.linspace(low[0], high[0], n), np.linspace(low[1], high[1], n)
    gx, gy = np.meshgrid(x, y)
    density = gaussian_kde(X.T)(np.vstack([gx.ravel(), gy.ravel()])).reshape(n, n)
    return x, y, density


@step
def dbscan_fit(params: Mapping, *, data: Path) -> dict:
    """Workflow step (Fig 57): DBSCAN on noisy moons (panel b) and the small illustration (panel a)."""
    X, truth = noisy_moons(int(params["n_moons"]), float(params["noise"]), int(params["n_outliers"]),
                           float(params["margin"]), int(params["seed"]))
    labels, core = dbscan_labels(X, float(params["eps"]), int(params["min_samples"]))
    gx, gy, density = density_grid(X, int(params["density_grid"]), float(params["density_pad"]))
    ill = params["illustration"]
    Xa = np.random.default_rng(int(ill["seed"])).uniform(0.0, 1.0, size=(int(ill["n_points"]), 2))
    labels_a, core_a = dbscan_labels(Xa, float(ill["eps"]), int(ill["min_samples"]))
    save_npz(data, X=X, truth=truth, labels=labels, core=core, grid_x=gx, grid_y=gy, density=density,
             illustration_X=Xa, illustration_labels=labels_a, illustration_core=core_a,
             illustration_eps=float(ill["eps"]))
    moon = truth >= 0
    clusters = sorted(set(labels.tolist()) - {-1})
    ari = float(adjusted_rand_score(truth[moon], labels[moon]))
    outlier_noise = float(np.mean(labels[~moon] == -1))
    c70 = params["c70"]
    return to_jsonable({
        "n_points": int(len(X)),
        "n_clusters": len(clusters),
        "cluster_sizes": [int(np.sum(labels == c)) for c in clusters],
        "adjusted_rand_index_moons": ari,
        "outliers_labelled_noise": outlier_noise,
        "moon_points_labelled_noise": float(np.mean(labels[moon] == -1)),
        "core_points": int(core.sum()),
        "illustration": {"n_points": int(len(Xa)), "core": int(core_a.sum()),
                         "border": int(np.sum(~core_a & (labels_a >= 0))), "noise": int(np.sum(labels_a == -1))},
        "c70": {"holds": bool(len(clusters) == int(c70["n_clusters"]) and ari >= float(c70["min_ari"])
                              and outlier_noise >= float(c70["min_outlier_noise_fraction"]))},
    })
