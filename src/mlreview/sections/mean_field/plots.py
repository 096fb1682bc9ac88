"""Project figures of Section XIV: EM for two coins (spec 4.1) and mean-field theory of the Ising
model against Onsager and the Monte Carlo data (spec 4.2).

Each step reads only the ``.npz`` of its compute step (plus its params) and writes PDF and PNG
through :mod:`mlreview.figures.style`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from mlreview.figures.style import PAGE_WIDTH, figure, save_figure
from mlreview.io import load_npz
from mlreview.steps import step


@step
def em_coins_plot(params: Mapping, *, data: Path, pdf: Path, png: Path) -> None:
    """(a) The observed-data log-likelihood at every EM iteration of the displayed tosses, from the
    notebook's start and from the random starts; (b) EM against complete-data estimates over seeds."""
    d = load_npz(data)
    fig, axes = figure(1, 2, width=PAGE_WIDTH * 0.85, height=PAGE_WIDTH * 0.36)
    ax = axes[0]
    ll = d["log_likelihood"]
    for row in ll[1:]:
        ax.plot(np.arange(len(row)), row, color="0.65", lw=0.7)
    ax.plot(np.arange(len(ll[0])), ll[0], color="tab:red", marker="o", markersize=3,
            label=rf"start $\theta = ({params['init'][0]:g}, {params['init'][1]:g})$")
    ax.plot([], [], color="0.65", lw=0.7, label=f"{len(ll) - 1} random starts")
    ax.set_xlabel("EM iteration")
    ax.set_ylabel("log-likelihood of the heads counts")
    ax.set_title("(a)", loc="left")
    ax.legend(loc="lower right")

    ax = axes[1]
    em, complete = d["em_final"], d["complete"]
    for i, (name, colour) in enumerate((("A", "tab:red"), ("B", "tab:blue"))):
        ax.scatter(complete[:, i], em[:, i], s=10, color=colour, alpha=0.6,
                   label=rf"$\theta_{name}$ (true {params['theta_true'][i]:g})")
    ax.plot([0, 1], [0, 1], color="k", lw=0.6)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")
    ax.set_xlabel("complete-data estimate (coins revealed)")
    ax.set_ylabel("EM estimate (coins hidden)")
    ax.set_title(f"(b) {len(em)} seeds", loc="left")
    ax.legend(loc="upper left")
    fig.tight_layout()
    save_figure(fig, pdf, png)


@step
def mean_field_plot(params: Mapping, *, data: Path, pdf: Path, png: Path) -> None:
    """(a) Square lattice: mean-field m(T) (z = 4), Onsager's exact m(T) and the Monte Carlo
    <|m|>; (b) the 1D chain: mean field (z = 2) against the exact m = 0."""
    d = load_npz(data)
    square, chain = "square", "chain"
    z = params["coordination"]
    T = d["T"]
    fig, axes = figure(1, 2, width=PAGE_WIDTH * 0.85, height=PAGE_WIDTH * 0.36, sharey=True)
    ax = axes[0]
    ax.plot(T, d[f"m_{square}"], color="tab:orange", label=f"mean field ($z = {z[square]}$)")
    ax.plot(T, d["onsager"], color="k", label="Onsager (exact)")
    ax.errorbar(d["mc_T"], d["mc_abs_m"], yerr=d["mc_abs_m_se"], fmt="o", color="tab:blue", markersize=3,
                label=rf"Monte Carlo $\langle|m|\rangle$, $L = {int(d['lattice'])}$")
    ax.set_ylim(-0.03, 1.6)  # room for the legend above the curves
    ax.set_yticks(np.linspace(0.0, 1.0, 5))
    ax.axvline(float(d["tc"]), color="k", ls=":", lw=0.8)
    ax.set_xlabel("$T/J$")
    ax.set_ylabel("magnetisation $m$")
    ax.set_title("(a) square lattice", loc="left")
    ax.legend(loc="upper right", fontsize=7)
    ax = axes[1]
    ax.plot(T, d[f"m_{chain}"], color="tab:orange", label=f"mean field ($z = {z[chain]}$)")
    ax.plot(T, d["exact_chain"], color="k", label="exact: $m = 0$ for $T > 0$")
    ax.set_xlabel("$T/J$")
    ax.set_title("(b) one-dimensional chain", loc="left")
    ax.legend(loc="upper right")
    fig.tight_layout()
    save_figure(fig, pdf, png)
