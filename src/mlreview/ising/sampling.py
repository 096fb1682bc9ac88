"""The sampling protocol that makes the 2D Ising data trustworthy (one temperature).

For every temperature:

1. ``chains`` independent chains, each with its own random stream
   (``seed, temperature index, chain index``), start cold with a random sign and are
   equilibrated for ``equilibration_units`` units.
2. A pilot run of chain 0 measures the integrated autocorrelation times of the energy
   and of |m| (Sokal's automatic windowing); tau = the larger. If the chains were
   equilibrated for fewer than ``equilibration_tau * tau`` units, they run the rest.
3. Samples are kept every ``spacing = max(1, ceil(spacing_factor * tau))`` units. The
   production series (energy and m after every unit) is analysed again; if its tau
   exceeds spacing / spacing_factor, production is redone with the larger spacing (at
   most ``max_attempts`` productions; the record says whether the last one satisfied it).
4. The record stores tau (pilot and production), equilibration units, spacing, the
   Metropolis acceptance rate and the mean Wolff cluster size.

A *unit* is ``metropolis_sweeps`` checkerboard sweeps followed by ``wolff_clusters``
Wolff cluster updates; the schedule per temperature is a config value. With
``global_flip`` every stored state is flipped as a whole with probability 1/2 (an exact
symmetry at zero field), so both signs of m appear in equal proportion. Separately, a
short *tau study* measures tau for pure Metropolis and pure Wolff (in sweep
equivalents) for the validation figure.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping

import numpy as np

from mlreview.io import Contract
from mlreview.ising import kernels
from mlreview.ising.autocorr import integrated_time
from mlreview.ising.packing import pack_states
from mlreview.steps import step

log = logging.getLogger(__name__)


def schedule_for(update: Mapping, temperature: float) -> dict[str, int]:
    """The update schedule of one temperature: the default unless overridden by T."""
    overrides = update.get("by_temperature") or {}
    for key, value in overrides.items():
        if math.isclose(float(key), temperature):
            return {**update["default"], **value}
    return dict(update["default"])


def temperature_key(temperature: float) -> str:
    """The wildcard / file name of a temperature: 2.25 -> '2.25'."""
    return f"{temperature:.2f}"


def _tau(series: np.ndarray, c: float) -> float:
    return float(integrated_time(series, c=c).tau)


def _tau_pair(energies: np.ndarray, mags: np.ndarray, c: float) -> dict[str, float]:
    return {"energy": _tau(energies, c), "abs_m": _tau(np.abs(mags), c)}


class Chain:
    """One Markov chain: its lattice (checkerboard layout) and random stream."""

    def __init__(self, L: int, J: float, temperature: float, schedule: Mapping, state: np.ndarray, sign: int):
        self.sub = kernels.to_sublattices(np.full((L, L), sign, np.int8))
        self.J = J
        self.state = state
        self.n_metropolis = int(schedule["metropolis_sweeps"])
        self.n_wolff = int(schedule["wolff_clusters"])
        self.global_flip = bool(schedule.get("global_flip", False))
        self.thresholds = kernels.metropolis_thresholds(temperature, J)
        self.p_add = 1.0 - math.exp(-2.0 * J / temperature)
        self.accepted = 0
        self.attempted = 0
        self.cluster_total = 0
        self.clusters = 0
        self.units = 0

    def run(self, n_units: int, store_every: int = 0, n_store: int = 0):
        stored = np.empty((n_store, self.sub.size), np.int8)
        e, m, acc, cl, n_stored = kernels.run_units(
            self.sub, n_units, self.n_metropolis, self.n_wolff, self.thresholds, self.p_add, self.J,
            self.state, store_every, stored, self.global_flip,
        )
        self.accepted += acc
        self.attempted += n_units * self.n_metropolis * self.sub.size
        self.cluster_total += cl
        self.clusters += n_units * self.n_wolff
        self.units += n_units
        return e, m, stored[:n_stored]


def sample_temperature(params: Mapping, temperature: float, t_index: int) -> dict:
    """Run the protocol at one temperature; returns states, kept observables, series, record."""
    L, J = int(params["lattice"]), float(params["J"])
    n_samples, n_chains = int(params["samples_per_temperature"]), int(params["chains"])
    if n_samples % n_chains:
        raise ValueError(f"samples_per_temperature={n_samples} must be a multiple of chains={n_chains}")
    per_chain = n_samples // n_chains
    c = float(params["window_c"])
    factor = float(params["spacing_factor"])
    schedule = schedule_for(params["update"], temperature)
    if schedule["metropolis_sweeps"] + schedule["wolff_clusters"] < 1:
        raise ValueError(f"T={temperature}: a unit must contain at least one update")
    seed = int(params["seed"])
    chains = []
    for k in range(n_chains):
        sign = 1 if np.random.default_rng([seed, t_index, k, 1]).random() < 0.5 else -1
        chains.append(Chain(L, J, temperature, schedule, kernels.seed_state(seed, t_index, k), sign))

    equilibration = int(params["equilibration_units"])
    for chain in chains:
        chain.run(equilibration)
    e, m, _ = chains[0].run(int(params["pilot_units"]))
    tau_pilot = _tau_pair(e, m, c)
    tau = max(tau_pilot.values())
    needed = math.ceil(float(params["equilibration_tau"]) * tau)
    if needed > equilibration:
        for chain in chains:
            chain.run(needed - equilibration)
        equilibration = needed
    spacing = max(1, math.ceil(factor * tau))

    attempts = int(params["max_attempts"])
    for attempt in range(attempts):
        series_e, series_m, states = [], [], []
        for chain in chains:
            e, m, kept = chain.run(per_chain * spacing, store_every=spacing, n_store=per_chain)
            series_e.append(e)
            series_m.append(m)
            states.append(kept)
        taus = [_tau_pair(e, m, c) for e, m in zip(series_e, series_m)]
        tau_production = {k: float(np.mean([t[k] for t in taus])) for k in ("energy", "abs_m")}
        worst = max(tau_production.values())
        if factor * worst <= spacing or attempt == attempts - 1:
            break
        log.warning("T=%.2f: production tau %.2f > spacing/%.0f; redoing with a larger spacing", temperature,
                    worst, factor)
        spacing = math.ceil(factor * worst)

    states = np.concatenate(states)
    series_e = np.stack(series_e)
    series_m = np.stack(series_m)
    kept_e = series_e[:, spacing - 1 :: spacing].ravel()
    kept_m = series_m[:, spacing - 1 :: spacing].ravel()
    record = {
        "temperature": temperature,
        "t_index": t_index,
        "lattice": L,
        "J": J,
        "seed": seed,
        "chains": n_chains,
        "schedule": schedule,
        "equilibration_units": equilibration,
        "pilot_units": int(params["pilot_units"]),
        "tau_pilot": tau_pilot,
        "tau_production": tau_production,
        "spacing_units": spacing,
        "spacing_over_tau": spacing / max(worst, 0.5),
        "spacing_ok": bool(factor * worst <= spacing),
        "units_per_chain": int(chains[0].units),
        "acceptance_rate": chains[0].accepted / chains[0].attempted if chains[0].attempted else None,
        "mean_cluster_size": chains[0].cluster_total / chains[0].clusters if chains[0].clusters else None,
    }
    log.info("T=%.2f: tau %.2f (E) %.2f (|m|), spacing %d units, %d samples", temperature,
             tau_production["energy"], tau_production["abs_m"], spacing, len(states))
    return {"states": states, "energy": kept_e, "m": kept_m, "series_e": series_e, "series_m": series_m,
            "record": record}


def tau_study(params: Mapping, temperature: float, t_index: int) -> dict:
    """tau_int of E and |m| for pure Metropolis and pure Wolff, in sweep equivalents."""
    L, J = int(params["lattice"]), float(params["J"])
    study = params["tau_study"]
    c = float(params["window_c"])
    n = L * L
    seed = int(params["seed"])
    out = {}
    for name, schedule in (("metropolis", {"metropolis_sweeps": 1, "wolff_clusters": 0}),
                           ("wolff", {"metropolis_sweeps": 0, "wolff_clusters": 1})):
        stream = kernels.seed_state(seed, t_index, int(study["stream"]), 0 if name == "metropolis" else 1)
        chain = Chain(L, J, temperature, schedule, stream, 1)
        chain.run(int(study["equilibration_units"]))
        sweeps_per_unit = 1.0
        if name == "wolff":
            # one unit = enough clusters to touch about N spins
            mean_cluster = chain.cluster_total / chain.clusters
            chain.n_wolff = max(1, round(n / mean_cluster))
            sweeps_per_unit = chain.n_wolff * mean_cluster / n
        e, m, _ = chain.run(int(study["units"]))
        taus = {k: v * sweeps_per_unit for k, v in _tau_pair(e, m, c).items()}
        out[name] = {**taus, "sweeps_per_unit": sweeps_per_unit}
    return out


@step
def ising2d_sample(params: Mapping, *, data) -> dict:
    """Workflow step: the data of one temperature (``params["temperature"]``).

    Writes bit-packed states (``numpy.packbits`` of s > 0, row-major: 1600 spins -> 200
    bytes), the kept energies and magnetisations, the production series and the tau
    study; returns the sampling record as metrics.
    """
    from mlreview.io import save_npz

    temperature = float(params["temperature"])
    keys = [temperature_key(t) for t in params["temperatures"]]
    if temperature_key(temperature) not in keys:
        raise ValueError(f"temperature {temperature} is not in the configured temperatures {keys}")
    t_index = keys.index(temperature_key(temperature))
    result = sample_temperature(params, temperature, t_index)
    taus = tau_study(params, temperature, t_index)
    record = {**result["record"], "tau_study": taus}
    save_npz(
        data,
        contract=TEMPERATURE_FILE,
        packed=pack_states(result["states"]),
        temperature=temperature,
        lattice=int(params["lattice"]),
        energy=result["energy"],
        m=result["m"],
        series_e=result["series_e"],
        series_m=result["series_m"],
    )
    e, m = result["energy"], result["m"]
    return {
        **record,
        "n_samples": int(len(e)),
        "mean_energy": float(e.mean()),
        "mean_abs_m": float(np.abs(m).mean()),
        "fraction_m_positive": float((m > 0).mean()),
    }


#: one temperature's states (packed bits of lattice^2 spins), their energies and magnetisations, and
#: the Monte Carlo series of the tau study
TEMPERATURE_FILE = Contract(
    dims={"packed": ("n", "row_bytes"), "energy": ("n",), "m": ("n",), "series_e": ("chains", "s"),
          "series_m": ("chains", "s"), "temperature": (), "lattice": ()},
    relations=("row_bytes == (lattice * lattice + 7) // 8",),
)
