"""Figs 22, 23, 25: logistic regression on SUSY (Section VII).

Data (spec 2.3, decision f): training = the first ``train_rows`` events of the file, test = the
last ``test_rows`` (4,500,000 / 500,000 for the UCI file). A smaller file (the stand-in) keeps
the last ``floor(test_fraction * n)`` rows for the test when that is fewer, and trains on the
rows before them. Inputs are the 8 low-level features or all 18 (``features: low | all``),
standardised with the mean and standard deviation of the training rows (``standardize``).

The model is the review's "TensorFlow" logistic regression: one linear layer trained by plain
minibatch gradient descent (torch, :mod:`mlreview.nn.training`) on the mean cross-entropy plus
``alpha * (1/2) * ||W||^2``, weights and bias starting at zero, the sigmoid applied once.
Because the objective is convex, its exact optimum (a Newton solver started at the
fitted weights, or in a scan at the optimum of the nearest alpha solved before:
:func:`mlreview.logistic.reference_optimum`, :func:`convergence`) tells how far one epoch got: the relative
objective gap is recorded and a fit whose gap exceeds ``convergence_tol`` is flagged
``converged: false``. Fig 23's bottom panel is scikit-learn's SGDClassifier on the same
objective. ROC curves and AUCs always come from the predicted probabilities
(:func:`mlreview.stats.roc`).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from mlreview.data.susy import LABEL, count_rows, feature_names, held_out_rows, load_susy, parquet_source, standardize
from mlreview.errors import MlreviewError
from mlreview.grids import lambda_keys, log_grid
from mlreview.io import load_npz, save_npz, to_jsonable
from mlreview.logistic import convergence_warnings, penalised_log_loss, reference_optimum, sgd_model
from mlreview.stats import accuracy_with_ci, rejection_at, roc
from mlreview.steps import step

log = logging.getLogger(__name__)


def split_rows(n_rows: int, params: Mapping) -> dict[str, tuple[int, int]]:
    """``{"train": (0, stop), "test": (start, n_rows)}``: the last test rows, the first training rows."""
    start, stop = held_out_rows(n_rows, params)
    n_train = min(int(params["train_rows"]), start)
    if n_train <= 0:
        raise MlreviewError(f"no SUSY training rows before the {stop - start} test rows of a {n_rows}-row file")
    return {"train": (0, n_train), "test": (start, stop)}


def load_sets(parquet: Path, features: str, params: Mapping) -> tuple[dict, dict]:
    """``({"train": (X, y), "test": (X, y)}, info)``: float32 inputs (standardised with the
    training rows' mean and standard deviation when ``params["standardize"]``), int8 labels."""
    names = list(feature_names(features))
    n_rows = count_rows(parquet)
    rows = split_rows(n_rows, params)
    sets = {}
    for name, (start, stop) in rows.items():
        frame = load_susy(parquet, columns=[LABEL, *names], rows=(start, stop))
        sets[name] = (frame[names].to_numpy(np.float32), frame[LABEL].to_numpy(np.int8))
    info = {"source": parquet_source(parquet), "rows": n_rows, "features": names,
            "split": {k: {"start": a, "stop": b, "n": b - a} for k, (a, b) in rows.items()},
            "standardize": bool(params["standardize"])}
    if params["standardize"]:
        sets, info["mean"], info["scale"] = standardize(sets)
    return sets, info


def classifier_metrics(y: np.ndarray, logit: np.ndarray, confidence: float, n_points: int) -> dict:
    """Accuracy (P >= 0.5 means signal) with its interval, AUC, the ROC on the efficiency grid,
    and the fractions of Fig 22: signal with P >= 0.5, background with P < 0.5.

    The ROC ranks events by their predicted probability through its logit (a monotone function
    of it): the ranking is the same, but strongly regularised or saturated models whose P rounds
    to exactly 0 or 1 in floating point do not produce artificial ties.
    """
    curve = roc(y, logit, n_points)
    high = logit >= 0.0  # P(signal) >= 0.5
    signal, background = y == 1, y == 0
    return {
        **accuracy_with_ci(y, high.astype(y.dtype), confidence),
        "auc": curve["auc"],
        "signal_high_fraction": float(np.mean(high[signal])),
        "background_low_fraction": float(np.mean(~high[background])),
        "roc": curve,
    }


def fit_torch(sets: Mapping, alpha: float, training: Mapping, threads: int, name: str) -> tuple[dict, list]:
    """Train the minibatch logistic regression; returns (w, b as numpy) and the epoch history."""
    import torch

    from mlreview.nn.models import LogisticRegression
    from mlreview.nn.training import as_tensor, make_optimizer, setup, train

    device = setup(threads, training["device"])
    X, y = sets["train"]
    torch.manual_seed(int(training["seed"]))
    model = LogisticRegression(X.shape[1]).to(device)
    optimizer = make_optimizer(model, "sgd", training["lr"], weight_decay=alpha)
    history = train(model, torch.nn.BCEWithLogitsLoss(), as_tensor(X, device=device),
                    as_tensor(y, device=device), optimizer=optimizer, epochs=int(training["epochs"]),
                    batch_size=int(training["batch_size"]), seed=int(training["seed"]), name=name)
    w = model.linear.weight.detach().cpu().numpy().ravel().astype(np.float64)
    b = float(model.linear.bias.detach().cpu())
    return {"coef": w, "intercept": b}, history


def logits(X: np.ndarray, coef: np.ndarray, intercept: float) -> np.ndarray:
    """The logit X w + b of P(signal) (as float64; the product is taken in the inputs' precision
    to avoid a float64 copy of millions of rows); P = sigmoid(logit) is applied once, by
    :func:`sigmoid`."""
    return (X @ np.asarray(coef, dtype=X.dtype)).astype(np.float64) + float(intercept)


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(z, dtype=np.float64)))


def convergence(sets: Mapping, alpha: float, coef, intercept, params: Mapping,
                optima: dict[float, dict] | None = None) -> dict:
    """Objective reached vs the exact optimum on the training rows.

    ``optima``: reference optima already solved on the same training rows, by alpha (a scan's). The
    optimum at an alpha solved before is reused; a new one starts from whichever of the fit being
    checked and the optimum at the nearest alpha solved before (in log alpha) has the lower
    objective - the optimum does not depend on the start (convex objective), only the number of
    Newton steps does. The new optimum is added to ``optima``.
    """
    X, y = sets["train"]
    reached = penalised_log_loss(coef, intercept, X, y, alpha)
    out = {"objective": reached}
    if params["reference_optimum"]:
        optima = {} if optima is None else optima
        if alpha in optima:
            ref, start = optima[alpha], "reused"
        else:
            # the solution being checked (a few Newton steps instead of a full solve), unless it is
            # worse than the zero model (objective log 2): from far out in the saturated region
            # Newton's method crawls, and a cold start is faster
            init, start, best = (None, "zero", math.log(2.0)) if reached >= math.log(2.0) else \
                ((coef, intercept), "fit", reached)
            if optima:
                near = optima[min(optima, key=lambda a: abs(math.log(a / alpha)))]
                if penalised_log_loss(near["coef"], near["intercept"], X, y, alpha) < best:
                    init, start = (near["coef"], near["intercept"]), f"optimum at alpha {near['alpha']:.3g}"
            ref = optima[alpha] = {**reference_optimum(X, y, alpha, params["reference"], init=init), "alpha": alpha}
        gap = (reached - ref["objective"]) / abs(ref["objective"])
        out.update({"objective_optimum": ref["objective"], "relative_gap": gap,
                    "optimum_n_iter": ref["n_iter"] if start != "reused" else 0,
                    "optimum_converged": ref["converged"], "optimum_start": start,
                    "optimum_warm_start": start != "zero",
                    "converged": bool(gap <= float(params["convergence_tol"]))})
    return out


def _evaluate(sets: Mapping, coef, intercept, params: Mapping) -> tuple[dict, dict[str, np.ndarray]]:
    """Metrics on the training and test sets, and the logits of each set."""
    out, z = {}, {}
    for name, (X, y) in sets.items():
        z[name] = logits(X, coef, intercept)
        out[name] = classifier_metrics(y, z[name], float(params["confidence"]), int(params["roc_points"]))
    return out, z


@step
def susy_logistic_fit(params: Mapping, *, parquet: Path, data: Path, threads: int = 1) -> dict:
    """Figs 22 and 25: one minibatch logistic regression (``features``, ``alpha``).

    Writes the test probabilities and labels (the histograms of Fig 22 and the ROC curves of
    Fig 25 are drawn from them) and returns the metrics.
    """
    sets, info = load_sets(parquet, params["features"], params)
    alpha = float(params["alpha"])
    start = time.perf_counter()
    fitted, history = fit_torch(sets, alpha, params["torch"], threads, f"susy-{params['features']}")
    seconds = time.perf_counter() - start
    scores, z = _evaluate(sets, fitted["coef"], fitted["intercept"], params)
    conv = convergence(sets, alpha, fitted["coef"], fitted["intercept"], params)
    if not conv.get("converged", True):
        log.warning("one pass did not reach the optimum: relative objective gap %.2e > %g",
                    conv["relative_gap"], params["convergence_tol"])
    test_y = sets["test"][1]
    save_npz(data, p_test=sigmoid(z["test"]).astype(np.float32), logit_test=z["test"], y_test=test_y, coef=fitted["coef"],
             intercept=fitted["intercept"], features=np.array(info["features"]),
             source=np.array(info["source"] or ""))
    metrics = {
        **info, "alpha": alpha, "n_train": len(sets["train"][1]), "n_test": len(test_y),
        "coef": dict(zip(info["features"], fitted["coef"])), "intercept": fitted["intercept"],
        "train": _without_curve(scores["train"]), "test": _without_curve(scores["test"]),
        "misclassified": {"signal": 1.0 - scores["test"]["signal_high_fraction"],
                          "background": 1.0 - scores["test"]["background_low_fraction"]},
        "convergence": {**conv, "epochs": len(history), "steps_per_epoch": _steps(len(sets["train"][1]), params),
                        "history": history},
        "fit_seconds": seconds,
    }
    metrics["c32"] = c32_quantities(metrics)
    return to_jsonable(metrics)


def _steps(n: int, params: Mapping) -> int:
    return -(-n // int(params["torch"]["batch_size"]))


def _without_curve(scores: Mapping) -> dict:
    return {k: v for k, v in scores.items() if k != "roc"}


def c32_quantities(metrics: Mapping) -> dict:
    """C32 proxy: both correct fractions > 0.5 and both misclassified fractions > 0.05."""
    test = metrics["test"]
    correct = min(test["signal_high_fraction"], test["background_low_fraction"])
    wrong = min(metrics["misclassified"]["signal"], metrics["misclassified"]["background"])
    return {"min_correct_fraction": correct, "min_misclassified_fraction": wrong,
            "holds": bool(correct > 0.5 and wrong > 0.05)}


@step
def susy_logistic_scan(params: Mapping, *, parquet: Path, data: Path, threads: int = 1) -> dict:
    """Fig 23: ROC curves over alpha, minibatch model (top) and scikit-learn SGD (bottom)."""
    sets, info = load_sets(parquet, params["features"], params)
    arrays: dict[str, np.ndarray] = {"source": np.array(info["source"] or "")}
    metrics: dict = {**info, "n_train": len(sets["train"][1]), "n_test": len(sets["test"][1])}
    optima: dict[float, dict] = {}  # the reference optimum at each alpha, shared by both panels
    for panel in ("torch", "sgd"):
        alphas = log_grid(params["alphas"][panel])
        keys = lambda_keys(alphas)
        per_alpha, curves, table = {}, [], []
        for alpha, key in zip(alphas, keys):
            start = time.perf_counter()
            if panel == "torch":
                fitted, history = fit_torch(sets, alpha, params["torch"], threads, f"susy-{key}")
                fit_info = {"epochs": len(history), "history": history}
            else:
                with convergence_warnings() as caught:
                    model = sgd_model(alpha, params["sgd"]).fit(*sets["train"])
                fitted = {"coef": model.coef_.ravel(), "intercept": float(model.intercept_[0])}
                fit_info = {"epochs": int(model.n_iter_), "convergence_warning": bool(caught)}
            seconds = time.perf_counter() - start
            scores, _ = _evaluate(sets, fitted["coef"], fitted["intercept"], params)
            conv = convergence(sets, alpha, fitted["coef"], fitted["intercept"], params, optima)
            curves.append(scores["test"]["roc"]["rejection"])
            table.append([scores["train"]["auc"], scores["test"]["auc"], scores["test"]["accuracy"]])
            per_alpha[key] = {"alpha": alpha, "train_auc": scores["train"]["auc"], "test_auc": scores["test"]["auc"],
                              "test": _without_curve(scores["test"]), "train": _without_curve(scores["train"]),
                              "convergence": {**conv, **fit_info}, "fit_seconds": seconds}
            log.info("%s alpha %.3g: train AUC %.4f, test AUC %.4f (%.1f s)", panel, alpha,
                     scores["train"]["auc"], scores["test"]["auc"], seconds)
        table = np.array(table)
        arrays.update({f"{panel}_alphas": alphas, f"{panel}_rejection": np.array(curves),
                       f"{panel}_train_auc": table[:, 0], f"{panel}_test_auc": table[:, 1],
                       f"{panel}_test_accuracy": table[:, 2]})
        metrics[panel] = {"alphas": alphas, **per_alpha,
                          "n_not_converged": sum(not v["convergence"].get("converged", True)
                                                 for v in per_alpha.values())}
    arrays["efficiency"] = np.linspace(0.0, 1.0, int(params["roc_points"]))
    save_npz(data, **arrays)
    metrics["c33"] = c33_quantities(arrays, float(params["chance_margin"]))
    return to_jsonable(metrics)


def c33_quantities(arrays: Mapping, chance_margin: float) -> dict:
    """C33 proxy: the largest training-minus-test AUC over the alphas at which a panel's model
    beats chance (test AUC > 0.5 + ``chance_margin``), per panel and over both."""
    out = {}
    for panel in ("torch", "sgd"):
        useful = arrays[f"{panel}_test_auc"] > 0.5 + chance_margin
        gap = (arrays[f"{panel}_train_auc"] - arrays[f"{panel}_test_auc"])[useful]
        out[panel] = {"max_train_minus_test_auc": float(gap.max()) if gap.size else None,
                      "n_better_than_chance": int(useful.sum()), "n_alphas": int(useful.size)}
    gaps = [v["max_train_minus_test_auc"] for v in out.values() if v["max_train_minus_test_auc"] is not None]
    out["max_train_minus_test_auc"] = max(gaps) if gaps else None
    return out


@step
def susy_logistic_ablation(params: Mapping, *, parquet: Path, threads: int = 1) -> dict:
    """C34 (optional proxy): the test-AUC loss of the minibatch model when one feature is dropped."""
    sets, info = load_sets(parquet, params["features"], params)
    alpha = float(params["alpha"])
    names = info["features"]

    def test_auc(columns: list[int], label: str) -> float:
        subset = {k: (X[:, columns], y) for k, (X, y) in sets.items()}
        fitted, _ = fit_torch(subset, alpha, params["torch"], threads, label)
        return roc(subset["test"][1], logits(subset["test"][0], fitted["coef"], fitted["intercept"]), 2)["auc"]

    everything = list(range(len(names)))
    full = test_auc(everything, "susy-all-features")
    loss = {}
    for i, name in enumerate(names):
        loss[name] = full - test_auc([j for j in everything if j != i], f"susy-without-{name}")
        log.info("without %s: AUC loss %.5f", name, loss[name])
    ranked = sorted(loss, key=loss.get, reverse=True)
    return to_jsonable({**info, "alpha": alpha, "test_auc_all": full, "auc_loss": loss, "ranking": ranked,
                        "c34": {"max_auc_loss": loss[ranked[0]], "most_important": ranked[0],
                                "min_auc_loss": loss[ranked[-1]], "least_important": ranked[-1],
                                "n_features_losing_auc": int(sum(v > 0 for v in loss.values()))}})


@step
def fig25_roc(params: Mapping, *, parquet: Path, low: Path, all_features: Path, data: Path) -> dict:
    """Fig 25: ROC of the 8- and 18-feature models and of a cut on one variable (the leading
    lepton pT), all on the same test rows."""
    fits = {"low": load_npz(low), "all": load_npz(all_features)}
    n_rows = count_rows(parquet)
    start, stop = split_rows(n_rows, params)["test"]
    cut = params["cut_feature"]
    frame = load_susy(parquet, columns=[LABEL, cut], rows=(start, stop))
    y = frame[LABEL].to_numpy(np.int8)
    for name, fit in fits.items():
        if not np.array_equal(fit["y_test"], y):
            raise MlreviewError(f"the {name!r} fit was made on other test rows; rerun it with the same split")
    scores = {"low": fits["low"]["logit_test"], "all": fits["all"]["logit_test"], "cut": frame[cut].to_numpy()}
    n_points = int(params["roc_points"])
    curves = {name: roc(y, s, n_points) for name, s in scores.items()}
    arrays = {f"{name}_rejection": c["rejection"] for name, c in curves.items()}
    arrays.update({f"{name}_auc": c["auc"] for name, c in curves.items()})
    save_npz(data, efficiency=curves["low"]["efficiency"], **arrays, source=np.array(parquet_source(parquet) or ""))
    per = {name: {"auc": c["auc"], "rejection": rejection_at(c, params["efficiencies"])} for name, c in curves.items()}
    auc = {name: v["auc"] for name, v in per.items()}
    return to_jsonable({
        "source": parquet_source(parquet), "n_test": len(y), "cut_feature": cut, **per,
        "c37": {"lr_low_minus_cut": auc["low"] - auc["cut"], "lr_all_minus_cut": auc["all"] - auc["cut"],
                "holds": bool(auc["low"] > auc["cut"] and auc["all"] > auc["cut"])},
        "c38": {"all_minus_low": auc["all"] - auc["low"], "holds": bool(auc["all"] > auc["low"])},
    })
