"""Figures of the energy-landscape section: each reads only the ``.npz`` of its compute step(s)
(plus its params) and writes PDF and PNG through :mod:`mlreview.figures.style`."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import Normalize

from mlreview.figures.style import CYCLE, PAGE_WIDTH, figure, save_figure
from mlreview.io import load_npz
from mlreview.steps import step


@step
def hopfield_capacity_plot(params: Mapping, *, data: Path, basins: Path, pdf: Path, png: Path) -> None:
    """(a) Mean final overlap against alpha = p/N for every N, with the AGS retrieval branch and
    alpha_c; (b) probability of recall against the fraction of flipped bits in the cue."""
    d, b = load_npz(data), load_npz(basins)
    fig, axes = figure(1, 2, width=PAGE_WIDTH, height=PAGE_WIDTH * 0.4)
    ax = axes[0]
    for k, N in enumerate(d["sizes"]):
        ax.errorbar(d[f"N{N}_alpha"], d[f"N{N}_mean"], yerr=d[f"N{N}_se"], fmt="o-", ms=2.5, lw=0.9,
                    color=CYCLE[k % len(CYCLE)], label=f"$N = {int(N)}$")
    ax.plot(d["ags_alpha"], d["ags_m"], color="k", lw=1.6, zorder=5, label="AGS theory, $N\\to\\infty$")
    ac = float(d["alpha_c"])
    ax.plot([ac], [float(np.min(d["ags_m"]))], "k>", ms=4, zorder=5)
    ax.axvline(ac, color="k", ls=":", lw=0.8)
    ax.text(ac + 0.004, 0.05, rf"$\alpha_c = {ac:.3f}$", fontsize=7)
    ax.axhline(float(d["crossing_overlap"]), color="0.6", lw=0.6, ls="--")
    ax.set_xlabel(r"load $\alpha = p/N$")
    ax.set_ylabel("final overlap $m$ (mean)")
    ax.set_ylim(0, 1.05)
    ax.set_title("(a) capacity, zero-temperature retrieval", loc="left")
    ax.legend(loc="lower left", fontsize=7)

    ax = axes[1]
    fr = b["fractions"]
    for k, alpha in enumerate(b["alphas"]):
        c = CYCLE[k % len(CYCLE)]
        ax.fill_between(fr, b["ci_low"][k], b["ci_high"][k], color=c, alpha=0.25, lw=0)
        ax.plot(fr, b["success"][k], "o-", ms=2.5, color=c, label=rf"$\alpha = {alpha:g}$")
    ax.set_xlabel("fraction of flipped bits in the cue")
    ax.set_ylabel(f"P(recall), final $m \\geq$ {float(b['success_overlap']):g}")
    ax.set_title(f"(b) basins of attraction, $N = {int(b['size'])}$", loc="left")
    ax.set_ylim(-0.02, 1.02)
    ax.legend(loc="lower left")
    fig.tight_layout()
    save_figure(fig, pdf, png)


@step
def hopfield_temperature_plot(params: Mapping, *, data: Path, pdf: Path, png: Path) -> None:
    """(a) Retrieval overlap against T (Glauber) with m = tanh(m/T) and the exact finite-N
    Curie-Weiss <|m|>; (b) the three overlaps of runs started in the symmetric three-pattern
    mixture (largest N) with the mean-field mixture and pure states, and the fraction of runs
    keeping the mixture for every N; (c) the mixture's stiffness measured from its fluctuations
    against the smallest Hessian eigenvalue of mean-field theory."""
    d = load_npz(data)
    fig, axes = figure(1, 3, width=PAGE_WIDTH, height=PAGE_WIDTH * 0.4)
    ax = axes[0]
    T = d["retrieval_T"]
    ax.plot(T, d["mean_field"], color="k", lw=1.2, label=r"$m = \tanh(m/T)$")
    ax.plot(T, d["exact_p1"], color="0.45", ls="--", lw=1.0, label=r"exact $\langle|m|\rangle$, $p = 1$")
    ps = sorted(int(k[1:-6]) for k in d if k.startswith("p") and k.endswith("_abs_m"))
    for k, p in enumerate(ps):
        key, se = (f"p{p}_abs_m", f"p{p}_se") if p == 1 else (f"p{p}_condensed", f"p{p}_condensed_se")
        what = r"$\langle|m|\rangle$" if p == 1 else r"largest $|m_\mu|$"
        ax.errorbar(T, d[key], yerr=d[se], fmt="o" if k == 0 else "s", ms=3 if k == 0 else 4,
                    color=CYCLE[k % len(CYCLE)], mfc="none" if k else None, label=f"$p = {p}$: {what}")
    ax.axvline(1.0, color="k", ls=":", lw=0.8)
    ax.set_xlabel("temperature $T$")
    ax.set_ylabel("retrieval overlap")
    ax.set_title(f"(a) retrieval, Glauber, $N = {int(d['size'])}$", loc="left")
    ax.set_ylim(0, 1.05)
    ax.legend(loc="lower left", fontsize=6)

    fine, ts = d["mixture_theory_T"], float(d["mixture_stability_T"])
    sizes = [int(n) for n in d["mixture_sizes"]]
    big = max(sizes)
    ax = axes[1]
    stable = fine <= ts
    ax.plot(fine[stable], d["mixture_theory_m"][stable], color="k", lw=1.2, label="mixture (mean field)")
    ax.plot(fine[~stable], d["mixture_theory_m"][~stable], color="k", lw=1.0, ls="--", label="mixture, unstable")
    ax.plot(fine, d["pure_theory_m"], color="0.55", lw=1.0, label="pure state")
    mT = d[f"mixture_N{big}_T"]
    final = np.sort(d[f"mixture_N{big}_final"], axis=2)
    for j, (name, c) in enumerate(zip(("smallest", "middle", "largest"), ("tab:blue", "tab:green", "tab:red"))):
        ax.plot(np.repeat(mT, final.shape[1]), final[:, :, j].ravel(), "o", ms=2.2, color=c, alpha=0.6,
                mec="none", label=f"{name} overlap")
    for k, N in enumerate(sizes):
        ax.step(d[f"mixture_N{N}_T"], d[f"mixture_N{N}_kept"], where="mid", color="tab:purple",
                lw=1.0, ls=("-", "--", ":")[k % 3], label=f"kept fraction, $N = {N}$")
    ax.axvline(ts, color="k", ls=":", lw=0.8)
    ax.set_xlabel("temperature $T$")
    ax.set_ylabel("overlap / fraction of runs")
    ax.set_ylim(-0.05, 1.05)
    ax.set_xlim(float(mT[0]) - 0.05, float(mT[-1]) + 0.05)
    ax.set_title(f"(b) 3-mixture runs, $N = {big}$", loc="left")
    ax.legend(loc="center right", bbox_to_anchor=(1.0, 0.62), fontsize=5.5)

    ax = axes[2]
    ax.plot(fine, d["mixture_theory_stiffness"], color="k", lw=1.2, label="mean field")
    ax.axhline(0, color="0.6", lw=0.6)
    for k, N in enumerate(sizes):
        lam = d[f"mixture_N{N}_stiffness"]
        ok = np.isfinite(lam)
        ax.errorbar(d[f"mixture_N{N}_T"][ok], lam[ok], yerr=np.nan_to_num(d[f"mixture_N{N}_stiffness_se"][ok]),
                    fmt="os"[k % 2], ms=3, color=CYCLE[k % len(CYCLE)], mfc="none" if k else None,
                    label=f"fluctuations, $N = {N}$")
    ax.axvline(ts, color="k", ls=":", lw=0.8)
    ax.text(ts + 0.01, -0.17, rf"$T = {ts:.3f}$", fontsize=7)
    ax.set_xlim(float(mT[0]) - 0.05, float(mT[-1]) + 0.05)
    ax.set_ylim(-0.2, 0.8)
    ax.set_xlabel("temperature $T$")
    ax.set_ylabel(r"stiffness $\lambda_{\min}$ of the mixture")
    ax.set_title("(c) stiffness of the mixture", loc="left")
    ax.legend(loc="upper right", fontsize=6)
    fig.tight_layout()
    save_figure(fig, pdf, png)


def _image_block(fig, spec, rows, title):
    """One block of digit images: rows (label, images) on a sub-grid."""
    ncols = max(len(images) for _, images in rows)
    sub = spec.subgridspec(len(rows), ncols, wspace=0.05, hspace=0.08)
    for r, (label, images) in enumerate(rows):
        for c in range(ncols):
            ax = fig.add_subplot(sub[r, c])
            ax.set_xticks([])
            ax.set_yticks([])
            if c < len(images):
                side = int(round(np.sqrt(images[c].size)))
                ax.imshow((np.asarray(images[c], float).reshape(side, side) + 1) / 2, cmap="gray_r",
                          vmin=0, vmax=1, interpolation="nearest")
            else:
                ax.axis("off")
            if c == 0:
                ax.set_ylabel(label, fontsize=7)
            if r == 0 and c == 0:
                ax.set_title(title, loc="left", fontsize=8)


@step
def hopfield_digits_plot(params: Mapping, *, data: Path, pdf: Path, png: Path) -> None:
    """Top: stored binarised digits, corrupted cues and what the network recalls, for each set;
    bottom: fraction of stored patterns retrieved against p for digits, biased and random patterns."""
    d = load_npz(data)
    n_sets = int(d["n_sets"])
    fig = plt.figure(figsize=(PAGE_WIDTH, PAGE_WIDTH * 0.72))
    outer = fig.add_gridspec(2, 1, height_ratios=[1.0, 1.1], hspace=0.35)
    widths = [len(d[f"set{s}_classes"]) for s in range(n_sets)]
    top = outer[0].subgridspec(1, n_sets, width_ratios=widths, wspace=0.15)
    flip = float(d["flip_fraction"])
    for s in range(n_sets):
        m = d[f"set{s}_overlap"]
        rows = [("stored", d[f"set{s}_stored"]), (f"cue ({flip:.0%}\nflipped)", d[f"set{s}_cue"]),
                ("recalled", d[f"set{s}_recalled"])]
        span = f"{m.min():.2f}" if np.isclose(m.min(), m.max()) else f"{m.min():.2f}-{m.max():.2f}"
        _image_block(fig, top[s], rows, f"$p = {widths[s]}$ digits stored\nfinal overlaps {span}")
    ax = fig.add_subplot(outer[1])
    N = int(d["size"])
    styles = {"random": ("random $\\pm1$ patterns", "k", "o"),
              "biased": ("independent pixels with the digits' means", "tab:orange", "s"),
              "digits": ("binarised MNIST digits", "tab:blue", "D")}
    for name, (label, c, marker) in styles.items():
        ax.plot(d[f"{name}_p"] / N, d[f"{name}_retrieved"], marker=marker, ms=3, color=c, label=label)
    ac = float(d["alpha_c"])
    ax.axvline(ac, color="k", ls=":", lw=0.8)
    ax.text(ac * 1.05, 0.9, rf"$\alpha_c = {ac:.3f}$", fontsize=7)
    ax.set_xscale("log")
    ax.set_xlabel(r"load $\alpha = p/N$" + f" ($N = {N}$ pixels)")
    ax.set_ylabel("fraction of stored patterns\nthat are retrieved")
    ax.set_ylim(-0.03, 1.03)
    ax.legend(loc="center", bbox_to_anchor=(0.45, 0.55), fontsize=7)
    ax.set_title("storage capacity: random against correlated patterns", loc="left")
    save_figure(fig, pdf, png)


@step
def annealing_plot(params: Mapping, *, data: Path, arrhenius: Path, pdf: Path, png: Path) -> None:
    """(a) Energy per spin against the number of sweeps: simulated annealing, best of random
    restarts with the same budget, a single greedy quench, Parisi's e_0; (b) the longest anneals
    against N^(-2/3); (c) the Arrhenius plot of magnetisation reversals of a small Ising torus."""
    d, a = load_npz(data), load_npz(arrhenius)
    fig, axes = figure(1, 3, width=PAGE_WIDTH, height=PAGE_WIDTH * 0.4,
                       gridspec_kw={"width_ratios": [1.5, 1.0, 1.0]})
    ax = axes[0]
    sweeps = d["sweeps"]
    parisi = float(d["parisi"])
    for k, N in enumerate(d["sizes"]):
        c = CYCLE[k % len(CYCLE)]
        sa, rs = d[f"N{N}_sa"], d[f"N{N}_restarts"]
        ax.errorbar(sweeps, sa.mean(0), yerr=sa.std(0, ddof=1) / np.sqrt(len(sa)), fmt="o-", ms=2.5, color=c,
                    label=f"$N = {int(N)}$")
        ax.plot(sweeps, rs.mean(0), ls="--", color=c, lw=0.9)
        ax.plot(d[f"N{N}_quench_sweeps"].mean(), d[f"N{N}_greedy"].mean(), "X", ms=5, color=c)
    parisi_line = ax.axhline(parisi, color="k", ls=":", lw=0.9)
    top = max(float(d[f"N{N}_greedy"].mean()) for N in d["sizes"])
    ax.set_ylim(parisi - 0.022, top + 0.5 * (top - parisi))  # room for the legends above and below the curves
    sizes_legend = ax.legend(loc="lower left", fontsize=6, ncol=2)
    styles = [ax.plot([], [], "o-", color="0.4", ms=2.5)[0], ax.plot([], [], "--", color="0.4")[0],
              ax.plot([], [], "X", color="0.4", ms=5)[0], parisi_line]
    ax.legend(styles, ["simulated annealing", "best of greedy restarts, same sweeps", "one greedy quench",
                       f"Parisi $e_0 = {parisi}$ ($N \\to \\infty$)"],
              loc="upper right", fontsize=6)
    ax.add_artist(sizes_legend)
    ax.set_xscale("log")
    ax.set_xlabel("sweeps (annealing length = restart budget)")
    ax.set_ylabel("energy per spin")
    ax.set_title("(a) SK spin glass", loc="left")

    ax = axes[1]
    expo = float(d["finite_size_exponent"])
    x = d["sizes"].astype(float) ** (-expo)
    y = np.array([d[f"N{N}_sa"][:, -1].mean() for N in d["sizes"]])
    ye = np.array([d[f"N{N}_sa"][:, -1].std(ddof=1) / np.sqrt(len(d[f"N{N}_sa"])) for N in d["sizes"]])
    ax.errorbar(x, y, yerr=ye, fmt="o", color="tab:blue", ms=3, label=f"annealing, {int(sweeps[-1])} sweeps")
    slope, intercept = d["extrapolation"]
    xx = np.linspace(0, x.max() * 1.05, 50)
    ax.plot(xx, intercept + slope * xx, color="tab:blue", lw=0.8, label=f"fit: $e_\\infty = {intercept:.3f}$")
    ax.plot([0], [parisi], "k*", ms=7, label="Parisi")
    ax.set_xlabel("$N^{-2/3}$" if abs(expo - 2 / 3) < 1e-3 else f"$N^{{-{expo:.3g}}}$")
    ax.set_ylabel("energy per spin")
    ax.set_title("(b) towards $N \\to \\infty$", loc="left")
    ax.legend(loc="upper left", fontsize=6)

    ax = axes[2]
    beta = 1.0 / a["temperatures"]
    tau, se = a["tau"], a["tau_se"]
    ax.errorbar(beta, np.log(tau), yerr=se / tau, fmt="o", ms=3, color="tab:red", label="Metropolis")
    slope, intercept = a["fit"]
    bb = np.linspace(beta.min() * 0.98, beta.max() * 1.02, 20)
    ax.plot(bb, intercept + slope * bb, color="tab:red", lw=0.8, label=f"fit, slope {slope:.1f}")
    ons = a["onsager_log_tau"]
    shift = np.mean(np.log(tau) - ons)
    ax.plot(beta, ons + shift, color="k", lw=1.0, ls="--", label=r"$2L\sigma(T)/T$ + const")
    eb = float(a["energy_barrier"])
    ax.plot(bb, np.mean(np.log(tau)) + eb * (bb - beta.mean()), color="0.5", lw=1.0, ls=":",
            label=f"slope $4JL = {eb:g}$")
    ax.set_xlabel("$1/T$")
    ax.set_ylabel(r"$\ln \tau$ (sweeps between reversals)")
    ax.set_title(f"(c) Arrhenius, Ising ${int(a['lattice'])} \\times {int(a['lattice'])}$", loc="left")
    ax.legend(loc="upper left", fontsize=6)
    fig.tight_layout()
    save_figure(fig, pdf, png)


@step
def ising_rg_plot(params: Mapping, *, data: Path, pdf: Path, png: Path) -> None:
    """(a) RG flows in the plane (<s_i s_j>, <|m|>), one line per temperature; (b) <s_i s_j> along
    the flow; (c) the Binder cumulant of the blocked lattices against T (RG-invariant); (d) the
    Binder cumulant of sub-blocks of the sizes of the RG steps (Binder's block distribution)."""
    d = load_npz(data)
    T, sizes, tc = d["temperatures"], [int(v) for v in d["sizes"]], float(d["tc"])
    cmap = plt.get_cmap("turbo")
    norm = Normalize(T.min(), T.max())
    fig, axes = figure(2, 2, width=PAGE_WIDTH, height=PAGE_WIDTH * 0.72)
    ax = axes[0, 0]
    for t, temp in enumerate(T):
        x, y = d["nn"][t], d["abs_m"][t]
        c = cmap(norm(temp))
        ax.plot(x, y, "-", color=c, lw=0.9)
        ax.plot(x[0], y[0], "o", color=c, ms=3)
        for k in range(len(x) - 1):
            ax.annotate("", xy=(x[k + 1], y[k + 1]), xytext=(x[k], y[k]),
                        arrowprops={"arrowstyle": "->", "color": c, "lw": 0.8, "shrinkA": 0, "shrinkB": 0})
    n_last = sizes[-1] ** 2  # independent spins on the last lattice: <|m|> = E|2k - n| / n, k ~ Bin(n, 1/2)
    free_m = sum(math.comb(n_last, k) * abs(2 * k - n_last) for k in range(n_last + 1)) / (2.0**n_last * n_last)
    ax.plot([1, 0], [1, free_m], "k*", ms=8, ls="none")
    ax.text(0.97, 0.86, "ordered\nfixed point", ha="right", fontsize=7)
    ax.text(0.02, free_m + 0.1, f"disordered fixed point\n(free spins, ${sizes[-1]} \\times {sizes[-1]}$)", fontsize=7)
    ax.set_xlabel(r"$\langle s_i s_j \rangle$ (nearest neighbours)")
    ax.set_ylabel(r"$\langle |m| \rangle$")
    ax.set_title(f"(a) flows under blocking (dots: ${sizes[0]} \\times {sizes[0]}$ data)", loc="left")
    sm = plt.cm.ScalarMappable(cmap=cmap, norm=norm)
    fig.colorbar(sm, ax=ax, label="$T$", fraction=0.05, pad=0.02)

    ax = axes[0, 1]
    steps = np.arange(len(sizes))
    for t, temp in enumerate(T):
        ax.plot(steps, d["nn"][t], "o-", ms=2.5, lw=0.9, color=cmap(norm(temp)))
    ax.set_xticks(steps)
    ax.set_xticklabels([f"{L}" for L in sizes])
    ax.set_xlabel("lattice side after blocking")
    ax.set_ylabel(r"$\langle s_i s_j \rangle$")
    fp = d["nn_fixed_point_crossings"]
    ax.set_title("(b) " + r"$\langle s_i s_j\rangle$ is stationary at $T \approx$ " + f"{np.nanmean(fp):.2f}",
                 loc="left")

    for ax, key, title in ((axes[1, 0], "binder", "(c) blocked lattices: $U$ hardly flows"),
                           (axes[1, 1], "block_binder", "(d) sub-blocks of the same sizes")):
        for k, L in enumerate(sizes):
            ax.errorbar(T, d[key][:, k], yerr=d[f"{key}_se"][:, k], fmt="o-", ms=2.5, lw=0.9,
                        color=CYCLE[k % len(CYCLE)], label=f"${L} \\times {L}$")
        ax.axvline(tc, color="k", ls=":", lw=0.8)
        ax.axhline(2 / 3, color="0.6", lw=0.6, ls="--")
        ax.set_xlabel("$T$")
        ax.set_ylabel("Binder cumulant $U$")
        ax.set_title(title, loc="left")
        ax.legend(loc="lower left", fontsize=7)
        axin = ax.inset_axes([0.6, 0.5, 0.38, 0.45])
        sel = (T > tc - 0.4) & (T < tc + 0.4)
        for k in range(len(sizes)):
            axin.plot(T[sel], d[key][sel, k], "o-", ms=2, lw=0.8, color=CYCLE[k % len(CYCLE)])
        axin.axvline(tc, color="k", ls=":", lw=0.8)
        axin.tick_params(labelsize=6)
    fig.tight_layout()
    save_figure(fig, pdf, png)
