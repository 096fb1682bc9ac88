"""t-SNE (openTSNE) and how well a 2D view keeps known classes apart (Figs 53, 54).

t-SNE runs in openTSNE [spec 0.4] with the gradient method of the config (``fft``: the
FFT-accelerated interpolation of Linderman et al., as FIt-SNE [decision q]); ``iterations`` is
the total count, the first ``exaggeration_iterations`` of which use the early exaggeration.

A 2D view is scored by the 10-nearest-neighbour accuracy of the true labels (stratified k-fold
cross-validation, shuffled with a seed) and by the silhouette score of the true labels
(on a seeded subsample of ``silhouette_sample`` points when given: the full score is O(N^2))
[proposed, spec Figs 53, 54].
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping

import numpy as np
from sklearn.metrics import silhouette_score

from mlreview.stats import knn_accuracy

log = logging.getLogger(__name__)


def tsne_embed(X: np.ndarray, params: Mapping, threads: int = 1) -> tuple[np.ndarray, dict]:
    """(N x 2 embedding, record) of openTSNE with the settings of ``params``.

    ``params``: perplexity, iterations (total), exaggeration_iterations, exaggeration,
    learning_rate ("auto" or a number), initialization ("pca" | "random" | "spectral"),
    metric, gradient ("fft" | "bh"), seed. The record holds the settings actually used,
    the final KL divergence and the wall time.
    """
    from openTSNE import TSNE

    total = int(params["iterations"])
    early = int(params["exaggeration_iterations"])
    if not 0 <= early <= total:
        raise ValueError(f"exaggeration_iterations ({early}) must lie in [0, iterations = {total}]")
    model = TSNE(
        n_components=2,
        perplexity=float(params["perplexity"]),
        learning_rate=params["learning_rate"],
        early_exaggeration_iter=early,
        early_exaggeration=float(params["exaggeration"]),
        n_iter=total - early,
        initialization=params["initialization"],
        metric=params["metric"],
        negative_gradient_method=params["gradient"],
        n_jobs=int(threads),
        random_state=int(params["seed"]),
        # progress in the job's log: the neighbour search, then the KL divergence and the time of every
        # 50 iterations (verbose only prints; the embedding is the same)
        verbose=True,
    )
    log.info("t-SNE of %d points in %d dimensions: %d iterations with exaggeration, then %d; openTSNE "
             "reports every 50 below", len(X), X.shape[1], early, total - early)
    start = time.perf_counter()
    embedding = model.fit(np.ascontiguousarray(X, dtype=np.float64))
    seconds = time.perf_counter() - start
    record = {
        "n_points": int(len(X)),
        "n_input_dims": int(X.shape[1]),
        "perplexity": float(params["perplexity"]),
        "iterations": total,
        "exaggeration_iterations": early,
        "exaggeration": float(params["exaggeration"]),
        "gradient": str(params["gradient"]),
        "initialization": str(params["initialization"]),
        "kl_divergence": float(embedding.kl_divergence),
        "threads": int(threads),
        "seconds": seconds,
    }
    return np.asarray(embedding, dtype=np.float64), record


def silhouette(Z: np.ndarray, labels: np.ndarray, sample: int | None, seed: int) -> float:
    """Silhouette score of ``labels`` (on ``sample`` random points when given and smaller than N)."""
    size = None if sample is None or int(sample) >= len(Z) else int(sample)
    return float(silhouette_score(Z, labels, sample_size=size, random_state=int(seed)))


def score_view(Z: np.ndarray, labels: np.ndarray, params: Mapping) -> dict:
    """{knn_accuracy, silhouette} of one 2D view; ``params``: knn_neighbors, cv_folds, seed,
    silhouette_sample."""
    return {
        "knn_accuracy": knn_accuracy(Z, labels, params["knn_neighbors"], params["cv_folds"], params["seed"]),
        "silhouette": silhouette(Z, labels, params["silhouette_sample"], params["seed"]),
    }
