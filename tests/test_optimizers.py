"""Hand-written optimisers of Fig 9: single updates against hand-computed steps, convergence, state."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mlreview.optimizers import (
    EPSILON_PLACEMENT,
    NAG,
    OPTIMIZERS,
    Adam,
    make_optimizer,
    run,
)


def grad_x2(theta):
    """Gradient of f(x) = x^2 (componentwise)."""
    return 2.0 * np.asarray(theta, dtype=float)


# ---------------------------------------------------------------------------------
# First updates, computed by hand on f(x) = x^2 from x0 = 1
# ---------------------------------------------------------------------------------


def test_gd_first_steps():
    opt = make_optimizer("gd", {"eta": 0.1})
    traj = run(opt, grad_x2, [1.0], 2)
    # x1 = 1 - 0.1 * 2 = 0.8; x2 = 0.8 - 0.1 * 1.6 = 0.64
    np.testing.assert_allclose(traj[:, 0], [1.0, 0.8, 0.64], rtol=0, atol=1e-15)


def test_gdm_first_two_steps():
    opt = make_optimizer("gdm", {"eta": 0.1, "gamma": 0.9})
    traj = run(opt, grad_x2, [1.0], 2)
    # v1 = 0.1 * 2 = 0.2, x1 = 0.8; v2 = 0.9 * 0.2 + 0.1 * 1.6 = 0.34, x2 = 0.46
    np.testing.assert_allclose(traj[:, 0], [1.0, 0.8, 0.46], rtol=0, atol=1e-15)


def test_nag_first_two_steps_and_lookahead_point():
    calls = []

    def grad(theta):
        calls.append(np.array(theta, dtype=float))
        return grad_x2(theta)

    opt = NAG({"eta": 0.1, "gamma": 0.9})
    traj = run(opt, grad, [1.0], 2)
    # step 1: v0 = 0, gradient at 1, v1 = 0.2, x1 = 0.8
    # step 2: look-ahead x1 - gamma v1 = 0.8 - 0.18 = 0.62, v2 = 0.18 + 0.1 * 1.24 = 0.304, x2 = 0.496
    np.testing.assert_allclose([c[0] for c in calls], [1.0, 0.62], rtol=0, atol=1e-15)
    np.testing.assert_allclose(traj[:, 0], [1.0, 0.8, 0.496], rtol=0, atol=1e-15)


def test_nag_differs_from_momentum():
    a = run(make_optimizer("nag", {"eta": 0.1, "gamma": 0.9}), grad_x2, [1.0], 5)
    b = run(make_optimizer("gdm", {"eta": 0.1, "gamma": 0.9}), grad_x2, [1.0], 5)
    assert a[1, 0] == b[1, 0]  # identical first step (zero velocity)
    assert not np.allclose(a[2:], b[2:])


def test_rmsprop_first_two_steps():
    eta, beta, eps = 0.01, 0.9, 1e-8
    opt = make_optimizer("rmsprop", {"eta": eta, "beta": beta, "epsilon": eps})
    traj = run(opt, grad_x2, [1.0], 2)
    s1 = (1 - beta) * 4.0
    x1 = 1.0 - eta * 2.0 / (math.sqrt(s1) + eps)
    g2 = 2.0 * x1
    s2 = beta * s1 + (1 - beta) * g2**2
    x2 = x1 - eta * g2 / (math.sqrt(s2) + eps)
    np.testing.assert_allclose(traj[:, 0], [1.0, x1, x2], rtol=0, atol=1e-15)


def test_epsilon_outside_square_root():
    assert EPSILON_PLACEMENT == "outside_sqrt"
    eta, beta, eps, g = 1.0, 0.9, 1e-8, 1e-8
    opt = make_optimizer("rmsprop", {"eta": eta, "beta": beta, "epsilon": eps})
    x1 = opt.step(np.array([0.0]), lambda th: np.array([g]))[0]
    outside = -eta * g / (math.sqrt((1 - beta) * g**2) + eps)
    inside = -eta * g / math.sqrt((1 - beta) * g**2 + eps)
    assert x1 == pytest.approx(outside, rel=1e-12)
    assert abs(outside - inside) > 1e-3  # the two placements are distinguishable here


def test_adam_bias_correction_first_step_is_eta_sign_g():
    eta, b1, b2, eps = 1e-3, 0.9, 0.999, 1e-8
    opt = Adam({"eta": eta, "beta1": b1, "beta2": b2, "epsilon": eps})
    g = np.array([3.0, -0.5])
    x1 = opt.step(np.zeros(2), lambda th: g)
    # m_hat = g and s_hat = g^2 at t = 1, so the step is eta * g / (|g| + eps) = eta * sign(g);
    # without the correction it would be eta * (1 - b1) / sqrt(1 - b2) ~ 3.16 eta per component
    np.testing.assert_allclose(x1, -eta * np.sign(g), rtol=1e-7)


def test_adam_second_step_uses_one_minus_beta_to_the_t():
    eta, b1, b2, eps = 1e-3, 0.9, 0.99, 1e-8
    opt = Adam({"eta": eta, "beta1": b1, "beta2": b2, "epsilon": eps})
    g = np.array([3.0, -0.5])
    x1 = opt.step(np.zeros(2), lambda th: g)
    x2 = opt.step(x1, lambda th: -2.0 * g)
    m = b1 * (1 - b1) * g + (1 - b1) * (-2.0 * g)
    s = b2 * (1 - b2) * g**2 + (1 - b2) * 4.0 * g**2
    m_hat, s_hat = m / (1 - b1**2), s / (1 - b2**2)
    np.testing.assert_allclose(x2, x1 - eta * m_hat / (np.sqrt(s_hat) + eps), rtol=0, atol=1e-15)
    assert opt.t == 2


# ---------------------------------------------------------------------------------
# Convergence and bookkeeping
# ---------------------------------------------------------------------------------

CONVERGENT = {
    "gd": {"eta": 0.1},
    "gdm": {"eta": 0.05, "gamma": 0.9},
    "nag": {"eta": 0.05, "gamma": 0.9},
    "rmsprop": {"eta": 1e-3, "beta": 0.9, "epsilon": 1e-8},
    "adam": {"eta": 1e-2, "beta1": 0.9, "beta2": 0.99, "epsilon": 1e-8},
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_all_converge_on_convex_quadratic(name):
    curv = np.array([1.0, 4.0])  # f = (x^2 + 4 y^2) / 2, minimum at 0

    def grad(theta):
        return curv * theta

    traj = run(make_optimizer(name, CONVERGENT[name]), grad, [1.0, -1.0], 3000)
    assert traj.shape == (3001, 2)
    assert np.all(np.isfinite(traj))
    assert np.linalg.norm(traj[-1]) < 0.01 * np.linalg.norm(traj[0])


def test_run_shape_start_row_and_reset():
    opt = make_optimizer("gdm", {"eta": 0.1, "gamma": 0.9})
    first = run(opt, grad_x2, [1.0, 2.0], 7)
    second = run(opt, grad_x2, [1.0, 2.0], 7)  # state is reset: same trajectory
    assert first.shape == (8, 2)
    np.testing.assert_array_equal(first[0], [1.0, 2.0])
    np.testing.assert_array_equal(first, second)
    assert opt.t == 7


def test_run_stops_cleanly_on_overflow():
    traj = run(make_optimizer("gd", {"eta": 1e200}), lambda th: th * 1e200, [1.0], 5)
    assert traj.shape == (6, 1)
    assert not np.all(np.isfinite(traj))
    assert traj[0, 0] == 1.0


def test_factory_errors():
    with pytest.raises(ValueError, match="unknown optimizer"):
        make_optimizer("sgd", {"eta": 0.1})
    with pytest.raises(ValueError, match="missing"):
        make_optimizer("gdm", {"eta": 0.1})
    with pytest.raises(ValueError, match="unknown parameters"):
        make_optimizer("gd", {"eta": 0.1, "gamma": 0.9})
    with pytest.raises(ValueError):
        run(make_optimizer("gd", {"eta": 0.1}), grad_x2, [1.0], -1)
