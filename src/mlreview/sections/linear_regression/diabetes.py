"""Ridge and LASSO on scikit-learn's diabetes data (Figs 14 and 15; claims C17, C18, C19).

Data: ``sklearn.datasets.load_diabetes()`` (442 patients, 10 standardised features, disease
progression one year ahead). The first ``n_train`` samples train, the next ``n_test`` test
(samples 0-99 and 100-199 at the paper config, the authors' notebook). Models:
``Ridge(alpha=lam)`` and ``Lasso(alpha=lam)`` with scikit-learn's defaults otherwise (intercept
fitted), i.e. the costs ||y - Xw||^2 + lam ||w||^2 and (1/(2n)) ||y - Xw||^2 + lam ||w||_1: the two
lambda axes are not on the same footing, and C18 compares them in these conventions.

Three lambda grids (config): ``lambdas`` (Fig 14), ``path_lambdas`` (Fig 15, finer) and
``metric_lambdas`` (C17 and lambda_half for C18, wide). Metrics:

* ``figure_grid/{ridge,lasso}/lam_*/{train,test}`` - R^2 on the Fig 14 grid;
* ``metric_grid/{ridge,lasso}/test_r2/lam_*`` - test R^2 on the metric grid;
* ``lambda_half/{ridge,lasso}`` and ``log10_lambda_half_ratio`` =
  |log10(lambda_half(Ridge) / lambda_half(LASSO))| (C18; ``None`` if a curve never halves);
* ``c17/{ridge,lasso}/{max_test_r2, test_r2_at_smallest_lambda, gain, argmax_lambda}`` and
  ``c17/holds`` (both gains >= 0; the gain is >= 0 by construction, since the maximum is taken
  over a grid that contains the smallest lambda, so ``c17/strict_holds`` (both gains > 0) says
  whether regularisation actually improves the test R^2);
* ``path_grid/{ridge,lasso}/n_zero_coefs/lam_*`` - exactly zero coefficients on the Fig 15 grid;
* ``c19/{lasso_zeros_at_largest, lasso_zeros_nondecreasing, ridge_max_zeros, holds}``;
* ``convergence_warnings/{figure_grid,path_grid,metric_grid}/{ridge,lasso}`` - counts of
  scikit-learn ConvergenceWarnings (the notebook's defaults are kept, so they are recorded).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Lasso, Ridge

from mlreview.grids import lambda_keys, log_grid
from mlreview.io import save_npz, to_jsonable
from mlreview.sections.linear_regression.paths import fit_path, lambda_half
from mlreview.steps import step

#: model name -> factory lam -> scikit-learn estimator (defaults apart from alpha, as the notebook)
MODELS = {
    "ridge": lambda lam: Ridge(alpha=lam),
    "lasso": lambda lam: Lasso(alpha=lam),
}


def load_split(n_train: int, n_test: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """(X_train, y_train, X_test, y_test, feature names): samples [0, n_train) and [n_train, n_train + n_test)."""
    data = load_diabetes()
    X, y = np.asarray(data.data, dtype=np.float64), np.asarray(data.target, dtype=np.float64)
    if n_train < 1 or n_test < 1 or n_train + n_test > X.shape[0]:
        raise ValueError(f"n_train + n_test must be in [2, {X.shape[0]}], got {n_train} + {n_test}")
    stop = n_train + n_test
    return X[:n_train], y[:n_train], X[n_train:stop], y[n_train:stop], list(data.feature_names)


@step
def diabetes_fit(params: Mapping, *, data: Path) -> dict:
    """Fit Ridge and LASSO on the three lambda grids; write the npz for Figs 14, 15 and return metrics."""
    X_train, y_train, X_test, y_test, names = load_split(int(params["n_train"]), int(params["n_test"]))
    grids = {
        "figure_grid": log_grid(params["lambdas"]),
        "path_grid": log_grid(params["path_lambdas"]),
        "metric_grid": log_grid(params["metric_lambdas"]),
    }
    fits = {
        (grid, model): fit_path(factory, X_train, y_train, X_test, y_test, lambdas)
        for grid, lambdas in grids.items()
        for model, factory in MODELS.items()
    }

    arrays: dict[str, np.ndarray] = {"feature_names": np.array(names)}
    for grid, lambdas in grids.items():
        arrays[f"{grid}_lambdas"] = lambdas
        for model in MODELS:
            fit = fits[grid, model]
            arrays[f"{grid}_{model}_train_r2"] = fit["train_r2"]
            arrays[f"{grid}_{model}_test_r2"] = fit["test_r2"]
            arrays[f"{grid}_{model}_coef"] = fit["coef"]
    save_npz(data, **arrays)

    metrics: dict = {
        "n_train": int(y_train.size),
        "n_test": int(y_test.size),
        "n_features": len(names),
        "feature_names": names,
    }

    keys = lambda_keys(grids["figure_grid"])
    metrics["figure_grid"] = {"lambdas": grids["figure_grid"]}
    for model in MODELS:
        fit = fits["figure_grid", model]
        metrics["figure_grid"][model] = {
            key: {"train": fit["train_r2"][i], "test": fit["test_r2"][i]} for i, key in enumerate(keys)
        }

    keys = lambda_keys(grids["metric_grid"])
    metrics["metric_grid"] = {"lambdas": grids["metric_grid"]}
    halves, c17 = {}, {}
    for model in MODELS:
        fit = fits["metric_grid", model]
        metrics["metric_grid"][model] = {"test_r2": dict(zip(keys, fit["test_r2"]))}
        halves[model] = lambda_half(fit["lambdas"], fit["test_r2"])
        best = int(np.argmax(fit["test_r2"]))
        c17[model] = {
            "max_test_r2": fit["test_r2"][best],
            "argmax_lambda": fit["lambdas"][best],
            "test_r2_at_smallest_lambda": fit["test_r2"][0],
            "gain": fit["test_r2"][best] - fit["test_r2"][0],
        }
    metrics["lambda_half"] = halves
    metrics["log10_lambda_half_ratio"] = (
        abs(float(np.log10(halves["ridge"] / halves["lasso"])))
        if halves["ridge"] is not None and halves["lasso"] is not None
        else None
    )
    c17["holds"] = all(c17[m]["gain"] >= 0.0 for m in MODELS)
    c17["strict_holds"] = all(c17[m]["gain"] > 0.0 for m in MODELS)
    metrics["c17"] = c17

    keys = lambda_keys(grids["path_grid"])
    metrics["path_grid"] = {"lambdas": grids["path_grid"]}
    zeros = {}
    for model in MODELS:
        zeros[model] = np.sum(fits["path_grid", model]["coef"] == 0.0, axis=1)
        metrics["path_grid"][model] = {"n_zero_coefs": dict(zip(keys, zeros[model].tolist()))}
    c19 = {
        "lasso_zeros_at_largest": int(zeros["lasso"][-1]),
        "lasso_zeros_at_smallest": int(zeros["lasso"][0]),
        "lasso_zeros_nondecreasing": bool(np.all(np.diff(zeros["lasso"]) >= 0)),
        "ridge_max_zeros": int(zeros["ridge"].max()),
    }
    c19["holds"] = bool(
        c19["lasso_zeros_at_largest"] >= 1 and c19["lasso_zeros_nondecreasing"] and c19["ridge_max_zeros"] == 0
    )
    metrics["c19"] = c19

    metrics["convergence_warnings"] = {
        grid: {model: int(fits[grid, model]["convergence_warnings"].sum()) for model in MODELS} for grid in grids
    }
    return to_jsonable(metrics)
