"""Figures that only display data: Fig 24 (SUSY lepton pT), Fig 26 (an MNIST digit) and the
signal and background distributions of the 18 SUSY features (project figure *susy_features*;
the parquet file of either source, named in the title from the file's schema metadata)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from mlreview.figures.style import COLUMN_WIDTH, PAGE_WIDTH, figure, save_figure
from mlreview.figures.susy import BACKGROUND_COLOR, LABELS, SIGNAL_COLOR, SOURCE_TITLES
from mlreview.io import load_npz
from mlreview.steps import step


@step
def fig26_plot(params: Mapping, *, data: Path, pdf: Path, png: Path) -> None:
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


@step
def fig24_plot(params: Mapping, *, data: Path, pdf: Path, png: Path) -> None:
    """Leading vs sub-leading lepton pT: signal blue, background red, from the test rows."""
    d = load_npz(data)
    label = d["label"].astype(bool)
    fig, ax = figure(1, 1, width=COLUMN_WIDTH * 1.3, height=COLUMN_WIDTH * 1.2)
    style = {"s": 2, "alpha": 0.3, "linewidths": 0, "rasterized": True}
    ax.scatter(d["pt1"][~label], d["pt2"][~label], color=BACKGROUND_COLOR, label="background (SM)", **style)
    ax.scatter(d["pt1"][label], d["pt2"][label], color=SIGNAL_COLOR, label="signal (SUSY)", **style)
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


def read_features(parquet: Path, max_events: int) -> tuple[dict[str, np.ndarray], str]:
    """The first ``max_events`` rows (label and features) and the file's ``source`` tag."""
    import pyarrow.parquet as pq

    from mlreview.data.susy import FEATURES, LABEL

    pf = pq.ParquetFile(parquet)
    meta = pf.schema_arrow.metadata or {}
    source = meta.get(b"source", b"unknown").decode()
    columns = [LABEL, *FEATURES]
    parts, have = [], 0
    for batch in pf.iter_batches(
        batch_size=max(min(int(max_events), pf.metadata.num_rows), 1), columns=columns
    ):
        parts.append(batch)
        have += batch.num_rows
        if have >= max_events:
            break
    data = {name: np.concatenate([b.column(name).to_numpy() for b in parts])[:max_events] for name in columns}
    return data, source


@step
def susy_features_plot(params: dict, *, parquet: Path, pdf: Path, png: Path) -> None:
    """Plot step: normalised signal (blue) and background (red) histograms of each feature.

    ``params``: ``max_events`` (rows read from the start of the file), ``bins``, and
    ``percentiles`` (the x range of each panel, from the pooled sample).
    """
    # the SUSY module (pandas, pyarrow) only here: the other plot steps of this module need neither
    from mlreview.data.susy import FEATURES, LABEL

    data, source = read_features(Path(parquet), int(params["max_events"]))
    label = data[LABEL].astype(bool)
    low, high = (float(q) for q in params["percentiles"])
    ncols = 3
    nrows = int(np.ceil(len(FEATURES) / ncols))
    fig, axes = figure(nrows, ncols, width=PAGE_WIDTH, height=1.45 * nrows)
    for ax, name in zip(axes.flat, FEATURES):
        values = data[name].astype(np.float64)
        lo, hi = np.percentile(values, [low, high])
        if not hi > lo:
            lo, hi = lo - 0.5, hi + 0.5
        edges = np.linspace(lo, hi, int(params["bins"]) + 1)
        for mask, color, text in ((label, SIGNAL_COLOR, "signal"), (~label, BACKGROUND_COLOR, "background")):
            if mask.any():
                ax.hist(values[mask], bins=edges, density=True, histtype="step", color=color, label=text)
        ax.set_xlabel(LABELS.get(name, name))
        ax.tick_params(axis="y", labelsize="x-small")
    for ax in axes.flat[len(FEATURES) :]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_ylabel("density")
    axes.flat[0].legend(loc="upper right")
    n_sig, n_bkg = int(label.sum()), int((~label).sum())
    fig.suptitle(
        f"SUSY features, signal vs background: {SOURCE_TITLES.get(source, source)}; "
        f"{n_sig:,} signal, {n_bkg:,} background events",
        fontsize=9,
    )
    fig.tight_layout()
    save_figure(fig, pdf, png)
