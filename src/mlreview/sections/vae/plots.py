"""Plots of Section XVII: the variational autoencoders (Figs 75-78), their training curves and
their held-out log-likelihoods with the check of the estimator (project figures).

Each step reads only the ``.npz`` files of the compute steps (plus its ``plot`` params) and writes
PDF and PNG through :mod:`mlreview.figures.style`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator

from mlreview.figures.style import CYCLE, PAGE_WIDTH, RC, figure, save_figure
from mlreview.io import load_npz
from mlreview.steps import step


def mosaic(images: np.ndarray, n: int, pad: int = 1, fill: float = 1.0) -> np.ndarray:
    """``n * n`` images (row-major) tiled into one array with ``pad`` pixels of ``fill`` between."""
    images = np.asarray(images, float)
    h, w = images.shape[1:3]
    out = np.full((n * h + (n - 1) * pad, n * w + (n - 1) * pad), fill)
    for k, img in enumerate(images[:n * n]):
        i, j = divmod(k, n)
        out[i * (h + pad):i * (h + pad) + h, j * (w + pad):j * (w + pad) + w] = img
    return out


def _grid_axes(ax, values: np.ndarray, size: int, pad: int, fmt: str = "{:.2g}") -> None:
    """Tick the tiles of a mosaic with their latent coordinates (z1 across, z2 down, largest on top)."""
    centres = np.arange(len(values)) * (size + pad) + size / 2 - 0.5
    ax.set_xticks(centres, [fmt.format(v) for v in values])
    ax.set_yticks(centres, [fmt.format(v) for v in values[::-1]])
    ax.set_xlabel("$z_1$")
    ax.set_ylabel("$z_2$")
    ax.tick_params(length=0)
    for side in ax.spines.values():
        side.set_visible(False)


@step
def fig75_plot(params: Mapping, *, mnist: Path, pdf: Path, png: Path) -> None:
    """Fig 75: the encoder means of the MNIST test images, coloured by digit."""
    d = load_npz(mnist)
    plot = params["plot"]
    cmap = plt.get_cmap(plot["cmap"], 10)
    fig, ax = figure(1, 1, width=PAGE_WIDTH * 0.6, height=PAGE_WIDTH * 0.5)
    sc = ax.scatter(d["latent"][:, 0], d["latent"][:, 1], c=d["labels"], cmap=cmap, vmin=-0.5, vmax=9.5,
                    s=float(plot["marker_size"]), alpha=float(plot["alpha"]), lw=0, rasterized=True)
    bar = fig.colorbar(sc, ax=ax, ticks=range(10), label="digit")
    bar.solids.set(alpha=1)
    ax.set_xlabel(r"$\mu_1$ (latent dimension 1)")
    ax.set_ylabel(r"$\mu_2$ (latent dimension 2)")
    ax.set_title(f"MNIST test set ({len(d['labels']):,} images) in the 2D latent space", loc="left")
    fig.tight_layout()
    save_figure(fig, pdf, png)


@step
def fig76_plot(params: Mapping, *, mnist: Path, pdf: Path, png: Path) -> None:
    """Fig 76: decoded digits on the uniform 5 x 5 latent grid and on the inverse-CDF grid."""
    d = load_npz(mnist)
    pad = int(params["plot"]["pad"])
    side = int(d["side"])
    fig, axes = figure(1, 2, width=PAGE_WIDTH, height=PAGE_WIDTH * 0.52, layout="constrained")
    titles = {"uniform": "(a) uniform grid in $z$", "cdf": r"(b) $z = \Phi^{-1}(p)$, $p$ uniform"}
    for ax, (name, title) in zip(axes, titles.items()):
        images = d[f"images_{name}"]
        n = int(round(np.sqrt(len(images))))
        ax.imshow(mosaic(images, n, pad, fill=np.nan), cmap=params["plot"]["image_cmap"], vmin=0, vmax=1, interpolation="nearest")
        _grid_axes(ax, d[f"grid_{name}"][0, :, 0], side, pad)
        classes = len(np.unique(d[f"predicted_{name}"]))
        ax.set_title(f"{title}\n{classes} distinct predicted digits", loc="left")
    save_figure(fig, pdf, png)


@step
def fig77_plot(params: Mapping, *, ising: Path, pdf: Path, png: Path) -> None:
    """Fig 77: (a) the held-out Ising states in the latent space coloured by temperature;
    (b, c) each latent coordinate against the magnetisation."""
    d = load_npz(ising)
    plot = params["plot"]
    mu, T, m = d["latent"], d["temperature"], d["magnetisation"]
    n = min(int(plot["n_points"]), len(T))
    rows = np.sort(np.random.default_rng(int(plot["seed"])).choice(len(T), size=n, replace=False))
    mu, T, m = mu[rows], T[rows], m[rows]
    order = np.argsort(T, kind="stable")
    plt.rcParams.update(RC)
    fig = plt.figure(figsize=(PAGE_WIDTH, PAGE_WIDTH * 0.78))
    grid = fig.add_gridspec(2, 2, height_ratios=[1.2, 1.0])
    style = {"c": T[order], "cmap": plot["cmap"], "s": float(plot["marker_size"]), "alpha": float(plot["alpha"]),
             "lw": 0, "rasterized": True, "vmin": float(T.min()), "vmax": float(T.max())}
    ax = fig.add_subplot(grid[0, :])
    sc = ax.scatter(mu[order, 0], mu[order, 1], **style)
    bar = fig.colorbar(sc, ax=ax, label="$T$")
    bar.solids.set(alpha=1)
    ax.set_xlabel(r"latent dimension 1, $\mu_1$")
    ax.set_ylabel(r"latent dimension 2, $\mu_2$")
    ax.set_title(f"(a) {n:,} held-out states in the latent space", loc="left")
    for j in range(2):
        ax = fig.add_subplot(grid[1, j])
        ax.scatter(m[order], mu[order, j], **style)
        r = np.corrcoef(m, mu[:, j])[0, 1]
        ax.set_xlabel("magnetisation $m$")
        ax.set_ylabel(rf"latent dimension {j + 1}, $\mu_{j + 1}$")
        ax.set_title(f"({'bc'[j]}) Pearson r = {r:+.3f}", loc="left")
    fig.tight_layout()
    save_figure(fig, pdf, png)


@step
def fig78_plot(params: Mapping, *, ising: Path, pdf: Path, png: Path) -> None:
    """Fig 78: fantasy configurations (one Bernoulli draw per grid point) on the inverse-CDF
    grid, their probability maps, and (supplementary) draws on the uniform grid."""
    d = load_npz(ising)
    pad = int(params["plot"]["pad"])
    L = int(d["lattice"])
    s = float(d["prior_std"])
    panels = [("samples_cdf", "grid_cdf", "(a) draws"),
              ("probabilities_cdf", "grid_cdf", r"(b) $P(s_i = 1 \mid z)$"),
              ("samples_uniform", "grid_uniform", "(c) draws, uniform grid")]
    # the gaps between tiles in their own colour: an all-down lattice is as white as the page
    cmap = plt.get_cmap(params["plot"]["lattice_cmap"]).copy()
    cmap.set_bad(params["plot"]["pad_color"])
    fig, axes = figure(1, 3, width=PAGE_WIDTH, height=PAGE_WIDTH * 0.4, layout="constrained")
    for i, (ax, (key, grid, title)) in enumerate(zip(axes, panels)):
        images = d[key]
        n = int(round(np.sqrt(len(images))))
        image = ax.imshow(mosaic(images, n, pad, fill=np.nan), cmap=cmap, vmin=0, vmax=1, interpolation="nearest")
        _grid_axes(ax, d[grid][0, :, 0] / s, L, pad, fmt="{:.2f}")
        if i == 1:
            ax.set_yticks([])
            ax.set_ylabel("")
        ax.set_title(title, loc="left")
    fig.colorbar(image, ax=list(axes), shrink=0.8, label="spin up (1) / probability")
    fig.suptitle(rf"Ising VAE fantasy configurations: (a, b) at $z = s\,\Phi^{{-1}}(p)$, $p$ uniform; (c) $z$ uniform"
                 f"\n(tick labels $z / s$; prior standard deviation $s = {s:g}$)")
    save_figure(fig, pdf, png)


@step
def vae_training_plot(params: Mapping, *, mnist: Path, ising: Path, pdf: Path, png: Path) -> None:
    """The training curves: training and held-out negative ELBO per epoch, MNIST and Ising."""
    fig, axes = figure(1, 2, width=PAGE_WIDTH, height=PAGE_WIDTH * 0.36)
    for ax, (path, title, held) in zip(axes, ((mnist, "(a) MNIST VAE", "test"),
                                             (ising, "(b) Ising VAE", "held-out half"))):
        d = load_npz(path)
        ax.plot(d["epoch"], d["train_loss"], color=CYCLE[0], marker="o", markersize=2,
                label="training (running mean over the epoch)")
        ax.plot(d["epoch"], d["held_out_loss"], color=CYCLE[1], marker="o", markersize=2, label=held)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel("negative ELBO per example (nats)")
        ax.set_title(title, loc="left")
        ax.legend(loc="best")
    fig.tight_layout()
    save_figure(fig, pdf, png)


@step
def vae_likelihood_plot(params: Mapping, *, mnist: Path, ising: Path, ppca: Path, pdf: Path, png: Path) -> None:
    """(a, b) the importance-sampled held-out log-likelihood against K (gain over K = 1, paired
    standard errors); (c) the estimator's error against the exact log p(x) of the linear-Gaussian
    VAE, per proposal."""
    fig, axes = figure(1, 3, width=PAGE_WIDTH, height=PAGE_WIDTH * 0.34)
    for ax, (path, title) in zip(axes, ((mnist, "(a) MNIST VAE"), (ising, "(b) Ising VAE"))):
        d = load_npz(path)
        ks = d["is_ks"]
        ax.errorbar(ks, d["is_gain"], yerr=d["is_gain_se"], color=CYCLE[0], marker="o", capsize=2)
        ax.set_xscale("log")
        ax.set_xlabel("importance samples $K$")
        ax.set_ylabel(r"$\log p_K(x) - \log p_1(x)$ (nats)")
        ax.set_title(title, loc="left")
        ax.text(0.97, 0.05, f"$K = 1$ (ELBO): {float(d['is_mean'][0]):.2f}\n"
                f"$K = {int(ks[-1])}$: {float(d['is_mean'][-1]):.2f}", transform=ax.transAxes, ha="right",
                va="bottom")
    ax = axes[2]
    d = load_npz(ppca)
    for i, scale in enumerate(d["scales"]):
        key = f"scale_{float(scale):g}"
        err, se = d[f"error_{key}"], d[f"error_se_{key}"]
        label = "encoder" if float(scale) == 1.0 else rf"encoder, $\sigma \times {float(scale):g}$"
        ax.errorbar(d["ks"], np.abs(err), yerr=se, color=CYCLE[i], marker="o", capsize=2, label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("importance samples $K$")
    ax.set_ylabel(r"$|\log p_K(x) - \log p(x)|$ (nats)")
    ax.set_title("(c) linear-Gaussian VAE: error", loc="left")
    ax.legend(loc="lower left")
    fig.tight_layout()
    save_figure(fig, pdf, png)
