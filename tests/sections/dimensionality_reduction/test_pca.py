"""PCA (models.pca) and Fig 51: PCA of the 2D Ising states."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from mlreview.steps import registry
from mlreview.cli import run_step
from mlreview.errors import MlreviewError
from mlreview.io import load_npz, save_npz
from mlreview.ising.packing import pack_states
from mlreview.sections.dimensionality_reduction import pca as pc

L = 8
TEMPS = [0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5]
PER_T = 60


def test_steps_are_registered():
    assert registry()["ising_pca"] == "mlreview.sections.dimensionality_reduction.pca:ising_pca"
    assert registry()["fig51_plot"] == "mlreview.sections.dimensionality_reduction.plots:fig51_plot"


def test_spectrum_is_the_covariance_eigenvalues_and_sklearn_agrees():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 6)) @ rng.standard_normal((6, 6)) + 3.0
    eig = pc.covariance_spectrum(X)
    exact = np.sort(np.linalg.eigvalsh(np.cov(X.T)))[::-1]  # divisor N - 1
    assert np.allclose(eig, exact)
    model = pc.pca_fit(X)
    assert np.allclose(model.explained_variance_, exact)
    assert model.explained_variance_ratio_.sum() == pytest.approx(1.0)


def test_uniform_cosine_and_coefficient_of_variation():
    assert pc.uniform_cosine(np.full(9, -0.3)) == pytest.approx(1.0)
    assert pc.uniform_cosine(np.array([1.0, -1.0, 1.0, -1.0])) == pytest.approx(0.0)
    assert pc.coefficient_of_variation(np.full(5, 2.0)) == 0.0
    assert pc.coefficient_of_variation(np.array([1.0, 3.0])) == pytest.approx(0.5)


def test_subsample_per_group():
    groups = np.repeat([0.5, 1.0, 2.0], [10, 12, 8])
    rows = pc.subsample_per_group(groups, 5, seed=3)
    assert len(rows) == 15 and len(set(rows)) == 15 and np.all(np.diff(rows) > 0)
    assert np.array_equal(np.unique(groups[rows], return_counts=True)[1], [5, 5, 5])
    assert np.array_equal(rows, pc.subsample_per_group(groups, 5, seed=3))
    with pytest.raises(MlreviewError, match="fewer than the 9"):
        pc.subsample_per_group(groups, 9, seed=3)


def params() -> dict:
    return {
        "per_temperature": 50,
        "seed": 1,
        "c60": {"min_cosine": 0.95, "min_abs_r": 0.99},
        "c61": {"disordered_min_T": 2.75, "ordered_max_T": 1.75, "centre_tolerance": 0.1, "sign_fraction": [0.3, 0.7]},
        "plot": {"cmap": "coolwarm", "marker_size": 2.0, "alpha": 0.5, "loading_bins": 20},
    }


def toy_states(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Ordered states of either sign (a few flipped spins) below 2.25, random states above."""
    rng = np.random.default_rng(seed)
    rows, temps = [], []
    for T in TEMPS:
        if T < 2.25:
            sign = rng.choice([-1, 1], size=(PER_T, 1))
            flip = rng.random((PER_T, L * L)) < 0.03 * T
            rows.append(np.where(flip, -sign, sign))
        else:
            rows.append(rng.choice([-1, 1], size=(PER_T, L * L)))
        temps += [T] * PER_T
    return np.concatenate(rows).astype(np.int8), np.array(temps)


def test_pca_of_ordered_and_random_states_finds_the_magnetisation():
    X, T = toy_states()
    metrics, arrays = pc.pca_of_states(X, T, params())
    # PC1 is the uniform vector (the magnetisation) and holds most of the variance
    assert metrics["pc1_loadings"]["cosine_uniform"] > 0.99
    assert metrics["pc1_m_correlation"] > 0.99  # oriented along +m
    assert metrics["evr"]["pc1"] > 0.4 and metrics["eigenvalues"]["ratio_12"] > 10
    assert metrics["c60"]["holds"] and metrics["c61"]["holds"]
    assert metrics["c59"]["evr_pc1"] == metrics["evr"]["pc1"]
    assert set(metrics["per_temperature_pc1"]) == {f"T_{t:.2f}" for t in TEMPS}
    hot = metrics["per_temperature_pc1"]["T_3.50"]
    assert abs(hot["mean"]) < 1.0 and hot["fraction_positive"] + hot["fraction_negative"] == pytest.approx(1.0)
    # the PC1 score of a fully ordered state is about +-sqrt(N) = +-L
    assert np.max(np.abs(arrays["scores"][:, 0])) == pytest.approx(L, rel=0.05)
    assert arrays["eigenvalues"].shape == (L * L,) and arrays["scores"].shape == (len(X), 2)


def test_c61_fails_when_the_ordered_states_have_one_sign():
    X, T = toy_states()
    X = X.copy()
    cold = T < 2.25
    X[cold] = 1  # every ordered state all up
    metrics, _ = pc.pca_of_states(X, T, params())
    assert not metrics["c61"]["ordered_split"] and not metrics["c61"]["holds"]


@pytest.fixture(scope="module")
def ising_file(tmp_path_factory):
    X, T = toy_states(1)
    t = T.astype(np.float32)
    phase = np.where(t < 2.0, 0, np.where(t > 2.5, 2, 1)).astype(np.int8)
    path = tmp_path_factory.mktemp("ising") / "ising2d.npz"
    save_npz(path, packed=pack_states(X), temperature=t, label=(t < 2.269).astype(np.int8), phase=phase,
             lattice=L, J=1.0, tc=2.269185314213022, temperatures=np.array(TEMPS))
    return path


def test_ising_step_and_plot(ising_file, tmp_path):
    p = params()
    m = run_step("ising_pca", {k: v for k, v in p.items() if k != "plot"}, inputs={"dataset": ising_file},
                 outputs={"data": tmp_path / "fig51.npz", "metrics": tmp_path / "fig51.json"})
    assert m["n_states"] == 50 * len(TEMPS) and m["n_features"] == L * L and m["per_temperature"] == 50
    d = load_npz(tmp_path / "fig51.npz")
    assert len(np.unique(d["rows"])) == len(d["rows"]) == m["n_states"]
    assert d["tc"] == pytest.approx(2.269185314213022) and int(d["lattice"]) == L
    run_step("fig51_plot", p, inputs={"data": tmp_path / "fig51.npz"},
             outputs={"pdf": tmp_path / "fig51.pdf", "png": tmp_path / "fig51.png"})
    assert (tmp_path / "fig51.png").stat().st_size > 1000
    too_many = copy.deepcopy(p)
    too_many["per_temperature"] = PER_T + 1
    with pytest.raises(MlreviewError):
        run_step("ising_pca", too_many, inputs={"dataset": ising_file}, outputs={"data": tmp_path / "x.npz"})
