"""The one training loop of the project: every torch model (logistic regression on SUSY, the DNNs
and CNNs of Sections IX-X, the VAE) is trained by :func:`train`.

What it guarantees:

* **Seeded shuffling** - each epoch visits the training rows in an order drawn from a
  ``torch.Generator`` seeded from the config (``seed``), independent of any other random draw;
* **determinism on CPU** - :func:`setup` fixes the thread count and switches on torch's
  deterministic algorithms (``torch.set_deterministic_debug_mode``), so two runs with the same
  seed give identical weights and metrics (tested);
* **per-epoch metrics** - mean training loss, plus whatever the caller's ``evaluate(model)``
  returns (accuracies on named sets, ...), collected in a history (a list of dicts, one per
  epoch) that :func:`save_history` writes as JSON;
* **a clear error on divergence** - a loss that is not finite stops training with
  :class:`TrainingDiverged` (epoch, step, learning rate, and what to try), not with NaN weights;
* **progress in the log** - one line per epoch, and within long epochs a line every
  ``progress_every`` seconds.

Regularisation (``weight_decay``) is set per parameter group by :func:`make_optimizer`: by
default it applies to weights only, not to biases, which for plain SGD is exactly the gradient of
``weight_decay * (1/2) * ||W||^2`` added to the loss.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

from mlreview.errors import MlreviewError
from mlreview.io import save_json, to_jsonable

log = logging.getLogger(__name__)

#: config name -> torch optimizer class (the optimizers the review compares, Section IX)
OPTIMIZERS: dict[str, type[torch.optim.Optimizer]] = {
    "sgd": torch.optim.SGD,
    "rmsprop": torch.optim.RMSprop,
    "adagrad": torch.optim.Adagrad,
    "adadelta": torch.optim.Adadelta,
    "adam": torch.optim.Adam,
    "adamax": torch.optim.Adamax,
    "nadam": torch.optim.NAdam,
}


class TrainingDiverged(MlreviewError):
    """The training loss became NaN or infinite."""


def resolve_device(device: str = "cpu") -> torch.device:
    """``cpu``, ``cuda`` (an error when there is none) or ``auto`` (a GPU when present)."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise MlreviewError(f"device {device!r} asked for, but torch sees no GPU; set device: cpu or auto")
    return torch.device(device)


def setup(threads: int = 1, device: str = "cpu", deterministic: bool = True) -> torch.device:
    """Fix torch's thread count and determinism for a step; return the device to use."""
    torch.set_num_threads(max(int(threads), 1))
    # The flag of torch.use_deterministic_algorithms(mode, warn_only=True), set without it: that
    # function also sets torch._inductor's config (for torch.compile, which the project does not
    # use), and importing torch._inductor and torch._dynamo cost up to 3 CPU-s per torch step (about
    # 0.8 where torch.optim imports torch._dynamo at its first step anyway).
    torch.set_deterministic_debug_mode("warn" if deterministic else "default")
    # Deterministic mode also fills every new uninitialised tensor (torch.empty, the outputs of
    # convolutions, pooling, matrix products, ...) with NaN, a debugging aid that catches reads of
    # uninitialised memory; no result depends on it, and it cost 7-17% of the CPU time of the
    # torch steps (aten::fill_). Results stay identical with it off (measured on Figs 41, 45).
    torch.utils.deterministic.fill_uninitialized_memory = False
    # Denormal floats (below 1.2e-38 in float32) are flushed to zero: the optimizers' running averages
    # of squared gradients decay geometrically into that range for weights whose gradient is zero (a
    # dead ReLU unit), and every operation on a denormal is tens of times slower on x86 (torch's
    # sqrt of 400,000 of them: 8.9 against 0.25 ms). The VAE of Figs 77-78, paper scale, 6 epochs:
    # 94.5 -> 74.1 CPU-s, weights and metrics identical. A denormal is below the smallest step any
    # update here can resolve (eps = 1e-7 is added to the square root before dividing).
    torch.set_flush_denormal(True)
    return resolve_device(device)


def make_optimizer(model: nn.Module, name: str, lr: float, weight_decay: float = 0.0,
                   decay_bias: bool = False, options: Mapping | None = None) -> torch.optim.Optimizer:
    """A torch optimizer by config name, with L2 weight decay on the weights (matrices and
    filters); biases (1D parameters) are decayed only when ``decay_bias``."""
    try:
        cls = OPTIMIZERS[name.lower()]
    except KeyError:
        raise MlreviewError(f"unknown optimizer {name!r}; choose one of {sorted(OPTIMIZERS)}") from None
    decayed, plain = [], []
    for param in model.parameters():
        if param.requires_grad:
            (decayed if decay_bias or param.ndim > 1 else plain).append(param)
    groups = [{"params": decayed, "weight_decay": float(weight_decay)}]
    if plain:
        groups.append({"params": plain, "weight_decay": 0.0})
    return cls(groups, lr=float(lr), **dict(options or {}))


def as_tensor(array, dtype=torch.float32, device: torch.device | str = "cpu") -> torch.Tensor:
    """A numpy array (or tensor) as a contiguous tensor of ``dtype`` on ``device``."""
    if isinstance(array, torch.Tensor):
        return array.to(device=device, dtype=dtype)
    # a read-only array (e.g. memory-mapped or from arrow) is copied: torch tensors are writable
    return torch.from_numpy(np.require(array, requirements=["C", "W"])).to(device=device, dtype=dtype)


def train(model: nn.Module, loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
          X: torch.Tensor, y: torch.Tensor, *, optimizer: torch.optim.Optimizer, epochs: int,
          batch_size: int, seed: int, evaluate: Callable[[nn.Module], Mapping] | None = None,
          name: str = "model", progress_every: float = 30.0) -> list[dict]:
    """Minibatch training; returns the history, one dict per epoch.

    ``loss_fn(model(X[batch]), y[batch])`` is the mean loss of a minibatch. The rows are shuffled
    every epoch with a generator seeded by ``seed``; the last minibatch of an epoch may be smaller.
    ``evaluate(model)`` (called in eval mode under ``torch.inference_mode`` after every epoch) adds its dict to
    the epoch's entry. Raises :class:`TrainingDiverged` when a minibatch loss is not finite.
    """
    n = len(X)
    if n == 0:
        raise MlreviewError(f"{name}: no training rows")
    if len(y) != n:
        raise ValueError(f"{name}: X has {n} rows but y has {len(y)}")
    batch_size = max(1, min(int(batch_size), n))
    generator = torch.Generator().manual_seed(int(seed))
    steps = math.ceil(n / batch_size)
    lr = optimizer.param_groups[0].get("lr")
    history: list[dict] = []
    for epoch in range(1, int(epochs) + 1):
        model.train()
        start = last_report = time.perf_counter()
        order = torch.randperm(n, generator=generator).to(X.device)
        total, seen = 0.0, 0
        for step in range(steps):
            rows = order[step * batch_size:(step + 1) * batch_size]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(X[rows]), y[rows])
            value = float(loss.detach())
            if not math.isfinite(value):
                raise TrainingDiverged(
                    f"{name}: the training loss became {value} at epoch {epoch}, step {step + 1} of {steps} "
                    f"(learning rate {lr}); lower the learning rate or standardise the inputs")
            loss.backward()
            optimizer.step()
            total += value * len(rows)
            seen += len(rows)
            now = time.perf_counter()
            if now - last_report >= progress_every:
                log.info("%s: epoch %d/%d, step %d/%d, mean loss so far %.5f", name, epoch, epochs, step + 1,
                         steps, total / seen)
                last_report = now
        entry = {"epoch": epoch, "train_loss": total / seen, "seconds": time.perf_counter() - start}
        if evaluate is not None:
            model.eval()
            with torch.inference_mode():
                entry.update(evaluate(model))
        history.append(entry)
        shown = ", ".join(f"{k} {v:.4f}" for k, v in entry.items()
                          if k not in ("epoch",) and isinstance(v, float))
        log.info("%s: epoch %d/%d: %s", name, epoch, epochs, shown)
    return history


@torch.inference_mode()
def predict(model: nn.Module, X: torch.Tensor, batch_size: int = 65536,
            transform: Callable[[torch.Tensor], torch.Tensor] | None = None) -> np.ndarray:
    """The model's outputs (through ``transform``, e.g. ``torch.sigmoid``) on ``X`` in batches,
    as a numpy array; the model is put in eval mode."""
    model.eval()
    parts = []
    for start in range(0, len(X), int(batch_size)):
        out = model(X[start:start + int(batch_size)])
        parts.append((transform(out) if transform is not None else out).cpu())
    return torch.cat(parts).numpy() if parts else np.empty((0,))


def evaluate_classifier(model: nn.Module, sets: Mapping[str, tuple[torch.Tensor, torch.Tensor]],
                        confidence: float = 0.95, batch_size: int = 65536) -> dict[str, dict]:
    """Accuracy (argmax of the logits; with its Wilson interval) and mean cross-entropy of a
    classifier giving one logit per class, on each named set ``{name: (X, y)}``; the model is
    put in eval mode (dropout off, batch norm with its running statistics)."""
    from mlreview.stats import accuracy_with_ci

    out = {}
    for name, (X, y) in sets.items():
        logits = torch.from_numpy(predict(model, X, batch_size))
        labels = y.detach().cpu().long()
        loss = float(nn.functional.cross_entropy(logits.double(), labels))
        out[name] = {**accuracy_with_ci(labels.numpy(), logits.argmax(1).numpy(), confidence), "loss": loss}
    return out


def save_history(path: str | Path, history: list[dict], **extra) -> None:
    """The per-epoch history (and any extra entries) as JSON, written atomically."""
    save_json(path, to_jsonable({"history": history, **extra}))


def history_arrays(history: Sequence[Mapping] | None, keys: Sequence[str]) -> dict[str, np.ndarray]:
    """Per-epoch columns of a training history (empty arrays for a diverged run)."""
    history = history or []
    return {k: np.array([entry[k] for entry in history], dtype=float) for k in keys}
