"""Searching a glassy landscape: simulated annealing of the Sherrington-Kirkpatrick spin glass,
and the Arrhenius law of magnetisation reversals of a small 2D Ising ferromagnet.

SK model: N spins, couplings J_ij = J_ji ~ N(0, 1/N) (i < j, zero diagonal), energy
H = -sum_{i<j} J_ij s_i s_j = -1/2 s.J.s. Its ground-state energy per spin tends to Parisi's
e_0 = -0.7633 as N -> infinity, approached from above with corrections ~ N^(-2/3).

Three searches, all single-spin moves of :func:`.kernels.dense_sweeps` (one sweep = N moves):

* greedy quench: from a random state, T = 0 sweeps until no single flip lowers the energy;
* random restarts: quenches from fresh random states until a budget of sweeps is spent; the
  best energy found within the budget;
* simulated annealing: Metropolis sweeps with the temperature lowered linearly from
  ``start_temperature`` to ``end_temperature`` over the budget, then a quench.

Arrhenius: on an L x L torus below Tc the magnetisation jumps between +|m| and -|m|; the mean
time between reversals grows as exp(dF / T). The barrier is two domain walls across the torus:
energy dE = 2 * 2JL at T -> 0, free energy dF = 2 L sigma(T) with Onsager's interface tension
sigma(T) = 2J + T ln tanh(J/T). The dynamics is the project's checkerboard Metropolis kernel
(:func:`mlreview.ising.kernels.run_units`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from mlreview.io import save_npz, to_jsonable
from mlreview.ising import kernels as ising_kernels
from mlreview.ising.kernels import seed_state
from mlreview.sections.energy_landscapes.kernels import dense_sweeps
from mlreview.steps import step

_NO_SCHEDULE = np.empty(0)


def sk_couplings(rng: np.random.Generator, n: int) -> np.ndarray:
    """Symmetric Gaussian couplings of variance 1/n, zero diagonal (float32)."""
    upper = np.triu(rng.standard_normal((n, n)) / math.sqrt(n), 1)
    return (upper + upper.T).astype(np.float32)


def sk_energy(J: np.ndarray, s: np.ndarray) -> float:
    """H = -1/2 s.J.s = -sum_{i<j} J_ij s_i s_j, computed directly (float64)."""
    s = np.asarray(s, np.float64)
    return float(-0.5 * s @ (np.asarray(J, np.float64) @ s))


def random_spins(rng: np.random.Generator, n: int) -> np.ndarray:
    return np.where(rng.random(n) < 0.5, 1, -1).astype(np.int8)


def linear_schedule(n_sweeps: int, start: float, end: float) -> np.ndarray:
    """One temperature per sweep, linear from ``start`` to ``end``."""
    return np.linspace(float(start), float(end), int(n_sweeps))


def search(J: np.ndarray, s: np.ndarray, temperatures: np.ndarray, state: np.ndarray, max_quench: int):
    """Run the schedule and then a quench from ``s`` (modified). Returns (energy, sweeps, stable)."""
    h = np.asarray(J, np.float64) @ s.astype(np.float64)
    e0 = sk_energy(J, s)
    delta, sweeps, _, stable = dense_sweeps(J, s, h, temperatures, True, int(max_quench), state)
    return e0 + delta, int(sweeps), bool(stable)


def restarts_best(J: np.ndarray, rng: np.random.Generator, state: np.ndarray, budgets: np.ndarray,
                  max_quench: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Greedy quenches from random states until max(budgets) sweeps are spent.

    Returns (best energy within each budget - at least one quench, energies of all quenches,
    sweeps of all quenches)."""
    n = len(J)
    energies, sweeps = [], []
    total = 0
    while total < budgets.max():
        e, sw, _ = search(J, random_spins(rng, n), _NO_SCHEDULE, state, max_quench)
        energies.append(e)
        sweeps.append(sw)
        total += sw
    energies, sweeps = np.asarray(energies), np.asarray(sweeps)
    spent = np.cumsum(sweeps)
    best = np.array([energies[: max(1, int(np.searchsorted(spent, b, side="right")))].min() for b in budgets])
    return best, energies, sweeps


@step
def annealing_fit(params: Mapping, *, data: Path) -> dict:
    """Workflow step: energy per spin of SK instances reached by simulated annealing of each
    length, by the best of random-restart quenches with the same budget, and by one greedy
    quench, for every N; the longest anneals against N^(-2/3) extrapolated to N -> infinity."""
    sizes = [int(n) for n in params["sizes"]]
    instances = [int(k) for k in params["instances"]]
    if len(instances) != len(sizes):
        raise ValueError("annealing: give one number of instances per size")
    budgets = np.asarray(params["sweeps"], int)
    sched = params["schedule"]
    seed, max_q = int(params["seed"]), int(params["quench_max_sweeps"])
    parisi = float(params["parisi_energy"])
    arrays: dict = {"sizes": np.array(sizes), "sweeps": budgets}
    per_size = {}
    for N, n_inst in zip(sizes, instances):
        sa = np.empty((n_inst, len(budgets)))
        sa_sweeps = np.empty_like(sa)
        rs = np.empty((n_inst, len(budgets)))
        greedy = np.empty(n_inst)
        n_quenches = np.empty(n_inst)
        quench_sweeps = np.empty(n_inst)
        not_stable = 0
        for k in range(n_inst):
            rng = np.random.default_rng([seed, N, k])
            J = sk_couplings(rng, N)
            state = seed_state(seed, N, k)
            for b, n_sw in enumerate(budgets):
                temps = linear_schedule(n_sw, sched["start_temperature"], sched["end_temperature"])
                e, sw, stable = search(J, random_spins(rng, N), temps, state, max_q)
                sa[k, b], sa_sweeps[k, b] = e / N, sw
                not_stable += not stable
            best, all_e, all_sw = restarts_best(J, rng, state, budgets, max_q)
            rs[k] = best / N
            greedy[k] = all_e.mean() / N
            n_quenches[k] = len(all_e)
            quench_sweeps[k] = all_sw.mean()
        arrays.update({f"N{N}_sa": sa, f"N{N}_restarts": rs, f"N{N}_greedy": greedy, f"N{N}_sa_sweeps": sa_sweeps,
                       f"N{N}_quench_sweeps": quench_sweeps})
        se = lambda x: x.std(axis=0, ddof=1) / math.sqrt(len(x)) if len(x) > 1 else np.zeros(x.shape[1:])  # noqa: E731
        per_size[f"N{N}"] = {
            "instances": n_inst,
            "sa_mean": sa.mean(axis=0), "sa_se": se(sa),
            "restarts_mean": rs.mean(axis=0), "restarts_se": se(rs),
            "greedy_mean": float(greedy.mean()), "greedy_se": float(se(greedy[:, None])[0]),
            "sa_longest": float(sa[:, -1].mean()), "sa_longest_se": float(se(sa[:, -1:])[0]),
            "sa_monotone": bool(np.all(np.diff(sa.mean(axis=0)) <= 0)),
            "sa_below_greedy": bool(sa[:, -1].mean() < greedy.mean()),
            "sa_below_restarts_at_longest": bool(sa[:, -1].mean() < rs[:, -1].mean()),
            "mean_quenches_per_instance": float(n_quenches.mean()),
            "mean_sweeps_per_quench": float(quench_sweeps.mean()),
            "mean_extra_quench_sweeps_longest": float(sa_sweeps[:, -1].mean() - budgets[-1]),
            "not_stable": int(not_stable),
        }
    x = np.array(sizes, float) ** (-float(params["finite_size_exponent"]))
    y = np.array([per_size[f"N{N}"]["sa_longest"] for N in sizes])
    slope, intercept = np.polyfit(x, y, 1) if len(sizes) > 1 else (math.nan, math.nan)
    save_npz(data, **arrays, parisi=parisi, extrapolation=np.array([slope, intercept]),
             finite_size_exponent=float(params["finite_size_exponent"]))
    largest = f"N{max(sizes)}"
    return to_jsonable({
        "sizes": per_size,
        "largest_size": max(sizes),
        "parisi_energy": parisi,
        "sa_longest_largest": per_size[largest]["sa_longest"],
        "sa_longest_largest_minus_parisi": per_size[largest]["sa_longest"] - parisi,
        "sa_longest_largest_above_parisi": bool(per_size[largest]["sa_longest"] > parisi),
        "sa_below_greedy_every_size": all(v["sa_below_greedy"] for v in per_size.values()),
        "sa_monotone_every_size": all(v["sa_monotone"] for v in per_size.values()),
        "extrapolation": {"exponent": float(params["finite_size_exponent"]), "e_infinity": float(intercept),
                          "amplitude": float(slope), "e_infinity_minus_parisi": float(intercept - parisi)},
        "longest_sweeps": int(budgets[-1]),
    })


# ----------------------------------------------------------------------------- Arrhenius
def interface_tension(T, J: float = 1.0):
    """Onsager's interface tension of the square-lattice Ising model, sigma = 2J + T ln tanh(J/T)."""
    T = np.asarray(T, float)
    return 2.0 * J + T * np.log(np.tanh(J / T))


def reversal_gaps(m: np.ndarray, well: float, offset: int = 0, side: int = 1, last: int = 0):
    """Times between completed reversals in a series of m (one value per unit, the first at time
    ``offset`` + 1). A reversal is complete when m, last beyond +well (or -well), reaches the
    opposite side; ``side`` and ``last`` (the side the series was last on, and the time of the
    last reversal or of the start) carry over between chunks. Returns (gaps, side, last)."""
    s = np.where(m >= well, 1, np.where(m <= -well, -1, 0))
    idx = np.flatnonzero(s)
    vals = s[idx]
    prev = np.concatenate([[side], vals[:-1]]).astype(int)
    times = idx[(vals != prev) & (prev != 0)] + offset + 1
    gaps = np.diff(np.concatenate([[last], times])).astype(float)
    return gaps, int(vals[-1]) if len(vals) else side, int(times[-1]) if len(times) else last


@step
def arrhenius_fit(params: Mapping, *, data: Path) -> dict:
    """Workflow step: mean time between magnetisation reversals of an L x L torus (single-spin
    checkerboard Metropolis, one sweep per unit) at each temperature, until ``reversals``
    reversals or ``max_sweeps`` sweeps; log(tau) against 1/T with its fitted slope, against the
    energy barrier 4JL and the Onsager free-energy barrier 2 L sigma(T)."""
    L, J = int(params["lattice"]), float(params["J"])
    temps = np.asarray(params["temperatures"], float)
    chunk, max_sweeps, wanted = int(params["chunk"]), int(params["max_sweeps"]), int(params["reversals"])
    well, seed = float(params["well"]), int(params["seed"])
    tau, tau_se, count, sweeps_run = (np.empty(len(temps)) for _ in range(4))
    for t, T in enumerate(temps):
        sub = ising_kernels.to_sublattices(np.ones((L, L), np.int8))
        state = seed_state(seed, L, t)
        thresholds = ising_kernels.metropolis_thresholds(T, J)
        stored = np.empty((0, L * L), np.int8)
        gaps, side, last, run = [], 1, 0, 0
        while run < max_sweeps and len(gaps) < wanted:
            _, m, _, _, _ = ising_kernels.run_units(sub, chunk, 1, 0, thresholds, 0.0, J, state, 0, stored, False)
            new, side, last = reversal_gaps(m, well, run, side, last)
            gaps += new.tolist()
            run += chunk
        gaps = np.asarray(gaps)
        count[t], sweeps_run[t] = len(gaps), run
        tau[t] = gaps.mean() if len(gaps) else math.nan
        tau_se[t] = gaps.std(ddof=1) / math.sqrt(len(gaps)) if len(gaps) > 1 else math.nan
    beta = 1.0 / temps
    ok = count >= 2
    slope, intercept = np.polyfit(beta[ok], np.log(tau[ok]), 1, w=(tau[ok] / tau_se[ok]))
    onsager = 2 * L * interface_tension(temps, J) / temps  # ln tau = const + dF/T
    o_slope = np.polyfit(beta, onsager, 1)[0]
    save_npz(data, temperatures=temps, tau=tau, tau_se=tau_se, reversals=count, sweeps=sweeps_run,
             fit=np.array([slope, intercept]), onsager_log_tau=onsager, lattice=L, J=J,
             energy_barrier=4.0 * J * L)
    return to_jsonable({
        "lattice": L, "temperatures": temps, "tau": tau, "tau_se": tau_se, "reversals": count,
        "fitted_slope": float(slope), "energy_barrier": 4.0 * J * L,
        "onsager_barrier_slope": float(o_slope),
        "slope_over_energy_barrier": float(slope / (4.0 * J * L)),
        "slope_over_onsager_slope": float(slope / o_slope),
        "all_reversals_counted": bool(np.all(count >= wanted)),
    })
