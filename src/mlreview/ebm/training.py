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
               "n_chains": int, "l1": float, "l2": float, "eps": float, "mean_field_iter": int, "optimizer": str,
               "momentum": float, "bias_lr_scale": float, "centering": bool, "centering_rate": float,
               "flip_moves": bool, "keep_best": str, "patience": int}
OPTIMIZERS = ("adam", "sgd")


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
        mean_field_iter: int = 10, optimizer: str = "adam", momentum: float = 0.0, bias_lr_scale: float = 1.0,
        centering: bool = False, centering_rate: float = 0.01, flip_moves: bool = False,
        keep_best: str | None = None, patience: int = 0,
        evaluate: Callable[[RBM | DBM, int], Mapping] | None = None,
        evaluate_chains: Callable[[list[torch.Tensor], int], Mapping] | None = None,
        evaluate_initial: bool = False, name: str = "ebm", progress_every: float = 30.0) -> list[dict]:
    """Train an RBM or a DBM by CD-k or PCD-k with ADAM (or SGD); returns the per-epoch history.

    ``method="exact"`` (an RBM with at most ``MAX_ENUMERATION_UNITS`` visible units) takes the model
    statistics exactly, by enumerating the visible states: the exact log-likelihood gradient of the
    minibatch, a reference for CD and PCD on small models.

    Each minibatch (rows shuffled every epoch by a generator seeded from ``seed``): the data
    statistics of the minibatch (exact E[h | v] for an RBM, ``mean_field_iter`` mean-field sweeps for a
    DBM) minus the model statistics of the chains after ``k`` Gibbs steps (PCD: ``n_chains``
    persistent chains, default the batch size, started from random states; CD: chains started at the
    minibatch) give the log-likelihood gradient; the L1 penalty ``l1 * sum |W|`` and the L2 penalty
    (weight decay) ``(l2 / 2) * sum W^2`` on the weights (not the biases) are subtracted; ADAM
    (moments ``betas``, ``eps``; ``optimizer="sgd"``: plain SGD with ``momentum``) ascends it with the
    learning rate ``learning_rate(lr, t, schedule)`` of epoch t = 0, 1, ..., times ``bias_lr_scale``
    for the biases. ``centering`` (Bernoulli units only) takes the centred gradient (Montavon & Mueller
    2012; Melchior, Fischer & Wiskott 2016, see :class:`Centering`): the model keeps its ordinary
    parameters and distribution, only the direction of each step changes. ``flip_moves`` follows the
    ``k`` Gibbs steps of the chains by a Metropolis-Hastings global flip v -> 1 - v (``flip_visible``
    of the model), so that chains cross between the two magnetised modes of Ising states. The history
    has per epoch: ``epoch`` (1-based), ``lr``, ``seconds``, ``recon_mse`` (mean squared error between
    the minibatch and the visible mean after one deterministic up-down pass, averaged over
    minibatches) and whatever ``evaluate(model, epoch)`` returns (also at epoch 0 before training when
    ``evaluate_initial``), and for PCD whatever ``evaluate_chains(chains, epoch)`` returns from the
    persistent chains (a list of the states of every layer; an RBM's are [v]) at the end of the epoch.

    ``keep_best`` (early stopping on a monitor): the name of a number of the history (e.g. a validation
    pseudo-log-likelihood returned by ``evaluate``) to maximise; when the epochs report it, the model
    ends with the parameters of the epoch where it was largest (every entry gets ``kept``, 1.0 for
    that epoch and 0.0 for the others), and with ``patience`` > 0 training stops after that many epochs without a new
    maximum. Epochs that do not report it (e.g. a model the monitor skips) train as usual.
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
    named = dict(model.named_parameters())
    weight_names = {nm for nm, p in named.items() if any(p is w for w in model.weights)}
    opt = _optimizer(optimizer, named, weight_names, lr, betas, eps, momentum, bias_lr_scale)
    centre = Centering(model, X, centering_rate) if centering else None
    history: list[dict] = []
    best: tuple[float, int, dict] | None = None  # (value, index in history, parameters) for keep_best
    if evaluate is not None and evaluate_initial:
        with torch.no_grad():
            history.append({"epoch": 0, **evaluate(model, 0)})
    for epoch in range(1, int(epochs) + 1):
        rate = learning_rate(lr, epoch - 1, schedule)
        for group in opt.param_groups:
            group["lr"] = rate * group["scale"]
        start = last_report = time.perf_counter()
        order = torch.randperm(n, generator=shuffle).to(X.device)
        recon = 0.0
        for step in range(steps):
            v = X[order[step * batch_size:(step + 1) * batch_size]]
            with torch.no_grad():
                positive = model.positive_states(v, mean_field_iter=mean_field_iter)
                pos = statistics(model, positive)
                if method == "exact":
                    p_model = visible_probabilities(model).to(model.dtype)
                    neg = statistics(model, model.positive_states(all_v), p_model)
                else:
                    start_chains = chains if method == "pcd" else model.chains_from_data(v, gen)
                    advanced = model.advance_chains(start_chains, k, gen)
                    if flip_moves:
                        advanced = model.flip_visible(advanced, gen)
                    if method == "pcd":
                        chains = advanced
                    neg = statistics(model, model.negative_states(advanced))
                grads = {nm: neg[nm] - pos[nm] for nm in named}  # minimise -log-likelihood
                if centre is not None:
                    grads = centre.gradient(grads, pos)
                for nm, p in named.items():
                    grad = grads[nm]
                    if l1 and nm in weight_names:
                        grad = grad + float(l1) * torch.sign(p)
                    if l2 and nm in weight_names:
                        grad = grad + float(l2) * p
                    p.grad = grad
                # the parameters are still those of the positive phase: an RBM reuses its E[h | v]
                recon += float(((model.reconstruct(v, probabilities=True, positive=positive) - v) ** 2).mean()) * len(v)
                before = centre.weights(named) if centre is not None else None
            opt.step()
            if centre is not None:
                centre.after_step(named, before, pos)
            _check_finite(model, name, epoch, step, steps, rate)
            now = time.perf_counter()
            if now - last_report >= progress_every:
                log.info("%s: epoch %d/%d, step %d/%d", name, epoch, epochs, step + 1, steps)
                last_report = now
        entry = {"epoch": epoch, "lr": rate, "seconds": time.perf_counter() - start, "recon_mse": recon / n}
        with torch.no_grad():
            if evaluate is not None:
                entry.update(evaluate(model, epoch))
            if evaluate_chains is not None and chains is not None:
                entry.update(evaluate_chains(chains, epoch))
        history.append(entry)
        shown = ", ".join(f"{key} {val:.4g}" for key, val in entry.items()
                          if key != "epoch" and isinstance(val, float))
        log.info("%s: epoch %d/%d: %s", name, epoch, epochs, shown)
        if keep_best and keep_best in entry:
            if best is None or entry[keep_best] > best[0]:
                best = (float(entry[keep_best]), len(history) - 1,
                        {k: v.detach().clone() for k, v in model.state_dict().items()})
            elif patience and epoch - history[best[1]]["epoch"] >= int(patience):
                log.info("%s: no better %s for %d epochs: stopping at epoch %d", name, keep_best, patience, epoch)
                break
    if best is not None:
        model.load_state_dict(best[2])
        for i, entry in enumerate(history):
            entry["kept"] = float(i == best[1])
        log.info("%s: keeping epoch %d (%s %.4g)", name, history[best[1]]["epoch"], keep_best, best[0])
    return history


def _optimizer(kind: str, named: Mapping[str, nn.Parameter], weight_names: set, lr: float, betas, eps: float,
               momentum: float, bias_lr_scale: float) -> torch.optim.Optimizer:
    """ADAM or SGD over two parameter groups, the weights and the biases, whose ``scale`` (1 and
    ``bias_lr_scale``) multiplies the epoch's learning rate."""
    groups = [{"params": [p for nm, p in named.items() if nm in weight_names], "scale": 1.0},
              {"params": [p for nm, p in named.items() if nm not in weight_names], "scale": float(bias_lr_scale)}]
    groups = [g for g in groups if g["params"]]
    if kind == "adam":
        return torch.optim.Adam(groups, lr=float(lr), betas=tuple(betas), eps=float(eps))
    if kind == "sgd":
        return torch.optim.SGD(groups, lr=float(lr), momentum=float(momentum))
    raise MlreviewError(f"unknown optimizer {kind!r}; choose one of {OPTIMIZERS}")


class Centering:
    """The centring trick for Bernoulli RBMs and DBMs (Montavon & Mueller 2012; Melchior, Fischer &
    Wiskott 2016, "How to center deep Boltzmann machines", algorithm 1 with data-mean offsets).

    The energy is written with every layer shifted by an offset mu_l,
    E = -sum_l (x_l - mu_l).b'_l - sum_l (x_{l-1} - mu_{l-1})^T W_l (x_l - mu_l), and the gradient is
    taken in the centred parameters (W, b'): dW_l = <(x_{l-1} - mu_{l-1})(x_l - mu_l)^T>_data - <...>_model
    = dW - mu_{l-1} db_l^T - db_{l-1} mu_l^T (plain gradients on the right), db'_l = db_l. The model keeps
    its ordinary parameters (b_l = b'_l - W_l^T mu_{l-1} - W_{l+1} mu_{l+1} + const), so after each step
    the change of every W_l is taken out of the biases of its two layers (:meth:`after_step`).
    Offsets: the visible one is the mean of the training data; a hidden one starts at the data-phase
    mean of the first minibatch and follows the data-phase means as a sliding average with ``rate``.
    """

    def __init__(self, model: RBM | DBM, data: torch.Tensor, rate: float):
        if model.hidden != "bernoulli":
            raise MlreviewError("centering is implemented for Bernoulli hidden units only")
        if isinstance(model, RBM):
            self.couplings = [("W", "a", "b")]
        else:
            self.couplings = [(f"Ws.{l}", f"bs.{l}", f"bs.{l + 1}") for l in range(model.n_layers - 1)]
        self.visible = self.couplings[0][1]
        # the weights' scales in the conditionals of the lower and the upper layer (doubled-weight RBMs)
        self.up_scale, self.down_scale = float(getattr(model, "up_scale", 1.0)), float(getattr(model, "down_scale", 1.0))
        self.offsets = {self.visible: data.mean(0)}
        self.rate = float(rate)

    def gradient(self, grads: dict[str, torch.Tensor], pos: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """The centred gradients from the plain ones (``pos``: the data-phase statistics, whose bias
        entries are the layer means that set the hidden offsets at the first call)."""
        for _, _, upper in self.couplings:
            self.offsets.setdefault(upper, pos[upper].clone())
        out = dict(grads)
        for w, lower, upper in self.couplings:
            out[w] = grads[w] - torch.outer(self.offsets[lower], grads[upper]) \
                - torch.outer(grads[lower], self.offsets[upper])
        return out

    def weights(self, named: Mapping[str, nn.Parameter]) -> dict[str, torch.Tensor]:
        return {w: named[w].detach().clone() for w, _, _ in self.couplings}

    @torch.no_grad()
    def after_step(self, named: Mapping[str, nn.Parameter], before: Mapping[str, torch.Tensor],
                   pos: Mapping[str, torch.Tensor]) -> None:
        """Move the change of the weights out of the biases, then slide the hidden offsets."""
        for w, lower, upper in self.couplings:
            delta = named[w] - before[w]
            named[lower].sub_(self.down_scale * (delta @ self.offsets[upper]))
            named[upper].sub_(self.up_scale * (delta.T @ self.offsets[lower]))
        for name in self.offsets:
            if name != self.visible:
                self.offsets[name].mul_(1.0 - self.rate).add_(pos[name], alpha=self.rate)


def _check_finite(model: nn.Module, name: str, epoch: int, step: int, steps: int, rate: float) -> None:
    # A sum is finite when every element is (NaN and inf propagate), and summing is about fifty times
    # faster than `isfinite(p).all()` (2.5 ms for 1,600 x 400 floats, every step); a non-finite sum of
    # finite elements (an overflow) is told apart by the full check.
    for nm, p in model.named_parameters():
        if not bool(torch.isfinite(p.sum())) and not bool(torch.isfinite(p).all()):
            raise TrainingDiverged(
                f"{name}: parameter {nm} became non-finite at epoch {epoch}, step {step + 1} of {steps} "
                f"(learning rate {rate}); lower the learning rate")


def doubled_scales(n_rbms: int) -> list[tuple[float, float]]:
    """(up_scale, down_scale) of each RBM of the doubled-weight pretraining of a DBM with ``n_rbms``
    hidden layers (Salakhutdinov & Hinton 2009): a layer that in the DBM has neighbours on both sides
    gets twice the input from its one neighbour in the RBM - the up pass of every RBM but the top
    one, the down pass of every RBM but the bottom one (for two hidden layers: 2W up in the first,
    2W down in the second)."""
    return [(2.0 if l < n_rbms - 1 else 1.0, 2.0 if l > 0 else 1.0) for l in range(int(n_rbms))]


def pretrain_dbm(data, layer_sizes: Sequence[int], *, seed: int, dtype=torch.float32,
                 device: torch.device | str = "cpu", evaluate: Callable | None = None,
                 doubled_weights: bool = False, **fit_kwargs) -> tuple[DBM, list[list[dict]]]:
    """Layer-wise pretraining: RBM 0-1 on the data, then RBM l-(l+1) on the conditional probabilities
    p(h_l | h_{l-1}) of the layer below (propagated from the data), each initialised as in spec Fig 60
    (the visible biases of an upper RBM from the means of its input) and trained by :func:`fit` with
    ``fit_kwargs``; returns :meth:`DBM.from_rbms` of them and their histories. ``doubled_weights``:
    the RBMs have the weight scales of :func:`doubled_scales` (Salakhutdinov & Hinton 2009), so that
    the stacked DBM does not count the input of a middle layer twice; the DBM takes their weights as
    they are."""
    sizes = [int(s) for s in layer_sizes]
    X = as_tensor(_numpy(data), dtype=dtype, device=device)
    seeds = _seeds(seed, 2 * (len(sizes) - 1))
    rbms, histories = [], []
    scales = doubled_scales(len(sizes) - 1) if doubled_weights else [(1.0, 1.0)] * (len(sizes) - 1)
    for l in range(len(sizes) - 1):
        rbm = RBM(sizes[l], sizes[l + 1], "bernoulli", dtype=dtype, device=device,
                  up_scale=scales[l][0], down_scale=scales[l][1])
        rbm.initialize(X, make_generator(seeds[2 * l], device))
        hist = fit(rbm, X, seed=seeds[2 * l + 1], name=f"pretrain RBM {l}-{l + 1}",
                   evaluate=evaluate, **fit_kwargs)
        rbms.append(rbm)
        histories.append(hist)
        with torch.no_grad():
            X = rbm.hidden_mean(X)
    return DBM.from_rbms(rbms), histories


