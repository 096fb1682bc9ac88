"""The one figure style of the project: fonts, sizes, colours, and saving.

Every figure is drawn with :func:`figure` and written with :func:`save_figure`, which
writes the PDF and the PNG of the same figure atomically.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from mlreview.io import atomic_path  # noqa: E402

#: Width of one column of Physics Reports, and of the full page, in inches.
COLUMN_WIDTH = 3.4
PAGE_WIDTH = 7.0
PNG_DPI = 200

RC = {
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.titlesize": 9,
    "axes.labelsize": 9,
    "legend.fontsize": 8,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "lines.linewidth": 1.4,
    "lines.markersize": 4,
    "axes.grid": False,
    "legend.frameon": False,
    "savefig.bbox": "tight",
    "pdf.fonttype": 42,
    "svg.hashsalt": "mlreview",
}

#: The workflow-wide settings of ``figure_style`` in the config (:func:`configure`) and the rcParam
#: each one sets.
STYLE_KEYS = {"pdf_fonttype": "pdf.fonttype"}
PDF_FONTTYPES = (3, 42)


def configure(settings) -> None:
    """Apply the config's ``figure_style`` (passed to every plot step as ``--figure-style``).

    ``pdf_fonttype``: 42 embeds TrueType subsets in the PDFs (text editable in a vector editor, the
    font type publishers ask for); 3 embeds the glyphs as drawing procedures, which matplotlib writes
    several times faster (fontTools' subsetting of the DejaVu fonts was most of a plot step's PDF).
    """
    from mlreview.errors import MlreviewError

    unknown = sorted(set(settings) - set(STYLE_KEYS))
    if unknown:
        raise MlreviewError(f"figure_style: unknown key(s) {unknown}; known: {sorted(STYLE_KEYS)}")
    fonttype = settings.get("pdf_fonttype", RC["pdf.fonttype"])
    if fonttype not in PDF_FONTTYPES:
        raise MlreviewError(f"figure_style.pdf_fonttype must be one of {list(PDF_FONTTYPES)}, got {fonttype!r}")
    RC.update({STYLE_KEYS[key]: value for key, value in settings.items()})


#: Named colours used across figures (the review's choices where it states them).
COLORS = {
    "degree1": "tab:red",
    "degree3": "gold",
    "degree10": "tab:green",
    "data": "tab:blue",
    "truth": "0.3",
    "gd": "black",
    "gdm": "magenta",
    "nag": "cyan",
    "rmsprop": "tab:blue",
    "adam": "tab:red",
    "estimator": "tab:red",
    "reference": "black",
    "data_model": "tab:blue",
    "model_data": "tab:orange",
}

#: Per-learning-rate colours for Fig 7 and any figure with a handful of series.
CYCLE = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown"]


def figure(nrows: int = 1, ncols: int = 1, width: float = PAGE_WIDTH, height: float | None = None, **kw):
    """A styled figure with a grid of axes (``plt.subplots`` with the project's rcParams)."""
    plt.rcParams.update(RC)
    if height is None:
        height = width * 0.75 * nrows / ncols
    kw.setdefault("dpi", PNG_DPI)  # layout, the tight box and the PNG then share one text-metrics cache
    fig, axes = plt.subplots(nrows, ncols, figsize=(width, height), **kw)
    return fig, axes


def legend_entries(axes, last_wins: bool = False) -> tuple[list, list[str]]:
    """The legend handles and labels of several panels, one entry per label (for one figure-wide
    legend): the first panel's handle of a label, or the last one's with ``last_wins``."""
    entries: dict[str, object] = {}
    for ax in axes:
        for handle, text in zip(*ax.get_legend_handles_labels()):
            if last_wins or text not in entries:
                entries[text] = handle
    return list(entries.values()), list(entries)


def save_figure(fig, pdf: str | os.PathLike, png: str | os.PathLike) -> None:
    """Write ``fig`` as PDF and PNG (atomically) and close it.

    The tight bounding box (``savefig.bbox: tight``) is computed once, on a layout pass at the PNG's
    dpi, and used for both files: matplotlib would otherwise lay the figure out again before each
    file, and text layout is most of a plot step's time."""
    from matplotlib.layout_engine import PlaceHolderLayoutEngine

    engine = fig.get_layout_engine()
    if (engine is None or isinstance(engine, PlaceHolderLayoutEngine)) and plt.rcParams["savefig.bbox"] == "tight":
        # a one-off tight_layout() leaves a placeholder engine that makes savefig lay out again
        fig.set_layout_engine(None)
        fig.set_dpi(PNG_DPI)
        fig.draw_without_rendering()
        bbox = fig.get_tightbbox().padded(plt.rcParams["savefig.pad_inches"])
    else:
        bbox = None  # a real layout engine lays the figure out at each save; let matplotlib do it all
    for path, fmt in ((Path(pdf), "pdf"), (Path(png), "png")):
        with atomic_path(path) as tmp:
            kw = {"bbox_inches": bbox} if bbox is not None else {}
            fig.savefig(tmp, format=fmt, dpi=PNG_DPI, metadata=_metadata(fmt), **kw)
    plt.close(fig)


def _metadata(fmt: str) -> dict:
    # Fixed metadata keep repeated builds byte-stable where the backend allows it.
    if fmt == "pdf":
        return {"Creator": "mlreview", "Producer": "matplotlib", "CreationDate": None}
    return {"Software": "mlreview"}


def square_image(x) -> np.ndarray:
    """A flat image of n = side^2 pixels (an MNIST digit, an L x L Ising state) as a side x side array."""
    side = int(round(np.sqrt(np.size(x))))
    return np.asarray(x, dtype=float).reshape(side, side)


def image_rows(rows: Sequence[tuple[str, np.ndarray]], columns: int, cmap: str, pdf: str | os.PathLike,
               png: str | os.PathLike, title: str | None = None, frame: bool = False) -> None:
    """A grid of flat square images in [0, 1]: one labelled row per ``(label, images)`` entry, the
    first ``columns`` images of each (Figs 60, 64, 65 and 66-68). ``frame`` draws each image's border
    (an all-white Ising state is otherwise invisible on the page)."""
    ncols, nrows = int(columns), len(rows)
    height = PAGE_WIDTH * nrows / ncols * 1.02 + (0.3 if title else 0.0)
    fig, axes = figure(nrows, ncols, width=PAGE_WIDTH, height=height, squeeze=False)
    for r, (label, images) in enumerate(rows):
        for c in range(ncols):
            ax = axes[r, c]
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(frame)
            if c < len(images):
                ax.imshow(square_image(images[c]), cmap=cmap, vmin=0.0, vmax=1.0, interpolation="nearest")
        axes[r, 0].set_ylabel(label, rotation=0, ha="right", va="center")
    if title:
        fig.suptitle(title)
    fig.subplots_adjust(wspace=0.05, hspace=0.05)
    save_figure(fig, pdf, png)


#: evaluation set -> (legend name, colour): train blue, test red, critical green [review]
SET_STYLE = {"train": ("train", "tab:blue"), "test": ("test", "tab:red"), "critical": ("critical", "tab:green")}
