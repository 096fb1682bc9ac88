"""Numba Monte Carlo kernels for the 2D ferromagnetic Ising model.

Model: L x L torus (L even), spins +-1, H = -J sum_<ij> s_i s_j with every
nearest-neighbour bond counted once (ground state: -2J per spin).

Layout. A lattice is held as its two checkerboard sublattices, ``sub`` of shape
(2, L*L/2) int8: site (i, j) lives at ``sub[(i + j) % 2, i*(L/2) + j//2]``. Every
neighbour of a site is on the other sublattice, so a half sweep updates one
contiguous array while reading the other. :func:`to_sublattices` and
:func:`to_lattice` convert from and to the ordinary (L, L) array.

Random numbers. Each job owns a xoshiro256+ stream of two independent lanes (8 x
uint64, :func:`seed_state`), seeded from the config seed, the temperature index and
the chain index through numpy's SeedSequence: reproducible and independent.

Kernels:
- :func:`metropolis_sweeps`: checkerboard single-spin Metropolis. Per half sweep:
  fill a buffer of 53-bit random integers (two lanes, in registers), sum the four
  neighbours of every site, then a branch-free, vectorised accept/flip pass against
  thresholds precomputed from min(1, exp(-dE/T)) (:func:`metropolis_thresholds`).
- :func:`wolff_updates`: Wolff single-cluster updates, bond probability 1 - exp(-2J/T).
- :func:`metropolis_random_site`: the straightforward reference (random site, numba's
  generator, exp every step) for the speed benchmark and tests.
- :func:`run_units`: the sampling loop of "units" (n_metropolis sweeps + n_wolff
  clusters), recording energy and magnetisation per unit and storing configurations.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

_U11 = np.uint64(11)
_U17 = np.uint64(17)
_U45 = np.uint64(45)
_U19 = np.uint64(19)
#: Acceptance is decided on 53-bit random integers: P(accept) = floor(p 2^53) / 2^53.
_BITS = 53
_ONE = np.int64(1) << np.int64(_BITS)


def seed_state(*entropy: int) -> np.ndarray:
    """Two xoshiro256+ lanes (8 x uint64) from integers, via numpy's SeedSequence."""
    state = np.random.SeedSequence([int(e) for e in entropy]).generate_state(8, np.uint64)
    for lane in (0, 4):  # all-zero is xoshiro's one fixed point
        if not state[lane : lane + 4].any():
            state[lane] = np.uint64(1)
    return state


@nb.njit(inline="always")
def _next_u64(s):
    """Next output of lane 0 of ``s`` (used by the Wolff kernel)."""
    result = s[0] + s[3]
    t = s[1] << _U17
    s[2] ^= s[0]
    s[3] ^= s[1]
    s[1] ^= s[2]
    s[0] ^= s[3]
    s[2] ^= t
    s[3] = (s[3] << _U45) | (s[3] >> _U19)
    return result


@nb.njit(inline="always")
def _uniform(s):
    return np.float64(_next_u64(s) >> _U11) * (1.0 / 9007199254740992.0)


@nb.njit(cache=True)
def fill_random53(state, out):
    """Fill ``out`` (int64, even length) with 53-bit random integers from both lanes."""
    s0, s1, s2, s3 = state[0], state[1], state[2], state[3]
    q0, q1, q2, q3 = state[4], state[5], state[6], state[7]
    for c in range(0, out.shape[0], 2):
        r = s0 + s3
        t = s1 << _U17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = (s3 << _U45) | (s3 >> _U19)
        out[c] = np.int64(r >> _U11)
        r = q0 + q3
        t = q1 << _U17
        q2 ^= q0
        q3 ^= q1
        q1 ^= q2
        q0 ^= q3
        q2 ^= t
        q3 = (q3 << _U45) | (q3 >> _U19)
        out[c + 1] = np.int64(r >> _U11)
    state[0], state[1], state[2], state[3] = s0, s1, s2, s3
    state[4], state[5], state[6], state[7] = q0, q1, q2, q3


def acceptance_probabilities(temperature: float, J: float = 1.0) -> np.ndarray:
    """min(1, exp(-dE/T)) for s*h = -4, -2, 0, 2, 4 (dE = 2 J s h, h = neighbour sum)."""
    sh = np.arange(-4, 5, 2)
    return np.minimum(1.0, np.exp(-2.0 * J * sh / temperature))


def metropolis_thresholds(temperature: float, J: float = 1.0) -> np.ndarray:
    """53-bit integer thresholds for s*h = 2 and 4 (every s*h <= 0 is always accepted)."""
    if J <= 0:
        raise ValueError("the kernels are for the ferromagnet, J > 0")
    p = acceptance_probabilities(temperature, J)[3:]
    return np.floor(p * float(_ONE)).astype(np.int64)


def to_sublattices(spins: np.ndarray) -> np.ndarray:
    """(L, L) +-1 array -> (2, L*L/2) int8 checkerboard layout."""
    spins = np.asarray(spins)
    L = spins.shape[0]
    if spins.shape != (L, L) or L % 2:
        raise ValueError(f"need a square lattice with even L, got shape {spins.shape}")
    i, j = np.indices((L, L))
    sub = np.empty((2, L * L // 2), np.int8)
    parity = (i + j) % 2
    sub[parity, i * (L // 2) + j // 2] = spins
    return sub


@nb.njit(cache=True)
def _to_lattice_flat(sub, L, out):
    H = L // 2
    for i in range(L):
        for j in range(L):
            out[i * L + j] = sub[(i + j) & 1, i * H + (j >> 1)]


def to_lattice(sub: np.ndarray) -> np.ndarray:
    """(2, L*L/2) checkerboard layout -> (L, L) int8."""
    L = int(round(math.sqrt(2 * sub.shape[1])))
    out = np.empty(L * L, np.int8)
    _to_lattice_flat(sub, L, out)
    return out.reshape(L, L)


@nb.njit(cache=True)
def _half_sweep(a, b, L, parity, t2, t4, rbuf, hn):
    """Metropolis update of every site of sublattice ``a`` (neighbours in ``b``)."""
    H = L // 2
    for i in range(L):
        row = i * H
        up = (i - 1 if i > 0 else L - 1) * H
        down = (i + 1 if i < L - 1 else 0) * H
        for c in range(H):
            hn[row + c] = b[up + c] + b[down + c] + b[row + c]
        if (i + parity) & 1 == 0:  # horizontal neighbours at columns c-1 and c
            hn[row] += b[row + H - 1]
            for c in range(1, H):
                hn[row + c] += b[row + c - 1]
        else:  # at columns c and c+1
            for c in range(H - 1):
                hn[row + c] += b[row + c + 1]
            hn[row + H - 1] += b[row]
    accepted = 0
    for c in range(L * H):
        s = np.int64(a[c])
        x = s * hn[c]
        thr = _ONE if x <= 0 else (t2 if x == 2 else t4)
        flip = rbuf[c] < thr
        a[c] = np.int8(-s if flip else s)
        accepted += flip
    return accepted


@nb.njit(cache=True)
def metropolis_sweeps(sub, n_sweeps, thresholds, state):
    """``n_sweeps`` checkerboard sweeps of ``sub`` in place; returns accepted flips."""
    n_half = sub.shape[1]
    L = int(round(math.sqrt(2 * n_half)))
    rbuf = np.empty(n_half, np.int64)
    hn = np.empty(n_half, np.int8)
    t2 = thresholds[0]
    t4 = thresholds[1]
    accepted = 0
    for _ in range(n_sweeps):
        for parity in range(2):
            fill_random53(state, rbuf)
            accepted += _half_sweep(sub[parity], sub[1 - parity], L, parity, t2, t4, rbuf, hn)
    return accepted


@nb.njit(cache=True)
def wolff_updates(sub, n_updates, p_add, state, stack):
    """``n_updates`` Wolff cluster flips of ``sub`` in place; returns the total cluster size.

    ``stack`` is an int64 work array of length L*L.
    """
    L = int(round(math.sqrt(2 * sub.shape[1])))
    H = L // 2
    n = L * L
    total = 0
    for _ in range(n_updates):
        site = np.int64(_next_u64(state) % np.uint64(n))
        i0 = site // L
        j0 = site % L
        s0 = sub[(i0 + j0) & 1, i0 * H + (j0 >> 1)]
        sub[(i0 + j0) & 1, i0 * H + (j0 >> 1)] = -s0
        stack[0] = site
        top = 1
        size = 1
        while top > 0:
            top -= 1
            i = stack[top] // L
            j = stack[top] % L
            for k in range(4):
                if k == 0:
                    ni = i - 1 if i > 0 else L - 1
                    nj = j
                elif k == 1:
                    ni = i + 1 if i < L - 1 else 0
                    nj = j
                elif k == 2:
                    ni = i
                    nj = j - 1 if j > 0 else L - 1
                else:
                    ni = i
                    nj = j + 1 if j < L - 1 else 0
                p = (ni + nj) & 1
                idx = ni * H + (nj >> 1)
                if sub[p, idx] == s0 and _uniform(state) < p_add:
                    sub[p, idx] = -s0
                    stack[top] = ni * L + nj
                    top += 1
                    size += 1
        total += size
    return total


@nb.njit(cache=True)
def metropolis_random_site(spins, n_updates, temperature, J, seed):
    """Reference: random-site Metropolis on an (L, L) array, numba's generator, exp per step."""
    np.random.seed(seed)
    L = spins.shape[0]
    accepted = 0
    for _ in range(n_updates):
        i = np.random.randint(L)
        j = np.random.randint(L)
        s = spins[i, j]
        h = spins[(i - 1) % L, j] + spins[(i + 1) % L, j] + spins[i, (j - 1) % L] + spins[i, (j + 1) % L]
        de = 2.0 * J * s * h
        if de <= 0.0 or np.random.random() < math.exp(-de / temperature):
            spins[i, j] = -s
            accepted += 1
    return accepted


@nb.njit(cache=True)
def energy_and_magnetisation(sub, J):
    """(energy per spin, magnetisation per spin): each bond joins one site of each sublattice."""
    n_half = sub.shape[1]
    L = int(round(math.sqrt(2 * n_half)))
    H = L // 2
    a = sub[0]
    b = sub[1]
    bonds = 0
    for i in range(L):
        row = i * H
        up = (i - 1 if i > 0 else L - 1) * H
        down = (i + 1 if i < L - 1 else 0) * H
        for c in range(H):
            left = c - 1 if c > 0 else H - 1
            right = c + 1 if c < H - 1 else 0
            horizontal = b[row + left] if (i & 1) == 0 else b[row + right]
            bonds += a[row + c] * (b[up + c] + b[down + c] + b[row + c] + horizontal)
    total = 0
    for c in range(n_half):
        total += a[c] + b[c]
    n = 2 * n_half
    return -J * bonds / n, total / n


@nb.njit(cache=True)
def run_units(sub, n_units, n_metropolis, n_wolff, thresholds, p_add, J, state, store_every, stored,
              global_flip):
    """Run ``n_units`` units of (n_metropolis sweeps, then n_wolff clusters).

    After every unit the energy and magnetisation per spin are recorded; after every
    ``store_every``-th unit (0: never) the lattice is written, row-major, into the next
    row of ``stored`` while rows remain. With ``global_flip``, every stored state is
    first flipped as a whole with probability 1/2: an exact symmetry of H at zero field
    (dE = 0, always accepted), which makes the sign of m of successive stored states
    independent even where Wolff clusters span the lattice and flip it every unit.
    Returns (energies, magnetisations, accepted Metropolis flips, total Wolff cluster
    size, number of stored rows).
    """
    L = int(round(math.sqrt(2 * sub.shape[1])))
    stack = np.empty(L * L, np.int64)
    energies = np.empty(n_units)
    mags = np.empty(n_units)
    accepted = 0
    cluster = 0
    n_stored = 0
    for u in range(n_units):
        if n_metropolis > 0:
            accepted += metropolis_sweeps(sub, n_metropolis, thresholds, state)
        if n_wolff > 0:
            cluster += wolff_updates(sub, n_wolff, p_add, state, stack)
        store = store_every > 0 and (u + 1) % store_every == 0 and n_stored < stored.shape[0]
        if store and global_flip and _uniform(state) < 0.5:
            for p in range(2):
                for c in range(sub.shape[1]):
                    sub[p, c] = -sub[p, c]
        energies[u], mags[u] = energy_and_magnetisation(sub, J)
        if store:
            _to_lattice_flat(sub, L, stored[n_stored])
            n_stored += 1
    return energies, mags, accepted, cluster, n_stored
