"""Project figures of the exact-likelihood studies of energy-based models (Sections XV-XVI):
``rbm_likelihood`` (CD-1 / CD-10 / PCD-1 exact log-likelihood per epoch on binarised MNIST, AIS against
exact log Z) and ``rbm_ising_kl`` (exact KL divergence between the 4 x 4 Ising model and RBMs).

Each step reads only the ``.npz`` of its compute step (plus its params) and writes PDF and PNG
through :mod:`mlreview.figures.style`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from mlreview.figures.style import CYCLE, PAGE_WIDTH, figure, save_figure
from mlreview.io import load_npz
from mlreview.steps import step

MARKERS = ["o", "s", "^", "D", "v", "P"]


def draw_ais_errors(ax, d: Mapping[str, np.ndarray], title: str) -> None:
    """AIS log Z minus exact log Z (with the AIS standard error) against the number of annealing
    steps K, one line per model."""
    models = list(dict.fromkeys(d["ais_model"].tolist()))
    for i, name in enumerate(models):
        sel = d["ais_model"] == name
        k = d["ais_n_steps"][sel]
        shift = 1.0 + 0.06 * (i - (len(models) - 1) / 2)  # spread the points of one K apart
        ax.errorbar(k * shift, d["ais_error"][sel], yerr=d["ais_log_z_std"][sel], color=CYCLE[i % len(CYCLE)],
                    marker=MARKERS[i % len(MARKERS)], markersize=4, capsize=2, lw=1, label=name)
    ax.axhline(0.0, color="k", lw=0.6)
    ax.set_xscale("log")
    ax.set_xlabel("AIS steps K (intermediate distributions)")
    ax.set_ylabel(r"$\log Z_{\rm AIS} - \log Z_{\rm exact}$")
    ax.set_title(title, loc="left")
    ax.legend(fontsize=6, loc="lower right")


@step
def rbm_likelihood_plot(params: Mapping, *, data: Path, pdf: Path, png: Path) -> None:
    """(a) Exact train (solid) and validation (dashed) log-likelihood per epoch of CD-1, CD-10 and
    PCD-1; (b) AIS against exact log Z for every trained model."""
    d = load_npz(data)
    fig, axes = figure(1, 2, width=PAGE_WIDTH, height=PAGE_WIDTH * 0.4)
    ax = axes[0]
    epochs = d["epochs"]
    for i, name in enumerate(d["methods"].tolist()):
        colour = CYCLE[i % len(CYCLE)]
        ax.plot(epochs, d["ll_train"][i], color=colour, marker="o", markersize=3, label=f"{name} train")
        ax.plot(epochs, d["ll_val"][i], color=colour, ls="--", label=f"{name} validation")
    low = min(d["ll_train"][:, 1:].min(), d["ll_val"][:, 1:].min())
    high = max(d["ll_train"].max(), d["ll_val"].max())
    pad = 0.08 * (high - low)
    ax.set_ylim(low - pad, high + pad)  # the initial model (epoch 0) lies far below
    ax.set_xlabel("epoch")
    ax.set_ylabel("exact mean log-likelihood (nats per image)")
    ax.set_title(f"(a) RBM 784-{int(d['n_hidden'])}, binarised MNIST", loc="left")
    ax.legend(fontsize=6, ncol=1, loc="lower right")
    draw_ais_errors(axes[1], d, f"(b) AIS ({int(params['ais']['n_runs'])} runs) vs exact log Z")
    fig.tight_layout()
    save_figure(fig, pdf, png)


@step
def rbm_ising_kl_plot(params: Mapping, *, data: Path, pdf: Path, png: Path) -> None:
    """(a) Exact KL(p_Ising || p_RBM) per epoch for the largest RBMs; (b) the final KL against the number
    of hidden units; (c) the models' exact <|m|> against the Ising value; (d) AIS against exact log Z."""
    d = load_npz(data)
    temps, kinds, sizes = d["temperatures"], d["kinds"].tolist(), d["hidden_sizes"]
    styles = {"bernoulli": ("-", "o"), "gaussian": ("--", "s")}
    fig, axes = figure(2, 2, width=PAGE_WIDTH, height=PAGE_WIDTH * 0.72)
    ax = axes[0, 0]
    for it, T in enumerate(temps):
        for ik, kind in enumerate(kinds):
            ax.plot(d["epochs"], d["kl"][it, ik, -1], color=CYCLE[it], ls=styles[kind][0],
                    label=f"T = {T:g}, {kind}")
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel(r"KL$(p_{\rm Ising} \| p_{\rm RBM})$ (nats)")
    ax.set_title(f"(a) {int(sizes[-1])} hidden units", loc="left")
    ax.legend(fontsize=6, ncol=2)

    ax = axes[0, 1]
    for it, T in enumerate(temps):
        for ik, kind in enumerate(kinds):
            ls, marker = styles[kind]
            ax.plot(sizes, d["kl"][it, ik, :, -1], color=CYCLE[it], ls=ls, marker=marker, markersize=4,
                    label=f"T = {T:g}, {kind}")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("hidden units")
    ax.set_ylabel("final KL (nats)")
    ax.set_title("(b) after training", loc="left")

    ax = axes[1, 0]
    for it, T in enumerate(temps):
        ax.axhline(d["exact_observables"][it, 0], color=CYCLE[it], lw=0.8, alpha=0.7)
        for ik, kind in enumerate(kinds):
            ls, marker = styles[kind]
            ax.plot(sizes, d["observables"][it, ik, :, 0], color=CYCLE[it], ls=ls, marker=marker, markersize=4)
    ax.plot([], [], color="0.4", lw=0.8, label="exact Ising")
    for kind in kinds:
        ax.plot([], [], color="0.4", ls=styles[kind][0], marker=styles[kind][1], markersize=4, label=f"{kind} RBM")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("hidden units")
    ax.set_ylabel(r"$\langle |m| \rangle$ of the model")
    ax.set_title(f"(c) {int(d['L'])}x{int(d['L'])} lattice, exact averages", loc="left")
    ax.legend(fontsize=6)
    draw_ais_errors(axes[1, 1], d, f"(d) AIS ({int(params['ais']['n_runs'])} runs) vs exact log Z")
    fig.tight_layout()
    save_figure(fig, pdf, png)
