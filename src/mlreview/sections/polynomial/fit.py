"""Polynomial regression of Section II (Figs 1-3): fitting versus predicting.

Data: ``y = f(x) + eta`` with ``f`` a polynomial given by its coefficients in increasing
powers of ``x``, ``eta ~ N(0, sigma^2)``, training ``x`` uniform on ``train_range`` and test
``x`` uniform on ``test_range``. Models: ordinary least squares on the features
``x, x^2, ..., x^d`` (scikit-learn ``PolynomialFeatures(include_bias=False)`` followed by
``LinearRegression``, which centres the columns and the target for the intercept and solves
with a minimum-norm least-squares solver, so the underdetermined degree-10 fit to 10 points
is well defined), in float64.

Randomness. ``numpy.random.SeedSequence(seed).spawn(1 + R)`` gives one independent child
generator per realisation: child 0 draws the displayed realisation (the one plotted), child
``r`` draws repetition ``r`` (r = 1..R). Children are indexed, so repetition ``r`` is the same
draw whatever R is (a smaller R in ``config/small.yaml`` uses a prefix of the same
repetitions). Within one realisation the generator draws, in this order, ``x_train``,
``x_test``, the training noise and the test noise; the noise has one independent column per
generating function, the ``x`` values are shared by all generating functions (so the rows of
Figs 1 and 2 differ only in ``f`` and the noise). The noise is drawn even when ``sigma = 0``,
so the streams do not depend on ``sigma``.

Ties. Ranking the model classes by an error ("lowest", "highest") treats two values as equal
when they differ by at most ``absolute + relative * |extreme|`` (``tie_tolerance`` in the
config): noiseless fits reach MSEs of ~1e-31 that differ only by rounding, and every class
within the tolerance of the extreme counts as lowest (or highest). Fractions of several
classes can then add up to more than 1.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from numpy.polynomial import polynomial as npoly
from scipy.stats import binom
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import PolynomialFeatures

from mlreview.io import Contract, save_npz
from mlreview.steps import step

#: Error kinds computed for every realisation: training MSE, test MSE, test MSE restricted to
#: test points beyond the training range (x > max train_range) and within it (x <= max).
ERROR_KINDS = ("e_in", "e_out", "e_out_beyond", "e_out_within")

#: Confidence level of the order-statistic interval reported for the median x_break.
MEDIAN_CONFIDENCE = 0.95


def deg_key(degree: int) -> str:
    """Metrics key of a model class (``deg10``)."""
    return f"deg{int(degree)}"


def x_key(x: float) -> str:
    """Metrics key of an evaluation point (``x_1.2``)."""
    return f"x_{float(x)!r}"


def true_function(coefficients: Sequence[float], x) -> np.ndarray:
    """f(x) = sum_k c_k x^k, coefficients in increasing powers of x."""
    return npoly.polyval(np.asarray(x, dtype=np.float64), np.asarray(coefficients, dtype=np.float64))


def realisation_generators(seed: int, repetitions: int) -> list[np.random.Generator]:
    """Generators for the displayed realisation (index 0) and the R repetitions (1..R)."""
    if repetitions < 0:
        raise ValueError(f"repetitions must be >= 0, got {repetitions}")
    children = np.random.SeedSequence(seed).spawn(1 + repetitions)
    return [np.random.default_rng(child) for child in children]


def draw_realisation(
    rng: np.random.Generator,
    functions: Mapping[str, Sequence[float]],
    *,
    n_train: int,
    n_test: int,
    sigma: float,
    train_range: Sequence[float],
    test_range: Sequence[float],
) -> dict[str, np.ndarray]:
    """One training and test set for every generating function (shared x, own noise).

    Returns ``x_train`` (n_train,), ``x_test`` (n_test,), ``y_train`` (n_train, F) and
    ``y_test`` (n_test, F), with F = len(functions) in the order of ``functions``.
    """
    if sigma < 0:
        raise ValueError(f"sigma must be >= 0, got {sigma}")
    n_func = len(functions)
    x_train = rng.uniform(train_range[0], train_range[1], size=n_train)
    x_test = rng.uniform(test_range[0], test_range[1], size=n_test)
    noise_train = sigma * rng.standard_normal((n_train, n_func))
    noise_test = sigma * rng.standard_normal((n_test, n_func))
    f_train = np.column_stack([true_function(c, x_train) for c in functions.values()])
    f_test = np.column_stack([true_function(c, x_test) for c in functions.values()])
    return {
        "x_train": x_train,
        "x_test": x_test,
        "y_train": f_train + noise_train,
        "y_test": f_test + noise_test,
    }


def fit_degree(x: np.ndarray, y: np.ndarray, degree: int) -> Pipeline:
    """Least-squares polynomial fit of ``degree`` (``y`` may hold one column per function)."""
    model = make_pipeline(PolynomialFeatures(degree=int(degree), include_bias=False), LinearRegression())
    return model.fit(np.asarray(x, dtype=np.float64).reshape(-1, 1), np.asarray(y, dtype=np.float64))


def predict(model: Pipeline, x) -> np.ndarray:
    """Predictions at ``x``, always 2-D (n_points, n_functions)."""
    pred = model.predict(np.asarray(x, dtype=np.float64).reshape(-1, 1))
    return pred.reshape(len(np.atleast_1d(x)), -1)


def mse(pred: np.ndarray, target: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Mean squared error per column; NaN where ``mask`` selects no row."""
    pred = np.asarray(pred, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    if pred.shape != target.shape:
        raise ValueError(f"shape mismatch: {pred.shape} vs {target.shape}")
    if mask is not None:
        pred, target = pred[mask], target[mask]
    if pred.shape[0] == 0:
        return np.full(pred.shape[1:], np.nan)
    return np.mean((pred - target) ** 2, axis=0)


def realisation_errors(
    data: Mapping[str, np.ndarray], degrees: Sequence[int], train_max: float
) -> tuple[dict[str, np.ndarray], dict[int, Pipeline]]:
    """Errors of every degree on one realisation, and the fitted models.

    Each error array has shape (len(degrees), F). ``train_max`` splits the test points into
    "within" (x <= train_max) and "beyond" (x > train_max) the training range.
    """
    beyond = data["x_test"] > train_max
    errors = {kind: [] for kind in ERROR_KINDS}
    models = {}
    for degree in degrees:
        model = fit_degree(data["x_train"], data["y_train"], degree)
        models[int(degree)] = model
        pred_train = predict(model, data["x_train"])
        pred_test = predict(model, data["x_test"])
        errors["e_in"].append(mse(pred_train, data["y_train"]))
        errors["e_out"].append(mse(pred_test, data["y_test"]))
        errors["e_out_beyond"].append(mse(pred_test, data["y_test"], beyond))
        errors["e_out_within"].append(mse(pred_test, data["y_test"], ~beyond))
    return {kind: np.array(values) for kind, values in errors.items()}, models


def extreme_mask(values: np.ndarray, which: str, absolute: float, relative: float) -> np.ndarray:
    """Boolean mask of the entries that are lowest (or highest) along the last axis, ties included.

    A value is tied with the extreme ``v*`` when ``|v - v*| <= absolute + relative * |v*|``.
    Rows with a NaN get an all-False mask.
    """
    values = np.asarray(values, dtype=np.float64)
    if which not in ("lowest", "highest"):
        raise ValueError(f"which must be 'lowest' or 'highest', got {which!r}")
    finite = np.all(np.isfinite(values), axis=-1, keepdims=True)
    safe = np.where(finite, values, 0.0)
    extreme = safe.min(axis=-1, keepdims=True) if which == "lowest" else safe.max(axis=-1, keepdims=True)
    tol = absolute + relative * np.abs(extreme)
    return (np.abs(safe - extreme) <= tol) & finite


def extreme_fractions(values: np.ndarray, which: str, absolute: float, relative: float) -> np.ndarray:
    """Fraction of rows (repetitions) in which each column is the lowest/highest (ties count).

    ``values`` has shape (R, n_classes); rows containing NaN are left out of the fraction.
    Returns NaN for every class when no row is usable.
    """
    values = np.asarray(values, dtype=np.float64)
    valid = np.all(np.isfinite(values), axis=-1)
    if not valid.any():
        return np.full(values.shape[-1], np.nan)
    mask = extreme_mask(values[valid], which, absolute, relative)
    return mask.mean(axis=0)


def x_break(x_grid: np.ndarray, abs_error: np.ndarray, threshold: float) -> float:
    """Smallest grid x at which ``abs_error`` exceeds ``threshold`` (NaN if it never does)."""
    above = np.flatnonzero(np.asarray(abs_error) > threshold)
    return float(x_grid[above[0]]) if above.size else float("nan")


def extrapolation_grid(start: float, stop: float, step: float) -> np.ndarray:
    """Evenly spaced grid from ``start`` to ``stop`` (both included) with spacing ``step``."""
    n = int(round((stop - start) / step)) + 1
    return np.linspace(start, stop, n)


def extrapolation_errors(
    model: Pipeline,
    functions: Mapping[str, Sequence[float]],
    extrapolation: Mapping,
    sigma: float,
    train_range: Sequence[float],
) -> dict[str, np.ndarray]:
    """Extrapolation statistics of one fitted (multi-output) model, one entry per function.

    ``x_break`` (F,), ``error_at`` (len(error_at), F): |f_hat - f| at the requested points,
    ``max_error_train_range`` (F,): max |f_hat - f| on ``train_range`` (grid with the same step).
    """
    step = float(extrapolation["step"])
    grid = extrapolation_grid(float(extrapolation["start"]), float(extrapolation["stop"]), step)
    inside = extrapolation_grid(float(train_range[0]), float(train_range[1]), step)
    at = np.asarray(extrapolation["error_at"], dtype=np.float64)
    coeffs = list(functions.values())
    err_grid = np.abs(predict(model, grid) - np.column_stack([true_function(c, grid) for c in coeffs]))
    err_inside = np.abs(predict(model, inside) - np.column_stack([true_function(c, inside) for c in coeffs]))
    err_at = np.abs(predict(model, at) - np.column_stack([true_function(c, at) for c in coeffs]))
    return {
        "x_break": np.array([x_break(grid, err_grid[:, j], sigma) for j in range(len(coeffs))]),
        "error_at": err_at,
        "max_error_train_range": err_inside.max(axis=0),
        "grid": grid,
        "error_grid": err_grid,
    }


def median_interval(values, confidence: float = 0.95) -> tuple[float, float]:
    """Distribution-free confidence interval of the median from order statistics.

    The interval [x_(j), x_(R+1-j)] (1-based order statistics) with the largest j such that
    P(Binomial(R, 1/2) < j) <= (1 - confidence) / 2; NaN when R is too small.
    """
    x = np.sort(np.asarray(values, dtype=np.float64))
    n = x.size
    if n == 0:
        return float("nan"), float("nan")
    j = int(binom.ppf((1.0 - confidence) / 2.0, n, 0.5))  # P(B <= j) >= alpha/2
    if binom.cdf(j, n, 0.5) > (1.0 - confidence) / 2.0:
        j -= 1  # now P(B <= j) <= alpha/2, so [x_(j+1), x_(n-j)] covers >= confidence
    if j < 0:
        return float("nan"), float("nan")
    return float(x[j]), float(x[n - 1 - j])


def _nan_stat(func, values, axis=0):
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0 or not np.isfinite(values).any():
        return np.full(np.delete(values.shape, axis), np.nan) if values.ndim > 1 else float("nan")
    return func(values, axis=axis)


def repetition_summary(
    errors: Mapping[str, np.ndarray],
    names: Sequence[str],
    degrees: Sequence[int],
    absolute: float,
    relative: float,
) -> dict:
    """Statistics over repetitions; ``errors[kind]`` has shape (R, n_degrees, F)."""
    dkeys = [deg_key(d) for d in degrees]
    out: dict = {}
    masks: dict[tuple[str, str], np.ndarray] = {}
    for kind in ERROR_KINDS:
        per = np.asarray(errors[kind])
        for which in ("lowest", "highest"):
            key = f"{which}_{kind}"
            out[key] = {}
            for j, name in enumerate(names):
                frac = extreme_fractions(per[:, :, j], which, absolute, relative)
                out[key][name] = dict(zip(dkeys, frac.tolist()))
                masks[(key, name)] = extreme_mask(per[:, :, j], which, absolute, relative)
        out[f"median_{kind}"] = {
            name: dict(zip(dkeys, np.atleast_1d(_nan_stat(np.nanmedian, per[:, :, j])).tolist()))
            for j, name in enumerate(names)
        }
    for kind in ("e_in", "e_out"):
        per = np.asarray(errors[kind])
        out[f"max_{kind}"] = {name: dict(zip(dkeys, per[:, :, j].max(axis=0).tolist())) for j, name in enumerate(names)}
    both = np.maximum(np.asarray(errors["e_in"]), np.asarray(errors["e_out"]))
    out["max_mse"] = {name: dict(zip(dkeys, both[:, :, j].max(axis=0).tolist())) for j, name in enumerate(names)}
    # Best fit and best prediction in the same repetition (lowest E_in and lowest E_out).
    for suffix, kind in (("", "e_out"), ("_within", "e_out_within")):
        out[f"best_in_and_out{suffix}"] = {
            name: dict(
                zip(dkeys, (masks[("lowest_e_in", name)] & masks[(f"lowest_{kind}", name)]).mean(axis=0).tolist())
            )
            for name in names
        }
    # Median ratio of E_out between every pair of degrees (higher over lower).
    e_out = np.asarray(errors["e_out"])
    ratios: dict = {}
    for j, name in enumerate(names):
        ratios[name] = {}
        for hi in range(len(degrees)):
            for lo in range(hi):
                with np.errstate(divide="ignore", invalid="ignore"):
                    ratio = e_out[:, hi, j] / e_out[:, lo, j]
                ratios[name][f"{dkeys[hi]}_over_{dkeys[lo]}"] = float(np.median(ratio))
    out["median_e_out_ratio"] = ratios
    out["n_with_beyond"] = int(np.all(np.isfinite(np.asarray(errors["e_out_beyond"])), axis=(1, 2)).sum())
    # The smallest fraction over the generating functions (a claim holding "for both").
    out["min_over_functions"] = {
        key: {d: min(out[key][name][d] for name in names) for d in dkeys}
        for key in ("lowest_e_in", "highest_e_in", "lowest_e_out", "highest_e_out", "highest_e_out_beyond")
    }
    return out


def _errors_by_function(errors: np.ndarray, names, degrees) -> dict:
    return {name: {deg_key(d): errors[i, j] for i, d in enumerate(degrees)} for j, name in enumerate(names)}


@step
def polynomial_fit(params: dict, *, data: Path) -> dict:
    """Displayed realisation + R repetitions of one polynomial figure; writes ``data`` (.npz).

    Metrics (F = generating function name, D = ``deg1``/``deg3``/``deg10``):

    - displayed realisation: ``e_in/F/D``, ``e_out/F/D``, ``e_out_beyond/F/D`` (test x > 1),
      ``e_out_within/F/D`` (test x <= 1), ``n_test_beyond``;
    - over the R repetitions, ``repeated/...``: ``lowest_<kind>/F/D`` and ``highest_<kind>/F/D``
      (fractions, ties counted) and ``median_<kind>/F/D`` for every kind above; ``max_e_in``,
      ``max_e_out``, ``max_mse`` (max of both); ``best_in_and_out/F/D`` and
      ``best_in_and_out_within/F/D`` (lowest E_in and lowest E_out in the same repetition);
      ``median_e_out_ratio/F/deg10_over_deg3`` (every pair); ``min_over_functions/<stat>/D``;
      ``n_with_beyond`` (repetitions with a test point beyond x = 1);
    - with ``extrapolation`` (Fig 3), ``extrapolation/F/...``: ``x_break`` (displayed),
      ``x_break_median`` with its 95% order-statistic interval, quartiles, min, max and
      ``x_break_not_found``; ``error_at/x_1.2`` and ``error_at_median/x_1.2``;
      ``max_error_train_range`` (+ ``_median``); ``ratio_to_max_train_range`` (+ ``_median``).
    """
    functions: dict[str, list[float]] = dict(params["functions"])
    names = list(functions)
    degrees = [int(d) for d in params["degrees"]]
    sigma = float(params["sigma"])
    n_train, n_test = int(params["n_train"]), int(params["n_test"])
    repetitions = int(params["repetitions"])
    train_range = [float(v) for v in params["train_range"]]
    test_range = [float(v) for v in params["test_range"]]
    tie = params["tie_tolerance"]
    absolute, relative = float(tie["absolute"]), float(tie["relative"])
    extrapolation = params.get("extrapolation")
    if extrapolation is not None and int(extrapolation["degree"]) not in degrees:
        raise ValueError(f"extrapolation degree {extrapolation['degree']} is not one of the degrees {degrees}")
    draw = dict(n_train=n_train, n_test=n_test, sigma=sigma, train_range=train_range, test_range=test_range)

    generators = realisation_generators(int(params["seed"]), repetitions)
    per_rep = {kind: [] for kind in ERROR_KINDS}
    ext_rep = {"x_break": [], "error_at": [], "max_error_train_range": []}
    shown = shown_err = shown_models = shown_ext = None
    for index, rng in enumerate(generators):
        realisation = draw_realisation(rng, functions, **draw)
        errs, models = realisation_errors(realisation, degrees, train_range[1])
        ext = None
        if extrapolation is not None:
            ext = extrapolation_errors(
                models[int(extrapolation["degree"])], functions, extrapolation, sigma, train_range
            )
        if index == 0:
            shown, shown_err, shown_models, shown_ext = realisation, errs, models, ext
            continue
        for kind in ERROR_KINDS:
            per_rep[kind].append(errs[kind])
        if ext is not None:
            for key in ext_rep:
                ext_rep[key].append(ext[key])

    metrics: dict = {
        "figure": params.get("figure"),
        "sigma": sigma,
        "n_train": n_train,
        "n_test": n_test,
        "repetitions": repetitions,
        "seed": int(params["seed"]),
        "n_test_beyond": int(np.sum(shown["x_test"] > train_range[1])),
    }
    for kind in ERROR_KINDS:
        metrics[kind] = _errors_by_function(shown_err[kind], names, degrees)
    if repetitions > 0:
        stacked = {kind: np.stack(per_rep[kind]) for kind in ERROR_KINDS}
        metrics["repeated"] = repetition_summary(stacked, names, degrees, absolute, relative)
    else:
        stacked = {kind: np.empty((0, len(degrees), len(names))) for kind in ERROR_KINDS}

    # Curves for the plot: fits on the training range, predictions on the test range.
    x_fit = np.linspace(*train_range, int(params["curve_points"]))
    x_pred = np.linspace(*test_range, int(params["curve_points"]))
    arrays: dict[str, np.ndarray] = {
        "functions": np.array(names),
        "degrees": np.array(degrees),
        "sigma": np.float64(sigma),
        "train_range": np.array(train_range),
        "test_range": np.array(test_range),
        "x_train": shown["x_train"],
        "x_test": shown["x_test"],
        "x_fit": x_fit,
        "x_pred": x_pred,
    }
    for kind in ERROR_KINDS:
        arrays[f"rep_{kind}"] = stacked[kind]
    for j, name in enumerate(names):
        arrays[f"y_train_{name}"] = shown["y_train"][:, j]
        arrays[f"y_test_{name}"] = shown["y_test"][:, j]
        arrays[f"true_fit_{name}"] = true_function(functions[name], x_fit)
        arrays[f"true_pred_{name}"] = true_function(functions[name], x_pred)
        for d in degrees:
            arrays[f"fit_{name}_{deg_key(d)}"] = predict(shown_models[d], x_fit)[:, j]
            arrays[f"pred_{name}_{deg_key(d)}"] = predict(shown_models[d], x_pred)[:, j]

    if extrapolation is not None:
        metrics["extrapolation"] = _extrapolation_metrics(shown_ext, ext_rep, names, extrapolation, sigma)
        arrays["extrapolation_grid"] = shown_ext["grid"]
        arrays["extrapolation_degree"] = np.int64(extrapolation["degree"])
        for j, name in enumerate(names):
            arrays[f"x_break_{name}"] = np.float64(shown_ext["x_break"][j])
            arrays[f"extrapolation_error_{name}"] = shown_ext["error_grid"][:, j]
            arrays[f"rep_x_break_{name}"] = np.array([row[j] for row in ext_rep["x_break"]])
    save_npz(data, contract=curves_contract(arrays), **arrays)
    return metrics


def _extrapolation_metrics(shown: dict, reps: dict, names, extrapolation: Mapping, sigma: float) -> dict:
    at = [float(v) for v in extrapolation["error_at"]]
    out: dict = {"degree": int(extrapolation["degree"]), "threshold": sigma}
    xb = np.array(reps["x_break"]).reshape(-1, len(names))
    err_at = np.array(reps["error_at"]).reshape(-1, len(at), len(names))
    max_in = np.array(reps["max_error_train_range"]).reshape(-1, len(names))
    for j, name in enumerate(names):
        found = xb[:, j][np.isfinite(xb[:, j])]
        ci_low, ci_high = median_interval(found, MEDIAN_CONFIDENCE)
        entry = {
            "x_break": shown["x_break"][j],
            "x_break_median": float(np.median(found)) if found.size else float("nan"),
            "x_break_median_ci_low": ci_low,
            "x_break_median_ci_high": ci_high,
            "x_break_q25": float(np.percentile(found, 25)) if found.size else float("nan"),
            "x_break_q75": float(np.percentile(found, 75)) if found.size else float("nan"),
            "x_break_min": float(found.min()) if found.size else float("nan"),
            "x_break_max": float(found.max()) if found.size else float("nan"),
            "x_break_not_found": int(xb.shape[0] - found.size),
            "max_error_train_range": shown["max_error_train_range"][j],
            "max_error_train_range_median": _nan_stat(np.median, max_in[:, j]),
            "error_at": {x_key(x): shown["error_at"][k, j] for k, x in enumerate(at)},
            "error_at_median": {x_key(x): _nan_stat(np.median, err_at[:, k, j]) for k, x in enumerate(at)},
            "ratio_to_max_train_range": {
                x_key(x): shown["error_at"][k, j] / shown["max_error_train_range"][j] for k, x in enumerate(at)
            },
            "ratio_to_max_train_range_median": {
                x_key(x): _nan_stat(np.median, err_at[:, k, j] / max_in[:, j]) for k, x in enumerate(at)
            },
        }
        out[name] = entry
    return out


def curves_contract(arrays: Mapping[str, np.ndarray]) -> Contract:
    """What the figure file must hold together: the training and test points of every function,
    its fits and predictions on the two curve grids, the repeated errors per degree and function."""
    dims = {"x_train": ("n_train",), "x_test": ("n_test",), "x_fit": ("curve",), "x_pred": ("curve",),
            "functions": ("functions",), "degrees": ("degrees",)}
    grids = {"y_train": ("n_train",), "y_test": ("n_test",), "true_fit": ("curve",), "true_pred": ("curve",),
             "fit": ("curve",), "pred": ("curve",)}
    for key in arrays:
        prefix = next((p for p in sorted(grids, key=len, reverse=True) if key.startswith(f"{p}_")), None)
        if prefix is not None:
            dims[key] = grids[prefix]
        elif key.startswith("rep_") and key != "rep_x_break" and not key.startswith("rep_x_break_"):
            dims[key] = ("repetitions", "degrees", "functions")
    return Contract(dims=dims)
