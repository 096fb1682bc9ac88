"""Plots of Sections IX-X (deep networks): Figs 37, 38, 40, 41, 45, the MNIST optimizer
comparison and the MNIST CNN.

Each step reads only the ``.npz`` of its compute step (plus its ``plot`` params) and writes PDF
and PNG through :mod:`mlreview.figures.style`. Heat maps print every cell's value (percent, one
decimal) on a colour scale fixed in the config, so that figures are comparable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from mlreview.figures.style import COLUMN_WIDTH, PAGE_WIDTH, SET_STYLE, figure, save_figure
from mlreview.figures.susy import source_title
from mlreview.io import load_npz
from mlreview.steps import step

#: per-epoch column -> (legend, colour, line style) of the training-history figures
HISTORY_STYLE = {
    "train_accuracy": ("train", SET_STYLE["train"][1], "-"),
    "test_accuracy": ("test", SET_STYLE["test"][1], "-"),
    "train_cross_entropy": ("train", SET_STYLE["train"][1], "-"),
    "test_cross_entropy": ("test", SET_STYLE["test"][1], "-"),
    "train_loss": ("train, minibatch mean (dropout on)", "0.5", "--"),
}


def percent_label(value: float) -> str:
    """A heat-map cell: accuracy in percent with one decimal; diverged cells say so."""
    return "diverged" if np.isnan(value) else f"{100.0 * value:.1f}"


def grid_label(value: float) -> str:
    """An axis tick of a grid value: 1e-05, 0.1, 200000 -> '1e-05', '0.1', '200,000'."""
    value = float(value)
    return f"{int(value):,}" if value.is_integer() and value >= 1 else f"{value:g}"


def draw_heatmap(ax, table: np.ndarray, rows: Sequence, cols: Sequence, *, clim, cmap: str, xlabel: str,
                 ylabel: str, title: str, extra: np.ndarray | None = None):
    """``table`` (rows x columns, accuracies in [0, 1]) as coloured cells with their values;
    ``extra`` (optional, same shape) is printed in smaller type under each value. Diverged
    (NaN) cells are grey. Returns the image (for a colour bar)."""
    import matplotlib.pyplot as plt

    colours = plt.get_cmap(cmap).with_extremes(bad="0.8")
    low, high = map(float, clim)
    image = ax.imshow(np.ma.masked_invalid(table), cmap=colours, vmin=low, vmax=high, aspect="auto",
                      origin="upper")
    for i in range(table.shape[0]):
        for j in range(table.shape[1]):
            value = table[i, j]
            shade = 0.5 if np.isnan(value) else (np.clip(value, low, high) - low) / (high - low)
            ink = "black" if np.isnan(value) or np.mean(colours(shade)[:3]) > 0.5 else "white"
            text = percent_label(value)
            if extra is not None and not np.isnan(value):
                text += f"\n{extra[i, j]}"
            ax.text(j, i, text, ha="center", va="center", color=ink, fontsize=7 if extra is None else 6.5)
    ax.set_xticks(range(len(cols)), [grid_label(c) for c in cols])
    ax.set_yticks(range(len(rows)), [grid_label(r) for r in rows])
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    return image


def axis_range(limits, values, step: float = 0.05) -> tuple[float, float]:
    """The configured (low, high), the low end lowered in ``step``s where finite ``values`` lie
    below it (small runs reach lower accuracies than the paper-scale ones)."""
    low, high = map(float, limits)
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if values.size and values.min() < low:
        low = float(np.floor(values.min() / step) * step)
    return low, high


# --- Figs 37, 38 and the MNIST CNN ---------------------------------------------------------

@step
def mnist_dnn_plot(params: Mapping, *, data: Path, pdf: Path, png: Path) -> None:
    """Figs 37 and 38: the per-epoch ``curves`` of the config (accuracy or loss) of the MNIST
    network, titled as in the review ("model accuracy", "model loss")."""
    d = load_npz(data)
    plot = params["plot"]
    fig, ax = figure(1, 1, width=COLUMN_WIDTH * 1.2, height=COLUMN_WIDTH * 0.9)
    for key in plot["curves"]:
        label, colour, ls = HISTORY_STYLE[key]
        ax.plot(d["epoch"], d[key], color=colour, ls=ls, marker="o", markersize=3, label=label)
    ax.set_xlabel("epoch")
    ax.set_ylabel(plot["ylabel"])
    ax.set_title(plot["title"])
    ax.set_xticks(d["epoch"])
    ax.legend(loc=plot["legend"])
    save_figure(fig, pdf, png)


@step
def mnist_cnn_plot(params: Mapping, *, data: Path, pdf: Path, png: Path) -> None:
    """The MNIST CNN: test accuracy (left) and losses (right) per epoch; the final test accuracy
    with its Wilson interval in the title."""
    d = load_npz(data)
    fig, (left, right) = figure(1, 2, width=PAGE_WIDTH, height=0.38 * PAGE_WIDTH)
    left.plot(d["epoch"], d["test_accuracy"], color=SET_STYLE["test"][1], marker="o", markersize=3, label="test")
    low, high = d["test_ci"]
    left.set_title(f"test accuracy {100 * d['test_accuracy'][-1]:.2f}% "
                   f"(95% interval {100 * low:.2f}-{100 * high:.2f}%)")
    left.set_ylabel("accuracy")
    for key in ("train_loss", "test_cross_entropy"):
        label, colour, ls = HISTORY_STYLE[key]
        right.plot(d["epoch"], d[key], color=colour, ls=ls, marker="o", markersize=3, label=label)
    right.set_ylabel("cross-entropy")
    right.set_title("loss")
    for ax in (left, right):
        ax.set_xlabel("epoch")
        ax.set_xticks(d["epoch"])
        ax.legend(loc="best")
    fig.tight_layout()
    save_figure(fig, pdf, png)


@step
def mnist_optimizers_plot(params: Mapping, *, data: Path, pdf: Path, png: Path) -> None:
    """The optimizer comparison: mean cross-validated accuracy per optimizer (bars), the spread
    over the folds (standard deviation, black error bars) and the pooled out-of-fold accuracy's
    Wilson interval (red)."""
    d = load_npz(data)
    names = [str(n) for n in d["optimizers"]]
    y = np.arange(len(names))[::-1]
    fig, ax = figure(1, 1, width=COLUMN_WIDTH * 1.5, height=0.4 * len(names) + 0.9)
    mean = np.nan_to_num(d["mean"])
    ax.barh(y, mean, color="tab:blue", alpha=0.6, height=0.6)
    ax.errorbar(d["mean"], y, xerr=d["std"], fmt="none", ecolor="black", capsize=3, lw=1,
                label="standard deviation over the folds")
    ax.errorbar(d["pooled"], y, xerr=[d["pooled"] - d["ci_low"], d["ci_high"] - d["pooled"]], fmt="none",
                ecolor="tab:red", capsize=2, lw=1.5, label="95% interval, pooled held-out predictions")
    low, high = axis_range(params["plot"]["xlim"], np.concatenate([d["mean"] - d["std"], d["ci_low"]]))
    labels = [f"{name} (lr {lr:g})\n{'diverged' if np.isnan(m) else f'{100 * m:.2f}%'}"
              for name, lr, m in zip(names, d["lr"], d["mean"])]
    ax.set_yticks(y, labels)
    ax.set_xlim(low, high)
    ax.set_xlabel(f"cross-validated accuracy ({int(d['folds'])} folds, {int(d['epochs'])} epoch(s), "
                  f"{int(d['n_train']):,} images)")
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), fontsize=7)
    save_figure(fig, pdf, png)


# --- Fig 40 -----------------------------------------------------------------------------------

@step
def fig40_plot(params: Mapping, *, data: Path, pdf: Path, png: Path) -> None:
    """Fig 40: SUSY test accuracy over data-set size (rows) and learning rate (columns); under
    each value the half-width of its 95% interval."""
    d = load_npz(data)
    plot = params["plot"]
    half = 0.5 * (d["test_ci_high"] - d["test_ci_low"])
    extra = np.vectorize(lambda h: f"±{100 * h:.1f}")(np.nan_to_num(half))
    fig, ax = figure(1, 1, width=COLUMN_WIDTH * 1.45, height=COLUMN_WIDTH * 1.05)
    image = draw_heatmap(ax, d["test_accuracy"], d["sizes"], d["learning_rates"], clim=plot["clim"],
                         cmap=plot["cmap"], xlabel="learning rate", ylabel="dataset size",
                         title=f"test accuracy (%): {source_title(d['source'])}", extra=extra)
    fig.colorbar(image, ax=ax, fraction=0.05, pad=0.03)
    save_figure(fig, pdf, png)


# --- Fig 41 -----------------------------------------------------------------------------------

@step
def fig41_plot(params: Mapping, *, data: Path, pdf: Path, png: Path) -> None:
    """Fig 41: test (top), critical (middle) and training (bottom, supplementary) accuracy over
    hidden neurons (rows) and learning rate (columns)."""
    d = load_npz(data)
    plot = params["plot"]
    panels = list(plot["panels"])
    fig, axes = figure(len(panels), 1, width=COLUMN_WIDTH * 1.45, height=COLUMN_WIDTH * 0.95 * len(panels),
                       squeeze=False)
    image = None
    for ax, name in zip(axes[:, 0], panels):
        image = draw_heatmap(ax, d[f"{name}_accuracy"], d["hidden_units"], d["learning_rates"], clim=plot["clim"],
                             cmap=plot["cmap"], xlabel="learning rate", ylabel="hidden neurons",
                             title=f"{plot['titles'][name]} (%)")
    fig.tight_layout()
    fig.colorbar(image, ax=axes[:, 0].tolist(), fraction=0.04, pad=0.03)
    save_figure(fig, pdf, png)


# --- Fig 45 -----------------------------------------------------------------------------------

@step
def fig45_plot(params: Mapping, *, data: Path, pdf: Path, png: Path) -> None:
    """Fig 45: final test (red stars) and critical (blue squares) accuracy in percent against
    the number of filters, with Wilson 95% intervals."""
    d = load_npz(data)
    plot = params["plot"]
    fig, ax = figure(1, 1, width=COLUMN_WIDTH * 1.2, height=COLUMN_WIDTH * 0.9)
    for name, marker, colour in (("test", "*", "tab:red"), ("critical", "s", "tab:blue")):
        acc = 100 * d[f"{name}_accuracy"]
        err = [acc - 100 * d[f"{name}_ci_low"], 100 * d[f"{name}_ci_high"] - acc]
        ax.errorbar(d["depths"], acc, yerr=err, fmt=marker, color=colour, markersize=8 if marker == "*" else 5,
                    capsize=2, lw=1, ls="none", label=name)
    ax.set_ylim(*map(float, plot["ylim"]))
    ax.set_xlabel("depth (number of filters)")
    ax.set_ylabel("accuracy (%)")
    ax.legend(loc="lower right")
    save_figure(fig, pdf, png)
