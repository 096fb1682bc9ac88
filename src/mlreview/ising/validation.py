"""Validation of the 2D Monte Carlo data against exact results (what a physicist checks first).

Per temperature: the mean energy per spin of the data set against the exact value of
the finite L x L torus (Kaufman), with a z-score from the blocking standard error; the
mean |m| against Onsager's spontaneous magnetisation below ``onsager_max_T``; the
specific heat (from energy fluctuations) against its exact finite-size value; the
susceptibility; the fraction of states with m > 0 below Tc; and the sampling record
(tau_int, spacing, acceptance, cluster size).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from mlreview.io import as_list, load_json, load_npz, save_npz
from mlreview.ising import exact
from mlreview.ising.autocorr import blocking_standard_error
from mlreview.steps import step


def energy_check(energies: np.ndarray, exact_value: float, n_spins: int, J: float) -> dict:
    """Mean energy per spin of the samples against the exact value, with a z-score.

    When every sample has the same energy (deep in the ordered phase the lattice stays
    in its ground state) the standard error is zero; the mean is then consistent when
    its distance from the exact value is below the resolution of the estimator, one
    excitation (8J/N per spin) in the whole sample, and z is reported as None.
    """
    mean = float(np.mean(energies))
    se = float(blocking_standard_error(energies).standard_error)
    diff = mean - exact_value
    if se > 0:
        z = diff / se
        return {"mean": mean, "se": se, "exact": exact_value, "z": z, "zero_variance": False}
    resolution = 8.0 * J / (n_spins * len(energies))
    return {"mean": mean, "se": 0.0, "exact": exact_value, "z": None, "zero_variance": True,
            "resolution": resolution, "consistent": abs(diff) < resolution}


def validate(per_temperature: list[dict], records: list[dict], params: Mapping) -> tuple[dict, dict]:
    """(metrics, arrays for the figure) from the per-temperature data and records."""
    J = float(params["J"])
    L = int(per_temperature[0]["lattice"])
    n_spins = L * L
    tc = exact.critical_temperature(J)
    val = params["validation"]
    rows, arrays = [], {k: [] for k in ("T", "e", "e_se", "e_exact", "abs_m", "abs_m_se", "c", "c_exact", "chi",
                                          "tau_e", "tau_m", "spacing", "tau_metro_e", "tau_metro_m",
                                          "tau_wolff_e", "tau_wolff_m")}
    for data, rec in sorted(zip(per_temperature, records), key=lambda p: float(p[0]["temperature"])):
        T = float(data["temperature"])
        e, m = data["energy"], data["m"]
        am = np.abs(m)
        check = energy_check(e, float(exact.energy_per_spin(L, T, J)), n_spins, J)
        c_mc = n_spins * float(np.var(e)) / T**2
        c_exact = float(exact.specific_heat_per_spin(L, T, J))
        chi = n_spins * float(np.mean(m**2) - np.mean(am) ** 2) / T
        m_se = float(blocking_standard_error(am).standard_error)
        onsager = float(exact.onsager_magnetisation(T, J))
        z_ok = check["consistent"] if check["zero_variance"] else abs(check["z"]) < float(val["z_max"])
        row = {
            "T": T,
            "e_mc": check["mean"],
            "e_se": check["se"],
            "e_exact": check["exact"],
            "z": check["z"],
            "z_ok": bool(z_ok),
            "abs_m": float(am.mean()),
            "abs_m_se": m_se,
            "onsager_m": onsager,
            "c_mc": c_mc,
            "c_exact": c_exact,
            "chi": chi,
            "fraction_m_positive": float((m > 0).mean()),
            "tau_e": rec["tau_production"]["energy"],
            "tau_abs_m": rec["tau_production"]["abs_m"],
            "spacing": rec["spacing_units"],
            "spacing_ok": rec["spacing_ok"],
            "equilibration_units": rec["equilibration_units"],
            "acceptance": rec["acceptance_rate"],
            "mean_cluster": rec["mean_cluster_size"],
        }
        if T <= float(val["onsager_max_T"]):
            row["onsager_ok"] = bool(abs(row["abs_m"] - onsager) <= float(val["onsager_tolerance"]))
        if T < tc:
            low, high = val["sign_fraction"]
            row["sign_ok"] = bool(low <= row["fraction_m_positive"] <= high)
        rows.append(row)
        for key, value in (("T", T), ("e", check["mean"]), ("e_se", check["se"]), ("e_exact", check["exact"]),
                           ("abs_m", row["abs_m"]), ("abs_m_se", m_se), ("c", c_mc), ("c_exact", c_exact),
                           ("chi", chi), ("tau_e", row["tau_e"]), ("tau_m", row["tau_abs_m"]),
                           ("spacing", row["spacing"]),
                           ("tau_metro_e", rec["tau_study"]["metropolis"]["energy"]),
                           ("tau_metro_m", rec["tau_study"]["metropolis"]["abs_m"]),
                           ("tau_wolff_e", rec["tau_study"]["wolff"]["energy"]),
                           ("tau_wolff_m", rec["tau_study"]["wolff"]["abs_m"])):
            arrays[key].append(value)
    zs = [abs(r["z"]) for r in rows if r["z"] is not None]
    grid = np.linspace(*val["curve_range"], int(val["curve_points"]))
    c_curve = exact.specific_heat_per_spin(L, grid, J)
    c_mc = np.array(arrays["c"])
    metrics = {
        "lattice": L,
        "tc": tc,
        "table": rows,
        "max_abs_z": max(zs) if zs else 0.0,
        "all_z_ok": all(r["z_ok"] for r in rows),
        "onsager_ok": all(r.get("onsager_ok", True) for r in rows),
        "max_onsager_deviation": max((abs(r["abs_m"] - r["onsager_m"]) for r in rows
                                      if r["T"] <= float(val["onsager_max_T"])), default=0.0),
        "sign_ok": all(r.get("sign_ok", True) for r in rows),
        "spacing_ok": all(r["spacing_ok"] for r in rows),
        "specific_heat_peak_T_mc": float(np.array(arrays["T"])[np.argmax(c_mc)]),
        "specific_heat_peak_T_exact": float(grid[np.argmax(c_curve)]),
        "max_tau_metropolis_abs_m": float(np.max(arrays["tau_metro_m"])),
        "max_tau_wolff_abs_m": float(np.max(arrays["tau_wolff_m"])),
    }
    arrays = {k: np.asarray(v, float) for k, v in arrays.items()}
    arrays.update(
        curve_T=grid,
        curve_e_exact=exact.energy_per_spin(L, grid, J),
        curve_c_exact=c_curve,
        curve_e_onsager=exact.onsager_energy_per_spin(grid, J),
        curve_m_onsager=exact.onsager_magnetisation(grid, J),
        tc=tc,
        lattice=L,
    )
    return metrics, arrays


@step
def ising2d_validate(params: Mapping, *, temperatures, records, data: Path) -> dict:
    """Workflow step: the validation table and the arrays of the validation figure."""
    per_t = [load_npz(p) for p in as_list(temperatures)]
    recs = [load_json(p)["metrics"] for p in as_list(records)]
    by_t = {round(float(r["temperature"]), 6): r for r in recs}
    recs = [by_t[round(float(d["temperature"]), 6)] for d in per_t]
    metrics, arrays = validate(per_t, recs, params)
    save_npz(data, **arrays)
    return metrics


