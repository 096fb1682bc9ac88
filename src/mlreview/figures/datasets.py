"""Figures that only display data: Fig 24 (SUSY lepton pT) and Fig 26 (an MNIST digit)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from mlreview.figures.style import COLUMN_WIDTH, figure, save_figure
from mlreview.io import load_npz

SIGNAL, BACKGROUND = "tab:blue", "tab:red"


def fig26_plot_step(params: Mapping, *, data: Path, pdf: Path, png: Path) -> None:
    """A 28 x 28 grey-scale digit with a 0-255 colour bar and its label."""
    d = load_npz(data)
    low, high = (int(v) for v in d["pixel_range"])
    fig, ax = figure(1, 1, width=COLUMN_WIDTH, height=COLUMN_WIDTH * 0.85)
    image = ax.imshow(d["image"], cmap="gray_r", vmin=low, vmax=high, interpolation="nearest")
    ax.set_title(f"MNIST training image {int(d['index'])}: label {int(d['label'])}")
    ax.set_xlabel("pixel column")
    ax.set_ylabel("pixel row")
    bar = fig.colorbar(image, ax=ax)
    bar.set_label("grey value (0-255)")
    save_figure(fig, pdf, png)


def fig24_plot_step(params: Mapping, *, data: Path, pdf: Path, png: Path) -> None:
    """Leading vs sub-leading lepton pT: signal blue, background red, from the test rows."""
    d = load_npz(data)
    label = d["label"].astype(bool)
    fig, ax = figure(1, 1, width=COLUMN_WIDTH * 1.3, height=COLUMN_WIDTH * 1.2)
    style = {"s": 2, "alpha": 0.3, "linewidths": 0, "rasterized": True}
    ax.scatter(d["pt1"][~label], d["pt2"][~label], color=BACKGROUND, label="background (SM)", **style)
    ax.scatter(d["pt1"][label], d["pt2"][label], color=SIGNAL, label="signal (SUSY)", **style)
    limit_x, limit_y = (float(v) for v in np.ravel(d["limits"])[:2])
    ax.set_xlim(0, limit_x)
    ax.set_ylim(0, limit_y)
    ax.set_xlabel("leading lepton $p_T$ (scaled to mean 1)")
    ax.set_ylabel("sub-leading lepton $p_T$ (scaled to mean 1)")
    legend = ax.legend(loc="upper right", markerscale=5)
    for handle in legend.legend_handles:
        handle.set_alpha(1)
    source = str(d["source"]) if "source" in d else ""
    if source:
        ax.set_title("SUSY: " + ("physics stand-in generator (not the UCI data)" if source == "toy" else "UCI data set"))
    save_figure(fig, pdf, png)
