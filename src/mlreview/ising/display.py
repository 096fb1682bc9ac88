"""Fig 20: one seeded random state per displayed temperature, and what it shows."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from mlreview.data.ising import load_ising2d
from mlreview.io import save_npz
from mlreview.ising.observables import lattice_observables
from mlreview.steps import step


def nearest_neighbour_correlation(lattice: np.ndarray) -> float:
    """<s_i s_j> over all nearest-neighbour bonds of a periodic lattice (= -E/(2JN))."""
    return float(lattice_observables(np.asarray(lattice)[None])["nn_correlation"][0])


@step
def fig20_select(params: Mapping, *, dataset: Path, data: Path) -> dict:
    """Pick one state per temperature (seeded) and measure m, <s_i s_j> and the spread of |m|."""
    temps = [float(t) for t in params["temperatures"]]
    d = load_ising2d(dataset, temperatures=temps)
    rng = np.random.default_rng(int(params["seed"]))
    shown, metrics = [], {"temperatures": temps, "tc": d.tc, "states": {}}
    for T in temps:
        rows = np.flatnonzero(np.isclose(d.temperature, T))
        if rows.size == 0:
            raise ValueError(f"no states at T={T} in the data set")
        pick = int(rng.choice(rows))
        lattice = d.X[pick].reshape(d.lattice, d.lattice)
        shown.append(lattice)
        abs_m = np.abs(d.X[rows].mean(axis=1))
        metrics["states"][f"T_{T:.2f}"] = {
            "row": int(d.rows[pick]),
            "m": float(lattice.mean()),
            "nn_correlation": nearest_neighbour_correlation(lattice),
            "block_mean_abs_m": float(abs_m.mean()),
            "block_std_abs_m": float(abs_m.std()),
        }
    spreads = [metrics["states"][f"T_{T:.2f}"]["block_std_abs_m"] for T in temps]
    crit = int(np.argmin([abs(T - d.tc) for T in temps]))
    metrics["critical_temperature_shown"] = temps[crit]
    # C27 proxy: near Tc single states are ambiguous because |m| fluctuates most there.
    others = [s for i, s in enumerate(spreads) if i != crit]
    metrics["critical_spread_largest"] = bool(spreads[crit] == max(spreads))
    if others and max(others) > 0:
        metrics["critical_spread_ratio"] = float(spreads[crit] / max(others))
    else:  # one temperature only, or the others never fluctuate
        metrics["critical_spread_ratio"] = None
    save_npz(data, states=np.stack(shown), temperatures=np.array(temps), tc=d.tc)
    return metrics
