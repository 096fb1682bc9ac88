"""Plots of OLS, Ridge and LASSO on the 1D Ising energies: Fig 16 (R^2 vs lambda) and Fig 17 (J_jk).

Both steps read only the ``.npz`` written by :func:`mlreview.sections.linear_regression.ising.fit_step`
(plus their params, the config section ``linear_regression.ising1d`` with its ``plot`` key) and
write the PDF and PNG through :mod:`mlreview.figures.style`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from mlreview.figures.style import COLUMN_WIDTH, PAGE_WIDTH, figure, save_figure
import matplotlib.pyplot as plt  # noqa: E402  (after style, which selects the Agg backend)
from matplotlib.backends.backend_pdf import PdfPages  # noqa: E402
from mlreview.sections.linear_regression.plots import r2_versus_lambda  # noqa: E402
from mlreview.io import atomic_path, load_npz  # noqa: E402
from mlreview.steps import step

#: model -> (name in legends and titles, colour): OLS blue, Ridge red, LASSO green (the notebook)
MODEL_STYLE = {"ols": ("OLS", "tab:blue"), "ridge": ("Ridge", "tab:red"), "lasso": ("LASSO", "tab:green")}


def lambda_label(lam: float) -> str:
    """``$\\lambda = 10^{-2}$`` for powers of ten, else ``$\\lambda = 0.05$``."""
    exponent = np.log10(float(lam))
    if np.isclose(exponent, np.round(exponent), rtol=0.0, atol=1e-9):
        return rf"$\lambda = 10^{{{int(np.round(exponent))}}}$"
    return rf"$\lambda = {float(lam):g}$"


@step
def fig16_plot(params: Mapping, *, data: Path, pdf: Path, png: Path) -> None:
    """Fig 16: train (solid) and test (dashed) R^2 of OLS, Ridge and LASSO against lambda."""
    fig = r2_versus_lambda(load_npz(data), MODEL_STYLE, params["plot"]["ylim"], r"Performance ($R^2$)",
                           (1.3 * COLUMN_WIDTH, COLUMN_WIDTH))
    save_figure(fig, pdf, png)


def _draw_row(axes, matrices: Mapping[str, np.ndarray], lam: float, params: Mapping, titles_with_lambda: bool):
    vmin, vmax = map(float, params["plot"]["clim"])
    image = None
    for ax, (model, (name, _)) in zip(axes, MODEL_STYLE.items()):
        image = ax.imshow(matrices[model], cmap=params["plot"]["cmap"], vmin=vmin, vmax=vmax,
                          interpolation="nearest")
        if model == "ols":
            title = f"{name} (no $\\lambda$)"
        else:
            title = f"{name}, {lambda_label(lam)}" if titles_with_lambda else name
        ax.set_title(title)
        ax.set_xticks([])
        ax.set_yticks([])
    return image


@step
def fig17_plot(params: Mapping, *, data: Path, pdf: Path, png: Path, panels: Path | None = None) -> None:
    """Fig 17: learned J_jk; rows = coupling lambdas, columns OLS, Ridge, LASSO; one colour bar.

    ``panels`` (optional): a multi-page PDF with one 1 x 3 row for every lambda of the Fig 16
    grid (the notebook saved one such figure per lambda).
    """
    d = load_npz(data)
    lambdas = d["coupling_lambdas"]
    n = lambdas.size
    fig, axes = figure(n, 3, width=0.8 * PAGE_WIDTH, height=0.8 * PAGE_WIDTH * n / 3, squeeze=False)
    image = None
    for row, lam in enumerate(lambdas):
        image = _draw_row(axes[row], {m: d[f"coupling_{m}_J"][row] for m in MODEL_STYLE}, lam, params, True)
    bar = fig.colorbar(image, ax=axes.ravel().tolist(), shrink=0.6, pad=0.03)
    bar.set_label(r"$J_{jk}$")
    save_figure(fig, pdf, png)

    if panels is not None:
        grid = d["figure_grid_lambdas"]
        with atomic_path(panels) as tmp, PdfPages(tmp, metadata={"Creator": "mlreview"}) as book:
            for i, lam in enumerate(grid):
                fig, axes = figure(1, 3, width=PAGE_WIDTH, height=0.36 * PAGE_WIDTH)
                matrices = {"ols": d["ols_J"], "ridge": d["figure_grid_ridge_J"][i], "lasso": d["figure_grid_lasso_J"][i]}
                image = _draw_row(axes, matrices, lam, params, True)
                fig.colorbar(image, ax=list(axes), shrink=0.8, pad=0.02).set_label(r"$J_{jk}$")
                book.savefig(fig)
                plt.close(fig)
