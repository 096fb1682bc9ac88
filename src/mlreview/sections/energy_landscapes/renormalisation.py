"""Block-spin renormalisation of the project's 2D Ising data (Kadanoff's majority rule).

Each RG step replaces every 2 x 2 block of spins by the sign of its sum; a tie (sum 0) is broken
by a fair coin from a seeded generator. The 40 x 40 states of every temperature become
20 x 20, 10 x 10 and 5 x 5 states. Per step and temperature: <|m|>, the nearest-neighbour
correlation <s_i s_j> (periodic bonds, :func:`mlreview.ising.observables.lattice_observables`)
and the Binder cumulant U = 1 - <m^4> / (3 <m^2>^2).

Known results checked: below Tc the flow runs to the ordered fixed point (<|m|>, <s_i s_j> -> 1),
above it to the disordered one (<s_i s_j> -> 0); at Tc a blocking step leaves the state
statistically unchanged, so <s_i s_j> is stationary there (the critical fixed point). The Binder
cumulant of the whole blocked lattice is a function of L/xi only, and blocking divides both by 2:
it hardly changes under the RG at any temperature, so its curves of successive steps do not
single out Tc. Binder's block-distribution method (Z. Phys. B 43, 119 (1981)) compares U of
systems of the sizes of the RG steps at the same temperature - the magnetisations of 40 x 40,
20 x 20, 10 x 10 and 5 x 5 sub-blocks of the same states - and those curves cross at Tc ~ 2.269.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from mlreview.data.ising import load_ising2d
from mlreview.io import load_npz, save_npz, to_jsonable
from mlreview.ising.observables import lattice_observables
from mlreview.steps import step


def majority_block(states: np.ndarray, rng: np.random.Generator, block: int = 2) -> np.ndarray:
    """Majority rule on ``block`` x ``block`` blocks of +-1 lattices (n, L, L) -> (n, L/b, L/b)
    int8; a zero block sum takes a random sign from ``rng`` (one draw per tie, in row-major order
    over all states)."""
    s = np.asarray(states)
    n, L, L2 = s.shape
    if L != L2 or L % block:
        raise ValueError(f"cannot block {L} x {L2} lattices into {block} x {block} blocks")
    sums = s.reshape(n, L // block, block, L // block, block).sum(axis=(2, 4), dtype=np.int64)
    out = np.sign(sums).astype(np.int8)
    ties = out == 0
    out[ties] = np.where(rng.random(int(ties.sum())) < 0.5, 1, -1)
    return out


def binder_cumulant(m: np.ndarray) -> float:
    """U = 1 - <m^4> / (3 <m^2>^2) of a sample of magnetisations (0 when all are 0)."""
    m = np.asarray(m, float)
    return float(_binder_from_moments(np.mean(m**2), np.mean(m**4)))


def _binder_from_moments(m2, m4):
    """U from the moments <m^2> and <m^4> (arrays allowed)."""
    m2, m4 = np.asarray(m2, float), np.asarray(m4, float)
    return np.where(m2 > 0, 1.0 - m4 / (3.0 * np.where(m2 > 0, m2, 1.0) ** 2), 0.0)


def crossing(T: np.ndarray, diff: np.ndarray) -> float | None:
    """The temperature where ``diff`` changes from positive (ordered side) to negative
    (disordered side): among the sign changes of the grid, the one with the largest jump,
    linearly interpolated. None if there is none."""
    d = np.asarray(diff, float)
    cand = [k for k in range(len(d) - 1) if d[k] > 0 >= d[k + 1]]
    if not cand:
        return None
    k = max(cand, key=lambda j: d[j] - d[j + 1])
    return float(T[k] + d[k] * (T[k + 1] - T[k]) / (d[k] - d[k + 1]))


def block_magnetisations(lattices: np.ndarray, side: int) -> np.ndarray:
    """Magnetisations of the ``side`` x ``side`` sub-blocks of every lattice: (n, (L/side)^2)."""
    n, L, _ = lattices.shape
    return lattices.reshape(n, L // side, side, L // side, side).mean(axis=(2, 4), dtype=np.float64).reshape(n, -1)


def rg_series(lattices: np.ndarray, steps: int, block: int, rng: np.random.Generator) -> dict:
    """Per state (rows) and RG step k = 0 .. steps (columns): |m|, m^2, m^4 and the
    nearest-neighbour correlation of the blocked lattice (L / block^k on a side), and the mean of
    mu^2 and mu^4 over the sub-blocks of the original lattice with that same side, mu their
    magnetisations (Binder's block distribution: systems of the sizes of the RG steps, cut from
    the same states). Every state has the same number of sub-blocks, so pooled moments are means
    over the states."""
    lat = lattices
    cols: dict[str, list] = {k: [] for k in ("abs_m", "m2", "m4", "nn", "sub_m2", "sub_m4")}
    sizes = []
    for k in range(steps + 1):
        if k:
            lat = majority_block(lat, rng, block)
        sizes.append(lat.shape[1])
        obs = lattice_observables(lat)
        m = obs["m"]
        mu = block_magnetisations(lattices, lat.shape[1])
        for name, v in (("abs_m", np.abs(m)), ("m2", m**2), ("m4", m**4), ("nn", obs["nn_correlation"]),
                        ("sub_m2", (mu**2).mean(axis=1)), ("sub_m4", (mu**4).mean(axis=1))):
            cols[name].append(v)
    return {**{k: np.stack(v, axis=1) for k, v in cols.items()}, "sizes": sizes}


def _observables(series: dict, rows: np.ndarray | None = None) -> dict:
    """<|m|>, <s_i s_j>, U of the blocked lattices and U of the block distribution per step,
    over the states ``rows`` (all by default; a 2D array of rows gives one result per row of it)."""
    mean = {k: (series[k][rows] if rows is not None else series[k]).mean(axis=-2)
            for k in ("abs_m", "m2", "m4", "nn", "sub_m2", "sub_m4")}
    return {"abs_m": mean["abs_m"], "nn": mean["nn"], "binder": _binder_from_moments(mean["m2"], mean["m4"]),
            "block_binder": _binder_from_moments(mean["sub_m2"], mean["sub_m4"])}


def _crossings(T: np.ndarray, obs: dict, sizes: list[int]) -> dict:
    """For each pair of successive steps (k, k+1): where U of the blocked lattices crosses, where
    U of the block distribution crosses (larger block minus smaller), and where a blocking step
    leaves <s_i s_j> unchanged (nn(k) - nn(k+1) from positive to negative)."""
    out = {"binder_rg": {}, "block_binder": {}, "nn_fixed_point": {}}
    for k in range(len(sizes) - 1):
        name = f"{sizes[k]}_{sizes[k + 1]}"
        out["binder_rg"][name] = crossing(T, obs["binder"][:, k] - obs["binder"][:, k + 1])
        out["block_binder"][name] = crossing(T, obs["block_binder"][:, k] - obs["block_binder"][:, k + 1])
        out["nn_fixed_point"][name] = crossing(T, obs["nn"][:, k + 1] - obs["nn"][:, k])
    return out


@step
def ising_rg_fit(params: Mapping, *, ising: Path, data: Path) -> dict:
    """Workflow step: majority-rule RG of every state of the 2D data set, ``steps`` times.

    Per step and temperature: <|m|>, <s_i s_j> and the Binder cumulant U of the blocked lattices,
    and U of the distribution of the magnetisation of sub-blocks of the original lattice as large
    as the blocked lattice of that step (Binder 1981). Crossing temperatures between
    successive steps of the three (bootstrap over the states for their spread): U of the blocked
    lattices hardly changes under blocking at any T (U depends on L/xi, which blocking keeps), so
    its crossing is ill-defined; U of the block distribution crosses at Tc, and a blocking step
    leaves <s_i s_j> unchanged at Tc (the critical fixed point).
    """
    steps, block, seed = int(params["steps"]), int(params["block"]), int(params["seed"])
    n_boot = int(params["bootstrap"])
    head = load_npz(ising)
    temps, tc = np.asarray(head["temperatures"], float), float(head["tc"])
    keys = ("abs_m", "nn", "binder", "block_binder")
    obs = {k: np.empty((len(temps), steps + 1)) for k in keys}
    boot = {k: np.empty((n_boot, len(temps), steps + 1)) for k in keys}
    sizes: list[int] = []
    for t, T in enumerate(temps):
        lat = load_ising2d(ising, temperatures=[T]).lattices()
        series = rg_series(lat, steps, block, np.random.default_rng([seed, t]))
        sizes = series["sizes"]
        for k, v in _observables(series).items():
            obs[k][t] = v
        idx = np.random.default_rng([seed, t, 1]).integers(0, len(lat), size=(n_boot, len(lat)))
        for k, v in _observables(series, idx).items():
            boot[k][:, t] = v
    cross = _crossings(temps, obs, sizes)
    boot_cross = [_crossings(temps, {k: boot[k][b] for k in keys}, sizes) for b in range(n_boot)]
    summary = {}
    for kind, values in cross.items():
        spread = {}
        for name in values:
            b = np.array([bc[kind][name] for bc in boot_cross if bc[kind][name] is not None])
            spread[name] = float(b.std(ddof=1)) if len(b) > 1 else None
        dev = [None if v is None else abs(v - tc) for v in values.values()]
        summary[kind] = {"crossings": values, "bootstrap_se": spread,
                         "found_in_bootstrap": {name: int(sum(bc[kind][name] is not None for bc in boot_cross))
                                                for name in values},
                         "max_abs_minus_tc": None if None in dev else max(dev)}
    se = {k: boot[k].std(axis=0, ddof=1) for k in keys}
    save_npz(data, temperatures=temps, sizes=np.array(sizes), tc=tc, **obs, **{f"{k}_se": v for k, v in se.items()},
             **{f"{kind}_crossings": np.array([np.nan if v is None else v for v in c.values()])
                for kind, c in cross.items()})
    below, above = temps < tc, temps > tc
    return to_jsonable({
        "sizes": sizes, "tc": tc, "bootstrap": n_boot,
        **summary,
        "binder_rg_max_change": float(np.abs(np.diff(obs["binder"], axis=1)).max()),
        "flows": {
            "ordered_abs_m_grows": bool(np.all(np.diff(obs["abs_m"][below], axis=1) >= -1e-12)),
            "ordered_nn_grows": bool(np.all(np.diff(obs["nn"][below], axis=1) >= -1e-12)),
            "disordered_nn_falls": bool(np.all(np.diff(obs["nn"][above], axis=1) < 0)),
            "to_fixed_points": bool(np.all(np.diff(obs["nn"][below], axis=1) >= -1e-12)
                                    and np.all(np.diff(obs["nn"][above], axis=1) < 0)),
            "nn_last_step_below_tc_min": float(obs["nn"][below, -1].min()),
            "nn_last_step_above_tc_max": float(obs["nn"][above, -1].max()),
        },
        "by_temperature": {f"T_{T:.2f}": {k: obs[k][t] for k in keys} for t, T in enumerate(temps)},
    })
