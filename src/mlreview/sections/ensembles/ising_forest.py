"""Fig 33: random forests classifying the 2D Ising phases, accuracy and fit time against the forest size.

Data (spec 2.1, decision d): the same Ising data and labels as Fig 21, read and split by the same
function (:func:`mlreview.data.ising.load_phase_sets`): ordered + disordered states split at
random (``train_fraction`` 0.8, ``split_seed``) into training and test rows; the near-critical
states are a third evaluation set, never trained on.

Method: one ``RandomForestClassifier(**forest, min_samples_split=m, warm_start=True, n_jobs=threads)``
per tree type (``min_samples_split``: fine = 2, coarse = 10,000 [decision d]), grown incrementally
to every size of ``n_estimators``: each ``fit`` adds only the missing trees, and because the trees
are independent (scikit-learn draws the same per-tree seeds with or without warm start) the forest
at every size is the one a fresh fit of that size would give. Fit time: the wall time of each
``fit`` call, summed - the cost of training a forest of that size (tree growing only).

Scores are accumulated tree by tree (:class:`ForestScores`), so that no tree is evaluated twice:
the forest's class probability is the mean of its trees' (as ``RandomForestClassifier.predict_proba``)
and the out-of-bag (OOB) probability of a training row is the mean over the trees whose bootstrap
sample missed it (``estimators_samples_``, as scikit-learn's ``oob_score_``; rows not yet out of bag
of any tree are left out and counted). The tests check both against scikit-learn.

Metrics: ``n_train``, ``n_test``, ``n_critical``, ``n_features``, ``n_estimators``, ``threads``,
``cpu``; per tree type ``{fine,coarse}/min_samples_split`` and ``{fine,coarse}/n{size}/{train,test,
critical,oob}/{accuracy,ci_low,ci_high,n}``, ``.../fit_seconds`` (cumulative), ``.../fit_increment_seconds``,
``.../score_seconds``, ``.../mean_depth``, ``.../mean_leaves``; ``table`` (one row per size, for the
report) and the quantities of claims C41-C45 (``c41`` ... ``c45``). :func:`compare_step` adds C46
(random forest against the logistic regression of Fig 21).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from sklearn.ensemble import RandomForestClassifier

from mlreview.data.ising import load_phase_sets
from mlreview.io import load_json, save_npz, to_jsonable
from mlreview.progress import Progress
from mlreview.provenance import cpu_model
from mlreview.stats import accuracy_with_ci
from mlreview.steps import step

#: evaluation sets of the figure (OOB is scored on the training rows)
SETS = ("train", "test", "critical", "oob")
#: options the step sets itself; the config's ``forest`` must not give them
RESERVED = {"n_estimators", "min_samples_split", "warm_start", "oob_score", "n_jobs"}

log = logging.getLogger(__name__)


def forest_sizes(sizes: Sequence[int]) -> list[int]:
    """The forest sizes, checked to increase strictly (warm start only adds trees)."""
    sizes = [int(s) for s in sizes]
    if not sizes or sizes[0] < 1 or any(b <= a for a, b in zip(sizes, sizes[1:])):
        raise ValueError(f"n_estimators must be positive and strictly increasing, got {sizes}")
    return sizes


def make_forest(options: Mapping, min_samples_split: int | float, threads: int) -> RandomForestClassifier:
    """An unfitted warm-start forest with no trees yet."""
    clash = RESERVED & set(options)
    if clash:
        raise ValueError(f"options {sorted(clash)} are set by the step; remove them from the config's forest")
    return RandomForestClassifier(n_estimators=0, min_samples_split=min_samples_split, warm_start=True,
                                  oob_score=False, n_jobs=int(threads), **options)


class ForestScores:
    """Class-probability sums of a growing forest on fixed evaluation sets, updated tree by tree.

    ``add(trees, samples)`` takes the new trees and their bootstrap row indices; ``predict(name)``
    gives the forest's labels on a set (the argmax of the mean tree probability, first class on a
    tie, as scikit-learn), ``oob()`` the OOB labels of the training rows that were out of bag at
    least once and the mask of those rows.
    """

    def __init__(self, sets: Mapping[str, tuple[np.ndarray, np.ndarray]], classes: np.ndarray, train: str = "train"):
        # the trees split float32 values; C-contiguous float32 lets them skip input validation
        self.X = {name: np.ascontiguousarray(X, dtype=np.float32) for name, (X, _) in sets.items()}
        self.classes = np.asarray(classes)
        self.train = train
        k = len(self.classes)
        self.sums = {name: np.zeros((len(y), k)) for name, (_, y) in sets.items()}
        n_train = len(sets[train][1])
        self.oob_sum = np.zeros((n_train, k))
        self.oob_count = np.zeros(n_train, dtype=np.int64)
        self.n_trees = 0

    def add(self, trees, samples) -> None:
        n_train = len(self.oob_count)
        for tree, rows in zip(trees, samples):
            for name, X in self.X.items():
                proba = tree.predict_proba(X, check_input=False)
                self.sums[name] += proba
                if name == self.train:
                    out = np.ones(n_train, dtype=bool)
                    out[rows] = False
                    self.oob_sum[out] += proba[out]
                    self.oob_count[out] += 1
            self.n_trees += 1

    def predict(self, name: str) -> np.ndarray:
        return self.classes[np.argmax(self.sums[name], axis=1)]

    def oob(self) -> tuple[np.ndarray, np.ndarray]:
        seen = self.oob_count > 0
        return self.classes[np.argmax(self.oob_sum[seen], axis=1)], seen


def grow(sets: Mapping, options: Mapping, min_samples_split, sizes: Sequence[int], threads: int,
         confidence: float, progress: Progress | None = None) -> dict:
    """Grow one forest through ``sizes``; per size the scores, timings and tree shapes."""
    X_train, y_train = sets["train"]
    forest = make_forest(options, min_samples_split, threads)
    scores: ForestScores | None = None
    per_size, total = {}, 0.0
    for size in forest_sizes(sizes):
        have = len(getattr(forest, "estimators_", []))
        forest.set_params(n_estimators=size)
        start = time.perf_counter()
        forest.fit(X_train, y_train)
        seconds = time.perf_counter() - start
        total += seconds
        start = time.perf_counter()
        if scores is None:
            scores = ForestScores(sets, forest.classes_)
        scores.add(forest.estimators_[have:], forest.estimators_samples_[have:])
        entry = {name: accuracy_with_ci(y, scores.predict(name), confidence) for name, (_, y) in sets.items()}
        oob_pred, seen = scores.oob()
        entry["oob"] = accuracy_with_ci(y_train[seen], oob_pred, confidence)
        entry["oob"]["rows_never_out_of_bag"] = int(np.sum(~seen))
        entry.update({
            "fit_seconds": total,
            "fit_increment_seconds": seconds,
            "score_seconds": time.perf_counter() - start,
            "mean_depth": float(np.mean([t.get_depth() for t in forest.estimators_])),
            "mean_leaves": float(np.mean([t.get_n_leaves() for t in forest.estimators_])),
        })
        per_size[f"n{size}"] = entry
        if progress is not None:
            progress.advance(f"min_samples_split = {min_samples_split}: {size} trees, test accuracy "
                             f"{entry['test']['accuracy']:.3f}", amount=size - have)
    return per_size


def linear_fit_r2(x, y) -> float:
    """R^2 of the least-squares straight line y ~ a + b x."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    slope, intercept = np.polyfit(x, y, 1)
    resid = y - (intercept + slope * x)
    total = np.sum((y - y.mean()) ** 2)
    return float(1.0 - np.sum(resid**2) / total) if total > 0 else 1.0


def claim_quantities(results: Mapping, sizes: Sequence[int], trivial: float) -> dict:
    """C41-C45 from the per-size results of both tree types."""
    first, last = f"n{sizes[0]}", f"n{sizes[-1]}"

    def curve(kind, what):
        return np.array([results[kind][f"n{s}"][what]["accuracy"] for s in sizes])

    train_test = np.concatenate([curve(k, s) for k in ("fine", "coarse") for s in ("train", "test")])
    gap = max(float(np.max(np.abs(curve(k, "train") - curve(k, "test")))) for k in ("fine", "coarse"))
    coarse_crit, fine_crit = curve("coarse", "critical"), curve("fine", "critical")
    times = {k: np.array([results[k][f"n{s}"]["fit_seconds"] for s in sizes]) for k in ("fine", "coarse")}
    ends = {
        where: {kind: {**{name: results[kind][key][name]["accuracy"] for name in SETS},
                       "critical_ci": [results[kind][key]["critical"]["ci_low"], results[kind][key]["critical"]["ci_high"]],
                       "fit_seconds": results[kind][key]["fit_seconds"]} for kind in ("fine", "coarse")}
        for where, key in (("smallest", first), ("largest", last))
    }
    return {
        **ends,
        "c41": {"min_train_test_accuracy": float(train_test.min()), "max_train_test_gap": gap},
        "c42": {"trivial_critical_accuracy": trivial,
                "coarse_max_distance_from_trivial": float(np.max(np.abs(coarse_crit - trivial))),
                "fine_minus_coarse_critical": float(fine_crit[-1] - coarse_crit[-1]),
                "coarse_critical": float(coarse_crit[-1]), "fine_critical": float(fine_crit[-1])},
        "c43": {"fine_critical_at_largest": float(fine_crit[-1]), "n_estimators": int(sizes[-1])},
        "c44": {"fine_critical_gain": float(fine_crit[-1] - fine_crit[0]),
                "fine_time_ratio": float(times["fine"][-1] / times["fine"][0]),
                "coarse_time_ratio": float(times["coarse"][-1] / times["coarse"][0]),
                "size_ratio": float(sizes[-1] / sizes[0]),
                "fine_critical_first": float(fine_crit[0]), "fine_critical_last": float(fine_crit[-1]),
                "first": first, "last": last},
        "c45": {f"r2_{k}": linear_fit_r2(sizes, times[k]) for k in ("fine", "coarse")},
    }


@step
def ising_forest_fit(params: Mapping, *, dataset: Path, data: Path, threads: int = 1) -> dict:
    """Fig 33: grow the fine and coarse forests through the sizes; write the curves and return the metrics."""
    sets = load_phase_sets(dataset, params)
    sizes = forest_sizes(params["n_estimators"])
    confidence = float(params["confidence"])
    progress = Progress(len(params["min_samples_split"]) * sizes[-1], "Fig 33 trees", log)
    results = {kind: grow(sets, params["forest"], split, sizes, threads, confidence, progress)
               for kind, split in params["min_samples_split"].items()}
    if set(results) != {"fine", "coarse"}:
        raise ValueError(f"min_samples_split needs the tree types fine and coarse, got {sorted(results)}")
    y_crit = sets["critical"][1]
    trivial = float(max(np.mean(y_crit == 1), np.mean(y_crit == 0)))
    arrays: dict[str, np.ndarray] = {"n_estimators": np.array(sizes)}
    for kind, per_size in results.items():
        for name in SETS:
            arrays[f"{kind}_{name}_accuracy"] = np.array([per_size[f"n{s}"][name]["accuracy"] for s in sizes])
            arrays[f"{kind}_{name}_ci"] = np.array([[per_size[f"n{s}"][name]["ci_low"],
                                                     per_size[f"n{s}"][name]["ci_high"]] for s in sizes])
        arrays[f"{kind}_fit_seconds"] = np.array([per_size[f"n{s}"]["fit_seconds"] for s in sizes])
        arrays[f"{kind}_fit_increment_seconds"] = np.array([per_size[f"n{s}"]["fit_increment_seconds"]
                                                            for s in sizes])
    arrays["trivial_critical_accuracy"] = np.float64(trivial)
    save_npz(data, **arrays)
    table = [{"n_estimators": s,
              **{f"{k}_{what}": results[k][f"n{s}"][what]["accuracy"] for k in ("fine", "coarse")
                 for what in SETS},
              **{f"{k}_fit_seconds": results[k][f"n{s}"]["fit_seconds"] for k in ("fine", "coarse")}}
             for s in sizes]
    return to_jsonable({
        **{f"n_{name}": int(len(y)) for name, (_, y) in sets.items()},
        "n_features": int(sets["train"][0].shape[1]),
        "n_estimators": sizes,
        "threads": int(threads),
        "cpu": cpu_model(),
        **{kind: {"min_samples_split": params["min_samples_split"][kind], **per_size}
           for kind, per_size in results.items()},
        "table": table,
        **claim_quantities(results, sizes, trivial),
    })


@step
def ising_forest_vs_logistic(params: Mapping, *, forest: Path, logistic: Path) -> dict:
    """C46: the random forests' test accuracy against the best liblinear test accuracy of Fig 21.

    ``forest`` and ``logistic`` are the metrics files of Figs 33 and 21. The forest's value is the
    lowest test accuracy over both tree types and all sizes (the weakest forest of the figure).
    """
    rf = load_json(forest)["metrics"]
    lr = load_json(logistic)["metrics"]
    lib = lr["liblinear"]
    keys = [k for k in lib if k.startswith("lam_")]
    best_key = max(keys, key=lambda k: lib[k]["test"]["accuracy"])
    rf_tests = [rf[kind][f"n{s}"]["test"]["accuracy"] for kind in ("fine", "coarse") for s in rf["n_estimators"]]
    weakest = float(min(rf_tests))
    best = float(lib[best_key]["test"]["accuracy"])
    return to_jsonable({
        "forest_min_test_accuracy": weakest,
        "logistic_best_test_accuracy": best,
        "logistic_best_lambda_key": best_key,
        "n_train_forest": rf["n_train"],
        "n_train_logistic": lr["n_train"],
        "c46": {"forest_minus_logistic_test": weakest - best},
    })
