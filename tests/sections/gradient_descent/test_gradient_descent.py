"""Figs 7 and 9: landscapes, GD regimes on the quadratic bowl, and the steps run via run_step."""

from __future__ import annotations

import numpy as np
import pytest

from mlreview.cli import run_step
from mlreview.io import load_json, load_npz
from mlreview.sections.gradient_descent.runs import (
    DIVERGENT,
    MONOTONE,
    ONE_STEP,
    OSCILLATING,
    UNDAMPED,
    measured_regime,
    predicted_regime,
    start_key,
)
from mlreview.sections.gradient_descent.landscapes import BEALE_MINIMUM, QuadraticBowl, beale, beale_gradient
from mlreview.optimizers import GD, run

# ---------------------------------------------------------------------------------
# Landscapes
# ---------------------------------------------------------------------------------


@pytest.mark.parametrize("point", [(4.0, 3.0), (-1.0, 4.0), (-2.0, -4.0), (0.3, -0.7), (2.5, 1.1)])
def test_beale_gradient_matches_finite_differences(point):
    h = 1e-6
    x, y = point
    fd = np.array(
        [
            (beale(x + h, y) - beale(x - h, y)) / (2 * h),
            (beale(x, y + h) - beale(x, y - h)) / (2 * h),
        ]
    )
    np.testing.assert_allclose(beale_gradient(point), fd, rtol=1e-6, atol=1e-5)


def test_beale_global_minimum():
    assert beale(*BEALE_MINIMUM) == 0.0
    np.testing.assert_array_equal(beale_gradient(BEALE_MINIMUM), [0.0, 0.0])
    grid = np.linspace(-4.5, 4.5, 181)
    gx, gy = np.meshgrid(grid, grid)
    f = beale(gx, gy)
    assert f.min() >= 0.0
    i = np.unravel_index(np.argmin(f), f.shape)
    assert (gx[i], gy[i]) == pytest.approx(BEALE_MINIMUM, abs=0.06)


def test_beale_constant_on_y_equal_one():
    np.testing.assert_allclose(beale(np.linspace(-10, 10, 7), 1.0), 14.203125, rtol=0, atol=1e-12)


def test_quadratic_bowl():
    bowl = QuadraticBowl(1.0, 1.0, -1.0)
    assert bowl.value(0.0, 0.0) == -1.0
    assert bowl.value(1.0, 2.0) == 4.0
    np.testing.assert_array_equal(bowl.gradient([1.0, -2.0]), [2.0, -4.0])
    np.testing.assert_array_equal(bowl.eta_opt, [0.5, 0.5])
    np.testing.assert_allclose(bowl.gd_factor(1.01), [-1.02, -1.02], rtol=1e-15)
    aniso = QuadraticBowl(1.0, 4.0)
    np.testing.assert_array_equal(aniso.eta_opt, [0.5, 0.125])


# ---------------------------------------------------------------------------------
# Regimes of Fig 7
# ---------------------------------------------------------------------------------

BOWL = QuadraticBowl(1.0, 1.0, -1.0)
REGIME_CASES = [(0.1, MONOTONE), (0.5, ONE_STEP), (0.9, OSCILLATING), (1.01, DIVERGENT)]


@pytest.mark.parametrize("eta,regime", REGIME_CASES)
def test_four_regimes_measured_and_predicted(eta, regime):
    traj = run(GD({"eta": eta}), BOWL.gradient, [-1.5, 4.0], 20)
    assert measured_regime(traj, BOWL.minimum) == regime
    assert predicted_regime(eta, BOWL.eta_opt) == regime


def test_undamped_oscillation_at_twice_eta_opt():
    traj = run(GD({"eta": 1.0}), BOWL.gradient, [-1.5, 4.0], 6)
    assert measured_regime(traj, BOWL.minimum) == UNDAMPED
    assert predicted_regime(1.0, BOWL.eta_opt) == UNDAMPED


def test_predicted_regime_anisotropic_uses_largest_curvature():
    eta_opt = QuadraticBowl(1.0, 4.0).eta_opt  # (0.5, 0.125)
    assert predicted_regime(0.1, eta_opt) == MONOTONE
    assert predicted_regime(0.2, eta_opt) == OSCILLATING
    assert predicted_regime(0.3, eta_opt) == DIVERGENT
    assert predicted_regime(0.125, eta_opt) == MONOTONE  # one step only along y


# ---------------------------------------------------------------------------------
# Steps via run_step
# ---------------------------------------------------------------------------------

FIG07 = {
    "surface": {"a": 1.0, "b": 1.0, "c": -1.0},
    "runs": [
        {"eta": 0.1, "start": [-2.0, 4.0], "steps": 30},
        {"eta": 0.5, "start": [-1.7, 4.0], "steps": 30},
        {"eta": 0.9, "start": [-1.5, 4.0], "steps": 30},
        {"eta": 1.01, "start": [-3.0, 4.5], "steps": 10},
    ],
    "report_steps": [1, 2, 10],
    "window": [-6.0, 6.0],
    "plot": {"contour_levels": 10},
    "contour_grid": 41,
}

FIG09 = {
    "n_steps": 300,
    "starts": [[4.0, 3.0], [-1.0, 4.0]],
    "minimum": [3.0, 0.5],
    "near_radius": 0.1,
    "optimizers": {
        "gd": {"eta": 1.0e-6},
        "gdm": {"eta": 1.0e-6, "gamma": 0.9},
        "nag": {"eta": 1.0e-6, "gamma": 0.9},
        "rmsprop": {"eta": 1.0e-3, "beta": 0.9, "epsilon": 1.0e-8},
        "adam": {"eta": 1.0e-3, "beta1": 0.9, "beta2": 0.99, "epsilon": 1.0e-8},
    },
    "window": [-4.5, 4.5],
    "plot": {"contour_levels": {"low": 1.0, "high": 1.0e5, "n": 35}},
    "contour_grid": 60,
    "adaptive": ["rmsprop", "adam"],
    "ravine": {"start": [-1.0, 4.0], "max_abs_y_minus_1": 0.2, "min_distance": 5.0},
}


def test_quadratic_step(tmp_path):
    out = {"data": tmp_path / "fig07.npz", "metrics": tmp_path / "fig07.json"}
    m = run_step("gradient_descent_quadratic", FIG07, outputs=out)
    assert load_json(out["metrics"])["metrics"]["regimes"]["all_match_theory"] is True
    for key in ("eta_0.1", "eta_0.5", "eta_0.9", "eta_1.01"):
        entry = m[key]
        for field in (
            "distance",
            "factor",
            "distance_ratio",
            "sign_changes",
            "diverges",
            "regime",
            "regime_predicted",
            "oscillates_then_converges",
            "position_step_1",
        ):
            assert field in entry
        assert set(entry["distance"]) >= {"step_1", "step_2", "step_10", "final"}
    assert m["eta_0.1"]["factor"]["worst"] == pytest.approx(0.8, abs=1e-12)
    assert m["eta_0.1"]["sign_changes"]["total"] == 0
    assert m["eta_0.5"]["distance"]["step_1"] == 0.0
    assert m["eta_0.5"]["oscillates_then_converges"] is False
    assert m["eta_0.9"]["oscillates_then_converges"] is True
    assert m["eta_1.01"]["factor"]["worst"] == pytest.approx(-1.02, abs=1e-12)
    assert m["eta_1.01"]["diverges"] is True
    assert m["regimes"]["measured"] == {
        "eta_0.1": MONOTONE,
        "eta_0.5": ONE_STEP,
        "eta_0.9": OSCILLATING,
        "eta_1.01": DIVERGENT,
    }
    data = load_npz(out["data"])
    assert data["traj_0"].shape == (31, 2)
    assert data["traj_3"].shape == (11, 2)
    assert data["grid_e"].shape == (41, 41)

    pdf, png = tmp_path / "fig07.pdf", tmp_path / "fig07.png"
    run_step("fig07_plot", FIG07, inputs={"data": out["data"]}, outputs={"pdf": pdf, "png": png})
    assert pdf.stat().st_size > 0 and png.stat().st_size > 0


def test_beale_step(tmp_path):
    out = {"data": tmp_path / "fig09.npz", "metrics": tmp_path / "fig09.json"}
    m = run_step("gradient_descent_beale", FIG09, outputs=out)
    assert m["epsilon_placement"] == "outside_sqrt"
    assert m["at_minimum"]["max_abs_f_grad"] == 0.0
    for start in FIG09["starts"]:
        entry = m[start_key(start)]
        for method in FIG09["optimizers"]:
            assert set(entry[method]) >= {
                "final_x",
                "final_y",
                "f_final",
                "distance",
                "first_step_near",
                "abs_y_minus_1",
            }
            assert entry[method]["f_final"] == pytest.approx(
                beale(entry[method]["final_x"], entry[method]["final_y"])
            )
        assert isinstance(entry["c14"]["holds"], bool)
    assert start_key([-1.0, 4.0]) == "start_-1_4"
    assert isinstance(m["c14"]["holds"], bool)
    assert m["ravine"]["start"] == "start_-1_4"
    assert isinstance(m["ravine"]["holds"], bool)
    data = load_npz(out["data"])
    assert data["trajectories"].shape == (5, 2, 301, 2)
    assert list(data["methods"]) == ["gd", "gdm", "nag", "rmsprop", "adam"]
    # each method plotted from its own trajectory
    assert not np.allclose(data["trajectories"][0], data["trajectories"][1])

    pdf, png = tmp_path / "fig09.pdf", tmp_path / "fig09.png"
    run_step("fig09_plot", FIG09, inputs={"data": out["data"]}, outputs={"pdf": pdf, "png": png})
    assert pdf.stat().st_size > 0 and png.stat().st_size > 0


def test_beale_step_rejects_unknown_ravine_start(tmp_path):
    params = {**FIG09, "ravine": {**FIG09["ravine"], "start": [0.0, 0.0]}}
    with pytest.raises(ValueError, match="ravine start"):
        run_step("gradient_descent_beale", params, outputs={"data": tmp_path / "x.npz"})
