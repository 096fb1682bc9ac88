"""Fig 27: softmax (multinomial logistic) regression on MNIST and its ten weight images.

Data (decision o): the standard 60,000 training and 10,000 test images, flattened to 784 pixels and
scaled to [0, 1]; with ``standardize`` (the authors' notebook) each pixel is then standardised
with a ``StandardScaler`` fitted on the training images only. The model is
``LogisticRegression(C=1/lambda, **options)`` (scikit-learn's default multinomial loss for more
than two classes; the notebook's C = 1e5, solver 'sag', tol 0.1) via
:func:`mlreview.models.logistic.fit_logistic`. The model sees flat 784-vectors: it knows nothing of
the 2D arrangement of the pixels.

Metrics: ``n_train``, ``n_test``, ``n_features``, ``n_classes``; ``train``/``test`` accuracy with the
Wilson interval; ``fraction_zero_weights`` (exactly zero weights: pixels that are constant on the
training set get no gradient from the data and stay at their zero start); ``fit_seconds``;
``n_iter``, ``max_iter``, ``converged`` (n_iter < max_iter, no ConvergenceWarning) and
``convergence_warnings``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from sklearn.preprocessing import StandardScaler

from mlreview.data.mnist import load_mnist
from mlreview.io import save_npz, to_jsonable
from mlreview.models.logistic import convergence_warnings, evaluate, fit_logistic


def fit_step(params: Mapping, *, npz: Path, data: Path) -> dict:
    """Fit softmax regression on the MNIST training set; write the weight images and return metrics."""
    arrays = load_mnist(npz, scale=True)
    shape = arrays["x_train"].shape[1:]
    dtype = np.dtype(params["dtype"])
    X_train = arrays["x_train"].reshape(len(arrays["x_train"]), -1).astype(dtype)
    X_test = arrays["x_test"].reshape(len(arrays["x_test"]), -1).astype(dtype)
    y_train, y_test = arrays["y_train"].astype(np.int64), arrays["y_test"].astype(np.int64)
    if params["standardize"]:
        scaler = StandardScaler().fit(X_train)
        X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

    options = params["options"]
    start = time.perf_counter()
    with convergence_warnings() as caught:
        model = fit_logistic(X_train, y_train, float(params["lambda"]), options)
    seconds = time.perf_counter() - start
    scores = evaluate(model, {"train": (X_train, y_train), "test": (X_test, y_test)}, float(params["confidence"]))

    coef = np.asarray(model.coef_, dtype=np.float64)
    save_npz(data, weights=coef.reshape(len(model.classes_), *shape), classes=model.classes_,
             test_accuracy=scores["test"]["accuracy"])
    n_iter = int(np.max(model.n_iter_))
    max_iter = int(model.max_iter)
    return to_jsonable({
        "n_train": int(len(y_train)),
        "n_test": int(len(y_test)),
        "n_features": int(X_train.shape[1]),
        "n_classes": int(len(model.classes_)),
        **scores,
        "fraction_zero_weights": float(np.mean(coef == 0.0)),
        "fit_seconds": seconds,
        "n_iter": n_iter,
        "max_iter": max_iter,
        "convergence_warnings": len(caught),
        "converged": bool(n_iter < max_iter and not caught),
    })
