"""Figs 1-3: polynomial fits on the training range and their predictions on the test range.

One row per generating function; left column the training data with the fitted curves on
the training range, right column the test data with the predictions on the test range.
Reads only the ``.npz`` written by :func:`mlreview.sections.polynomial.fit.fit_step`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mlreview.figures import style
from mlreview.io import load_npz
from mlreview.steps import step

_WIDTH = style.RC["lines.linewidth"]
_WIDEN = 0.4  # relative extra width per degree below the highest one

_SUPERSCRIPTS = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def polynomial_label(coefficients) -> str:
    """Readable formula of a polynomial given in increasing powers: ``2x − 10x⁵ + 15x¹⁰``."""
    terms = []
    for power, c in enumerate(coefficients):
        c = float(c)
        if c == 0:
            continue
        mag = abs(c)
        coef = "" if (mag == 1 and power > 0) else f"{mag:g}"
        var = "" if power == 0 else ("x" if power == 1 else "x" + str(power).translate(_SUPERSCRIPTS))
        sign = "−" if c < 0 else "+"
        terms.append((sign, coef + var))
    if not terms:
        return "0"
    first_sign, first = terms[0]
    text = ("−" if first_sign == "−" else "") + first
    for sign, term in terms[1:]:
        text += f" {sign} {term}"
    return text


def y_limits(true_values: np.ndarray, sigma: float) -> tuple[float, float]:
    """Range of the true f on the plotted interval, widened by 3 sigma + 1 on each side."""
    pad = 3.0 * sigma + 1.0
    return float(np.min(true_values) - pad), float(np.max(true_values) + pad)


def _degree_color(degree: int, index: int) -> str:
    return style.COLORS.get(f"degree{degree}", style.CYCLE[index % len(style.CYCLE)])


@step
def polynomial_plot(params: dict, *, data: Path, pdf: Path, png: Path) -> None:
    """Draw the figure from the ``.npz`` of the fit step."""
    arrays = load_npz(data)
    names = [str(n) for n in arrays["functions"]]
    degrees = [int(d) for d in arrays["degrees"]]
    sigma = float(arrays["sigma"])
    train_max = float(arrays["train_range"][1])
    n_train, n_test = arrays["x_train"].size, arrays["x_test"].size
    # Many training points (Fig 3) are drawn small and translucent so the curves stay visible.
    dense = n_train > 10 * n_test
    # Few points are drawn above the curves, many points underneath them.
    test_marker = dict(s=14, alpha=0.9, zorder=10)
    train_marker = dict(s=1.0, alpha=0.25, rasterized=True, zorder=2) if dense else test_marker

    fig, axes = style.figure(len(names), 2, width=style.PAGE_WIDTH, height=2.7 * len(names))
    axes = np.atleast_2d(axes)
    for row, name in enumerate(names):
        label = polynomial_label(params["functions"][name]) if name in params.get("functions", {}) else name
        panels = (
            ("x_train", f"y_train_{name}", "x_fit", f"true_fit_{name}", "fit", "train", n_train, train_marker),
            ("x_test", f"y_test_{name}", "x_pred", f"true_pred_{name}", "pred", "test", n_test, test_marker),
        )
        for col, (xk, yk, gk, tk, prefix, what, n, marker) in enumerate(panels):
            ax = axes[row, col]
            ax.scatter(arrays[xk], arrays[yk], color=style.COLORS["data"], label="data", **marker)
            ax.plot(arrays[gk], arrays[tk], color=style.COLORS["truth"], lw=0.8, label="true f", zorder=3)
            for i, d in enumerate(degrees):
                ax.plot(
                    arrays[gk],
                    arrays[f"{prefix}_{name}_deg{d}"],
                    color=_degree_color(d, i),
                    label=f"degree {d}",
                    # Lower degrees drawn wider and underneath, so curves that coincide
                    # (noiseless linear data) all stay visible.
                    lw=_WIDTH * (1.0 + _WIDEN * (len(degrees) - 1 - i)),
                    zorder=4 + i,
                )
            if what == "test":
                ax.axvline(train_max, color=style.COLORS["truth"], ls=":", lw=0.8, label="end of training range")
                key = f"x_break_{name}"
                if key in arrays and np.isfinite(arrays[key]):
                    ax.axvline(
                        float(arrays[key]),
                        color=_degree_color(
                            int(arrays["extrapolation_degree"]), degrees.index(int(arrays["extrapolation_degree"]))
                        ),
                        ls="--",
                        lw=0.8,
                        label=f"x_break = {float(arrays[key]):.3f} (|error| > σ)",
                    )
            ax.set_xlim(arrays[gk][0], arrays[gk][-1])
            ax.set_ylim(*y_limits(arrays[tk], sigma))
            ax.set_xlabel("x")
            ax.set_ylabel("y")
            ax.set_title(f"f(x) = {label}\n{what}: N = {n}, σ = {sigma:g}")
    fig.tight_layout()
    # One legend for the whole figure, above the panels (entries de-duplicated across panels).
    handles, labels = style.legend_entries(axes.flat, last_wins=True)  # the last panel's (opaque test markers)
    fig.legend(
        handles,
        labels,
        loc="lower center",
        bbox_to_anchor=(0.5, 1.0),
        ncol=len(labels),
        handlelength=1.5,
        markerscale=1.5,
    )
    style.save_figure(fig, pdf, png)
