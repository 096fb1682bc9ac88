"""Per-configuration Ising observables against known lattices, the Monte Carlo kernel's energy
and brute force over a small torus."""

import numpy as np
import pytest

from mlreview.ising.exact import brute_force
from mlreview.ising.kernels import energy_and_magnetisation, to_sublattices
from mlreview.ising import observables as obs
from mlreview.ising.observables import as_spin_lattices, lattice_observables


def test_known_lattices():
    L = 6
    up = np.ones((L, L))
    checker = np.where(np.indices((L, L)).sum(0) % 2 == 0, 1.0, -1.0)
    obs = lattice_observables(np.stack([up, -up, checker]))
    np.testing.assert_allclose(obs["m"], [1.0, -1.0, 0.0])
    np.testing.assert_allclose(obs["energy"], [-2.0, -2.0, 2.0])
    np.testing.assert_allclose(obs["nn_correlation"], [1.0, 1.0, -1.0])
    np.testing.assert_allclose(lattice_observables(np.stack([up, checker]), J=0.5)["energy"], [-1.0, 1.0])


def test_flat_rows_and_01_encoding_match_lattices():
    rng = np.random.default_rng(0)
    s = rng.choice([-1, 1], size=(5, 8, 8)).astype(np.int8)
    a = lattice_observables(s)
    b = lattice_observables(s.reshape(5, 64), lattice=8)
    c = lattice_observables(((s + 1) // 2).reshape(5, 64), encoding="01")
    d = lattice_observables(s[0].reshape(64))
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
        np.testing.assert_array_equal(a[key], c[key])
        assert d[key][0] == a[key][0]
    np.testing.assert_allclose(a["energy"], -2.0 * a["nn_correlation"])


def test_energy_matches_the_monte_carlo_kernel():
    rng = np.random.default_rng(1)
    for L in (4, 10, 40):
        s = rng.choice([-1, 1], size=(L, L)).astype(np.int8)
        e, m = energy_and_magnetisation(to_sublattices(s), 1.0)
        obs = lattice_observables(s[None])
        assert obs["energy"][0] == pytest.approx(e, abs=1e-12)
        assert obs["m"][0] == pytest.approx(m, abs=1e-12)


def test_boltzmann_average_matches_brute_force():
    # every state of the 3 x 3 torus, weighted by exp(-E/T): <e> and <|m|> equal the exact values
    L, T = 3, 2.0
    idx = np.arange(2 ** (L * L))
    states = 2 * ((idx[:, None] >> np.arange(L * L)) & 1) - 1
    obs = lattice_observables(states, lattice=L)
    w = np.exp(-obs["energy"] * L * L / T)
    exact = brute_force(L, T)
    assert float((w * obs["energy"]).sum() / w.sum()) == pytest.approx(float(exact["energy_per_spin"]), rel=1e-12)
    assert float((w * np.abs(obs["m"])).sum() / w.sum()) == pytest.approx(float(exact["mean_abs_m"]), rel=1e-12)


@pytest.mark.parametrize("bad", [np.zeros((2, 15)), np.zeros((2, 3, 4)), np.full((1, 16), 0.5)])
def test_errors(bad):
    with pytest.raises(ValueError):
        as_spin_lattices(bad, encoding="01" if bad.max() > 0 else "pm1")
    with pytest.raises(ValueError):
        as_spin_lattices(np.ones((1, 4)), encoding="spin")


def test_spin_correlations():
    rng = np.random.default_rng(0)
    independent = np.where(rng.random((2000, 20, 20)) < 0.7, 1.0, -1.0)
    assert abs(obs.connected_nn_correlation(independent)) < 0.01
    # within one lattice m^2 carries var(m) = (1 - <s>^2) / N: a bias of -0.0021 here
    assert obs.spatial_nn_correlation(independent) == pytest.approx(-(1 - 0.4 ** 2) / 400, abs=0.002)
    # all up or all down at random: <s_i s_j> = 1, <s_i> = 0
    signs = np.where(rng.random(2000) < 0.5, 1.0, -1.0)
    ordered = signs[:, None, None] * np.ones((2000, 8, 8))
    assert obs.connected_nn_correlation(ordered) == pytest.approx(1.0, abs=0.01)
    assert obs.spatial_nn_correlation(ordered) == pytest.approx(0.0)
    # stripes: every horizontal bond +1, every vertical one -1 (even L)
    stripes = np.tile(np.where(np.arange(8) % 2, 1.0, -1.0)[:, None], (1, 8))[None]
    assert obs.spatial_nn_correlation(stripes) == pytest.approx(0.0)
