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

from collections.abc import Mapping
from pathlib import Path

import numpy as np
from scipy.special import gammaln, logsumexp, xlog1py, xlogy
from sklearn.cluster import KMeans
from sklearn.mixture import GaussianMixture

from mlreview.io import load_npz, save_npz, to_jsonable

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


def coins_step(params: Mapping, *, data: Path) -> dict:
    """Workflow step (spec 4.1): EM on the displayed realisation, over many seeds and random starts,
    and on the Do & Batzoglou example; the monotone-likelihood check (C83)."""
    thetas, n_exp, n = params["theta_true"], int(params["n_experiments"]), int(params["n_tosses"])
    init, tol, max_iter = params["init"], float(params["tol"]), int(params["max_iter"])
    rng = np.random.default_rng(int(params["init_seed"]))
    random_inits = rng.uniform(*params["random_init_range"], size=(int(params["n_random_inits"]), 2))

    seeds = int(params["seed"]) + np.arange(int(params["n_seeds"]))
    min_delta, n_runs = np.inf, 0
    em_final, complete, iters = [], [], []
    shown = {}
    for seed in seeds:
        heads, coins = toss_coins(thetas, n_exp, n, int(seed))
        runs = [coin_em(heads, n, init, tol, max_iter)] + [coin_em(heads, n, s, tol, max_iter) for s in random_inits]
        for run in runs:
            min_delta = min(min_delta, float(np.min(np.diff(run["log_likelihood"]))))
        n_runs += len(runs)
        em_final.append(runs[0]["theta"][-1])
        complete.append(complete_data_estimate(heads, coins, n))
        iters.append(runs[0]["iterations"])
        if seed == seeds[0]:
            shown = {"heads": heads, "coins": coins, "runs": runs}
    em_final, complete = np.array(em_final), np.array(complete)

    fixture = params["fixture"]
    ref = coin_em(fixture["heads"], int(fixture["n_tosses"]), fixture["init"], tol, max_iter,
                  fixed_iterations=int(fixture["iterations"]))
    min_delta = min(min_delta, float(np.min(np.diff(ref["log_likelihood"]))))

    main = shown["runs"][0]
    lengths = [len(r["log_likelihood"]) for r in shown["runs"]]
    padded = np.full((len(lengths), max(lengths)), np.nan)
    for i, r in enumerate(shown["runs"]):
        padded[i, : len(r["log_likelihood"])] = r["log_likelihood"]
    save_npz(data, heads=shown["heads"], coins=shown["coins"], theta=main["theta"], log_likelihood=padded,
             em_final=em_final, complete=complete, random_inits=random_inits, fixture_theta=ref["theta"])
    both = ~np.isnan(complete).any(axis=1)
    complete_shown = complete_data_estimate(shown["heads"], shown["coins"], n)
    return to_jsonable({
        "shown": {"seed": int(seeds[0]), "heads": shown["heads"], "coins": np.where(shown["coins"] == 0, "A", "B"),
                  "em_theta": main["theta"][-1], "complete_theta": complete_shown, "iterations": main["iterations"],
                  "log_likelihood": main["log_likelihood"]},
        "seeds": {"n_seeds": len(seeds), "n_random_inits": int(len(random_inits)), "n_runs": n_runs,
                  "mean_iterations": float(np.mean(iters)), "n_both_coins_used": int(both.sum()),
                  "mean_abs_em_minus_complete": np.mean(np.abs(em_final[both] - complete[both]), axis=0),
                  "mean_em_theta": em_final.mean(axis=0), "mean_complete_theta": np.nanmean(complete, axis=0)},
        "fixture": {"heads": fixture["heads"], "theta_after_1": ref["theta"][1], "theta_after_10": ref["theta"][-1],
                    "iterations": ref["iterations"]},
        "c83": {"min_log_likelihood_change": min_delta, "tolerance": float(params["monotone_tolerance"]),
                "monotone": bool(min_delta >= -float(params["monotone_tolerance"]))},
    })


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
    model = GaussianMixture(n_components=k, covariance_type="full", n_init=n_init, tol=tol, max_iter=max_iter,
                            reg_covar=reg_covar, random_state=seed).fit(np.asarray(x, float)[:, None])
    order = np.argsort(model.means_[:, 0])
    return {"weights": model.weights_[order], "means": model.means_[order, 0],
            "variances": model.covariances_[order, 0, 0], "log_likelihood": float(model.lower_bound_),
            "converged": bool(model.converged_), "iterations": int(model.n_iter_)}


def mixture_density(grid, weights, means, variances) -> np.ndarray:
    """The mixture density at every point of ``grid``."""
    return np.exp(gaussian_log_pdf(grid, means, variances)) @ np.asarray(weights, float)


def crossings(t: np.ndarray, y: np.ndarray, level: float = 0.0) -> list[float]:
    """Every T at which the piecewise-linear curve y(T) crosses ``level`` (upward or downward)."""
    d = np.asarray(y, float) - level
    out = []
    for i in range(len(d) - 1):
        if d[i] == 0.0:
            out.append(float(t[i]))
        elif d[i] * d[i + 1] < 0:
            out.append(float(t[i] + (t[i + 1] - t[i]) * d[i] / (d[i] - d[i + 1])))
    if len(d) and d[-1] == 0.0:
        out.append(float(t[-1]))
    return out


def component_names(means: np.ndarray) -> list[str]:
    """Names of three components sorted by mean [spec Fig 58]: the mean closest to 0 is the
    disordered one, the others the ordered ones of either sign of the magnetisation."""
    disordered = int(np.argmin(np.abs(means)))
    names = ["disordered" if i == disordered else ("ordered_minus" if mu < means[disordered] else "ordered_plus")
             for i, mu in enumerate(means)]
    if sorted(names) != ["disordered", "ordered_minus", "ordered_plus"]:
        raise ValueError(f"expected one disordered component between two ordered ones, got means {list(means)}")
    return names


def ising_gmm_step(params: Mapping, *, pca: Path, data: Path) -> dict:
    """Workflow step (Fig 58): a K-component 1D mixture fitted by EM to the PC1 scores of Fig 51,
    the mean responsibilities per temperature and where they cross.

    The fit drawn is the one started as ``inits[0]``; fits from the other starts (``inits[1:]``)
    and scikit-learn's ``GaussianMixture`` on the same data are recorded for comparison.
    """
    d = load_npz(pca)
    x, temperature = d["scores"][:, 0], d["temperature"]
    k, n_init, tol = int(params["n_components"]), int(params["n_init"]), float(params["tol"])
    max_iter, reg, seed = int(params["max_iter"]), float(params["reg_covar"]), int(params["seed"])
    inits = list(params["inits"])
    fits = {init: gmm_fit(x, k, n_init, tol, max_iter, reg, seed, init) for init in inits}
    fit = fits[inits[0]]
    ref = sklearn_gmm(x, k, n_init, tol, max_iter, reg, seed)
    resp, _ = gmm_e_step(x, fit["weights"], fit["means"], fit["variances"])
    temps = np.unique(temperature)
    mean_resp = np.array([resp[temperature == t].mean(axis=0) for t in temps])
    names = component_names(fit["means"])
    col = {name: i for i, name in enumerate(names)}
    dis = mean_resp[:, col["disordered"]]
    t_cross = crossings(temps, dis, 1.0 / k)
    pair = {f"disordered_{o}": crossings(temps, dis - mean_resp[:, col[o]]) for o in names if o != "disordered"}
    tc = float(d["tc"])
    grid = np.linspace(x.min(), x.max(), int(params["curve_points"]))
    save_npz(data, x=x, temperature=temperature, temperatures=temps, mean_responsibility=mean_resp,
             weights=fit["weights"], means=fit["means"], variances=fit["variances"], names=np.array(names),
             grid=grid, density=mixture_density(grid, fit["weights"], fit["means"], fit["variances"]),
             t_cross=np.array(t_cross[:1] or [np.nan]), tc=tc)

    def summary(f):
        return {"means": f["means"], "variances": f["variances"], "weights": f["weights"],
                "log_likelihood_per_point": f["log_likelihood"], "iterations": f["iterations"],
                "converged": f["converged"]}

    return to_jsonable({
        "n_points": int(len(x)),
        "init": inits[0],
        "components": {name: {"weight": fit["weights"][i], "mean": fit["means"][i], "variance": fit["variances"][i]}
                       for i, name in enumerate(names)},
        "log_likelihood_per_point": fit["log_likelihood"],
        "iterations": fit["iterations"],
        "converged": fit["converged"],
        "other_inits": {init: summary(fits[init]) for init in inits[1:]},
        "sklearn": {**summary(ref),
                    "max_abs_mean_difference": float(np.max(np.abs(ref["means"] - fit["means"]))),
                    "max_abs_variance_difference": float(np.max(np.abs(ref["variances"] - fit["variances"]))),
                    "log_likelihood_difference": fit["log_likelihood"] - ref["log_likelihood"]},
        "mean_responsibility": {f"T_{t:.2f}": dict(zip(names, row)) for t, row in zip(temps, mean_resp)},
        "t_cross": t_cross[0] if t_cross else None,
        "t_cross_all": t_cross,
        "pairwise_crossings": pair,
        "tc": tc,
        "t_cross_minus_tc": (t_cross[0] - tc) if t_cross else None,
    })
