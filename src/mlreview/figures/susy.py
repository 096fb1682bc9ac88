"""SUSY data displays: the signal and background distributions of the 18 features.

Reads the parquet file of either source (the UCI conversion, ``source: uci``, or the toy
stand-in of :mod:`mlreview.data.susy_toy`, ``source: toy``; the source is read from the
file's schema metadata and named in the title).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mlreview.data.susy import FEATURES, LABEL
from mlreview.figures import style

SIGNAL_COLOR = "tab:blue"
BACKGROUND_COLOR = "tab:red"

#: Axis labels of the features (momentum-like columns are scaled to a mean of one).
LABELS = {
    "lepton1_pt": r"lepton 1 $p_T$ (scaled)",
    "lepton1_eta": r"lepton 1 $\eta$",
    "lepton1_phi": r"lepton 1 $\phi$ (rad)",
    "lepton2_pt": r"lepton 2 $p_T$ (scaled)",
    "lepton2_eta": r"lepton 2 $\eta$",
    "lepton2_phi": r"lepton 2 $\phi$ (rad)",
    "met": r"$E_T^{miss}$ (scaled)",
    "met_phi": r"$E_T^{miss}$ $\phi$ (rad)",
    "met_rel": r"$E_T^{miss,rel}$ (scaled)",
    "axial_met": r"axial $E_T^{miss}$ (scaled)",
    "m_r": r"$M_R$ (scaled)",
    "m_tr_2": r"$M_T^R$ (scaled)",
    "r": r"$R = M_T^R/M_R$",
    "mt2": r"$M_{T2}$ (scaled)",
    "s_r": r"$\sqrt{\hat s}_R$ (scaled)",
    "m_delta_r": r"$M_\Delta^R$ (scaled)",
    "dphi_r_b": r"$\Delta\phi_R^\beta$ (rad)",
    "cos_theta_r1": r"$|\cos\theta_{R+1}|$",
}

SOURCE_TITLES = {
    "toy": "toy stand-in (mlreview.data.susy_toy)",
    "uci": "UCI SUSY data set (Baldi et al. 2014)",
}


def read_features(parquet: Path, max_events: int) -> tuple[dict[str, np.ndarray], str]:
    """The first ``max_events`` rows (label and features) and the file's ``source`` tag."""
    import pyarrow.parquet as pq

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


def features_plot_step(params: dict, *, parquet: Path, pdf: Path, png: Path) -> None:
    """Plot step: normalised signal (blue) and background (red) histograms of each feature.

    ``params``: ``max_events`` (rows read from the start of the file), ``bins``, and
    ``percentiles`` (the x range of each panel, from the pooled sample).
    """
    data, source = read_features(Path(parquet), int(params["max_events"]))
    label = data[LABEL].astype(bool)
    low, high = (float(q) for q in params["percentiles"])
    ncols = 3
    nrows = int(np.ceil(len(FEATURES) / ncols))
    fig, axes = style.figure(nrows, ncols, width=style.PAGE_WIDTH, height=1.45 * nrows)
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
    style.save_figure(fig, pdf, png)


# --- ROC curves and the logistic-regression figures (22, 23, 25) -------------------------------

def source_title(source) -> str:
    """The data source named in every SUSY figure (the stand-in is always said)."""
    source = str(source) if source is not None else ""
    return SOURCE_TITLES.get(source, source or "unknown source")


def draw_roc(ax, efficiency, rejection, **kw) -> None:
    """One ROC curve in the review's convention: signal efficiency (x) against background
    rejection (y), both from 0 to 1."""
    ax.plot(efficiency, rejection, **kw)
    ax.set_xlim(0.0, 1.0)
    ax.set_ylim(0.0, 1.02)
    ax.set_xlabel("signal efficiency")
    ax.set_ylabel("background rejection")


def fig22_plot_step(params: dict, *, data: Path, pdf: Path, png: Path) -> None:
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


def fig23_plot_step(params: dict, *, data: Path, pdf: Path, png: Path) -> None:
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


def fig25_plot_step(params: dict, *, data: Path, pdf: Path, png: Path) -> None:
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
