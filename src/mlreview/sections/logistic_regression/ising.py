"""Fig 21: logistic regression of the 2D Ising phases against the regularisation strength.

Data (spec 2.1, decision e): the ordered (T < 2.0) and disordered (T > 2.5) configurations, +-1
spins flattened to L*L features, label 1 for T < Tc; split once at random into training and test
rows (``train_fraction``, ``split_seed``; 50/50 in the authors' notebook) by
:func:`mlreview.data.splits.split_indices`. The critical set (2.0 <= T <= 2.5) is a third
evaluation set, never used for training.

For every lambda of the grid two L2-penalised logistic models are fitted on the training rows:
``LogisticRegression(C=1/lambda, **liblinear)`` and ``SGDClassifier(loss="log_loss",
alpha=lambda, **sgd)`` (options from the config). Each is scored on the train, test and critical
sets (accuracy with its Wilson interval).

Metrics (``lam_*`` keys from :func:`mlreview.sections.linear_regression.paths.lambda_key`):

* ``n_train``, ``n_test``, ``n_critical``, ``n_features``, ``lambdas``;
* ``{liblinear,sgd}/lam_*/{train,test,critical}/{accuracy,ci_low,ci_high,n,confidence}``;
* ``{liblinear,sgd}/lam_*/{n_iter,fit_seconds}``, ``{liblinear,sgd}/convergence_warnings``,
  ``{liblinear,sgd}/fit_seconds_total``;
* ``c28/{max_abs_train_test_gap, lambda_at_max}`` - liblinear, over the grid;
* ``c29/{n_lambdas, n_liblinear_test_better, n_liblinear_train_better, liblinear_test_better_most,
  n_sgd_critical_better, sgd_critical_better_any, holds}``;
* ``c30/{sgd_best_lambda, sgd_best_test_accuracy}`` - argmax of the SGD test accuracy (first on ties);
* ``c31/{mean_test_minus_critical, per_lambda/lam_*}`` - liblinear test minus critical accuracy.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from mlreview.data.ising import load_phase_sets
from mlreview.grids import lambda_keys, log_grid
from mlreview.io import save_npz, to_jsonable
from mlreview.logistic import convergence_warnings, evaluate, fit_logistic, fit_sgd, predict_sets
from mlreview.progress import Progress
from mlreview.steps import step

#: solver name -> fitting function (lambda, options from params[solver])
SOLVERS = {"liblinear": fit_logistic, "sgd": fit_sgd}
#: evaluation sets, in plotting order
SETS = ("train", "test", "critical")

log = logging.getLogger(__name__)


@step
def ising_logistic_fit(params: Mapping, *, dataset: Path, data: Path) -> dict:
    """Fit both solvers on the lambda grid; write the npz for Fig 21 and return the metrics."""
    sets = load_phase_sets(dataset, params)
    lambdas = log_grid(params["lambdas"])
    keys = lambda_keys(lambdas)
    confidence = float(params["confidence"])

    arrays: dict[str, np.ndarray] = {"lambdas": lambdas}
    metrics: dict = {
        **{f"n_{name}": int(len(y)) for name, (_, y) in sets.items()},
        "n_features": int(sets["train"][0].shape[1]),
        "lambdas": lambdas,
    }
    acc: dict[str, dict[str, np.ndarray]] = {}
    progress = Progress(len(SOLVERS) * len(lambdas), "Fig 21 fits", log)
    for solver, fit in SOLVERS.items():
        options = params[solver]
        per_lambda, n_warn, total = {}, 0, 0.0
        table = {s: np.zeros((len(lambdas), 3)) for s in SETS}  # accuracy, ci_low, ci_high
        predicted_ordered = np.zeros(len(lambdas))
        for i, (lam, key) in enumerate(zip(lambdas, keys)):
            start = time.perf_counter()
            with convergence_warnings() as caught:
                model = fit(*sets["train"], lam, options)
            seconds = time.perf_counter() - start
            total += seconds
            n_warn += len(caught)
            predicted = predict_sets(model, sets)  # once per set and fit: the scores and the ordered share
            scores = evaluate(model, sets, confidence, predicted)
            for s in SETS:
                table[s][i] = [scores[s]["accuracy"], scores[s]["ci_low"], scores[s]["ci_high"]]
            ordered = {s: float(np.mean(predicted[s] == 1)) for s in SETS}
            predicted_ordered[i] = ordered["critical"]
            progress.advance(f"{solver} lambda = {lam:g} in {seconds:.1f} s, test accuracy {scores['test']['accuracy']:.3f}")
            per_lambda[key] = {**scores, "predicted_ordered_fraction": ordered, "n_iter": int(np.max(model.n_iter_)),
                               "fit_seconds": seconds, "convergence_warning": bool(caught)}
        metrics[solver] = {**per_lambda, "convergence_warnings": n_warn, "fit_seconds_total": total}
        acc[solver] = {s: table[s][:, 0] for s in SETS}
        acc[solver]["critical_predicted_ordered"] = predicted_ordered
        for s in SETS:
            arrays[f"{solver}_{s}_accuracy"] = table[s][:, 0]
            arrays[f"{solver}_{s}_ci"] = table[s][:, 1:]
    save_npz(data, **arrays)
    metrics.update(claim_quantities(lambdas, keys, acc))
    return to_jsonable(metrics)


def claim_quantities(lambdas: np.ndarray, keys: list[str], acc: Mapping) -> dict:
    """The quantities of claims C28-C31 from the accuracy curves ``acc[solver][set]``."""
    lib, sgd = acc["liblinear"], acc["sgd"]
    gap = np.abs(lib["train"] - lib["test"])
    n = len(lambdas)
    test_better = int(np.sum(lib["test"] > sgd["test"]))
    sgd_better = sgd["critical"] > lib["critical"]
    critical_sgd_better = int(np.sum(sgd_better))
    # where SGD gives every critical state the same label, its critical accuracy is just a class share
    constant = (sgd["critical_predicted_ordered"] == 0.0) | (sgd["critical_predicted_ordered"] == 1.0)
    best = int(np.argmax(sgd["test"]))
    diff = lib["test"] - lib["critical"]
    c29 = {
        "n_lambdas": n,
        "n_liblinear_test_better": test_better,
        "n_liblinear_train_better": int(np.sum(lib["train"] > sgd["train"])),
        "liblinear_test_better_most": bool(test_better > n / 2),
        "n_sgd_critical_better": critical_sgd_better,
        "sgd_critical_better_any": bool(critical_sgd_better >= 1),
        "n_sgd_critical_better_one_class": int(np.sum(sgd_better & constant)),
    }
    c29["holds"] = bool(c29["liblinear_test_better_most"] and c29["sgd_critical_better_any"])
    return {
        "c28": {"max_abs_train_test_gap": float(gap.max()), "lambda_at_max": float(lambdas[int(np.argmax(gap))])},
        "c29": c29,
        "c30": {"sgd_best_lambda": float(lambdas[best]), "sgd_best_test_accuracy": float(sgd["test"][best])},
        "c31": {"mean_test_minus_critical": float(diff.mean()), "per_lambda": dict(zip(keys, diff.tolist()))},
    }
