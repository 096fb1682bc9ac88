"""Fig 58: the Gaussian mixture of the Ising PC1, its named components and the crossing of the
responsibilities."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from mlreview.cli import run_step
from mlreview.io import load_npz, save_npz
from mlreview.sections.clustering import gmm
from mlreview.steps import registry

STEPS = {
    "ising_gmm_fit": "mlreview.sections.clustering.gmm:ising_gmm_fit",
    "fig58_plot": "mlreview.sections.clustering.plots:fig58_plot",
}


def test_steps_are_registered():
    for name, target in STEPS.items():
        assert registry()[name] == target


@pytest.fixture(scope="module")
def config(root) -> dict:
    return yaml.safe_load((root / "config" / "config.yaml").read_text())


def test_crossings_interpolate_linearly():
    t = np.array([1.0, 2.0, 3.0, 4.0])
    assert gmm.crossings(t, np.array([0.0, 0.2, 0.6, 1.0]), 1 / 3) == [pytest.approx(2 + (1 / 3 - 0.2) / 0.4)]
    assert gmm.crossings(t, np.array([1.0, -1.0, 1.0, 1.0])) == [1.5, 2.5]
    assert gmm.crossings(t, np.array([0.5, 0.0, 0.5, 0.5])) == [2.0]
    assert gmm.crossings(t, np.ones(4)) == []


def test_component_names():
    assert gmm.component_names(np.array([-38.0, 0.5, 38.0])) == ["ordered_minus", "disordered", "ordered_plus"]
    with pytest.raises(ValueError):
        gmm.component_names(np.array([-38.0, -30.0, 0.5]))


@pytest.fixture(scope="module")
def pca_file(tmp_path_factory):
    """PC1 scores shaped like Fig 51's: +-40 below Tc (either sign), 0 above, a spread in between."""
    rng = np.random.default_rng(3)
    temps = np.arange(1, 17) * 0.25
    rows_t, scores = [], []
    for T in temps:
        m = np.clip(1.2 * (2.3 - T), 0.0, 1.0)  # a magnetisation that vanishes at T = 2.3
        s = 40 * m * rng.choice([-1, 1], 200) + rng.normal(0, 1.5 + 3 * (m > 0) * (m < 1), 200)
        scores.append(s)
        rows_t += [T] * 200
    path = tmp_path_factory.mktemp("pca") / "fig51.npz"
    sc = np.concatenate(scores)
    save_npz(path, scores=np.column_stack([sc, np.zeros_like(sc)]), temperature=np.array(rows_t), tc=2.269)
    return path


def test_ising_gmm_step_and_plot(config, pca_file, tmp_path):
    p = {**config["clustering"]["fig58"], "curve_points": 200, "n_init": 3}
    m = run_step("ising_gmm_fit", {k: v for k, v in p.items() if k != "plot"}, inputs={"pca": pca_file},
                 outputs={"data": tmp_path / "fig58.npz", "metrics": tmp_path / "fig58.json"})
    assert m["init"] == "kmeans" and set(m["other_inits"]) == {"points"}
    assert m["sklearn"]["max_abs_mean_difference"] < 1e-6
    c = m["components"]
    assert c["ordered_minus"]["mean"] < -30 and abs(c["disordered"]["mean"]) < 3 and c["ordered_plus"]["mean"] > 30
    # the toy magnetisation vanishes at T = 2.3: the responsibilities cross between 2.0 and 2.5
    assert 2.0 < m["t_cross"] < 2.5 and m["t_cross_minus_tc"] == pytest.approx(m["t_cross"] - 2.269)
    for row in m["mean_responsibility"].values():
        assert sum(row.values()) == pytest.approx(1.0)
    d = load_npz(tmp_path / "fig58.npz")
    assert d["density"].shape == (200,) and d["mean_responsibility"].shape == (16, 3)
    assert np.sum(d["density"]) * (d["grid"][1] - d["grid"][0]) == pytest.approx(1.0, abs=0.05)
    run_step("fig58_plot", p, inputs={"data": tmp_path / "fig58.npz"},
             outputs={"pdf": tmp_path / "fig58.pdf", "png": tmp_path / "fig58.png"})
    assert (tmp_path / "fig58.png").stat().st_size > 1000
