"""Training of the energy-based models: one CD-k / PCD-k / exact-gradient loop with ADAM, L1, L2 and
the learning-rate schedules, for RBMs and DBMs alike; layer-wise pretraining of a DBM; the config
sections translated into the loop's settings. See :mod:`mlreview.ebm` for the API."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import torch
from torch import nn

from mlreview.ebm.energy import DBM, RBM, _numpy, all_states, make_generator
from mlreview.ebm.likelihood import _all_joint_states, _check_enumerable, _state_codes, visible_probabilities
from mlreview.errors import MlreviewError
from mlreview.nn.training import TrainingDiverged, as_tensor

log = logging.getLogger(__name__)

SCHEDULES = ("inverse_epoch", "power", "constant")
METHODS = ("pcd", "cd", "exact")
#: the settings of :func:`fit` that a config section may hold, and their types (:func:`fit_options`)
FIT_OPTIONS = {"epochs": int, "batch_size": int, "lr": float, "schedule": str, "method": str, "k": int,
               "n_chains": int, "l1": float, "l2": float, "eps": float, "mean_field_iter": int}


# ----------------------------------------------------------------------------------------------
# gradients
# ----------------------------------------------------------------------------------------------


def statistics(model: RBM | DBM, states: list[torch.Tensor],
               weights: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
    """Mean (weighted by ``weights``, which sum to 1; uniform when None) of -dE/dtheta for every
    trainable parameter, from positive/negative states ([v, E[h | v]] for an RBM; a full list of layer
    values for a DBM)."""
    n = states[0].shape[0]
    if weights is None:
        weights = torch.full((n,), 1.0 / n, dtype=states[0].dtype, device=states[0].device)
    return model.state_statistics(states, weights)


@torch.no_grad()
def exact_gradient(model: RBM | DBM, data) -> dict[str, torch.Tensor]:
    """The exact gradient of the mean log-likelihood of ``data`` of a small RBM (or a small DBM, whose
    data term is then the exact posterior expectation): data statistics minus model statistics,
    both by enumeration."""
    v = model._t(data)
    if isinstance(model, RBM):
        pos = statistics(model, model.positive_states(v))
        states = all_states(model.n_visible, model.dtype, model.device)
        p = visible_probabilities(model).to(model.dtype)
        neg = statistics(model, model.positive_states(states), p)
        return {k: pos[k] - neg[k] for k in pos}
    # small DBM: enumerate every joint state
    joint = _all_joint_states(model)
    log_w = -model.energy(joint)
    p_model = torch.softmax(log_w, 0)
    neg = statistics(model, joint, p_model)
    pos = None
    code = _state_codes(joint[0])
    for row in v:
        match = code == _state_codes(row[None, :])[0]
        p_post = torch.softmax(torch.where(match, log_w, torch.full_like(log_w, -math.inf)), 0)
        s = statistics(model, joint, p_post)
        pos = s if pos is None else {k: pos[k] + s[k] for k in s}
    return {k: pos[k] / len(v) - neg[k] for k in neg}


# ----------------------------------------------------------------------------------------------
# training
# ----------------------------------------------------------------------------------------------


def fit_options(*sections: Mapping) -> dict:
    """The keyword arguments of :func:`fit` found in config ``sections`` (the keys of
    :data:`FIT_OPTIONS`, and ``betas`` as a tuple); a later section overrides an earlier one, e.g.
    the shared ``training`` settings and then a stage's ``pretrain``. Other keys are ignored."""
    out: dict = {}
    for section in sections:
        out.update({key: cast(section[key]) for key, cast in FIT_OPTIONS.items() if key in section})
        if "betas" in section:
            out["betas"] = tuple(float(b) for b in section["betas"])
    return out


def learning_rate(lr0: float, epoch: int, schedule: str = "inverse_epoch") -> float:
    """The learning rate of epoch ``epoch`` (t = 0, 1, ...): ``inverse_epoch`` lr0/(1 + t) (spec
    decision k), ``power`` lr0/(1 + lr0 t) = 1/(1/lr0 + t) (Paysage's power-law decay with
    coefficient 1, the authors' notebook), ``constant`` lr0."""
    if schedule == "inverse_epoch":
        return lr0 / (1.0 + epoch)
    if schedule == "power":
        return lr0 / (1.0 + lr0 * epoch)
    if schedule == "constant":
        return float(lr0)
    raise MlreviewError(f"unknown learning-rate schedule {schedule!r}; choose one of {SCHEDULES}")


def _seeds(seed: int, n: int) -> list[int]:
    return [int(s.generate_state(1)[0]) for s in np.random.SeedSequence(int(seed)).spawn(n)]


def fit(model: RBM | DBM, data, *, epochs: int, batch_size: int, lr: float,
        schedule: str = "inverse_epoch", method: str = "pcd", k: int = 1, n_chains: int | None = None,
        l1: float = 0.0, l2: float = 0.0, seed: int = 0, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
        mean_field_iter: int = 10, evaluate: Callable[[RBM | DBM, int], Mapping] | None = None,
        evaluate_initial: bool = False, name: str = "ebm", progress_every: float = 30.0) -> list[dict]:
    """Train an RBM or a DBM by CD-k or PCD-k with ADAM; returns the per-epoch history.

    ``method="exact"`` (an RBM with at most ``MAX_ENUMERATION_UNITS`` visible units) takes the model
    statistics exactly, by enumerating the visible states: the exact log-likelihood gradient of the
    minibatch, a reference for CD and PCD on small models.

    Each minibatch (rows shuffled every epoch by a generator seeded from ``seed``): the data
    statistics of the minibatch (exact E[h | v] for an RBM, ``mean_field_iter`` mean-field sweeps for a
    DBM) minus the model statistics of the chains after ``k`` Gibbs steps (PCD: ``n_chains``
    persistent chains, default the batch size, started from random states; CD: chains started at the
    minibatch) give the log-likelihood gradient; the L1 penalty ``l1 * sum |W|`` and the L2 penalty
    (weight decay) ``(l2 / 2) * sum W^2`` on the weights (not the biases) are subtracted; ADAM
    (moments ``betas``, ``eps``) ascends it with the learning rate ``learning_rate(lr, t, schedule)``
    of epoch t = 0, 1, .... The history has per epoch: ``epoch`` (1-based), ``lr``, ``seconds``,
    ``recon_mse`` (mean squared error between the minibatch and the visible mean after one
    deterministic up-down pass, averaged over minibatches) and whatever ``evaluate(model, epoch)``
    returns (also at epoch 0 before training when ``evaluate_initial``).
    """
    if method not in METHODS:
        raise MlreviewError(f"unknown training method {method!r}; choose one of {METHODS}")
    learning_rate(lr, 0, schedule)  # validates the schedule name
    X = model._t(_numpy(data))
    n = len(X)
    if n == 0:
        raise MlreviewError(f"{name}: no training rows")
    batch_size = max(1, min(int(batch_size), n))
    steps = math.ceil(n / batch_size)
    shuffle_seed, chain_seed = _seeds(seed, 2)
    shuffle = torch.Generator().manual_seed(shuffle_seed)
    gen = make_generator(chain_seed, model.device)
    chains = model.init_chains(int(n_chains or batch_size), gen) if method == "pcd" else None
    if method == "exact":
        if not isinstance(model, RBM):
            raise MlreviewError("method 'exact' is implemented for RBMs")
        _check_enumerable(model.n_visible, "visible units")
        all_v = all_states(model.n_visible, model.dtype, model.device)
    optimizer = torch.optim.Adam(model.parameters(), lr=float(lr), betas=tuple(betas), eps=float(eps))
    named = dict(model.named_parameters())
    weight_names = {nm for nm, p in named.items() if any(p is w for w in model.weights)}
    history: list[dict] = []
    if evaluate is not None and evaluate_initial:
        with torch.no_grad():
            history.append({"epoch": 0, **evaluate(model, 0)})
    for epoch in range(1, int(epochs) + 1):
        rate = learning_rate(lr, epoch - 1, schedule)
        for group in optimizer.param_groups:
            group["lr"] = rate
        start = last_report = time.perf_counter()
        order = torch.randperm(n, generator=shuffle).to(X.device)
        recon = 0.0
        for step in range(steps):
            v = X[order[step * batch_size:(step + 1) * batch_size]]
            with torch.no_grad():
                pos = statistics(model, model.positive_states(v, mean_field_iter=mean_field_iter))
                if method == "exact":
                    p_model = visible_probabilities(model).to(model.dtype)
                    neg = statistics(model, model.positive_states(all_v), p_model)
                else:
                    start_chains = chains if method == "pcd" else model.chains_from_data(v, gen)
                    advanced = model.advance_chains(start_chains, k, gen)
                    if method == "pcd":
                        chains = advanced
                    neg = statistics(model, model.negative_states(advanced))
                for nm, p in named.items():
                    grad = neg[nm] - pos[nm]  # minimise -log-likelihood
                    if l1 and nm in weight_names:
                        grad = grad + float(l1) * torch.sign(p)
                    if l2 and nm in weight_names:
                        grad = grad + float(l2) * p
                    p.grad = grad
                recon += float(((model.reconstruct(v, probabilities=True) - v) ** 2).mean()) * len(v)
            optimizer.step()
            _check_finite(model, name, epoch, step, steps, rate)
            now = time.perf_counter()
            if now - last_report >= progress_every:
                log.info("%s: epoch %d/%d, step %d/%d", name, epoch, epochs, step + 1, steps)
                last_report = now
        entry = {"epoch": epoch, "lr": rate, "seconds": time.perf_counter() - start, "recon_mse": recon / n}
        if evaluate is not None:
            with torch.no_grad():
                entry.update(evaluate(model, epoch))
        history.append(entry)
        shown = ", ".join(f"{key} {val:.4g}" for key, val in entry.items()
                          if key != "epoch" and isinstance(val, float))
        log.info("%s: epoch %d/%d: %s", name, epoch, epochs, shown)
    return history


def _check_finite(model: nn.Module, name: str, epoch: int, step: int, steps: int, rate: float) -> None:
    for nm, p in model.named_parameters():
        if not bool(torch.isfinite(p).all()):
            raise TrainingDiverged(
                f"{name}: parameter {nm} became non-finite at epoch {epoch}, step {step + 1} of {steps} "
                f"(learning rate {rate}); lower the learning rate")


def pretrain_dbm(data, layer_sizes: Sequence[int], *, seed: int, dtype=torch.float32,
                 device: torch.device | str = "cpu", evaluate: Callable | None = None,
                 **fit_kwargs) -> tuple[DBM, list[list[dict]]]:
    """Layer-wise pretraining: RBM 0-1 on the data, then RBM l-(l+1) on the conditional probabilities
    p(h_l | h_{l-1}) of the layer below (propagated from the data), each initialised as in spec Fig 60
    (the visible biases of an upper RBM from the means of its input) and trained by :func:`fit` with
    ``fit_kwargs``; returns :meth:`DBM.from_rbms` of them and their histories."""
    sizes = [int(s) for s in layer_sizes]
    X = as_tensor(_numpy(data), dtype=dtype, device=device)
    seeds = _seeds(seed, 2 * (len(sizes) - 1))
    rbms, histories = [], []
    for l in range(len(sizes) - 1):
        rbm = RBM(sizes[l], sizes[l + 1], "bernoulli", dtype=dtype, device=device)
        rbm.initialize(X, make_generator(seeds[2 * l], device))
        hist = fit(rbm, X, seed=seeds[2 * l + 1], name=f"pretrain RBM {l}-{l + 1}",
                   evaluate=evaluate, **fit_kwargs)
        rbms.append(rbm)
        histories.append(hist)
        with torch.no_grad():
            X = rbm.hidden_mean(X)
    return DBM.from_rbms(rbms), histories


