"""Declared against measured resources, per rule: ``make resources``.

Every rule declares ``threads``, ``mem_mb`` and ``runtime`` (minutes) for its paper-scale
job; a cluster kills a job that uses more memory or time than it asked for. This tool
puts the declarations next to what the jobs really used:

- *declared*: what Snakemake would request for each job, read from a forced dry run
  (``snakemake -n --forceall``) of the chosen config — optionally through a profile
  (``--profile profiles/slurm``), whose ``default-resources`` and ``set-resources`` then
  count. Every rule is covered, including rules added later: nothing here names a rule.
- *measured*: maximum resident memory (``max_rss``, MiB) and wall time (``s``) from the
  job's benchmark file (its ``benchmark:`` path, as the dry run prints it).

A rule is flagged when a job's measured memory or time exceeds its declaration, when it
declares no ``mem_mb`` or ``runtime``, or when none of its jobs has a benchmark yet::

    python -m mlreview.report.resources                            # paper config, results/
    python -m mlreview.report.resources --configfile config/offline.yaml
    python -m mlreview.report.resources --profile profiles/slurm   # what the cluster is asked for

The exit status is 1 with ``--strict`` when a rule exceeds its declaration.
"""

from __future__ import annotations

import argparse
import csv
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from mlreview.errors import MlreviewError

#: A job block of Snakemake's dry-run output starts with one of these lines.
_JOB_HEADER = re.compile(r"^(local)?(rule|checkpoint) (\w+):\s*$")
_FIELD = re.compile(r"^\s+(\w+): (.*)$")
#: ``name=value`` items of the ``resources:`` line; a value may contain spaces (``mem=2 GB``).
_RESOURCE = re.compile(r"(\w+)=(.*?)(?=, \w+=|$)")
#: Missing or unmeasured values in a benchmark file.
_MISSING = ("", "-", "NA", "nan")
#: Snakemake caps threads at --cores in a local dry run: ask for more cores than any rule uses.
DRY_RUN_CORES = 1024
#: A rule using more than this share of a declaration is shown as close to its limit.
TIGHT = 0.8


@dataclass
class Job:
    """One job of the dry run: its rule, declared resources and benchmark file."""

    rule: str
    local: bool = False
    threads: int = 1
    resources: dict[str, str] = field(default_factory=dict)
    wildcards: str = ""
    benchmark: str | None = None
    output: str | None = None
    shell: str | None = None


def parse_dry_run(text: str) -> list[Job]:
    """The jobs of ``snakemake -n`` output (the job blocks, in print order)."""
    jobs: list[Job] = []
    current: Job | None = None
    for line in text.splitlines():
        header = _JOB_HEADER.match(line)
        if header:
            current = Job(rule=header.group(3), local=bool(header.group(1)))
            jobs.append(current)
            continue
        if line.startswith("Shell command: ") and jobs:
            jobs[-1].shell = line.removeprefix("Shell command: ")  # printed right after its job
            continue
        if current is None:
            continue
        item = _FIELD.match(line)
        if not item:
            current = None  # the block ended (timestamp, job stats, blank line)
            continue
        key, value = item.groups()
        if key == "threads":
            current.threads = int(value)
        elif key == "resources":
            current.resources = {k: v.strip() for k, v in _RESOURCE.findall(value)}
        elif key == "wildcards":
            current.wildcards = value
        elif key == "benchmark":
            current.benchmark = value
        elif key == "output":
            current.output = value
    return jobs


def read_benchmark(path: Path) -> dict | None:
    """Wall time ``s`` and ``max_rss`` (MiB, None when unmeasured) of a benchmark file.

    Snakemake writes one row per repetition; the largest values count.
    """
    path = Path(path)
    if not path.is_file():
        return None
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    if not rows:
        return None
    seconds = [float(r["s"]) for r in rows if r.get("s") not in _MISSING]
    rss = [float(r["max_rss"]) for r in rows if r.get("max_rss") not in _MISSING]
    if not seconds:
        return None
    return {"s": max(seconds), "max_rss": max(rss) if rss else None}


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None  # <TBD> (depends on input sizes) or a non-numeric resource


def _span(values: list[float]) -> str:
    if not values:
        return "—"
    low, high = min(values), max(values)
    return f"{low:g}" if low == high else f"{low:g}–{high:g}"


def summarise(jobs: list[Job], root: Path = Path(".")) -> list[dict]:
    """One row per rule: declared threads/mem_mb/runtime against the measured maxima.

    Benchmark paths are relative to ``root`` (the folder the dry run ran in). Rules without
    an output (``all``) are left out.
    """
    rules: dict[str, list[Job]] = {}
    for job in jobs:
        if job.output is None:
            continue  # a target rule such as `all`: no command, nothing to declare
        rules.setdefault(job.rule, []).append(job)
    rows = []
    for rule, members in rules.items():
        mem = [m for j in members if (m := _number(j.resources.get("mem_mb"))) is not None]
        runtime = [t for j in members if (t := _number(j.resources.get("runtime"))) is not None]
        measured, over_mem, over_time, mem_share, time_share = 0, 0, 0, [], []
        max_rss, max_s = None, None
        for job in members:
            bench = read_benchmark(root / job.benchmark) if job.benchmark else None
            if bench is None:
                continue
            measured += 1
            max_s = bench["s"] if max_s is None else max(max_s, bench["s"])
            if bench["max_rss"] is not None:
                max_rss = bench["max_rss"] if max_rss is None else max(max_rss, bench["max_rss"])
            declared_mem = _number(job.resources.get("mem_mb"))
            declared_min = _number(job.resources.get("runtime"))
            if declared_mem and bench["max_rss"] is not None:
                mem_share.append(bench["max_rss"] / declared_mem)
                over_mem += bench["max_rss"] > declared_mem
            if declared_min:
                time_share.append(bench["s"] / (60 * declared_min))
                over_time += bench["s"] > 60 * declared_min
        flags = []
        if over_mem:
            flags.append(f"MEMORY exceeded ({over_mem} job{'s' * (over_mem > 1)})")
        if over_time:
            flags.append(f"RUNTIME exceeded ({over_time} job{'s' * (over_time > 1)})")
        undeclared = [name for name, got in (("mem_mb", mem), ("runtime", runtime)) if len(got) < len(members)]
        if undeclared:
            flags.append("no " + ", ".join(undeclared) + " declared")
        has_benchmark = any(j.benchmark for j in members)
        if not measured and has_benchmark:
            flags.append("not measured yet")
        elif not has_benchmark:
            flags.append("no benchmark file")
        if not flags and (max(mem_share, default=0) > TIGHT or max(time_share, default=0) > TIGHT):
            flags.append(f"ok (above {TIGHT:.0%} of a declaration)")
        rows.append(
            {
                "rule": rule,
                "local": all(j.local for j in members),
                "jobs": len(members),
                "measured": measured,
                "threads": _span([j.threads for j in members]),
                "mem_mb": _span(mem),
                "runtime_min": _span(runtime),
                "gpu": _span([g for j in members if (g := _number(j.resources.get("gpu"))) is not None]),
                "max_rss_mb": max_rss,
                "max_s": max_s,
                "mem_use": max(mem_share) if mem_share else None,
                "time_use": max(time_share) if time_share else None,
                "exceeded": bool(over_mem or over_time),
                "status": "; ".join(flags) or "ok",
            }
        )
    return sorted(rows, key=lambda r: (not r["exceeded"], r["rule"]))


COLUMNS = (
    ("rule", "rule"),
    ("jobs", "jobs"),
    ("threads", "threads"),
    ("mem_mb", "mem_mb"),
    ("runtime_min", "runtime (min)"),
    ("gpu", "gpu"),
    ("max_rss_mb", "max RSS (MiB)"),
    ("mem_use", "of mem_mb"),
    ("max_s", "max wall (s)"),
    ("time_use", "of runtime"),
    ("status", "status"),
)


def _format(key: str, value) -> str:
    if value is None:
        return "—"
    if key in ("mem_use", "time_use"):
        return f"{value:.0%}"
    if key == "max_rss_mb":
        return f"{value:.0f}"
    if key == "max_s":
        return f"{value:.1f}"
    if key == "rule":
        return str(value)
    return str(value)


def to_markdown(rows: list[dict]) -> str:
    lines = [
        "| " + " | ".join(title for _, title in COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
    ]
    for row in rows:
        cells = [_format(key, row[key]) for key, _ in COLUMNS]
        if row["local"]:
            cells[0] += " (local)"
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def to_text(rows: list[dict]) -> str:
    table = [[title for _, title in COLUMNS]]
    for row in rows:
        cells = [_format(key, row[key]) for key, _ in COLUMNS]
        if row["local"]:
            cells[0] += " (local)"
        table.append(cells)
    widths = [max(len(r[i]) for r in table) for i in range(len(COLUMNS) - 1)]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(r[:-1], widths)) + "  " + r[-1] for r in table
    ) + "\n"


def snakemake_program() -> str:
    """The ``snakemake`` beside this interpreter (the project's .venv), else the one on PATH."""
    beside = Path(sys.executable).parent / "snakemake"
    return str(beside) if beside.exists() else "snakemake"


def dry_run(root: Path, configfiles: list[str], profile: str | None, snakemake: str | None = None) -> str:
    """The text of a forced dry run of every job (the declared resources of each)."""
    snakemake = snakemake or snakemake_program()
    argv = [snakemake, "-n", "--forceall", "--nolock", "--printshellcmds", "--cores", str(DRY_RUN_CORES)]
    if configfiles:
        argv += ["--configfile", *configfiles]
    argv += ["--workflow-profile", profile or "none"]
    try:
        proc = subprocess.run(argv, cwd=root, capture_output=True, text=True, timeout=600)
    except FileNotFoundError:
        raise MlreviewError(f"{snakemake!r} is not on PATH: run `make install` and use the project's .venv") from None
    if proc.returncode != 0:
        raise MlreviewError(f"`{' '.join(argv)}` failed:\n{(proc.stdout + proc.stderr)[-3000:]}")
    return proc.stdout + proc.stderr


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mlreview.report.resources",
        description="Declared threads/mem_mb/runtime per rule against the measured use in its benchmark files.",
    )
    parser.add_argument("--configfile", nargs="*", default=[], help="config file(s) on top of config/config.yaml")
    parser.add_argument("--profile", default=None, help="read the declarations through this profile folder")
    parser.add_argument("--root", type=Path, default=Path("."), help="the project folder (default: here)")
    parser.add_argument("--format", choices=("text", "markdown"), default="text")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a rule exceeds a declaration")
    args = parser.parse_args(argv)
    try:
        jobs = parse_dry_run(dry_run(args.root, args.configfile, args.profile))
    except MlreviewError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if not jobs:
        print("error: the dry run listed no jobs", file=sys.stderr)
        return 2
    rows = summarise(jobs, args.root)
    print((to_markdown if args.format == "markdown" else to_text)(rows), end="")
    exceeded = [r["rule"] for r in rows if r["exceeded"]]
    measured = sum(r["measured"] for r in rows)
    print(f"\n{len(rows)} rules, {sum(r['jobs'] for r in rows)} jobs, {measured} with a benchmark file; "
          f"{len(exceeded)} rule(s) exceed a declaration{': ' + ', '.join(exceeded) if exceeded else ''}.")
    return 1 if args.strict and exceeded else 0


if __name__ == "__main__":
    sys.exit(main())
