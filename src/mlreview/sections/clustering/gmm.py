"""Fig 58: a three-component one-dimensional Gaussian mixture fitted by the hand-written EM of
:mod:`mlreview.em` to the first principal component of the Ising states (Fig 51), its density over
the histogram, and the responsibilities of the components against temperature.

The components are named by their means (:func:`component_names`: the one closest to 0 is the
disordered phase, the others the ordered phases of either sign); the temperature at which the
disordered responsibility crosses the ordered ones (:func:`crossings`) estimates T_c (claim C71).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from mlreview.em import gmm_e_step, gmm_fit, mixture_density, sklearn_gmm
from mlreview.io import load_npz, save_npz, to_jsonable
from mlreview.steps import step


def crossings(t: np.ndarray, y: np.ndarray, level: float = 0.0) -> list[float]:
    """Every T at which the piecewise-linear curve y(T) crosses ``level`` (upward or downward)."""
    d = np.asarray(y, float) - level
    out = []
    for i in range(len(d) - 1):
        if d[i] == 0.0:
            out.append(float(t[i]))
        elif d[i] * d[i + 1] < 0:
            out.append(float(t[i] + (t[i + 1] - t[i]) * d[i] / (d[i] - d[i + 1])))
    if len(d) and d[-1] == 0.0:
        out.append(float(t[-1]))
    return out


def component_names(means: np.ndarray) -> list[str]:
    """Names of three components sorted by mean [spec Fig 58]: the mean closest to 0 is the
    disordered one, the others the ordered ones of either sign of the magnetisation."""
    disordered = int(np.argmin(np.abs(means)))
    names = ["disordered" if i == disordered else ("ordered_minus" if mu < means[disordered] else "ordered_plus")
             for i, mu in enumerate(means)]
    if sorted(names) != ["disordered", "ordered_minus", "ordered_plus"]:
        raise ValueError(f"expected one disordered component between two ordered ones, got means {list(means)}")
    return names


@step
def ising_gmm_fit(params: Mapping, *, pca: Path, data: Path) -> dict:
    """Workflow step (Fig 58): a K-component 1D mixture fitted by EM to the PC1 scores of Fig 51,
    the mean responsibilities per temperature and where they cross.

    The fit drawn is the one started as ``inits[0]``; fits from the other starts (``inits[1:]``)
    and scikit-learn's ``GaussianMixture`` on the same data are recorded for comparison.
    """
    d = load_npz(pca)
    x, temperature = d["scores"][:, 0], d["temperature"]
    k, n_init, tol = int(params["n_components"]), int(params["n_init"]), float(params["tol"])
    max_iter, reg, seed = int(params["max_iter"]), float(params["reg_covar"]), int(params["seed"])
    inits = list(params["inits"])
    fits = {init: gmm_fit(x, k, n_init, tol, max_iter, reg, seed, init) for init in inits}
    fit = fits[inits[0]]
    ref = sklearn_gmm(x, k, n_init, tol, max_iter, reg, seed)
    resp, _ = gmm_e_step(x, fit["weights"], fit["means"], fit["variances"])
    temps = np.unique(temperature)
    mean_resp = np.array([resp[temperature == t].mean(axis=0) for t in temps])
    names = component_names(fit["means"])
    col = {name: i for i, name in enumerate(names)}
    dis = mean_resp[:, col["disordered"]]
    t_cross = crossings(temps, dis, 1.0 / k)
    pair = {f"disordered_{o}": crossings(temps, dis - mean_resp[:, col[o]]) for o in names if o != "disordered"}
    tc = float(d["tc"])
    grid = np.linspace(x.min(), x.max(), int(params["curve_points"]))
    save_npz(data, x=x, temperature=temperature, temperatures=temps, mean_responsibility=mean_resp,
             weights=fit["weights"], means=fit["means"], variances=fit["variances"], names=np.array(names),
             grid=grid, density=mixture_density(grid, fit["weights"], fit["means"], fit["variances"]),
             t_cross=np.array(t_cross[:1] or [np.nan]), tc=tc)

    def summary(f):
        return {"means": f["means"], "variances": f["variances"], "weights": f["weights"],
                "log_likelihood_per_point": f["log_likelihood"], "iterations": f["iterations"],
                "converged": f["converged"]}

    return to_jsonable({
        "n_points": int(len(x)),
        "init": inits[0],
        "components": {name: {"weight": fit["weights"][i], "mean": fit["means"][i], "variance": fit["variances"][i]}
                       for i, name in enumerate(names)},
        "log_likelihood_per_point": fit["log_likelihood"],
        "iterations": fit["iterations"],
        "converged": fit["converged"],
        "other_inits": {init: summary(fits[init]) for init in inits[1:]},
        "sklearn": {**summary(ref),
                    "max_abs_mean_difference": float(np.max(np.abs(ref["means"] - fit["means"]))),
                    "max_abs_variance_difference": float(np.max(np.abs(ref["variances"] - fit["variances"]))),
                    "log_likelihood_difference": fit["log_likelihood"] - ref["log_likelihood"]},
        "mean_responsibility": {f"T_{t:.2f}": dict(zip(names, row)) for t, row in zip(temps, mean_resp)},
        "t_cross": t_cross[0] if t_cross else None,
        "t_cross_all": t_cross,
        "pairwise_crossings": pair,
        "tc": tc,
        "t_cross_minus_tc": (t_cross[0] - tc) if t_cross else None,
    })
