"""Where the time of a finished run went: the per-rule table and the critical path, from the
run's benchmark files.

    python -m mlreview.report.benchmarks results/offline               # table, critical path, timeline
    python -m mlreview.report.benchmarks results/small --top 15        # the 15 most expensive rules
    python -m mlreview.report.benchmarks results --no-dag              # the table only (no Snakemake)
    python -m mlreview.report.benchmarks OTHER/results/offline --root OTHER   # another checkout's run

Every rule writes a Snakemake benchmark file per job, ``<results>/benchmarks/<rule>/<job>.tsv``:
wall time ``s``, ``cpu_time`` (user + system seconds of the job's processes) and ``max_rss``
(MiB). The **per-rule table** sums them per rule (jobs, CPU s, wall s, the largest job's wall
time, the largest max RSS), most expensive (CPU) first, with the totals.

The **critical path** is the longest chain of dependent jobs, each counted with its wall time:
no number of cores finishes the run sooner. The dependencies come from the workflow itself:
Snakemake parses the Snakefile of ``--root`` with the config whose ``results:`` is the folder
(``--configfile``, else the file of ``<root>/config/`` that names it) and builds the job DAG of
its default target with every job forced, so a finished run has the same DAG; each job is
matched to its benchmark file. Jobs without a benchmark file (the target, or a job that did not
run) count zero.

The **timeline** uses the files' modification times (a benchmark file is written when its job
ends, so a job ran from ``mtime - s`` to ``mtime``): the elapsed wall time from the first start to
the last end, and how many jobs ran at once on average. It is meaningful for a run made by one
Snakemake call; a run resumed later includes the pause.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

#: columns read from a benchmark file (Snakemake writes a few more)
WALL, CPU, RSS = "s", "cpu_time", "max_rss"
#: missing or unmeasured values in a benchmark file
_MISSING = ("", "-", "NA", "nan")


@dataclass(frozen=True)
class Job:
    """One benchmark file: ``key`` is ``<rule>/<job>`` (its path under ``benchmarks/``, no suffix)."""

    key: str
    rule: str
    wall: float
    cpu: float
    rss: float
    end: float  # the file's modification time (when the job ended)

    @property
    def start(self) -> float:
        return self.end - self.wall


def _number(text: str | None) -> float:
    if text is None or text.strip() in _MISSING:
        return math.nan
    return float(text)


def read_job(path: Path, benchmarks: Path) -> Job:
    """One benchmark file (several rows, from ``repeat``, are summed)."""
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    if not rows:
        raise ValueError(f"{path}: an empty benchmark file")
    key = path.relative_to(benchmarks).with_suffix("").as_posix()
    return Job(key=key, rule=key.split("/", 1)[0], wall=sum(_number(r.get(WALL)) for r in rows),
               cpu=sum(_number(r.get(CPU)) for r in rows), rss=max(_number(r.get(RSS)) for r in rows),
               end=path.stat().st_mtime)


def read_jobs(results: Path) -> list[Job]:
    """Every benchmark file of a run (``<results>/benchmarks/<rule>/**.tsv``)."""
    benchmarks = Path(results) / "benchmarks"
    if not benchmarks.is_dir():
        raise SystemExit(f"{benchmarks} does not exist: give the results folder of a run "
                         "(e.g. results/offline), which holds benchmarks/<rule>/*.tsv")
    return [read_job(p, benchmarks) for p in sorted(benchmarks.rglob("*.tsv"))]


def _sum(values: Iterable[float]) -> float:
    return float(sum(v for v in values if not math.isnan(v)))


def rule_table(jobs: Iterable[Job]) -> list[dict]:
    """Per rule: jobs, CPU s, wall s (sums), the longest job's wall s and the largest max RSS
    (MiB); most CPU first."""
    by_rule: dict[str, list[Job]] = defaultdict(list)
    for job in jobs:
        by_rule[job.rule].append(job)
    rows = [{"rule": rule, "jobs": len(js), "cpu": _sum(j.cpu for j in js), "wall": _sum(j.wall for j in js),
             "max_wall": max(j.wall for j in js), "max_rss": max((j.rss for j in js if not math.isnan(j.rss)),
                                                                 default=math.nan)}
            for rule, js in by_rule.items()]
    return sorted(rows, key=lambda r: (-r["cpu"], r["rule"]))


def critical_path(durations: Mapping[str, float], dependencies: Mapping[str, Iterable[str]]) -> tuple[float, list[str]]:
    """The longest chain of dependent jobs: (its total duration, its jobs from first to last).

    ``dependencies[job]`` are the jobs ``job`` needs; a job missing from ``durations`` counts
    zero. Raises ``ValueError`` on a cycle.
    """
    nodes = set(durations) | set(dependencies) | {d for ds in dependencies.values() for d in ds}
    finish: dict[str, float] = {}
    via: dict[str, str | None] = {}
    state: dict[str, int] = {}

    def visit(node: str) -> float:
        # iterative depth-first search (a DAG of thousands of jobs must not hit the recursion limit)
        stack = [(node, iter(sorted(dependencies.get(node, ()))))]
        state[node] = 1
        while stack:
            current, deps = stack[-1]
            for dep in deps:
                if state.get(dep) == 1:
                    raise ValueError(f"the dependencies have a cycle through {dep!r}")
                if dep not in state:
                    state[dep] = 1
                    stack.append((dep, iter(sorted(dependencies.get(dep, ())))))
                    break
            else:
                stack.pop()
                best = max(dependencies.get(current, ()), key=lambda d: (finish[d], d), default=None)
                own = durations.get(current, 0.0)
                finish[current] = (finish[best] if best is not None else 0.0) + (0.0 if math.isnan(own) else own)
                via[current] = best
                state[current] = 2
        return finish[node]

    for node in sorted(nodes):
        if node not in state:
            visit(node)
    if not finish:
        return 0.0, []
    last = max(finish, key=lambda n: (finish[n], n))
    path = []
    node: str | None = last
    while node is not None:
        path.append(node)
        node = via[node]
    return finish[last], path[::-1]


def timeline(jobs: list[Job]) -> dict:
    """Elapsed wall time (first start to last end), the summed job wall and CPU time, and the mean
    number of jobs running at once."""
    if not jobs:
        return {"elapsed": 0.0, "wall": 0.0, "cpu": 0.0, "parallel": math.nan}
    elapsed = max(j.end for j in jobs) - min(j.start for j in jobs)
    wall = _sum(j.wall for j in jobs)
    return {"elapsed": elapsed, "wall": wall, "cpu": _sum(j.cpu for j in jobs),
            "parallel": wall / elapsed if elapsed > 0 else math.nan}


# --- the job DAG, from the workflow ----------------------------------------------------------

def config_for(root: Path, results: Path) -> Path | None:
    """The config file of ``<root>/config/`` whose ``results:`` is the results folder (None for the
    default config's folder or when none matches)."""
    import yaml

    wanted = _relative(results, root)
    for path in sorted((root / "config").glob("*.yaml")):
        value = (yaml.safe_load(path.read_text()) or {}).get("results")
        if value is not None and Path(value) == wanted:
            return path
    return None


def _relative(path: Path, root: Path) -> Path:
    path, root = Path(path).resolve(), Path(root).resolve()
    try:
        return path.relative_to(root)
    except ValueError:
        return path


def job_dependencies(root: Path, configfile: Path | None = None) -> tuple[str, dict[str, set[str]]]:
    """The job DAG of the workflow in ``root`` (every job of the default target, forced; nothing
    runs and no lock is taken): (the config's results folder, ``{job: the jobs it needs}``), a job
    named by its benchmark file (``<rule>/<job>`` under ``<results>/benchmarks``), or
    ``<rule>#<n>`` for a job without one."""
    import contextlib
    import io

    from snakemake.api import SnakemakeApi
    from snakemake.settings.types import (
        ConfigSettings,
        DAGSettings,
        OutputSettings,
        ResourceSettings,
    )

    root = Path(root).resolve()
    config = ConfigSettings(configfiles=[Path(configfile).resolve()] if configfile else [])
    quiet = contextlib.ExitStack()
    quiet.enter_context(contextlib.redirect_stdout(io.StringIO()))
    quiet.enter_context(contextlib.redirect_stderr(io.StringIO()))
    with quiet, SnakemakeApi(OutputSettings(quiet={"all"})) as api:
        workflow_api = api.workflow(resource_settings=ResourceSettings(cores=1), config_settings=config,
                                    snakefile=root / "Snakefile", workdir=root)
        dag_api = workflow_api.dag(DAGSettings(forceall=True))
        workflow = dag_api.workflow_api._workflow
        workflow._prepare_dag(forceall=True, ignore_incomplete=True, lock_warn_only=True, nolock=True)
        workflow._build_dag()
        results = str(workflow.config.get("results", "results"))
        benchmarks = Path(results) / "benchmarks"
        names: dict = {}
        for n, job in enumerate(workflow.dag.jobs):
            bench = job.benchmark
            if bench is not None:
                names[job] = Path(str(bench)).relative_to(benchmarks).with_suffix("").as_posix()
            else:
                names[job] = f"{job.rule.name}#{n}"
        deps = {names[job]: {names[d] for d in workflow.dag.dependencies[job]} for job in workflow.dag.jobs}
    return results, deps


# --- output -------------------------------------------------------------------------------------

def _fmt(value: float, digits: int = 1) -> str:
    return "" if math.isnan(value) else f"{value:,.{digits}f}"


def markdown_table(rows: list[dict], top: int | None = None) -> str:
    shown = rows if top is None else rows[:top]
    lines = ["| rule | jobs | CPU s | wall s | longest job (wall s) | max RSS (MiB) |", "|---|---:|---:|---:|---:|---:|"]
    for r in shown:
        lines.append(f"| {r['rule']} | {r['jobs']} | {_fmt(r['cpu'])} | {_fmt(r['wall'])} | {_fmt(r['max_wall'])} "
                     f"| {_fmt(r['max_rss'], 0)} |")
    if top is not None and len(rows) > top:
        rest = rows[top:]
        lines.append(f"| *{len(rest)} other rules* | {sum(r['jobs'] for r in rest)} | {_fmt(_sum(r['cpu'] for r in rest))} "
                     f"| {_fmt(_sum(r['wall'] for r in rest))} | | |")
    lines.append(f"| **total** | {sum(r['jobs'] for r in rows)} | {_fmt(_sum(r['cpu'] for r in rows))} "
                 f"| {_fmt(_sum(r['wall'] for r in rows))} | | {_fmt(max((r['max_rss'] for r in rows), default=math.nan), 0)} |")
    return "\n".join(lines) + "\n"


def report(results: Path, *, top: int | None = None, root: Path | None = None, configfile: Path | None = None,
           dag: bool = True) -> str:
    """The whole text: per-rule table, timeline, critical path."""
    jobs = read_jobs(results)
    out = [f"Benchmarks of {results} ({len(jobs)} jobs)", "", markdown_table(rule_table(jobs), top)]
    t = timeline(jobs)
    out.append(f"Timeline (benchmark file times): {t['elapsed']:,.0f} s elapsed from the first job's start to the "
               f"last job's end; {t['wall']:,.0f} s of job wall time, {t['cpu']:,.0f} s of job CPU time; "
               f"{_fmt(t['parallel'], 2)} jobs running on average.")
    if dag:
        root = Path(root or Path.cwd())
        if configfile is None:
            configfile = config_for(root, Path(results))
        _, deps = job_dependencies(root, configfile)
        durations = {j.key: j.wall for j in jobs}
        unmatched = sorted(set(durations) - set(deps))
        total, path = critical_path(durations, deps)
        out.append("")
        out.append(f"Critical path (longest chain of dependent jobs by wall time; DAG of {root / 'Snakefile'}"
                   f"{' with ' + str(configfile) if configfile else ''}): {total:,.1f} s over {len(path)} jobs")
        out += [f"  {durations.get(k, 0.0):9.1f} s  {k}" for k in path]
        if unmatched:
            out.append(f"({len(unmatched)} benchmark files belong to no job of this DAG, e.g. {unmatched[0]}: "
                       "an older run, or another config)")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mlreview.report.benchmarks", description=__doc__.split("\n")[0])
    parser.add_argument("results", type=Path, help="the results folder of a finished run (holds benchmarks/)")
    parser.add_argument("--top", type=int, default=None, help="show only the N most expensive rules (CPU)")
    parser.add_argument("--root", type=Path, default=None,
                        help="the workflow whose DAG gives the dependencies (default: here)")
    parser.add_argument("--configfile", type=Path, default=None,
                        help="the run's config (default: the file of ROOT/config/ whose results: is the folder)")
    parser.add_argument("--no-dag", action="store_true", help="skip the critical path (no Snakemake parse)")
    args = parser.parse_args(argv)
    sys.stdout.write(report(args.results, top=args.top, root=args.root, configfile=args.configfile,
                            dag=not args.no_dag))
    return 0


if __name__ == "__main__":
    sys.exit(main())
