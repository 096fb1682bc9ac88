"""Double descent in the number of random features (figure ``double_descent``).

n MNIST training images x (pixels in [0, 1], d = 784) are mapped to N random ReLU features
phi(x) = ReLU(W x) / sqrt(N), W with independent N(0, 1/d) entries, and a linear readout is fitted to
the one-hot labels (10 outputs) by minimum-norm least squares, or by ridge with penalty lambda on
|w|^2 (the 1/sqrt(N) makes the kernel K = Phi Phi^T of order one for every N, so one lambda means the
same regularisation at every N; the minimum-norm fit does not depend on that scale).

Below N = n the fit is an ordinary over-determined least-squares problem; at N = n the feature matrix
is square and the readout must interpolate the labels with an ill-conditioned system: test error and
|w| peak (the interpolation threshold). Beyond it the minimum-norm interpolant gets smoother as N
grows (|w| falls) and the test error descends a second time, towards the random-features kernel limit.
Ridge removes the peak.

Computation: the features of all N are the first N of one draw of N_max (nested models). For each N
the readout is a = K^+ Y (or (K + lambda I)^{-1} Y) with K = Phi_N Phi_N^T from its eigendecomposition
(float64; eigenvalues below ``eps n max(eig)`` dropped, the pseudo-inverse of lstsq), the weights are
w = Phi_N^T a with |w|^2 = tr(a^T K a), and the test predictions Phi_test w are accumulated in blocks of
test images, so no test feature matrix of all N_max features is ever stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from mlreview.data.mnist import load_mnist, scale_images
from mlreview.errors import MlreviewError
from mlreview.io import save_npz
from mlreview.steps import step

CLASSES = 10


def feature_grid(spec: Mapping, n_train: int) -> np.ndarray:
    """N: ``n`` log-spaced from ``low`` to ``high``, the multiples ``near_n`` of n_train, and n_train / 2."""
    logs = np.geomspace(float(spec["low"]), float(spec["high"]), int(spec["n"]))
    near = np.asarray(spec["near_n"], float) * n_train
    grid = np.unique(np.rint(np.concatenate([logs, near, [n_train / 2]])).astype(int))
    return grid[grid >= 1]


def relu_features(X: np.ndarray, W: np.ndarray) -> np.ndarray:
    """ReLU(X W^T) (unnormalised), float32 like its inputs."""
    return np.maximum(X @ W.T, 0.0)


def readouts(K: np.ndarray, Y: np.ndarray, lambdas, rcond_factor: float) -> dict[str, np.ndarray]:
    """The dual coefficients a (n x outputs) of the min-norm fit ('min_norm') and of ridge at each lambda."""
    e, Q = np.linalg.eigh(K)
    QY = Q.T @ Y
    cut = rcond_factor * np.finfo(float).eps * len(K) * e.max()
    inv = np.where(e > cut, 1.0 / np.where(e > cut, e, 1.0), 0.0)
    out = {"min_norm": Q @ (inv[:, None] * QY)}
    for lam in lambdas:
        out[f"ridge_{lam:g}"] = Q @ (QY / (np.maximum(e, 0.0) + lam)[:, None])
    return out


@step
def double_descent_fit(params: Mapping, *, mnist: Path, data: Path) -> dict:
    """Workflow step: train/test MSE, 0-1 error and |w| of the random-features readouts against N/n.

    params: ``n_train``, ``n_test`` (the first test images; 10000 = the full test set), ``features``
    {low, high, n, near_n}, ``ridge_lambdas``, ``rcond_factor`` (pseudo-inverse cut in units of
    eps n max eig), ``test_block`` (test images per block), ``seed``.
    """
    arrays = load_mnist(mnist)
    n, n_test = int(params["n_train"]), int(params["n_test"])
    if n > len(arrays["x_train"]) or n_test > len(arrays["x_test"]):
        raise MlreviewError(f"learning_theory double_descent: n_train = {n} / n_test = {n_test} exceed the MNIST file")
    rng = np.random.default_rng(int(params["seed"]))
    pick = rng.choice(len(arrays["x_train"]), size=n, replace=False)
    X = scale_images(arrays["x_train"][pick]).reshape(n, -1)
    labels = arrays["y_train"][pick].astype(int)
    X_test = scale_images(arrays["x_test"][:n_test]).reshape(n_test, -1)
    labels_test = arrays["y_test"][:n_test].astype(int)
    Y = np.eye(CLASSES)[labels]
    Y_test = np.eye(CLASSES)[labels_test]
    d = X.shape[1]
    grid = feature_grid(params["features"], n)
    N_max = int(grid.max())
    W = (rng.standard_normal((N_max, d)) / np.sqrt(d)).astype(np.float32)
    Phi = relu_features(X, W).astype(np.float64)  # (n, N_max), unnormalised
    lambdas = [float(v) for v in params["ridge_lambdas"]]
    models = ["min_norm"] + [f"ridge_{lam:g}" for lam in lambdas]
    shape = (len(models), len(grid))
    train_mse, train_err, norm = np.zeros(shape), np.zeros(shape), np.zeros(shape)
    weights = []  # per N: (models, N, 10) readout weights on the unnormalised features
    S = np.zeros((n, n))
    start = 0
    for j, N in enumerate(grid):
        S += Phi[:, start:N] @ Phi[:, start:N].T
        start = int(N)
        K = S / N
        coef = readouts(K, Y, lambdas, float(params["rcond_factor"]))
        w_models = []
        for m, name in enumerate(models):
            a = coef[name]
            fitted = K @ a
            train_mse[m, j] = np.mean(np.sum((fitted - Y) ** 2, axis=1))
            train_err[m, j] = np.mean(np.argmax(fitted, axis=1) != labels)
            norm[m, j] = np.sqrt(max(float(np.sum(a * fitted)), 0.0))
            w_models.append((Phi[:, :N].T @ a) / N)  # so that Phi_raw_test[:, :N] @ w = prediction
        weights.append(np.stack(w_models))
    test_sq = np.zeros(shape)
    test_wrong = np.zeros(shape)
    block = int(params["test_block"])
    for b0 in range(0, n_test, block):
        F = relu_features(X_test[b0:b0 + block], W).astype(np.float64)
        Yb, lb = Y_test[b0:b0 + block], labels_test[b0:b0 + block]
        for j, N in enumerate(grid):
            pred = np.matmul(F[:, :N], weights[j])  # (models, block, 10)
            test_sq[:, j] += np.sum((pred - Yb) ** 2, axis=(1, 2))
            test_wrong[:, j] += np.sum(np.argmax(pred, axis=2) != lb, axis=1)
    test_mse, test_err = test_sq / n_test, test_wrong / n_test
    save_npz(data, N=grid, n_train=n, models=np.array(models), train_mse=train_mse, train_error=train_err,
             test_mse=test_mse, test_error=test_err, norm=norm)
    at = {int(N): i for i, N in enumerate(grid)}
    half, largest = at[int(round(n / 2))], len(grid) - 1
    peak_mse = int(np.argmax(test_mse[0]))
    peak_err = int(np.argmax(test_err[0]))
    per_model = {name: {"test_mse": test_mse[m], "test_error": test_err[m], "train_mse": train_mse[m],
                        "train_error": train_err[m], "norm": norm[m],
                        "peak_test_mse_over_n": float(grid[int(np.argmax(test_mse[m]))] / n),
                        "test_mse_at_n": float(test_mse[m, at[n]]) if n in at else None}
                 for m, name in enumerate(models)}
    return {
        "n_train": n, "n_test": n_test, "N": grid, "N_over_n": grid / n, "models": per_model,
        "peak": {"N_test_mse": int(grid[peak_mse]), "N_over_n_test_mse": float(grid[peak_mse] / n),
                 "relative_offset_test_mse": float(abs(grid[peak_mse] - n) / n),
                 "N_test_error": int(grid[peak_err]), "relative_offset_test_error": float(abs(grid[peak_err] - n) / n),
                 "N_norm": int(grid[int(np.argmax(norm[0]))])},
        "second_descent": {
            "N_half": int(grid[half]), "N_largest": int(grid[largest]),
            "test_error_half": float(test_err[0, half]), "test_error_largest": float(test_err[0, largest]),
            "test_mse_half": float(test_mse[0, half]), "test_mse_largest": float(test_mse[0, largest]),
            "error_largest_below_half": bool(test_err[0, largest] < test_err[0, half]),
            "error_difference": float(test_err[0, half] - test_err[0, largest]),
            "mse_largest_below_half": bool(test_mse[0, largest] < test_mse[0, half]),
        },
        "ridge_peak_reduction": {name: float(test_mse[0, at[n]] / test_mse[m, at[n]]) if n in at else None
                                 for m, name in enumerate(models) if m > 0},
    }
