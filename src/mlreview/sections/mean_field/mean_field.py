"""Mean-field theory of the Ising model (Section XIV, spec 4.2).

The self-consistency m = tanh(theta), theta = beta (z J m + h) is solved, as in the review, by
iterating the two updates from m = 1 until |delta m| < ``tol`` (at most ``max_iter``
iterations). The mean-field critical temperature on the grid is the largest T with
m > ``m_threshold``; the closed form is T_c = z J. Near T_c the iteration slows down (the
update's slope beta z J tends to 1), so the record says where it stopped before ``tol``.

Compared with: Onsager's spontaneous magnetisation of the square lattice (z = 4), the exact
m = 0 of the 1D chain (z = 2) at every T > 0, and <|m|> of the project's Monte Carlo data
(the validation arrays of the 2D data set).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from mlreview.io import load_npz, save_npz, to_jsonable
from mlreview.ising.exact import critical_temperature, onsager_magnetisation
from mlreview.steps import step


def solve_mean_field(T, z: int, J: float = 1.0, h: float = 0.0, tol: float = 1e-12,
                     max_iter: int = 100000, m0: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """(m, iterations) per temperature of the fixed-point iteration m <- tanh(beta (z J m + h)).

    All temperatures iterate together; each stops when its update changes m by less than ``tol``
    (``iterations`` = ``max_iter`` + 1 marks one that did not get there).
    """
    beta = 1.0 / np.asarray(T, float)
    m = np.full(beta.shape, float(m0))
    iterations = np.full(beta.shape, int(max_iter) + 1)
    # iterate only the temperatures still running (compressed whenever some finish)
    idx = np.arange(beta.size)
    b, mm = beta.ravel().copy(), m.ravel().copy()
    flat_m, flat_it = m.ravel(), iterations.ravel()
    for it in range(1, int(max_iter) + 1):
        new = np.tanh(b * (z * J * mm + h))
        done = np.abs(new - mm) < tol
        mm = new
        if done.any():
            flat_m[idx[done]] = mm[done]
            flat_it[idx[done]] = it
            keep = ~done
            idx, b, mm = idx[keep], b[keep], mm[keep]
            if idx.size == 0:
                break
    flat_m[idx] = mm  # those that reached max_iter
    return flat_m.reshape(beta.shape), flat_it.reshape(beta.shape)


def critical_on_grid(T: np.ndarray, m: np.ndarray, threshold: float) -> float | None:
    """The largest grid temperature with m > ``threshold`` (None when there is none)."""
    above = np.flatnonzero(np.asarray(m) > threshold)
    return float(np.asarray(T)[above].max()) if len(above) else None


def temperature_grid(grid: Mapping) -> np.ndarray:
    """T from ``start`` to ``stop`` (inclusive) in steps of ``step``."""
    start, stop, step = (float(grid[k]) for k in ("start", "stop", "step"))
    n = int(round((stop - start) / step)) + 1
    return start + step * np.arange(n)


@step
def mean_field_solve(params: Mapping, *, validation: Path, data: Path) -> dict:
    """Workflow step (spec 4.2): mean-field m(T) for every lattice, against Onsager, the exact 1D
    chain and the Monte Carlo <|m|>."""
    J, h = float(params["J"]), float(params["h"])
    T = temperature_grid(params["temperatures"])
    threshold = float(params["m_threshold"])
    arrays, lattices = {"T": T}, {}
    for name, z in params["coordination"].items():
        m, iters = solve_mean_field(T, int(z), J, h, float(params["tol"]), int(params["max_iter"]))
        tc_grid = critical_on_grid(T, m, threshold)
        unconverged = T[iters > int(params["max_iter"])]
        arrays[f"m_{name}"] = m
        arrays[f"iterations_{name}"] = iters
        lattices[name] = {"z": int(z), "tc_grid": tc_grid, "tc_closed_form": int(z) * J,
                          "n_unconverged": int(len(unconverged)),
                          "unconverged_T": unconverged, "max_iterations": int(iters.max())}
    tc = critical_temperature(J)
    onsager = onsager_magnetisation(T, J)
    mc = load_npz(validation)
    save_npz(data, **arrays, onsager=onsager, exact_chain=np.zeros_like(T), tc=tc,
             mc_T=mc["T"], mc_abs_m=mc["abs_m"], mc_abs_m_se=mc["abs_m_se"], lattice=mc["lattice"])
    square, chain = lattices["square"], lattices["chain"]
    # mean field and Onsager at the Monte Carlo temperatures
    mc_T = np.asarray(mc["T"], float)
    mf_at_mc, _ = solve_mean_field(mc_T, square["z"], J, h, float(params["tol"]), int(params["max_iter"]))
    return to_jsonable({
        "J": J,
        "h": h,
        "lattices": lattices,
        "onsager_tc": tc,
        "mc_comparison": {f"T_{t:.2f}": {"mean_field": float(mf), "onsager": float(on), "mc_abs_m": float(am)}
                          for t, mf, on, am in zip(mc_T, mf_at_mc, onsager_magnetisation(mc_T, J), mc["abs_m"])},
        "c84": {"tc_mean_field": square["tc_grid"], "tc_onsager": tc,
                "relative_error": (square["tc_grid"] - tc) / tc if square["tc_grid"] is not None else None},
        "c85": {"tc_mean_field": chain["tc_grid"], "exact_m_max": 0.0},
    })
