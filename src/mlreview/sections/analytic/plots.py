"""Plots of the analytic figures: Fig 12 (shrinkage), Fig 36 (activations), Figs 69/70 (KL).

Each plot step reads only the ``.npz`` written by its compute step (plus its params) and
writes the PDF and PNG through :mod:`mlreview.figures.style`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from mlreview.sections.analytic.activations import NON_SATURATING, SATURATING, TITLES
from mlreview.figures.style import COLORS, PAGE_WIDTH, figure, save_figure
from mlreview.io import load_npz
from mlreview.steps import step


@step
def fig12_plot(params: Mapping, *, data: Path, pdf: Path, png: Path) -> None:
    """Fig 12: LASSO (left) and Ridge (right) estimates against w_LS, with the 45-degree line."""
    d = load_npz(data)
    lam = float(params["lam"])
    w = d["w_ls"]
    fig, axes = figure(1, 2, width=PAGE_WIDTH, height=0.45 * PAGE_WIDTH)
    panels = (
        ("LASSO", d["lasso_closed_form"], r"$\hat w_{\rm lasso}$"),
        ("Ridge", d["ridge_closed_form"], r"$\hat w_{\rm ridge}$"),
    )
    for ax, (title, estimate, label) in zip(axes, panels):
        ax.axhline(0.0, color="0.8", lw=0.6, zorder=0)
        ax.axvline(0.0, color="0.8", lw=0.6, zorder=0)
        ax.plot(w, w, color=COLORS["reference"], lw=1.0, label=r"$\hat w = \hat w_{\rm LS}$")
        ax.plot(w, estimate, color=COLORS["estimator"], ls="--", label=label)
        ax.set_title(title)
        ax.set_xlabel(r"$\hat w_{\rm LS}$")
        ax.set_ylabel(r"$\hat w$")
        ax.set_xlim(w.min(), w.max())
        ax.set_ylim(w.min(), w.max())
        ax.set_aspect("equal")
        ax.legend(loc="upper left")
    lasso_ax, ridge_ax = axes
    # Threshold labels sit outside the dead zone, on the side away from the 45-degree line.
    for sign, text in ((-1.0, r"$-\lambda$"), (1.0, r"$+\lambda$")):
        lasso_ax.axvline(sign * lam, color="0.5", ls=":", lw=0.8)
        lasso_ax.annotate(
            text,
            (sign * lam, 0.0),
            xytext=(4 * sign, -10 * sign),
            textcoords="offset points",
            ha="left" if sign > 0 else "right",
            va="center",
        )
    x_text = 0.5 * w.max()
    ridge_ax.annotate(
        rf"slope $1/(1+\lambda) = {1.0 / (1.0 + lam):.3g}$",
        (x_text, x_text / (1.0 + lam)),
        xytext=(0, -28),
        textcoords="offset points",
        ha="center",
        va="top",
        arrowprops={"arrowstyle": "-", "color": "0.4", "lw": 0.6},
    )
    lasso_ax.text(0.97, 0.04, rf"$\lambda = {lam:g}$", transform=lasso_ax.transAxes, ha="right", va="bottom")
    ridge_ax.text(0.97, 0.04, rf"$\lambda = {lam:g}$", transform=ridge_ax.transAxes, ha="right", va="bottom")
    save_figure(fig, pdf, png)


@step
def fig36_plot(params: Mapping, *, data: Path, pdf: Path, png: Path) -> None:
    """Fig 36: 2 x 3 grid, saturating functions on top, non-saturating below."""
    d = load_npz(data)
    z = d["z"]
    fig, axes = figure(2, 3, width=PAGE_WIDTH, height=0.6 * PAGE_WIDTH)
    for row, names in enumerate((SATURATING, NON_SATURATING)):
        for col, name in enumerate(names):
            ax = axes[row, col]
            ax.axhline(0.0, color="0.8", lw=0.6, zorder=0)
            ax.axvline(0.0, color="0.8", lw=0.6, zorder=0)
            values = d[f"value_{name}"]
            if name == "step":
                # Draw the jump as a jump: break the line where the value changes.
                values = np.where(np.r_[False, np.diff(values) != 0], np.nan, values)
            ax.plot(z, values, color=COLORS["data"])
            title = TITLES[name]
            if name == "leaky_relu":
                title += rf" ($a = {float(params['leaky_slope']):g}$)"
            elif name == "elu":
                title += rf" ($\alpha = {float(params['elu_alpha']):g}$)"
            ax.set_title(title)
            ax.set_xlabel("$z$")
            ax.set_ylabel(r"$\sigma(z)$")
            ax.set_xlim(z.min(), z.max())
    fig.tight_layout()
    save_figure(fig, pdf, png)


@step
def kl_divergence_plot(params: Mapping, *, data: Path, pdf: Path, png: Path) -> None:
    """Figs 69 and 70: one density panel per ``deltas_shown``, then both divergences against Delta."""
    d = load_npz(data)
    shown = d["deltas_shown"]
    if shown.size != len(params["deltas_shown"]):
        raise ValueError("deltas_shown in params and data disagree")
    nrows = shown.size + 1
    fig, axes = figure(nrows, 1, width=0.6 * PAGE_WIDTH, height=1.55 * nrows + 0.3)
    axes = np.atleast_1d(axes)
    x = d["x"]
    for k, delta in enumerate(shown):
        ax = axes[k]
        ax.plot(x, d["p_data"][k], color=COLORS["data_model"], label=r"$p_{\rm data}$")
        ax.plot(x, d["p_model"][k], color=COLORS["model_data"], ls="--", label=r"$p_\theta$")
        ax.set_xlim(x.min(), x.max())
        ax.set_ylim(bottom=0.0)
        ax.set_xlabel("$x$")
        ax.set_ylabel("density")
        ax.set_title(
            rf"$\Delta = {delta:g}$, $p_\theta = \mathcal{{N}}(0, {d['model_variance_shown'][k]:g})$"
        )
        ax.legend(loc="upper right")
    ax = axes[-1]
    ax.plot(
        d["deltas"],
        d["kl_data_model"],
        color=COLORS["data_model"],
        label=r"Data-Model: $D_{\rm KL}(p_{\rm data}\,\|\,p_\theta)$",
    )
    ax.plot(
        d["deltas"],
        d["kl_model_data"],
        color=COLORS["model_data"],
        ls="--",
        label=r"Model-Data: $D_{\rm KL}(p_\theta\,\|\,p_{\rm data})$",
    )
    ax.set_xlim(d["deltas"].min(), d["deltas"].max())
    ax.set_ylim(bottom=0.0)
    ax.set_xlabel(r"$\Delta$")
    ax.set_ylabel(r"$D_{\rm KL}$ (nats)")
    ax.legend(loc="upper left")
    fig.tight_layout()
    save_figure(fig, pdf, png)
