"""Plots of the ensemble section (VIII): Figs 30, 32, 33, 34 and the ensemble-variance check (spec 4.4).

Each step reads only the ``.npz`` of its compute step(s) (plus its params) and writes PDF and PNG
through :mod:`mlreview.figures.style`.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib import colors as mcolors
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from mlreview.figures.style import COLUMN_WIDTH, CYCLE, PAGE_WIDTH, figure, save_figure
from mlreview.figures.susy import LABELS, SOURCE_TITLES, draw_roc
from mlreview.io import load_npz
from mlreview.steps import step

#: Fig 30 classes: red +1, blue -1 [notebook]
PERCEPTRON_COLORS = {1: "tab:red", -1: "tab:blue"}
#: Figs 21/33 evaluation sets: train blue, test red, critical green [review]; OOB grey
SET_STYLE = {"train": ("Train", "tab:blue"), "test": ("Test", "tab:red"), "critical": ("Critical", "tab:green"),
             "oob": ("OOB", "0.45")}
#: Fig 33 tree types: coarse triangles on dashed lines, fine filled circles on solid lines [review; notebook]
TREE_STYLE = {"coarse": ("^", "--"), "fine": ("o", "-")}
#: Fig 34 tuning-grid parameters, as labelled
GRID_NAMES = {"learning_rate": "learning rate", "max_depth": "depth", "min_child_weight": "min. child weight"}
#: Fig 34 feature sets
FEATURE_SET_NAMES = {"all": "all 18 features", "low": "8 low-level features", "high": "10 high-level features"}


# --------------------------------------------------------------------------- Fig 30

def _line_x2(w: np.ndarray, x1: np.ndarray) -> np.ndarray:
    """x2 on the boundary w0 + w1 x1 + w2 x2 = 0 (NaN for a vertical line)."""
    w0, w1, w2 = (float(v) for v in w)
    if w2 == 0.0:
        return np.full_like(x1, np.nan)
    return -(w0 + w1 * x1) / w2


@step
def fig30_plot(params: Mapping, *, data: Path, pdf: Path, png: Path) -> None:
    """Fig 30: the points (cross: true label, circle: bagged label; red +1, blue -1), every
    bootstrap perceptron's boundary (grey dashed) and the averaged-weight boundary (black dashed)."""
    d = load_npz(data)
    plot = params["plot"]
    x, y, bagged = d["x"], d["y"], d["bagged"]
    low, high = (float(v) for v in d["box"])
    x1 = np.linspace(low, high, 200)
    fig, ax = figure(1, 1, width=1.3 * COLUMN_WIDTH, height=1.3 * COLUMN_WIDTH)
    for w in d["weights"]:
        ax.plot(x1, _line_x2(w, x1), color="0.6", ls="--", lw=0.7)
    ax.plot(x1, _line_x2(d["w_average"], x1), color="black", ls="--", lw=2.0)
    for label, colour in PERCEPTRON_COLORS.items():
        true = y == label
        ax.scatter(x[true, 0], x[true, 1], marker="x", color=colour, s=14, lw=0.8)
        ax.scatter(x[bagged == label, 0], x[bagged == label, 1], marker="o", facecolors="none",
                   edgecolors=colour, s=22, lw=0.6)
    ax.set_xlim(low, high)
    ax.set_ylim(*map(float, plot["x2_range"]))
    ax.set_xlabel(r"$x_1$")
    ax.set_ylabel(r"$x_2$")
    ax.set_title("Bagging: o, True label: x")
    handles = [Line2D([], [], color="0.6", ls="--", lw=0.7, label=f"{len(d['weights'])} bootstrap perceptrons"),
               Line2D([], [], color="black", ls="--", lw=2.0, label="averaged weights"),
               Line2D([], [], color=PERCEPTRON_COLORS[1], marker="s", ls="", label="+1"),
               Line2D([], [], color=PERCEPTRON_COLORS[-1], marker="s", ls="", label="-1")]
    ax.legend(handles=handles, loc="upper left", fontsize=7)
    save_figure(fig, pdf, png)


# --------------------------------------------------------------------------- Fig 32

def blend(share: np.ndarray, class_colors) -> np.ndarray:
    """RGB image: each cell the mix of the class colours weighted by the class shares."""
    rgb = np.array([mcolors.to_rgb(c) for c in class_colors])
    return np.clip(np.asarray(share, dtype=np.float64) @ rgb, 0.0, 1.0)


@step
def fig32_plot(params: Mapping, *, data: Path, pdf: Path, png: Path) -> None:
    """Fig 32: rows = feature pairs, columns = decision tree, random forest, AdaBoost. The surface mixes
    the class colours by each model's (weighted) vote shares, the points are the 150 standardised
    flowers; panel titles carry the cross-validated accuracy."""
    d = load_npz(data)
    plot = params["plot"]
    cmap = plot["cmap"]
    class_colors = [mcolors.to_hex(c) for c in matplotlib.colormaps[cmap](np.linspace(0, 1, len(d["classes"])))]
    names = [str(n).replace(" (cm)", "") for n in d["feature_names"]]
    models = [str(m) for m in d["models"]]
    n_trees = int(params["n_estimators"])
    titles = {m: t if m == "tree" else f"{t} ({n_trees} trees)" for m, t in zip(models, plot["titles"])}
    pairs = d["pairs"]
    fig, axes = figure(len(pairs), len(models), width=PAGE_WIDTH, height=PAGE_WIDTH * len(pairs) / len(models),
                       squeeze=False)
    for k, pair in enumerate(pairs):
        gx, gy = d[f"pair{k}_gx"], d[f"pair{k}_gy"]
        X, y = d[f"pair{k}_X"], d[f"pair{k}_y"]
        for j, model in enumerate(models):
            ax = axes[k, j]
            image = blend(d[f"pair{k}_{model}_share"], class_colors)
            ax.imshow(image, origin="lower", extent=(gx[0], gx[-1], gy[0], gy[-1]), aspect="auto",
                      interpolation="nearest")
            ax.scatter(X[:, 0], X[:, 1], c=[class_colors[int(c)] for c in y], edgecolors="k", s=10, lw=0.4)
            ax.set_xlim(gx[0], gx[-1])
            ax.set_ylim(gy[0], gy[-1])
            cv = float(d[f"pair{k}_{model}_cv"])
            top = f"{titles[model]}\n" if k == 0 else ""
            ax.set_title(f"{top}CV accuracy {cv:.3f}", fontsize=8)
            ax.set_xlabel(names[int(pair[0])], fontsize=7)
            ax.set_ylabel(names[int(pair[1])], fontsize=7)
            ax.tick_params(labelsize=6)
    handles = [Line2D([], [], marker="o", ls="", color=c, markeredgecolor="k", label=str(n))
               for c, n in zip(class_colors, d["classes"])]
    fig.legend(handles=handles, loc="lower center", ncol=3, bbox_to_anchor=(0.5, -0.02))
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    save_figure(fig, pdf, png)


# --------------------------------------------------------------------------- Fig 33

@step
def fig33_plot(params: Mapping, *, data: Path, pdf: Path, png: Path) -> None:
    """Fig 33: top, train/test/critical (and OOB) accuracy against the number of trees for coarse
    (triangles, dashed) and fine (circles, solid) forests; bottom, cumulative fit time."""
    d = load_npz(data)
    plot = params["plot"]
    n = d["n_estimators"]
    fig, (top, bottom) = figure(2, 1, width=1.5 * COLUMN_WIDTH, height=2.0 * COLUMN_WIDTH, sharex=True,
                                gridspec_kw={"height_ratios": [3, 2]})
    for kind in ("coarse", "fine"):
        marker, ls = TREE_STYLE[kind]
        for name in plot["sets"]:
            label, colour = SET_STYLE[name]
            ax_kw = {"color": colour, "marker": marker, "ls": ls, "markersize": 4,
                     "markerfacecolor": colour if kind == "fine" else "none"}
            ci = d[f"{kind}_{name}_ci"]
            top.fill_between(n, ci[:, 0], ci[:, 1], color=colour, alpha=0.15, lw=0)
            top.plot(n, d[f"{kind}_{name}_accuracy"], label=f"{label} ({kind})", **ax_kw)
        bottom.plot(n, d[f"{kind}_fit_seconds"], color="black", marker=marker, ls=ls,
                    markerfacecolor="black" if kind == "fine" else "none", label=f"{kind} trees")
    top.axhline(float(d["trivial_critical_accuracy"]), color="tab:green", lw=0.6, ls=":",
                label="all critical states 'ordered'")
    top.set_ylabel("accuracy")
    top.set_ylim(*map(float, plot["ylim"]))
    top.legend(loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=7)
    bottom.set_xlabel(r"$N_\mathrm{estimators}$")
    bottom.set_ylabel("fit time (s)")
    bottom.set_ylim(bottom=0)
    bottom.legend(loc="upper left", fontsize=7)
    save_figure(fig, pdf, png)


# --------------------------------------------------------------------------- Fig 34

def _bars(ax, names, values, title: str, xlabel: str) -> None:
    order = np.argsort(values)
    labels = [LABELS.get(str(names[i]), str(names[i])) for i in order]
    ax.barh(np.arange(len(order)), np.asarray(values)[order], color="tab:blue", height=0.7)
    ax.set_yticks(np.arange(len(order)), labels, fontsize=6)
    ax.set_title(title, fontsize=8)
    ax.set_xlabel(xlabel, fontsize=7)
    ax.tick_params(axis="x", labelsize=6)


@step
def fig34_plot(params: Mapping, *, data: Path, tuning: Path, pdf: Path, png: Path) -> None:
    """Fig 34: split-count (F-score) and gain importances of the three models (top two rows), ROC
    curves of the three feature sets and the tuned model, and the CV accuracy of the tuning grid."""
    d = load_npz(data)
    t = load_npz(tuning)
    source = str(d["source"])
    sets = list(FEATURE_SET_NAMES)
    fig = figure(1, 1, width=PAGE_WIDTH, height=1.45 * PAGE_WIDTH)[0]
    fig.clf()
    grid = fig.add_gridspec(3, 3, height_ratios=[1.2, 1.2, 1.0], hspace=0.45, wspace=0.95, top=0.95)
    for j, name in enumerate(sets):
        feats = d[f"{name}_features"]
        _bars(fig.add_subplot(grid[0, j]), feats, d[f"{name}_weight"],
              f"{FEATURE_SET_NAMES[name]}", "F-score (splits)")
        _bars(fig.add_subplot(grid[1, j]), feats, d[f"{name}_gain"], f"{FEATURE_SET_NAMES[name]}", "gain")
    bottom = grid[2, :].subgridspec(1, 2, width_ratios=[1.0, 1.25], wspace=0.75)
    ax = fig.add_subplot(bottom[0, 0])
    for colour, name in zip(CYCLE, sets):
        draw_roc(ax, d[f"{name}_signal_efficiency"], d[f"{name}_background_rejection"], color=colour,
                 label=f"{name} (AUC {float(d[f'{name}_auc']):.3f})")
    if "all_signal_efficiency" in t:
        draw_roc(ax, t["all_signal_efficiency"], t["all_background_rejection"], color="black", ls="--", lw=1.0,
                 label=f"all, tuned (AUC {float(t['all_auc']):.3f})")
    ax.plot([0, 1], [1, 0], color="0.7", lw=0.6, ls=":")
    ax.xaxis.label.set_fontsize(7)
    ax.yaxis.label.set_fontsize(7)
    ax.set_title("ROC (test events)", fontsize=8)
    ax.tick_params(labelsize=6)
    ax.legend(fontsize=5.5, loc="lower left")
    if "all_cv_accuracy" in t:
        _tuning_panel(fig.add_subplot(bottom[0, 1]), t)
    fig.suptitle(f"XGBoost on {int(params['n_events']):,} SUSY events - {SOURCE_TITLES.get(source, source)}",
                 fontsize=9, y=0.985)
    save_figure(fig, pdf, png)


def _tuning_panel(ax, t) -> None:
    """CV accuracy of every setting of the tuning grid: one row per combination of all keys but the
    last, one column per value of the last key (the grid's axes are stored in sorted key order)."""
    keys = [str(k) for k in t["grid_keys"]]
    acc = np.asarray(t["all_cv_accuracy"])
    rows = acc.reshape(-1, acc.shape[-1])
    row_values = list(itertools.product(*(t[f"grid_{k}"] for k in keys[:-1])))
    row_labels = [", ".join(f"{GRID_NAMES.get(k, k)} {float(v):g}" for k, v in zip(keys[:-1], vals))
                  for vals in row_values]
    low, high = float(rows.min()), float(rows.max())
    image = ax.imshow(rows, cmap="viridis", vmin=low, vmax=high, aspect="auto")
    ax.set_xticks(range(rows.shape[1]), [f"{float(v):g}" for v in t[f"grid_{keys[-1]}"]], fontsize=6)
    ax.set_yticks(range(rows.shape[0]), row_labels, fontsize=6)
    ax.set_xlabel(GRID_NAMES.get(keys[-1], keys[-1]), fontsize=7)
    best = np.ravel_multi_index(tuple(int(i) for i in t["all_best_index"]), acc.shape)
    best_row, best_col = divmod(int(best), rows.shape[1])
    ax.add_patch(Rectangle((best_col - 0.5, best_row - 0.5), 1, 1, fill=False, edgecolor="red", lw=1.5))
    ax.set_title(f"tuning: {int(t['cv_folds'])}-fold CV accuracy\n(best boxed: test accuracy "
                 f"{float(t['all_accuracy']):.3f})", fontsize=8)
    for (r, c), v in np.ndenumerate(rows):
        ax.text(c, r, f"{v:.3f}", ha="center", va="center", fontsize=6,
                color="white" if v < (low + high) / 2 else "black")
    ax.figure.colorbar(image, ax=ax, shrink=0.9).ax.tick_params(labelsize=5)


# --------------------------------------------------------------------------- Section 4.4

@step
def ensemble_variance_plot(params: Mapping, *, data: Path, pdf: Path, png: Path) -> None:
    """Variance of the average of M correlated estimators: measured (points) and
    rho sigma^2 + (1 - rho) sigma^2 / M (lines), for each rho."""
    d = load_npz(data)
    members = d["members"]
    fig, ax = figure(1, 1, width=1.2 * COLUMN_WIDTH, height=COLUMN_WIDTH)
    m_fine = np.geomspace(members.min(), members.max(), 200)
    for colour, rho, measured in zip(CYCLE, d["rhos"], d["measured"]):
        ax.plot(m_fine, rho + (1 - rho) / m_fine, color=colour, lw=1.0)
        ax.plot(members, measured, "o", color=colour, label=rf"$\rho = {float(rho):g}$")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("number of estimators $M$")
    ax.set_ylabel(r"Var(ensemble average) / $\sigma^2$")
    ax.set_title(f"points: {int(d['draws']):,} draws; lines: " + r"$\rho + (1-\rho)/M$", fontsize=8)
    ax.legend()
    save_figure(fig, pdf, png)
