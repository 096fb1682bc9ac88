"""Plots of Ridge and LASSO on the diabetes data: Fig 14 (R^2 vs lambda) and Fig 15 (paths).

Both steps read only the ``.npz`` written by :func:`mlreview.sections.linear_regression.diabetes.fit_step` (plus
their params) and write the PDF and PNG through :mod:`mlreview.figures.style`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import matplotlib as mpl
import numpy as np

from mlreview.figures.style import COLUMN_WIDTH, PAGE_WIDTH, figure, save_figure
from mlreview.io import load_npz
from mlreview.steps import step

#: model -> (legend name, colour): Ridge blue, LASSO green (the authors' notebook)
MODEL_STYLE = {"ridge": ("Ridge", "tab:blue"), "lasso": ("LASSO", "tab:green")}


def r2_versus_lambda(d: Mapping, model_style: Mapping, ylim, ylabel: str, size: tuple[float, float]):
    """Train (solid) and test (dashed) R^2 against lambda, one colour per model (Figs 14, 16).

    ``d`` holds ``figure_grid_lambdas`` and ``figure_grid_<model>_{train,test}_r2``.
    """
    lambdas = d["figure_grid_lambdas"]
    fig, ax = figure(1, 1, width=size[0], height=size[1])
    for model, (name, colour) in model_style.items():
        ax.semilogx(lambdas, d[f"figure_grid_{model}_train_r2"], color=colour, ls="-", label=f"Train ({name})")
        ax.semilogx(lambdas, d[f"figure_grid_{model}_test_r2"], color=colour, ls="--", label=f"Test ({name})")
    ax.set_xlim(lambdas.min(), lambdas.max())
    ax.set_ylim(*map(float, ylim))
    ax.set_xlabel(r"$\lambda$")
    ax.set_ylabel(ylabel)
    ax.legend(loc="lower left")
    return fig


@step
def fig14_plot(params: Mapping, *, data: Path, pdf: Path, png: Path) -> None:
    """Fig 14: train (solid) and test (dashed) R^2 of Ridge and LASSO against lambda."""
    fig = r2_versus_lambda(load_npz(data), MODEL_STYLE, params["plot"]["ylim"], "Performance",
                           (1.2 * COLUMN_WIDTH, 0.9 * COLUMN_WIDTH))
    save_figure(fig, pdf, png)


@step
def fig15_plot(params: Mapping, *, data: Path, pdf: Path, png: Path) -> None:
    """Fig 15: |w_i| of every feature against lambda; Ridge left, LASSO right."""
    d = load_npz(data)
    lambdas = d["path_grid_lambdas"]
    names = [str(n) for n in d["feature_names"]]
    colours = mpl.colormaps["tab10"](np.arange(len(names)) % 10)
    fig, axes = figure(1, 2, width=PAGE_WIDTH, height=0.42 * PAGE_WIDTH)
    for ax, (model, (title, _)) in zip(axes, MODEL_STYLE.items()):
        coef = np.abs(d[f"path_grid_{model}_coef"])
        for j, name in enumerate(names):
            ax.semilogx(lambdas, coef[:, j], color=colours[j], label=name)
        ax.set_title(title)
        ax.set_xlim(lambdas.min(), lambdas.max())
        ax.set_ylim(bottom=0.0)
        ax.set_xlabel(r"$\lambda$")
        ax.set_ylabel(r"$|w_i|$")
    # One legend for both panels, outside the axes so that no curve is hidden.
    axes[1].legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), title="feature")
    fig.tight_layout()
    save_figure(fig, pdf, png)
