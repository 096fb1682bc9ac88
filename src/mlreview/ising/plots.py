"""Ising figures: Fig 20 (typical states) and the project's validation figure."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from mlreview.figures.style import PAGE_WIDTH, figure, save_figure
from mlreview.io import load_npz
from mlreview.steps import step


@step
def fig20_plot(params: Mapping, *, data: Path, pdf: Path, png: Path) -> None:
    """Fig 20: the selected states of the ordered phase, the critical region and the disordered phase, side by side."""
    d = load_npz(data)
    states, temps = d["states"], d["temperatures"]
    titles = params["plot"]["titles"]
    fig, axes = figure(1, len(temps), width=PAGE_WIDTH, height=PAGE_WIDTH / len(temps) * 1.05)
    for ax, state, T, title in zip(np.atleast_1d(axes), states, temps, titles):
        image = ax.imshow(state, cmap=params["plot"]["cmap"], vmin=-1, vmax=1, interpolation="nearest")
        ax.set_title(f"{title}\n$T/J = {T:g}$, $m = {state.mean():+.2f}$")
        ax.set_xticks([])
        ax.set_yticks([])
    bar = fig.colorbar(image, ax=axes, ticks=[-1, 1], fraction=0.02, pad=0.02)
    bar.set_label("spin $s_i$")
    save_figure(fig, pdf, png)


@step
def ising_validation_plot(params: Mapping, *, data: Path, pdf: Path, png: Path) -> None:
    """Energy, |m|, specific heat, susceptibility, tau_int and z-scores against T."""
    d = load_npz(data)
    T, tc, L = d["T"], float(d["tc"]), int(d["lattice"])
    fig, axes = figure(2, 3, width=PAGE_WIDTH * 1.15, height=PAGE_WIDTH * 0.8, layout="constrained")
    (ax_e, ax_m, ax_c), (ax_chi, ax_tau, ax_z) = axes
    mc = {"ls": "none", "marker": "o", "ms": 3.5, "color": "tab:blue", "label": f"Monte Carlo, L = {L}"}

    ax_e.plot(d["curve_T"], d["curve_e_exact"], color="black", lw=1, label=f"exact, L = {L}")
    ax_e.plot(d["curve_T"], d["curve_e_onsager"], color="0.5", lw=1, ls="--", label="Onsager, L = ∞")
    ax_e.errorbar(T, d["e"], yerr=d["e_se"], **mc)
    ax_e.set_ylabel("energy per spin $E/NJ$")

    ax_m.plot(d["curve_T"], d["curve_m_onsager"], color="0.5", lw=1, ls="--", label="Onsager, L = ∞")
    ax_m.errorbar(T, d["abs_m"], yerr=d["abs_m_se"], **mc)
    ax_m.set_ylabel(r"$\langle |m| \rangle$")

    ax_c.plot(d["curve_T"], d["curve_c_exact"], color="black", lw=1, label=f"exact, L = {L}")
    ax_c.plot(T, d["c"], **mc)
    ax_c.set_ylabel("specific heat per spin $C/N$")

    ax_chi.plot(T, d["chi"], **mc)
    ax_chi.set_ylabel(r"susceptibility $\chi/N$")
    ax_chi.set_yscale("log")

    for key, label, color, ls in (("tau_metro_m", "Metropolis, |m|", "tab:red", "-"),
                                  ("tau_metro_e", "Metropolis, E", "tab:red", "--"),
                                  ("tau_wolff_m", "Wolff, |m|", "tab:green", "-"),
                                  ("tau_wolff_e", "Wolff, E", "tab:green", "--")):
        ax_tau.plot(T, d[key], color=color, ls=ls, marker=".", label=label)
    ax_tau.set_yscale("log")
    ax_tau.set_ylabel(r"$\tau_\mathrm{int}$ (sweeps)")

    z = (d["e"] - d["e_exact"]) / np.where(d["e_se"] > 0, d["e_se"], np.nan)
    z_max = float(params["z_max"])
    ax_z.axhspan(-z_max, z_max, color="0.92", label=f"|z| < {z_max:g}")
    ax_z.plot(T, z, **{**mc, "label": "energy z-score"})
    ax_z.set_ylabel(r"$(\bar E - E_\mathrm{exact}) / \sigma_{\bar E}$")
    ax_z.set_ylim(-1.5 * z_max, 1.5 * z_max)

    for ax in axes.ravel():
        ax.axvline(tc, color="0.6", lw=0.8, ls=":")
        ax.set_xlabel("temperature $T/J$")
        ax.legend(loc="upper left" if ax is ax_c else "best", fontsize=6.5)
    save_figure(fig, pdf, png)
