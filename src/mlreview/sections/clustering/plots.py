"""Plots of Section XIII: K-means (Fig 55), single-linkage clustering (Fig 56), DBSCAN (Fig 57)
and the Gaussian mixture on the Ising PC1 (Fig 58).

Each step reads only the ``.npz`` of its compute step (plus its params) and writes PDF and PNG
through :mod:`mlreview.figures.style`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Circle

from mlreview.figures.style import CYCLE, PAGE_WIDTH, figure, save_figure
from mlreview.io import load_npz
from mlreview.steps import step


@step
def fig55_plot(params: Mapping, *, data: Path, pdf: Path, png: Path) -> None:
    """Fig 55: (a)-(c) iteration t = 1, an intermediate t and the last t: the points coloured by the
    assignment the means of iteration t were computed from (t = 1: the random sectors), the means of
    all iterations so far (cyan stars) and the objective C of those means and that assignment;
    (d) C after every half-step (means update, then reassignment) against t."""
    d = load_npz(data)
    plot = params["plot"]
    X, c, c_means, means = d["X"], d["c"], d["c_means"], d["means"]
    before = np.vstack([d["start"][None, :], d["assignments"][:-1]])  # assignment used by the means of t
    final = len(c)
    shown = sorted({1, max(1, int(round(float(plot["intermediate"]) * final))), final})
    fig, axes = figure(1, len(shown) + 1, width=PAGE_WIDTH, height=PAGE_WIDTH / (len(shown) + 1) * 1.1,
                       gridspec_kw={"width_ratios": [1.0] * len(shown) + [1.4]})
    for ax, t, letter in zip(axes, shown, "abc"):
        ax.scatter(X[:, 0], X[:, 1], c=[CYCLE[a] for a in before[t - 1]], s=6, lw=0)
        history = means[:t].reshape(-1, 2)
        ax.scatter(history[:, 0], history[:, 1], marker="*", s=70, color="cyan", edgecolor="k", lw=0.5, zorder=3)
        ax.set_title(f"({letter}) $t = {t}$, $C = {c_means[t - 1]:.1f}$", loc="left")
        ax.set_aspect("equal", adjustable="datalim")
        ax.set_xticks([])
        ax.set_yticks([])
    ax = axes[-1]
    t = np.arange(1, final + 1)
    ax.plot(np.column_stack([t, t + 0.5]).ravel(), np.column_stack([c_means, c]).ravel(), color="k", lw=0.8)
    ax.plot(t, c_means, "o", color="k", markersize=3, label="means moved")
    ax.plot(t + 0.5, c, "s", color="tab:orange", markersize=3, label="points reassigned")
    ax.set_xlabel("iteration $t$")
    ax.set_ylabel("objective $C$")
    ax.set_title(f"({'abcd'[len(shown)]})", loc="left")
    ax.legend(loc="upper right", fontsize=7, handlelength=1.0)
    fig.tight_layout()
    save_figure(fig, pdf, png)


@step
def fig56_plot(params: Mapping, *, data: Path, pdf: Path, png: Path) -> None:
    """Fig 56: (a) the points, with a dotted outline around every merged group (colour = merge
    order); (b) the single-linkage dendrogram with the example cut and its clusters."""
    from scipy.cluster.hierarchy import dendrogram  # only this step needs scipy

    d = load_npz(data)
    plot = params["plot"]
    X, Z, cut, cut_labels = d["X"], d["linkage"], float(d["cut"]), d["cut_labels"]
    members = d["merge_members"]  # row = merge, True where the point is in the merged group
    fig, axes = figure(1, 2, width=PAGE_WIDTH * 0.8, height=PAGE_WIDTH * 0.38)
    ax = axes[0]
    ax.scatter(X[:, 0], X[:, 1], color="k", zorder=3)
    for i, (x, y) in enumerate(X):
        ax.annotate(str(i), (x, y), xytext=(4, 4), textcoords="offset points")
    pad = float(plot["outline_pad"])
    for merge, group in enumerate(members):
        pts = X[group]
        centre = pts.mean(axis=0)
        radius = np.max(np.linalg.norm(pts - centre, axis=1)) + pad * (1 + 0.5 * merge)
        ax.add_patch(Circle(centre, radius, fill=False, ls=":", lw=1.2, color=CYCLE[merge % len(CYCLE)],
                            label=f"merge {merge + 1}"))
    ax.set_aspect("equal", adjustable="datalim")
    ax.autoscale_view()
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_title("(a) data and merged groups", loc="left")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7)

    ax = axes[1]
    dendrogram(Z, ax=ax, color_threshold=0, above_threshold_color="k", leaf_font_size=9)
    ax.axhline(cut, ls="--", color="tab:red", lw=1)
    names = [", ".join(str(i) for i in np.flatnonzero(cut_labels == c)) for c in np.unique(cut_labels)]
    handles = [Line2D([], [], ls="--", color="tab:red")]
    ax.legend(handles, [f"cut: {{{'}, {'.join(names)}}}"], loc="upper right")
    ax.set_xlabel("point")
    ax.set_ylabel("$d(X, Y)$ (single linkage)")
    ax.set_title("(b) dendrogram", loc="left")
    fig.tight_layout()
    save_figure(fig, pdf, png)


@step
def fig57_plot(params: Mapping, *, data: Path, pdf: Path, png: Path) -> None:
    """Fig 57: (a) the DBSCAN illustration (core red, border blue, noise grey, two
    eps-neighbourhoods); (b) DBSCAN on the noisy moons over the density estimate."""
    d = load_npz(data)
    plot = params["plot"]
    fig, axes = figure(1, 2, width=PAGE_WIDTH, height=PAGE_WIDTH * 0.42,
                       gridspec_kw={"width_ratios": [1.0, 1.3]})
    ax = axes[0]
    Xa, la, core, eps = d["illustration_X"], d["illustration_labels"], d["illustration_core"], float(d["illustration_eps"])
    border = ~core & (la >= 0)
    noise = la == -1
    for mask, colour, name in ((core, "tab:red", "core"), (border, "tab:blue", "border"), (noise, "0.6", "outlier")):
        ax.scatter(Xa[mask, 0], Xa[mask, 1], color=colour, s=25, label=name, zorder=3)
    for idx in (np.flatnonzero(core)[:1].tolist() + np.flatnonzero(border)[:1].tolist()):
        ax.add_patch(Circle(Xa[idx], eps, fill=False, ls="--", color="k", lw=0.8))
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(rf"(a) minPts = {int(params['illustration']['min_samples'])}, $\varepsilon$ = {eps:g}", loc="left")
    ax.legend(loc="upper left", bbox_to_anchor=(0.0, -0.02), ncol=3)

    ax = axes[1]
    X, labels = d["X"], d["labels"]
    mesh = ax.pcolormesh(d["grid_x"], d["grid_y"], d["density"], cmap=plot["density_cmap"], shading="auto",
                         rasterized=True)
    bar = fig.colorbar(mesh, ax=ax, ticks=[d["density"].min(), d["density"].max()], pad=0.02)
    bar.ax.set_yticklabels(["Low", "High"])
    bar.set_label("density")
    for j, c in enumerate(sorted(set(labels.tolist()) - {-1})):
        m = labels == c
        ax.scatter(X[m, 0], X[m, 1], s=4, color=CYCLE[j % len(CYCLE)], lw=0, label=f"cluster {j + 1}")
    m = labels == -1
    ax.scatter(X[m, 0], X[m, 1], marker="x", s=12, color="k", lw=0.8, label="outlier")
    ax.set_title(f"(b) minPts = {int(params['min_samples'])}, $\\varepsilon$ = {float(params['eps']):g}", loc="left")
    ax.set_xlabel("$x_1$ (standardised)")
    ax.set_ylabel("$x_2$ (standardised)")
    ax.legend(loc="upper right", markerscale=2, framealpha=0.8, frameon=True)
    fig.tight_layout()
    save_figure(fig, pdf, png)


#: component -> (legend name, colour)
COMPONENT_STYLE = {"ordered_minus": (r"ordered, $m < 0$", "tab:blue"), "disordered": ("disordered", "tab:green"),
                   "ordered_plus": (r"ordered, $m > 0$", "tab:red")}


@step
def fig58_plot(params: Mapping, *, data: Path, pdf: Path, png: Path) -> None:
    """Fig 58: (a) the PC1 histogram and the fitted mixture density; (b) the mean responsibility of
    every component against temperature, with Tc and the crossing temperature."""
    d = load_npz(data)
    plot = params["plot"]
    x, names = d["x"], [str(n) for n in d["names"]]
    fig, axes = figure(1, 2, width=PAGE_WIDTH, height=PAGE_WIDTH * 0.36)
    ax = axes[0]
    ax.hist(x, bins=int(plot["bins"]), density=True, color="0.7", label="PC1 of the Ising states")
    ax.plot(d["grid"], d["density"], color="tab:red", label="mixture, $K = 3$")
    ax.set_yscale(plot["yscale"])
    ax.set_xlabel("PC1")
    ax.set_ylabel("probability density")
    ax.set_title("(a)", loc="left")
    ax.legend(loc="upper center")

    ax = axes[1]
    temps, resp = d["temperatures"], d["mean_responsibility"]
    for i, name in enumerate(names):
        label, colour = COMPONENT_STYLE[name]
        ax.plot(temps, resp[:, i], marker="o", color=colour, label=label)
    tc, t_cross = float(d["tc"]), float(d["t_cross"][0])
    ax.axvline(tc, color="k", ls="--", lw=0.8, label=f"$T_c = {tc:.3f}$")
    if np.isfinite(t_cross):
        ax.axvline(t_cross, color="tab:purple", ls=":", lw=1.2, label=rf"$T_\times = {t_cross:.3f}$")
    ax.axhline(1.0 / len(names), color="0.6", lw=0.6)
    ax.set_xlabel("temperature $T$")
    ax.set_ylabel(r"mean responsibility $\langle\gamma_k\rangle_T$")
    ax.set_title("(b)", loc="left")
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.tight_layout()
    save_figure(fig, pdf, png)

