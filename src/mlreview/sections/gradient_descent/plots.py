"""Plots of Section IV: Fig 7 (GD learning-rate regimes) and Fig 9 (optimisers on Beale's function).

Both read only the ``.npz`` written by :mod:`mlreview.sections.gradient_descent.runs`.
Trajectories that leave the plotted window are clipped to it (the metrics keep the
true end points).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.colors import LogNorm

from mlreview.figures.style import COLORS, COLUMN_WIDTH, CYCLE, figure, save_figure
from mlreview.io import load_npz
from mlreview.steps import step

#: Line style of each optimiser in Fig 9 [review]: colour from the style's COLORS.
BEALE_STYLES = {
    "gd": {"linestyle": "-", "label": "GD"},
    "gdm": {"linestyle": "-", "label": "GDM"},
    "nag": {"linestyle": "--", "label": "NAG"},
    "rmsprop": {"linestyle": "-.", "label": "RMSprop"},
    "adam": {"linestyle": "-", "label": "ADAM"},
}


def _coef(value) -> str:
    """A coefficient as written before a monomial in the title ("" for 1)."""
    return "" if float(value) == 1.0 else f"{float(value):g}\\,"


@step
def fig07_plot(params: dict, *, data: Path, pdf: Path, png: Path) -> None:
    """Fig 7: contours of E with the GD trajectory of every learning rate."""
    d = load_npz(data)
    lo, hi = (float(v) for v in d["window"])
    fig, ax = figure(width=COLUMN_WIDTH * 1.3, height=COLUMN_WIDTH * 1.3)
    cs = ax.contour(
        d["grid_x"],
        d["grid_y"],
        d["grid_e"],
        levels=int(params["plot"]["contour_levels"]),
        colors="0.6",
        linewidths=0.6,
    )
    ax.clabel(cs, inline=True, fontsize=6, fmt="%g")
    for i, eta in enumerate(d["etas"]):
        traj = d[f"traj_{i}"]
        color = CYCLE[i % len(CYCLE)]
        ax.plot(
            traj[:, 0], traj[:, 1], "-o", color=color, markersize=3, linewidth=1.0, label=rf"$\eta = {eta:g}$"
        )
        ax.plot(traj[0, 0], traj[0, 1], "s", color=color, markersize=5)
    ax.plot(*d["minimum"], "*", color="black", markersize=11, label="minimum", zorder=5)
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_aspect("equal")
    ax.set_xlabel("$x$")
    ax.set_ylabel("$y$")
    surf = params["surface"]
    energy = f"{_coef(surf['a'])}x^2 + {_coef(surf['b'])}y^2 {float(surf.get('c', 0.0)):+g}"
    ax.set_title(f"Plain GD on $E = {energy}$ (squares: starts)")
    ax.legend(loc="upper right", fontsize=7, frameon=True, framealpha=0.9)
    save_figure(fig, pdf, png)


@step
def fig09_plot(params: dict, *, data: Path, pdf: Path, png: Path) -> None:
    """Fig 9: log-spaced contours of Beale's function with the five optimisers' trajectories."""
    d = load_npz(data)
    lo, hi = (float(v) for v in d["window"])
    lev = params["plot"]["contour_levels"]
    levels = np.logspace(np.log10(float(lev["low"])), np.log10(float(lev["high"])), int(lev["n"]))
    fig, ax = figure(width=COLUMN_WIDTH * 1.5, height=COLUMN_WIDTH * 1.65)
    cs = ax.contour(
        d["grid_x"],
        d["grid_y"],
        d["grid_f"],
        levels=levels,
        norm=LogNorm(vmin=levels[0], vmax=levels[-1]),
        cmap="terrain",
        linewidths=0.6,
    )
    methods = [str(m) for m in d["methods"]]
    for i, name in enumerate(methods):
        style = BEALE_STYLES.get(name, {"linestyle": "-", "label": name})
        for j in range(len(d["starts"])):
            traj = d["trajectories"][i, j]
            ax.plot(
                traj[:, 0],
                traj[:, 1],
                color=COLORS.get(name, "0.5"),
                linestyle=style["linestyle"],
                linewidth=1.4,
                label=style["label"] if j == 0 else None,
            )
    ax.plot(
        d["starts"][:, 0],
        d["starts"][:, 1],
        "o",
        color="black",
        markersize=5,
        markerfacecolor="white",
        label="starts",
        zorder=5,
    )
    ax.plot(
        *d["minimum"],
        "*",
        color="gold",
        markeredgecolor="black",
        markersize=14,
        label="minimum (3, 0.5)",
        zorder=6,
    )
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_xlabel("$x$")
    ax.set_ylabel("$y$")
    ax.set_title("Beale's function: GD, GDM, NAG, RMSprop, ADAM")
    ax.set_aspect("equal")
    cbar = fig.colorbar(cs, ax=ax, shrink=0.8, pad=0.02)
    decades = np.arange(np.ceil(np.log10(levels[0])), np.floor(np.log10(levels[-1])) + 1)
    cbar.set_ticks(10.0**decades, labels=[f"$10^{{{int(k)}}}$" for k in decades])
    cbar.set_label("$f(x, y)$")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=4, fontsize=7)
    save_figure(fig, pdf, png)
