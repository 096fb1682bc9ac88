"""Interpolation in classification: ridge-as-classifier against logistic regression (figure
``interpolation_peak``, panels d-f).

Binary labels y = +-1; p features plus a constant column. Ridge as a classifier regresses the +-1
labels, w = (X^T X + lambda I)^{-1} X^T y (closed form from the SVD of X, the constant column penalised
like the others), and predicts sign(x.w). With a tiny lambda it is essentially the minimum-norm
least-squares fit, so it inherits the interpolation peak: near n = p + 1 (the number of columns) the
fit interpolates noisy labels with a huge |w| and the test accuracy dips. Logistic regression with a
large C (weak penalty) has no such resonance - its loss does not ask the fit to hit the labels - but
on linearly separable training sets the unpenalised likelihood has no maximum: |w| grows until the
penalty 1/(2C) |w|^2 or the optimiser's tolerance stops it. The separability of every training set is
checked by the LP of :mod:`.perceptron` (with the constant column, i.e. with a bias), where affordable.

Data: SUSY (the 18 features standardised with the mean and standard deviation of the training pool)
and MNIST (a binary task on the raw pixels in [0, 1], optionally averaged over pooling x pooling
blocks). Training sets are drawn without replacement from a pool; a draw with a single class is drawn
again (logistic regression needs both).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from mlreview.errors import MlreviewError
from mlreview.io import save_npz
from mlreview.logistic import logistic_lbfgs
from mlreview.stats import mean_and_se
from mlreview.steps import step

from .perceptron import lp_separable

#: draws of a training set allowed before giving up on getting both classes
MAX_REDRAWS = 1000


def with_constant(X: np.ndarray) -> np.ndarray:
    return np.hstack([X, np.ones((len(X), 1), dtype=X.dtype)])


def ridge_classifier(X: np.ndarray, y: np.ndarray, lam: float) -> np.ndarray:
    """Ridge regression of the +-1 labels (X already holds the constant column), via the SVD."""
    U, s, Vt = np.linalg.svd(X, full_matrices=False)
    return Vt.T @ (s / (s**2 + lam) * (U.T @ y))


def draw_training_set(rng: np.random.Generator, y_pool: np.ndarray, n: int) -> np.ndarray:
    for _ in range(MAX_REDRAWS):
        idx = rng.choice(len(y_pool), size=n, replace=False)
        if len(np.unique(y_pool[idx])) == 2:
            return idx
    raise MlreviewError(f"no training set of {n} examples with both classes in {MAX_REDRAWS} draws")


def classification_curve(rng: np.random.Generator, X_pool: np.ndarray, y_pool: np.ndarray, X_test: np.ndarray,
                         y_test: np.ndarray, params: Mapping) -> tuple[dict, dict]:
    """Test accuracy, |w| and training-set separability of both classifiers against n.

    params: ``n_grid`` (training sizes), ``replicates``, ``ridge_lambda``, ``logistic`` {C, max_iter, tol},
    ``separability_check`` (solve the LP for every training set).
    """
    grid = np.asarray(sorted(int(n) for n in params["n_grid"]))
    R = int(params["replicates"])
    lam = float(params["ridge_lambda"])
    lr = params["logistic"]
    check_sep = bool(params["separability_check"])
    shape = (len(grid), R)
    acc = {"ridge": np.zeros(shape), "logistic": np.zeros(shape)}
    norm = {"ridge": np.zeros(shape), "logistic": np.zeros(shape)}
    separable = np.full(shape, -1, np.int8)  # -1: not checked
    lr_iter, lr_capped = np.zeros(shape, int), np.zeros(shape, bool)
    lr_train = np.zeros(shape)
    Xc_test = with_constant(X_test)
    for i, n in enumerate(grid):
        for r in range(R):
            idx = draw_training_set(rng, y_pool, int(n))
            X, y = X_pool[idx], y_pool[idx]
            Xc = with_constant(X)
            w = ridge_classifier(Xc, y, lam)
            acc["ridge"][i, r] = np.mean(np.sign(Xc_test @ w) == y_test)
            norm["ridge"][i, r] = np.linalg.norm(w)
            fit = logistic_lbfgs(X, y, float(lr["C"]), int(lr["max_iter"]), float(lr["tol"]))
            acc["logistic"][i, r] = np.mean(np.sign(X_test @ fit["w"] + fit["b"]) == y_test)
            norm["logistic"][i, r] = np.linalg.norm(fit["w"])
            lr_train[i, r] = np.mean(np.sign(X @ fit["w"] + fit["b"]) == y)
            lr_iter[i, r], lr_capped[i, r] = fit["iterations"], fit["capped"]
            if check_sep:
                separable[i, r] = lp_separable(y[:, None] * Xc, float(params["lp_tol"]))
    arrays = {"n": grid, "acc_ridge": acc["ridge"], "acc_logistic": acc["logistic"], "norm_ridge": norm["ridge"],
              "norm_logistic": norm["logistic"], "separable": separable, "logistic_train_accuracy": lr_train}
    summary: dict = {"n": grid, "replicates": R}
    for name in ("ridge", "logistic"):
        stats_ = [mean_and_se(acc[name][i]) for i in range(len(grid))]
        summary[name] = {"accuracy": np.array([m for m, _ in stats_]), "accuracy_se": np.array([s for _, s in stats_]),
                         "median_norm": np.median(norm[name], axis=1)}
    summary["logistic"].update({"max_iterations": int(lr_iter.max()), "runs_at_max_iter": int(lr_capped.sum()),
                                "train_accuracy": lr_train.mean(axis=1)})
    summary["fraction_separable"] = (separable == 1).mean(axis=1) if check_sep else None
    return arrays, summary


def dip_summary(summary: Mapping, p_columns: int) -> dict:
    """Where ridge's mean accuracy is lowest (excluding the smallest n), and how deep the dip is against
    the best accuracy at larger n; the same for logistic regression at ridge's dip."""
    n = np.asarray(summary["n"])
    ridge = np.asarray(summary["ridge"]["accuracy"])
    logistic = np.asarray(summary["logistic"]["accuracy"])
    window = (n >= p_columns / 2) & (n <= 2 * p_columns)
    i = int(np.flatnonzero(window)[np.argmin(ridge[window])])
    before = np.flatnonzero(n < n[i])
    after = np.flatnonzero(n > n[i])
    return {
        "columns": p_columns,
        "ridge_dip_n": int(n[i]),
        "ridge_dip_accuracy": float(ridge[i]),
        "ridge_dip_over_columns": float(n[i] / p_columns),
        "ridge_drop": float(max(ridge[before].max() if before.size else ridge[i], ridge[after].max()
                                if after.size else ridge[i]) - ridge[i]),
        "logistic_accuracy_at_dip": float(logistic[i]),
        "logistic_minus_ridge_at_dip": float(logistic[i] - ridge[i]),
    }


@step
def interpolation_susy_fit(params: Mapping, *, susy: Path, data: Path) -> dict:
    """Workflow step (panel d, SUSY): the two classifiers on the 18 SUSY features against n.

    params: as :func:`classification_curve`, plus ``pool_rows`` (training sets are drawn from the
    first rows), ``test_rows`` (the last rows), ``lp_tol``, ``seed``.
    """
    # pandas and pyarrow, imported by this step alone
    from mlreview.data.susy import FEATURES, LABEL, count_rows, load_susy, parquet_source

    total = count_rows(susy)
    pool_rows, test_rows = int(params["pool_rows"]), int(params["test_rows"])
    if pool_rows + test_rows > total:
        raise MlreviewError(f"learning_theory interpolation_susy: pool_rows + test_rows = {pool_rows + test_rows} "
                            f"but {susy} has {total} events; lower them")
    columns = [LABEL, *FEATURES]
    pool = load_susy(susy, columns=columns, rows=pool_rows)
    test = load_susy(susy, columns=columns, rows=(total - test_rows, total))
    X_pool = pool[list(FEATURES)].to_numpy(np.float64)
    mean, std = X_pool.mean(axis=0), X_pool.std(axis=0)
    X_pool = (X_pool - mean) / std
    X_test = (test[list(FEATURES)].to_numpy(np.float64) - mean) / std
    y_pool = np.where(pool[LABEL].to_numpy() > 0, 1.0, -1.0)
    y_test = np.where(test[LABEL].to_numpy() > 0, 1.0, -1.0)
    rng = np.random.default_rng(int(params["seed"]))
    arrays, summary = classification_curve(rng, X_pool, y_pool, X_test, y_test, params)
    p_columns = X_pool.shape[1] + 1
    save_npz(data, columns=p_columns, **arrays)
    return {"source": parquet_source(susy), "features": X_pool.shape[1], "columns": p_columns,
            "pool_rows": pool_rows, "test_rows": test_rows, **summary, "dip": dip_summary(summary, p_columns)}


def pooled_pixels(images: np.ndarray, pooling: int) -> np.ndarray:
    """Images (n, side, side) averaged over pooling x pooling blocks, flattened (n, (side/pooling)^2)."""
    n, side, _ = images.shape
    if side % pooling:
        raise MlreviewError(f"learning_theory interpolation_mnist.pooling = {pooling} does not divide the image "
                            f"side {side}; use a divisor of {side}")
    k = side // pooling
    return images.reshape(n, k, pooling, k, pooling).mean(axis=(2, 4)).reshape(n, k * k)


def principal_components(X_pool: np.ndarray, X_test: np.ndarray, k: int, whiten: bool) -> tuple[np.ndarray, np.ndarray]:
    """Both sets projected on the top ``k`` principal axes of the pool (the eigenvectors of its covariance,
    centred with the pool's mean); ``whiten`` scales each component to unit variance over the pool."""
    mean = X_pool.mean(axis=0)
    centred = X_pool - mean
    cov = centred.T @ centred / (len(X_pool) - 1)
    values, vectors = np.linalg.eigh(cov)
    top = np.argsort(values)[::-1][:k]
    axes = vectors[:, top]
    scale = np.sqrt(values[top]) if whiten else np.ones(k)
    return centred @ axes / scale, (X_test - mean) @ axes / scale


@step
def interpolation_mnist_fit(params: Mapping, *, mnist: Path, data: Path) -> dict:
    """Workflow step (panel d, MNIST): the two classifiers on a binary MNIST task against n.

    params: as :func:`classification_curve`, plus ``positive_digits`` (label +1; the other digits -1),
    ``pooling`` (block size of the pixel averaging; 1 = raw pixels), ``pca_components`` (0: the pixels
    themselves; k: their top k principal components over the pool), ``whiten``, ``pool_images`` (training
    sets are drawn from the first training images), ``test_images`` (the first test images), ``lp_tol``,
    ``seed``.
    """
    from mlreview.data.mnist import load_mnist, scale_images

    arrays_in = load_mnist(mnist)
    pooling = int(params["pooling"])
    n_pool, n_test = int(params["pool_images"]), int(params["test_images"])
    x_train, x_test = scale_images(arrays_in["x_train"][:n_pool]), scale_images(arrays_in["x_test"][:n_test])
    X_pool = pooled_pixels(x_train.reshape(len(x_train), 28, 28), pooling).astype(np.float64)
    X_test = pooled_pixels(x_test.reshape(len(x_test), 28, 28), pooling).astype(np.float64)
    k = int(params["pca_components"])
    if k:
        X_pool, X_test = principal_components(X_pool, X_test, k, bool(params["whiten"]))
    positive = np.asarray(params["positive_digits"], int)
    y_pool = np.where(np.isin(arrays_in["y_train"][:n_pool], positive), 1.0, -1.0)
    y_test = np.where(np.isin(arrays_in["y_test"][:n_test], positive), 1.0, -1.0)
    rng = np.random.default_rng(int(params["seed"]))
    arrays, summary = classification_curve(rng, X_pool, y_pool, X_test, y_test, params)
    rank_pool = int(np.linalg.matrix_rank(with_constant(X_pool)))
    p_columns = X_pool.shape[1] + 1
    task = "even vs odd" if sorted(positive.tolist()) == [0, 2, 4, 6, 8] else f"{positive.tolist()} vs rest"
    save_npz(data, columns=p_columns, rank=rank_pool, task=task, **arrays)
    return {"features": X_pool.shape[1], "columns": p_columns, "rank_of_pool": rank_pool, "pooling": pooling,
            "pool_images": n_pool, "test_images": n_test, **summary, "dip": dip_summary(summary, rank_pool)}
