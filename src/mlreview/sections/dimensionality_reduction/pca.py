"""Principal component analysis (Section XII) and Fig 51: PCA of the 2D Ising states.

PCA is scikit-learn's (``svd_solver="full"``: the SVD of the centred data, no scaling). The
covariance eigenvalues are lambda_i = s_i^2 / (N - 1) (scikit-learn's ``explained_variance_``)
and the explained-variance ratio is lambda_i / sum_j lambda_j [spec Fig 51].

Fig 51 data (decision p): ``per_temperature`` states drawn at random without replacement
(``seed``) from every temperature of the data set, +-1 spins. PC1 is oriented so that its
score grows with the magnetisation m = mean spin (the sign of a principal axis is arbitrary).

Metrics:

* ``n_states``, ``n_features``, ``per_temperature``, ``temperatures``;
* ``evr/{pc1, pc2, pc1_pc2}`` and ``eigenvalues/{lambda1, lambda2, lambda3, ratio_12, ratio_23}``;
* ``pc1_loadings/{cosine_uniform, cv, mean, std, min, max}`` - cosine with (1, ..., 1)/sqrt(n) and
  the coefficient of variation std/|mean| of the 1600 loadings;
* ``pc1_m_correlation`` - Pearson r between the PC1 score and m;
* ``per_temperature_pc1/T_x/{mean, mean_abs, fraction_positive, fraction_negative}``;
* ``c59/evr_pc1`` (C59), ``c60/{cosine_uniform, abs_r, holds}``, ``c61/{...,holds}``, ``c62/ratio_12``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
from sklearn.decomposition import PCA

from mlreview.data.ising import load_ising2d
from mlreview.errors import MlreviewError
from mlreview.io import save_npz, to_jsonable
from mlreview.steps import step


def pca_fit(X: np.ndarray, n_components: int | None = None) -> PCA:
    """scikit-learn PCA by the full SVD of the centred data (every component when ``None``)."""
    return PCA(n_components=n_components, svd_solver="full").fit(X)


def covariance_spectrum(X: np.ndarray) -> np.ndarray:
    """Eigenvalues of the sample covariance (divisor N - 1), largest first, from the singular
    values of the centred data: lambda_i = s_i^2 / (N - 1)."""
    X = np.asarray(X, float)
    s = np.linalg.svd(X - X.mean(axis=0), compute_uv=False)
    return s**2 / (len(X) - 1)


def uniform_cosine(v: np.ndarray) -> float:
    """|cos| of the angle between ``v`` and the uniform vector (1, ..., 1) (1 = all entries equal)."""
    v = np.asarray(v, float)
    return float(abs(v.sum()) / (np.linalg.norm(v) * np.sqrt(v.size)))


def coefficient_of_variation(v: np.ndarray) -> float:
    """std / |mean| of the entries of ``v`` (0 for a uniform vector)."""
    v = np.asarray(v, float)
    return float(v.std() / abs(v.mean()))


def subsample_per_group(groups: np.ndarray, per_group: int, seed: int) -> np.ndarray:
    """Sorted row indices: ``per_group`` rows drawn without replacement from every group value."""
    rng = np.random.default_rng(seed)
    picked = []
    for value in np.unique(groups):
        rows = np.flatnonzero(groups == value)
        if len(rows) < per_group:
            raise MlreviewError(
                f"group {value} has {len(rows)} rows, fewer than the {per_group} requested per group; "
                "lower per_temperature in the config or sample more states"
            )
        picked.append(rng.choice(rows, size=per_group, replace=False))
    return np.sort(np.concatenate(picked))


def temperature_key(t: float) -> str:
    return f"T_{t:.2f}"


def pca_of_states(X: np.ndarray, temperature: np.ndarray, params: Mapping) -> tuple[dict, dict]:
    """(metrics, arrays) of Fig 51 for +-1 states ``X`` and their temperatures."""
    X = np.asarray(X, np.float64)
    model = pca_fit(X)
    scores = model.transform(X)[:, :2]
    pc1 = model.components_[0].copy()
    m = X.mean(axis=1)
    if np.corrcoef(scores[:, 0], m)[0, 1] < 0:  # orient PC1 along the magnetisation
        scores[:, 0] *= -1
        pc1 *= -1
    eig = model.explained_variance_
    evr = model.explained_variance_ratio_
    r = float(np.corrcoef(scores[:, 0], m)[0, 1])
    temps = np.unique(temperature)
    per_t = {}
    for t in temps:
        s = scores[temperature == t, 0]
        per_t[temperature_key(t)] = {"mean": float(s.mean()), "mean_abs": float(np.abs(s).mean()),
                                     "fraction_positive": float(np.mean(s > 0)),
                                     "fraction_negative": float(np.mean(s < 0))}
    cosine = uniform_cosine(pc1)
    metrics = {
        "n_states": int(len(X)),
        "n_features": int(X.shape[1]),
        "per_temperature": int(params["per_temperature"]),
        "temperatures": temps,
        "evr": {"pc1": float(evr[0]), "pc2": float(evr[1]), "pc1_pc2": float(evr[0] + evr[1])},
        "eigenvalues": {"lambda1": float(eig[0]), "lambda2": float(eig[1]), "lambda3": float(eig[2]),
                        "ratio_12": float(eig[0] / eig[1]), "ratio_23": float(eig[1] / eig[2])},
        "pc1_loadings": {"cosine_uniform": cosine, "cv": coefficient_of_variation(pc1), "mean": float(pc1.mean()),
                         "std": float(pc1.std()), "min": float(pc1.min()), "max": float(pc1.max())},
        "pc1_m_correlation": r,
        "per_temperature_pc1": per_t,
    }
    metrics.update(claim_quantities(scores[:, 0], temperature, cosine, r, evr, eig, params))
    arrays = {"scores": scores, "temperature": temperature, "m": m, "eigenvalues": eig, "evr": evr,
              "pc1_loadings": pc1}
    return metrics, arrays


def claim_quantities(pc1: np.ndarray, temperature: np.ndarray, cosine: float, r: float, evr: np.ndarray,
                     eig: np.ndarray, params: Mapping) -> dict:
    """The proxies of C59-C62 (thresholds from ``params``)."""
    c60 = params["c60"]
    c61 = params["c61"]
    high = pc1[temperature >= float(c61["disordered_min_T"]) - 1e-9]
    low_temps = [t for t in np.unique(temperature) if t <= float(c61["ordered_max_T"]) + 1e-9]
    low = pc1[np.isin(temperature, low_temps)]
    ordered_scale = float(np.abs(low).mean())
    high_centre = float(abs(high.mean()) / ordered_scale)
    fractions = {temperature_key(t): float(np.mean(pc1[temperature == t] > 0)) for t in low_temps}
    lo_frac, hi_frac = (float(x) for x in c61["sign_fraction"])
    split = all(lo_frac <= f <= hi_frac for f in fractions.values())
    # the two ordered groups lie on either side of the disordered cluster
    separated = bool(np.min(np.abs(low)) > 0 and np.quantile(np.abs(low), 0.01) > np.quantile(np.abs(high), 0.99))
    return {
        "c59": {"evr_pc1": float(evr[0])},
        "c60": {"cosine_uniform": cosine, "abs_r": abs(r),
                "holds": bool(cosine >= float(c60["min_cosine"]) and abs(r) >= float(c60["min_abs_r"]))},
        "c61": {"disordered_mean_over_ordered_scale": high_centre, "ordered_mean_abs": ordered_scale,
                "ordered_fraction_positive": fractions, "ordered_split": split, "separated": separated,
                "holds": bool(high_centre <= float(c61["centre_tolerance"]) and split and separated)},
        "c62": {"ratio_12": float(eig[0] / eig[1]), "ratio_23": float(eig[1] / eig[2])},
    }


@step
def ising_pca(params: Mapping, *, dataset: Path, data: Path) -> dict:
    """Workflow step (Fig 51): PCA of ``per_temperature`` states from every temperature."""
    ising = load_ising2d(dataset, encoding="pm1")
    rows = subsample_per_group(ising.temperature, int(params["per_temperature"]), int(params["seed"]))
    metrics, arrays = pca_of_states(ising.X[rows], ising.temperature[rows].astype(float), params)
    save_npz(data, rows=ising.rows[rows], lattice=ising.lattice, tc=ising.tc, **arrays)
    return to_jsonable(metrics)
