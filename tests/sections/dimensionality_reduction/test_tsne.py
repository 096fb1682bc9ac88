"""t-SNE (openTSNE) and the scores of a 2D view (models.tsne)."""

from __future__ import annotations

import numpy as np
import pytest

from mlreview.sections.dimensionality_reduction import tsne as ts


def tsne_params(**over) -> dict:
    p = {"perplexity": 10.0, "iterations": 200, "exaggeration_iterations": 50, "exaggeration": 12.0,
         "learning_rate": "auto", "initialization": "pca", "metric": "euclidean", "gradient": "bh", "seed": 3}
    return {**p, **over}


def blobs(n_per: int = 40, dim: int = 10, seed: int = 0):
    rng = np.random.default_rng(seed)
    centres = 20.0 * rng.standard_normal((3, dim))
    labels = np.repeat(np.arange(3), n_per)
    return centres[labels] + rng.standard_normal((len(labels), dim)), labels


def test_tsne_separates_well_separated_blobs_and_records_its_settings():
    X, labels = blobs()
    Z, record = ts.tsne_embed(X, tsne_params(), threads=1)
    assert Z.shape == (len(X), 2) and np.all(np.isfinite(Z))
    assert ts.knn_accuracy(Z, labels, 5, 3, seed=0) == 1.0
    assert record["iterations"] == 200 and record["exaggeration_iterations"] == 50
    assert record["gradient"] == "bh" and record["n_points"] == len(X) and record["n_input_dims"] == 10
    assert record["kl_divergence"] > 0 and record["seconds"] > 0 and record["threads"] == 1
    # seeded: the same embedding again
    Z2, _ = ts.tsne_embed(X, tsne_params(), threads=1)
    assert np.allclose(Z, Z2)


def test_the_fft_gradient_runs_and_is_recorded():
    X, _ = blobs(20)
    Z, record = ts.tsne_embed(X, tsne_params(gradient="fft", iterations=30, exaggeration_iterations=10))
    assert Z.shape == (60, 2) and np.all(np.isfinite(Z)) and record["gradient"] == "fft"


@pytest.mark.parametrize("gradient", ["bh", "fft"])
def test_verbose_only_prints(gradient, capsys):
    """tsne_embed runs openTSNE with verbose=True (progress in the job's log): the embedding is the
    one of a silent run, bit for bit."""
    from openTSNE import TSNE

    X, _ = blobs(20)
    runs = [TSNE(n_iter=60, early_exaggeration_iter=10, negative_gradient_method=gradient, random_state=3,
                 perplexity=10.0, n_jobs=1, verbose=verbose).fit(X) for verbose in (False, True)]
    assert np.array_equal(np.asarray(runs[0]), np.asarray(runs[1]))
    assert "Iteration" in capsys.readouterr().out


def test_tsne_rejects_more_exaggeration_than_iterations():
    X, _ = blobs(10)
    with pytest.raises(ValueError, match="exaggeration_iterations"):
        ts.tsne_embed(X, tsne_params(iterations=10, exaggeration_iterations=20))


def test_knn_accuracy_and_silhouette_know_separated_and_mixed_labels():
    X, labels = blobs(dim=2)
    assert ts.knn_accuracy(X, labels, 10, 5, seed=1) == 1.0
    assert ts.silhouette(X, labels, None, seed=1) > 0.8
    # labels that say nothing about the positions
    shuffled = np.random.default_rng(2).permutation(labels)
    assert ts.knn_accuracy(X, shuffled, 10, 5, seed=1) < 0.6
    assert abs(ts.silhouette(X, shuffled, None, seed=1)) < 0.1
    # a subsample gives a close value; a "subsample" as large as the data is the full score
    assert ts.silhouette(X, labels, 60, seed=1) == pytest.approx(ts.silhouette(X, labels, None, seed=1), abs=0.05)
    assert ts.silhouette(X, labels, 10**6, seed=1) == ts.silhouette(X, labels, None, seed=1)


def test_score_view_keys():
    X, labels = blobs(dim=2)
    s = ts.score_view(X, labels, {"knn_neighbors": 10, "cv_folds": 5, "seed": 0, "silhouette_sample": None})
    assert set(s) == {"knn_accuracy", "silhouette"} and s["knn_accuracy"] == 1.0
