"""Exact 2D Ising results: Kaufman's finite torus vs brute force, limits, Onsager's infinite lattice."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize_scalar

from mlreview.ising import exact as ex

TC = 2.269185314213022
#: Temperatures of the brute-force comparison (2.269 is just below T_c).
T_CHECK = np.array([0.5, 1.0, 2.0, 2.269, 3.0, 5.0])


# --------------------------------------------------------------------------------------------
# Infinite lattice
# --------------------------------------------------------------------------------------------


def test_critical_temperature():
    assert ex.critical_temperature() == pytest.approx(TC, rel=1e-15)
    assert np.sinh(2.0 / ex.critical_temperature()) == pytest.approx(1.0, rel=1e-15)
    assert ex.critical_temperature(J=2.5) == pytest.approx(2.5 * TC, rel=1e-15)


def test_onsager_magnetisation():
    assert float(ex.onsager_magnetisation(1.0)) == pytest.approx(0.9992757520, abs=1e-10)
    T = np.array([0.5, 1.0, 1.5, 2.0, 2.2, 2.26])
    m = ex.onsager_magnetisation(T)
    assert m.shape == T.shape
    assert np.all(np.diff(m) < 0) and np.all((m > 0) & (m < 1))
    assert np.all(ex.onsager_magnetisation([TC, 2.27, 3.0, 10.0]) == 0.0)
    # J scales temperature: m(T, J) = m(T/J, 1)
    assert np.allclose(ex.onsager_magnetisation(2 * T, J=2.0), m, rtol=1e-14)


def test_onsager_energy_and_specific_heat():
    assert float(ex.onsager_energy_per_spin(TC)) == pytest.approx(-np.sqrt(2.0), rel=1e-13)
    T = np.array([0.5, 1.0, 1.5, 2.0, 2.2, 2.35, 2.5, 3.0, 5.0])
    h = 1e-5
    du_dT = (ex.onsager_energy_per_spin(T + h) - ex.onsager_energy_per_spin(T - h)) / (2 * h)
    c = ex.onsager_specific_heat_per_spin(T)
    assert np.allclose(c, du_dT, rtol=1e-6)  # central-difference error ~h^2
    assert float(ex.onsager_energy_per_spin(0.1)) == pytest.approx(-2.0, abs=1e-12)
    # logarithmic divergence at T_c from both sides
    near = ex.onsager_specific_heat_per_spin(TC * (1 + np.array([-1e-4, 1e-4, -1e-8, 1e-8])))
    assert np.all(near[:2] > 2.0) and np.all(near[2:] > near[:2] + 3.0)


# --------------------------------------------------------------------------------------------
# Brute force itself
# --------------------------------------------------------------------------------------------


def test_brute_force_two_by_two_closed_form():
    # 2x2 torus with 8 bonds (doubled): E = -8J (2 states), 0 (12 states), +8J (2 states).
    T = np.array([0.7, 1.0, 2.0, 5.0])
    K = 1.0 / T
    w_g, w_e = 2 * np.exp(8 * K), 2 * np.exp(-8 * K)
    Z = w_g + 12 + w_e
    b = ex.brute_force(2, T)
    assert np.allclose(b["log_z"], np.log(Z), rtol=1e-14)
    assert np.allclose(b["energy_per_spin"], (-8 * w_g + 8 * w_e) / Z / 4, rtol=1e-13)
    var = (64 * w_g + 64 * w_e) / Z - ((-8 * w_g + 8 * w_e) / Z) ** 2
    assert np.allclose(b["specific_heat_per_spin"], var / (4 * T**2), rtol=1e-12)
    # |m| = 1 for the aligned states, 1/2 for the 8 one-flip states, 0 otherwise
    # (the E = +8J states are the two diagonal pairs flipped: m = 0)
    assert np.allclose(b["mean_abs_m"], (w_g + 4) / Z, rtol=1e-13)
    assert np.allclose(b["mean_m2"], (w_g + 2) / Z, rtol=1e-13)


def test_brute_force_limits_and_errors():
    b = ex.brute_force(4, [0.05, 1e6])
    assert b["mean_abs_m"][0] == pytest.approx(1.0, abs=1e-12)
    assert b["mean_m2"][1] == pytest.approx(1.0 / 16, rel=1e-5)  # independent spins
    with pytest.raises(ValueError):
        ex.brute_force(5, 1.0)  # 2^25 states
    with pytest.raises(ValueError):
        ex.brute_force(3, -1.0)


# --------------------------------------------------------------------------------------------
# Kaufman vs brute force
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("M,N", [(2, 2), (3, 3), (4, 4), (2, 5), (3, 4), (1, 6)])
def test_kaufman_matches_brute_force(M, N):
    b = ex.brute_force(M, T_CHECK, N=N)
    k = ex.finite_size_thermodynamics(M, T_CHECK, N=N)
    np.testing.assert_allclose(k["log_z"], b["log_z"], rtol=1e-13, atol=0)
    np.testing.assert_allclose(k["energy_per_spin"], b["energy_per_spin"], rtol=1e-12, atol=0)
    np.testing.assert_allclose(
        k["specific_heat_per_spin"], b["specific_heat_per_spin"], rtol=1e-10, atol=0
    )
    assert np.array_equal(ex.log_partition_function(M, T_CHECK, N=N), k["log_z"])
    assert np.array_equal(ex.energy_per_spin(M, T_CHECK, N=N), k["energy_per_spin"])
    assert np.array_equal(ex.specific_heat_per_spin(M, T_CHECK, N=N), k["specific_heat_per_spin"])


def test_kaufman_symmetric_in_sides():
    T = np.array([1.0, 2.3, 4.0])
    a = ex.finite_size_thermodynamics(6, T, N=11)
    b = ex.finite_size_thermodynamics(11, T, N=6)
    for key in a:
        np.testing.assert_allclose(a[key], b[key], rtol=1e-13)


def test_kaufman_against_high_precision():
    """L = 40 against the same formula in 40-digit arithmetic with numerical derivatives."""
    mp = pytest.importorskip("mpmath")
    L = 40
    with mp.workdps(40):

        def log_z(K):
            c = mp.cosh(2 * K) * mp.coth(2 * K)

            def gamma(l):
                return 2 * K + mp.log(mp.tanh(K)) if l == 0 else mp.acosh(c - mp.cos(mp.pi * l / L))

            odd = [gamma(l) for l in range(1, 2 * L, 2)]
            even = [gamma(l) for l in range(0, 2 * L, 2)]
            z = (
                mp.fprod(2 * mp.cosh(L * g / 2) for g in odd)
                + mp.fprod(2 * mp.sinh(L * g / 2) for g in odd)
                + mp.fprod(2 * mp.cosh(L * g / 2) for g in even)
                + mp.fprod(2 * mp.sinh(L * g / 2) for g in even)
            )
            return -mp.log(2) + mp.mpf(L * L) / 2 * mp.log(2 * mp.sinh(2 * K)) + mp.log(z)

        for T in (0.5, 2.269, 3.5):
            K = 1 / mp.mpf(T)
            k = ex.finite_size_thermodynamics(L, T)
            assert float(k["log_z"]) == pytest.approx(float(log_z(K)), rel=1e-15)
            e_ref = float(-mp.diff(log_z, K) / L**2)
            c_ref = float(K**2 * mp.diff(log_z, K, 2) / L**2)
            assert float(k["energy_per_spin"]) == pytest.approx(e_ref, rel=1e-14)
            assert float(k["specific_heat_per_spin"]) == pytest.approx(c_ref, rel=1e-12)


# --------------------------------------------------------------------------------------------
# Limits, large lattices, Onsager
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("L", [3, 40, 128])
def test_ground_state_limit(L):
    T = 0.05
    k = ex.finite_size_thermodynamics(L, T)
    assert float(k["energy_per_spin"]) == pytest.approx(-2.0, abs=1e-14)
    assert abs(float(k["specific_heat_per_spin"])) < 1e-20  # exact value ~1e-65
    # Z -> 2 exp(2 N K): two ground states
    assert float(k["log_z"]) == pytest.approx(np.log(2) + 2 * L * L / T, rel=1e-15)


def test_high_temperature_limit():
    T = np.array([10.0, 100.0])
    K = 1.0 / T
    u = ex.energy_per_spin(40, T)
    # high-T series ln Z / N = ln 2 + 2 ln cosh K + tanh^4 K + O(tanh^6 K), so
    # u = -2 tanh K - 4 tanh^3 K sech^2 K + O(tanh^5 K)
    t = np.tanh(K)
    assert np.all(np.abs(u + 2 * t + 4 * t**3 / np.cosh(K) ** 2) < 20 * t**5)
    # T >> J: u -> -2K -> 0 (relative rounding grows like (T/J)^2 eps here)
    assert float(ex.energy_per_spin(40, 1e4)) == pytest.approx(-2e-4, rel=1e-6)
    lz = ex.log_partition_function(40, T)
    assert np.allclose(lz / 1600, np.log(2) + 2 * np.log(np.cosh(K)), atol=2 * np.tanh(K[0]) ** 4)


@pytest.mark.parametrize("L", [40, 128])
def test_large_lattice_curves(L):
    T = np.linspace(0.05, 10.0, 400)
    k = ex.finite_size_thermodynamics(L, T)
    for v in k.values():
        assert np.all(np.isfinite(v))
    u, c = k["energy_per_spin"], k["specific_heat_per_spin"]
    assert np.all(np.diff(u) >= -1e-15)  # flat at -2 to rounding at the lowest T
    assert np.all(np.diff(u[T >= 0.5]) > 0)
    assert np.all(c > -1e-16)
    # one maximum, near T_c; c rises up to it and falls after it
    i = int(np.argmax(c))
    assert abs(T[i] - TC) < 0.05
    assert np.all(np.diff(c[(T >= 0.5) & (T <= T[i])]) > 0)
    assert np.all(np.diff(c[i:]) < 0)
    # C = du/dT (checks the second derivative against the first)
    h = 1e-4
    Tm = np.array([1.0, 2.0, 2.3, 3.0])
    du = (ex.energy_per_spin(L, Tm + h) - ex.energy_per_spin(L, Tm - h)) / (2 * h)
    np.testing.assert_allclose(ex.specific_heat_per_spin(L, Tm), du, rtol=1e-6)


def test_specific_heat_peak_l40():
    res = minimize_scalar(
        lambda t: -float(ex.specific_heat_per_spin(40, t)), bracket=(2.2, 2.3, 2.4), tol=1e-10
    )
    assert res.x == pytest.approx(2.28909, abs=1e-4)  # measured: 2.289087, T_c + 0.0199
    assert abs(res.x - TC) < 0.05
    assert -res.fun == pytest.approx(2.01686, abs=1e-4)


def test_l64_matches_onsager_away_from_tc():
    T = np.array([1.5, 3.5])
    k = ex.finite_size_thermodynamics(64, T)
    # measured differences ~2e-16: finite-size corrections decay like exp(-L / xi)
    np.testing.assert_allclose(k["energy_per_spin"], ex.onsager_energy_per_spin(T), atol=1e-12)
    np.testing.assert_allclose(
        k["specific_heat_per_spin"], ex.onsager_specific_heat_per_spin(T), atol=1e-12
    )
    # near T_c the finite lattice is still far from the infinite one
    assert abs(float(ex.energy_per_spin(64, 2.5) - ex.onsager_energy_per_spin(2.5))) > 1e-7


def test_shapes_and_errors():
    assert ex.energy_per_spin(8, 2.0).shape == ()
    T = np.array([[1.0, 2.0, 3.0], [1.5, 2.5, 3.5]])
    k = ex.finite_size_thermodynamics(8, T)
    assert all(v.shape == T.shape for v in k.values())
    np.testing.assert_allclose(k["energy_per_spin"][1], ex.energy_per_spin(8, T[1]), rtol=0)
    # J sets the energy scale: u(T, J) = J u(T/J, 1), c(T, J) = c(T/J, 1)
    np.testing.assert_allclose(ex.energy_per_spin(8, 2 * T, J=2.0), 2 * k["energy_per_spin"])
    np.testing.assert_allclose(
        ex.specific_heat_per_spin(8, 2 * T, J=2.0), k["specific_heat_per_spin"]
    )
    with pytest.raises(ValueError):
        ex.energy_per_spin(0, 1.0)
    with pytest.raises(ValueError):
        ex.energy_per_spin(8, 0.0)
    with pytest.raises(ValueError):
        ex.log_partition_function(8, 1.0 / (2 * ex.MAX_COUPLING))
    with pytest.raises(ValueError):
        ex.onsager_energy_per_spin(1.0, J=-1.0)
