"""Small statistics helpers shared by every section."""

from __future__ import annotations

import math

import numpy as np


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (e.g. a test accuracy): the numbers of
    ``scipy.stats.binomtest(successes, n).proportion_ci(confidence, method="wilson")``, computed by
    the same expressions (Newcombe 1998, as scipy writes them; ``tests/test_stats.py`` checks the
    two are equal to the bit). Written out because ``scipy.stats`` costs about 0.9 CPU-s to import
    and every step that reports an accuracy needs this, while ``scipy.special`` costs 0.3.

    >>> lo, hi = wilson_interval(90, 100)
    >>> round(lo, 4), round(hi, 4)
    (0.8256, 0.9448)
    """
    if n <= 0:
        raise ValueError("n must be positive to compute a confidence interval")
    if not 0 <= successes <= n:
        raise ValueError(f"successes={successes} must lie between 0 and n={n}")
    if not 0 <= confidence <= 1:
        raise ValueError(f"confidence={confidence} must lie in [0, 1]")
    from scipy.special import ndtri

    k, n = int(successes), int(n)
    p = k / n
    z = ndtri(0.5 + 0.5 * confidence)
    denom = 2 * (n + z**2)
    center = (2 * n * p + z**2) / denom
    q = 1 - p
    delta = z / denom * math.sqrt(4 * n * p * q + z**2)
    lo = 0.0 if k == 0 else center - delta
    hi = 1.0 if k == n else center + delta
    return float(lo), float(hi)


def accuracy_with_ci(y_true, y_pred, confidence: float = 0.95) -> dict[str, float]:
    """Accuracy of hard predictions with its Wilson interval, as stored in metrics."""
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"shape mismatch: {y_true.shape} vs {y_pred.shape}")
    n = int(y_true.size)
    k = int(np.sum(y_true == y_pred))
    lo, hi = wilson_interval(k, n, confidence)
    return {"accuracy": k / n, "ci_low": lo, "ci_high": hi, "n": n, "confidence": confidence}


def roc(y_true, score, n_points: int = 201) -> dict:
    """ROC of a continuous score for a binary label, in the review's HEP convention.

    Returns ``auc`` (area under the ROC, from the scores themselves, not from the grid) and the
    curve on a regular grid of signal efficiency (true-positive rate) ``efficiency`` from 0 to 1
    with the background rejection ``rejection`` = 1 - false-positive rate reached there (the
    largest rejection at that efficiency or above, interpolated between the curve's points).
    """
    from sklearn.metrics import auc, roc_curve

    y_true = np.asarray(y_true)
    score = np.asarray(score, dtype=np.float64)
    if y_true.shape != score.shape:
        raise ValueError(f"shape mismatch: {y_true.shape} vs {score.shape}")
    if len(np.unique(y_true)) != 2:
        raise ValueError("an ROC curve needs events of both classes")
    fpr, tpr, _ = roc_curve(y_true, score)
    efficiency = np.linspace(0.0, 1.0, int(n_points))
    rejection = 1.0 - np.interp(efficiency, tpr, fpr)
    # the trapezoid under the exact curve is roc_auc_score (ties included), without a second sort
    return {"auc": float(auc(fpr, tpr)), "efficiency": efficiency, "rejection": rejection}


def rejection_at(curve: dict, efficiencies) -> dict[str, float]:
    """Background rejection of an :func:`roc` curve at the given signal efficiencies
    (keys ``eff_0.5``, ...)."""
    return {f"eff_{float(e):g}": float(np.interp(float(e), curve["efficiency"], curve["rejection"]))
            for e in efficiencies}


def mean_and_se(values) -> tuple[float, float]:
    """The mean of ``values`` and its standard error std(ddof=1) / sqrt(n) (NaN for fewer than two)."""
    values = np.asarray(values, dtype=float)
    se = float(values.std(ddof=1) / math.sqrt(len(values))) if len(values) > 1 else float("nan")
    return float(values.mean()), se


def knn_accuracy(Z: np.ndarray, labels: np.ndarray, n_neighbors: int, folds: int, seed: int) -> float:
    """Mean k-nearest-neighbour accuracy of ``labels`` from the points ``Z`` (stratified k-fold CV)."""
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.neighbors import KNeighborsClassifier

    cv = StratifiedKFold(n_splits=int(folds), shuffle=True, random_state=int(seed))
    scores = cross_val_score(KNeighborsClassifier(n_neighbors=int(n_neighbors)), Z, labels, cv=cv)
    return float(scores.mean())
