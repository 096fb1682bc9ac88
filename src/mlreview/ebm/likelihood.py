"""Partition functions and likelihoods of the energy-based models: exact log Z and log-likelihood
by enumeration for small models, annealed importance sampling (AIS) of log Z for large ones
(Salakhutdinov & Murray 2008). See :mod:`mlreview.ebm` for the API."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from mlreview.ebm.energy import (
    DBM,
    ENUMERATION_CHUNK,
    LOG_2PI,
    MAX_ENUMERATION_UNITS,
    RBM,
    _bernoulli,
    _logsumexp_states,
    _numpy,
    _random_binary,
    all_states,
)
from mlreview.errors import MlreviewError
from mlreview.nn.training import as_tensor


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
    if isinstance(model, RBM) and (model.up_scale != 1.0 or model.down_scale != 1.0):
        raise MlreviewError("an RBM with doubled (scaled) weights has no single energy: no likelihood or "
                            "partition function; build the DBM from it (DBM.from_rbms) first")
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
    rows = _numpy(data)
    total = 0.0
    for start in range(0, len(rows), ENUMERATION_CHUNK):  # float64 one chunk at a time
        v = as_tensor(rows[start:start + ENUMERATION_CHUNK], torch.float64, m.device)
        total += float(_log_unnormalised_visible(m, v).sum())
    return total / len(rows) - log_z


@torch.no_grad()
def pseudo_log_likelihood(model: RBM, data, sites: Sequence[int] | None = None) -> float:
    """Besag's pseudo-log-likelihood per unit of an RBM: the mean over the rows of ``data`` and the
    visible units ``sites`` (all when None) of log p(v_i | v_-i) = -softplus(F(v) - F(v with v_i
    flipped)), the free-energy difference computed from the change of the hidden input."""
    v = model._t(_numpy(data))
    x = model.hidden_input(v)
    sites = range(model.n_visible) if sites is None else [int(i) for i in sites]
    total = 0.0
    for i in sites:
        d = 1.0 - 2.0 * v[:, i]  # +1 where v_i = 0, -1 where v_i = 1
        x_flip = x + d[:, None] * (model.up_scale * model.W[i])
        if model.hidden == "bernoulli":
            hidden = nn.functional.softplus(x).sum(1) - nn.functional.softplus(x_flip).sum(1)
        else:
            hidden = 0.5 * ((x * x).sum(1) - (x_flip * x_flip).sum(1))
        total += float(-nn.functional.softplus(d * model.a[i] - hidden).mean())  # F(v) - F(v') = -d a_i - hidden
    return total / len(sites)


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


