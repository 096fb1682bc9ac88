"""Activation functions of Fig 36 and their derivatives at large |z| (claim C50).

Values on the z grid come from ``torch.nn.functional`` (sigmoid, tanh, relu, leaky_relu with
slope ``leaky_slope``, elu with ``elu_alpha``) in float64; derivatives come from autograd on
the same functions. The perceptron step is ``numpy.heaviside(z, step_value_at_zero)``; its
derivative is 0 at every z != 0 and undefined (NaN, written as null) at z = 0. At the kinks of
ReLU/leaky ReLU (z = 0) autograd returns torch's one-sided convention; C50 only uses |z| = 10.

Metrics keys: ``derivative/<function>/z_<z>`` with ``z`` written by ``repr(float(z))``
(``z_10.0``, ``z_-10.0``), never pure digits. ``c50/non_saturating_slopes_equal_one`` is True
when ReLU, leaky ReLU and ELU have derivative exactly 1 at every positive z of
``derivative_at``. The thresholds of the saturating functions (sigmoid'(10) < 1e-4,
tanh'(10) < 1e-8) live in the claim registry, which reads the exposed derivative values.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np

from mlreview.io import save_npz
from mlreview.steps import step

#: Functions in figure order: top row saturating, bottom row non-saturating.
SATURATING = ("step", "sigmoid", "tanh")
NON_SATURATING = ("relu", "leaky_relu", "elu")
FUNCTIONS = SATURATING + NON_SATURATING
TITLES = {
    "step": "Perceptron (step)",
    "sigmoid": "Sigmoid",
    "tanh": "Tanh",
    "relu": "ReLU",
    "leaky_relu": "Leaky ReLU",
    "elu": "ELU",
}


def z_key(z: float) -> str:
    """Metrics key of an evaluation point (``z_10.0``)."""
    return f"z_{float(z)!r}"


def torch_functions(leaky_slope: float, elu_alpha: float) -> dict[str, Callable]:
    """The five differentiable activations as torch callables."""
    # torch is imported here, not at the top: the plot step of Fig 36 imports this module's
    # constants and should not pay for torch (about 1.4 s of CPU per process)
    import torch
    import torch.nn.functional as F

    return {
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
        "relu": F.relu,
        "leaky_relu": lambda z: F.leaky_relu(z, negative_slope=leaky_slope),
        "elu": lambda z: F.elu(z, alpha=elu_alpha),
    }


def step_function(z, value_at_zero: float) -> np.ndarray:
    """Perceptron step: 0 for z < 0, 1 for z > 0, ``value_at_zero`` at 0."""
    return np.heaviside(np.asarray(z, dtype=np.float64), value_at_zero)


def step_derivative(z) -> np.ndarray:
    """0 away from z = 0, NaN (undefined) at z = 0."""
    z = np.asarray(z, dtype=np.float64)
    return np.where(z == 0.0, np.nan, 0.0)


def values_and_derivatives(
    z, leaky_slope: float, elu_alpha: float, step_value_at_zero: float
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Values and first derivatives (autograd, float64) of all six functions at ``z``."""
    import torch

    z = np.asarray(z, dtype=np.float64)
    values = {"step": step_function(z, step_value_at_zero)}
    derivs = {"step": step_derivative(z)}
    for name, func in torch_functions(leaky_slope, elu_alpha).items():
        zt = torch.tensor(z, dtype=torch.float64, requires_grad=True)
        out = func(zt)
        (grad,) = torch.autograd.grad(out.sum(), zt)
        values[name] = out.detach().numpy().copy()
        derivs[name] = grad.numpy().copy()
    return values, derivs


@step
def activations_compute(params: Mapping, *, data: Path) -> dict:
    """Values on the z grid (npz for the plot) and derivatives at ``derivative_at`` (metrics)."""
    slope = float(params["leaky_slope"])
    alpha = float(params["elu_alpha"])
    h0 = float(params["step_value_at_zero"])
    z = np.linspace(*map(float, params["z_range"]), int(params["n_points"]))
    values, derivs = values_and_derivatives(z, slope, alpha, h0)
    save_npz(
        data,
        z=z,
        **{f"value_{k}": v for k, v in values.items()},
        **{f"deriv_{k}": v for k, v in derivs.items()},
    )

    z_at = np.asarray(params["derivative_at"], dtype=np.float64)
    _, d_at = values_and_derivatives(z_at, slope, alpha, h0)
    derivative = {name: {z_key(zi): float(d_at[name][i]) for i, zi in enumerate(z_at)} for name in FUNCTIONS}
    positive = z_at > 0
    slopes_one = bool(positive.any()) and all(
        bool(np.all(d_at[name][positive] == 1.0)) for name in NON_SATURATING
    )
    return {
        "leaky_slope": slope,
        "elu_alpha": alpha,
        "derivative": derivative,
        "c50": {"non_saturating_slopes_equal_one": slopes_one},
    }
