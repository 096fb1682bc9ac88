"""Expectation-maximisation written out (Sections XIII, XIV): two biased coins (spec 4.1) and a
one-dimensional Gaussian mixture (Fig 58).

Coins: in every experiment one of two coins (heads probabilities theta_A, theta_B) is picked
with probability 1/2 and tossed ``n`` times; only the number of heads is seen. E-step: the
posterior probability that coin A was used; M-step: theta = expected heads / expected tosses of
each coin. The observed-data log-likelihood is that of the mixture of two binomials with weights
1/2 [spec 4.1; Do & Batzoglou 2008].

Gaussian mixture: the standard EM for K one-dimensional Gaussians (weights, means, variances;
``reg_covar`` is added to every variance, as scikit-learn does), from ``n_init`` seeded starts,
keeping the one of largest likelihood. The tests check it against scikit-learn's
``GaussianMixture`` from the same start.
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln, logsumexp, xlog1py, xlogy

# ---------------------------------------------------------------------------------------------
# Two coins (spec 4.1)
# ---------------------------------------------------------------------------------------------


def toss_coins(thetas, n_experiments: int, n_tosses: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(heads per experiment, coin used: 0 = A, 1 = B), each coin picked with probability 1/2."""
    rng = np.random.default_rng(seed)
    coins = rng.integers(0, 2, size=n_experiments)
    heads = rng.binomial(n_tosses, np.asarray(thetas, float)[coins])
    return heads, coins


def binomial_log_pmf(heads, n_tosses: int, theta) -> np.ndarray:
    """log Bin(h; n, theta) as a (len(theta), len(heads)) array (exact at theta = 0 or 1)."""
    h = np.asarray(heads, float)[None, :]
    t = np.asarray(theta, float)[:, None]
    log_choose = gammaln(n_tosses + 1.0) - gammaln(h + 1.0) - gammaln(n_tosses - h + 1.0)
    return log_choose + xlogy(h, t) + xlog1py(n_tosses - h, -t)


def coin_log_likelihood(heads: np.ndarray, n_tosses: int, theta) -> float:
    """Observed-data log-likelihood: sum_i log(1/2 Bin(h_i; n, theta_A) + 1/2 Bin(h_i; n, theta_B))."""
    logs = binomial_log_pmf(heads, n_tosses, theta)
    return float(np.sum(np.logaddexp(logs[0], logs[1]) + np.log(0.5)))


def coin_posterior_a(heads: np.ndarray, n_tosses: int, theta) -> np.ndarray:
    """E-step: P(coin A | h_i) with equal prior weights."""
    logs = binomial_log_pmf(heads, n_tosses, theta)
    return np.exp(logs[0] - np.logaddexp(logs[0], logs[1]))


def coin_em(heads, n_tosses: int, init, tol: float, max_iter: int, fixed_iterations: int | None = None) -> dict:
    """EM for the two coins from ``init`` = (theta_A, theta_B).

    Stops when the largest parameter change is below ``tol`` (or after ``fixed_iterations``
    iterations when given). Returns ``theta`` (iterations + 1 rows, the start first), the
    observed-data ``log_likelihood`` of every row, and ``iterations``.
    """
    heads = np.asarray(heads, float)
    theta = np.asarray(init, float)
    history, loglik = [theta.copy()], [coin_log_likelihood(heads, n_tosses, theta)]
    limit = int(fixed_iterations if fixed_iterations is not None else max_iter)
    for _ in range(limit):
        w = coin_posterior_a(heads, n_tosses, theta)
        weights = np.stack([w, 1.0 - w])
        # the ratio can exceed 1 by a rounding error when one coin takes only all-heads experiments
        new = np.clip((weights @ heads) / (weights.sum(axis=1) * n_tosses), 0.0, 1.0)
        change = float(np.max(np.abs(new - theta)))
        theta = new
        history.append(theta.copy())
        loglik.append(coin_log_likelihood(heads, n_tosses, theta))
        if fixed_iterations is None and change < tol:
            break
    if not np.all(np.isfinite(loglik)):
        raise FloatingPointError(f"EM for the coins reached a non-finite likelihood from {list(init)}")
    return {"theta": np.array(history), "log_likelihood": np.array(loglik), "iterations": len(history) - 1}


def complete_data_estimate(heads, coins, n_tosses: int) -> np.ndarray:
    """Maximum-likelihood (theta_A, theta_B) with the coins revealed (NaN for a coin never used)."""
    heads, coins = np.asarray(heads, float), np.asarray(coins)
    out = np.full(2, np.nan)
    for c in (0, 1):
        if np.any(coins == c):
            out[c] = heads[coins == c].sum() / (n_tosses * np.sum(coins == c))
    return out


# ---------------------------------------------------------------------------------------------
# One-dimensional Gaussian mixture (Fig 58)
# ---------------------------------------------------------------------------------------------


def gaussian_log_pdf(x: np.ndarray, means: np.ndarray, variances: np.ndarray) -> np.ndarray:
    """log N(x_n | mu_k, var_k) as an (N, K) array."""
    x = np.asarray(x, float)[:, None]
    means, variances = np.asarray(means, float), np.asarray(variances, float)
    return -0.5 * (np.log(2.0 * np.pi * variances) + (x - means) ** 2 / variances)


def gmm_e_step(x, weights, means, variances) -> tuple[np.ndarray, float]:
    """(responsibilities (N, K), mean log-likelihood per point)."""
    joint = gaussian_log_pdf(x, means, variances) + np.log(weights)
    norm = logsumexp(joint, axis=1)
    return np.exp(joint - norm[:, None]), float(norm.mean())


def gmm_m_step(x, resp, reg_covar: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(weights, means, variances) maximising the expected complete-data log-likelihood."""
    x = np.asarray(x, float)
    nk = resp.sum(axis=0) + 10 * np.finfo(float).eps
    means = resp.T @ x / nk
    variances = np.sum(resp * (x[:, None] - means) ** 2, axis=0) / nk + reg_covar
    return nk / len(x), means, variances


def gmm_em(x, weights, means, variances, tol: float, max_iter: int, reg_covar: float) -> dict:
    """EM from the given start until the mean log-likelihood changes by less than ``tol``.

    As scikit-learn: each iteration is an E-step (whose mean log-likelihood is recorded) then an
    M-step; ``log_likelihood`` is that of the last E-step.
    """
    weights, means, variances = (np.asarray(a, float).copy() for a in (weights, means, variances))
    history = []
    converged = False
    for _ in range(int(max_iter)):
        resp, ll = gmm_e_step(x, weights, means, variances)
        weights, means, variances = gmm_m_step(x, resp, reg_covar)
        history.append(ll)
        if len(history) > 1 and abs(history[-1] - history[-2]) < tol:
            converged = True
            break
    return {"weights": weights, "means": means, "variances": variances, "log_likelihood": history[-1],
            "history": np.array(history), "iterations": len(history), "converged": converged}


def kmeans_starts(x, k: int, n_init: int, seed: int, reg_covar: float) -> list[tuple]:
    """``n_init`` starts (weights, means, variances) from the hard assignments of K-means, drawn as
    scikit-learn's ``GaussianMixture(init_params="kmeans", random_state=seed)`` draws them."""
    # scikit-learn only where it is used (not by the coin EM)
    from sklearn.cluster import KMeans

    x = np.asarray(x, float)
    random_state = np.random.RandomState(seed)  # one stream for every start, as scikit-learn
    starts = []
    for _ in range(int(n_init)):
        labels = KMeans(n_clusters=k, n_init=1, random_state=random_state).fit(x[:, None]).labels_
        resp = np.zeros((len(x), k))
        resp[np.arange(len(x)), labels] = 1.0
        starts.append(gmm_m_step(x, resp, reg_covar))
    return starts


def point_starts(x, k: int, n_init: int, seed: int, reg_covar: float) -> list[tuple]:
    """``n_init`` starts with ``k`` distinct data points drawn at random as means, the data variance
    for every component and equal weights."""
    x = np.asarray(x, float)
    rng = np.random.default_rng(seed)
    return [(np.full(k, 1.0 / k), rng.choice(x, size=k, replace=False), np.full(k, x.var() + reg_covar))
            for _ in range(int(n_init))]


#: how EM is started: function (x, k, n_init, seed, reg_covar) -> list of starts
STARTS = {"kmeans": kmeans_starts, "points": point_starts}


def gmm_fit(x, k: int, n_init: int, tol: float, max_iter: int, reg_covar: float, seed: int,
            init: str = "kmeans") -> dict:
    """The best (largest final log-likelihood) of ``n_init`` EM runs; components sorted by mean."""
    best = None
    for start in STARTS[init](x, k, n_init, seed, reg_covar):
        run = gmm_em(x, *start, tol, max_iter, reg_covar)
        if best is None or run["log_likelihood"] > best["log_likelihood"]:
            best = run
    order = np.argsort(best["means"])
    return {**best, **{key: best[key][order] for key in ("weights", "means", "variances")}}


def sklearn_gmm(x, k: int, n_init: int, tol: float, max_iter: int, reg_covar: float, seed: int) -> dict:
    """scikit-learn's GaussianMixture on the same data (components sorted by mean)."""
    from sklearn.mixture import GaussianMixture

    model = GaussianMixture(n_components=k, covariance_type="full", n_init=n_init, tol=tol, max_iter=max_iter,
                            reg_covar=reg_covar, random_state=seed).fit(np.asarray(x, float)[:, None])
    order = np.argsort(model.means_[:, 0])
    return {"weights": model.weights_[order], "means": model.means_[order, 0],
            "variances": model.covariances_[order, 0, 0], "log_likelihood": float(model.lower_bound_),
            "converged": bool(model.converged_), "iterations": int(model.n_iter_)}


def mixture_density(grid, weights, means, variances) -> np.ndarray:
    """The mixture density at every point of ``grid``."""
    return np.exp(gaussian_log_pdf(grid, means, variances)) @ np.asarray(weights, float)


