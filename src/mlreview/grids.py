"""Regularisation grids shared by the regression sections: a log-spaced grid from a config entry
and the metrics key of each of its values."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np


def log_grid(spec: Mapping) -> np.ndarray:
    """``numpy.logspace(low, high, n)`` from a config entry ``{low, high, n}`` (log10 bounds)."""
    n = int(spec["n"])
    if n < 1:
        raise ValueError(f"log_grid: n must be >= 1, got {n}")
    return np.logspace(float(spec["low"]), float(spec["high"]), n)


def lambda_key(lam: float) -> str:
    """Metrics key of a lambda: ``lam_`` and three significant digits (``lam_0.01``, ``lam_1e+03``)."""
    return f"lam_{float(lam):.3g}"


def lambda_keys(lambdas: Sequence[float]) -> list[str]:
    """:func:`lambda_key` of every lambda; raises if two lambdas share a key."""
    keys = [lambda_key(lam) for lam in lambdas]
    if len(set(keys)) != len(keys):
        raise ValueError("lambda grid too fine for three significant digits in the metrics keys")
    return keys
