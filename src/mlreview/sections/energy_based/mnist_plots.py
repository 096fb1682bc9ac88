"""Figs 60, 64, 65, the weight filters and the free-energy figure of the four MNIST energy-based
models (drawn from the files of :mod:`mlreview.sections.energy_based.mnist`; numpy only, no torch)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from mlreview.figures.style import CYCLE, PAGE_WIDTH, figure, image_rows, save_figure, square_image
from mlreview.io import load_npz
from mlreview.steps import step

def _draw_rows(rows: Sequence[tuple[str, np.ndarray]], plot: Mapping, pdf: Path, png: Path) -> None:
    image_rows(rows, plot["columns"], plot["cmap"], pdf, png, title=plot.get("title"))


def _model_rows(d: Mapping[str, np.ndarray], kind: str,
                labels: Mapping[str, str]) -> list[tuple[str, np.ndarray]]:
    return [(labels[str(name)], d[f"{kind}/{name}"]) for name in d["models"]]


@step
def fig60_plot(params: Mapping, *, data: Path, pdf: Path, png: Path) -> None:
    """Fig 60: validation digits and their one-step reconstructions by each model."""
    d = load_npz(data)
    _draw_rows([("Data", d["data"]), *_model_rows(d, "recon", params["plot"]["labels"])], params["plot"], pdf, png)


@step
def fig64_plot(params: Mapping, *, data: Path, pdf: Path, png: Path) -> None:
    """Fig 64: fantasy particles after the Gibbs steps, one row per model."""
    _draw_rows(_model_rows(load_npz(data), "fantasy", params["plot"]["labels"]), params["plot"], pdf, png)


@step
def fig65_plot(params: Mapping, *, data: Path, pdf: Path, png: Path) -> None:
    """Fig 65: clean and noisy validation digits and each model's denoised version."""
    d = load_npz(data)
    rows = [("Data", d["data"]), ("Noisy", d["noisy"]), *_model_rows(d, "denoised", params["plot"]["labels"])]
    _draw_rows(rows, params["plot"], pdf, png)


@step
def ebm_filters_plot(params: Mapping, *, data: Path, pdf: Path, png: Path) -> None:
    """The first ``n`` hidden units' weights of one model (its first layer) as 28 x 28 images, in a
    diverging colour map on one symmetric scale."""
    d = load_npz(data)
    name = params["model"]
    plot = params["plot"]["filters"]
    filters = d[f"filters/{name}"][:int(plot["n"])]
    ncols = int(plot["columns"])
    nrows = int(np.ceil(len(filters) / ncols))
    scale = float(np.max(np.abs(filters)))
    fig, axes = figure(nrows, ncols, width=0.8 * PAGE_WIDTH, height=0.8 * PAGE_WIDTH * nrows / ncols,
                       squeeze=False)
    image = None
    for ax in axes.flat:
        ax.axis("off")
    for ax, w in zip(axes.flat, filters):
        image = ax.imshow(square_image(w), cmap=plot["cmap"], vmin=-scale, vmax=scale, interpolation="nearest")
    fig.suptitle(f"{params['plot']['labels'][name]}: weights of the first {len(filters)} hidden units")
    fig.colorbar(image, ax=axes.ravel().tolist(), shrink=0.8, label="weight")
    save_figure(fig, pdf, png)


@step
def ebm_free_energy_plot(params: Mapping, *, models, pdf: Path, png: Path) -> None:
    """(a) The mean free energy of training and validation images per epoch for one model; (b) the
    gap (validation - training) per epoch for every model with a band of 2 standard errors (the DBM's
    is the mean-field bound, over the epochs of its joint stage)."""
    paths = [Path(p) for p in (models if isinstance(models, (list, tuple)) else [models])]
    names = list(params["models"])
    histories = {n: _history(load_npz(p)) for n, p in zip(names, paths)}
    plot = params["plot"]
    shown = plot["free_energy_model"]
    labels = plot["labels"]
    fig, (ax1, ax2) = figure(1, 2, width=PAGE_WIDTH, height=0.42 * PAGE_WIDTH)
    h = histories[shown]
    ax1.plot(h["epoch"], h["free_energy_train"], "o-", color=CYCLE[0], label="training images")
    ax1.plot(h["epoch"], h["free_energy_val"], "s--", color=CYCLE[1], label="validation images")
    ax1.set_xlabel("epoch")
    ax1.set_ylabel(r"mean free energy $\langle F(v)\rangle$")
    ax1.set_title(f"(a) {labels[shown]}")
    ax1.legend()
    for i, name in enumerate(names):
        hist, color = histories[name], CYCLE[i % len(CYCLE)]
        is_dbm = name == params.get("dbm")
        ax2.plot(hist["epoch"], hist["free_energy_gap"], "o-", color=color,
                 label=labels[name] + (" (joint stage, mean-field F)" if is_dbm else ""))
        if "free_energy_gap_se" in hist:
            band = 2.0 * hist["free_energy_gap_se"]
            ax2.fill_between(hist["epoch"], hist["free_energy_gap"] - band, hist["free_energy_gap"] + band,
                             color=color, alpha=0.12, lw=0)
    ax2.axhline(0.0, color="0.5", lw=0.8)
    ax2.set_xlabel("epoch")
    ax2.set_ylabel(r"$\langle F\rangle_{\mathrm{val}} - \langle F\rangle_{\mathrm{train}}$")
    ax2.set_title(r"(b) overfitting gap ($\pm 2$ standard errors)")
    ax2.legend(fontsize="small")
    fig.subplots_adjust(wspace=0.35)
    save_figure(fig, pdf, png)


def _history(d: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {k[len("history/"):]: v for k, v in d.items() if k.startswith("history/")}
