"""Fig 40: a grid search of a deep network on SUSY over the data-set size and the learning rate.

Data (spec 2.3, decision h): for a data-set size D, the first D events of the file, split once
at random (``split_seed``) into ``train_fraction`` training and the rest test events by
:func:`mlreview.data.splits.split_indices` (the first D rows shuffled with a fixed seed and
cut 80/20); inputs (``features``: all 18 at paper scale) standardised with the training rows'
mean and standard deviation (:func:`mlreview.data.susy.standardize`).

Network (decision h): ``MLP`` 18 -> 200 -> ReLU -> dropout -> 100 -> ReLU -> dropout -> 2 logits,
cross-entropy on the logits (= negative log-likelihood of the log-softmax), torch's default
initialisation, SGD with momentum, a minibatch of ``batch_fraction`` of the training rows,
``epochs`` passes with a new seeded order each.

:func:`cell_step` trains one (D, learning rate) cell - each cell is its own workflow job - and
records the test accuracy (with its Wilson interval) after every epoch. :func:`gather_step`
arranges the cells on the grid and computes the claim quantities (C51: the argmax cell; C52: the
best test accuracy). Claims about the UCI data are not checked with the stand-in: the metrics
carry the ``source``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from mlreview.data.splits import split_indices
from mlreview.errors import MlreviewError
from mlreview.io import save_npz, to_jsonable
from mlreview.sections.deep_networks.common import (
    accuracy_tables,
    fit_classifier,
    index_cells,
    read_cells,
)
from mlreview.steps import step


def load_sets(parquet: Path, size: int, params: Mapping) -> tuple[dict, dict]:
    """``({"train": (X, y), "test": (X, y)}, info)`` from the first ``size`` events."""
    # pandas/pyarrow (the SUSY file) and torch only in the cell steps: the grid step needs neither
    from mlreview.data.susy import (
        LABEL,
        count_rows,
        feature_names,
        load_susy,
        parquet_source,
        standardize,
    )

    names = list(feature_names(params["features"]))
    rows = count_rows(parquet)
    if size > rows:
        raise MlreviewError(f"data-set size {size} asked for, but the SUSY file has {rows} events")
    frame = load_susy(parquet, columns=[LABEL, *names], rows=int(size))
    X, y = frame[names].to_numpy(np.float32), frame[LABEL].to_numpy(np.int64)
    train, test = split_indices(int(size), float(params["train_fraction"]), int(params["split_seed"]))
    sets = {"train": (X[train], y[train]), "test": (X[test], y[test])}
    if params["standardize"]:
        sets, _, _ = standardize(sets)
    info = {"source": parquet_source(parquet), "rows_in_file": rows, "size": int(size), "features": names,
            "n_train": len(train), "n_test": len(test), "standardize": bool(params["standardize"])}
    return sets, info


@step
def susy_dnn_cell(params: Mapping, *, parquet: Path, threads: int = 1) -> dict:
    """One cell of the grid: ``params["size"]`` events, learning rate ``params["lr"]``."""
    from mlreview.nn.models import MLP
    from mlreview.nn.training import history_arrays

    size, lr = int(params["size"]), float(params["lr"])
    sets, info = load_sets(parquet, size, params)
    n_inputs = sets["train"][0].shape[1]

    def build():
        return MLP(n_inputs, params["hidden"], 2, params["activation"], params["dropout"], params["init"])

    fit = fit_classifier(build, sets, params["training"], threads=threads, name=f"susy-D{size}-lr{lr:g}",
                         confidence=float(params["confidence"]), eval_batch_size=int(params["eval_batch_size"]),
                         monitor=("test",), lr=lr)
    return to_jsonable({
        **info, "lr": lr, "batch_size": fit["batch_size"], "epochs": fit["epochs"], "diverged": fit["diverged"],
        "error": fit["error"], "test": fit["scores"].get("test"),
        "per_epoch": history_arrays(fit["history"], ("epoch", "train_loss", "test_accuracy")),
        "fit_seconds": fit["fit_seconds"],
    })


@step
def susy_dnn_grid(params: Mapping, *, cells, data: Path) -> dict:
    """The test-accuracy table (rows = data-set sizes, columns = learning rates) and C51, C52."""
    found = read_cells(cells)
    sizes = [int(s) for s in params["sizes"]]
    lrs = [float(v) for v in params["learning_rates"]]
    grid = index_cells(found, ("size", "lr"))
    table = accuracy_tables(grid, sizes, lrs, "test")
    sources = {c["source"] for c in found}
    if len(sources) != 1:
        raise MlreviewError(f"the grid cells were computed on different SUSY files: {sorted(map(str, sources))}")
    source = sources.pop()
    batch = np.array([[grid[(float(s), lr)]["batch_size"] for lr in lrs] for s in sizes])
    n_test = np.array([grid[(float(s), lrs[0])]["n_test"] for s in sizes])
    save_npz(data, sizes=np.array(sizes), learning_rates=np.array(lrs), batch_size=batch, n_test=n_test,
             source=np.array(source or ""), **{f"test_{k}": v for k, v in table.items()})
    acc = table["accuracy"]
    if np.all(np.isnan(acc)):
        raise MlreviewError("every cell of the SUSY grid diverged")
    i, j = np.unravel_index(np.nanargmax(acc), acc.shape)
    claim_cell = params["claims"]["c51_cell"]
    best = grid[(float(sizes[i]), lrs[j])]["test"]
    return to_jsonable({
        "source": source, "sizes": sizes, "learning_rates": lrs, "n_test": n_test, "batch_size": batch,
        "test_accuracy": acc, "test_ci_low": table["ci_low"], "test_ci_high": table["ci_high"],
        "n_diverged": int(np.sum(np.isnan(acc))),
        "per_epoch_test_accuracy": {f"D{s}_lr{lr:g}": grid[(float(s), lr)]["per_epoch"]["test_accuracy"]
                                    for s in sizes for lr in lrs},
        "best": {"size": sizes[i], "lr": lrs[j], **best},
        "c51": {"argmax_size": sizes[i], "argmax_lr": lrs[j],
                "holds": bool(sizes[i] == int(claim_cell["size"]) and np.isclose(lrs[j], float(claim_cell["lr"])))},
        "c52": {"max_test_accuracy": float(acc[i, j])},
    })
