"""Snakemake's own report (``snakemake --report``): the captions and categories of its figures.

Every registered figure's PNG is a report item (``step_rules()`` in workflow/rules/common.smk flags
it); its category is the review section it belongs to (:func:`category`) and its caption the
registry's caption, deviations and claims, written by the step :func:`report_captions` to one
reStructuredText file per figure (``<results>/report/captions/<figure>.rst``), which the caption
template ``workflow/report/figure.rst`` includes. The scorecard CSV and the project's own HTML page are report items too (category
:data:`OVERVIEW`).

The Snakefile imports this module while it is parsed: it needs nothing beyond what Snakemake itself
has (the standard library and yaml); the step imports the rest when it runs.
"""

from __future__ import annotations

import re
from pathlib import Path

from mlreview.report.claims import figure_key, figure_stem, load_registry
from mlreview.steps import step

#: The review's sections (Mehta et al., Phys. Rep. 810, 2019): number, roman numeral, title.
REVIEW_SECTIONS = {
    "I": (1, "Introduction"),
    "II": (2, "Why is machine learning difficult?"),
    "III": (3, "Basics of statistical learning theory"),
    "IV": (4, "Gradient descent and its generalizations"),
    "V": (5, "Overview of Bayesian inference"),
    "VI": (6, "Linear regression"),
    "VII": (7, "Logistic regression"),
    "VIII": (8, "Combining models"),
    "IX": (9, "Feed-forward deep neural networks"),
    "X": (10, "Convolutional neural networks"),
    "XI": (11, "High-level concepts in deep neural networks"),
    "XII": (12, "Dimensional reduction and data visualization"),
    "XIII": (13, "Clustering"),
    "XIV": (14, "Variational methods and mean-field theory"),
    "XV": (15, "Energy-based models: MaxEnt, generative models and Boltzmann learning"),
    "XVI": (16, "Deep generative models: hidden variables and restricted Boltzmann machines"),
    "XVII": (17, "Variational autoencoders and generative adversarial networks"),
    "XVIII": (18, "Conclusions and outlook"),
}

#: The project's sections beyond the review (section key in the registry: title), shown after the
#: review's eighteen sections.
BEYOND = {
    "beyond the review, part 1": (19, "Beyond the review, part 1: the statistical physics of learning"),
    "beyond the review, part 2": (20, "Beyond the review, part 2: associative memory and glassy landscapes"),
}

#: The category of the scorecard and the project's HTML page (sorted before the sections).
OVERVIEW = "Overview: scorecard and the project's report page"


def category(section: str) -> str:
    """The report category of a review section: ``Section 07 (VII): Logistic regression``.

    Snakemake's report sorts categories alphabetically: the zero-padded number keeps the review's order.
    """
    if str(section) in BEYOND:
        number, title = BEYOND[str(section)]
        return f"Section {number:02d}: {title} (project figures)"
    number, title = REVIEW_SECTIONS.get(str(section), (0, ""))
    if not number:
        return f"Section {section}"
    return f"Section {number:02d} ({section}): {title}"


def label(fig: dict) -> str:
    """``Fig 21`` for a review figure, ``Project figure ising_validation`` otherwise."""
    return f"Fig {fig['number']}" if fig.get("number") is not None else f"Project figure {fig['name']}"


def kind(fig: dict) -> str:
    """The subcategory of a figure in the report: a figure of the review, or one of this project."""
    return "Figures of the review" if fig.get("number") is not None else "Project figures"


#: the start of a paragraph that reStructuredText would read as a list item ("(a) ...", "1. ...", "- ...")
LIST_START = re.compile(r"(\(?[0-9a-zA-Z#]{1,3}[.)]|[-+\u2022]) ")


def rst_text(text: str) -> str:
    """Plain text as reStructuredText: one paragraph, markup characters escaped (and a leading
    "(a) " or "1. ", which would start an enumerated list, escaped too)."""
    text = " ".join(str(text).split())
    text = re.sub(r"([\\*`|_<>\[\]])", r"\\\1", text)
    return "\\" + text if LIST_START.match(text) else text


def caption_rst(fig: dict, claims: list) -> str:
    """The caption of one figure in the report: title, caption, deviations from the review, claims."""
    kind = "a figure of the review" if fig.get("number") is not None else "a figure of this project, not of the review"
    lines = [
        f"**{rst_text(label(fig))}: {rst_text(fig['title'])}** ({kind}; {rst_text(category(fig['section']))})",
        "",
        rst_text(fig["caption"]),
        "",
    ]
    deviations = fig.get("deviations") or []
    if deviations:
        lines += ["**Deviations from the review**", ""]
        lines += [f"- {rst_text(d)}" for d in deviations]
        lines.append("")
    mine = [c for c in claims if str(c.figure) == figure_key(fig)]
    if mine:
        lines += ["**Claims of the review checked on this figure** (their status: the scorecard, under Overview)", ""]
        seen = set()
        for claim in mine:
            if claim.id not in seen:
                seen.add(claim.id)
                lines.append(f"- {claim.id}: {rst_text(claim.statement)}")
        lines.append("")
    return "\n".join(lines)


@step
def report_captions(params: dict, *, sections, captions) -> None:
    """The caption of every figure in Snakemake's report, one reStructuredText file per figure.

    In the folder ``captions``, ``<figure>.rst`` (fig21.rst) holds the figure's title, caption,
    deviations from the review and the claims checked on it, from the registry."""
    from mlreview.io import as_list

    figures, claims = load_registry(as_list(sections))
    folder = Path(captions)
    folder.mkdir(parents=True, exist_ok=True)
    for fig in figures:
        path = folder / f"{figure_stem(fig)}.rst"
        tmp = path.with_suffix(".rst.tmp")
        tmp.write_text(caption_rst(fig, claims), encoding="utf-8")
        tmp.replace(path)
