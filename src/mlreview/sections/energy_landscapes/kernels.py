"""Numba kernels of the energy-landscape section, on the project's xoshiro256+ streams.

Random numbers come from :func:`mlreview.ising.kernels.fill_random53` (two lanes of 53-bit
integers, state from :func:`mlreview.ising.kernels.seed_state`): every sweep fills one buffer,
whose first half orders the sites (a Fisher-Yates shuffle: asynchronous updates in a fresh
random order each sweep) and whose second half decides acceptances.

Two kernels, one per kind of job:

- :func:`dense_sweeps`: single-spin Metropolis on a dense symmetric coupling matrix J (zero
  diagonal), energy E = -1/2 s.J.s, local fields h = J s kept up to date after every flip (one
  row of J). One temperature per sweep, T = 0 meaning greedy descent (flip only when the
  energy drops; a tie keeps the spin); optionally followed by T = 0 sweeps until a sweep flips
  nothing (a local minimum under single flips). Used by the Hopfield network at T = 0 (J the
  integer Hebbian counts, fields exact integers) and by simulated annealing and greedy quenches
  of the Sherrington-Kirkpatrick spin glass.
- :func:`pattern_glauber`: Glauber (heat-bath) dynamics of a Hopfield network with a few
  patterns, in the pattern representation: the fields come from the p overlaps, so a sweep
  costs O(N p) instead of O(N^2).
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from mlreview.ising.kernels import fill_random53

#: 53-bit integers -> uniform numbers in [0, 1)
_INV53 = 1.0 / 9007199254740992.0


@nb.njit(cache=True)
def _shuffle(order, rbuf):
    """Fisher-Yates shuffle of ``order`` in place with the 53-bit integers rbuf[1 .. n-1]."""
    for k in range(order.shape[0] - 1, 0, -1):
        j = rbuf[k] % (k + 1)
        tmp = order[k]
        order[k] = order[j]
        order[j] = tmp


@nb.njit(cache=True)
def dense_sweeps(J, s, h, temperatures, quench, max_quench_sweeps, state):
    """Sweeps of single-spin Metropolis on couplings ``J`` (n, n), spins ``s`` (int8) in place.

    ``h`` (float64) must hold J @ s on entry and is kept equal to it. Sweep k runs at
    ``temperatures[k]`` (0: greedy); with ``quench``, T = 0 sweeps follow until one flips
    nothing, at most ``max_quench_sweeps`` of them. Flipping s_i changes the energy
    E = -1/2 s.J.s by 2 s_i h_i. Returns (energy change, sweeps run, spins flipped, stable),
    ``stable`` meaning the last sweep was a T = 0 sweep without a flip.
    """
    n = s.shape[0]
    half = n + (n & 1)
    rbuf = np.empty(2 * half, np.int64)
    order = np.arange(n)
    n_t = temperatures.shape[0]
    delta = 0.0
    flips = 0
    sweeps = 0
    stable = False
    while True:
        if sweeps < n_t:
            T = temperatures[sweeps]
        elif quench and sweeps < n_t + max_quench_sweeps:
            T = 0.0
        else:
            break
        fill_random53(state, rbuf)
        _shuffle(order, rbuf)
        changed = 0
        for c in range(n):
            i = order[c]
            si = s[i]
            de = 2.0 * si * h[i]
            if de < 0.0:
                accept = True
            elif T > 0.0:
                accept = rbuf[half + c] * _INV53 < math.exp(-de / T)
            else:
                accept = False
            if accept:
                s[i] = -si
                f = -2.0 * si
                row = J[i]
                for j in range(n):
                    h[j] += f * row[j]
                delta += de
                changed += 1
        flips += changed
        sweeps += 1
        if sweeps > n_t and changed == 0:
            stable = True
            break
    return delta, sweeps, flips, stable


@nb.njit(cache=True)
def pattern_glauber(xi_t, s, M, beta, n_sweeps, record_every, state):
    """Glauber dynamics of the Hebbian network J = (1/N) sum_mu xi^mu xi^mu^T (zero diagonal).

    ``xi_t`` (N, p) int8 patterns (one column each), ``s`` (N,) int8 spins and ``M`` (p,) int64
    the unnormalised overlaps xi^mu . s, both updated in place. The field on spin i is
    h_i = (1/N) (sum_mu xi_i^mu M_mu - p s_i); heat bath: s_i = +1 with probability
    1 / (1 + exp(-2 beta h_i)). Returns the overlaps M/N after every ``record_every``-th sweep,
    shape (n_sweeps // record_every, p).
    """
    n, p = xi_t.shape
    half = n + (n & 1)
    rbuf = np.empty(2 * half, np.int64)
    order = np.arange(n)
    inv_n = 1.0 / n
    out = np.empty((n_sweeps // record_every, p))
    row = 0
    for sweep in range(n_sweeps):
        fill_random53(state, rbuf)
        _shuffle(order, rbuf)
        for c in range(n):
            i = order[c]
            acc = 0
            for mu in range(p):
                acc += xi_t[i, mu] * M[mu]
            field = (acc - p * s[i]) * inv_n
            up = rbuf[half + c] * _INV53 * (1.0 + math.exp(-2.0 * beta * field)) < 1.0
            new = 1 if up else -1
            if new != s[i]:
                for mu in range(p):
                    M[mu] += 2 * new * xi_t[i, mu]
                s[i] = new
        if (sweep + 1) % record_every == 0 and row < out.shape[0]:
            for mu in range(p):
                out[row, mu] = M[mu] * inv_n
            row += 1
    return out
