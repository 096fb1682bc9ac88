"""A self-contained HTML report: every figure with its caption, parameters, claims,
the scorecard, and where the run time goes (from the rules' benchmark files)."""

from __future__ import annotations

import base64
import html
import json
import logging
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

from mlreview.io import as_list, atomic_path, load_json
from mlreview.provenance import git_commit
from mlreview.report.claims import figure_key, figure_stem, load_datasets, load_registry
from mlreview.report.resources import read_benchmark
from mlreview.report.scorecard import read_csv, summary
from mlreview.steps import step

log = logging.getLogger(__name__)

CSS = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
figure{margin:1em 0}figure img{max-width:100%;border:1px solid #eee}
table{border-collapse:collapse;font-size:.85em;margin:.5em 0}
td,th{border:1px solid #ccc;padding:.25em .5em;vertical-align:top;text-align:left}
th{background:#f4f4f4}.pass{background:#e3f6e3}.fail{background:#fbe1e1}
.qualitative{background:#eef3fb}.not_run{background:#f2f2f2}
.params{font-family:monospace;font-size:.8em;white-space:pre-wrap;background:#fafafa;padding:.5em}
.deviation{color:#8a4b00}
.scroll{overflow-x:auto;max-width:100%}
"""


#: How the report names the source recorded in a figure's metrics (``source`` key).
DATA_SOURCES = {
    "toy": "the project's SUSY physics stand-in generator (mlreview.data.susy_toy), NOT the UCI data set",
    "uci": "the UCI SUSY data set (Baldi, Sadowski & Whiteson 2014)",
}


def flatten(obj, prefix: str = "") -> list[tuple[str, str]]:
    """Key = value lines of a nested params dict (long lists shortened)."""
    items: list[tuple[str, str]] = []
    if isinstance(obj, dict):
        for key, value in obj.items():
            items += flatten(value, f"{prefix}.{key}" if prefix else str(key))
    else:
        text = json.dumps(obj)
        items.append((prefix, text if len(text) <= 120 else text[:117] + "..."))
    return items


def unconverged(obj, prefix: str = "") -> list[str]:
    """Where a metrics dict records a fit that did not converge: ``converged: false``,
    ``convergence_warning: true`` or ``convergence_warnings: N > 0`` (key paths, '/'-separated)."""
    found: list[str] = []
    if isinstance(obj, dict):
        if obj.get("converged") is False or obj.get("convergence_warning") is True:
            found.append(prefix or "(top level)")
        warnings_ = obj.get("convergence_warnings")
        if isinstance(warnings_, int) and not isinstance(warnings_, bool) and warnings_ > 0:
            found.append(f"{prefix}/convergence_warnings = {warnings_}" if prefix else f"convergence_warnings = {warnings_}")
        for key, value in obj.items():
            if isinstance(value, dict):
                found += unconverged(value, f"{prefix}/{key}" if prefix else str(key))
    return found


def benchmark_table(folder: Path) -> list[dict]:
    """Wall time per rule, aggregated over the benchmark files under ``folder``."""
    per_rule: dict[str, list[dict]] = defaultdict(list)
    for path in sorted(Path(folder).glob("*/*.tsv")):
        bench = read_benchmark(path)
        if bench is not None:
            per_rule[path.parent.name].append(bench)
    table = []
    for rule, rows in per_rule.items():
        seconds = [r["s"] for r in rows]
        rss = [r["max_rss"] for r in rows if r["max_rss"] is not None]
        table.append(
            {
                "rule": rule,
                "jobs": len(rows),
                "total_s": sum(seconds),
                "max_s": max(seconds),
                "max_rss_mb": max(rss) if rss else None,
            }
        )
    return sorted(table, key=lambda r: -r["total_s"])


def _label(fig: dict) -> str:
    return f"Fig. {fig['number']}" if fig.get("number") is not None else f"Project figure <i>{html.escape(fig['name'])}</i>"


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return "—" if value is None else str(value)


def lookup_rows(metrics: dict, key: str) -> list[dict]:
    rows = metrics.get(key, [])
    return rows if isinstance(rows, list) else []


def _table(header: list[str], rows: list[list[str]], classes: list[str] | None = None) -> str:
    out = ["<div class='scroll'><table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr>"]
    for i, row in enumerate(rows):
        cls = f' class="{classes[i]}"' if classes else ""
        out.append(f"<tr{cls}>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>")
    return "\n".join(out) + "</table></div>"


def render(
    figures: list[dict],
    datasets: list[dict],
    pngs: dict[str, Path],
    metrics: dict[str, dict],
    rows: list[dict[str, str]],
    bench: list[dict],
    config: dict,
) -> str:
    git = git_commit()
    counts = summary(rows)
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        "<title>mlreview: reproduction report</title>",
        f"<style>{CSS}</style></head><body>",
        "<h1>Reproducing Mehta et al., <i>A high-bias, low-variance introduction to Machine Learning for"
        " physicists</i> (Phys. Rep. 810, 2019)</h1>",
        f"<p>Built {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC from commit <code>{html.escape(str(git['commit']))}"
        f"</code>{' (with uncommitted changes)' if git['dirty'] else ''}; results folder "
        f"<code>{html.escape(str(config.get('results', '')))}</code>.</p>",
        "<p>Scorecard: " + ", ".join(f"<b>{v}</b> {k}" for k, v in counts.items()) + ". "
        "<a href='#scorecard'>Full scorecard</a> · <a href='#datasets'>Data sets</a> · <a href='#runtime'>Run times</a> · "
        "<a href='#config'>Configuration</a></p>",
        "<h2>Figures</h2><ul>",
    ]
    for fig in figures:
        n_flags = len(unconverged(metrics.get(fig["metrics"], {}).get("metrics", {})))
        note = f" <span class='fail'>({n_flags} fit(s) not converged)</span>" if n_flags else ""
        parts.append(f"<li><a href='#{figure_stem(fig)}'>{_label(fig)}</a>: {html.escape(fig['title'])}{note}</li>")
    parts.append("</ul>")
    if datasets:
        parts.append("<h2 id='datasets'>Data sets</h2>")
        for entry in datasets:
            numbers = metrics.get(entry["metrics"], {}).get("metrics", {})
            lines = "\n".join(f"{k} = {v}" for k, v in flatten(numbers))
            parts.append(f"<h3>{html.escape(entry['title'])}</h3><p>{html.escape(entry['description'])}</p>")
            parts.append(f"<details><summary>Numbers ({html.escape(entry['metrics'])}.json)</summary>"
                         f"<div class='params'>{html.escape(lines)}</div></details>")
    by_figure = defaultdict(list)
    for row in rows:
        by_figure[row["figure"]].append(row)
    for fig in figures:
        key = figure_stem(fig)
        parts.append(f"<h2 id='{key}'>{_label(fig)} — {html.escape(fig['title'])}</h2>")
        parts.append(f"<p>Section {html.escape(str(fig['section']))} · {html.escape(fig['kind'])}</p>")
        if key in pngs:
            data = base64.b64encode(Path(pngs[key]).read_bytes()).decode()
            parts.append(f"<figure><img alt='{_label(fig)}' src='data:image/png;base64,{data}'></figure>")
        else:
            parts.append("<p><b>Figure not built.</b></p>")
        parts.append(f"<p>{html.escape(fig['caption'])}</p>")
        source = metrics.get(fig["metrics"], {}).get("metrics", {}).get("source")
        if source in DATA_SOURCES:
            parts.append(f"<p class='deviation'><b>Data source:</b> {html.escape(DATA_SOURCES[source])}.</p>")
        flags = unconverged(metrics.get(fig["metrics"], {}).get("metrics", {}))
        if flags:
            parts.append(
                f"<p class='fail'><b>Not converged</b> ({len(flags)} fit(s) in {html.escape(fig['metrics'])}.json): "
                + html.escape("; ".join(flags)) + "</p>"
            )
        for deviation in fig.get("deviations") or []:
            parts.append(f"<p class='deviation'>Deviation from the review: {html.escape(deviation)}</p>")
        table = fig.get("table")
        if table:
            rows_t = lookup_rows(metrics.get(fig["metrics"], {}).get("metrics", {}), table["rows"])
            cols_t = table["columns"]
            parts.append(_table(cols_t, [[_cell(r.get(c)) for c in cols_t] for r in rows_t]))
        claim_rows = by_figure.get(figure_key(fig), [])
        if claim_rows:
            parts.append(
                _table(
                    ["claim", "quantity", "review", "reproduced", "tolerance", "status", "evidence"],
                    [
                        [r["claim_id"], r["quantity"], r["review_value"], r["reproduced_value"], r["tolerance"],
                         r["status"], r["evidence"]]
                        for r in claim_rows
                    ],
                    [r["status"] for r in claim_rows],
                )
            )
        prov = metrics.get(fig["metrics"], {}).get("provenance")
        if prov:
            lines = "\n".join(f"{k} = {v}" for k, v in flatten(prov["params"]))
            parts.append(
                f"<details><summary>Parameters (step <code>{html.escape(prov['step'])}</code>, "
                f"{prov['wall_time_s']:.2f} s)</summary><div class='params'>{html.escape(lines)}</div></details>"
            )
    parts.append("<h2 id='scorecard'>Scorecard</h2>")
    parts.append(
        "<p>Status <i>qualitative</i>: the claim is judged through a proxy that is a project choice; the"
        " evidence column says what was measured.</p>"
    )
    cols = ["claim_id", "figure", "quantity", "review_value", "reproduced_value", "tolerance", "status", "evidence"]
    parts.append(_table(cols, [[r[c] for c in cols] for r in rows], [r["status"] for r in rows]))
    parts.append("<h2 id='runtime'>Where the time goes</h2>")
    parts.append("<p>Wall-clock time per rule, summed over its jobs (from the rules' benchmark files).</p>")
    parts.append(
        _table(
            ["rule", "jobs", "total s", "max s", "max RSS (MB)"],
            [
                [b["rule"], b["jobs"], f"{b['total_s']:.2f}", f"{b['max_s']:.2f}",
                 "—" if b["max_rss_mb"] is None else f"{b['max_rss_mb']:.0f}"]
                for b in bench
            ],
        )
    )
    parts.append("<h2 id='config'>Configuration</h2>")
    parts.append(f"<div class='params'>{html.escape(json.dumps(config, indent=1))}</div>")
    parts.append("</body></html>")
    return "\n".join(parts)


@step
def report(params, *, sections, metrics, figures, scorecard: Path, html: Path) -> None:
    """The project's HTML page (results/report.html): every figure with its caption, parameters,
    deviations and claims, the scorecard, the data sets and the run time of every rule."""
    figure_entries, _ = load_registry(as_list(sections))
    datasets = load_datasets(as_list(sections))
    pngs = {Path(p).stem: Path(p) for p in as_list(figures)}
    metrics_by_name = {Path(p).stem: load_json(p) for p in as_list(metrics)}
    rows = read_csv(scorecard)
    bench = benchmark_table(Path(params["benchmarks"]))
    text = render(figure_entries, datasets, pngs, metrics_by_name, rows, bench, params.get("config", {}))
    with atomic_path(html) as tmp:
        tmp.write_text(text)
    log.info("report: %d figures, %d claims, %d rules timed", len(figure_entries), len(rows), len(bench))
