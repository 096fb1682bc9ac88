"""What the networks of Sections IX-X (Figs 37, 38, 40, 41, 45) share.

* :func:`fit_classifier` - build a model under a seed and train it on the ``train`` set of
  ``{name: (X, y)}`` with the project's one training loop (:func:`mlreview.nn.training.train`):
  softmax cross-entropy on the logits, the optimizer named in the config, accuracy (with its
  Wilson interval) and loss on the ``monitor`` sets after every epoch, and on the ``final``
  sets at the end. A diverging run (the loss becomes NaN) is recorded, not raised: in a grid
  search it is a result (the learning rate is too large), not an error.
* :func:`batch_size` - a fixed minibatch size or a fraction of the training-set size.
* Grid cells: every cell of a heat map is its own workflow job, which writes its metrics
  file; :func:`read_cells` reads them back and :func:`grid_table` arranges one quantity of them
  on the (rows x columns) grid of the config, in the config's order.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np

from mlreview.errors import MlreviewError
from mlreview.io import load_json

log = logging.getLogger(__name__)

#: the fields of an accuracy entry that the grid tables carry
ACCURACY_FIELDS = ("accuracy", "ci_low", "ci_high")


def batch_size(training: Mapping, n_train: int) -> int:
    """``training["batch_size"]``, or ``max(1, round(batch_fraction * n_train))``."""
    if ("batch_size" in training) == ("batch_fraction" in training):
        raise MlreviewError("give exactly one of batch_size and batch_fraction in the training settings")
    if "batch_size" in training:
        return int(training["batch_size"])
    return max(1, int(round(float(training["batch_fraction"]) * int(n_train))))


def fit_classifier(build: Callable, sets: Mapping[str, tuple[np.ndarray, np.ndarray]], training: Mapping, *,
                   threads: int, name: str, confidence: float, eval_batch_size: int,
                   monitor: Sequence[str] = ("test",), final: Sequence[str] = (), lr: float | None = None) -> dict:
    """Train ``build()`` (a torch module giving class logits) on ``sets["train"]``.

    ``training``: ``optimizer``, ``options``, ``lr`` (unless given as ``lr``), ``batch_size`` or
    ``batch_fraction``, ``epochs``, ``seed`` (weights, dropout and shuffling), ``device``.
    Returns ``history`` (one entry per epoch: ``train_loss``, the running mean of the minibatch
    losses in training mode, and ``<set>_accuracy`` and ``<set>_cross_entropy`` of the monitored
    sets in evaluation mode), ``scores`` (``{set: accuracy_with_ci + loss}`` for
    the monitored and final sets after the last epoch), ``lr``, ``batch_size``,
    ``fit_seconds``, ``diverged`` and ``error`` (the message when the loss diverged; then
    ``scores`` is empty and ``history`` is None).
    """
    import torch

    from mlreview.nn.training import TrainingDiverged, as_tensor, evaluate_classifier, make_optimizer, setup, train

    device = setup(threads, training["device"])
    lr = float(training["lr"] if lr is None else lr)
    n_train = len(sets["train"][1])
    size = batch_size(training, n_train)
    tensors = {k: (as_tensor(X, device=device), as_tensor(y, dtype=torch.int64, device=device))
               for k, (X, y) in sets.items()}
    torch.manual_seed(int(training["seed"]))
    model = build().to(device)
    optimizer = make_optimizer(model, training["optimizer"], lr, options=training.get("options"))
    last: dict[str, dict] = {}

    def evaluate(m) -> dict:
        last.clear()
        last.update(evaluate_classifier(m, {k: tensors[k] for k in monitor}, confidence, eval_batch_size))
        return {key: value for k, v in last.items()
                for key, value in ((f"{k}_accuracy", v["accuracy"]), (f"{k}_cross_entropy", v["loss"]))}

    start = time.perf_counter()
    out = {"lr": lr, "batch_size": size, "epochs": int(training["epochs"]), "n_train": n_train}
    try:
        history = train(model, torch.nn.CrossEntropyLoss(), *tensors["train"], optimizer=optimizer,
                        epochs=int(training["epochs"]), batch_size=size, seed=int(training["seed"]),
                        evaluate=evaluate if monitor else None, name=name)
    except TrainingDiverged as err:
        log.warning("%s", err)
        return {**out, "history": None, "scores": {}, "fit_seconds": time.perf_counter() - start,
                "diverged": True, "error": str(err)}
    seconds = time.perf_counter() - start
    scores = dict(last)
    rest = [k for k in final if k not in scores]
    if rest:
        model.eval()
        scores.update(evaluate_classifier(model, {k: tensors[k] for k in rest}, confidence, eval_batch_size))
    return {**out, "history": history, "scores": scores, "fit_seconds": seconds, "diverged": False, "error": None}


def value_label(value: float) -> str:
    """How a grid value appears in file names and metrics keys: ``1e-05``, ``0.1``, ``200000``."""
    return f"{float(value):g}"


def read_cells(paths: Sequence[Path] | Path) -> list[dict]:
    """The metrics of the grid cells (each cell's metrics file, without its provenance)."""
    paths = [paths] if isinstance(paths, (str, Path)) else list(paths)
    return [load_json(p)["metrics"] for p in paths]


def index_cells(cells: Sequence[Mapping], keys: Sequence[str]) -> dict[tuple, Mapping]:
    """``{(cell[k] for k in keys): cell}``; an error when two cells share the same values."""
    out: dict[tuple, Mapping] = {}
    for cell in cells:
        at = tuple(float(cell[k]) for k in keys)
        if at in out:
            raise MlreviewError(f"two grid cells at {dict(zip(keys, at))}")
        out[at] = cell
    return out


def grid_table(cells: Mapping[tuple, Mapping], rows: Sequence[float], cols: Sequence[float],
               value: Callable[[Mapping], float | None]) -> np.ndarray:
    """``value(cell)`` on the rows x columns grid; NaN where it is None (a diverged cell).
    Every grid point must have its cell."""
    table = np.full((len(rows), len(cols)), np.nan)
    for i, r in enumerate(rows):
        for j, c in enumerate(cols):
            cell = cells.get((float(r), float(c)))
            if cell is None:
                raise MlreviewError(f"no grid cell at ({r:g}, {c:g}); rerun the cell jobs of this grid")
            v = value(cell)
            table[i, j] = np.nan if v is None else float(v)
    return table


def accuracy_tables(cells: Mapping[tuple, Mapping], rows: Sequence[float], cols: Sequence[float],
                    set_name: str) -> dict[str, np.ndarray]:
    """``{accuracy, ci_low, ci_high}`` tables of one evaluation set (NaN for diverged cells)."""
    def field(name):
        return lambda cell: None if cell["diverged"] else cell[set_name][name]
    return {name: grid_table(cells, rows, cols, field(name)) for name in ACCURACY_FIELDS}


