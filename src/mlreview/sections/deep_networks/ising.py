"""Figs 41 and 45: neural networks that tell ordered from disordered 2D Ising states.

Data (spec 2.1, decision e): +-1 spins; the ordered (T < 2.0) and disordered (T > 2.5) states,
split once at random into training and test rows (``train_fraction``, ``split_seed``; 80/20),
and the near-critical states (2.0 <= T <= 2.5) as a third evaluation set that is never trained
on or used to choose anything. The sets come from
:func:`mlreview.data.ising.load_phase_sets` (the same mechanism as Fig 21, with this
family's own split); Figs 41 and 45 share one split, so every model and every loader of the
family sees the same training and test states.

* Fig 41 (decision i): ``MLP`` 1600 -> N hidden units with ReLU -> 2 logits, weights from a
  normal of standard deviation 0.1 cut at two standard deviations and biases 0.1, plain SGD
  with minibatches of 100, real epochs over the training states. :func:`dnn_cell_step` trains
  one (N, learning rate) cell; :func:`dnn_gather_step` builds the train, test and critical
  accuracy tables and the quantities of C53, C54.
* Fig 45 (decision j): ``IsingCNN`` (one convolution of ``depth`` 2 x 2 filters with padding 1,
  ReLU, 2 x 2 max pooling, batch norm, a linear layer to 2 logits), SGD with momentum.
  :func:`cnn_depth_step` trains one depth, recording the test and critical accuracy after
  every epoch; :func:`cnn_gather_step` collects the depths and the quantities of C55-C57.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from mlreview.data.ising import load_phase_sets
from mlreview.errors import MlreviewError
from mlreview.io import save_npz, to_jsonable
from mlreview.sections.deep_networks.common import (
    ACCURACY_FIELDS,
    accuracy_tables,
    fit_classifier,
    index_cells,
    read_cells,
)
from mlreview.steps import step

#: the evaluation sets of every Ising model, in plotting order
SETS = ("train", "test", "critical")


def set_sizes(sets: Mapping) -> dict[str, int]:
    return {f"n_{name}": int(len(y)) for name, (_, y) in sets.items()}


def lattice_of(sets: Mapping) -> int:
    """L from the L*L spins of a state."""
    n = int(sets["train"][0].shape[1])
    side = math.isqrt(n)
    if side * side != n:
        raise MlreviewError(f"an Ising state has {n} spins, not the square of a lattice size")
    return side


def _fit(build, sets, params, name: str, lr: float | None = None) -> dict:
    return fit_classifier(build, sets, params["training"], threads=params["threads"], name=name,
                          confidence=float(params["confidence"]), eval_batch_size=int(params["eval_batch_size"]),
                          monitor=tuple(params["monitor"]), final=tuple(params["final"]), lr=lr)


def _scores(fit: Mapping) -> dict:
    return {name: fit["scores"].get(name) for name in SETS if name in fit["scores"]}


# --- Fig 41 ------------------------------------------------------------------------------

@step
def ising_dnn_cell(params: Mapping, *, dataset: Path, threads: int = 1) -> dict:
    """One cell of Fig 41: ``hidden_units`` neurons, learning rate ``lr``."""
    from mlreview.nn.models import MLP
    from mlreview.nn.training import history_arrays

    sets = load_phase_sets(dataset, params)
    n_hidden, lr = int(params["hidden_units"]), float(params["lr"])
    n_inputs = sets["train"][0].shape[1]

    def build():
        return MLP(n_inputs, [n_hidden], 2, params["activation"], None, params["init"])

    fit = _fit(build, sets, {**params, "threads": threads}, f"ising-N{n_hidden}-lr{lr:g}", lr=lr)
    monitored = ["epoch", "train_loss", *[f"{s}_accuracy" for s in params["monitor"]]]
    return to_jsonable({
        **set_sizes(sets), "hidden_units": n_hidden, "lr": lr, "batch_size": fit["batch_size"],
        "epochs": fit["epochs"], "diverged": fit["diverged"], "error": fit["error"], **_scores(fit),
        "per_epoch": history_arrays(fit["history"], monitored), "fit_seconds": fit["fit_seconds"],
    })


def best_learning_rates(tables: Mapping[str, np.ndarray], lrs) -> list[int]:
    """Per row (number of neurons): the column of the best test accuracy, ties broken by the
    training accuracy and then by the larger learning rate. The critical set plays no part."""
    out = []
    for i in range(tables["test"].shape[0]):
        keys = [(tables["test"][i, j], tables["train"][i, j], lrs[j]) for j in range(len(lrs))
                if not np.isnan(tables["test"][i, j])]
        out.append(lrs.index(max(keys)[2]) if keys else -1)
    return out


@step
def ising_dnn_grid(params: Mapping, *, cells, data: Path) -> dict:
    """Fig 41: train, test and critical accuracy on the (neurons x learning rate) grid."""
    found = read_cells(cells)
    hidden = [int(n) for n in params["hidden_units"]]
    lrs = [float(v) for v in params["learning_rates"]]
    grid = index_cells(found, ("hidden_units", "lr"))
    tables = {s: accuracy_tables(grid, hidden, lrs, s) for s in SETS}
    acc = {s: tables[s]["accuracy"] for s in SETS}
    save_npz(data, hidden_units=np.array(hidden), learning_rates=np.array(lrs),
             **{f"{s}_{k}": tables[s][k] for s in SETS for k in ACCURACY_FIELDS})
    best = best_learning_rates(acc, lrs)
    per_n = {}
    for i, n in enumerate(hidden):
        j = best[i]
        per_n[str(n)] = None if j < 0 else {"lr": lrs[j], **{s: float(acc[s][i, j]) for s in SETS}}
    c53_cell = params["claims"]["c53_cell"]
    at = (float(c53_cell["hidden_units"]), float(c53_cell["lr"]))
    c53 = grid.get(at)
    c54 = params["claims"]["c54"]
    few = per_n.get(str(int(c54["fewer"])))
    many = [per_n.get(str(int(n))) for n in c54["more"]]
    many = [m for m in many if m is not None]
    c54_out = {"best_per_hidden_units": per_n, "holds": False,
               "summary": f"N = {int(c54['fewer'])} or every N of {list(c54['more'])} missing from the grid or diverged"}
    if few is not None and many:
        top = max(many, key=lambda m: m["critical"])
        c54_out.update({
            "critical_fewer": few["critical"], "critical_more_max": top["critical"],
            "critical_gain": top["critical"] - few["critical"], "test_fewer": few["test"], "test_more": top["test"],
            "holds": bool(top["critical"] > few["critical"]),
        })
        c54_out["summary"] = (
            "at the best learning rate (by test accuracy) of each N: critical accuracy "
            + ", ".join(f"N = {n}: {v['critical']:.4f} (test {v['test']:.4f}, lr {v['lr']:g})"
                        for n, v in per_n.items() if v is not None)
            + f"; gain of the best of N = {list(c54['more'])} over N = {int(c54['fewer'])}: "
            f"{c54_out['critical_gain']:+.4f}")
    any_cell = found[0]
    return to_jsonable({
        "n_train": any_cell["n_train"], "n_test": any_cell["n_test"], "n_critical": any_cell["n_critical"],
        "epochs": any_cell["epochs"], "batch_size": any_cell["batch_size"], "hidden_units": hidden,
        "learning_rates": lrs, **{f"{s}_accuracy": acc[s] for s in SETS},
        "n_diverged": int(np.sum(np.isnan(acc["test"]))),
        "per_epoch": {f"N{n}_lr{lr:g}": grid[(float(n), lr)]["per_epoch"] for n in hidden for lr in lrs},
        "c53": c53_quantities(c53, at),
        "c54": c54_out,
    })


def c53_quantities(cell: Mapping | None, at: tuple[float, float]) -> dict:
    """The test accuracy of the C53 cell, and the claim's evidence in words (the cell may be
    missing from a small grid, or may have diverged)."""
    out = {"hidden_units": int(at[0]), "lr": at[1], "in_grid": cell is not None, "test_accuracy": None}
    if cell is None:
        out["summary"] = f"no cell at N = {int(at[0])}, learning rate {at[1]:g} in this grid"
    elif cell["diverged"]:
        out["summary"] = f"the cell at N = {int(at[0])}, learning rate {at[1]:g} diverged: {cell['error']}"
    else:
        test = cell["test"]
        out["test_accuracy"] = test["accuracy"]
        out["summary"] = (f"test accuracy {test['accuracy']:.4f} (95% interval {test['ci_low']:.4f} - "
                          f"{test['ci_high']:.4f}, {test['n']} test states) after {cell['epochs']} epochs")
    return out


# --- Fig 45 ------------------------------------------------------------------------------

@step
def ising_cnn_depth(params: Mapping, *, dataset: Path, threads: int = 1) -> dict:
    """One depth of Fig 45 (``params["depth"]`` filters)."""
    from mlreview.nn.models import IsingCNN
    from mlreview.nn.training import history_arrays

    sets = load_phase_sets(dataset, params)
    lattice, depth = lattice_of(sets), int(params["depth"])

    def build():
        return IsingCNN(lattice, depth, params["kernel"], params["padding"], params["pool"], 2)

    fit = _fit(build, sets, {**params, "threads": threads}, f"ising-cnn-D{depth}")
    if fit["diverged"]:
        raise MlreviewError(f"the Ising CNN of depth {depth} diverged: {fit['error']}")
    monitored = ["epoch", "train_loss", *[f"{s}_accuracy" for s in params["monitor"]]]
    return to_jsonable({
        **set_sizes(sets), "depth": depth, "lattice": lattice, "lr": fit["lr"], "batch_size": fit["batch_size"],
        "epochs": fit["epochs"], **_scores(fit), "per_epoch": history_arrays(fit["history"], monitored),
        "fit_seconds": fit["fit_seconds"],
    })


@step
def ising_cnn_gather(params: Mapping, *, cells, data: Path) -> dict:
    """Fig 45: final test and critical accuracy per depth, per-epoch curves, C55-C57."""
    by_depth = {int(c["depth"]): c for c in read_cells(cells)}
    depths = [int(d) for d in params["depths"]]
    missing = [d for d in depths if d not in by_depth]
    if missing:
        raise MlreviewError(f"no results for the CNN depths {missing}")
    rows = [by_depth[d] for d in depths]
    arrays = {"depths": np.array(depths)}
    for s in ("test", "critical"):
        for k in ACCURACY_FIELDS:
            arrays[f"{s}_{k}"] = np.array([r[s][k] for r in rows])
        arrays[f"{s}_per_epoch"] = np.array([r["per_epoch"][f"{s}_accuracy"] for r in rows])
    save_npz(data, **arrays)
    test, crit = arrays["test_accuracy"], arrays["critical_accuracy"]
    below = arrays["critical_ci_high"] < arrays["test_ci_low"]
    return to_jsonable({
        "n_train": rows[0]["n_train"], "n_test": rows[0]["n_test"], "n_critical": rows[0]["n_critical"],
        "epochs": rows[0]["epochs"], "depths": depths,
        "per_depth": {str(d): {"test": r["test"], "critical": r["critical"], "per_epoch": r["per_epoch"],
                               "fit_seconds": r["fit_seconds"]} for d, r in zip(depths, rows)},
        "c55": {"min_test_accuracy": float(test.min()), "depth_at_min": depths[int(np.argmin(test))]},
        "c56": {"min_critical_accuracy": float(crit.min()), "max_critical_accuracy": float(crit.max())},
        "c57": {"min_test_minus_critical": float((test - crit).min()),
                "n_significantly_below": int(below.sum()), "n_depths": len(depths), "holds": bool(below.all())},
    })
