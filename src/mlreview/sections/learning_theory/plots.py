"""The figures of the statistical physics of learning: measured points over their exact theory.

Each ``*_plot`` step reads the ``.npz`` files of its compute steps and writes one PDF and one PNG in the
project style; ``params`` is the figure's ``plot`` config section (sizes and axis limits only).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from mlreview.figures.style import CYCLE, PAGE_WIDTH, figure, save_figure
from mlreview.io import load_npz
from mlreview.steps import step

MEASURED = "black"
THEORY = "0.35"


def _mean_se(values: np.ndarray, axis: int = 1) -> tuple[np.ndarray, np.ndarray]:
    values = np.asarray(values, float)
    R = values.shape[axis]
    return values.mean(axis=axis), values.std(axis=axis, ddof=1) / np.sqrt(max(R, 1))


def _panel_label(ax, text: str) -> None:
    ax.text(0.02, 0.97, text, transform=ax.transAxes, va="top", ha="left", fontweight="bold")


# --- interpolation peak ------------------------------------------------------------------------

def _synthetic_panel(ax, d: Mapping, params: Mapping) -> None:
    n, p = d["n"], int(d["p"])
    ax.errorbar(n, d["mean"], yerr=d["se"], fmt="o", ms=3, color=MEASURED, label="min-norm", zorder=4)
    ax.plot(d["curve_n"], d["curve_exact"], color="tab:gray", lw=1.0, label="exact $E$[risk]", zorder=6)
    for j, lam in enumerate(d["ridge_lambdas"]):
        color = CYCLE[1 + j]
        ax.errorbar(n, d["ridge_mean"][:, j], yerr=d["ridge_se"][:, j], fmt="s", ms=2.2, color=color,
                    label=f"ridge $\\lambda$ = {lam:g}")
        ax.plot(d["curve_n"], d["curve_ridge"][j], color=color, lw=0.8, ls="--")
    ax.errorbar(n, d["cv_mean"], yerr=d["cv_se"], fmt="D", ms=2.5, color=CYCLE[0], label="ridge, LOO-CV $\\lambda$")
    ax.plot(d["curve_n"], d["curve_optimal"], color=CYCLE[0], lw=0.8, ls="--",
            label=f"asymptotic (dashed), $\\lambda^*$={float(d['lambda_optimal']):g}")
    ax.axvline(p, color="0.6", ls=":", lw=0.8)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_ylim(*params["synthetic_ylim"])
    ax.set_xlabel("samples $n$")
    ax.set_ylabel("test excess risk $|\\hat w - w^*|^2$")
    ax.set_title(f"(a) Gaussian design, $p$ = {p}")
    ax.legend(loc="upper left", bbox_to_anchor=(0.53, 1.0), fontsize=4.8, ncol=1, handlelength=1.2)


def _tail_panel(ax, d: Mapping) -> None:
    x, c = d["risk"], d["ccdf"]
    keep = np.unique(np.rint(np.geomspace(1, len(x), 400)).astype(int) - 1)
    ax.plot(x[keep], c[keep], ".", ms=2.5, color=MEASURED, label=f"measured, {len(x):,} designs")
    q_low, q_high = float(d["q_low"]), float(d["q_high"])
    fit = (c >= q_low) & (c <= q_high)
    anchor = np.flatnonzero(fit)[0]
    xs = np.geomspace(x[fit].min(), x.max(), 50)
    ax.plot(xs, c[anchor] * (xs / x[anchor]) ** -0.5, color=THEORY, lw=1.4, label="slope $-1/2$ (theory)")
    ax.axhspan(q_low, q_high, color="0.92", zorder=0, label=f"fit range: slope {float(d['ls_slope']):.3f}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("$|\\hat w - w^*|^2$ at $n = p$")
    ax.set_ylabel("Prob[risk $\\geq x$]")
    ax.set_title(f"(b) tail at $n = p$ = {int(d['p'])}")
    ax.legend(loc="lower left", fontsize=6)


def _ising_panels(top, bottom, d: Mapping) -> None:
    """Panel c: noisy energies (top, their peak) and noiseless ones (bottom, exact recovery from n = 781)."""
    n, p_eff, L = d["n"], int(d["p_eff"]), int(d["L"])
    clean, _ = _mean_se(d["mse_clean"])
    noisy, noisy_se = _mean_se(d["mse_noisy"])
    top.plot(d["curve_n"], d["curve_guide"], color=CYCLE[3], lw=0.9, ls="--",
             label=f"Gaussian-design formula, $p$ = {p_eff}")
    top.errorbar(n, noisy, yerr=noisy_se, fmt="o", ms=2.5, color=CYCLE[3],
                 label=f"noise $\\sigma$ = {float(d['sigma']):g}")
    top.set_yscale("log")
    top.set_ylabel("test MSE")
    top.set_title(f"(c) 1D Ising: {L * L:,} pair features")
    low, high = top.get_ylim()
    top.set_ylim(low, high * (high / low) ** 0.6)  # room above the peak for the legend
    top.legend(loc="upper left", fontsize=5)
    bottom.plot(d["curve_n"], np.where(d["curve_n"] < p_eff, d["curve_clean"], np.nan), color=CYCLE[0], lw=0.9,
                ls="--", label="bias $|w^*|^2(1 - n/p)$")
    bottom.plot(n, clean, "s", ms=2.5, color=CYCLE[0], label="noiseless")
    bottom.set_yscale("log")
    bottom.set_ylabel("test MSE")
    bottom.set_xlabel("training chains $n$")
    bottom.legend(loc="center right", fontsize=5)  # between the two levels, clear of both
    for ax in (top, bottom):
        ax.axvline(p_eff, color="0.6", ls=":", lw=0.8)
    top.tick_params(labelbottom=False)


def _classification_panel(ax, d: Mapping, title: str, threshold: int) -> None:
    n = d["n"]
    for key, color, text in (("acc_ridge", CYCLE[3], "ridge $\\lambda=10^{-6}$"), ("acc_logistic", CYCLE[0],
                                                                                  "logistic $C=10^6$")):
        m, s = _mean_se(d[key])
        ax.errorbar(n, m, yerr=s, fmt="o-", ms=2.5, lw=0.8, color=color, label=text)
    ax.axvline(threshold, color="0.6", ls=":", lw=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("training examples $n$")
    ax.set_ylabel("test accuracy")
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize=6)


def _norm_panel(ax, susy: Mapping, mnist: Mapping) -> None:
    """Median |w| against n / threshold; a filled marker where most training sets were separable."""
    from matplotlib.lines import Line2D

    for d, marker in ((susy, "o"), (mnist, "^")):
        threshold = int(d["rank"]) if "rank" in d else int(d["columns"])
        x = d["n"] / threshold
        separable = (d["separable"] == 1).mean(axis=1) > 0.5
        for key, color in (("norm_ridge", CYCLE[3]), ("norm_logistic", CYCLE[0])):
            y = np.median(d[key], axis=1)
            ax.plot(x, y, "-", lw=0.7, color=color)
            ax.plot(x[separable], y[separable], marker, ms=3, color=color, ls="none")
            ax.plot(x[~separable], y[~separable], marker, ms=3, color=color, mfc="white", ls="none")
    ax.axvline(1.0, color="0.6", ls=":", lw=0.8)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("$n$ / threshold (dotted lines of d, e)")
    ax.set_ylabel("median $|\\hat w|$")
    ax.set_title("(f) norms; filled: separable sets")
    handles = [Line2D([], [], color=CYCLE[3], lw=1, label="ridge"),
               Line2D([], [], color=CYCLE[0], lw=1, label="logistic"),
               Line2D([], [], color="0.3", marker="o", ls="none", ms=3, label="SUSY"),
               Line2D([], [], color="0.3", marker="^", ls="none", ms=3, label="MNIST")]
    low, high = ax.get_ylim()
    ax.set_ylim(low, high * (high / low) ** 0.35)  # room above the curves for the legend
    ax.legend(handles=handles, loc="upper left", fontsize=5.5, ncol=2)


@step
def interpolation_peak_plot(params: Mapping, *, synthetic: Path, tail: Path, ising: Path, susy: Path, mnist: Path,
                            pdf: Path, png: Path) -> None:
    """Figure ``interpolation_peak``: (a) synthetic risk vs n, (b) tail at n = p, (c) 1D Ising,
    (d, e) SUSY and MNIST accuracy, (f) weight norms. params: ``height``, ``synthetic_ylim``."""
    data = {name: load_npz(path) for name, path in
            (("synthetic", synthetic), ("tail", tail), ("ising", ising), ("susy", susy), ("mnist", mnist))}
    fig, axes = figure(2, 3, width=PAGE_WIDTH, height=float(params["height"]))
    _synthetic_panel(axes[0, 0], data["synthetic"], params)
    _tail_panel(axes[0, 1], data["tail"])
    spec = axes[0, 2].get_subplotspec().subgridspec(2, 1, hspace=0.08)
    axes[0, 2].remove()
    top = fig.add_subplot(spec[0])
    _ising_panels(top, fig.add_subplot(spec[1], sharex=top), data["ising"])
    susy, mnist = data["susy"], data["mnist"]
    _classification_panel(axes[1, 0], susy, f"(d) SUSY: {int(susy['columns']) - 1} features",
                          int(susy["columns"]))
    _classification_panel(axes[1, 1], mnist, f"(e) MNIST {mnist['task']}: {int(mnist['columns']) - 1} PCs",
                          int(mnist["rank"]))
    _norm_panel(axes[1, 2], susy, mnist)
    fig.tight_layout()
    save_figure(fig, pdf, png)


# --- double descent ---------------------------------------------------------------------------

@step
def double_descent_plot(params: Mapping, *, data: Path, pdf: Path, png: Path) -> None:
    """Figure ``double_descent``: test/train MSE, 0-1 error and |w| against N/n. params: ``height``,
    ``mse_ylim`` (the min-norm training MSE is at round-off beyond N = n, below the axis)."""
    d = load_npz(data)
    x = d["N"] / float(d["n_train"])
    fig, axes = figure(1, 3, width=PAGE_WIDTH, height=float(params["height"]))
    labels = {"min_norm": "min-norm"}
    for m, name in enumerate(d["models"]):
        name = str(name)
        text = labels.get(name, f"ridge $\\lambda$ = {name.split('_', 1)[1]}")
        color = MEASURED if m == 0 else CYCLE[m]
        axes[0].plot(x, d["test_mse"][m], "o-", ms=2.5, lw=0.9, color=color, label=f"test, {text}")
        axes[0].plot(x, d["train_mse"][m], ":", lw=0.9, color=color, label=f"train, {text}")
        axes[1].plot(x, d["test_error"][m], "o-", ms=2.5, lw=0.9, color=color)
        axes[1].plot(x, d["train_error"][m], ":", lw=0.9, color=color)
        axes[2].plot(x, d["norm"][m], "o-", ms=2.5, lw=0.9, color=color)
    for ax in axes:
        ax.axvline(1.0, color="0.6", ls=":", lw=0.8)
        ax.set_xscale("log")
        ax.set_xlabel("features per training image $N/n$")
    axes[0].set_yscale("log")
    axes[0].set_ylim(*params["mse_ylim"])
    axes[0].set_ylabel("mean squared error (one-hot)")
    axes[0].set_title(f"(a) MSE, $n$ = {int(d['n_train'])}")
    axes[1].set_ylabel("0-1 error")
    axes[1].set_title("(b) classification error")
    axes[2].set_yscale("log")
    axes[2].set_ylabel("$|w|$ (Frobenius)")
    axes[2].set_title("(c) readout norm")
    # one legend below the panels (inside them it hid the curves): a column per model, test (solid)
    # above train (dotted)
    handles, texts = axes[0].get_legend_handles_labels()
    fig.legend(handles, texts, loc="lower center", ncol=len(texts) // 2, fontsize=7, bbox_to_anchor=(0.5, -0.02))
    fig.tight_layout(rect=(0, 0.12, 1, 1))
    save_figure(fig, pdf, png)


# --- perceptron capacity ----------------------------------------------------------------------

@step
def perceptron_capacity_plot(params: Mapping, *, data: Path, pdf: Path, png: Path) -> None:
    """Figure ``perceptron_capacity``: (a) P(separable) with Cover's count, (b) kappa_max with Gardner's
    curve. params: ``height``."""
    d = load_npz(data)
    kinds = [str(k) for k in d["kinds"]]
    sizes = [int(n) for n in d["sizes"]]
    fig, axes = figure(1, 2, width=PAGE_WIDTH, height=float(params["height"]))
    markers = {"gaussian": "o", "binary": "s"}
    for i, N in enumerate(sizes):
        color = CYCLE[i % len(CYCLE)]
        axes[0].plot(d[f"N{N}_cover_curve_alpha"], d[f"N{N}_cover_curve"], color=color, lw=1.0)
        for kind in kinds:
            key = f"{kind}_N{N}"
            alpha = d[f"{key}_P"] / N
            axes[0].errorbar(alpha, d[f"{key}_p_separable"], yerr=d[f"{key}_se"], fmt=markers[kind], ms=3,
                             color=color, mfc=color if kind == "gaussian" else "white", lw=0.8,
                             label=f"N = {N}, {kind}")
            if kind == "gaussian":
                axes[1].errorbar(alpha, d[f"{key}_kappa_mean"], yerr=d[f"{key}_kappa_se"], fmt="o", ms=3,
                                 color=color, label=f"N = {N}")
                partly = (d[f"{key}_p_separable"] >= 0.5) & (d[f"{key}_p_separable"] < 1)
                axes[1].plot(alpha[partly], d[f"{key}_kappa_median"][partly], "o", ms=3, mfc="white", color=color)
    axes[0].axvline(2.0, color="0.6", ls=":", lw=0.8)
    axes[0].axhline(0.5, color="0.6", ls=":", lw=0.8)
    axes[0].set_xlabel("$\\alpha = P/N$")
    axes[0].set_ylabel("fraction of separable dichotomies")
    axes[0].set_title("(a) Cover's count (lines); open: $\\pm1$ patterns")
    axes[0].legend(fontsize=5, loc="upper right")  # above alpha > 2.5, where every curve is near 0
    axes[1].plot(d["theory_alpha"], d["theory_kappa"], color=THEORY, lw=1.6, label="Gardner (replica theory)")
    axes[1].axvline(2.0, color="0.6", ls=":", lw=0.8)
    axes[1].axhline(0.0, color="0.6", ls=":", lw=0.8)
    axes[1].set_xlim(float(d["alphas"].min()) - 0.1, 2.2)
    axes[1].set_ylim(-0.05, 1.2 * float(np.nanmax([d[f"gaussian_N{N}_kappa_mean"] for N in sizes])))
    axes[1].set_xlabel("$\\alpha = P/N$")
    axes[1].set_ylabel("maximal stability $\\kappa_{\\max}$")
    axes[1].set_title("(b) Gardner's $\\kappa_{\\max}$; points: mean (open: median)")
    axes[1].legend(fontsize=6)
    fig.tight_layout()
    save_figure(fig, pdf, png)


# --- teacher-student -------------------------------------------------------------------------

@step
def teacher_student_plot(params: Mapping, *, continuous: Path, binary: Path, pdf: Path, png: Path) -> None:
    """Figure ``teacher_student``: (a) continuous students against alpha with the exact Hebb curve and the
    replica theory of maximal stability, (b) Gibbs learning with binary weights. params: ``height``,
    ``guide_constant`` (c of the c/alpha guide line)."""
    c = load_npz(continuous)
    b = load_npz(binary)
    fig, axes = figure(1, 2, width=PAGE_WIDTH, height=float(params["height"]))
    ax = axes[0]
    ax.plot(c["curve_alpha"], c["curve_hebb"], color=CYCLE[0], lw=1.4, label="Hebb, exact")
    ax.plot(c["curve_max_margin_alpha"], c["curve_max_margin"], color=CYCLE[3], lw=1.4,
            label="max. stability, replica theory")
    guide = float(params["guide_constant"])
    tail = c["curve_alpha"] >= 1.0
    ax.plot(c["curve_alpha"][tail], guide / c["curve_alpha"][tail], color="0.5", lw=0.8, ls=":",
            label=f"{guide:g}/$\\alpha$")
    styles = {"hebb": ("o", CYCLE[0], "Hebb"), "perceptron": ("^", CYCLE[2], "perceptron algorithm"),
              "logistic": ("s", CYCLE[1], "logistic, no penalty"), "max_margin": ("D", CYCLE[3], "max. stability")}
    for s, (marker, color, text) in styles.items():
        ax.errorbar(c["alphas"], c[f"mean_{s}"], yerr=c[f"se_{s}"], fmt=marker, ms=3, color=color,
                    mfc="white" if s in ("perceptron", "logistic") else color, label=text)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("$\\alpha = P/N$")
    ax.set_ylabel("generalisation error $\\varepsilon_g = \\arccos(R)/\\pi$")
    ax.set_title(f"(a) continuous weights, N = {int(c['N'])}")
    ax.legend(fontsize=5.5, loc="lower left")
    ax = axes[1]
    alpha_c = float(b["alpha_c"])
    ax.plot(np.append(b["theory_alpha"], [alpha_c, alpha_c, float(b["alpha_c"]) * 2]),
            np.append(b["theory_eps"], [b["theory_eps"][-1], 0.0, 0.0]), color=THEORY, lw=1.6,
            label="$N\\to\\infty$ (replica theory)")
    for i, N in enumerate(int(n) for n in b["sizes"]):
        color = CYCLE[i % len(CYCLE)]
        alpha = b[f"N{N}_alpha"]
        ax.errorbar(alpha, b[f"N{N}_draw_mean"], yerr=b[f"N{N}_draw_se"], fmt="o", ms=2.5, lw=0.7, color=color,
                    label=f"Gibbs student, N = {N}")
        ax.plot(alpha, b[f"N{N}_version_space_mean"], "-", lw=0.8, color=color)
    ax.axvline(alpha_c, color="0.6", ls="--", lw=0.8)
    ax.text(alpha_c, 0.45, f" $\\alpha_c$ = {alpha_c:.3f}", fontsize=6, color="0.3")
    ax.set_xlim(0, float(max(b[f"N{int(n)}_alpha"].max() for n in b["sizes"])))
    ax.set_ylim(-0.01, 0.55)
    ax.set_xlabel("$\\alpha = P/N$")
    ax.set_ylabel("$\\varepsilon_g$")
    ax.set_title("(b) binary weights, all $2^N$ enumerated (lines: version-space mean)")
    ax.legend(fontsize=5.5, loc="upper right")
    fig.tight_layout()
    save_figure(fig, pdf, png)
