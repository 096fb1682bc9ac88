"""OLS, Ridge and LASSO learning the couplings of the 1D Ising chain (Figs 16, 17; C18, C20-C26).

Data (spec 2.2): random chains of L spins with energies E = -J sum_j s_j s_{j+1} (periodic), read
with :func:`mlreview.data.ising.load_ising1d`. The features are the L^2 pair products s_j s_k
(:func:`mlreview.ising.chain1d.pair_features`), so a linear model's coefficients reshape to an
L x L coupling matrix J_jk with H_model = sum_jk J_jk s_j s_k. Training = the first ``n_train``
states, test = the next ``n_test``.

Models (scikit-learn, intercept fitted):

* OLS: ``LinearRegression`` - the minimum-norm least-squares solution (LAPACK gelsd on the
  centred data). With 400 states and 1600 features (781 distinct ones: the L(L-1)/2 products
  s_j s_k = s_k s_j plus the constant s_j^2 = 1) the problem is underdetermined. OLS has no
  lambda; it is fitted once and its R^2 repeated on every grid;
* Ridge: ``Ridge(alpha=lam)``, cost ||y - Xw||^2 + lam ||w||^2;
* LASSO: ``Lasso(alpha=lam, max_iter, tol)`` (params ``lasso``), cost
  (1/(2n)) ||y - Xw||^2 + lam ||w||_1. On the figure grid and at the coupling lambdas every fit
  starts from zero, as in the notebook (the "gauge" LASSO picks between the identical features
  s_j s_k and s_k s_j depends on the starting point, so the coupling matrices come from
  independent fits). On the 101-point metric grid, which only serves lambda_half, LASSO is fitted
  from the largest lambda to the smallest with ``warm_start=True``: this changes only the starting
  point of coordinate descent, not the convex problem, and makes the small-lambda fits converge in
  a fraction of the time. Convergence warnings are counted.

For the diagnosis of C22 the LASSO figure grid is also fitted once with scikit-learn's default
``max_iter`` and ``tol`` (the authors' notebook), cold-started, as the notebook did.

Coupling metrics (spec Fig 17), for an L x L matrix J and the bonds b = (j, j+1 mod L):

* ``J_nn``: the mean of the 2L nearest-neighbour entries J_{j,j+1} and J_{j+1,j};
* ``nn_fraction``: sum of |J| over those entries / sum of |J| over all entries;
* ``asymmetry``: A = mean over the bulk bonds j = 0..L-2 of
  |J_{j,j+1} - J_{j+1,j}| / (|J_{j,j+1}| + |J_{j+1,j}|) (0: equal split, 1: all on one entry);
  bonds whose two entries are both zero have no A and are left out (``n_bonds_with_asymmetry``);
* ``asymmetry_boundary``: the same index for the periodic-boundary bond (J_{L-1,0}, J_{0,L-1}).

Optional check of C24 (``check_n_train``, null to skip): OLS and Ridge refitted on the first
``check_n_train`` states, more than the 781 distinct features, where the minimum-norm solution
should split the generating -J equally, J_nn = -J/2.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
from sklearn.linear_model import Lasso, LinearRegression, Ridge

from mlreview.data.ising import load_ising1d
from mlreview.grids import lambda_key, lambda_keys, log_grid
from mlreview.io import load_json, save_npz, to_jsonable
from mlreview.ising.chain1d import pair_features
from mlreview.sections.linear_regression.paths import fit_path, lambda_half, r2
from mlreview.steps import step

MODELS = ("ols", "ridge", "lasso")
REGULARISED = ("ridge", "lasso")


# ----------------------------------------------------------------------------- coupling metrics


def nn_mask(length: int) -> np.ndarray:
    """Boolean L x L mask of the nearest-neighbour entries (|j - k| = 1 mod L)."""
    j = np.arange(int(length))
    mask = np.zeros((length, length), dtype=bool)
    mask[j, (j + 1) % length] = True
    mask[(j + 1) % length, j] = True
    return mask


def bond_asymmetry(forward, backward) -> np.ndarray:
    """|f - b| / (|f| + |b|) per bond; NaN where both entries are zero."""
    f, b = np.asarray(forward, np.float64), np.asarray(backward, np.float64)
    den = np.abs(f) + np.abs(b)
    out = np.full(den.shape, np.nan)
    np.divide(np.abs(f - b), den, out=out, where=den > 0)
    return out


def coupling_metrics(J) -> dict:
    """The Fig 17 metrics of one coupling matrix (see the module docstring).

    Values that are undefined (an all-zero matrix, a bond with two zero entries) are ``None``.
    """
    J = np.asarray(J, dtype=np.float64)
    if J.ndim != 2 or J.shape[0] != J.shape[1] or J.shape[0] < 3:
        raise ValueError(f"J must be a square matrix of side >= 3, got shape {J.shape}")
    length = J.shape[0]
    j = np.arange(length)
    forward, backward = J[j, (j + 1) % length], J[(j + 1) % length, j]
    total = float(np.abs(J).sum())
    nn = float(np.abs(J[nn_mask(length)]).sum())
    a = bond_asymmetry(forward, backward)
    bulk = a[:-1][np.isfinite(a[:-1])]
    return {
        "J_nn": float(np.mean(np.concatenate([forward, backward]))),
        "J_forward_mean": float(forward.mean()),
        "J_backward_mean": float(backward.mean()),
        "bond_sum_mean": float(np.mean(forward + backward)),
        "nn_fraction": nn / total if total > 0 else None,
        "asymmetry": float(bulk.mean()) if bulk.size else None,
        "n_bonds_with_asymmetry": int(bulk.size),
        "asymmetry_boundary": float(a[-1]) if np.isfinite(a[-1]) else None,
        "boundary_forward": float(forward[-1]),
        "boundary_backward": float(backward[-1]),
        "max_abs_non_nn": float(np.abs(J[~nn_mask(length)]).max()),
    }


# ----------------------------------------------------------------------------- fitting


def _lasso_factory(lasso: Mapping, warm_start: bool) -> Callable[[float], Lasso]:
    """lam -> Lasso; with ``warm_start`` one estimator is reused so each fit starts from the last."""
    settings = {"max_iter": int(lasso["max_iter"]), "tol": float(lasso["tol"])}
    if not warm_start:
        return lambda lam: Lasso(alpha=lam, **settings)
    model = Lasso(alpha=1.0, warm_start=True, **settings)

    def factory(lam: float) -> Lasso:
        return model.set_params(alpha=lam)

    return factory


def fit_descending(make_factory: Callable[[], Callable[[float], object]], X_train, y_train, X_test, y_test,
                   lambdas: Sequence[float]) -> dict[str, np.ndarray]:
    """:func:`fit_path` run from the largest lambda to the smallest, returned in the input order."""
    lambdas = np.asarray(lambdas, dtype=np.float64)
    order = np.argsort(lambdas)[::-1]
    fit = fit_path(make_factory(), X_train, y_train, X_test, y_test, lambdas[order])
    back = np.argsort(order)
    return {key: value[back] for key, value in fit.items()}


def fit_ols(X_train, y_train, X_test, y_test) -> dict:
    """Minimum-norm least squares with intercept: train/test R^2 and the coefficients."""
    model = LinearRegression().fit(X_train, y_train)
    return {
        "train_r2": r2(y_train, model.predict(X_train)),
        "test_r2": r2(y_test, model.predict(X_test)),
        "coef": np.asarray(model.coef_, dtype=np.float64),
    }


def union_grid(*grids: Sequence[float], rtol: float = 1e-9) -> np.ndarray:
    """Sorted union of lambda grids, values equal to ``rtol`` merged (logspace vs. literal 1e-4)."""
    values = np.sort(np.concatenate([np.asarray(g, np.float64).ravel() for g in grids]))
    keep = [values[0]]
    for v in values[1:]:
        if not np.isclose(v, keep[-1], rtol=rtol, atol=0.0):
            keep.append(v)
    return np.array(keep)


def _index_in(grid: np.ndarray, lambdas: Sequence[float]) -> np.ndarray:
    return np.array([int(np.argmin(np.abs(np.log(grid) - np.log(lam)))) for lam in lambdas])


def max_increase(values) -> float:
    """Largest increase between consecutive entries (<= 0 for a non-increasing sequence)."""
    d = np.diff(np.asarray(values, np.float64))
    return float(d.max()) if d.size else 0.0


def largest_rise(values) -> float:
    """Largest v[j] - v[i] over i < j (0 for a non-increasing sequence)."""
    v = np.asarray(values, np.float64)
    if v.size < 2:
        return 0.0
    return float(max(0.0, np.max(v[1:] - np.minimum.accumulate(v[:-1]))))


def is_nonmonotonic(values, tol: float) -> bool:
    """True when the sequence both rises and falls by more than ``tol`` between consecutive entries."""
    d = np.diff(np.asarray(values, np.float64))
    return bool(np.any(d > tol) and np.any(d < -tol))


# ----------------------------------------------------------------------------- the step


def _split(states, energies, n_train: int, n_test: int):
    if n_train < 1 or n_test < 1 or n_train + n_test > len(states):
        raise ValueError(f"n_train + n_test = {n_train} + {n_test} exceeds the {len(states)} states")
    X = pair_features(states[: n_train + n_test], dtype=np.float64)
    y = np.asarray(energies[: n_train + n_test], dtype=np.float64)
    return X[:n_train], y[:n_train], X[n_train:], y[n_train:]


@step
def ising1d_regression(params: Mapping, *, chains: Path, diabetes: Path, data: Path) -> dict:
    """Fit OLS, Ridge and LASSO on the 1D Ising chains; write ``data`` (.npz) and return metrics.

    params (config ``linear_regression.ising1d`` without ``plot``): ``n_train``, ``n_test``,
    ``lambdas`` and ``metric_lambdas`` ({low, high, n}), ``lasso`` ({max_iter, tol}),
    ``coupling_lambdas``, ``monotonic_tol`` (noise allowed in C21/C22) and ``check_n_train``
    (null: skip the C24 check). ``diabetes``: the diabetes metrics JSON (C18).
    """
    states, energies = load_ising1d(chains)
    length = int(states.shape[1])
    n_train, n_test = int(params["n_train"]), int(params["n_test"])
    X_train, y_train, X_test, y_test = _split(states, energies, n_train, n_test)
    tol = float(params["monotonic_tol"])
    lasso = params["lasso"]

    figure_grid = log_grid(params["lambdas"])
    metric_grid = log_grid(params["metric_lambdas"])
    coupling_lambdas = np.asarray(params["coupling_lambdas"], dtype=np.float64)
    fit_grid = union_grid(figure_grid, coupling_lambdas)
    split = (X_train, y_train, X_test, y_test)
    ols = fit_ols(*split)
    # Figure grid and coupling lambdas: independent (cold-started) fits, as the notebook's.
    fits = {
        "ridge": fit_path(lambda lam: Ridge(alpha=lam), *split, fit_grid),
        "lasso": fit_path(_lasso_factory(lasso, warm_start=False), *split, fit_grid),
    }
    # The 101-point metric grid: LASSO warm-started from the largest lambda down.
    metric_fits = {
        "ridge": fit_path(lambda lam: Ridge(alpha=lam), *split, metric_grid),
        "lasso": fit_descending(lambda: _lasso_factory(lasso, warm_start=True), *split, metric_grid),
    }
    # The notebook's LASSO: scikit-learn's default max_iter and tol, cold start at every lambda.
    notebook_lasso = fit_path(lambda lam: Lasso(alpha=lam), *split, figure_grid)

    i_fig, i_coup = _index_in(fit_grid, figure_grid), _index_in(fit_grid, coupling_lambdas)
    n_fig, n_metric = figure_grid.size, metric_grid.size
    curves = {  # figure grid: train/test R^2 per model
        "ols": {"train": np.full(n_fig, ols["train_r2"]), "test": np.full(n_fig, ols["test_r2"])},
        **{m: {"train": fits[m]["train_r2"][i_fig], "test": fits[m]["test_r2"][i_fig]} for m in REGULARISED},
    }
    metric_test = {"ols": np.full(n_metric, ols["test_r2"]), **{m: metric_fits[m]["test_r2"] for m in REGULARISED}}
    J_ols = ols["coef"].reshape(length, length)
    J_fig = {m: fits[m]["coef"][i_fig].reshape(-1, length, length) for m in REGULARISED}
    J_coup = {"ols": np.repeat(J_ols[None], coupling_lambdas.size, axis=0)}
    J_coup.update({m: fits[m]["coef"][i_coup].reshape(-1, length, length) for m in REGULARISED})

    arrays: dict[str, np.ndarray] = {
        "length": np.int64(length),
        "figure_grid_lambdas": figure_grid,
        "metric_grid_lambdas": metric_grid,
        "coupling_lambdas": coupling_lambdas,
        "ols_J": J_ols,
    }
    for m in MODELS:
        arrays[f"figure_grid_{m}_train_r2"] = curves[m]["train"]
        arrays[f"figure_grid_{m}_test_r2"] = curves[m]["test"]
        arrays[f"metric_grid_{m}_test_r2"] = metric_test[m]
        arrays[f"coupling_{m}_J"] = J_coup[m]
    for m in REGULARISED:
        arrays[f"figure_grid_{m}_J"] = J_fig[m]

    metrics: dict = {"n_train": n_train, "n_test": n_test, "length": length, "n_features": length * length,
                     "n_distinct_features": length * (length - 1) // 2 + 1}

    keys = lambda_keys(figure_grid)
    metrics["figure_grid"] = {"lambdas": figure_grid}
    for m in MODELS:
        metrics["figure_grid"][m] = {
            k: {"train": curves[m]["train"][i], "test": curves[m]["test"][i]} for i, k in enumerate(keys)
        }
    metric_keys = lambda_keys(metric_grid)
    metrics["metric_grid"] = {"lambdas": metric_grid}
    for m in MODELS:
        metrics["metric_grid"][m] = {"test_r2": dict(zip(metric_keys, metric_test[m]))}

    halves = {m: lambda_half(metric_grid, metric_test[m]) for m in REGULARISED}
    metrics["lambda_half"] = halves
    ratio = (abs(float(np.log10(halves["ridge"] / halves["lasso"])))
             if halves["ridge"] is not None and halves["lasso"] is not None else None)
    metrics["log10_lambda_half_ratio"] = ratio

    lasso_test = curves["lasso"]["test"]
    best = int(np.argmax(lasso_test))
    metrics["lasso_best_lambda"] = figure_grid[best]
    metrics["log10_lasso_best_lambda"] = float(np.log10(figure_grid[best]))
    metrics["lasso_best_test_r2"] = lasso_test[best]
    # The lambdas whose LASSO test R^2 is within monotonic_tol of the best: the argmax of a flat top.
    metrics["lasso_plateau_lambdas"] = figure_grid[lasso_test >= lasso_test[best] - tol]

    diabetes_ratio = load_json(diabetes)["metrics"].get("log10_lambda_half_ratio")
    metrics["c18"] = {
        "diabetes_log10_ratio": diabetes_ratio,
        "ising_log10_ratio": ratio,
        "holds": bool(diabetes_ratio is not None and ratio is not None and diabetes_ratio < ratio),
    }
    metrics["c20"] = {"abs_log10_ratio": ratio}

    ols_range = float(np.ptp(curves["ols"]["test"]))
    ridge = curves["ridge"]["test"]
    c21 = {
        "ols_test_r2": ols["test_r2"],
        "ols_test_r2_range": ols_range,
        "ols_constant": bool(ols_range <= tol),
        "ridge_max_increase": max_increase(ridge),
        "ridge_max_increase_metric_grid": max_increase(metric_test["ridge"]),
        "ridge_largest_rise": largest_rise(ridge),
        "tolerance": tol,
    }
    c21["ridge_nonincreasing"] = bool(c21["ridge_max_increase"] <= tol and c21["ridge_max_increase_metric_grid"] <= tol)
    c21["holds"] = bool(c21["ols_constant"] and c21["ridge_nonincreasing"])
    metrics["c21"] = c21

    nb_test = notebook_lasso["test_r2"]
    nb_best = int(np.argmax(nb_test))
    defaults = Lasso().get_params()
    metrics["c22"] = {
        "nonmonotonic": is_nonmonotonic(lasso_test, tol),
        "lasso_max_increase": max_increase(lasso_test),
        "lasso_best_lambda": figure_grid[best],
        "log10_lasso_best_lambda": float(np.log10(figure_grid[best])),
        "tolerance": tol,
        "notebook_settings": {  # scikit-learn defaults, cold start: what the notebook ran
            "max_iter": int(defaults["max_iter"]),
            "tol": float(defaults["tol"]),
            "test_r2": dict(zip(keys, nb_test)),
            "convergence_warnings": int(notebook_lasso["convergence_warnings"].sum()),
            "unconverged_lambdas": figure_grid[notebook_lasso["convergence_warnings"] > 0],
            "best_lambda": figure_grid[nb_best],
            "log10_best_lambda": float(np.log10(figure_grid[nb_best])),
            "nonmonotonic": is_nonmonotonic(nb_test, tol),
        },
    }

    couplings = {m: {lambda_key(lam): coupling_metrics(J_coup[m][i]) for i, lam in enumerate(coupling_lambdas)}
                 for m in MODELS}
    metrics["couplings"] = couplings
    metrics["figure_grid_couplings"] = {
        m: {k: coupling_metrics(J_fig[m][i]) for i, k in enumerate(keys)} for m in REGULARISED
    }
    metrics["figure_grid_couplings"]["ols"] = {k: couplings["ols"][lambda_key(coupling_lambdas[0])] for k in keys}

    # C26 on the LASSO matrix at every coupling lambda: boundary vs bulk asymmetry.
    c26 = {}
    for k, cm in couplings["lasso"].items():
        both = cm["asymmetry"] is not None and cm["asymmetry_boundary"] is not None
        c26[k] = {
            "bulk": cm["asymmetry"],
            "boundary": cm["asymmetry_boundary"],
            "boundary_minus_bulk": cm["asymmetry_boundary"] - cm["asymmetry"] if both else None,
            "boundary_to_bulk": cm["asymmetry_boundary"] / cm["asymmetry"] if both and cm["asymmetry"] > 0 else None,
        }
    metrics["c26"] = c26

    check = params.get("check_n_train")
    if check is not None:
        check = int(check)
        if check > len(states):
            raise ValueError(f"check_n_train = {check} exceeds the {len(states)} states (set it to null to skip)")
        Xc = pair_features(states[:check], dtype=np.float64)
        yc = np.asarray(energies[:check], dtype=np.float64)
        J_check = {"ols": LinearRegression().fit(Xc, yc).coef_.reshape(length, length)}
        J_check["ridge"] = np.stack([Ridge(alpha=lam).fit(Xc, yc).coef_.reshape(length, length)
                                     for lam in coupling_lambdas])
        arrays["check_ols_J"], arrays["check_ridge_J"] = J_check["ols"], J_check["ridge"]
        arrays["check_n_train"] = np.int64(check)
        metrics["check_large_n"] = {
            "n_train": check,
            "ols": coupling_metrics(J_check["ols"]),
            "ridge": {lambda_key(lam): coupling_metrics(J_check["ridge"][i]) for i, lam in enumerate(coupling_lambdas)},
        }

    metrics["convergence_warnings"] = {
        "figure_grid": {m: int(fits[m]["convergence_warnings"].sum()) for m in REGULARISED},
        "metric_grid": {m: int(metric_fits[m]["convergence_warnings"].sum()) for m in REGULARISED},
        "notebook_lasso": int(notebook_lasso["convergence_warnings"].sum()),
    }
    save_npz(data, **arrays)
    return to_jsonable(metrics)
