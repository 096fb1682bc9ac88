"""Figs 66-68 (a DBM on Ising states at one temperature: data, reconstructions, fantasy particles),
the project figure of their physical observables against the Monte Carlo data, and the project
figure of the per-epoch monitors of their training."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
from matplotlib.ticker import MaxNLocator

from mlreview.figures.style import (
    PAGE_WIDTH,
    figure,
    image_rows,
    legend_entries,
    save_figure,
)
from mlreview.io import as_list, load_npz
from mlreview.steps import step

#: the sets of the observables figure, in drawing order, and their colours
SET_STYLE = {
    "mc": {"color": "0.55", "label": "Monte Carlo (all states at T)"},
    "reconstruction": {"color": "tab:blue", "label": "reconstructions"},
    "fantasy": {"color": "tab:red", "label": "fantasy particles"},
}


@step
def ising_dbm_plot(params: Mapping, *, data: Path, pdf: Path, png: Path) -> None:
    """Rows of 40 x 40 lattices: validation states, their reconstructions, fantasy particles."""
    z = load_npz(data)
    plot = params["plot"]
    L = int(z["lattice"])
    rows = [z[name] for name in ("data", "reconstruction", "fantasy")]
    layers = "-".join(str(int(n)) for n in [L * L, *np.atleast_1d(z["hidden"])])
    image_rows(list(zip(plot["row_labels"], rows)), min(len(r) for r in rows), plot["cmap"], pdf, png,
               title=f"{plot['title']} {layers} at T = {float(z['temperature']):.2f}", frame=True)


@step
def ising_dbm_observables_plot(params: Mapping, *, summary: Path, pdf: Path, png: Path) -> None:
    """Per temperature (columns): the histogram of m (top) and of the energy per spin (bottom) of
    the Monte Carlo states, the reconstructions and the fantasy particles, with the exact values."""
    z = load_npz(summary)
    plot = params["plot"]
    temps = [float(t) for t in z["temperatures"]]
    bins = int(params["histogram_bins"])
    fig, axes = figure(2, len(temps), width=PAGE_WIDTH, height=4.6, squeeze=False)
    for j, T in enumerate(temps):
        key = f"T_{T:.2f}"
        ax_m, ax_e = axes[0, j], axes[1, j]
        e_all = np.concatenate([z[f"{key}/energy/{name}"] for name in SET_STYLE])
        e_edges = np.linspace(e_all.min() - 1e-9, e_all.max() + 1e-9, bins + 1)
        for name, style in SET_STYLE.items():
            filled = name == "mc"
            kw = {"color": style["color"], "density": True, "label": style["label"],
                  "histtype": "stepfilled" if filled else "step", "alpha": 0.5 if filled else 1.0}
            ax_m.hist(z[f"{key}/m/{name}"], bins=bins, range=(-1.0, 1.0), **kw)
            ax_e.hist(z[f"{key}/energy/{name}"], bins=e_edges, **kw)
        onsager = float(z[f"{key}/onsager_abs_m"])
        if onsager > 0:
            for sign in (-1, 1):
                ax_m.axvline(sign * onsager, color="k", ls=":", lw=0.9,
                             label="Onsager $\\pm m(T)$" if sign > 0 else None)
        ax_e.axvline(float(z[f"{key}/exact_energy_per_spin"]), color="k", ls="--", lw=0.9,
                     label=f"exact $\\langle e\\rangle$ ({plot['lattice_label']})")
        ax_m.set_title(f"T = {T:.2f}")
        ax_m.set_xlabel("magnetisation per spin m")
        ax_e.set_xlabel("energy per spin e")
        ax_m.set_yticks([])
        ax_e.set_yticks([])
    axes[0, 0].set_ylabel("density")
    axes[1, 0].set_ylabel("density")
    handles, labels = legend_entries((axes[0, 0], axes[1, 0]))
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), bbox_to_anchor=(0.5, -0.04))
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    save_figure(fig, pdf, png)


#: the monitored sets of the training figure: history key prefix -> style
MONITOR_STYLE = {
    "chains": {"color": "tab:red", "ls": "-", "label": "persistent chains"},
    "fantasy": {"color": "tab:blue", "ls": "--", "label": "fresh fantasy particles"},
}


def stage_epochs(z: Mapping, key: str) -> tuple[np.ndarray, np.ndarray, int]:
    """One monitored quantity over the first RBM's pretraining and then the joint DBM training, on one
    epoch axis: (epochs 1, 2, ..., values, number of pretraining epochs)."""
    pre = np.asarray(z.get(f"history/pretrain0_{key}", np.array([])), float)
    joint = np.asarray(z.get(f"history/joint_{key}", np.array([])), float)
    values = np.concatenate([pre, joint])
    return np.arange(1, len(values) + 1), values, len(pre)


@step
def ising_dbm_training_plot(params: Mapping, *, data, pdf: Path, png: Path) -> None:
    """Per temperature (columns): mean |m| (top) and energy per spin (middle) of the persistent chains
    and of fresh fantasy particles at every epoch of the first RBM's pretraining and of the joint
    training, with the Monte Carlo means and the C74 tolerance bands; bottom: the first RBM's
    pseudo-log-likelihood per spin of the validation states during pretraining, with the epoch whose
    parameters the DBM took (early stopping on it) circled. The dotted line ends the pretraining."""
    files = as_list(data)
    c74 = params["c74"]
    fig, axes = figure(3, len(files), width=PAGE_WIDTH, height=6.2, squeeze=False, sharex="col")
    for j, path in enumerate(sorted(files, key=lambda f: float(load_npz(f)["temperature"]))):
        z = load_npz(path)
        T = float(z["temperature"])
        mc = {"abs_m": float(np.abs(z["m/mc"]).mean()), "energy": float(z["energy/mc"].mean())}
        bands = {"abs_m": float(c74["abs_m_tolerance"]),
                 "energy": float(c74["energy_rel_tolerance"]) * abs(mc["energy"])}
        n_pre = 0
        for i, (quantity, label) in enumerate((("abs_m", r"$\langle |m| \rangle$"),
                                               ("energy", "energy per spin e"))):
            ax = axes[i, j]
            ax.axhspan(mc[quantity] - bands[quantity], mc[quantity] + bands[quantity], color="0.9",
                       label="C74 tolerance")
            ax.axhline(mc[quantity], color="0.45", lw=1.0, label="Monte Carlo")
            for name, style in MONITOR_STYLE.items():
                epochs, values, n_pre = stage_epochs(z, f"{name}_{quantity}")
                if len(values):
                    ax.plot(epochs, values, color=style["color"], ls=style["ls"], marker=".", label=style["label"])
            if j == 0:
                ax.set_ylabel(label)
        epochs, pll, _ = stage_epochs(z, "pseudo_ll")
        axes[2, j].plot(epochs, pll, color="k", marker=".", label="first RBM, validation states")
        _, kept, _ = stage_epochs(z, "kept")
        if len(kept) and kept.max() == 1.0:
            i = int(np.argmax(kept))
            axes[2, j].plot(epochs[i], pll[i], "o", ms=9, mfc="none", mec="tab:green", mew=1.5,
                            label="epoch kept (best pseudo-LL)")
        axes[2, j].yaxis.set_major_locator(MaxNLocator(5))
        if j == 0:
            axes[2, j].set_ylabel("pseudo-log-likelihood per spin")
        for ax in axes[:, j]:
            if n_pre:
                ax.axvline(n_pre + 0.5, color="k", ls=":", lw=0.8, label="end of pretraining, then joint")
        axes[0, j].set_title(f"T = {T:.2f}")
        axes[2, j].set_xlabel("epoch")
    handles, labels = legend_entries((axes[0, 0], *axes[2, :]))
    fig.legend(handles, labels, loc="lower center", ncol=3, bbox_to_anchor=(0.5, -0.05))
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    save_figure(fig, pdf, png)
