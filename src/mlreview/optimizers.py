"""Hand-written first-order optimisers of Section IV (Fig 9): GD, GDM, NAG, RMSprop, ADAM.

Each optimiser is a small object with state (velocity, moment estimates, step count),
built from a params dict such as ``{"eta": 1e-6, "gamma": 0.9}``. ``step(theta,
grad_fn)`` returns the next position; :func:`run` iterates it from a start point and
returns the whole trajectory. All updates are deterministic and start from zero
velocity / zero moment estimates. The formulas are those of the spec (Fig 9 entry):

* GD:      theta <- theta - eta g(theta)
* GDM:     v <- gamma v + eta g(theta);                 theta <- theta - v
* NAG:     v <- gamma v + eta g(theta - gamma v);       theta <- theta - v   (look-ahead at theta - gamma v)
* RMSprop: s <- beta s + (1 - beta) g^2;                theta <- theta - eta g / (sqrt(s) + epsilon)
* ADAM:    m <- beta1 m + (1 - beta1) g;  s <- beta2 s + (1 - beta2) g^2;
           m_hat = m / (1 - beta1^t);  s_hat = s / (1 - beta2^t);
           theta <- theta - eta m_hat / (sqrt(s_hat) + epsilon)

Epsilon is added outside the square root (:data:`EPSILON_PLACEMENT`); the review prints
it inside, and the spec accepts either at epsilon = 1e-8.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

GradFn = Callable[[np.ndarray], np.ndarray]

#: Where RMSprop and ADAM add epsilon in the denominator: ``sqrt(s) + epsilon``.
EPSILON_PLACEMENT = "outside_sqrt"


class Optimizer:
    """Base class: keeps the step count ``t`` and the parameters."""

    name = "base"
    required: tuple[str, ...] = ()

    def __init__(self, params: Mapping[str, float]):
        missing = [key for key in self.required if key not in params]
        if missing:
            raise ValueError(f"{self.name}: missing parameters {missing}")
        unknown = [key for key in params if key not in self.required]
        if unknown:
            raise ValueError(f"{self.name}: unknown parameters {unknown}")
        self.params = {key: float(params[key]) for key in self.required}
        self.reset()

    def reset(self) -> None:
        """Forget all state (step count, velocity, moments)."""
        self.t = 0

    def step(self, theta: np.ndarray, grad_fn: GradFn) -> np.ndarray:
        """Return the position after one update from ``theta``."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.params})"


class GD(Optimizer):
    """Plain gradient descent with a constant learning rate."""

    name = "gd"
    required = ("eta",)

    def step(self, theta, grad_fn):
        self.t += 1
        return theta - self.params["eta"] * grad_fn(theta)


class GDM(Optimizer):
    """Gradient descent with momentum: v <- gamma v + eta g; theta <- theta - v."""

    name = "gdm"
    required = ("eta", "gamma")

    def reset(self):
        super().reset()
        self.v = 0.0

    def lookahead(self, theta: np.ndarray) -> np.ndarray:
        """The point where the next gradient is evaluated (theta itself for GDM)."""
        return theta

    def step(self, theta, grad_fn):
        self.t += 1
        self.v = self.params["gamma"] * self.v + self.params["eta"] * grad_fn(self.lookahead(theta))
        return theta - self.v


class NAG(GDM):
    """Nesterov accelerated gradient: momentum with the gradient taken at theta - gamma v."""

    name = "nag"

    def lookahead(self, theta: np.ndarray) -> np.ndarray:
        return theta - self.params["gamma"] * self.v


class RMSprop(Optimizer):
    """RMSprop: running average of g^2; step eta g / (sqrt(s) + epsilon)."""

    name = "rmsprop"
    required = ("eta", "beta", "epsilon")

    def reset(self):
        super().reset()
        self.s = 0.0

    def step(self, theta, grad_fn):
        p = self.params
        self.t += 1
        g = grad_fn(theta)
        self.s = p["beta"] * self.s + (1.0 - p["beta"]) * g * g
        return theta - p["eta"] * g / (np.sqrt(self.s) + p["epsilon"])


class Adam(Optimizer):
    """ADAM with the standard bias correction 1 - beta^t of both moment estimates."""

    name = "adam"
    required = ("eta", "beta1", "beta2", "epsilon")

    def reset(self):
        super().reset()
        self.m = 0.0
        self.s = 0.0

    def step(self, theta, grad_fn):
        p = self.params
        self.t += 1
        g = grad_fn(theta)
        self.m = p["beta1"] * self.m + (1.0 - p["beta1"]) * g
        self.s = p["beta2"] * self.s + (1.0 - p["beta2"]) * g * g
        m_hat = self.m / (1.0 - p["beta1"] ** self.t)
        s_hat = self.s / (1.0 - p["beta2"] ** self.t)
        return theta - p["eta"] * m_hat / (np.sqrt(s_hat) + p["epsilon"])


#: Factory keys, in the order the figure lists the methods.
OPTIMIZERS: dict[str, type[Optimizer]] = {
    "gd": GD,
    "gdm": GDM,
    "nag": NAG,
    "rmsprop": RMSprop,
    "adam": Adam,
}


def make_optimizer(name: str, params: Mapping[str, float]) -> Optimizer:
    """A fresh optimiser ``name`` (one of :data:`OPTIMIZERS`) with ``params``."""
    try:
        cls = OPTIMIZERS[name]
    except KeyError:
        raise ValueError(f"unknown optimizer {name!r}; known: {sorted(OPTIMIZERS)}") from None
    return cls(params)


def run(optimizer: Optimizer, grad_fn: GradFn, start, n_steps: int) -> np.ndarray:
    """Iterate ``optimizer`` from ``start`` for ``n_steps`` updates (state is reset first).

    Returns the trajectory, shape ``(n_steps + 1, dim)``; row 0 is the start. Once a
    position overflows to a non-finite value, the remaining rows are left non-finite.
    """
    if n_steps < 0:
        raise ValueError("n_steps must be >= 0")
    theta = np.array(start, dtype=float)
    if theta.ndim != 1:
        raise ValueError("start must be a 1-D point")
    optimizer.reset()
    traj = np.empty((n_steps + 1, theta.size))
    traj[0] = theta
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(1, n_steps + 1):
            theta = optimizer.step(theta, grad_fn)
            traj[t] = theta
            if not np.all(np.isfinite(theta)):
                traj[t + 1 :] = np.nan
                break
    return traj
