"""Expectation-maximisation (mlreview.em): two biased coins (spec 4.1) and the 1D Gaussian mixture
of Fig 58, checked against scikit-learn's GaussianMixture."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binom, norm
from sklearn.mixture import GaussianMixture

from mlreview import em

# ----------------------------------------------------------------------------- coins


def test_binomial_log_pmf_matches_scipy_including_the_edges():
    heads = np.arange(11)
    for theta in (0.0, 0.3, 1.0):
        with np.errstate(divide="ignore"):
            ref = binom.logpmf(heads, 10, theta)
        assert np.allclose(em.binomial_log_pmf(heads, 10, [theta])[0], ref)


def test_coin_likelihood_and_posterior_by_hand():
    heads, theta = np.array([5, 9]), (0.6, 0.5)
    pa, pb = binom.pmf(heads, 10, 0.6), binom.pmf(heads, 10, 0.5)
    assert em.coin_log_likelihood(heads, 10, theta) == pytest.approx(np.sum(np.log(0.5 * pa + 0.5 * pb)))
    assert np.allclose(em.coin_posterior_a(heads, 10, theta), pa / (pa + pb))


def test_do_and_batzoglou_worked_example():
    """Do & Batzoglou (2008), Nature Biotechnology 26, 897: 0.71/0.58 after one step, 0.80/0.52 after ten."""
    run = em.coin_em([5, 9, 8, 4, 7], 10, (0.6, 0.5), tol=1e-3, max_iter=1000, fixed_iterations=10)
    assert run["iterations"] == 10 and run["theta"].shape == (11, 2)
    assert np.allclose(run["theta"][1], [0.71, 0.58], atol=0.005)
    assert np.allclose(run["theta"][10], [0.80, 0.52], atol=0.005)
    assert np.all(np.diff(run["log_likelihood"]) >= -1e-12)


def test_em_never_lowers_the_likelihood_and_stops_at_the_tolerance():
    rng = np.random.default_rng(5)
    for seed in range(30):
        heads, _ = em.toss_coins([0.8, 0.4], 5, 10, seed)
        run = em.coin_em(heads, 10, rng.uniform(0.01, 0.99, 2), tol=1e-3, max_iter=1000)
        assert np.all(np.diff(run["log_likelihood"]) >= -1e-12)
        assert np.max(np.abs(run["theta"][-1] - run["theta"][-2])) < 1e-3


def test_a_coin_that_takes_only_all_heads_runs_reaches_one_without_nan():
    run = em.coin_em([1, 4, 5, 4, 10], 10, (0.7738453, 0.65777833), tol=1e-3, max_iter=1000)
    assert np.all(np.isfinite(run["log_likelihood"])) and run["theta"].max() <= 1.0


def test_toss_coins_and_complete_data_estimate():
    heads, coins = em.toss_coins([1.0, 0.0], 50, 10, seed=1)
    assert np.array_equal(heads, np.where(coins == 0, 10, 0))
    est = em.complete_data_estimate([6, 2, 8], [0, 1, 0], 10)
    assert np.allclose(est, [0.7, 0.2])
    assert np.isnan(em.complete_data_estimate([6, 8], [0, 0], 10)[1])


# ----------------------------------------------------------------------------- Gaussian mixture


def mixture_sample(n: int = 3000, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    comp = rng.choice(3, size=n, p=[0.3, 0.4, 0.3])
    return np.array([-6.0, 0.0, 5.0])[comp] + np.array([1.0, 2.0, 0.7])[comp] * rng.standard_normal(n)


def test_e_and_m_steps():
    x = np.array([-1.0, 0.0, 2.0, 3.0])
    resp, ll = em.gmm_e_step(x, np.array([0.5, 0.5]), np.array([0.0, 2.5]), np.array([1.0, 1.0]))
    assert np.allclose(resp.sum(axis=1), 1.0)
    dens = 0.5 * norm.pdf(x, 0, 1) + 0.5 * norm.pdf(x, 2.5, 1)
    assert ll == pytest.approx(np.mean(np.log(dens)))
    hard = np.array([[1, 0], [1, 0], [0, 1], [0, 1]], float)
    w, mu, var = em.gmm_m_step(x, hard, reg_covar=0.0)
    assert np.allclose(w, [0.5, 0.5]) and np.allclose(mu, [-0.5, 2.5]) and np.allclose(var, [0.25, 0.25])
    assert np.allclose(em.mixture_density(x, [0.5, 0.5], [0.0, 2.5], [1.0, 1.0]), dens)


def test_hand_written_em_matches_scikit_learn_from_an_explicit_start():
    x = mixture_sample()
    start = (np.array([0.2, 0.5, 0.3]), np.array([-4.0, 1.0, 3.0]), np.array([4.0, 4.0, 4.0]))
    run = em.gmm_em(x, *start, tol=1e-10, max_iter=2000, reg_covar=1e-6)
    ref = GaussianMixture(3, covariance_type="full", tol=1e-10, max_iter=2000, reg_covar=1e-6,
                          weights_init=start[0], means_init=start[1][:, None],
                          precisions_init=(1.0 / start[2])[:, None, None]).fit(x[:, None])
    assert run["converged"] and run["iterations"] == ref.n_iter_
    assert np.allclose(run["means"], ref.means_[:, 0], atol=1e-8)
    assert np.allclose(run["variances"], ref.covariances_[:, 0, 0], atol=1e-8)
    assert np.allclose(run["weights"], ref.weights_, atol=1e-10)
    assert run["log_likelihood"] == pytest.approx(ref.lower_bound_, abs=1e-10)


def test_gmm_fit_with_kmeans_starts_is_scikit_learn_gaussian_mixture():
    x = mixture_sample(seed=1)
    fit = em.gmm_fit(x, 3, n_init=4, tol=1e-8, max_iter=1000, reg_covar=1e-6, seed=7)
    ref = em.sklearn_gmm(x, 3, n_init=4, tol=1e-8, max_iter=1000, reg_covar=1e-6, seed=7)
    for key in ("means", "variances", "weights"):
        assert np.allclose(fit[key], ref[key], atol=1e-8)
    assert fit["log_likelihood"] == pytest.approx(ref["log_likelihood"], abs=1e-10)
    # and recovers the generating mixture
    assert np.allclose(fit["means"], [-6.0, 0.0, 5.0], atol=0.2)
    assert np.allclose(fit["weights"], [0.3, 0.4, 0.3], atol=0.03)


def test_point_starts_are_seeded_data_points():
    x = mixture_sample(100)
    starts = em.point_starts(x, 3, 2, seed=0, reg_covar=0.0)
    assert len(starts) == 2 and np.all(np.isin(starts[0][1], x)) and np.allclose(starts[0][0], 1 / 3)
    assert np.allclose(starts[0][2], x.var())
