"""Energy landscapes: Hopfield storage and dynamics, the annealing kernel, majority-rule blocking,
mean-field theory, and every step on tiny inputs (fast: tiny sizes; the two numba kernels compile
once and are cached)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from mlreview.io import save_npz
from mlreview.ising.kernels import seed_state
from mlreview.sections.energy_landscapes import annealing as an
from mlreview.sections.energy_landscapes import hopfield as hf
from mlreview.sections.energy_landscapes import plots
from mlreview.sections.energy_landscapes import renormalisation as rg
from mlreview.sections.energy_landscapes.kernels import dense_sweeps, pattern_glauber
from tests.conftest import save_tiny_ising

NO_SCHEDULE = np.empty(0)


# ----------------------------------------------------------------------------- Hopfield at T = 0
def test_hebbian_counts_and_fields():
    xi = hf.random_patterns(np.random.default_rng(0), 3, 20)
    C = hf.hebbian_counts(xi)
    brute = sum(np.outer(x, x) for x in xi.astype(float))
    np.fill_diagonal(brute, 0)
    assert np.array_equal(C, brute)
    s = hf.random_patterns(np.random.default_rng(1), 4, 20)
    assert np.array_equal(hf.hebbian_fields(xi, s), s @ brute)


def test_one_stored_pattern_is_a_fixed_point_and_attracts_cues():
    N = 101
    xi = hf.random_patterns(np.random.default_rng(2), 1, N)
    C = hf.hebbian_counts(xi)
    finals, sweeps, stable = hf.descend(C, xi, xi, seed_state(1), 10)
    assert np.array_equal(finals[0], xi[0]) and stable[0] and sweeps[0] == 1  # one sweep, no flip
    rng = np.random.default_rng(3)
    cues = np.array([hf.flip_bits(rng, xi[0], k) for k in (1, 20, 50)])
    finals, _, stable = hf.descend(C, xi, cues, seed_state(2), 10)
    assert stable.all() and np.array_equal(finals, np.repeat(xi, 3, axis=0))
    # more than half the bits flipped: the cue falls to the reversed pattern
    finals, _, _ = hf.descend(C, xi, hf.flip_bits(rng, xi[0], 60)[None], seed_state(3), 10)
    assert np.array_equal(finals[0], -xi[0])


def test_energy_never_increases_at_zero_temperature():
    N, p = 60, 20  # far above capacity: a rugged landscape, many flips
    xi = hf.random_patterns(np.random.default_rng(4), p, N)
    C = hf.hebbian_counts(xi)
    s = hf.random_patterns(np.random.default_rng(5), 1, N)[0]
    h = hf.hebbian_fields(xi, s)[0]
    state = seed_state(4)
    energies = [hf.energy(C, s)]
    for _ in range(30):
        delta, sweeps, flips, _ = dense_sweeps(C, s, h, np.zeros(1), False, 0, state)
        energies.append(hf.energy(C, s))
        assert energies[-1] == pytest.approx(energies[-2] + delta / N, abs=1e-9)  # kernel energy is s.C.s/2
        assert np.array_equal(h, C.astype(float) @ s)
    assert np.all(np.diff(energies) <= 1e-12) and energies[-1] < energies[0]
    assert np.all(s * h >= 0)  # a local minimum: no single flip lowers the energy


def test_overlap_crossing_helpers():
    x = np.array([0.1, 0.2, 0.3])
    assert hf.crossing_down(x, np.array([1.0, 0.8, 0.2]), 0.5) == pytest.approx(0.25)
    assert hf.crossing_down(x, np.array([1.0, 0.9, 0.8]), 0.5) is None
    assert hf.steepest_drop(x, np.array([1.0, 0.9, 0.1])) == pytest.approx(0.25)


# ----------------------------------------------------------------------------- Glauber
def test_glauber_keeps_overlaps_and_freezes_at_low_temperature():
    N, p = 200, 3
    xi = hf.random_patterns(np.random.default_rng(6), p, N)
    s = xi[0].copy()
    M = xi.astype(np.int64) @ s.astype(np.int64)
    out = pattern_glauber(np.ascontiguousarray(xi.T), s, M, 1.0 / 0.02, 5, 1, seed_state(5))
    assert np.array_equal(M, xi.astype(np.int64) @ s.astype(np.int64))
    assert out.shape == (5, p) and np.all(out[:, 0] == 1.0)  # T = 0.02: the pattern never moves
    s = hf.random_patterns(np.random.default_rng(7), 1, N)[0]
    M = xi.astype(np.int64) @ s.astype(np.int64)
    pattern_glauber(np.ascontiguousarray(xi.T), s, M, 1.0 / 5.0, 20, 1, seed_state(6))
    assert np.array_equal(M, xi.astype(np.int64) @ s.astype(np.int64))


def test_stiffness_from_fluctuations_inverts_the_covariance_formula():
    # a mode with Hessian eigenvalue lam has variance T (1 - lam) / (N lam); iid overlaps with variance v
    # per component have <|dm_perp|^2> = 2 v, so lam = T / (T + N v)
    T, N, lam = 0.4, 1000, 0.25
    v = T * (1 - lam) / (N * lam)
    series = 0.45 + np.random.default_rng(11).normal(0.0, math.sqrt(v), size=(200000, 3))
    assert hf.antisymmetric_stiffness(series, T, N) == pytest.approx(lam, rel=0.02)


# ----------------------------------------------------------------------------- mean-field theory
def test_mean_field_retrieval_fixed_point():
    for T in (0.2, 0.5, 0.9, 0.99):
        m = hf.retrieval_overlap(T)
        assert m > 0 and m == pytest.approx(math.tanh(m / T), abs=1e-12)
    assert hf.retrieval_overlap(1.0) == 0.0 and hf.retrieval_overlap(1.5) == 0.0
    assert hf.retrieval_overlap(0.5) == pytest.approx(0.957504, abs=1e-6)


def test_mixture_fixed_point_and_stability():
    for T in (0.1, 0.3, 0.6):
        m = hf.mixture_overlap(T, 3)
        assert m == pytest.approx(0.25 * (math.tanh(3 * m / T) + math.tanh(m / T)), abs=1e-12)
    assert hf.mixture_overlap(0.01, 3) == pytest.approx(0.5, abs=1e-9)
    assert hf.mixture_stability_temperature(3, 3) == pytest.approx(0.46, abs=0.002)  # AGS 1985: 0.461
    assert hf.mixture_hessian_eigenvalues(0.3)[0] > 0 > hf.mixture_hessian_eigenvalues(0.6)[0]


def test_ags_capacity_and_curie_weiss_against_brute_force():
    alpha_c, m_c = hf.ags_critical()
    assert alpha_c == pytest.approx(0.138, abs=5e-4) and m_c == pytest.approx(0.967, abs=1e-3)
    N, T = 8, 0.7
    spins = np.array(list(itertools.product((-1, 1), repeat=N)), float)
    M = spins.sum(axis=1)
    w = np.exp((M**2 - N) / (2 * N * T))
    assert hf.curie_weiss_abs_m(N, T) == pytest.approx(float((np.abs(M) / N * w).sum() / w.sum()), rel=1e-12)


# ----------------------------------------------------------------------------- annealing
def test_annealing_energy_bookkeeping_matches_direct_recomputation():
    rng = np.random.default_rng(8)
    N = 40
    J = an.sk_couplings(rng, N)
    assert np.allclose(J, J.T) and np.all(np.diag(J) == 0)
    s = an.random_spins(rng, N)
    e0 = an.sk_energy(J, s)
    h = J.astype(float) @ s
    temps = an.linear_schedule(50, 1.5, 0.05)
    delta, sweeps, flips, stable = dense_sweeps(J, s, h, temps, True, 100, seed_state(7))
    assert flips > 0 and stable and sweeps > 50
    assert e0 + delta == pytest.approx(an.sk_energy(J, s), abs=1e-9)
    assert np.allclose(h, J.astype(float) @ s, atol=1e-9)
    assert np.all(s * h >= 0)  # ends in a single-flip local minimum


def test_restarts_best_within_budget():
    rng = np.random.default_rng(9)
    J = an.sk_couplings(rng, 30)
    best, energies, sweeps = an.restarts_best(J, rng, seed_state(8), np.array([1, 20, 60]), 100)
    assert sweeps.sum() >= 60 and best[0] == energies[0]
    assert np.all(np.diff(best) <= 0) and best[-1] == pytest.approx(energies[np.cumsum(sweeps) <= 60].min())


def test_reversal_gaps_across_chunks():
    m = np.array([1.0, 0.2, -0.6, -0.9, 0.1, 0.7, 0.8, -0.7])
    gaps, side, last = an.reversal_gaps(m, 0.5)
    assert gaps.tolist() == [3.0, 3.0, 2.0] and side == -1 and last == 8
    a, side1, last1 = an.reversal_gaps(m[:4], 0.5)
    b, _, _ = an.reversal_gaps(m[4:], 0.5, offset=4, side=side1, last=last1)
    assert np.concatenate([a, b]).tolist() == gaps.tolist()


# ----------------------------------------------------------------------------- block spins
def test_majority_rule_on_hand_made_lattices():
    lat = np.array([[1, 1, -1, -1],
                    [1, -1, -1, -1],
                    [1, -1, 1, 1],
                    [-1, 1, 1, -1]], np.int8)[None]
    out = rg.majority_block(lat, np.random.default_rng(0))
    assert out.shape == (1, 2, 2)
    assert out[0, 0, 0] == 1 and out[0, 0, 1] == -1 and out[0, 1, 1] == 1
    assert out[0, 1, 0] in (-1, 1)  # a tie (sum 0)
    ties = np.tile(np.array([[1, -1], [-1, 1]], np.int8), (200, 1, 1))
    a = rg.majority_block(ties, np.random.default_rng(1))
    assert np.array_equal(a, rg.majority_block(ties, np.random.default_rng(1)))  # seeded
    assert 60 < int((a == 1).sum()) < 140  # fair coin
    assert np.array_equal(rg.majority_block(np.ones((1, 8, 8), np.int8), np.random.default_rng(2)),
                          np.ones((1, 4, 4), np.int8))
    with pytest.raises(ValueError):
        rg.majority_block(np.ones((1, 5, 5), np.int8), np.random.default_rng(0))


def test_rg_series_moments_and_block_distribution():
    rng = np.random.default_rng(12)
    lat = np.where(rng.random((5, 8, 8)) < 0.7, 1, -1).astype(np.int8)
    series = rg.rg_series(lat, 2, 2, np.random.default_rng(0))
    assert series["sizes"] == [8, 4, 2]
    m = lat.mean(axis=(1, 2))
    assert np.allclose(series["m2"][:, 0], m**2) and np.allclose(series["sub_m2"][:, 0], m**2)  # 8 x 8 block = all
    mu = lat.reshape(5, 4, 2, 4, 2).mean(axis=(2, 4))  # side-2 sub-blocks: the last step's block size
    assert np.allclose(series["sub_m4"][:, 2], (mu**4).mean(axis=(1, 2)))
    obs = rg._observables(series)
    assert obs["binder"].shape == (3,) and np.all(obs["abs_m"] <= 1)


def test_binder_cumulant_and_crossing():
    assert rg.binder_cumulant(np.array([1.0, -1.0, 1.0])) == pytest.approx(2 / 3)
    g = np.random.default_rng(3).standard_normal(200000)
    assert rg.binder_cumulant(g) == pytest.approx(0.0, abs=0.02)
    T = np.array([1.0, 2.0, 3.0, 4.0])
    assert rg.crossing(T, np.array([0.0, 0.2, -0.2, -0.1])) == pytest.approx(2.5)


# ----------------------------------------------------------------------------- every step, tiny
@pytest.fixture(scope="module")
def tiny_inputs(tmp_path_factory):
    base = tmp_path_factory.mktemp("energy_landscapes")
    rng = np.random.default_rng(10)
    images = np.zeros((60, 28, 28), np.uint8)
    for k in range(60):  # crude "digits": a bar at a class-dependent place
        images[k, 4 + 2 * (k % 10): 8 + 2 * (k % 10), 6:22] = 255
        images[k][rng.random((28, 28)) < 0.02] = 255
    save_npz(base / "mnist.npz", x_train=images, y_train=(np.arange(60) % 10).astype(np.uint8),
             x_test=images[:10], y_test=np.arange(10, dtype=np.uint8))
    temps = [1.5, 2.25, 3.5]
    blocks = []
    for T in temps:
        s = np.where(rng.random((30, 8 * 8)) < (0.95 if T < 2 else 0.5), 1, -1).astype(np.int8)
        blocks.append(s)
    save_tiny_ising(base / "ising2d.npz", blocks, temps, 8)
    return base


def test_every_step_writes_its_outputs(tiny_inputs, tmp_path):
    out = tmp_path
    cap = hf.hopfield_capacity_fit(
        {"sizes": [60, 40], "alphas": {"start": 0.05, "stop": 0.3, "step": 0.125}, "target_se": 0.05,
         "min_runs": 5, "max_runs": 20, "starts_per_network": 10, "max_sweeps": 50, "success_overlap": 0.9,
         "crossing_overlap": 0.5, "retrieval_alpha": 0.05, "ags_compare_max_alpha": 0.1, "alpha_c": 0.138,
         "seed": 1}, data=out / "cap.npz")
    assert cap["largest_size"] == 60 and cap["min_overlap_at_retrieval_alpha"] > 0.9
    basins = hf.hopfield_basins_fit(
        {"size": 50, "alphas": [0.05, 0.1], "flip_fractions": {"start": 0.0, "stop": 0.5, "step": 0.25},
         "runs": 6, "starts_per_network": 3, "success_overlap": 0.9, "confidence": 0.95, "max_sweeps": 50,
         "seed": 2}, data=out / "basins.npz")
    assert basins["success"]["alpha_0.05"][0] == 1.0
    temp = hf.hopfield_temperature_fit(
        {"seed": 3,
         "retrieval": {"size": 50, "patterns": [1, 2], "temperatures": {"start": 0.2, "stop": 1.2, "step": 0.5},
                       "equilibration_sweeps": 10, "measurement_sweeps": 40, "claim_patterns": 1,
                       "claim_max_temperature": 0.9},
         "mixture": {"sizes": [60], "patterns": 3, "temperatures": {"start": 0.2, "stop": 0.6, "step": 0.4},
                     "runs": 2, "sweeps": 30, "window": 20, "asymmetry_threshold": 0.5, "min_overlap": 0.1,
                     "min_stiffness": 0.05, "theory_min_temperature": 0.2}}, data=out / "temp.npz")
    assert temp["mixture"]["stability_T_theory"] == pytest.approx(0.46, abs=0.002)
    digits = hf.hopfield_digits_fit(
        {"binarise_threshold": 127, "picture": {"sets": [[0, 1], [2, 3, 4]], "flip_fraction": 0.1}, "pool": 40,
         "digit_counts": [1, 2], "random_counts": [5, 40], "trials": {"digits": 2, "biased": 2, "random": 1},
         "success_overlap": 0.9, "max_sweeps": 50, "seed": 4}, mnist=tiny_inputs / "mnist.npz", data=out / "digits.npz")
    assert digits["size"] == 784
    ann = an.annealing_fit(
        {"sizes": [16, 24], "instances": [3, 2], "sweeps": [5, 20], "schedule": {"start_temperature": 1.5,
         "end_temperature": 0.05}, "quench_max_sweeps": 100, "parisi_energy": -0.7633,
         "finite_size_exponent": 0.6666667, "seed": 5}, data=out / "ann.npz")
    assert ann["sa_below_greedy_every_size"] in (True, False)
    arr = an.arrhenius_fit({"lattice": 4, "J": 1.0, "temperatures": [2.0, 2.5], "reversals": 5, "max_sweeps": 20000,
                            "chunk": 2000, "well": 0.5, "seed": 6}, data=out / "arr.npz")
    assert all(n >= 2 for n in arr["reversals"])
    ren = rg.ising_rg_fit({"steps": 2, "block": 2, "seed": 7, "bootstrap": 5}, ising=tiny_inputs / "ising2d.npz",
                          data=out / "rg.npz")
    assert ren["sizes"] == [8, 4, 2]
    figs = {
        "capacity": lambda p, q: plots.hopfield_capacity_plot({}, data=out / "cap.npz", basins=out / "basins.npz",
                                                             pdf=p, png=q),
        "temperature": lambda p, q: plots.hopfield_temperature_plot({}, data=out / "temp.npz", pdf=p, png=q),
        "digits": lambda p, q: plots.hopfield_digits_plot({}, data=out / "digits.npz", pdf=p, png=q),
        "annealing": lambda p, q: plots.annealing_plot({}, data=out / "ann.npz", arrhenius=out / "arr.npz",
                                                       pdf=p, png=q),
        "rg": lambda p, q: plots.ising_rg_plot({}, data=out / "rg.npz", pdf=p, png=q),
    }
    for name, draw in figs.items():
        pdf, png = out / f"{name}.pdf", out / f"{name}.png"
        draw(pdf, png)
        assert pdf.stat().st_size > 1000 and png.stat().st_size > 1000, name
