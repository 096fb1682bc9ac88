"""Plots of Section XII: Fig 51 (PCA of the Ising states), Fig 53 (four views of a Gaussian
mixture) and Fig 54 (MNIST by PCA and t-SNE).

Each step reads only the ``.npz`` of its compute step (plus its params) and writes PDF and PNG
through :mod:`mlreview.figures.style`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from mlreview.figures.style import PAGE_WIDTH, figure, save_figure
from mlreview.io import load_npz
from mlreview.steps import step


@step
def fig51_plot(params: Mapping, *, data: Path, pdf: Path, png: Path) -> None:
    """Fig 51: (a) PC1 vs PC2 coloured by temperature; (b) the covariance spectrum against rank;
    (c) the histogram of the PC1 loadings (the authors' notebook's supplementary panel)."""
    d = load_npz(data)
    plot = params["plot"]
    scores, temp, evr, eig = d["scores"], d["temperature"], d["evr"], d["eigenvalues"]
    fig, axes = figure(1, 3, width=PAGE_WIDTH, height=0.36 * PAGE_WIDTH,
                       gridspec_kw={"width_ratios": [1.25, 1.0, 1.0]})
    ax = axes[0]
    order = np.argsort(temp, kind="stable")
    sc = ax.scatter(scores[order, 0], scores[order, 1], c=temp[order], cmap=plot["cmap"],
                    s=float(plot["marker_size"]), alpha=float(plot["alpha"]), lw=0, rasterized=True)
    bar = fig.colorbar(sc, ax=ax, label="$T$", pad=0.02)
    bar.solids.set(alpha=1)
    ax.set_xlabel(f"PC1 ({evr[0]:.1%} of the variance)")
    ax.set_ylabel(f"PC2 ({evr[1]:.1%})")
    ax.set_title("(a) projection on the first two PCs", loc="left")

    ax = axes[1]
    rank = np.arange(1, len(eig) + 1)
    ax.semilogy(rank, eig, color="tab:blue", marker="o", markersize=2, lw=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("rank $i$")
    ax.set_ylabel(r"covariance eigenvalue $\lambda_i$")
    ax.set_title("(b) spectrum", loc="left")
    ax.text(0.95, 0.95, rf"$\lambda_1/\lambda_2 = {eig[0] / eig[1]:.0f}$", transform=ax.transAxes,
            ha="right", va="top")

    ax = axes[2]
    loadings = d["pc1_loadings"]
    ax.hist(loadings, bins=int(plot["loading_bins"]), color="tab:blue")
    uniform = 1.0 / np.sqrt(len(loadings))
    ax.axvline(uniform, color="k", ls="--", lw=0.8)
    ax.set_xlabel(r"PC1 loading (dashed: uniform, $1/\sqrt{N}$)")
    ax.set_ylabel("spins")
    ax.set_title("(c) PC1 loadings", loc="left")
    fig.tight_layout()
    save_figure(fig, pdf, png)


def _label_scatter(ax, Z, labels, cmap, size, alpha):
    """Points coloured by integer label, one colour of the discrete ``cmap`` per label."""
    return ax.scatter(Z[:, 0], Z[:, 1], c=labels, cmap=cmap, vmin=-0.5, vmax=cmap.N - 0.5, s=size, alpha=alpha,
                      lw=0, rasterized=True)


@step
def fig53_plot(params: Mapping, *, data: Path, pdf: Path, png: Path) -> None:
    """Fig 53: 2 x 2 views of the Gaussian mixture coloured by true cluster."""
    d = load_npz(data)
    plot = params["plot"]
    labels, evr = d["labels"], d["evr"]
    cmap = plt.get_cmap(plot["cmap"], len(np.unique(labels)))
    fig, axes = figure(2, 2, width=PAGE_WIDTH * 0.8, height=PAGE_WIDTH * 0.8)
    titles = {"coordinates": "(a) first two coordinates", "random": "(b) random 2D projection",
              "pca": "(c) first two principal components", "tsne": "(d) t-SNE"}
    for ax, (view, title) in zip(axes.flat, titles.items()):
        _label_scatter(ax, d[f"view_{view}"], labels, cmap, float(plot["marker_size"]), float(plot["alpha"]))
        ax.set_title(title, loc="left")
        ax.set_xticks([])
        ax.set_yticks([])
    axes[0, 0].set_xlabel("$x_1$")
    axes[0, 0].set_ylabel("$x_2$")
    axes[1, 0].set_xlabel(f"PC1 ({evr[0]:.1%})")
    axes[1, 0].set_ylabel(f"PC2 ({evr[1]:.1%})")
    fig.tight_layout()
    save_figure(fig, pdf, png)


@step
def fig54_plot(params: Mapping, *, data: Path, pdf: Path, png: Path) -> None:
    """Fig 54: MNIST in 2D by PCA and by PCA-40 + t-SNE (and raw-pixel t-SNE when computed)."""
    d = load_npz(data)
    plot = params["plot"]
    labels = d["labels"]
    views = [("pca", "(a) PCA"), ("tsne", f"(b) PCA-{int(params['pca_dims'])} + t-SNE")]
    if "view_tsne_raw" in d:
        views.append(("tsne_raw", "(c) t-SNE, raw pixels"))
    cmap = plt.get_cmap(plot["cmap"], int(labels.max()) + 1)
    fig, axes = figure(1, len(views), width=PAGE_WIDTH, height=PAGE_WIDTH / len(views) * 1.05)
    sc = None
    for ax, (view, title) in zip(axes, views):
        sc = _label_scatter(ax, d[f"view_{view}"], labels, cmap, float(plot["marker_size"]), float(plot["alpha"]))
        ax.set_title(title, loc="left")
        ax.set_xticks([])
        ax.set_yticks([])
    axes[0].set_xlabel(f"PC1 ({d['evr'][0]:.1%})")
    axes[0].set_ylabel(f"PC2 ({d['evr'][1]:.1%})")
    bar = fig.colorbar(sc, ax=list(axes), ticks=np.arange(int(labels.max()) + 1), shrink=0.85, pad=0.01)
    bar.set_label("digit")
    bar.solids.set(alpha=1)
    save_figure(fig, pdf, png)
