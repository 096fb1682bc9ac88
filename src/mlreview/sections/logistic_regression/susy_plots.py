"""Figs 22, 23 and 25: the SUSY logistic-regression figures (predicted probabilities, ROC curves
over the L2 strength, logistic regression against a cut)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mlreview.figures import style
from mlreview.figures.susy import BACKGROUND_COLOR, SIGNAL_COLOR, draw_roc, source_title
from mlreview.steps import step


@step
def fig22_plot(params: dict, *, data: Path, pdf: Path, png: Path) -> None:
    """Fig 22: histograms of the predicted P(signal) on the test set, for true signal (left,
    blue) and true background (right, red) events."""
    from mlreview.io import load_npz

    d = load_npz(data)
    p, y = d["p_test"], d["y_test"]
    edges = np.linspace(0.0, 1.0, int(params["plot"]["bins"]) + 1)
    fig, axes = style.figure(1, 2, width=style.PAGE_WIDTH, height=0.4 * style.PAGE_WIDTH, sharey=True)
    for ax, code, color, text in ((axes[0], 1, SIGNAL_COLOR, "signal"), (axes[1], 0, BACKGROUND_COLOR, "background")):
        ax.hist(p[y == code], bins=edges, color=color, alpha=0.8, edgecolor="white")
        ax.set_xlim(0.0, 1.0)
        ax.set_xlabel("P(signal)")
        ax.set_title(f"true {text} ({int(np.sum(y == code)):,} test events)")
    axes[0].set_ylabel("events")
    fig.suptitle(f"logistic regression, {len(d['features'])} features: {source_title(d['source'])}", fontsize=9)
    fig.tight_layout()
    style.save_figure(fig, pdf, png)


@step
def fig23_plot(params: dict, *, data: Path, pdf: Path, png: Path) -> None:
    """Fig 23: test ROC curves for every alpha, the minibatch model (top) and scikit-learn's
    SGDClassifier (bottom), coloured along a sequential colour map."""
    import matplotlib.pyplot as plt

    from mlreview.io import load_npz

    d = load_npz(data)
    plot = params["plot"]
    cmap = plt.get_cmap(plot["cmap"])
    fig, axes = style.figure(2, 1, width=1.4 * style.COLUMN_WIDTH, height=2.4 * style.COLUMN_WIDTH)
    titles = {"torch": "minibatch gradient descent (torch)", "sgd": "scikit-learn SGDClassifier"}
    for ax, panel in zip(axes, ("torch", "sgd")):
        alphas = d[f"{panel}_alphas"]
        shades = np.linspace(*map(float, plot["shade_range"]), len(alphas))
        for alpha, rejection, auc, shade in zip(alphas, d[f"{panel}_rejection"], d[f"{panel}_test_auc"], shades):
            draw_roc(ax, d["efficiency"], rejection, color=cmap(shade), lw=1.0,
                     label=rf"$\alpha$ = {alpha:.0e} (AUC {auc:.3f})")
        ax.set_title(titles[panel])
        ax.legend(loc="lower left", fontsize=5.5, ncol=1)
    fig.suptitle(source_title(d["source"]), fontsize=8)
    fig.tight_layout()
    style.save_figure(fig, pdf, png)


@step
def fig25_plot(params: dict, *, data: Path, pdf: Path, png: Path) -> None:
    """Fig 25: ROC of logistic regression on the 8 low-level features (green), on all 18
    (purple), and of a cut on the leading-lepton pT (black, dashed)."""
    from mlreview.io import load_npz

    d = load_npz(data)
    plot = params["plot"]
    fig, ax = style.figure(1, 1, width=1.3 * style.COLUMN_WIDTH, height=1.2 * style.COLUMN_WIDTH)
    for name, (text, color, ls) in plot["curves"].items():
        draw_roc(ax, d["efficiency"], d[f"{name}_rejection"], color=color, ls=ls,
                 label=f"{text} (AUC {float(d[f'{name}_auc']):.3f})")
    ax.legend(loc="lower left")
    ax.set_title(source_title(d["source"]), fontsize=8)
    style.save_figure(fig, pdf, png)
