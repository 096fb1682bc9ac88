"""The exact results of the learning-theory section against brute force and Monte Carlo, on tiny cases."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import optimize

from mlreview.sections.learning_theory import binary_perceptron as bp
from mlreview.sections.learning_theory import interpolation as it
from mlreview.sections.learning_theory import ising_interpolation as ii
from mlreview.sections.learning_theory import perceptron as pc
from mlreview.sections.learning_theory import teacher_student as ts

# --- Cover, Gardner, separability ----------------------------------------------------------------

@pytest.mark.parametrize("N, P", [(1, 3), (2, 4), (2, 5), (3, 6), (3, 7), (4, 7)])
def test_cover_count_against_enumeration(N, P):
    """All 2^P labellings of P Gaussian points in N dimensions, each decided by the LP: Cover's count."""
    rng = np.random.default_rng(N * 100 + P)
    X = rng.standard_normal((P, N))
    separable = 0
    for signs in itertools.product((-1.0, 1.0), repeat=P):
        separable += pc.lp_separable(np.asarray(signs)[:, None] * X, 1e-7)
    assert separable == pc.cover_count(P, N)
    assert pc.cover_fraction(P, N) == pytest.approx(separable / 2**P, abs=1e-12)


def test_cover_fraction_is_one_half_at_alpha_two():
    N = np.array([1, 5, 25, 200])
    np.testing.assert_allclose(pc.cover_fraction(2 * N, N), 0.5, atol=1e-12)
    assert pc.cover_fraction(5, 5) == 1.0  # P <= N: every labelling


def _separable_and_not(N: int = 8):
    rng = np.random.default_rng(3)
    teacher = rng.standard_normal(N)
    X = rng.standard_normal((30, N))
    separable = np.sign(X @ teacher)[:, None] * X
    Xr = rng.standard_normal((6 * N, N))
    random_labels = rng.choice([-1.0, 1.0], size=len(Xr))[:, None] * Xr
    return separable, random_labels


def test_lp_separability_against_the_perceptron():
    """On teacher-labelled data the LP says separable and the perceptron converges to zero errors; on
    P = 6N random labels the LP says not separable and the perceptron never stops making errors."""
    separable, random_labels = _separable_and_not()
    assert pc.lp_separable(separable, 1e-7)
    w, epochs, converged = pc.perceptron_train(separable, 10_000)
    assert converged and np.all(separable @ w > 0)
    assert not pc.lp_separable(random_labels, 1e-7)
    _, _, converged = pc.perceptron_train(random_labels, 2_000)
    assert not converged
    assert pc.max_stability(separable, 1e-9).separable
    assert not pc.max_stability(random_labels, 1e-9).separable


def test_max_stability_against_a_general_solver():
    """The NNLS hard-margin solution equals SLSQP's min |w|^2 subject to A w >= 1."""
    separable, _ = _separable_and_not(6)
    result = pc.max_stability(separable, 1e-9)
    res = optimize.minimize(lambda w: w @ w, np.ones(6) * 5, jac=lambda w: 2 * w, method="SLSQP",
                            constraints=[{"type": "ineq", "fun": lambda w: separable @ w - 1,
                                          "jac": lambda w: separable}], options={"ftol": 1e-14, "maxiter": 500})
    assert res.success
    np.testing.assert_allclose(result.w, res.x, rtol=1e-5, atol=1e-6)
    assert result.kappa == pytest.approx(1 / np.linalg.norm(res.x), rel=1e-6)


def test_max_stability_working_set_gives_the_full_solution():
    """Started from a shorter prefix's support vectors, the working-set solve returns the hard-margin
    solution of all rows (teacher-labelled rows, P = 8 N), and finds a non-separable set not separable."""
    rng = np.random.default_rng(11)
    N = 20
    X = rng.standard_normal((8 * N, N))
    A = np.sign(X @ rng.standard_normal(N))[:, None] * X
    short = pc.max_stability(A[: 2 * N], 1e-9)
    full = pc.max_stability(A, 1e-9)
    warm = pc.max_stability(A, 1e-9, start=short.support)
    assert warm.separable and full.separable
    np.testing.assert_allclose(warm.w, full.w, rtol=1e-9, atol=1e-12)
    assert warm.kappa == pytest.approx(full.kappa, rel=1e-10)
    assert set(warm.support) == set(full.support) and len(full.support) <= N
    random_labels = rng.choice([-1.0, 1.0], size=(3 * N, 1)) * rng.standard_normal((3 * N, N))
    assert not pc.max_stability(random_labels, 1e-9, start=np.arange(N)).separable


def test_gardner_integral_and_capacity():
    for kappa in (-0.5, 0.0, 0.3, 2.0):
        assert pc.gardner_inverse_capacity(kappa) == pytest.approx(pc.gardner_inverse_capacity_closed(kappa),
                                                                   rel=1e-10)
    assert pc.gardner_kappa(2.0) == pytest.approx(0.0, abs=1e-10)
    assert pc.gardner_kappa(0.5) > pc.gardner_kappa(1.5) > 0


# --- interpolation: exact risk against Monte Carlo -------------------------------------------

@pytest.mark.parametrize("n", [10, 40])
def test_min_norm_risk_against_monte_carlo(n):
    """Mean |w_hat - w*|^2 of 4,000 min-norm fits at p = 20 within 4 standard errors of the exact value."""
    p, sigma = 20, 0.5
    rng = np.random.default_rng(n)
    w_star = np.full(p, 1 / np.sqrt(p))
    out = it.risk_replicates(rng, n, p, w_star, sigma, 4000, 1000, [1e-3], np.logspace(-2, 2, 5))
    risk = out["min_norm"]
    exact = float(it.min_norm_risk(n, p, sigma, 1.0))
    assert abs(risk.mean() - exact) < 4 * risk.std(ddof=1) / np.sqrt(len(risk))


def test_min_norm_matches_lstsq_and_ridge_limits():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((3, 7, 5))
    y = rng.standard_normal((3, 7))
    U, s, Vt = it.svd_batch(X)
    w = it.coefficients(U, s, Vt, y, it.pinv_weights(s))
    for b in range(3):
        np.testing.assert_allclose(w[b], np.linalg.lstsq(X[b], y[b], rcond=None)[0], atol=1e-12)
        lam = 0.7
        ridge = np.linalg.solve(X[b].T @ X[b] + lam * np.eye(5), X[b].T @ y[b])
        np.testing.assert_allclose(it.coefficients(U, s, Vt, y, s / (s**2 + lam))[b], ridge, atol=1e-12)


def test_exact_risk_is_infinite_only_next_to_the_threshold():
    risk = it.min_norm_risk(np.array([98, 99, 100, 101, 102]), 100, 1.0, 1.0)
    assert np.isnan(risk[1:4]).all() and np.isfinite(risk[[0, 4]]).all()


def test_tail_slope_of_a_pareto_sample():
    rng = np.random.default_rng(1)
    sample = rng.pareto(0.5, 20000) + 1.0  # Prob[X > x] = x^(-1/2)
    fit = it.tail_slope(sample, 1e-3, 1e-1)
    assert fit["ls_slope"] == pytest.approx(-0.5, abs=0.03)
    assert fit["hill_slope"] == pytest.approx(-0.5, abs=4 * fit["hill_se"])


# --- the 1D Ising design -------------------------------------------------------------------

def test_ising_pair_design_has_rank_781():
    from mlreview.ising.chain1d import random_chains

    states = random_chains(820, 40, seed=5)
    assert ii.effective_features(40) == 781
    assert ii.design_rank(states) == 781


@pytest.mark.parametrize("n", [8, 16, 30])
def test_reduced_design_gives_the_full_min_norm_predictions(n):
    """The sqrt-multiplicity-scaled distinct columns give the same min-norm predictions as all L^2
    pair features, below and above the rank L(L-1)/2 + 1 = 16 (L = 6)."""
    from mlreview.ising.chain1d import chain_energies, pair_features, random_chains

    states = random_chains(n + 10, 6, seed=n)
    y = chain_energies(states[:n], 1.0) + np.random.default_rng(n).standard_normal(n)
    full = pair_features(states, dtype=np.float64)
    reduced = ii.distinct_pair_design(states)
    pred_full = full[n:] @ np.linalg.lstsq(full[:n], y, rcond=None)[0]
    pred_reduced = reduced[n:] @ np.linalg.lstsq(reduced[:n], y, rcond=None)[0]
    np.testing.assert_allclose(pred_reduced, pred_full, atol=1e-9)


# --- teacher-student --------------------------------------------------------------------------

def test_hebb_overlap_against_monte_carlo():
    """Mean overlap of 300 Hebb students (N = 400, alpha = 1) within 4 standard errors plus the O(1/N)
    finite-size bias of sqrt(2 alpha / (2 alpha + pi))."""
    N, P, R = 400, 400, 300
    rng = np.random.default_rng(7)
    overlaps = np.empty(R)
    for r in range(R):
        teacher = rng.standard_normal(N)
        X = rng.standard_normal((P, N))
        overlaps[r] = ts.overlap((np.sign(X @ teacher)[:, None] * X).sum(axis=0), teacher)
    se = overlaps.std(ddof=1) / np.sqrt(R)
    assert abs(overlaps.mean() - ts.hebb_overlap(1.0)) < 4 * se + 1.0 / N


def test_max_margin_theory_limits():
    """Small R: the teacher does not matter and alpha(kappa) is Gardner's capacity; large alpha:
    eps_g alpha -> 0.50."""
    alpha, kappa = ts.max_margin_alpha(0.05)
    assert alpha == pytest.approx(1 / pc.gardner_inverse_capacity(kappa), rel=5e-3)
    R = ts.max_margin_overlap(40.0)
    assert 40.0 * ts.generalisation_error(R) == pytest.approx(0.50, abs=2e-3)


def test_binary_first_errors_against_brute_force():
    rng = np.random.default_rng(0)
    N, P, teacher = 9, 14, 77
    X = rng.standard_normal((P, N))
    y = np.sign(X @ bp.spins(teacher, N))
    tau = bp.first_errors(X, y)
    W = np.array([bp.spins(k, N) for k in range(1 << N)])
    correct = np.sign(X @ W.T) == y[:, None]
    expected = np.where(correct.all(axis=0), P, np.argmin(correct, axis=0))
    np.testing.assert_array_equal(tau, expected)
    np.testing.assert_allclose(bp.overlaps(teacher, N), W @ bp.spins(teacher, N) / N)
    curves = bp.version_space_curves(tau, np.arccos(bp.overlaps(teacher, N)) / np.pi, P, rng)
    for Pv in range(P + 1):
        members = tau >= Pv
        assert curves["size"][Pv] == members.sum()
        assert curves["gibbs_mean"][Pv] == pytest.approx(np.mean(np.arccos(W[members] @ bp.spins(teacher, N) / N)
                                                                 / np.pi))


def test_gibbs_transition_of_gyorgyi():
    transition = bp.gibbs_transition()
    assert transition["alpha_c"] == pytest.approx(1.245, abs=1e-3)
    assert transition["alpha_spinodal"] == pytest.approx(1.49, abs=0.01)
