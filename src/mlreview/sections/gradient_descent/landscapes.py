"""Test landscapes of Section IV: the quadratic bowl (Fig 7) and Beale's function (Fig 9).

Values take coordinate arrays ``x, y`` (any broadcastable shapes, for contour grids);
gradients take one point ``theta = (x, y)`` and return an array of shape (2,).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class QuadraticBowl:
    """E(x, y) = a x^2 + b y^2 + c, minimum at (0, 0) for a, b > 0."""

    a: float
    b: float
    c: float = 0.0

    @classmethod
    def from_params(cls, surface: dict) -> QuadraticBowl:
        return cls(float(surface["a"]), float(surface["b"]), float(surface.get("c", 0.0)))

    def value(self, x, y):
        return self.a * np.asarray(x) ** 2 + self.b * np.asarray(y) ** 2 + self.c

    def gradient(self, theta) -> np.ndarray:
        x, y = theta
        return np.array([2.0 * self.a * x, 2.0 * self.b * y])

    @property
    def minimum(self) -> np.ndarray:
        return np.zeros(2)

    @property
    def curvature(self) -> np.ndarray:
        """Second derivatives (d^2E/dx^2, d^2E/dy^2) = (2a, 2b); the Hessian is diagonal."""
        return np.array([2.0 * self.a, 2.0 * self.b])

    @property
    def eta_opt(self) -> np.ndarray:
        """Per-direction optimal learning rate 1 / (d^2E), reached in one GD step."""
        return 1.0 / self.curvature

    def gd_factor(self, eta: float) -> np.ndarray:
        """Per-component GD factor: x_{t+1} = (1 - 2 a eta) x_t, y_{t+1} = (1 - 2 b eta) y_t."""
        return 1.0 - eta * self.curvature


#: Beale's constants c_i of the three terms (c_i - x + x y^i)^2, i = 1, 2, 3.
BEALE_C = (1.5, 2.25, 2.625)
#: Beale's global minimum, f = 0.
BEALE_MINIMUM = (3.0, 0.5)


def beale(x, y):
    """f(x, y) = (1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    return sum((c - x + x * y**i) ** 2 for i, c in enumerate(BEALE_C, start=1))


def beale_gradient(theta) -> np.ndarray:
    """Analytic gradient of Beale's function at ``theta = (x, y)``."""
    x, y = np.float64(theta[0]), np.float64(theta[1])  # numpy scalars: overflow gives inf
    gx = gy = np.float64(0.0)
    for i, c in enumerate(BEALE_C, start=1):
        term = c - x + x * y**i
        gx += 2.0 * term * (y**i - 1.0)
        gy += 2.0 * term * i * x * y ** (i - 1)
    return np.array([gx, gy])
