"""Numba Monte Carlo kernels of the 2D Ising model: layout, RNG, exact one-sweep references,
limits (T -> 0, T -> infinity), reproducibility, and equilibrium averages against brute force.

Statistics: the Monte Carlo averages are compared with the exact enumeration of the 4 x 4
torus with a tolerance of 5 standard errors, the standard error coming from Flyvbjerg-Petersen
blocking of the (correlated) time series. Every run is seeded, so the tests are deterministic.
"""

from __future__ import annotations

from collections import deque

import numpy as np
import pytest

from mlreview.ising import exact
from mlreview.ising import kernels as k
from mlreview.ising.autocorr import blocking_standard_error

ONE = 1 << 53
Z_MAX = 5.0


def random_lattice(L: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).choice(np.array([-1, 1], np.int8), size=(L, L))


def np_energy_mag(spins: np.ndarray, J: float = 1.0) -> tuple[float, float]:
    """Reference (energy per spin, m) with np.roll: every bond once (right and down neighbours)."""
    s = np.asarray(spins, np.int64)
    bonds = int((s * np.roll(s, 1, 0)).sum() + (s * np.roll(s, 1, 1)).sum())
    n = s.size
    return -J * bonds / n, int(s.sum()) / n


def neighbour_sum(s: np.ndarray) -> np.ndarray:
    return np.roll(s, 1, 0) + np.roll(s, -1, 0) + np.roll(s, 1, 1) + np.roll(s, -1, 1)


def reference_sweep(spins: np.ndarray, thresholds: np.ndarray, state: np.ndarray) -> tuple[np.ndarray, int]:
    """One checkerboard Metropolis sweep in numpy, consuming the same random numbers as the kernel.

    Half sweep p: the 53-bit numbers r[0 .. N/2) of the stream belong to the sites of parity p
    in sublattice order (index i*(L/2) + j//2); a site flips iff r < threshold(s*h), where the
    threshold is 2^53 (always) for s*h <= 0.
    """
    s = np.asarray(spins, np.int64).copy()
    L = s.shape[0]
    i, j = np.indices((L, L))
    idx = i * (L // 2) + j // 2
    t2, t4 = int(thresholds[0]), int(thresholds[1])
    accepted = 0
    for parity in (0, 1):
        r = np.empty(L * L // 2, np.int64)
        k.fill_random53(state, r)
        x = s * neighbour_sum(s)
        thr = np.where(x <= 0, ONE, np.where(x == 2, t2, t4))
        flip = ((i + j) % 2 == parity) & (r[idx] < thr)
        accepted += int(flip.sum())
        s = np.where(flip, -s, s)
    return s.astype(np.int8), accepted


# --------------------------------------------------------------------------------------------
# Layout
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("L", [4, 6, 40])
def test_sublattice_round_trip_and_layout(L):
    spins = random_lattice(L, L)
    sub = k.to_sublattices(spins)
    assert sub.shape == (2, L * L // 2) and sub.dtype == np.int8
    back = k.to_lattice(sub)
    assert back.dtype == np.int8 and back.shape == (L, L)
    assert np.array_equal(back, spins)
    # the documented layout: site (i, j) at sub[(i + j) % 2, i*(L/2) + j//2]
    for i, j in [(0, 0), (0, 1), (1, 0), (L - 1, L - 1), (L // 2, L - 1), (L - 1, 1)]:
        assert sub[(i + j) % 2, i * (L // 2) + j // 2] == spins[i, j]
    # every site of one sublattice has all four neighbours on the other one
    parity = np.indices((L, L)).sum(0) % 2
    assert np.all(np.roll(parity, 1, 0) != parity) and np.all(np.roll(parity, 1, 1) != parity)


@pytest.mark.parametrize("shape", [(5, 5), (3, 3), (4, 6), (4,)])
def test_to_sublattices_rejects_odd_or_non_square(shape):
    with pytest.raises(ValueError):
        k.to_sublattices(np.ones(shape, np.int8))


@pytest.mark.parametrize("L", [4, 6, 40])
def test_energy_and_magnetisation_matches_numpy(L):
    for seed in range(5):
        spins = random_lattice(L, 100 + seed)
        e, m = k.energy_and_magnetisation(k.to_sublattices(spins), 1.0)
        e_ref, m_ref = np_energy_mag(spins)
        assert e == e_ref and m == m_ref
        e2, _ = k.energy_and_magnetisation(k.to_sublattices(spins), 2.5)
        assert e2 == pytest.approx(2.5 * e_ref, rel=1e-15)
    # ground states and the antiferromagnetic (checkerboard) state
    up = np.ones((L, L), np.int8)
    assert k.energy_and_magnetisation(k.to_sublattices(up), 1.0) == (-2.0, 1.0)
    assert k.energy_and_magnetisation(k.to_sublattices(-up), 1.0) == (-2.0, -1.0)
    checker = np.where(np.indices((L, L)).sum(0) % 2 == 0, 1, -1).astype(np.int8)
    assert k.energy_and_magnetisation(k.to_sublattices(checker), 1.0) == (2.0, 0.0)


# --------------------------------------------------------------------------------------------
# Random numbers and thresholds
# --------------------------------------------------------------------------------------------


def test_seed_state_deterministic_and_distinct():
    a = k.seed_state(2019, 3, 1)
    assert a.shape == (8,) and a.dtype == np.uint64
    assert np.array_equal(a, k.seed_state(2019, 3, 1))
    assert not np.array_equal(a, k.seed_state(2019, 3, 2))
    assert not np.array_equal(a, k.seed_state(2020, 3, 1))
    assert a[:4].any() and a[4:].any()


def test_fill_random53_range_mean_and_lanes():
    n = 1 << 16
    state = k.seed_state(12345)
    out = np.empty(n, np.int64)
    k.fill_random53(state, out)
    assert out.min() >= 0 and out.max() < ONE
    assert out.max() > ONE - ONE // 1000 and out.min() < ONE // 1000  # the whole range is used
    u = out / ONE
    se = np.sqrt(1.0 / 12.0 / n)  # uniform on [0, 1): sd = 1/sqrt(12)
    assert abs(u.mean() - 0.5) < Z_MAX * se
    assert abs(u.var() - 1.0 / 12.0) < 0.01
    # two lanes interleaved: no correlation between the lanes nor along a lane (rough check)
    lane0, lane1 = u[0::2], u[1::2]
    tol = Z_MAX / np.sqrt(n // 2)
    assert abs(np.corrcoef(lane0, lane1)[0, 1]) < tol
    assert abs(np.corrcoef(lane0[:-1], lane0[1:])[0, 1]) < tol
    assert abs(np.corrcoef(lane1[:-1], lane1[1:])[0, 1]) < tol
    assert abs(np.corrcoef(lane1[:-1], lane0[1:])[0, 1]) < tol
    # every 1/16 bin is populated as a uniform should be (chi-square, 15 dof, far tail)
    counts = np.bincount((u * 16).astype(int), minlength=16)
    chi2 = ((counts - n / 16) ** 2 / (n / 16)).sum()
    assert chi2 < 50.0
    # the stream continues across calls: two fills of n/2 equal one fill of n
    s1, s2 = k.seed_state(7), k.seed_state(7)
    whole = np.empty(1000, np.int64)
    k.fill_random53(s1, whole)
    halves = [np.empty(500, np.int64), np.empty(500, np.int64)]
    for h in halves:
        k.fill_random53(s2, h)
    assert np.array_equal(whole, np.concatenate(halves)) and np.array_equal(s1, s2)


@pytest.mark.parametrize("J", [1.0, 2.0])
def test_metropolis_thresholds(J):
    for T in (0.05, 0.5, 1.0, 2.269, 3.0, 10.0, 1e4):
        thr = k.metropolis_thresholds(T, J)
        assert thr.dtype == np.int64 and thr.shape == (2,)
        expected = [np.floor(min(1.0, np.exp(-2.0 * J * sh / T)) * 2.0**53) for sh in (2, 4)]
        assert thr.tolist() == [int(v) for v in expected]
        p = k.acceptance_probabilities(T, J)
        assert np.array_equal(p[:3], np.ones(3))  # s*h = -4, -2, 0: always accepted
        assert p[3] == pytest.approx(np.exp(-4.0 * J / T), rel=1e-15, abs=1e-300)
        assert 0 <= thr[1] <= thr[0] <= ONE
    assert k.metropolis_thresholds(0.05).tolist() == [0, 0]  # exp(-80) * 2^53 < 1
    for bad_J in (0.0, -1.0):
        with pytest.raises(ValueError):
            k.metropolis_thresholds(2.0, bad_J)


# --------------------------------------------------------------------------------------------
# Metropolis sweeps
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("L", [4, 6, 40])
@pytest.mark.parametrize("T", [0.05, 2.269, 5.0])
def test_metropolis_sweep_equals_numpy_reference(L, T):
    """The kernel and a numpy sweep fed the same random numbers give identical lattices."""
    spins = random_lattice(L, 7 * L)
    thresholds = k.metropolis_thresholds(T)
    sub = k.to_sublattices(spins)
    state_kernel = k.seed_state(L, int(100 * T))
    state_ref = state_kernel.copy()
    ref = spins
    for _ in range(3):
        acc = k.metropolis_sweeps(sub, 1, thresholds, state_kernel)
        ref, acc_ref = reference_sweep(ref, thresholds, state_ref)
        assert acc == acc_ref
        assert np.array_equal(k.to_lattice(sub), ref)
    assert np.array_equal(state_kernel, state_ref)


@pytest.mark.parametrize("L", [6, 40])
def test_every_non_positive_sh_flip_is_accepted(L):
    """At T = 0.05 the thresholds are 0: a site flips iff s*h <= 0, whatever the random numbers."""
    spins = random_lattice(L, 3 + L)
    s = spins.astype(np.int64)
    parity = np.indices((L, L)).sum(0) % 2
    for p in (0, 1):
        flip = (parity == p) & (s * neighbour_sum(s) <= 0)
        s = np.where(flip, -s, s)
    sub = k.to_sublattices(spins)
    k.metropolis_sweeps(sub, 1, k.metropolis_thresholds(0.05), k.seed_state(99))
    assert np.array_equal(k.to_lattice(sub), s)
    # and at a moderate T every s*h <= 0 site of a half sweep flips too: on the all-up lattice
    # with sublattice 0 reversed, every site of sublattice 0 has s*h = -4 and must flip back
    up = np.where(parity == 0, -1, 1).astype(np.int8)
    sub = k.to_sublattices(up)
    acc = k.metropolis_sweeps(sub, 1, k.metropolis_thresholds(2.0), k.seed_state(5))
    assert np.all(sub[0] == 1)
    assert acc >= L * L // 2


def test_quench_never_raises_energy_and_orders():
    thresholds = k.metropolis_thresholds(0.05)
    L = 40
    for seed in range(3):
        sub = k.to_sublattices(random_lattice(L, seed))
        state = k.seed_state(seed)
        e0 = k.energy_and_magnetisation(sub, 1.0)[0]
        assert abs(e0) < 0.2  # a random start has E/N ~ 0
        energies = [e0]
        for _ in range(300):
            k.metropolis_sweeps(sub, 1, thresholds, state)
            energies.append(k.energy_and_magnetisation(sub, 1.0)[0])
        assert np.all(np.diff(energies) <= 0.0)
        # ordered, up to a few straight domain walls (a stripe state has -2 + 4/L = -1.9)
        assert energies[-1] < -1.7


def test_high_temperature_accepts_almost_everything():
    L = 40
    T = 1e4
    sub = k.to_sublattices(random_lattice(L, 1))
    state = k.seed_state(1)
    n_sweeps = 200
    acc = k.metropolis_sweeps(sub, n_sweeps, k.metropolis_thresholds(T), state)
    rate = acc / (n_sweeps * L * L)
    assert rate > 0.999
    # rejections happen only at s*h > 0, with probability <= 1 - exp(-8/T)
    assert 1.0 - rate <= 1.0 - np.exp(-8.0 / T)
    e, m = k.energy_and_magnetisation(sub, 1.0)
    assert abs(e) < 0.2 and abs(m) < 0.1  # still disordered


def test_sweeps_reproducible_for_seed():
    L, T = 16, 2.3
    spins = random_lattice(L, 4)
    thr = k.metropolis_thresholds(T)
    p_add = 1.0 - np.exp(-2.0 / T)

    def run(*entropy):
        sub = k.to_sublattices(spins)
        state = k.seed_state(*entropy)
        k.metropolis_sweeps(sub, 50, thr, state)
        k.wolff_updates(sub, 20, p_add, state, np.empty(L * L, np.int64))
        e, m, acc, cl, n = k.run_units(sub, 30, 1, 1, thr, p_add, 1.0, state, 3, np.empty((10, L * L), np.int8),
                                       True)
        return k.to_lattice(sub), e, m, acc, cl

    a, b, c = run(1, 2, 3), run(1, 2, 3), run(1, 2, 4)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]) and np.array_equal(a[2], b[2])
    assert a[3:] == b[3:]
    assert not np.array_equal(a[0], c[0])


# --------------------------------------------------------------------------------------------
# Wolff
# --------------------------------------------------------------------------------------------


def like_spin_component(spins: np.ndarray, site: tuple[int, int]) -> set[tuple[int, int]]:
    """The periodic connected cluster of equal spins containing ``site`` (BFS)."""
    L = spins.shape[0]
    s0 = spins[site]
    seen = {site}
    queue = deque([site])
    while queue:
        i, j = queue.popleft()
        for ni, nj in ((i - 1) % L, j), ((i + 1) % L, j), (i, (j - 1) % L), (i, (j + 1) % L):
            if (ni, nj) not in seen and spins[ni, nj] == s0:
                seen.add((ni, nj))
                queue.append((ni, nj))
    return seen


@pytest.mark.parametrize("L", [6, 40])
def test_wolff_p_add_one_flips_the_like_spin_component(L):
    stack = np.empty(L * L, np.int64)
    state = k.seed_state(L)
    spins = random_lattice(L, 11 * L)
    for _ in range(10):
        sub = k.to_sublattices(spins)
        size = k.wolff_updates(sub, 1, 1.0, state, stack)
        after = k.to_lattice(sub)
        changed = np.argwhere(after != spins)
        assert len(changed) == size >= 1
        assert np.all(after[tuple(changed.T)] == -spins[tuple(changed.T)])
        cluster = like_spin_component(spins, tuple(int(v) for v in changed[0]))
        assert cluster == {tuple(int(v) for v in c) for c in changed}
        spins = after


def test_wolff_limits():
    L = 8
    stack = np.empty(L * L, np.int64)
    # p_add = 0: single-site flips
    spins = random_lattice(L, 2)
    sub = k.to_sublattices(spins)
    assert k.wolff_updates(sub, 1, 0.0, k.seed_state(1), stack) == 1
    assert (k.to_lattice(sub) != spins).sum() == 1
    assert k.wolff_updates(sub, 25, 0.0, k.seed_state(2), stack) == 25
    # cold (T = 0.01, p_add = 1 - exp(-200) = 1): the uniform lattice flips as a whole
    p_add = 1.0 - np.exp(-2.0 / 0.01)
    sub = k.to_sublattices(np.ones((L, L), np.int8))
    assert k.wolff_updates(sub, 3, p_add, k.seed_state(3), stack) == 3 * L * L
    assert np.all(sub == -1)


# --------------------------------------------------------------------------------------------
# run_units
# --------------------------------------------------------------------------------------------


def test_run_units_records_and_stores_consistently():
    L, T = 8, 2.0
    thr = k.metropolis_thresholds(T)
    p_add = 1.0 - np.exp(-2.0 / T)
    sub = k.to_sublattices(random_lattice(L, 0))
    stored = np.zeros((7, L * L), np.int8)
    e, m, acc, cl, n = k.run_units(sub, 30, 2, 1, thr, p_add, 1.0, k.seed_state(0), 4, stored, True)
    assert e.shape == m.shape == (30,)
    assert n == 7  # units 4, 8, ..., 28
    assert acc > 0 and cl >= 30
    for r in range(n):
        u = 4 * (r + 1) - 1
        e_ref, m_ref = np_energy_mag(stored[r].reshape(L, L))
        assert e[u] == e_ref and m[u] == m_ref
    # the last unit's record is the final lattice
    assert (e[-1], m[-1]) == k.energy_and_magnetisation(sub, 1.0)
    # store_every = 0: nothing stored; storage stops when the array is full
    e0, _, _, _, n0 = k.run_units(sub, 5, 1, 0, thr, p_add, 1.0, k.seed_state(1), 0, np.empty((5, L * L), np.int8),
                                  False)
    assert n0 == 0 and e0.shape == (5,)
    assert k.run_units(sub, 20, 1, 0, thr, p_add, 1.0, k.seed_state(2), 1, np.empty((3, L * L), np.int8),
                       False)[4] == 3


def test_global_flip_balances_sign_of_stored_states():
    """Deep in the ordered phase, pure Metropolis never changes the sign of m; the global flip
    makes the sign of every stored state a fair coin."""
    L, T, n = 8, 1.0, 2000
    thr = k.metropolis_thresholds(T)
    sub = k.to_sublattices(np.ones((L, L), np.int8))
    stored = np.empty((n, L * L), np.int8)
    _, m, _, _, _ = k.run_units(sub, n, 1, 0, thr, 0.0, 1.0, k.seed_state(5), 1, stored, True)
    frac = (m > 0).mean()
    assert abs(frac - 0.5) < Z_MAX * np.sqrt(0.25 / n)
    # successive signs independent: the sign persists with probability 1/2
    same = (np.sign(m[1:]) == np.sign(m[:-1])).mean()
    assert abs(same - 0.5) < Z_MAX * np.sqrt(0.25 / (n - 1))
    sub = k.to_sublattices(np.ones((L, L), np.int8))
    _, m, _, _, _ = k.run_units(sub, n, 1, 0, thr, 0.0, 1.0, k.seed_state(5), 1, stored, False)
    assert np.all(m > 0)


# --------------------------------------------------------------------------------------------
# Equilibrium averages against the exact enumeration of the 4 x 4 torus
# --------------------------------------------------------------------------------------------

SCHEDULES = {
    "metropolis": (1, 0, False),
    "wolff": (0, 1, False),
    "mixed_global_flip": (1, 1, True),
}


def assert_agrees(series: np.ndarray, exact_value: float, what: str):
    res = blocking_standard_error(series)
    assert res.converged, what
    se = res.standard_error
    assert se > 0, what
    z = (series.mean() - exact_value) / se
    assert abs(z) < Z_MAX, f"{what}: mean {series.mean():.6f} exact {exact_value:.6f} se {se:.2e} z {z:.2f}"


@pytest.mark.parametrize("T", [1.5, 2.269, 3.0])
@pytest.mark.parametrize("schedule", list(SCHEDULES))
def test_averages_agree_with_brute_force(T, schedule):
    L, J = 4, 1.0
    n_met, n_wolff, global_flip = SCHEDULES[schedule]
    bf = exact.brute_force(L, T, J)
    thr = k.metropolis_thresholds(T, J)
    p_add = 1.0 - np.exp(-2.0 * J / T)
    state = k.seed_state(2019, int(round(1000 * T)), n_met, n_wolff)
    sub = k.to_sublattices(np.ones((L, L), np.int8))
    k.run_units(sub, 2000, n_met, n_wolff, thr, p_add, J, state, 0, np.empty((0, L * L), np.int8), global_flip)
    n = 100_000
    stored = np.empty((n if global_flip else 0, L * L), np.int8)
    e, m, _, _, _ = k.run_units(sub, n, n_met, n_wolff, thr, p_add, J, state, 1 if global_flip else 0, stored,
                                global_flip)
    assert_agrees(e, float(bf["energy_per_spin"]), f"{schedule} T={T} E/N")
    assert_agrees(np.abs(m), float(bf["mean_abs_m"]), f"{schedule} T={T} |m|")
    assert_agrees(m**2, float(bf["mean_m2"]), f"{schedule} T={T} m^2")
    if global_flip:  # <m> = 0 by symmetry, which the global flip makes visible even below Tc
        assert_agrees(m, 0.0, f"{schedule} T={T} m")


def test_random_site_reference_agrees_with_brute_force():
    L, J, T = 4, 1.0, 2.269
    bf = exact.brute_force(L, T, J)
    spins = np.ones((L, L), np.int8)
    k.metropolis_random_site(spins, 2000 * L * L, T, J, 1)
    n = 20_000
    states = np.empty((n, L, L), np.int8)
    accepted = 0
    for t in range(n):  # one sweep (N attempts) per call, each call its own seed
        accepted += k.metropolis_random_site(spins, L * L, T, J, 1000 + t)
        states[t] = spins
    s = states.astype(np.int64)
    e = -J * ((s * np.roll(s, 1, 1)).sum((1, 2)) + (s * np.roll(s, 1, 2)).sum((1, 2))) / (L * L)
    m = s.mean((1, 2))
    assert 0 < accepted < n * L * L
    assert_agrees(e, float(bf["energy_per_spin"]), "random-site E/N")
    assert_agrees(np.abs(m), float(bf["mean_abs_m"]), "random-site |m|")
    # reproducible for a seed
    a, b = np.ones((L, L), np.int8), np.ones((L, L), np.int8)
    assert k.metropolis_random_site(a, 500, T, J, 3) == k.metropolis_random_site(b, 500, T, J, 3)
    assert np.array_equal(a, b)
