"""Mean-field theory of the Ising model (models.mean_field, spec 4.2)."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from mlreview.steps import registry
from mlreview.cli import run_step
from mlreview.io import load_npz, save_npz
from mlreview.ising.exact import critical_temperature
from mlreview.sections.mean_field import mean_field as mf


@pytest.fixture(scope="module")
def params(root) -> dict:
    return yaml.safe_load((root / "config" / "config.yaml").read_text())["mean_field"]["ising"]


def test_steps_are_registered():
    assert registry()["mean_field_solve"] == "mlreview.sections.mean_field.mean_field:mean_field_solve"
    assert registry()["mean_field_plot"] == "mlreview.sections.mean_field.plots:mean_field_plot"


def test_solution_is_self_consistent_and_vanishes_above_zj():
    T = np.array([0.5, 2.0, 3.0, 3.9, 4.1, 6.0])
    m, iters = mf.solve_mean_field(T, z=4, J=1.0, tol=1e-13, max_iter=100000)
    assert np.allclose(m, np.tanh(4 * m / T), atol=1e-10)
    assert np.all(m[T < 4] > 0.1) and np.all(np.abs(m[T > 4]) < 1e-6)
    assert m[0] == pytest.approx(1.0, abs=1e-6) and np.all(iters <= 100000)


def test_near_the_transition_m_follows_the_mean_field_square_root():
    # m^2 ~ 3 (1 - T/Tc) close below Tc = zJ
    for z in (2, 4):
        T = 0.999 * z
        m, _ = mf.solve_mean_field(np.array([T]), z=z, tol=1e-15, max_iter=10**6)
        assert m[0] ** 2 == pytest.approx(3 * (1 - T / z), rel=0.01)


def test_a_field_removes_the_transition():
    T = np.linspace(0.5, 8.0, 16)
    m, _ = mf.solve_mean_field(T, z=4, h=0.1)
    assert np.all(m > 0.01)


def test_critical_on_grid_and_temperature_grid():
    T = mf.temperature_grid({"start": 0.05, "stop": 6.0, "step": 0.01})
    assert len(T) == 596 and T[0] == pytest.approx(0.05) and T[-1] == pytest.approx(6.0)
    for z in (2, 4):
        m, _ = mf.solve_mean_field(T, z=z, tol=1e-12, max_iter=100000)
        assert mf.critical_on_grid(T, m, 1e-6) == pytest.approx(z)
    assert mf.critical_on_grid(T, np.zeros_like(T), 1e-6) is None


def test_mean_field_step_and_plot(params, tmp_path):
    mc_T = np.array([1.0, 2.0, 3.0])
    validation = tmp_path / "validation.npz"
    save_npz(validation, T=mc_T, abs_m=np.array([0.999, 0.91, 0.1]), abs_m_se=np.full(3, 0.001), lattice=40)
    p = {**params, "temperatures": {"start": 0.05, "stop": 6.0, "step": 0.05}}
    m = run_step("mean_field_solve", p, inputs={"validation": validation},
                 outputs={"data": tmp_path / "mf.npz", "metrics": tmp_path / "mf.json"})
    assert m["lattices"]["square"]["tc_grid"] == pytest.approx(4.0)
    assert m["lattices"]["chain"]["tc_grid"] == pytest.approx(2.0)
    assert m["onsager_tc"] == pytest.approx(critical_temperature())
    assert m["c84"]["relative_error"] == pytest.approx((4.0 - critical_temperature()) / critical_temperature())
    assert m["c85"]["tc_mean_field"] == pytest.approx(2.0)
    cmp = m["mc_comparison"]
    assert set(cmp) == {"T_1.00", "T_2.00", "T_3.00"} and cmp["T_3.00"]["onsager"] == 0.0
    # mean field lies above the exact magnetisation
    assert all(v["mean_field"] >= v["onsager"] for v in cmp.values())
    d = load_npz(tmp_path / "mf.npz")
    assert d["m_square"].shape == d["T"].shape == d["onsager"].shape
    run_step("mean_field_plot", p, inputs={"data": tmp_path / "mf.npz"},
             outputs={"pdf": tmp_path / "mf.pdf", "png": tmp_path / "mf.png"})
    assert (tmp_path / "mf.png").stat().st_size > 1000
