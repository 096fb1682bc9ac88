"""Fig 32: decision surfaces of a decision tree, a random forest and AdaBoost on pairs of Iris features.

As in the scikit-learn example the review reproduces ("Plot the decision surfaces of ensembles of
trees on the iris dataset"; spec Fig 32, all [proposed] except the 30 members): for each feature
pair, the 150 samples are shuffled (``shuffle_seed``), the two features standardised with the mean
and standard deviation of all 150, and each model is fitted on all samples. The surfaces are the
models' (weighted) vote shares per class on a mesh (:func:`vote_share`; step ``mesh_step``,
``mesh_margin`` beyond the data);
the panel titles carry the stratified ``cv_folds``-fold cross-validated accuracy (the caption's
"10-fold CV", folds shuffled with ``cv_seed``) - an evaluation, not a fit.

Models (:func:`make_models`): ``DecisionTreeClassifier()``; ``RandomForestClassifier(n_estimators)``;
``AdaBoostClassifier(DecisionTreeClassifier(max_depth=adaboost_max_depth), n_estimators)``;
``random_state`` from the config for all three.

Metrics: ``feature_pairs``, ``models``, ``{pair}/{model}/{train_accuracy, cv_accuracy, cv_std,
cv_folds}`` and ``table`` (one row per feature pair, the report's 3 x 3 table of CV accuracies
with the training accuracies beside them).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
from sklearn.datasets import load_iris
from sklearn.ensemble import AdaBoostClassifier, RandomForestClassifier
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.tree import DecisionTreeClassifier

from mlreview.io import save_npz, to_jsonable
from mlreview.steps import step

#: model key -> column title [review: decision tree, random forest, AdaBoost]
MODEL_NAMES = {"tree": "Decision tree", "forest": "Random forest", "adaboost": "AdaBoost"}


def make_models(params: Mapping) -> dict:
    """The three unfitted models of the figure's columns."""
    n = int(params["n_estimators"])
    seed = int(params["random_state"])
    return {
        "tree": DecisionTreeClassifier(random_state=seed),
        "forest": RandomForestClassifier(n_estimators=n, random_state=seed),
        "adaboost": AdaBoostClassifier(DecisionTreeClassifier(max_depth=int(params["adaboost_max_depth"])),
                                       n_estimators=n, random_state=seed),
    }


def pair_data(X: np.ndarray, y: np.ndarray, pair, shuffle_seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The two feature columns of ``pair``, rows shuffled (seeded), standardised over all samples."""
    order = np.random.default_rng(int(shuffle_seed)).permutation(len(y))
    Xp = X[order][:, list(pair)].astype(np.float64)
    Xp = (Xp - Xp.mean(axis=0)) / Xp.std(axis=0)
    return Xp, y[order]


def mesh(Xp: np.ndarray, step: float, margin: float) -> tuple[np.ndarray, np.ndarray]:
    """Grid axes covering the standardised data plus ``margin``, spaced ``step``."""
    axes = [np.arange(Xp[:, k].min() - margin, Xp[:, k].max() + margin, step) for k in range(2)]
    return axes[0], axes[1]


def vote_share(model, X: np.ndarray) -> np.ndarray:
    """(n, classes) share of the (weighted) member votes for each class at the points ``X``.

    Ensembles: every member votes for its most probable class with weight 1 (random forest) or its
    ``estimator_weights_`` (AdaBoost, whose prediction is the argmax of exactly this weighted vote);
    a single model: its class probabilities.
    """
    members = getattr(model, "estimators_", None)
    if members is None:
        return model.predict_proba(X)
    weights = np.asarray(getattr(model, "estimator_weights_", np.ones(len(members))), dtype=np.float64)
    share = np.zeros((len(X), len(model.classes_)))
    for member, w in zip(members, weights[: len(members)]):
        share[np.arange(len(X)), np.argmax(member.predict_proba(X), axis=1)] += w
    return share / weights[: len(members)].sum()


def pair_key(names: list[str], pair) -> str:
    """'petal_length__petal_width' for metrics keys."""
    return "__".join(names[i].replace(" (cm)", "").replace(" ", "_") for i in pair)


@step
def iris_ensembles_fit(params: Mapping, *, data: Path) -> dict:
    """Fit the three models on every feature pair; write the probability surfaces and return the metrics."""
    iris = load_iris()
    X, y = iris.data, iris.target
    names = list(iris.feature_names)
    pairs = [tuple(int(i) for i in p) for p in params["feature_pairs"]]
    folds = StratifiedKFold(n_splits=int(params["cv_folds"]), shuffle=True, random_state=int(params["cv_seed"]))
    arrays: dict[str, np.ndarray] = {"pairs": np.array(pairs), "classes": iris.target_names.astype(str),
                                     "feature_names": np.array(names), "models": np.array(list(MODEL_NAMES))}
    metrics: dict = {"feature_pairs": [[names[i] for i in p] for p in pairs], "models": MODEL_NAMES,
                     "n_samples": int(len(y)), "cv_folds": int(params["cv_folds"]), "cv_seed": int(params["cv_seed"])}
    table = []
    for k, pair in enumerate(pairs):
        Xp, yp = pair_data(X, y, pair, params["shuffle_seed"])
        gx, gy = mesh(Xp, float(params["mesh_step"]), float(params["mesh_margin"]))
        xx, yy = np.meshgrid(gx, gy)
        grid = np.column_stack([xx.ravel(), yy.ravel()])
        arrays[f"pair{k}_X"], arrays[f"pair{k}_y"] = Xp, yp
        arrays[f"pair{k}_gx"], arrays[f"pair{k}_gy"] = gx, gy
        key = pair_key(names, pair)
        row = {"features": " / ".join(names[i].replace(" (cm)", "") for i in pair)}
        metrics[key] = {}
        for name, model in make_models(params).items():
            cv = cross_val_score(model, Xp, yp, cv=folds, scoring="accuracy")
            model.fit(Xp, yp)
            share = vote_share(model, grid).reshape(len(gy), len(gx), -1)
            arrays[f"pair{k}_{name}_share"] = share.astype(np.float32)
            train = float(np.mean(model.predict(Xp) == yp))
            arrays[f"pair{k}_{name}_cv"] = np.float64(cv.mean())
            metrics[key][name] = {"train_accuracy": train, "cv_accuracy": float(cv.mean()),
                                  "cv_std": float(cv.std(ddof=1)), "cv_scores": cv}
            row[f"{name}_cv"] = float(cv.mean())
            row[f"{name}_train"] = train
        table.append(row)
    save_npz(data, **arrays)
    metrics["table"] = table
    return to_jsonable(metrics)
