"""The energy-based models and their samplers (Sections XV-XVI): the restricted Boltzmann machine
with Bernoulli or Gaussian ("Hopfield") hidden units, the deep Boltzmann machine with any number of
Bernoulli layers, their energies, free energies, conditional means, Gibbs samplers and mean-field
passes; enumeration of binary states; saving and loading (``.npz``, no pickle).
See :mod:`mlreview.ebm` for the conventions and the whole API."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

from mlreview.errors import MlreviewError
from mlreview.io import load_npz, save_npz
from mlreview.nn.training import as_tensor

HIDDEN_KINDS = ("bernoulli", "gaussian")
#: the largest number of binary units whose 2^n states exact enumeration visits
MAX_ENUMERATION_UNITS = 24
#: visible-mean clipping for the initial visible biases (spec Fig 60 "Initialisation")
PIXEL_MEAN_CLIP = (0.01, 0.99)
#: rows per chunk in enumerations (and in exact likelihoods of data): 2,048 rows of 784 float64 units
#: are 12.8 MB, below glibc's largest mmap threshold (32 MB), so a chunk's temporaries are reused
#: from the heap; at 16,384 rows (100 MB) they were mapped and zeroed by the kernel for every chunk,
#: half of the CPU time of an exact log Z of a 784-16 RBM (1.46 -> 0.72 s; benchmarks/README.md)
ENUMERATION_CHUNK = 1 << 11
LOG_2PI = math.log(2.0 * math.pi)


def make_generator(seed: int, device: torch.device | str = "cpu") -> torch.Generator:
    """A ``torch.Generator`` on ``device`` seeded with ``seed``."""
    return torch.Generator(device=torch.device(device)).manual_seed(int(seed))


def _bernoulli(p: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """0/1 samples of Bernoulli(``p``), elementwise, of ``p``'s dtype: ``torch.bernoulli(p,
    generator=gen)``. On the CPU, for float32 and float64, by uniforms compared with ``p``: torch's
    CPU Bernoulli kernel draws one uniform per element from the generator in the order of its
    contiguous output and tests ``u < p``, one element at a time; ``uniform_`` draws the same uniforms
    in the same order and the comparison runs vectorised, so the samples and the generator's state
    after them are the same to the bit (``tests/test_ebm.py``), 3-4 times faster (a 100 x 784 batch:
    1.1 ms -> 0.3 ms). The samplers of every energy-based model spend up to a third of their time here."""
    if p.device.type == "cpu" and p.dtype in (torch.float32, torch.float64):
        return torch.empty(p.shape, dtype=p.dtype).uniform_(generator=gen).lt_(p)
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

    ``up_scale`` and ``down_scale`` (Bernoulli, default 1) multiply the weights in the conditionals
    p(h | v) = sigmoid(b + up_scale v W) and p(v | h) = sigmoid(a + down_scale W h): the doubled-weight
    RBMs of the layer-wise pretraining of a DBM (Salakhutdinov & Hinton 2009; :func:`pretrain_dbm`),
    which stand for a layer whose units in the DBM get input from two sides. With a scale other than 1
    there is no single energy of (v, h): the Gibbs chain, the free energy (of the up pass, F(v) = -a.v -
    sum softplus(b + up_scale v W)) and the statistics <v h> are those of Salakhutdinov & Hinton's
    training code, and the likelihood functions refuse such a model.
    """

    def __init__(self, n_visible: int, n_hidden: int, hidden: str = "bernoulli", dtype=torch.float32,
                 device: torch.device | str = "cpu", up_scale: float = 1.0, down_scale: float = 1.0):
        super().__init__()
        if hidden not in HIDDEN_KINDS:
            raise MlreviewError(f"unknown hidden unit kind {hidden!r}; choose one of {HIDDEN_KINDS}")
        if hidden != "bernoulli" and (up_scale != 1.0 or down_scale != 1.0):
            raise MlreviewError("weight scales (doubled-weight pretraining) need Bernoulli hidden units")
        self.hidden = hidden
        self.up_scale, self.down_scale = float(up_scale), float(down_scale)
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
        x = v @ self.W
        return (x if self.up_scale == 1.0 else self.up_scale * x) + self.b

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
        """p(v_i = 1 | h) = sigmoid(a + W h) (times ``down_scale``)."""
        x = h @ self.W.T
        return torch.sigmoid(self.a + (x if self.down_scale == 1.0 else self.down_scale * x))

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
    def reconstruct(self, v: torch.Tensor, probabilities: bool = False,
                    positive: Sequence[torch.Tensor] | None = None) -> torch.Tensor:
        """Most probable h given v (Bernoulli: p > 0.5; Gaussian: the mean W^T v), then the most probable
        v' given h (p > 0.5); with ``probabilities`` the last step returns p(v' = 1 | h) instead.
        ``positive``: :meth:`positive_states` of ``v`` under the current parameters when the caller has
        them (the training loop), whose E[h | v] is then not computed again (the same numbers)."""
        mean = self.hidden_mean(v) if positive is None else positive[1]
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

    @torch.no_grad()
    def flip_visible(self, chains: list[torch.Tensor], gen: torch.Generator) -> list[torch.Tensor]:
        """A Metropolis-Hastings global flip of every chain, v -> 1 - v (an involution, so a symmetric
        proposal), accepted with probability min(1, exp(F(v) - F(1 - v))): it leaves p(v) invariant and
        lets chains cross between the two magnetised modes of Ising-like data."""
        v = chains[0]
        return [_metropolis_flip(v, self.free_energy(v) - self.free_energy(1.0 - v), gen)]

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
        from_v = self.bs[1] + v @ self.Ws[0]  # the clamped layer's input to h1, the same every sweep
        mus: list[torch.Tensor] = [v, torch.sigmoid(from_v)]
        for l in range(2, self.n_layers):
            mus.append(torch.sigmoid(self.bs[l] + mus[l - 1] @ self.Ws[l - 1]))
        for _ in range(int(n_iter)):
            for parity in (1, 2):
                for l in range(parity, self.n_layers, 2):
                    if l == 1:  # layer_input's order of the sums: the same numbers
                        x = from_v if self.n_layers == 2 else from_v + mus[2] @ self.Ws[1].T
                        mus[1] = torch.sigmoid(x)
                    else:
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
    def reconstruct(self, v: torch.Tensor, probabilities: bool = False,
                    positive: Sequence[torch.Tensor] | None = None) -> torch.Tensor:
        """Forward pass v -> h1 -> ... -> hL (each layer from the layer below only, p > 0.5), then the
        backward pass hL -> ... -> v' (each layer from the layer above only); with ``probabilities``
        the last step returns p(v' = 1 | h1). ``positive`` (the mean-field states of ``v``, as
        :meth:`RBM.reconstruct` takes its positive states) is not used: this pass is not the mean field."""
        h = v
        for l in range(1, self.n_layers):
            h = (torch.sigmoid(self.bs[l] + h @ self.Ws[l - 1]) > 0.5).to(v.dtype)
        for l in range(self.n_layers - 2, -1, -1):
            p = torch.sigmoid(self.bs[l] + h @ self.Ws[l].T)
            h = (p > 0.5).to(v.dtype)
        return p if probabilities else h

    @torch.no_grad()
    def mean_field_reconstruct(self, v: torch.Tensor, n_iter: int = 10, probabilities: bool = False) -> torch.Tensor:
        """A reconstruction through the mean-field posterior: v -> q(h_1, ..., h_L | v) by :meth:`mean_field`
        (``n_iter`` sweeps, the fixed point the positive phase of training uses), then the most probable
        v' given mu_1 (p(v' = 1 | mu_1) > 0.5; with ``probabilities`` p itself). Every hidden layer gets the
        input of both its neighbours, so the pass means the same in the centred parametrisation (Montavon &
        Mueller; :class:`~mlreview.ebm.Centering`) as in the ordinary one: the two define one energy up to a
        constant. The one-sided :meth:`reconstruct` does not: it leaves out a neighbour whose offset term
        the ordinary biases have absorbed."""
        p = self.layer_mean(self.mean_field(v, n_iter), 0)  # the visible layer's only neighbour is h1
        return p if probabilities else (p > 0.5).to(v.dtype)

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

    @torch.no_grad()
    def flip_visible(self, chains: list[torch.Tensor], gen: torch.Generator) -> list[torch.Tensor]:
        """The Metropolis-Hastings global flip v -> 1 - v of :meth:`RBM.flip_visible` on the marginal
        of the even layers (the odd ones summed out, :meth:`log_f_even`), the even hidden layers kept:
        it leaves that marginal invariant; the odd layers of the result are stale and must be drawn
        afresh from the even ones before use, as the next :meth:`gibbs` sweep and
        :meth:`negative_states` do."""
        even = [chains[l] for l in range(0, self.n_layers, 2)]
        log_ratio = self.log_f_even([1.0 - even[0], *even[1:]]) - self.log_f_even(even)
        return [_metropolis_flip(chains[0], log_ratio, gen), *chains[1:]]

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


def _metropolis_flip(v: torch.Tensor, log_ratio: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Rows of ``v`` replaced by 1 - v where log U < ``log_ratio`` (U uniform on [0, 1))."""
    u = torch.rand(len(v), generator=gen, dtype=v.dtype, device=v.device)
    return torch.where((torch.log(u) < log_ratio)[:, None], 1.0 - v, v)


def _numpy(x) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


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
