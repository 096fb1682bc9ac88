"""EM for two coins (project figure em_coins): the step and its plot."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from mlreview.cli import run_step
from mlreview.io import load_npz
from mlreview.steps import registry

STEPS = {
    "em_coins": "mlreview.sections.mean_field.coins:em_coins",
    "em_coins_plot": "mlreview.sections.mean_field.plots:em_coins_plot",
}


def test_steps_are_registered():
    for name, target in STEPS.items():
        assert registry()[name] == target


@pytest.fixture(scope="module")
def config(root) -> dict:
    return yaml.safe_load((root / "config" / "config.yaml").read_text())


def test_coins_step_and_plot(config, tmp_path):
    p = {**config["mean_field"]["em_coins"], "n_seeds": 10, "n_random_inits": 4}
    m = run_step("em_coins", p, outputs={"data": tmp_path / "em.npz", "metrics": tmp_path / "em.json"})
    assert m["seeds"]["n_runs"] == 10 * 5 and m["c83"]["monotone"]
    assert m["c83"]["min_log_likelihood_change"] >= -1e-12
    assert np.allclose(m["fixture"]["theta_after_10"], [0.80, 0.52], atol=0.005)
    assert len(m["shown"]["log_likelihood"]) == m["shown"]["iterations"] + 1
    d = load_npz(tmp_path / "em.npz")
    assert d["em_final"].shape == (10, 2) and d["log_likelihood"].shape[0] == 5
    run_step("em_coins_plot", p, inputs={"data": tmp_path / "em.npz"},
             outputs={"pdf": tmp_path / "em.pdf", "png": tmp_path / "em.png"})
    assert (tmp_path / "em.png").stat().st_size > 1000
