"""Figs 53 and 54: 2D views of labelled high-dimensional data by PCA and by t-SNE.

Fig 53 (spec): K Gaussian clusters of identity covariance in D dimensions, means uniform in a
box; four views - the first two coordinates, a random orthonormal projection (QR of a D x 2
Gaussian matrix), the first two principal components and t-SNE.

Fig 54 (spec, decision q): the MNIST training images (pixels / 255); PCA to 2 dimensions, and
PCA to ``pca_dims`` dimensions followed by t-SNE; optionally t-SNE on the raw pixels (C67).

Every view is scored by :func:`mlreview.sections.dimensionality_reduction.tsne.score_view` (kNN accuracy, silhouette).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from mlreview.data.mnist import load_mnist, scale_images
from mlreview.io import save_npz, to_jsonable
from mlreview.sections.dimensionality_reduction.pca import pca_fit
from mlreview.sections.dimensionality_reduction.tsne import score_view, tsne_embed
from mlreview.steps import step

#: Fig 53 views, in panel order
MIXTURE_VIEWS = ("coordinates", "random", "pca", "tsne")


def gaussian_mixture(n_clusters: int, dimension: int, per_cluster: int, mean_range, std: float,
                     seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(X, labels, means): ``per_cluster`` points around each of ``n_clusters`` means drawn
    uniformly in ``mean_range``^dimension, isotropic Gaussian noise of standard deviation ``std``."""
    rng = np.random.default_rng(seed)
    low, high = (float(x) for x in mean_range)
    means = rng.uniform(low, high, size=(n_clusters, dimension))
    labels = np.repeat(np.arange(n_clusters), per_cluster)
    X = means[labels] + std * rng.standard_normal((len(labels), dimension))
    return X, labels, means


def random_projection(dimension: int, seed: int, n_components: int = 2) -> np.ndarray:
    """A dimension x n_components matrix with orthonormal columns (QR of a Gaussian matrix)."""
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((dimension, n_components)))
    return q


@step
def gaussian_mixture_views(params: Mapping, *, data: Path, threads: int = 1) -> dict:
    """Workflow step (Fig 53): the four views of the Gaussian mixture and their scores."""
    mix = params["mixture"]
    X, labels, _ = gaussian_mixture(int(mix["n_clusters"]), int(mix["dimension"]), int(mix["per_cluster"]),
                                    mix["mean_range"], float(mix["std"]), int(mix["seed"]))
    pca = pca_fit(X, 2)
    views = {
        "coordinates": X[:, :2],
        "random": X @ random_projection(X.shape[1], int(params["projection_seed"])),
        "pca": pca.transform(X),
    }
    views["tsne"], record = tsne_embed(X, params["tsne"], threads)
    scores = {name: score_view(Z, labels, params["scores"]) for name, Z in views.items()}
    evr = pca.explained_variance_ratio_
    save_npz(data, labels=labels, evr=evr, **{f"view_{name}": Z for name, Z in views.items()})
    knn = {name: s["knn_accuracy"] for name, s in scores.items()}
    naive = max(knn["coordinates"], knn["random"])
    metrics = {
        "n_points": int(len(X)),
        "n_clusters": int(mix["n_clusters"]),
        "dimension": int(X.shape[1]),
        "evr": {"pc1": float(evr[0]), "pc2": float(evr[1]), "pc1_pc2": float(evr.sum())},
        "scores": scores,
        "tsne": record,
        "c63": {"tsne_knn": knn["tsne"], "pca_knn": knn["pca"],
                "holds": bool(knn["tsne"] >= float(params["c63_min_tsne_knn"]) and knn["tsne"] > knn["pca"])},
        "c64": {"best_naive_knn": naive, "holds": bool(min(knn["pca"], knn["tsne"]) > naive)},
    }
    return to_jsonable(metrics)


def mnist_subset(n_total: int, n_points: int | None, seed: int) -> np.ndarray:
    """Sorted indices of ``n_points`` images drawn at random (all of them when ``None``)."""
    if n_points is None or int(n_points) >= n_total:
        return np.arange(n_total)
    return np.sort(np.random.default_rng(seed).choice(n_total, size=int(n_points), replace=False))


@step
def mnist_embed(params: Mapping, *, npz: Path, data: Path, threads: int = 1) -> dict:
    """Workflow step (Fig 54): PCA-2, PCA-``pca_dims`` + t-SNE (and raw-pixel t-SNE) of MNIST."""
    mnist = load_mnist(npz)
    images, labels = mnist["x_train"], mnist["y_train"].astype(np.int64)
    rows = mnist_subset(len(images), params["n_points"], int(params["subset_seed"]))
    X = scale_images(images[rows]).reshape(len(rows), -1).astype(np.float64)
    labels = labels[rows]
    pca = pca_fit(X, int(params["pca_dims"]))
    reduced = pca.transform(X)
    views = {"pca": reduced[:, :2]}
    records = {}
    views["tsne"], records["tsne"] = tsne_embed(reduced, params["tsne"], threads)
    if params["raw_tsne"]:
        views["tsne_raw"], records["tsne_raw"] = tsne_embed(X, params["tsne"], threads)
    scores = {name: score_view(Z, labels, params["scores"]) for name, Z in views.items()}
    save_npz(data, labels=labels, rows=rows, evr=pca.explained_variance_ratio_[:2],
             **{f"view_{name}": Z for name, Z in views.items()})
    metrics = {
        "n_points": int(len(X)),
        "pca_dims": int(params["pca_dims"]),
        "raw_tsne_run": bool(params["raw_tsne"]),
        "pca_evr_retained": float(pca.explained_variance_ratio_.sum()),
        "evr": {"pc1": float(pca.explained_variance_ratio_[0]), "pc2": float(pca.explained_variance_ratio_[1])},
        "scores": scores,
        **records,
        "tsne_seconds": records["tsne"]["seconds"],
        # the caption's Barnes-Hut angle 0.5 applies to the Barnes-Hut gradient only (spec Fig 54)
        "barnes_hut_angle_used": params["tsne"]["gradient"] == "bh",
        "c66": {"knn_gain": scores["tsne"]["knn_accuracy"] - scores["pca"]["knn_accuracy"],
                "silhouette_gain": scores["tsne"]["silhouette"] - scores["pca"]["silhouette"]},
    }
    if params["raw_tsne"]:
        raw, pre = scores["tsne_raw"], scores["tsne"]
        metrics["c67"] = {"silhouette_drop": pre["silhouette"] - raw["silhouette"],
                          "knn_drop": pre["knn_accuracy"] - raw["knn_accuracy"],
                          "holds": bool(raw["silhouette"] < pre["silhouette"] or raw["knn_accuracy"] < pre["knn_accuracy"])}
    return to_jsonable(metrics)
