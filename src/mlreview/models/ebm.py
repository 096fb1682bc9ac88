"""Energy-based models of Sections XV-XVI, written in PyTorch: restricted Boltzmann machines (RBMs)
with Bernoulli or Gaussian ("Hopfield") hidden units, deep Boltzmann machines (DBMs) with any number
of Bernoulli layers, one persistent-contrastive-divergence training loop for both, exact partition
functions of small models and annealed importance sampling (AIS) for large ones.

Conventions: visible and Bernoulli hidden units take values in {0, 1}; every random draw takes an
explicit ``torch.Generator`` (:func:`make_generator`) on the model's device; a batch of states is a
2D tensor ``(n, units)``. Models are ``torch.nn.Module`` s whose trainable tensors are
``nn.Parameter`` s, so ``torch.optim`` optimisers (ADAM) drive them; their gradients are the
sufficient statistics of the energy, set by :func:`fit` (no autograd).

API
---
Models
  :class:`RBM` ``(n_visible, n_hidden, hidden="bernoulli"|"gaussian", dtype, device)``
      Bernoulli: E(v, h) = -a.v - b.h - v^T W h. Gaussian ("Hopfield", spec Fig 60): unit-variance hidden
      units with mean 0 and no hidden bias, E(v, h) = -a.v + |h|^2/2 - v^T W h, so that
      F(v) = -a.v - |W^T v|^2/2 - (n_hidden/2) log(2 pi) (the constant makes log Z the true normaliser).
      ``energy(v, h)``, ``free_energy(v)``, ``hidden_mean(v)``, ``sample_hidden(v, gen)``,
      ``visible_mean(h)``, ``sample_visible(h, gen)``, ``gibbs(v, steps, gen)`` (v -> h -> v, returns
      the final v), ``sample_visible_chain(n, steps, gen)`` (fantasy particles from random states),
      ``reconstruct(v, probabilities=False)`` (the spec's deterministic most-probable
      pass), ``initialize(data, gen)`` (Glorot weights, hidden biases 0, visible biases from the data
      means clipped to [0.01, 0.99]), ``weights`` (the list of coupling matrices), ``n_units``.
  :class:`DBM` ``(layer_sizes, dtype, device)`` - Bernoulli layers v = h_0, h_1, ..., h_L:
      E = -sum_l b_l.h_l - sum_l h_{l-1}^T W_l h_l; parameters ``W1..WL`` and ``b0..bL`` (b0 = the
      visible bias). ``energy(states)``, ``layer_mean(states, l)``, ``mean_field(v, n_iter)`` (fixed-point
      iterations with v clamped; returns [v, mu_1, ..., mu_L]), ``gibbs(states, steps, gen)`` (the
      odd/even layer-wise sampler of spec Fig 64: odd layers given even ones, then even layers given odd
      ones), ``sample_visible_chain(n, steps, gen)``, ``reconstruct(v, probabilities=False)`` (spec
      Fig 60: forward pass from below only, backward pass from above only), ``initialize(data, gen)``,
      ``DBM.from_rbms(rbms)`` (layer-wise pretraining result), ``log_f_odd(odd)`` / ``log_f_even(even)``
      (log of the unnormalised marginal of the odd / even layers, the other layers summed out),
      ``log_likelihood_lower_bound(v, log_z, n_iter)`` (the mean-field variational bound).
  :func:`pretrain_dbm` ``(data, layer_sizes, seed, **fit_kwargs)`` - RBM v-h1 on the data, RBM h1-h2 on
      p(h1 | v), ... then :meth:`DBM.from_rbms`.
Training
  :func:`fit` ``(model, data, *, epochs, batch_size, lr, schedule, method="pcd"|"cd", k, n_chains, l1,
      seed, betas, eps, evaluate, evaluate_initial, name, progress_every)`` - one loop for RBMs and DBMs:
      CD-k (chains restart at the minibatch) or PCD-k (``n_chains`` persistent chains from random
      states) or ``exact`` (model statistics by enumeration; small RBMs); positive phase = exact conditional expectation (RBM) or mean field (DBM); L1 penalty on
      the weights; ADAM; per-epoch history (learning rate, seconds, reconstruction error, plus
      ``evaluate(model, epoch)``); :class:`~mlreview.nn.training.TrainingDiverged` on non-finite
      parameters. Returns the history (a list of dicts).
  :func:`fit_options` ``(*sections)`` - the :func:`fit` keyword arguments held by config sections
      (later ones override earlier ones: shared settings, then a stage's).
  :func:`learning_rate` ``(lr0, epoch, schedule)`` - ``inverse_epoch``: lr0/(1+t) (spec decision k);
      ``power``: lr0/(1+lr0 t) (Paysage's power-law decay with coefficient 1); ``constant``.
  :func:`statistics` ``(model, states, weights=None)`` - the (weighted) mean of -dE/dtheta per parameter.
  :func:`exact_gradient` ``(model, data)`` - the exact log-likelihood gradient of a small model.
Partition functions and likelihoods
  :func:`exact_log_z` ``(model)`` - by enumeration over the smaller side (RBM: hidden or visible <=
      ``MAX_ENUMERATION_UNITS``; Gaussian-hidden RBM: visible; DBM: odd or even layers).
  :func:`exact_log_likelihood` ``(model, data, log_z=None)`` - mean log p(v) (RBMs, and small DBMs).
  :func:`visible_probabilities` ``(model)`` - p(v) of every visible state (small models; row i is the
      binary expansion of i, unit 0 the least significant bit - :func:`all_states`).
  :func:`ais_log_z` ``(model, n_runs, betas, gen, base_visible_bias=None)`` -> :class:`AISResult`
      (Salakhutdinov & Murray 2008: base model = W = 0, the data's visible biases, geometric path in
      the joint energy; for a DBM the odd layers are the AIS variables and the even layers are summed
      out analytically). :func:`ais_betas` ``(n, kind)`` - the inverse-temperature schedule.
  :func:`data_visible_bias` ``(data)`` - logit of the clipped pixel means (init and AIS base).
Files
  :func:`save_model` ``(path, model)`` / :func:`load_model` ``(path)`` - ``.npz`` (no pickle).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from mlreview.errors import MlreviewError
from mlreview.io import load_npz, save_npz
from mlreview.nn.training import TrainingDiverged, as_tensor

log = logging.getLogger(__name__)

HIDDEN_KINDS = ("bernoulli", "gaussian")
SCHEDULES = ("inverse_epoch", "power", "constant")
METHODS = ("pcd", "cd", "exact")
#: the settings of :func:`fit` that a config section may hold, and their types (:func:`fit_options`)
FIT_OPTIONS = {"epochs": int, "batch_size": int, "lr": float, "schedule": str, "method": str, "k": int,
               "n_chains": int, "l1": float, "eps": float, "mean_field_iter": int}
#: the largest number of binary units whose 2^n states exact enumeration visits
MAX_ENUMERATION_UNITS = 24
#: visible-mean clipping for the initial visible biases (spec Fig 60 "Initialisation")
PIXEL_MEAN_CLIP = (0.01, 0.99)
#: rows per chunk in enumerations
ENUMERATION_CHUNK = 1 << 14
LOG_2PI = math.log(2.0 * math.pi)


def make_generator(seed: int, device: torch.device | str = "cpu") -> torch.Generator:
    """A ``torch.Generator`` on ``device`` seeded with ``seed``."""
    return torch.Generator(device=torch.device(device)).manual_seed(int(seed))


def _bernoulli(p: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    return torch.bernoulli(p, generator=gen)


def _random_binary(n: int, units: int, gen: torch.Generator, like: torch.Tensor) -> torch.Tensor:
    half = torch.full((int(n), int(units)), 0.5, dtype=like.dtype, device=like.device)
    return _bernoulli(half, gen)


def data_visible_bias(data, clip: tuple[float, float] = PIXEL_MEAN_CLIP) -> np.ndarray:
    """log(p/(1-p)) of the per-unit data means p, clipped to ``clip`` (spec Fig 60)."""
    p = np.clip(np.asarray(data, dtype=np.float64).mean(axis=0), *clip)
    return np.log(p / (1.0 - p))


def glorot_std(n_in: int, n_out: int) -> float:
    """Standard deviation of the Glorot normal initialisation, sqrt(2/(n_in + n_out))."""
    return math.sqrt(2.0 / (n_in + n_out))


def all_states(n: int, dtype=torch.float64, device="cpu", start: int = 0, stop: int | None = None) -> torch.Tensor:
    """The binary states ``start..stop-1`` of n units as rows (unit j = bit j of the row index)."""
    if n > MAX_ENUMERATION_UNITS:
        raise MlreviewError(f"enumerating 2^{n} states is too many (at most 2^{MAX_ENUMERATION_UNITS})")
    stop = (1 << n) if stop is None else stop
    idx = torch.arange(start, stop, device=device, dtype=torch.int64)
    bits = torch.arange(n, device=device, dtype=torch.int64)
    return ((idx[:, None] >> bits[None, :]) & 1).to(dtype)


def _chunks(n: int, chunk: int = ENUMERATION_CHUNK):
    total = 1 << n
    for start in range(0, total, chunk):
        yield start, min(start + chunk, total)


def _logsumexp_states(n: int, fn: Callable[[torch.Tensor], torch.Tensor], like: torch.Tensor) -> torch.Tensor:
    """log sum over all 2^n binary states x of exp(fn(x)), in float64 chunks."""
    parts = []
    for start, stop in _chunks(n):
        parts.append(torch.logsumexp(fn(all_states(n, torch.float64, like.device, start, stop)), 0))
    return torch.logsumexp(torch.stack(parts), 0)


# ----------------------------------------------------------------------------------------------
# RBM
# ----------------------------------------------------------------------------------------------


class RBM(nn.Module):
    """Restricted Boltzmann machine with {0, 1} visible units and Bernoulli or Gaussian hidden units.

    Parameters ``W`` (n_visible x n_hidden), ``a`` (visible bias), ``b`` (hidden bias; for Gaussian
    hidden units a zero buffer, not trained).
    """

    def __init__(self, n_visible: int, n_hidden: int, hidden: str = "bernoulli", dtype=torch.float32,
                 device: torch.device | str = "cpu"):
        super().__init__()
        if hidden not in HIDDEN_KINDS:
            raise MlreviewError(f"unknown hidden unit kind {hidden!r}; choose one of {HIDDEN_KINDS}")
        self.hidden = hidden
        self.n_visible, self.n_hidden = int(n_visible), int(n_hidden)
        kw = {"dtype": dtype, "device": torch.device(device)}
        self.W = nn.Parameter(torch.zeros(self.n_visible, self.n_hidden, **kw), requires_grad=False)
        self.a = nn.Parameter(torch.zeros(self.n_visible, **kw), requires_grad=False)
        if hidden == "bernoulli":
            self.b = nn.Parameter(torch.zeros(self.n_hidden, **kw), requires_grad=False)
        else:
            self.register_buffer("b", torch.zeros(self.n_hidden, **kw))

    # -- bookkeeping ---------------------------------------------------------------------------
    @property
    def weights(self) -> list[nn.Parameter]:
        return [self.W]

    @property
    def n_units(self) -> list[int]:
        return [self.n_visible, self.n_hidden]

    @property
    def device(self) -> torch.device:
        return self.W.device

    @property
    def dtype(self) -> torch.dtype:
        return self.W.dtype

    def _t(self, x) -> torch.Tensor:
        return as_tensor(x, dtype=self.dtype, device=self.device)

    @torch.no_grad()
    def initialize(self, data, gen: torch.Generator) -> RBM:
        """Glorot-normal weights, hidden biases 0, visible biases from the data means (spec Fig 60)."""
        std = glorot_std(self.n_visible, self.n_hidden)
        self.W.copy_(torch.randn(self.W.shape, generator=gen, dtype=self.dtype, device=self.device) * std)
        self.a.copy_(self._t(data_visible_bias(_numpy(data))))
        self.b.zero_()
        return self

    # -- energies ------------------------------------------------------------------------------
    def energy(self, v: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """E(v, h) per row."""
        e = -v @ self.a - ((v @ self.W) * h).sum(1)
        if self.hidden == "bernoulli":
            return e - h @ self.b
        return e + 0.5 * (h * h).sum(1)

    def hidden_input(self, v: torch.Tensor) -> torch.Tensor:
        return v @ self.W + self.b

    def free_energy(self, v: torch.Tensor) -> torch.Tensor:
        """F(v) = -log sum_h exp(-E(v, h)) (an integral for Gaussian hidden units), per row."""
        x = self.hidden_input(v)
        if self.hidden == "bernoulli":
            return -v @ self.a - nn.functional.softplus(x).sum(1)
        return -v @ self.a - 0.5 * (x * x).sum(1) - 0.5 * self.n_hidden * LOG_2PI

    # -- conditionals ----------------------------------------------------------------------------
    def hidden_mean(self, v: torch.Tensor) -> torch.Tensor:
        """E[h | v]: sigmoid(b + v W) (Bernoulli) or v W (Gaussian)."""
        x = self.hidden_input(v)
        return torch.sigmoid(x) if self.hidden == "bernoulli" else x

    def sample_hidden(self, v: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        mean = self.hidden_mean(v)
        if self.hidden == "bernoulli":
            return _bernoulli(mean, gen)
        return mean + torch.randn(mean.shape, generator=gen, dtype=mean.dtype, device=mean.device)

    def visible_mean(self, h: torch.Tensor) -> torch.Tensor:
        """p(v_i = 1 | h) = sigmoid(a + W h)."""
        return torch.sigmoid(self.a + h @ self.W.T)

    def sample_visible(self, h: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        return _bernoulli(self.visible_mean(h), gen)

    @torch.no_grad()
    def gibbs(self, v: torch.Tensor, steps: int, gen: torch.Generator) -> torch.Tensor:
        """``steps`` rounds of h ~ p(h | v), v ~ p(v | h); returns the final visible samples."""
        for _ in range(int(steps)):
            v = self.sample_visible(self.sample_hidden(v, gen), gen)
        return v

    @torch.no_grad()
    def sample_visible_chain(self, n: int, steps: int, gen: torch.Generator) -> torch.Tensor:
        """Visible samples after ``steps`` Gibbs rounds from random visible states, Bernoulli(0.5)
        (fantasy particles, spec Fig 64)."""
        return self.gibbs(_random_binary(n, self.n_visible, gen, self.W), steps, gen)

    def random_hidden(self, n: int, gen: torch.Generator) -> torch.Tensor:
        """Random hidden states: Bernoulli(0.5) or Normal(0, 1) (spec Fig 64)."""
        if self.hidden == "bernoulli":
            return _random_binary(n, self.n_hidden, gen, self.W)
        return torch.randn((int(n), self.n_hidden), generator=gen, dtype=self.dtype, device=self.device)

    @torch.no_grad()
    def reconstruct(self, v: torch.Tensor, probabilities: bool = False) -> torch.Tensor:
        """Most probable h given v (Bernoulli: p > 0.5; Gaussian: the mean W^T v), then the most probable
        v' given h (p > 0.5); with ``probabilities`` the last step returns p(v' = 1 | h) instead."""
        mean = self.hidden_mean(v)
        h = (mean > 0.5).to(v.dtype) if self.hidden == "bernoulli" else mean
        p = self.visible_mean(h)
        return p if probabilities else (p > 0.5).to(v.dtype)

    # -- training interface (used by fit) -------------------------------------------------------
    def positive_states(self, v: torch.Tensor, **_) -> list[torch.Tensor]:
        """[v, E[h | v]]: the data statistics are exact conditional expectations."""
        return [v, self.hidden_mean(v)]

    def init_chains(self, n: int, gen: torch.Generator) -> list[torch.Tensor]:
        """Random visible states (Bernoulli(0.5)); the hidden layer is drawn at the first step."""
        return [_random_binary(n, self.n_visible, gen, self.W)]

    def chains_from_data(self, v: torch.Tensor, gen: torch.Generator) -> list[torch.Tensor]:
        return [v.clone()]

    def advance_chains(self, chains: list[torch.Tensor], steps: int, gen: torch.Generator) -> list[torch.Tensor]:
        return [self.gibbs(chains[0], steps, gen)]

    def negative_states(self, chains: list[torch.Tensor]) -> list[torch.Tensor]:
        """[v, E[h | v]] of the chains' visible states (Rao-Blackwellised model statistics)."""
        return [chains[0], self.hidden_mean(chains[0])]

    def state_statistics(self, states: list[torch.Tensor], weights: torch.Tensor) -> dict[str, torch.Tensor]:
        """Weighted means of -dE/dtheta from [v, E[h|v]] rows (weights sum to 1)."""
        v, h = states
        out = {"W": (v * weights[:, None]).T @ h, "a": weights @ v}
        if self.hidden == "bernoulli":
            out["b"] = weights @ h
        return out

    def visible_of(self, chains: list[torch.Tensor]) -> torch.Tensor:
        return chains[0]


# ----------------------------------------------------------------------------------------------
# DBM
# ----------------------------------------------------------------------------------------------


class DBM(nn.Module):
    """Deep Boltzmann machine with Bernoulli layers ``layer_sizes = [n_v, n_1, ..., n_L]``.

    Parameters ``W1..WL`` (``W{l}`` couples layer l-1 to layer l) and biases ``b0..bL`` (b0 = visible).
    A state is a list of L + 1 tensors (one per layer).
    """

    def __init__(self, layer_sizes: Sequence[int], dtype=torch.float32, device: torch.device | str = "cpu"):
        super().__init__()
        sizes = [int(s) for s in layer_sizes]
        if len(sizes) < 2 or min(sizes) < 1:
            raise MlreviewError(f"a DBM needs at least two layers of positive size, got {sizes}")
        self.layer_sizes = sizes
        self.hidden = "bernoulli"
        kw = {"dtype": dtype, "device": torch.device(device)}
        self.Ws = nn.ParameterList([nn.Parameter(torch.zeros(sizes[i], sizes[i + 1], **kw), requires_grad=False)
                                    for i in range(len(sizes) - 1)])
        self.bs = nn.ParameterList([nn.Parameter(torch.zeros(s, **kw), requires_grad=False) for s in sizes])

    @property
    def n_layers(self) -> int:
        """Number of layers including the visible one (L + 1)."""
        return len(self.layer_sizes)

    @property
    def weights(self) -> list[nn.Parameter]:
        return list(self.Ws)

    @property
    def n_units(self) -> list[int]:
        return list(self.layer_sizes)

    @property
    def n_visible(self) -> int:
        return self.layer_sizes[0]

    @property
    def device(self) -> torch.device:
        return self.bs[0].device

    @property
    def dtype(self) -> torch.dtype:
        return self.bs[0].dtype

    def _t(self, x) -> torch.Tensor:
        return as_tensor(x, dtype=self.dtype, device=self.device)

    @torch.no_grad()
    def initialize(self, data, gen: torch.Generator) -> DBM:
        """Glorot-normal weights, hidden biases 0, visible biases from the data means."""
        for W in self.Ws:
            W.copy_(torch.randn(W.shape, generator=gen, dtype=self.dtype, device=self.device)
                    * glorot_std(*W.shape))
        for b in self.bs[1:]:
            b.zero_()
        self.bs[0].copy_(self._t(data_visible_bias(_numpy(data))))
        return self

    @classmethod
    @torch.no_grad()
    def from_rbms(cls, rbms: Sequence[RBM]) -> DBM:
        """A DBM from layer-wise pretrained Bernoulli RBMs (RBM l couples layers l-1 and l).

        Weights are copied; the visible bias is the first RBM's, the top bias the last RBM's hidden
        bias, and the bias of an intermediate layer is the mean of the two RBM biases of that layer
        (its hidden bias in RBM l and its visible bias in RBM l+1) [proposed].
        """
        if not rbms or any(r.hidden != "bernoulli" for r in rbms):
            raise MlreviewError("a DBM is built from one or more Bernoulli RBMs")
        sizes = [rbms[0].n_visible] + [r.n_hidden for r in rbms]
        for lower, upper in zip(rbms, rbms[1:]):
            if lower.n_hidden != upper.n_visible:
                raise MlreviewError(f"RBM sizes do not chain: {lower.n_hidden} hidden vs {upper.n_visible} visible")
        dbm = cls(sizes, dtype=rbms[0].dtype, device=rbms[0].device)
        for l, rbm in enumerate(rbms):
            dbm.Ws[l].copy_(rbm.W)
        dbm.bs[0].copy_(rbms[0].a)
        for l in range(1, len(sizes) - 1):
            dbm.bs[l].copy_(0.5 * (rbms[l - 1].b + rbms[l].a))
        dbm.bs[-1].copy_(rbms[-1].b)
        return dbm

    # -- energies and conditionals ---------------------------------------------------------------
    def energy(self, states: Sequence[torch.Tensor]) -> torch.Tensor:
        e = -sum(h @ b for h, b in zip(states, self.bs))
        for l, W in enumerate(self.Ws):
            e = e - ((states[l] @ W) * states[l + 1]).sum(1)
        return e

    def layer_input(self, states: Sequence[torch.Tensor | None], l: int) -> torch.Tensor:
        """b_l + h_{l-1} W_l + h_{l+1} W_{l+1}^T (neighbours that are None are left out)."""
        x = self.bs[l]
        if l > 0 and states[l - 1] is not None:
            x = x + states[l - 1] @ self.Ws[l - 1]
        if l < self.n_layers - 1 and states[l + 1] is not None:
            x = x + states[l + 1] @ self.Ws[l].T
        return x

    def layer_mean(self, states: Sequence[torch.Tensor | None], l: int) -> torch.Tensor:
        """p(h_l = 1 | neighbouring layers)."""
        return torch.sigmoid(self.layer_input(states, l))

    @torch.no_grad()
    def mean_field(self, v: torch.Tensor, n_iter: int = 10) -> list[torch.Tensor]:
        """Mean-field q(h) = prod Bernoulli(mu) with v clamped: a bottom-up initialisation
        (each layer from the one below), then ``n_iter`` sweeps of the fixed-point equations
        mu_l = sigmoid(b_l + mu_{l-1} W_l + mu_{l+1} W_{l+1}^T), odd layers then even layers."""
        mus: list[torch.Tensor] = [v]
        for l in range(1, self.n_layers):
            mus.append(torch.sigmoid(self.bs[l] + mus[l - 1] @ self.Ws[l - 1]))
        for _ in range(int(n_iter)):
            for parity in (1, 2):
                for l in range(parity, self.n_layers, 2):
                    mus[l] = self.layer_mean(mus, l)
        return mus

    @torch.no_grad()
    def gibbs(self, states: Sequence[torch.Tensor], steps: int, gen: torch.Generator) -> list[torch.Tensor]:
        """``steps`` rounds of the odd/even sampler: every odd layer given the even ones, then every
        even layer (v included) given the odd ones (spec Fig 64)."""
        states = list(states)
        for _ in range(int(steps)):
            for parity in (1, 0):
                for l in range(parity, self.n_layers, 2):
                    states[l] = _bernoulli(self.layer_mean(states, l), gen)
        return states

    def random_states(self, n: int, gen: torch.Generator) -> list[torch.Tensor]:
        """Every unit Bernoulli(0.5) (spec Fig 64)."""
        return [_random_binary(n, s, gen, self.bs[0]) for s in self.layer_sizes]

    @torch.no_grad()
    def sample_visible_chain(self, n: int, steps: int, gen: torch.Generator) -> torch.Tensor:
        """Visible samples after ``steps`` Gibbs rounds from random states (fantasy particles)."""
        return self.gibbs(self.random_states(n, gen), steps, gen)[0]

    @torch.no_grad()
    def reconstruct(self, v: torch.Tensor, probabilities: bool = False) -> torch.Tensor:
        """Forward pass v -> h1 -> ... -> hL (each layer from the layer below only, p > 0.5), then the
        backward pass hL -> ... -> v' (each layer from the layer above only); with ``probabilities``
        the last step returns p(v' = 1 | h1)."""
        h = v
        for l in range(1, self.n_layers):
            h = (torch.sigmoid(self.bs[l] + h @ self.Ws[l - 1]) > 0.5).to(v.dtype)
        for l in range(self.n_layers - 2, -1, -1):
            p = torch.sigmoid(self.bs[l] + h @ self.Ws[l].T)
            h = (p > 0.5).to(v.dtype)
        return p if probabilities else h

    # -- marginals with half of the layers summed out ---------------------------------------------
    def _log_f_half(self, given: Mapping[int, torch.Tensor], summed: Sequence[int],
                    scale: float = 1.0, base_bias: torch.Tensor | None = None) -> torch.Tensor:
        """log sum over the layers ``summed`` of exp(-E_beta), with the layers ``given`` fixed.

        E_beta = beta E + (1 - beta) E_0 where E_0 = -base_bias . v (``scale`` = beta; base_bias
        None means beta = 1 and no base term).
        """
        def bias(l):
            b = scale * self.bs[l]
            if l == 0 and base_bias is not None:
                b = b + (1.0 - scale) * base_bias
            return b

        out = sum(given[l] @ bias(l) for l in given)
        for l in summed:
            x = bias(l)
            if l - 1 in given:
                x = x + scale * (given[l - 1] @ self.Ws[l - 1])
            if l + 1 in given:
                x = x + scale * (given[l + 1] @ self.Ws[l].T)
            out = out + nn.functional.softplus(x).sum(-1)
        return out

    def _split(self, parts: Sequence[torch.Tensor], parity: int) -> dict[int, torch.Tensor]:
        layers = list(range(parity, self.n_layers, 2))
        if len(parts) != len(layers):
            raise ValueError(f"expected {len(layers)} layers of parity {parity}, got {len(parts)}")
        return dict(zip(layers, parts))

    def log_f_odd(self, odd: Sequence[torch.Tensor]) -> torch.Tensor:
        """log sum_{even layers} exp(-E): the unnormalised log marginal of the odd layers [h1, h3, ...]."""
        return self._log_f_half(self._split(odd, 1), range(0, self.n_layers, 2))

    def log_f_even(self, even: Sequence[torch.Tensor]) -> torch.Tensor:
        """log sum_{odd layers} exp(-E): the unnormalised log marginal of the even layers [v, h2, ...]."""
        return self._log_f_half(self._split(even, 0), range(1, self.n_layers, 2))

    def log_likelihood_lower_bound(self, v: torch.Tensor, log_z: float, n_iter: int = 10) -> torch.Tensor:
        """The variational lower bound on log p(v) with the mean-field q of :meth:`mean_field`, per row:
        log p(v) >= -E_q[E(v, h)] + H(q) - log Z (a lower bound, not the likelihood)."""
        mus = self.mean_field(v, n_iter)
        eps = torch.finfo(v.dtype).tiny
        entropy = sum(-(m * torch.log(m.clamp_min(eps)) + (1 - m) * torch.log((1 - m).clamp_min(eps))).sum(1)
                      for m in mus[1:])
        return -self.energy(mus) + entropy - log_z

    # -- training interface ------------------------------------------------------------------------
    def positive_states(self, v: torch.Tensor, mean_field_iter: int = 10, **_) -> list[torch.Tensor]:
        return self.mean_field(v, mean_field_iter)

    def init_chains(self, n: int, gen: torch.Generator) -> list[torch.Tensor]:
        return self.random_states(n, gen)

    @torch.no_grad()
    def chains_from_data(self, v: torch.Tensor, gen: torch.Generator) -> list[torch.Tensor]:
        """CD start: v = data, hidden layers sampled bottom-up from the layer below."""
        states = [v.clone()]
        for l in range(1, self.n_layers):
            states.append(_bernoulli(torch.sigmoid(self.bs[l] + states[-1] @ self.Ws[l - 1]), gen))
        return states

    def advance_chains(self, chains: list[torch.Tensor], steps: int, gen: torch.Generator) -> list[torch.Tensor]:
        return self.gibbs(chains, steps, gen)

    def negative_states(self, chains: list[torch.Tensor]) -> list[torch.Tensor]:
        """The chains' even layers with the odd layers replaced by their conditional means given the
        even layers (Rao-Blackwellised: odd layers are independent given the even ones)."""
        states = list(chains)
        for l in range(1, self.n_layers, 2):
            states[l] = self.layer_mean(chains, l)
        return states

    def state_statistics(self, states: list[torch.Tensor], weights: torch.Tensor) -> dict[str, torch.Tensor]:
        out = {}
        for l in range(self.n_layers - 1):
            out[f"Ws.{l}"] = (states[l] * weights[:, None]).T @ states[l + 1]
        for l in range(self.n_layers):
            out[f"bs.{l}"] = weights @ states[l]
        return out

    def visible_of(self, chains: list[torch.Tensor]) -> torch.Tensor:
        return chains[0]


def _numpy(x) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


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


def _state_codes(x: torch.Tensor) -> torch.Tensor:
    bits = 1 << torch.arange(x.shape[1], device=x.device, dtype=torch.int64)
    return (x.to(torch.int64) * bits).sum(1)


def _all_joint_states(dbm: DBM) -> list[torch.Tensor]:
    total = sum(dbm.layer_sizes)
    flat = all_states(total, dbm.dtype, dbm.device)
    out, start = [], 0
    for s in dbm.layer_sizes:
        out.append(flat[:, start:start + s])
        start += s
    return out


# ----------------------------------------------------------------------------------------------
# exact partition function and likelihood
# ----------------------------------------------------------------------------------------------


def _as64(model: RBM | DBM) -> RBM | DBM:
    clone = _empty_like(model, torch.float64)
    clone.load_state_dict({k: v.to(torch.float64) for k, v in model.state_dict().items()})
    return clone


def _empty_like(model: RBM | DBM, dtype) -> RBM | DBM:
    if isinstance(model, RBM):
        return RBM(model.n_visible, model.n_hidden, model.hidden, dtype=dtype, device=model.device)
    return DBM(model.layer_sizes, dtype=dtype, device=model.device)


@torch.no_grad()
def exact_log_z(model: RBM | DBM) -> float:
    """log Z by enumeration (float64) over the smaller side: for a Bernoulli RBM the hidden or the
    visible states, for a Gaussian-hidden RBM the visible states, for a DBM the odd or the even
    layers; raises :class:`MlreviewError` when that side has more than ``MAX_ENUMERATION_UNITS`` units."""
    m = _as64(model)
    if isinstance(m, RBM):
        if m.hidden == "bernoulli" and m.n_hidden <= min(m.n_visible, MAX_ENUMERATION_UNITS):
            def fn(h):
                return h @ m.b + nn.functional.softplus(m.a + h @ m.W.T).sum(1)
            return float(_logsumexp_states(m.n_hidden, fn, m.W))
        _check_enumerable(m.n_visible, "visible units")
        return float(_logsumexp_states(m.n_visible, lambda v: -m.free_energy(v), m.W))
    odd = list(range(1, m.n_layers, 2))
    even = list(range(0, m.n_layers, 2))
    n_odd = sum(m.layer_sizes[l] for l in odd)
    n_even = sum(m.layer_sizes[l] for l in even)
    layers, fn = (odd, m.log_f_odd) if n_odd <= n_even else (even, m.log_f_even)
    n = min(n_odd, n_even)
    _check_enumerable(n, "units in the odd or the even layers")
    sizes = [m.layer_sizes[l] for l in layers]
    return float(_logsumexp_states(n, lambda x: fn(list(torch.split(x, sizes, dim=1))), m.bs[0]))


def _check_enumerable(n: int, what: str) -> None:
    if n > MAX_ENUMERATION_UNITS:
        raise MlreviewError(f"exact log Z needs at most {MAX_ENUMERATION_UNITS} {what}, the model has {n}; "
                            "use ais_log_z")


@torch.no_grad()
def visible_probabilities(model: RBM | DBM) -> torch.Tensor:
    """p(v) for all 2^n_visible visible states (float64; the row order of :func:`all_states`)."""
    m = _as64(model)
    _check_enumerable(m.n_visible, "visible units")
    v = all_states(m.n_visible, torch.float64, m.device)
    log_p = _log_unnormalised_visible(m, v)
    return torch.softmax(log_p, 0)


def _log_unnormalised_visible(m: RBM | DBM, v: torch.Tensor) -> torch.Tensor:
    """log sum_h exp(-E(v, h)) per row (= -F(v) for an RBM; enumerates the even hidden layers of a DBM)."""
    if isinstance(m, RBM):
        return -m.free_energy(v)
    even_hidden = list(range(2, m.n_layers, 2))
    n = sum(m.layer_sizes[l] for l in even_hidden)
    _check_enumerable(n, "units in the even hidden layers")
    sizes = [m.layer_sizes[l] for l in even_hidden]
    hs = all_states(n, v.dtype, v.device)
    parts = torch.split(hs, sizes, dim=1) if sizes else []
    rows = []
    for row in v:
        even = [row.expand(len(hs), -1)] + list(parts) if sizes else [row[None, :]]
        rows.append(torch.logsumexp(m.log_f_even(even), 0))
    return torch.stack(rows)


@torch.no_grad()
def exact_log_likelihood(model: RBM | DBM, data, log_z: float | None = None) -> float:
    """Mean log p(v) over the rows of ``data`` (exact; log Z by :func:`exact_log_z` when not given)."""
    m = _as64(model)
    log_z = exact_log_z(m) if log_z is None else float(log_z)
    v = as_tensor(_numpy(data), torch.float64, m.device)
    total = 0.0
    for start in range(0, len(v), ENUMERATION_CHUNK):
        total += float(_log_unnormalised_visible(m, v[start:start + ENUMERATION_CHUNK]).sum())
    return total / len(v) - log_z


# ----------------------------------------------------------------------------------------------
# annealed importance sampling
# ----------------------------------------------------------------------------------------------


@dataclass
class AISResult:
    """An AIS estimate of log Z from ``n_runs`` independent annealing runs.

    ``log_z`` = log Z_0 + log mean exp(log_weights); ``log_z_std`` is the delta-method standard error
    of that estimate, std(w) / (mean(w) sqrt(n)); ``log_z_low``/``log_z_high`` = log(mean(w) -/+ 3
    standard errors of the mean) (Salakhutdinov & Murray 2008; ``log_z_low`` is -inf when the band
    reaches 0); ``ess`` the effective sample size of the weights.
    """

    log_z: float
    log_z_std: float
    log_z_low: float
    log_z_high: float
    ess: float
    log_z_base: float
    n_runs: int
    n_betas: int
    log_weights: np.ndarray = field(repr=False)

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("log_z", "log_z_std", "log_z_low", "log_z_high", "ess",
                                              "log_z_base", "n_runs", "n_betas")}


def ais_betas(n: int, kind: str = "piecewise") -> np.ndarray:
    """Inverse temperatures 0 = beta_0 < ... < beta_K = 1 with n + 1 points. ``linear``: equal steps;
    ``piecewise``: Salakhutdinov & Murray's proportions (500 steps on [0, 0.5], 4,000 on [0.5, 0.9],
    10,000 on [0.9, 1]) scaled to n steps."""
    n = int(n)
    if n < 1:
        raise MlreviewError(f"AIS needs at least one step, got {n}")
    if kind == "linear":
        return np.linspace(0.0, 1.0, n + 1)
    if kind != "piecewise":
        raise MlreviewError(f"unknown AIS schedule {kind!r}; choose linear or piecewise")
    edges, counts = [0.0, 0.5, 0.9, 1.0], np.array([500.0, 4000.0, 10000.0])
    steps = np.maximum(1, np.round(counts / counts.sum() * n).astype(int))
    parts = [np.linspace(edges[i], edges[i + 1], steps[i] + 1)[:-1] for i in range(3)]
    return np.concatenate(parts + [np.array([1.0])])


@torch.no_grad()
def ais_log_z(model: RBM | DBM, n_runs: int, betas: Sequence[float] | np.ndarray, gen: torch.Generator,
              base_visible_bias=None) -> AISResult:
    """AIS estimate of log Z (Salakhutdinov & Murray 2008).

    The path is geometric in the joint energy, E_beta = beta E + (1 - beta) E_0, where the base model
    E_0 = -a_0 . v (W = 0; hidden units free: Bernoulli(0.5) or, for Gaussian hidden units, the same
    unit-variance Gaussian) has ``base_visible_bias`` a_0 (e.g. :func:`data_visible_bias` of the
    training data; zeros when None). The AIS variables are v for an RBM and the odd layers for a DBM
    (the other layers summed out analytically); each step is one Gibbs sweep at beta_k, which leaves
    the intermediate distribution invariant. Computed in float64.
    """
    m = _as64(model)
    betas = np.asarray(betas, dtype=np.float64)
    if betas[0] != 0.0 or betas[-1] != 1.0 or np.any(np.diff(betas) <= 0):
        raise MlreviewError("AIS betas must increase strictly from 0 to 1")
    a0 = torch.zeros(m.n_visible, dtype=torch.float64, device=m.device) if base_visible_bias is None \
        else as_tensor(_numpy(base_visible_bias), torch.float64, m.device)
    n_runs = int(n_runs)
    if isinstance(m, RBM):
        log_f, step, x, log_z0 = _ais_rbm(m, a0, n_runs, gen)
    else:
        log_f, step, x, log_z0 = _ais_dbm(m, a0, n_runs, gen)
    log_w = torch.zeros(n_runs, dtype=torch.float64, device=m.device)
    for prev, beta in zip(betas[:-1], betas[1:]):
        log_w += log_f(x, float(beta)) - log_f(x, float(prev))
        x = step(x, float(beta))
    return _ais_result(log_w.cpu().numpy(), log_z0, len(betas))


def _ais_rbm(m: RBM, a0: torch.Tensor, n: int, gen: torch.Generator):
    gaussian = m.hidden == "gaussian"

    def a_beta(beta):
        return beta * m.a + (1.0 - beta) * a0

    def log_f(v, beta):
        x = beta * (v @ m.W + m.b)
        if gaussian:
            return v @ a_beta(beta) + 0.5 * (x * x).sum(1)
        return v @ a_beta(beta) + nn.functional.softplus(x).sum(1)

    def step(v, beta):
        mean = beta * (v @ m.W + m.b)
        if gaussian:
            h = mean + torch.randn(mean.shape, generator=gen, dtype=mean.dtype, device=mean.device)
        else:
            h = _bernoulli(torch.sigmoid(mean), gen)
        return _bernoulli(torch.sigmoid(a_beta(beta) + beta * (h @ m.W.T)), gen)

    v0 = _bernoulli(torch.sigmoid(a0).expand(n, -1).contiguous(), gen)
    hidden_log_z = 0.5 * m.n_hidden * LOG_2PI if gaussian else m.n_hidden * math.log(2.0)
    log_z0 = float(nn.functional.softplus(a0).sum()) + hidden_log_z
    # the constant of the Gaussian integral is in log_f's base only through log_z0: add it to both
    # ends of every ratio (it cancels), so log_f omits it
    return log_f, step, v0, log_z0


def _ais_dbm(m: DBM, a0: torch.Tensor, n: int, gen: torch.Generator):
    odd = list(range(1, m.n_layers, 2))
    even = list(range(0, m.n_layers, 2))

    def log_f(x, beta):
        return m._log_f_half(dict(zip(odd, x)), even, scale=beta, base_bias=a0)

    def bias(l, beta):
        b = beta * m.bs[l]
        return b + (1.0 - beta) * a0 if l == 0 else b

    def cond(states, l, beta):
        x = bias(l, beta)
        if l > 0:
            x = x + beta * (states[l - 1] @ m.Ws[l - 1])
        if l < m.n_layers - 1:
            x = x + beta * (states[l + 1] @ m.Ws[l].T)
        return torch.sigmoid(x)

    def step(x, beta):
        states: list = [None] * m.n_layers
        for l, h in zip(odd, x):
            states[l] = h
        for l in even:  # even layers given odd ones (neighbours of an even layer are odd)
            states[l] = _bernoulli(cond(states, l, beta), gen)
        return [_bernoulli(cond(states, l, beta), gen) for l in odd]

    x0 = [_random_binary(n, m.layer_sizes[l], gen, m.bs[0]) for l in odd]
    log_z0 = float(nn.functional.softplus(a0).sum()) + math.log(2.0) * sum(m.layer_sizes[1:])
    return log_f, step, x0, log_z0


def _ais_result(log_w: np.ndarray, log_z0: float, n_betas: int) -> AISResult:
    n = len(log_w)
    top = log_w.max()
    w = np.exp(log_w - top)
    mean = w.mean()
    se = w.std(ddof=1) / math.sqrt(n) if n > 1 else 0.0
    log_mean = math.log(mean) + top
    low = math.log(mean - 3 * se) + top if mean - 3 * se > 0 else -math.inf
    return AISResult(
        log_z=log_z0 + log_mean,
        log_z_std=se / mean,
        log_z_low=log_z0 + low,
        log_z_high=log_z0 + math.log(mean + 3 * se) + top,
        ess=float(w.sum() ** 2 / (w * w).sum()),
        log_z_base=log_z0, n_runs=n, n_betas=int(n_betas), log_weights=log_w)


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
        l1: float = 0.0, seed: int = 0, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
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
    minibatch) give the log-likelihood gradient; the L1 penalty ``l1 * sum |W|`` is subtracted; ADAM
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


# ----------------------------------------------------------------------------------------------
# files
# ----------------------------------------------------------------------------------------------


def save_model(path: str | Path, model: RBM | DBM, **extra) -> None:
    """The model's kind, sizes and parameters (float arrays) to ``.npz``; ``extra`` arrays are added."""
    arrays = {f"param/{k}": v.detach().cpu().numpy() for k, v in model.state_dict().items()}
    if isinstance(model, RBM):
        meta = {"kind": np.array("rbm"), "hidden": np.array(model.hidden),
                "sizes": np.array([model.n_visible, model.n_hidden])}
    else:
        meta = {"kind": np.array("dbm"), "hidden": np.array("bernoulli"), "sizes": np.array(model.layer_sizes)}
    save_npz(path, **meta, **arrays, **extra)


def load_model(path: str | Path, dtype=torch.float32, device: torch.device | str = "cpu") -> RBM | DBM:
    """A model written by :func:`save_model`."""
    data = load_npz(path)
    kind, sizes = str(data["kind"]), [int(s) for s in data["sizes"]]
    if kind == "rbm":
        model: RBM | DBM = RBM(sizes[0], sizes[1], str(data["hidden"]), dtype=dtype, device=device)
    elif kind == "dbm":
        model = DBM(sizes, dtype=dtype, device=device)
    else:
        raise MlreviewError(f"{path}: unknown model kind {kind!r}")
    state = {k[len("param/"):]: torch.from_numpy(v).to(dtype=dtype, device=device)
             for k, v in data.items() if k.startswith("param/")}
    model.load_state_dict(state)
    return model
