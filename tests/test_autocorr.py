"""Autocorrelation, integrated time and standard errors on AR(1) series with known answers."""

import numpy as np
import pytest
from scipy.signal import lfilter

from mlreview.ising.autocorr import (
    autocorrelation,
    blocking_standard_error,
    integrated_time,
    standard_error,
)

N_LONG = 200_000
PHIS = (0.0, 0.5, 0.9)


def ar1(phi: float, n: int, seed: int) -> np.ndarray:
    """x_t = phi x_{t-1} + e_t with unit-variance noise, started in the stationary law."""
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal(n)
    noise[0] /= np.sqrt(1.0 - phi**2)
    return lfilter([1.0], [1.0, -phi], noise)


def exact_tau(phi: float) -> float:
    return (1.0 + phi) / (2.0 * (1.0 - phi))


def exact_se(phi: float, n: int) -> float:
    sigma2 = 1.0 / (1.0 - phi**2)
    return float(np.sqrt(sigma2 * (1.0 + phi) / ((1.0 - phi) * n)))


@pytest.fixture(scope="module")
def series() -> dict[float, np.ndarray]:
    return {phi: ar1(phi, N_LONG, seed=100 + i) for i, phi in enumerate(PHIS)}


def test_autocorrelation_matches_direct_sum():
    x = np.random.default_rng(0).standard_normal(37).cumsum()
    dev = x - x.mean()
    direct = np.array([np.sum(dev[: x.size - t] * dev[t:]) for t in range(x.size)]) / np.sum(dev * dev)
    rho = autocorrelation(x)
    assert rho.shape == x.shape
    assert rho[0] == pytest.approx(1.0, abs=1e-15)
    np.testing.assert_allclose(rho, direct, atol=1e-12)


@pytest.mark.parametrize("phi", PHIS)
def test_autocorrelation_of_ar1_decays_as_phi_to_the_t(series, phi):
    rho = autocorrelation(series[phi])
    lags = np.arange(6)
    # statistical error of rho(t) is ~ sqrt((1 + phi^2) / (1 - phi^2) / n) <~ 0.01 here
    np.testing.assert_allclose(rho[lags], phi**lags, atol=0.02)


@pytest.mark.parametrize("phi", PHIS)
def test_integrated_time_of_ar1(series, phi):
    result = integrated_time(series[phi])
    tau = exact_tau(phi)
    assert result.n == N_LONG and result.window_found and result.reliable
    assert result.error == pytest.approx(np.sqrt(2 * (2 * result.window + 1) / N_LONG) * result.tau)
    assert abs(result.tau - tau) <= 3 * result.error
    # Sokal's window condition: M is the first lag with M >= c tau(M)
    assert result.window >= 6.0 * result.tau
    assert result.to_dict()["tau"] == result.tau


@pytest.mark.parametrize("phi", PHIS)
def test_standard_errors_of_ar1(series, phi):
    x = series[phi]
    exact = exact_se(phi, x.size)
    blocking = blocking_standard_error(x)
    assert blocking.converged
    assert blocking.standard_error == pytest.approx(exact, rel=0.10)
    assert blocking.block_size == 2**blocking.level
    assert blocking.n_blocks == x.size // blocking.block_size
    assert blocking.level_errors[blocking.level] == blocking.standard_error
    # correlated data need blocking; independent data do not
    assert (blocking.level == 0) == (phi == 0.0)
    # the tau-based error with the exact tau and with the estimated one
    assert standard_error(x, exact_tau(phi)) == pytest.approx(exact, rel=0.05)
    assert standard_error(x, integrated_time(x).tau) == pytest.approx(exact, rel=0.10)


def test_standard_error_of_uncorrelated_data_is_the_usual_sem():
    x = np.random.default_rng(3).standard_normal(500)
    assert standard_error(x, 0.5) == pytest.approx(x.std(ddof=1) / np.sqrt(x.size))


def test_short_series_is_not_reliable():
    x = ar1(0.99, 2_000, seed=5)  # tau ~ 100, n / tau ~ 20 < 50
    result = integrated_time(x)
    assert not result.reliable
    assert integrated_time(x, min_length_factor=1.0).reliable == result.window_found


def test_constant_series():
    x = np.full(1000, 0.1)  # 0.1 is not exact in binary: x - mean(x) may not be exactly 0
    rho = autocorrelation(x)
    assert np.all(np.isfinite(rho))
    np.testing.assert_array_equal(rho, np.r_[1.0, np.zeros(999)])
    result = integrated_time(x)
    assert result.tau == 0.5 and np.isfinite(result.error)
    assert standard_error(x, result.tau) == 0.0
    blocking = blocking_standard_error(x)
    assert blocking.standard_error == 0.0 and blocking.level == 0
    assert all(np.isfinite(blocking.level_errors))


@pytest.mark.parametrize(
    "bad, message",
    [
        (np.zeros((10, 2)), "one-dimensional"),
        (np.float64(3.0), "one-dimensional"),
        ([1.0], "at least 2"),
        ([], "at least 2"),
        ([1.0, np.nan, 2.0], "NaN or infinite"),
    ],
)
@pytest.mark.parametrize(
    "func",
    [autocorrelation, integrated_time, blocking_standard_error, lambda x: standard_error(x, 1.0)],
)
def test_input_validation(func, bad, message):
    with pytest.raises(ValueError, match=message):
        func(bad)


def test_parameter_validation():
    x = np.arange(10.0)
    with pytest.raises(ValueError, match="c must be positive"):
        integrated_time(x, c=0.0)
    with pytest.raises(ValueError, match="min_length_factor"):
        integrated_time(x, min_length_factor=-1.0)
    with pytest.raises(ValueError, match="tau must be"):
        standard_error(x, -0.1)
    with pytest.raises(ValueError, match="alpha"):
        blocking_standard_error(x, alpha=1.5)
