"""Plots of the logistic-regression section: Fig 21 (Ising phases) and Fig 27 (MNIST weights).

Each step reads only the ``.npz`` of its compute step (plus its params) and writes PDF and PNG
through :mod:`mlreview.figures.style`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from mlreview.figures.style import COLUMN_WIDTH, PAGE_WIDTH, SET_STYLE, figure, save_figure
from mlreview.io import load_npz
from mlreview.steps import step

#: solver -> (legend name, line style): liblinear solid, SGD dashed [review]
SOLVER_STYLE = {"liblinear": ("liblinear", "-"), "sgd": ("SGD", "--")}


@step
def fig21_plot(params: Mapping, *, data: Path, pdf: Path, png: Path) -> None:
    """Fig 21: train, test and critical accuracy against lambda, liblinear (solid) and SGD (dashed).

    The shaded bands are the Wilson 95% intervals (mostly thinner than the lines at paper scale).
    """
    d = load_npz(data)
    lambdas = d["lambdas"]
    plot = params["plot"]
    fig, ax = figure(1, 1, width=1.3 * COLUMN_WIDTH, height=COLUMN_WIDTH)
    for solver, (solver_name, ls) in SOLVER_STYLE.items():
        for name, (set_name, colour) in SET_STYLE.items():
            ci = d[f"{solver}_{name}_ci"]
            ax.fill_between(lambdas, ci[:, 0], ci[:, 1], color=colour, alpha=0.2, lw=0)
            ax.semilogx(lambdas, d[f"{solver}_{name}_accuracy"], color=colour, ls=ls, marker="o",
                        markersize=2.5, label=f"{set_name} ({solver_name})")
    ax.set_xlim(lambdas.min(), lambdas.max())
    ax.set_ylim(*map(float, plot["ylim"]))
    ax.set_xlabel(r"$\lambda$")
    ax.set_ylabel("accuracy")
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0))
    save_figure(fig, pdf, png)


@step
def fig27_plot(params: Mapping, *, data: Path, pdf: Path, png: Path) -> None:
    """Fig 27: the ten weight vectors as 28 x 28 images on one symmetric colour scale (0 in the middle)."""
    d = load_npz(data)
    weights, classes = d["weights"], d["classes"]
    plot = params["plot"]
    ncols = int(plot["columns"])
    nrows = int(np.ceil(len(classes) / ncols))
    scale = float(np.max(np.abs(weights)))
    fig, axes = figure(nrows, ncols, width=PAGE_WIDTH, height=PAGE_WIDTH * nrows / ncols * 1.05,
                       squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    image = None
    for ax, w, k in zip(axes.flat, weights, classes):
        image = ax.imshow(w, cmap=plot["cmap"], vmin=-scale, vmax=scale, interpolation="nearest")
        ax.set_title(f"Class {int(k)}")
    fig.suptitle(plot["title"])
    fig.colorbar(image, ax=axes.ravel().tolist(), shrink=0.8, label="weight")
    save_figure(fig, pdf, png)
