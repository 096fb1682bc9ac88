"""Fig 34: gradient-boosted trees (XGBoost) on 100,000 SUSY events - feature importances, ROC curves
and a cross-validated tuning run.

Data (spec 2.3, decision g): the first ``n_events`` rows of the SUSY file (UCI, or the project's
stand-in: ``source`` in the metrics says which), split at random into ``1 - test_fraction`` training
and ``test_fraction`` test rows by :func:`mlreview.data.splits.split_indices` (``split_seed``);
raw feature values (no scaling: trees do not need it). Three feature sets: all 18, the 8 low-level
and the 10 high-level features, each scored with its own model.

:func:`fit_step` - the authors' settings: ``XGBClassifier(**booster, n_estimators=n_estimators[set],
n_jobs=threads)`` (binary:logistic, depth 3, learning rate 0.1, the other parameters pinned at the old
library defaults; histogram tree method). Test accuracy (P(signal) >= 0.5) with its Wilson interval,
ROC curve and AUC from the predicted probabilities (:func:`mlreview.stats.roc`), and the feature importances of
every model by split count ("weight", the review's F-score) and by gain.

:func:`tune_step` - ``tuning.cv_folds``-fold cross-validation (stratified, unshuffled: the training
rows are already in random order) on the training rows, scoring accuracy, over the grid of
``tuning.grid`` with ``tuning.n_estimators`` trees; the best setting is refitted on all training rows
and scored on the test rows. CV fits run in parallel (``threads`` processes), one booster thread each.

Metrics (``fit_step``): ``source``, ``n_events``, ``n_train``, ``n_test``; per feature set
``{all,low,high}/{test,train}`` (accuracy with CI), ``auc``, ``fit_seconds``, ``n_estimators``,
``importance/{weight,gain}/{feature}``, ``rank/{weight,gain}/{feature}`` (1 = most important); ``c47``,
``c49``. (``tune_step``): ``best_params``, ``best_cv_accuracy``, ``test``, ``auc``, ``grid`` (every
setting with its CV mean and spread), ``fit_seconds``, ``c48``.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from xgboost import XGBClassifier

from mlreview.data.splits import split_indices
from mlreview.data.susy import FEATURE_SETS, LABEL, load_susy, parquet_source
from mlreview.errors import MlreviewError
from mlreview.io import load_json, save_npz, to_jsonable
from mlreview.stats import accuracy_with_ci, roc
from mlreview.steps import step

#: feature set -> its columns, in the file's order [decision g]
#: importance types: split count (the review's F-score) and gain
IMPORTANCE_TYPES = ("weight", "gain")
#: options the steps set themselves
RESERVED = {"n_estimators", "n_jobs"}
#: the features the review names most informative (C49): axial MET and the missing energy magnitude
C49_FEATURES = ("axial_met", "met")
#: GridSearchCV's verbosity: one line per fit, with its fold and setting ([CV 2/5; 7/18])
CV_VERBOSE = 10

log = logging.getLogger(__name__)


def load_split(parquet: Path, params: Mapping) -> tuple[dict, str | None]:
    """{train, test}: (features DataFrame, label) of the first ``n_events`` rows, and the file's source."""
    n = int(params["n_events"])
    frame = load_susy(parquet, rows=n)
    if len(frame) < n:
        raise MlreviewError(f"the SUSY file {parquet} has {len(frame)} events; Fig 34 needs n_events = {n} "
                            "(lower ensembles.fig34.n_events or make a larger file)")
    train, test = split_indices(n, 1.0 - float(params["test_fraction"]), int(params["split_seed"]))
    y = frame[LABEL].to_numpy().astype(np.int64)
    X = frame[list(FEATURE_SETS["all"])].reset_index(drop=True)
    return {"train": (X.iloc[train], y[train]), "test": (X.iloc[test], y[test])}, parquet_source(parquet)


def booster(options: Mapping, n_estimators: int, threads: int, **override) -> XGBClassifier:
    """An unfitted ``XGBClassifier(**options, **override, n_estimators, n_jobs=threads)``."""
    clash = RESERVED & set(options)
    if clash:
        raise ValueError(f"options {sorted(clash)} are set by the step; remove them from the config's booster")
    return XGBClassifier(**{**options, **override}, n_estimators=int(n_estimators), n_jobs=int(threads))


def importances(model: XGBClassifier, columns: Sequence[str]) -> dict[str, dict[str, float]]:
    """{weight, gain}: value per feature (0 for a feature no tree splits on)."""
    b = model.get_booster()
    return {kind: {c: float(b.get_score(importance_type=kind).get(c, 0.0)) for c in columns}
            for kind in IMPORTANCE_TYPES}


def ranks(values: Mapping[str, float]) -> dict[str, int]:
    """1 for the largest value; ties keep the columns' order."""
    order = sorted(values, key=lambda c: -values[c])
    return {c: order.index(c) + 1 for c in values}


def score(model, X, y, confidence: float) -> tuple[dict, np.ndarray]:
    """Accuracy (P(signal) >= 0.5) with its Wilson interval, and the signal probabilities."""
    p = model.predict_proba(X)[:, 1]
    return accuracy_with_ci(y, (p >= 0.5).astype(np.int64), confidence), p


@step
def susy_xgboost_fit(params: Mapping, *, parquet: Path, data: Path, threads: int = 1) -> dict:
    """Fig 34 with the authors' settings: one model per feature set; importances and ROC curves."""
    sets, source = load_split(parquet, params)
    confidence = float(params["confidence"])
    (X_train, y_train), (X_test, y_test) = sets["train"], sets["test"]
    arrays: dict[str, np.ndarray] = {"source": np.array(source or "")}
    metrics: dict = {"source": source, "n_events": int(params["n_events"]), "n_train": int(len(y_train)),
                     "n_test": int(len(y_test)), "signal_fraction_test": float(np.mean(y_test)),
                     "threads": int(threads)}
    for name, columns in FEATURE_SETS.items():
        columns = list(columns)
        n_estimators = int(params["n_estimators"][name])
        model = booster(params["booster"], n_estimators, threads)
        start = time.perf_counter()
        model.fit(X_train[columns], y_train)
        seconds = time.perf_counter() - start
        test, p = score(model, X_test[columns], y_test, confidence)
        train, _ = score(model, X_train[columns], y_train, confidence)
        curve = roc(y_test, p, int(params["roc_points"]))
        imp = importances(model, columns)
        arrays[f"{name}_signal_efficiency"] = curve["efficiency"]
        arrays[f"{name}_background_rejection"] = curve["rejection"]
        arrays[f"{name}_auc"] = np.float64(curve["auc"])
        arrays[f"{name}_accuracy"] = np.float64(test["accuracy"])
        arrays[f"{name}_features"] = np.array(columns)
        for kind in IMPORTANCE_TYPES:
            arrays[f"{name}_{kind}"] = np.array([imp[kind][c] for c in columns])
        metrics[name] = {"n_features": len(columns), "n_estimators": n_estimators, "fit_seconds": seconds,
                         "test": test, "train": train, "auc": curve["auc"], "importance": imp,
                         "rank": {kind: ranks(imp[kind]) for kind in IMPORTANCE_TYPES}}
    save_npz(data, **arrays)
    top2 = sorted(metrics["all"]["importance"]["weight"], key=lambda c: -metrics["all"]["importance"]["weight"][c])[:2]
    metrics["c47"] = {"all_features_test_accuracy": metrics["all"]["test"]["accuracy"]}
    metrics["c49"] = {
        "top2_by_weight": top2,
        "top2_is_axial_met_and_met": set(top2) == set(C49_FEATURES),
        "rank_by_weight": {c: metrics["all"]["rank"]["weight"][c] for c in C49_FEATURES},
        "rank_by_gain": {c: metrics["all"]["rank"]["gain"][c] for c in C49_FEATURES},
        "top2_by_gain": sorted(metrics["all"]["importance"]["gain"],
                               key=lambda c: -metrics["all"]["importance"]["gain"][c])[:2],
    }
    return to_jsonable(metrics)


def grid_settings(grid: Mapping[str, Sequence]) -> list[dict]:
    """Every combination of the grid, in the order of its keys and values."""
    keys = list(grid)
    return [dict(zip(keys, values)) for values in itertools.product(*(grid[k] for k in keys))]


@step
def susy_xgboost_tune(params: Mapping, *, parquet: Path, data: Path, threads: int = 1, logistic: Path | None = None) -> dict:
    """Fig 34 tuning: grid search by cross-validated accuracy, refit, test accuracy and ROC.

    ``logistic`` (optional): the metrics file of the all-features SUSY logistic regression (Figs 23
    and 25); its test accuracy and training-set size are quoted under ``c48`` for comparison, as
    claim C48 asks ("comparable ... to logistic regression").
    """
    sets, source = load_split(parquet, params)
    tuning = params["tuning"]
    confidence = float(params["confidence"])
    (X_train, y_train), (X_test, y_test) = sets["train"], sets["test"]
    grid = {k: list(tuning["grid"][k]) for k in sorted(tuning["grid"])}  # axes in sorted key order
    arrays: dict[str, np.ndarray] = {"source": np.array(source or ""), "grid_keys": np.array(list(grid)),
                                     "cv_folds": int(tuning["cv_folds"])}
    for key, values in grid.items():
        arrays[f"grid_{key}"] = np.array(values)
    metrics: dict = {"source": source, "n_train": int(len(y_train)), "n_test": int(len(y_test)),
                     "threads": int(threads), "cv_folds": int(tuning["cv_folds"]),
                     "n_estimators": int(tuning["n_estimators"]), "grid_size": len(grid_settings(grid))}
    for name in tuning["feature_sets"]:
        columns = list(FEATURE_SETS[name])
        search = GridSearchCV(booster(params["booster"], tuning["n_estimators"], 1), grid, scoring="accuracy",
                              cv=StratifiedKFold(n_splits=int(tuning["cv_folds"])), n_jobs=int(threads), refit=True,
                              verbose=CV_VERBOSE)
        log.info("Fig 34 tuning, %s features: %d settings x %s folds, %d processes; one line per fit follows",
                 name, metrics["grid_size"], tuning["cv_folds"], int(threads))
        start = time.perf_counter()
        search.fit(X_train[columns], y_train)
        seconds = time.perf_counter() - start
        log.info("Fig 34 tuning, %s features: done in %.0f s, best %s", name, seconds, search.best_params_)
        test, p = score(search.best_estimator_, X_test[columns], y_test, confidence)
        curve = roc(y_test, p, int(params["roc_points"]))
        cv = search.cv_results_
        shape = [len(v) for v in grid.values()]
        # GridSearchCV orders settings by sorted key names; map each back onto the grid's axes
        mean = np.zeros(shape)
        for setting, value in zip(cv["params"], cv["mean_test_score"]):
            mean[tuple(grid[k].index(setting[k]) for k in grid)] = value
        arrays[f"{name}_cv_accuracy"] = mean
        arrays[f"{name}_best_index"] = np.array([grid[k].index(search.best_params_[k]) for k in grid])
        arrays[f"{name}_signal_efficiency"] = curve["efficiency"]
        arrays[f"{name}_background_rejection"] = curve["rejection"]
        arrays[f"{name}_auc"] = np.float64(curve["auc"])
        arrays[f"{name}_accuracy"] = np.float64(test["accuracy"])
        metrics[name] = {
            "best_params": search.best_params_,
            "best_cv_accuracy": float(search.best_score_),
            "test": test,
            "auc": curve["auc"],
            "fit_seconds": seconds,
            "grid": [{**s, "cv_accuracy": float(m), "cv_std": float(sd)}
                     for s, m, sd in zip(cv["params"], cv["mean_test_score"], cv["std_test_score"])],
        }
    save_npz(data, **arrays)
    if "all" in metrics:
        metrics["c48"] = {"tuned_test_accuracy": metrics["all"]["test"]["accuracy"],
                          "best_params": metrics["all"]["best_params"]}
        if logistic is not None:
            fitted = load_json(logistic)["metrics"]
            metrics["c48"]["logistic_regression"] = {"test_accuracy": fitted["test"]["accuracy"],
                                                     "n_train": fitted["n_train"], "n_features": len(fitted["features"])}
    return to_jsonable(metrics)
