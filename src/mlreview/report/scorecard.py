"""The scorecard: every registered claim, its review value, our value, and a status."""

from __future__ import annotations

import csv
import io
import logging
from collections import Counter
from pathlib import Path

from mlreview.cli import as_list
from mlreview.io import atomic_path, load_json
from mlreview.report.claims import COLUMNS, STATUSES, evaluate, load_registry

log = logging.getLogger(__name__)


def build_rows(section_files: list[Path], metrics_files: list[Path]) -> list[dict[str, str]]:
    """Evaluate every claim against the metrics files given (by stem, e.g. fig07)."""
    _, claims = load_registry(section_files)
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


def scorecard_step(params, *, sections, metrics, csv: Path, md: Path) -> None:
    rows = build_rows(as_list(sections), as_list(metrics))
    counts = summary(rows)
    log.info("scorecard: %d claims: %s", len(rows), counts)
    for row in rows:
        if row["status"] == "fail":
            log.warning("claim %s fails: %s", row["claim_id"], row["evidence"])
    with atomic_path(csv) as tmp:
        tmp.write_text(to_csv(rows))
    with atomic_path(md) as tmp:
        tmp.write_text(to_markdown(rows))
