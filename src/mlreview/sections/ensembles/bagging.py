"""Bagging (Section VIII): the perceptron learning algorithm on bootstrap sets (Fig 30), and the
variance of an ensemble average of correlated estimators (spec Section 4.4, claim C88).

Fig 30 (spec; decision c). Data: ``n_points`` points uniform on the square ``box`` x ``box``,
labelled +-1 by the side of a random line through two points drawn uniformly from the same square
(linearly separable). Inputs are augmented to (1, x1, x2). The perceptron learning algorithm
(:func:`perceptron`) starts from w = 0 and adds y x of a randomly chosen misclassified point until
none is left (capped at ``max_updates``). Bagging: ``n_bootstrap`` sets of ``bootstrap_size``
points drawn with replacement from the n points, one perceptron each. Aggregates: the *averaged*
predictor uses the mean of the weight vectors; the *bagged* label is the sign of the sum of the
votes (majority vote). Every classifier is scored on the n training points and on ``n_test`` fresh
points from the same distribution; the whole experiment is repeated ``repetitions`` times
(repetition 0 is the one drawn), each with its own stream spawned from ``seed``.

Metrics of Fig 30: ``displayed/{train,test}/{individual/{min,median,max,mean,std}, averaged, vote}``
(accuracies; averaged and vote with Wilson intervals), ``displayed/updates`` and ``converged``;
``repetitions/{train,test}/...`` (over R: the mean and spread of the individual accuracies and
errors, of the averaged and vote accuracies) and ``c40/...`` (how often each aggregate beats the
median individual perceptron on the test points).

Section 4.4: g_m = sqrt(rho) Z_0 + sqrt(1 - rho) Z_m (sigma = 1), so every g_m has variance
sigma^2 and every pair correlation rho; the variance of the average of M of them is
rho sigma^2 + (1 - rho) sigma^2 / M. :func:`ensemble_average_variance` measures it from draws.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from mlreview.io import save_npz, to_jsonable
from mlreview.stats import accuracy_with_ci
from mlreview.steps import step

# --------------------------------------------------------------------------- Fig 30: data


def augment(x: np.ndarray) -> np.ndarray:
    """(n, 2) points -> (n, 3) inputs (1, x1, x2)."""
    x = np.asarray(x, dtype=np.float64)
    return np.column_stack([np.ones(len(x)), x])


def random_line(rng: np.random.Generator, box) -> np.ndarray:
    """Weights (w0, w1, w2) of the line through two points drawn uniformly from box x box;
    the label of x is sign(w . (1, x1, x2))."""
    low, high = (float(v) for v in box)
    a, b = rng.uniform(low, high, size=(2, 2))
    normal = np.array([-(b - a)[1], (b - a)[0]])
    return np.array([-normal @ a, normal[0], normal[1]])


def draw_points(rng: np.random.Generator, n: int, box, w_true: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points uniform on box x box and their labels +-1 by the side of the true line."""
    low, high = (float(v) for v in box)
    x = rng.uniform(low, high, size=(int(n), 2))
    y = np.sign(augment(x) @ w_true)
    y[y == 0] = 1  # a point exactly on the line (probability zero) counts as +1
    return x, y.astype(np.int8)


def predict(w: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Labels sign(w . (1, x)) of the points; a point on the boundary gets 0 (counts as wrong)."""
    return np.sign(augment(x) @ np.asarray(w, dtype=np.float64)).astype(np.int8)


# --------------------------------------------------------------------------- Fig 30: learning


def perceptron(X: np.ndarray, y: np.ndarray, rng: np.random.Generator, max_updates: int) -> tuple[np.ndarray, int, bool]:
    """The perceptron learning algorithm on augmented inputs ``X`` (n, 3) with labels +-1.

    From w = 0, add y_i X_i of a misclassified point (sign(w . X_i) != y_i) chosen uniformly at
    random, until no point is misclassified or ``max_updates`` updates were made. Returns
    (w, number of updates, converged).
    """
    w = np.zeros(X.shape[1])
    for updates in range(int(max_updates) + 1):
        wrong = np.flatnonzero(np.sign(X @ w) != y)
        if wrong.size == 0:
            return w, updates, True
        if updates == max_updates:
            break
        i = wrong[rng.integers(wrong.size)]
        w = w + y[i] * X[i]
    return w, int(max_updates), False


def bag_perceptrons(x: np.ndarray, y: np.ndarray, rng: np.random.Generator, n_bootstrap: int,
                    bootstrap_size: int, max_updates: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One perceptron per bootstrap set (``bootstrap_size`` points drawn with replacement).

    Returns the weights (B, 3), the update counts (B,) and the converged flags (B,).
    """
    X = augment(x)
    weights, updates, converged = [], [], []
    for _ in range(int(n_bootstrap)):
        rows = rng.integers(0, len(x), size=int(bootstrap_size))
        w, k, ok = perceptron(X[rows], y[rows], rng, max_updates)
        weights.append(w)
        updates.append(k)
        converged.append(ok)
    return np.array(weights), np.array(updates), np.array(converged)


def vote(weights: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The bagged label: the sign of the sum of the members' votes (0 on a tie)."""
    votes = np.sign(augment(x) @ np.asarray(weights).T)
    return np.sign(votes.sum(axis=1)).astype(np.int8)


def score(weights: np.ndarray, x: np.ndarray, y: np.ndarray, confidence: float) -> dict:
    """Accuracy of every member, of the averaged-weight predictor and of the majority vote."""
    member = np.sign(augment(x) @ weights.T) == y[:, None]
    individual = member.mean(axis=0)
    return {
        "individual_accuracies": individual,
        "individual": {"min": individual.min(), "median": float(np.median(individual)), "max": individual.max(),
                       "mean": individual.mean(), "std": individual.std(ddof=1) if len(individual) > 1 else 0.0},
        "averaged": accuracy_with_ci(y, predict(weights.mean(axis=0), x), confidence),
        "vote": accuracy_with_ci(y, vote(weights, x), confidence),
    }


def realisation(rng: np.random.Generator, params: Mapping) -> dict:
    """One run of the Fig 30 experiment: data, bagged perceptrons, their scores."""
    box = params["box"]
    w_true = random_line(rng, box)
    x, y = draw_points(rng, params["n_points"], box, w_true)
    weights, updates, converged = bag_perceptrons(x, y, rng, params["n_bootstrap"], params["bootstrap_size"],
                                                  params["max_updates"])
    x_test, y_test = draw_points(rng, params["n_test"], box, w_true)
    confidence = float(params["confidence"])
    return {"w_true": w_true, "x": x, "y": y, "weights": weights, "updates": updates, "converged": converged,
            "train": score(weights, x, y, confidence), "test": score(weights, x_test, y_test, confidence)}


def _summary(values) -> dict:
    values = np.asarray(values, dtype=np.float64)
    return {"mean": values.mean(), "std": values.std(ddof=1) if len(values) > 1 else 0.0,
            "min": values.min(), "median": float(np.median(values)), "max": values.max()}


def repetition_summary(runs: list[dict]) -> dict:
    """Over the repetitions, per evaluation set: the individual members' accuracies (their median,
    mean and spread within each repetition) and error, the aggregates' accuracies, and how often
    each aggregate beats the median (and the best) member."""
    out = {"n": len(runs)}
    for where in ("train", "test"):
        med = np.array([r[where]["individual"]["median"] for r in runs])
        mean = np.array([r[where]["individual"]["mean"] for r in runs])
        spread = np.array([r[where]["individual"]["std"] for r in runs])
        best = np.array([r[where]["individual"]["max"] for r in runs])
        entry = {
            "individual_median": _summary(med),
            "individual_mean": _summary(mean),
            "individual_mean_error": _summary(1.0 - mean),
            "individual_error_spread": _summary(spread),
        }
        for agg in ("averaged", "vote"):
            acc = np.array([r[where][agg]["accuracy"] for r in runs])
            entry[agg] = _summary(acc)
            entry[f"{agg}_error"] = _summary(1.0 - acc)
            entry[f"fraction_{agg}_beats_median"] = float(np.mean(acc > med))
            entry[f"fraction_{agg}_beats_best"] = float(np.mean(acc > best))
        out[where] = entry
    return out


@step
def bagging_fit(params: Mapping, *, data: Path) -> dict:
    """Fig 30: bag perceptrons on the displayed realisation and on ``repetitions`` more; write the
    points, the boundaries and the labels of repetition 0 and return the metrics."""
    repetitions = int(params["repetitions"])
    if repetitions < 1:
        raise ValueError("repetitions must be at least 1 (repetition 0 is the one drawn)")
    streams = np.random.SeedSequence(int(params["seed"])).spawn(repetitions)
    runs = [realisation(np.random.default_rng(s), params) for s in streams]
    shown = runs[0]
    save_npz(data, x=shown["x"], y=shown["y"], w_true=shown["w_true"], weights=shown["weights"],
             w_average=shown["weights"].mean(axis=0), bagged=vote(shown["weights"], shown["x"]),
             box=np.asarray(params["box"], dtype=np.float64))
    summary = repetition_summary(runs)
    displayed = {where: shown[where] for where in ("train", "test")}
    all_updates = np.concatenate([r["updates"] for r in runs])
    return to_jsonable({
        "n_points": int(params["n_points"]),
        "n_bootstrap": int(params["n_bootstrap"]),
        "bootstrap_size": int(params["bootstrap_size"]),
        "n_test": int(params["n_test"]),
        "displayed": {**displayed, "updates": shown["updates"], "converged": bool(shown["converged"].all())},
        "repetitions": summary,
        "perceptron_updates": {"median": float(np.median(all_updates)), "max": int(all_updates.max()),
                               "all_converged": bool(all(r["converged"].all() for r in runs))},
        "c40": {
            "fraction_vote_beats_median_test": summary["test"]["fraction_vote_beats_median"],
            "fraction_averaged_beats_median_test": summary["test"]["fraction_averaged_beats_median"],
            "mean_individual_test_error": summary["test"]["individual_mean_error"]["mean"],
            "mean_individual_test_error_spread": summary["test"]["individual_error_spread"]["mean"],
            "mean_vote_test_error": summary["test"]["vote_error"]["mean"],
            "mean_averaged_test_error": summary["test"]["averaged_error"]["mean"],
        },
    })


# --------------------------------------------------------------------------- Section 4.4


def ensemble_average_variance(rho: float, members, draws: int, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Sample variance of the average of the first M of g_m = sigma (sqrt(rho) Z_0 + sqrt(1 - rho) Z_m),
    for every M in ``members`` (nested: the M members are the first M of max(members))."""
    if not 0.0 <= rho <= 1.0:
        raise ValueError(f"the correlation rho must lie in [0, 1], got {rho}")
    members = np.asarray(members, dtype=int)
    z0 = rng.standard_normal(int(draws))
    z = rng.standard_normal((int(draws), int(members.max())))
    g = sigma * (np.sqrt(rho) * z0[:, None] + np.sqrt(1.0 - rho) * z)
    partial = np.cumsum(g, axis=1)
    averages = partial[:, members - 1] / members
    return averages.var(axis=0, ddof=1)


def ensemble_variance_formula(rho, members, sigma: float) -> np.ndarray:
    """rho sigma^2 + (1 - rho) sigma^2 / M (the review, Section VIII)."""
    members = np.asarray(members, dtype=np.float64)
    return rho * sigma**2 + (1.0 - rho) * sigma**2 / members


@step
def ensemble_variance(params: Mapping, *, data: Path) -> dict:
    """Spec 4.4 (C88): measured vs predicted variance of the ensemble average on the (rho, M) grid."""
    rhos = np.asarray(params["rhos"], dtype=np.float64)
    members = np.asarray(params["members"], dtype=int)
    sigma = float(params["sigma"])
    streams = np.random.SeedSequence(int(params["seed"])).spawn(len(rhos))
    measured = np.array([ensemble_average_variance(r, members, params["draws"], sigma, np.random.default_rng(s))
                         for r, s in zip(rhos, streams)])
    predicted = np.array([ensemble_variance_formula(r, members, sigma) for r in rhos])
    relative = np.abs(measured - predicted) / predicted
    save_npz(data, rhos=rhos, members=members, measured=measured, predicted=predicted, draws=int(params["draws"]))
    table = [{"rho": float(r), "M": int(m), "measured": float(measured[i, j]), "predicted": float(predicted[i, j]),
              "relative_error": float(relative[i, j])}
             for i, r in enumerate(rhos) for j, m in enumerate(members)]
    worst = np.unravel_index(int(np.argmax(relative)), relative.shape)
    return to_jsonable({
        "draws": int(params["draws"]),
        "sigma": sigma,
        "table": table,
        "c88": {"max_relative_error": float(relative.max()), "at_rho": float(rhos[worst[0]]),
                "at_M": int(members[worst[1]]),
                # the sampling error of a variance estimate: relative sd sqrt(2 / (draws - 1))
                "sampling_relative_sd": float(np.sqrt(2.0 / (int(params["draws"]) - 1)))},
    })
