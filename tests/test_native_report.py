"""Snakemake's own report: categories in the review's order, captions from the registry."""

from mlreview.report import native
from mlreview.report.claims import figure_stem, load_registry


def test_categories_follow_the_review_and_come_after_the_overview(root):
    figures, _ = load_registry(sorted((root / "workflow/report/sections").glob("*.yaml")))
    sections = {str(f["section"]) for f in figures}
    names = [native.category(s) for s in sections]
    assert all(n.startswith("Section ") and "Section beyond" not in n for n in names), names
    ordered = sorted(names)
    numbers = [int(n.split()[1].rstrip(":")) for n in ordered]
    assert numbers == sorted(numbers) and numbers[-1] == 20
    assert native.category("VII") == "Section 07 (VII): Logistic regression"
    assert sorted([native.OVERVIEW, *names])[0] == native.OVERVIEW


def test_caption_escapes_markup_and_lists_deviations_and_claims(root):
    figures, claims = load_registry(sorted((root / "workflow/report/sections").glob("*.yaml")))
    fig = next(f for f in figures if f.get("number") == 21)
    text = native.caption_rst(fig, claims)
    assert text.startswith("**Fig 21: ")
    assert "Claims of the review checked on this figure" in text
    assert native.rst_text("a_b *c* [x]") == r"a\_b \*c\* \[x\]"
    project = next(f for f in figures if f.get("number") is None)
    assert "a figure of this project, not of the review" in native.caption_rst(project, claims)


def test_report_captions_writes_one_file_per_figure(root, tmp_path):
    sections = sorted((root / "workflow/report/sections").glob("*.yaml"))
    out = tmp_path / "captions"
    native.report_captions({}, sections=[str(p) for p in sections], captions=str(out))
    figures, _ = load_registry(sections)
    assert sorted(p.stem for p in out.glob("*.rst")) == sorted(figure_stem(f) for f in figures)
    assert not list(out.glob("*.tmp"))
    assert native.label({"number": 21}) == "Fig 21"
    assert native.label({"number": None, "name": "ising_validation"}) == "Project figure ising_validation"



def test_no_internal_tags_in_the_report_captions(root):
    """A reader sees words, not the spec's '[decision x]' or '[spec ...]' tags."""
    figures, claims = load_registry(sorted((root / "workflow/report/sections").glob("*.yaml")))
    for fig in figures:
        text = native.caption_rst(fig, claims)
        for tag in (r"\[decision", r"\[spec", r"\[proposed", r"\[review\]"):
            assert tag not in text, (figure_stem(fig), tag)


def test_no_internal_tags_in_the_config_or_the_registry(root):
    """Config comments and registry text cite nothing outside the repository."""
    import re

    files = [*sorted((root / "config").glob("*.yaml")), *sorted((root / "workflow/report/sections").glob("*.yaml"))]
    for path in files:
        text = path.read_text()
        assert not re.search(r"\[(decision|spec|proposed|review|notebook)\b", text), path
        assert "shared/spec" not in text, path


def test_a_caption_that_starts_like_a_list_stays_one_paragraph():
    """'(a) ...' or '1. ...' at the start of a caption would become an enumerated list in the
    report (and lose its '(a)'); the caption keeps its words."""
    from docutils.core import publish_parts

    for start in ("(a) panel one; (b) panel two", "1. first", "a) first", "- dash"):
        fig = {"number": None, "name": "demo", "section": "learning_theory", "title": "Demo", "caption": start}
        body = publish_parts(native.caption_rst(fig, []), writer_name="html")["body"]
        assert "<ol" not in body and "<ul" not in body, (start, body)
        assert start.split()[0] in body, (start, body)
