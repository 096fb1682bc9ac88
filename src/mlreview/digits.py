"""The project's fixed digit classifier: softmax (multinomial logistic) regression on MNIST.

Fig 27 fits it (logistic regression section); the energy-based models (Figs 64, 65) and the VAE
(Fig 76) use a copy trained on their own binarisation to measure how digit-like generated images
are. :func:`fit_digit_classifier` fits and writes it, :func:`load_classifier` reads it back and
:meth:`DigitClassifier.predict_proba` applies it to flat images in [0, 1].

Data (decision o): the standard 60,000 training and 10,000 test images, flattened to 784 pixels and
scaled to [0, 1]; with ``standardize`` (the authors' notebook) each pixel is then standardised
with a ``StandardScaler`` fitted on the training images only. The model is
``LogisticRegression(C=1/lambda, **options)`` (scikit-learn's default multinomial loss for more
than two classes; the notebook's C = 1e5, solver 'sag', tol 0.1) via
:func:`mlreview.logistic.fit_logistic`. The model sees flat 784-vectors: it knows nothing of
the 2D arrangement of the pixels.

With ``binarize: t`` (optional; default none) the images are binarised at ``t`` after scaling, as
for the energy-based models of Figs 60-65, whose samples are black and white.

The written file holds the weight images, the flat ``coef``, the ``intercept``, the scaler's
``mean`` and ``scale`` and the ``binarize`` threshold (NaN for none).

Metrics: ``n_train``, ``n_test``, ``n_features``, ``n_classes``; ``train``/``test`` accuracy with the
Wilson interval; ``fraction_zero_weights`` (exactly zero weights: pixels that are constant on the
training set get no gradient from the data and stay at their zero start); ``fit_seconds``;
``n_iter``, ``max_iter``, ``converged`` (n_iter < max_iter, no ConvergenceWarning) and
``convergence_warnings``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.special import softmax

from mlreview.data.fetch import DataFormatError
from mlreview.data.mnist import load_mnist
from mlreview.io import load_npz, save_npz, to_jsonable
from mlreview.logistic import convergence_warnings, evaluate, fit_logistic


@dataclass(frozen=True)
class DigitClassifier:
    """A fitted softmax regression on flat 784-pixel images in [0, 1] (see the module docstring)."""

    coef: np.ndarray  # (n_classes, n_pixels)
    intercept: np.ndarray  # (n_classes,)
    mean: np.ndarray  # (n_pixels,) the scaler's mean (0 without standardisation)
    scale: np.ndarray  # (n_pixels,) the scaler's scale (1 without standardisation)
    classes: np.ndarray
    binarize: float | None

    def prepare(self, X: np.ndarray) -> np.ndarray:
        """Flatten, binarise (when the classifier was trained on binarised images) and standardise."""
        X = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
        if self.binarize is not None:
            X = (X > self.binarize).astype(np.float64)
        return (X - self.mean) / self.scale

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities, shape (n, n_classes)."""
        return softmax(self.prepare(X) @ self.coef.T + self.intercept, axis=1)

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.classes[np.argmax(self.predict_proba(X), axis=1)]


def load_classifier(path: str | Path) -> DigitClassifier:
    """The digit classifier written by :func:`fit_digit_classifier`."""
    d = load_npz(path)
    missing = [k for k in ("coef", "intercept", "mean", "scale", "classes", "binarize") if k not in d]
    if missing:
        raise DataFormatError(f"{path} is not a digit classifier of this project (arrays {missing} are missing); "
                              "rebuild it with `snakemake --forcerun mnist_softmax_fit ebm_digit_classifier`")
    threshold = float(d["binarize"])
    return DigitClassifier(coef=d["coef"], intercept=d["intercept"], mean=d["mean"], scale=d["scale"],
                           classes=d["classes"], binarize=None if np.isnan(threshold) else threshold)


def fit_digit_classifier(params: Mapping, *, npz: Path, data: Path) -> dict:
    """Fit softmax regression on the MNIST training set; write the classifier (with its weight
    images) to ``data`` and return the metrics."""
    arrays = load_mnist(npz, scale=True)
    shape = arrays["x_train"].shape[1:]
    dtype = np.dtype(params["dtype"])
    X_train = arrays["x_train"].reshape(len(arrays["x_train"]), -1).astype(dtype)
    X_test = arrays["x_test"].reshape(len(arrays["x_test"]), -1).astype(dtype)
    y_train, y_test = arrays["y_train"].astype(np.int64), arrays["y_test"].astype(np.int64)
    threshold = params.get("binarize")
    if threshold is not None:
        X_train, X_test = ((X > threshold).astype(dtype) for X in (X_train, X_test))
    mean, scale = np.zeros(X_train.shape[1]), np.ones(X_train.shape[1])
    if params["standardize"]:
        # only the fit needs scikit-learn
        from sklearn.preprocessing import StandardScaler

        scaler = StandardScaler().fit(X_train)
        X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
        mean, scale = scaler.mean_, scaler.scale_

    options = params["options"]
    start = time.perf_counter()
    with convergence_warnings() as caught:
        model = fit_logistic(X_train, y_train, float(params["lambda"]), options)
    seconds = time.perf_counter() - start
    scores = evaluate(model, {"train": (X_train, y_train), "test": (X_test, y_test)}, float(params["confidence"]))

    coef = np.asarray(model.coef_, dtype=np.float64)
    save_npz(data, weights=coef.reshape(len(model.classes_), *shape), classes=model.classes_,
             test_accuracy=scores["test"]["accuracy"], coef=coef,
             intercept=np.asarray(model.intercept_, dtype=np.float64), mean=mean, scale=scale,
             binarize=np.float64(np.nan if threshold is None else threshold))
    n_iter = int(np.max(model.n_iter_))
    max_iter = int(model.max_iter)
    return to_jsonable({
        "n_train": int(len(y_train)),
        "n_test": int(len(y_test)),
        "n_features": int(X_train.shape[1]),
        "n_classes": int(len(model.classes_)),
        "binarize": threshold,
        **scores,
        "fraction_zero_weights": float(np.mean(coef == 0.0)),
        "fit_seconds": seconds,
        "n_iter": n_iter,
        "max_iter": max_iter,
        "convergence_warnings": len(caught),
        "converged": bool(n_iter < max_iter and not caught),
    })
