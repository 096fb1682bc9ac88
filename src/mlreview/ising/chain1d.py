"""1D Ising chains for the linear-regression figures (Figs 16, 17; spec Section 2.2).

States are random chains of L spins s_j = +-1, each spin independently uniform. Their energy
is the nearest-neighbour Ising energy with periodic boundary,

    E = -J sum_{j=1..L} s_j s_{j+1},   s_{L+1} = s_1.

The regression model of the review is linear in the L^2 pair products s_j s_k,
H = sum_{jk} J_{jk} s_j s_k. The generating coupling matrix holds only the "forward" bonds
J_{j,j+1} = -J (never J_{j,j-1}), so it is not symmetric; :func:`coupling_matrix` builds it and
:func:`pair_features` the matching features (``pair_features(s) @ coupling_matrix(L, J).ravel()``
equals the energies exactly). No noise is added to the energies.

For independent uniform spins each bond b_j = s_j s_{j+1} is uniform on {-1, +1} and the bonds
are pairwise independent (for L >= 3 any L - 1 of them are independent; their product is 1), so
E has mean 0 and variance L J^2; the step checks the sample against these.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mlreview.io import Contract, save_npz
from mlreview.steps import step

SPIN_VALUES = (-1, 1)
#: the chains file: n chains of `length` spins and their energies
CHAINS = Contract(dims={"states": ("n", "spins"), "energies": ("n",), "length": ()},
                  relations=("spins == length",))


def _check_states(states) -> np.ndarray:
    s = np.asarray(states)
    if s.ndim != 2 or s.shape[1] < 1:
        raise ValueError(f"states must be a 2-D array (n_states, length), got shape {s.shape}")
    if not np.all(np.isin(s, SPIN_VALUES)):
        raise ValueError("states must contain only spins -1 and +1")
    return s


def random_chains(n_states: int, length: int, seed: int) -> np.ndarray:
    """``n_states`` random chains of ``length`` spins +-1, as an int8 array (n_states, length).

    Each spin is independently uniform on {-1, +1}, drawn from
    ``numpy.random.default_rng(seed)``. The authors' notebook used the legacy global
    ``np.random.seed(12)`` with ``np.random.choice([-1, 1], ...)``; we use the modern Generator,
    so the states (not their distribution) differ from the notebook's.
    """
    if int(n_states) < 1 or int(length) < 1:
        raise ValueError(f"n_states and length must be positive, got {n_states} and {length}")
    rng = np.random.default_rng(seed)
    bits = rng.integers(0, 2, size=(int(n_states), int(length)), dtype=np.int8)
    return (2 * bits - 1).astype(np.int8)


def chain_energies(states, J: float) -> np.ndarray:
    """Energies ``-J sum_j s_j s_{j+1}`` of periodic chains, float64 of shape (n_states,)."""
    s = _check_states(states).astype(np.float64)
    return -float(J) * np.sum(s * np.roll(s, -1, axis=1), axis=1)


def coupling_matrix(length: int, J: float) -> np.ndarray:
    """The L x L generating coupling matrix: entry (j, j+1 mod L) = -J, every other entry 0.

    Only forward bonds, so the matrix is not symmetric (for L >= 3) and has exactly L nonzero
    entries (for J != 0), and ``E = sum_{jk} Jmat[j, k] s_j s_k``.
    """
    length = int(length)
    if length < 1:
        raise ValueError(f"length must be positive, got {length}")
    jmat = np.zeros((length, length), dtype=np.float64)
    j = np.arange(length)
    jmat[j, (j + 1) % length] = -float(J)
    return jmat


def pair_features(states, dtype=np.float32) -> np.ndarray:
    """All pair products s_j s_k: shape (n_states, L^2), row-major in (j, k).

    Column ``j * L + k`` holds s_j s_k, matching ``coupling_matrix(L, J).ravel()``. The values
    are +-1, exact in any float dtype.
    """
    s = _check_states(states).astype(dtype)
    n, length = s.shape
    return (s[:, :, None] * s[:, None, :]).reshape(n, length * length)


@step
def ising1d_chains(params: dict, *, data: Path) -> dict:
    """Draw the chains, compute their energies, write ``data`` (.npz) and return metrics.

    params: ``n_states``, ``length``, ``J``, ``seed`` (config section ``ising1d``).
    The .npz holds ``states`` (int8), ``energies`` (float64), ``length``, ``J``, ``seed``.
    """
    n_states, length = int(params["n_states"]), int(params["length"])
    J, seed = float(params["J"]), int(params["seed"])
    states = random_chains(n_states, length, seed)
    energies = chain_energies(states, J)
    save_npz(data, contract=CHAINS, states=states, energies=energies, length=length, J=J, seed=seed)

    predicted = pair_features(states, dtype=np.float64) @ coupling_matrix(length, J).ravel()
    expected_variance = length * J**2
    mean = float(energies.mean())
    std_of_mean = np.sqrt(expected_variance / n_states)
    return {
        "n_states": n_states,
        "length": length,
        "energy_mean": mean,
        "energy_std": float(energies.std(ddof=1)) if n_states > 1 else 0.0,
        "expected_mean": 0.0,
        "expected_std": float(np.sqrt(expected_variance)),
        "energy_mean_z": float(mean / std_of_mean) if std_of_mean > 0 else 0.0,
        "fraction_unique_states": np.unique(states, axis=0).shape[0] / n_states,
        "max_abs_linear_residual": float(np.max(np.abs(predicted - energies))),
    }
