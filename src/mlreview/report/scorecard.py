"""The scorecard: every registered claim, its review value, our value, and a status."""

from __future__ import annotations

import csv
import io
import logging
from collections import Counter
from pathlib import Path

from mlreview.errors import MlreviewError
from mlreview.io import as_list, atomic_path, load_json
from mlreview.report.claims import COLUMNS, STATUSES, evaluate, load_registry
from mlreview.steps import step

log = logging.getLogger(__name__)


def build_rows(
    section_files: list[Path], metrics_files: list[Path], figures: list[str] | None = None
) -> list[dict[str, str]]:
    """Evaluate every claim against the metrics files given (by stem, e.g. fig07).

    ``figures`` (figure keys as claims write them: ``"21"``, ``"ising_validation"``) keeps
    only the claims about those figures: the scorecard of one part of the DAG.
    """
    _, claims = load_registry(section_files)
    if figures is not None:
        wanted = {str(f) for f in figures}
        claims = [c for c in claims if str(c.figure) in wanted]
        if not claims:
            raise MlreviewError(f"no registered claim is about figure(s) {sorted(wanted)}")
    metrics = {Path(p).stem: load_json(p)["metrics"] for p in metrics_files if Path(p).exists()}
    return [evaluate(claim, metrics.get(claim.metrics)) for claim in claims]


def to_csv(rows: list[dict[str, str]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def summary(rows: list[dict[str, str]]) -> dict[str, int]:
    counts = Counter(row["status"] for row in rows)
    return {status: counts.get(status, 0) for status in STATUSES}


def to_markdown(rows: list[dict[str, str]]) -> str:
    counts = summary(rows)
    lines = [
        "# Scorecard",
        "",
        "Every quantitative or qualitative claim of the review that the project reproduces, with the value",
        "the review states and the value measured here. `qualitative` claims are judged through a proxy that",
        "is a project choice (see the evidence column).",
        "",
        "Status counts: " + ", ".join(f"{k} {v}" for k, v in counts.items()),
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
    ]
    for row in rows:
        cells = [str(row[c]).replace("|", "\\|").replace("\n", " ") for c in COLUMNS]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


@step
def scorecard(params, *, sections, metrics, csv: Path, md: Path) -> None:
    """The scorecard of every claim (``results/scorecard.{csv,md}``)."""
    write_scorecard(sections, metrics, None, csv, md)


@step
def figure_scorecard(params, *, sections, metrics, csv: Path, md: Path) -> None:
    """The scorecard of the claims about the figures ``params["figures"]`` (one figure's
    ``results/scorecards/<figure>.{csv,md}``)."""
    write_scorecard(sections, metrics, params["figures"], csv, md)


def write_scorecard(sections, metrics, figures, csv: Path, md: Path) -> None:
    """Evaluate the claims (all, or those about ``figures``) and write the CSV and Markdown tables."""
    rows = build_rows(as_list(sections), as_list(metrics), figures)
    counts = summary(rows)
    log.info("scorecard: %d claims: %s", len(rows), counts)
    for row in rows:
        if row["status"] == "fail":
            log.warning("claim %s fails: %s", row["claim_id"], row["evidence"])
    with atomic_path(csv) as tmp:
        tmp.write_text(to_csv(rows))
    with atomic_path(md) as tmp:
        tmp.write_text(to_markdown(rows))
