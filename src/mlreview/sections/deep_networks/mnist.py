"""Section IX on MNIST: the fully connected network of Figs 37 and 38, the comparison of
optimizers, and a small CNN (PyTorch; the review used Keras).

Data (spec 2.4, decision o): the standard 60,000 training / 10,000 test images, pixels / 255 in
[0, 1]; ``n_train`` / ``n_test`` take the first images of each set (all of them at paper scale).
The test set only monitors training and is never used to choose anything.

* :func:`fit_step` (Figs 37, 38): ``MLP`` 784 -> hidden -> 10 (sizes, activation, dropout and
  initialisation from the config), trained by the configured optimizer; after every epoch the
  accuracy and cross-entropy on the full training and test sets in evaluation mode (dropout
  off), besides the running mean of the minibatch losses.
* :func:`optimizer_step` (one optimizer per workflow job) and :func:`optimizers_gather_step`:
  the same network trained with each optimizer the review lists, scored by stratified k-fold
  cross-validation on the training images (accuracy on the held-out fold; mean, standard
  deviation over the folds, and the pooled out-of-fold accuracy with its Wilson interval).
* :func:`cnn_step`: the ``ConvNet`` of the config on the same images; test accuracy per epoch.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from mlreview.data.mnist import load_mnist_sets
from mlreview.errors import MlreviewError
from mlreview.io import save_npz, to_jsonable
from mlreview.sections.deep_networks.common import fit_classifier, read_cells
from mlreview.stats import wilson_interval
from mlreview.steps import step

log = logging.getLogger(__name__)

#: per-epoch columns of the Fig 37/38 history
HISTORY_KEYS = ("epoch", "train_loss", "train_accuracy", "train_cross_entropy", "test_accuracy",
                "test_cross_entropy")


def n_pixels(sets: Mapping) -> int:
    return int(np.prod(sets["train"][0].shape[1:]))


def mlp_builder(params: Mapping, n_inputs: int, n_classes: int):
    """A function building the configured fully connected network."""
    from mlreview.nn.models import MLP

    return lambda: MLP(n_inputs, params["hidden"], n_classes, params["activation"], params["dropout"],
                       params["init"])


def n_classes_of(sets: Mapping) -> int:
    """Labels run 0 .. n - 1: n from the training labels."""
    return int(sets["train"][1].max()) + 1


@step
def mnist_dnn_fit(params: Mapping, *, npz: Path, data: Path, threads: int = 1) -> dict:
    """Figs 37 and 38: train the network, record accuracy and loss per epoch."""
    from mlreview.nn.training import history_arrays

    sets = load_mnist_sets(npz, params)
    fit = fit_classifier(mlp_builder(params, n_pixels(sets), n_classes_of(sets)), sets, params["training"],
                         threads=threads, name="mnist-dnn", confidence=float(params["confidence"]),
                         eval_batch_size=int(params["eval_batch_size"]), monitor=("train", "test"))
    if fit["diverged"]:
        raise MlreviewError(f"the MNIST network diverged: {fit['error']}")
    curves = history_arrays(fit["history"], HISTORY_KEYS)
    save_npz(data, **curves)
    return to_jsonable({
        "n_train": len(sets["train"][1]), "n_test": len(sets["test"][1]),
        "hidden": params["hidden"], "activation": params["activation"], "dropout": params["dropout"],
        "optimizer": params["training"]["optimizer"], "lr": fit["lr"], "batch_size": fit["batch_size"],
        "epochs": fit["epochs"], "per_epoch": curves, "train": fit["scores"]["train"],
        "test": fit["scores"]["test"], "fit_seconds": fit["fit_seconds"],
    })


@step
def mnist_optimizer_cv(params: Mapping, *, npz: Path, threads: int = 1) -> dict:
    """One optimizer: stratified ``folds``-fold cross-validation on the first ``n_train``
    training images (fold assignment seeded by ``fold_seed``; the same folds for every
    optimizer)."""
    from sklearn.model_selection import StratifiedKFold

    sets = load_mnist_sets(npz, {**params, "n_test": 0})
    X, y = sets["train"]
    folds = StratifiedKFold(n_splits=int(params["folds"]), shuffle=True, random_state=int(params["fold_seed"]))
    build = mlp_builder(params, n_pixels(sets), n_classes_of(sets))
    name = params["training"]["optimizer"]
    per_fold, correct, seen, seconds = [], 0, 0, 0.0
    for k, (train, held_out) in enumerate(folds.split(np.zeros(len(y)), y)):
        fit = fit_classifier(build, {"train": (X[train], y[train]), "held_out": (X[held_out], y[held_out])},
                             params["training"], threads=threads, name=f"{name}-fold{k + 1}",
                             confidence=float(params["confidence"]), eval_batch_size=int(params["eval_batch_size"]),
                             monitor=("held_out",))
        seconds += fit["fit_seconds"]
        if fit["diverged"]:
            return to_jsonable({"optimizer": name, "lr": fit["lr"], "diverged": True, "error": fit["error"],
                                "fit_seconds": seconds})
        score = fit["scores"]["held_out"]
        per_fold.append(score)
        correct += int(round(score["accuracy"] * score["n"]))
        seen += score["n"]
        log.info("%s fold %d: held-out accuracy %.4f", name, k + 1, score["accuracy"])
    accuracies = np.array([s["accuracy"] for s in per_fold])
    low, high = wilson_interval(correct, seen, float(params["confidence"]))
    return to_jsonable({
        "optimizer": name, "lr": float(params["training"]["lr"]), "options": params["training"].get("options", {}),
        "folds": int(params["folds"]), "epochs": int(params["training"]["epochs"]), "n_train": len(y),
        "diverged": False, "fold_accuracy": accuracies, "mean_accuracy": float(accuracies.mean()),
        "std_accuracy": float(accuracies.std(ddof=1)) if len(accuracies) > 1 else 0.0,
        "pooled": {"accuracy": correct / seen, "ci_low": low, "ci_high": high, "n": seen,
                   "confidence": float(params["confidence"])},
        "fit_seconds": seconds,
    })


@step
def mnist_optimizers_gather(params: Mapping, *, cells, data: Path) -> dict:
    """The comparison table of the optimizers, in the config's order."""
    by_name = {c["optimizer"]: c for c in read_cells(cells)}
    names = list(params["compared"])
    missing = [n for n in names if n not in by_name]
    if missing:
        raise MlreviewError(f"no cross-validation results for the optimizers {missing}")
    rows = [by_name[n] for n in names]

    def column(key, sub=None):
        return np.array([np.nan if r["diverged"] else (r[key][sub] if sub else r[key]) for r in rows])

    arrays = {"optimizers": np.array(names), "mean": column("mean_accuracy"), "std": column("std_accuracy"),
              "pooled": column("pooled", "accuracy"), "ci_low": column("pooled", "ci_low"),
              "ci_high": column("pooled", "ci_high"), "lr": np.array([r["lr"] for r in rows])}
    save_npz(data, **arrays, folds=int(rows[0].get("folds", 0)), epochs=int(rows[0].get("epochs", 0)),
             n_train=int(rows[0].get("n_train", 0)))
    ranked = sorted((n for n in names if not by_name[n]["diverged"]),
                    key=lambda n: by_name[n]["mean_accuracy"], reverse=True)
    return to_jsonable({"optimizers": by_name, "ranking": ranked, "best": ranked[0] if ranked else None,
                        "n_diverged": sum(r["diverged"] for r in rows)})


@step
def mnist_cnn_fit(params: Mapping, *, npz: Path, data: Path, threads: int = 1) -> dict:
    """The MNIST CNN: test accuracy after every epoch, training accuracy at the end."""
    from mlreview.nn.models import ConvNet
    from mlreview.nn.training import history_arrays

    sets = load_mnist_sets(npz, params)
    side = int(sets["train"][0].shape[1])
    n_classes = n_classes_of(sets)

    def build():
        return ConvNet(side, params["channels"], params["kernel"], params["pool"], params["dense"],
                       params["dropout"], n_classes, params["init"])

    fit = fit_classifier(build, sets, params["training"], threads=threads, name="mnist-cnn",
                         confidence=float(params["confidence"]), eval_batch_size=int(params["eval_batch_size"]),
                         monitor=("test",), final=("train",))
    if fit["diverged"]:
        raise MlreviewError(f"the MNIST CNN diverged: {fit['error']}")
    curves = history_arrays(fit["history"], ("epoch", "train_loss", "test_accuracy", "test_cross_entropy"))
    save_npz(data, **curves, test_ci=np.array([fit["scores"]["test"]["ci_low"], fit["scores"]["test"]["ci_high"]]))
    return to_jsonable({
        "n_train": len(sets["train"][1]), "n_test": len(sets["test"][1]), "channels": params["channels"],
        "kernel": params["kernel"], "dense": params["dense"], "optimizer": params["training"]["optimizer"],
        "lr": fit["lr"], "batch_size": fit["batch_size"], "epochs": fit["epochs"], "per_epoch": curves,
        "train": fit["scores"]["train"], "test": fit["scores"]["test"], "fit_seconds": fit["fit_seconds"],
    })
