"""The 2D and 1D Ising data sets: assembly of the per-temperature files, and loaders.

2D layout (``ising2d.npz``): rows ordered by increasing temperature, ``n`` consecutive
rows per temperature; each row is one L x L lattice flattened row-major and bit-packed
(``numpy.packbits``, 1 = spin up). With it: the temperature of every row, the label
(1 = ordered, T < Tc; 0 = disordered), the phase set of every row (ordered T below the
critical range, critical inside it, disordered above it) and the three index sets.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mlreview.data.splits import split_indices
from mlreview.io import Contract, as_list, load_npz, save_npz
from mlreview.ising.chain1d import CHAINS
from mlreview.ising.packing import unpack_states
from mlreview.steps import step

#: Phase sets, in the order of the integer codes stored in ``phase``.
PHASES = ("ordered", "critical", "disordered")
#: the 2D data set: one packed row of lattice^2 spin bits per state, its temperature, label and phase
ISING2D = Contract(
    dims={"packed": ("n", "row_bytes"), "temperature": ("n",), "label": ("n",), "phase": ("n",),
          "temperatures": ("t",), "lattice": (), "J": (), "tc": ()},
    relations=("row_bytes == (lattice * lattice + 7) // 8",),
)


def phase_of(temperatures, critical_range) -> np.ndarray:
    """0 (ordered), 1 (critical) or 2 (disordered) per temperature."""
    t = np.asarray(temperatures, float)
    low, high = critical_range
    return np.where(t < low - 1e-9, 0, np.where(t > high + 1e-9, 2, 1)).astype(np.int8)


@step
def ising2d_assemble(params: Mapping, *, temperatures, dataset: Path) -> dict:
    """Workflow step: one data set from the per-temperature files."""
    parts = sorted((load_npz(p) for p in as_list(temperatures)), key=lambda d: float(d["temperature"]))
    lattice = int(parts[0]["lattice"])
    if any(int(d["lattice"]) != lattice for d in parts):
        raise ValueError("the per-temperature files have different lattice sizes")
    temps = np.array([float(d["temperature"]) for d in parts])
    expected = np.array(sorted(float(t) for t in params["temperatures"]))
    if temps.shape != expected.shape or not np.allclose(temps, expected):
        raise ValueError(f"temperatures {temps.tolist()} do not match the config {expected.tolist()}")
    counts = [len(d["packed"]) for d in parts]
    row_t = np.repeat(temps, counts).astype(np.float32)
    from mlreview.ising.exact import critical_temperature  # scipy.special: only the assembling step needs it

    tc = critical_temperature(float(params["J"]))
    label = (row_t < tc).astype(np.int8)
    phase = phase_of(row_t, params["critical_range"])
    sets = {name: np.flatnonzero(phase == code).astype(np.int32) for code, name in enumerate(PHASES)}
    save_npz(
        dataset,
        contract=ISING2D,
        packed=np.concatenate([d["packed"] for d in parts]),
        temperature=row_t,
        label=label,
        phase=phase,
        lattice=lattice,
        J=float(params["J"]),
        tc=tc,
        temperatures=temps,
        **{f"{name}_idx": idx for name, idx in sets.items()},
    )
    return {
        "n_rows": int(sum(counts)),
        "lattice": lattice,
        "tc": tc,
        "rows_per_temperature": dict(zip([f"T_{t:.2f}" for t in temps], counts)),
        "set_sizes": {name: int(len(idx)) for name, idx in sets.items()},
        "set_temperatures": {name: sorted({float(f"{t:.2f}") for t in temps[phase_of(temps, params["critical_range"]) == code]})
                             for code, name in enumerate(PHASES)},
        "label_counts": {"ordered_1": int(label.sum()), "disordered_0": int((label == 0).sum())},
    }


@dataclass(frozen=True)
class Ising2D:
    """Decoded 2D Ising data: ``X`` (n, L*L) int8 spins, with temperature, label, phase,
    and ``rows``, the row numbers of these states in the full data set."""

    X: np.ndarray
    temperature: np.ndarray
    label: np.ndarray
    phase: np.ndarray
    lattice: int
    tc: float
    rows: np.ndarray

    def lattices(self) -> np.ndarray:
        """The states as (n, L, L)."""
        return self.X.reshape(-1, self.lattice, self.lattice)


def _rows(data: Mapping, phases: Iterable[str] | None = None,
          temperatures: Iterable[float] | None = None) -> np.ndarray:
    """The row numbers (increasing) of the states of some phase sets and/or temperatures."""
    keep = np.ones(len(data["packed"]), bool)
    if phases is not None:
        phases = list(phases)
        unknown = set(phases) - set(PHASES)
        if unknown:
            raise ValueError(f"unknown phase sets {sorted(unknown)}; choose from {PHASES}")
        keep &= np.isin(data["phase"], [PHASES.index(p) for p in phases])
    if temperatures is not None:
        wanted = np.round(np.asarray(list(temperatures), float), 6)
        keep &= np.isin(np.round(data["temperature"].astype(float), 6), wanted)
    return np.flatnonzero(keep)


def load_ising2d(path: str | Path, encoding: str = "pm1", phases: Iterable[str] | None = None,
                 temperatures: Iterable[float] | None = None) -> Ising2D:
    """Load the 2D data set, optionally only some phase sets and/or temperatures.

    ``encoding``: ``"pm1"`` (spins +-1, the default) or ``"01"`` ((s + 1) / 2).
    ``phases``: any of ``"ordered"``, ``"critical"``, ``"disordered"`` (default: all).
    """
    data = load_npz(path, contract=ISING2D)
    rows = _rows(data, phases, temperatures)
    lattice = int(data["lattice"])
    X = unpack_states(data["packed"][rows], lattice * lattice, encoding)
    return Ising2D(X, data["temperature"][rows], data["label"][rows], data["phase"][rows], lattice,
                   float(data["tc"]), rows)


def load_ising1d(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """The 1D chains: (states (n, L) int8 +-1, energies (n,)). Features: chain1d.pair_features."""
    data = load_npz(path, contract=CHAINS)
    return data["states"], data["energies"]


def load_phase_sets(dataset: Path, params: Mapping) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{train, test, critical}: (X as params['dtype'], label) with the seeded split of ordered + disordered.

    The states of each set are unpacked straight into ``params['dtype']`` (no int8 copy of the
    whole data set first: at paper scale 1 GB of float32 instead of that plus 0.5 GB of copies)."""
    dtype = np.dtype(params["dtype"])
    data = load_npz(dataset, contract=ISING2D)
    n_spins = int(data["lattice"]) ** 2
    fit = _rows(data, phases=params["train_phases"])
    crit = _rows(data, phases=params["evaluation_phases"])
    train, test = split_indices(len(fit), float(params["train_fraction"]), int(params["split_seed"]))

    def states(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return unpack_states(data["packed"][rows], n_spins, "pm1", dtype), data["label"][rows]

    return {"train": states(fit[train]), "test": states(fit[test]), "critical": states(crit)}
