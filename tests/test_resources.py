"""Declared against measured resources (mlreview.report.resources) and the two profiles."""

from __future__ import annotations

import importlib.util
import re
import textwrap
from pathlib import Path

import pytest
import yaml

from mlreview.steps import registry
from mlreview.report.resources import (
    Job,
    dry_run,
    main,
    parse_dry_run,
    read_benchmark,
    summarise,
)

DRY_RUN = textwrap.dedent(
    """\
    Building DAG of jobs...
    Job stats:
    job      count
    -----  -------
    sample       2
    total        3

    [Sun Nov 22 09:16:49 2026]
    rule sample:
        output: out/T1.00.npz, out/T1.00.json
        log: logs/T1.00.log
        jobid: 1
        benchmark: bench/sample/T1.00.tsv
        reason: Forced execution
        wildcards: temp=1.00
        threads: 4
        resources: tmpdir=/tmp, mem_mb=2000, mem=2 GB, mem_mib=1908, slurm_partition=compute, runtime=30
    Shell command: python -m mlreview ising2d-sample --threads 4 > logs/T1.00.log 2>&1

    [Sun Nov 22 09:16:49 2026]
    localrule plot:
        input: out/T1.00.npz
        output: fig.png
        jobid: 2
        reason: Forced execution
        resources: tmpdir=<TBD>, gpu=0
    [Sun Nov 22 09:16:49 2026]
    rule all:
        input: fig.png
        jobid: 0
        reason: Forced execution
        resources: tmpdir=/tmp
    Job stats:
    """
)

HEADER = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"


def bench(path, seconds, rss):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + f"{seconds}\t0:00:01\t{rss}\t1\t1\t1\t0\t0\t50\t1\n")


def test_parse_dry_run():
    sample, plot, target = parse_dry_run(DRY_RUN)
    assert (sample.rule, sample.local, sample.threads, sample.wildcards) == ("sample", False, 4, "temp=1.00")
    assert sample.benchmark == "bench/sample/T1.00.tsv"
    assert sample.shell == "python -m mlreview ising2d-sample --threads 4 > logs/T1.00.log 2>&1"
    assert sample.resources == {"tmpdir": "/tmp", "mem_mb": "2000", "mem": "2 GB", "mem_mib": "1908",
                                "slurm_partition": "compute", "runtime": "30"}
    assert (plot.rule, plot.local, plot.threads, plot.benchmark) == ("plot", True, 1, None)
    assert plot.resources == {"tmpdir": "<TBD>", "gpu": "0"}
    assert (target.rule, target.output) == ("all", None)


def test_read_benchmark(tmp_path):
    path = tmp_path / "b.tsv"
    path.write_text(HEADER + "2.5\t0:00:02\tNA\t1\t1\t1\t0\t0\t50\t1\n" + "3.5\t0:00:03\t120.5\t1\t1\t1\t0\t0\t50\t1\n")
    assert read_benchmark(path) == {"s": 3.5, "max_rss": 120.5}  # the largest of the repetitions
    path.write_text(HEADER + "2.5\t0:00:02\t-\t1\t1\t1\t0\t0\t50\t1\n")
    assert read_benchmark(path) == {"s": 2.5, "max_rss": None}
    assert read_benchmark(tmp_path / "missing.tsv") is None


def test_summarise_flags_what_exceeds_or_is_missing(tmp_path):
    jobs = [
        Job("fit", resources={"mem_mb": "1000", "runtime": "1"}, benchmark="b/fit/a.tsv", output="x"),
        Job("fit", resources={"mem_mb": "1000", "runtime": "1"}, benchmark="b/fit/b.tsv", output="y"),
        Job("slow", resources={"mem_mb": "1000", "runtime": "1"}, benchmark="b/slow/a.tsv", output="z"),
        Job("tight", threads=2, resources={"mem_mb": "100", "runtime": "10"}, benchmark="b/tight/a.tsv", output="t"),
        Job("fresh", resources={"mem_mb": "100", "runtime": "1"}, benchmark="b/fresh/a.tsv", output="f"),
        Job("bare", output="w"),
        Job("all"),  # a target rule: left out
    ]
    bench(tmp_path / "b/fit/a.tsv", 10, 900)
    bench(tmp_path / "b/fit/b.tsv", 20, 1500)
    bench(tmp_path / "b/slow/a.tsv", 61, 10)
    bench(tmp_path / "b/tight/a.tsv", 5, 90)
    rows = {r["rule"]: r for r in summarise(jobs, tmp_path)}
    assert set(rows) == {"fit", "slow", "tight", "fresh", "bare"}
    fit = rows["fit"]
    assert (fit["jobs"], fit["measured"], fit["max_rss_mb"], fit["max_s"]) == (2, 2, 1500, 20)
    assert fit["exceeded"] and fit["status"] == "MEMORY exceeded (1 job)"
    assert fit["mem_use"] == pytest.approx(1.5)
    assert rows["slow"]["exceeded"] and rows["slow"]["status"] == "RUNTIME exceeded (1 job)"
    assert not rows["tight"]["exceeded"] and rows["tight"]["status"].startswith("ok (above 80%")
    assert rows["tight"]["threads"] == "2"
    assert rows["fresh"]["status"] == "not measured yet"
    assert rows["bare"]["status"] == "no mem_mb, runtime declared; no benchmark file"
    # rules over a declaration come first
    assert [r["rule"] for r in summarise(jobs, tmp_path)][:2] == ["fit", "slow"]


def test_tool_on_a_small_workflow(tmp_path, capsys):
    """End to end: the dry run of a real Snakefile, its benchmark files, the flags, --strict."""
    (tmp_path / "Snakefile").write_text(textwrap.dedent(
        """\
        rule all:
            input: "a.txt", "b.txt"

        rule a:
            output: "a.txt"
            threads: 3
            resources: mem_mb=100, runtime=1
            benchmark: "benchmarks/a/a.tsv"
            shell: "touch {output}"

        rule b:
            output: "b.txt"
            benchmark: "benchmarks/b/b.tsv"
            shell: "touch {output}"
        """
    ))
    jobs = parse_dry_run(dry_run(tmp_path, [], None))
    assert sorted(j.rule for j in jobs) == ["a", "all", "b"]
    assert next(j for j in jobs if j.rule == "a").threads == 3  # not capped at this machine's cores
    bench(tmp_path / "benchmarks/a/a.tsv", 1.5, 150.0)
    assert main(["--root", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^a\s+1\s+3\s+100\s+1\s+—\s+150\s+150%.*MEMORY exceeded", out, flags=re.MULTILINE), out
    assert re.search(r"^b\s+.*no mem_mb, runtime declared; not measured yet", out, flags=re.MULTILINE), out
    assert "1 rule(s) exceed a declaration: a." in out
    assert main(["--root", str(tmp_path), "--strict", "--format", "markdown"]) == 1
    assert "| a | 1 | 3 | 100 | 1 |" in capsys.readouterr().out


@pytest.fixture(scope="module")
def paper_jobs(root):
    """The jobs of a forced dry run of the paper config, without and with the SLURM profile."""
    return (
        parse_dry_run(dry_run(root, [], None)),
        parse_dry_run(dry_run(root, [], "profiles/slurm")),
    )


def test_every_rule_declares_its_resources(paper_jobs):
    declared, _ = paper_jobs
    missing = [(j.rule, name) for j in declared if j.output is not None
               for name in ("mem_mb", "runtime") if name not in j.resources]
    assert not missing, f"rules without a declaration: {sorted(set(missing))}"


def test_slurm_dry_run_shows_the_resources_of_every_job(paper_jobs, root):
    declared, through_profile = paper_jobs
    assert len(through_profile) == len(declared) > 50
    for job in through_profile:
        if job.output is None:
            continue
        for name in ("slurm_partition", "slurm_account", "mem_mb", "runtime"):
            assert name in job.resources, (job.rule, name, job.resources)
    # every set-resources entry names a rule of the workflow, and asks on the first attempt
    # for at least what the rule itself declares
    profile = yaml.safe_load((root / "profiles/slurm/config.yaml").read_text())
    rules = {j.rule for j in declared}
    own = {j.rule: j.resources for j in declared}
    requested = {j.rule: j.resources for j in through_profile}
    for rule, settings in profile["set-resources"].items():
        assert rule in rules, f"profiles/slurm sets resources of an unknown rule {rule!r}"
        for name in ("mem_mb", "runtime"):
            if name in settings:
                assert "attempt" in settings[name], (rule, name, "grows on a retry")
                assert float(requested[rule][name]) >= float(own[rule][name]), (rule, name)


def uses_torch(step: str) -> bool:
    """Whether a step's module imports torch or the project's torch package (mlreview.nn)."""
    module = registry()[step].partition(":")[0]
    source = Path(importlib.util.find_spec(module).origin).read_text()
    return bool(re.search(r"^\s*(import torch|from torch|from mlreview\.nn|import mlreview\.nn)", source, re.MULTILINE))


#: Rules whose step module imports torch, but whose job gains nothing from a GPU.
NO_GPU_USE = {
    "activations_compute": "Fig 36 takes autograd derivatives of activation functions on a few hundred points",
    "fig25_roc": "evaluates the stored SUSY fits (its step shares the module of the torch fits)",
    "mnist_optimizers_gather": "collects the per-optimizer metrics files; trains nothing",
    "susy_dnn_grid": "collects the per-cell metrics files; trains nothing",
    "ising_dnn_grid": "collects the per-cell metrics files; trains nothing",
    "ising_cnn_gather": "collects the per-depth metrics files; trains nothing",
    "ising_dbm_observables": "summarises the per-temperature observables of Figs 66-68; trains nothing",
}


def test_rules_that_can_use_a_gpu_declare_it(paper_jobs):
    """A rule whose step runs torch declares `gpu` (0: none asked for unless a profile raises it),
    unless it is listed, with the reason, in NO_GPU_USE."""
    declared, _ = paper_jobs
    torch_rules, undeclared = set(), set()
    for job in declared:
        step = re.search(r"python -m mlreview ([\w-]+)", job.shell or "")
        if step and uses_torch(step.group(1)):
            torch_rules.add(job.rule)
            if "gpu" not in job.resources and job.rule not in NO_GPU_USE:
                undeclared.add(job.rule)
    assert {"susy_logistic_fit", "susy_logistic_scan", "susy_logistic_ablation"} <= torch_rules
    assert not undeclared, f"torch rules without a gpu resource: {sorted(undeclared)}"
    assert all(j.resources["gpu"] == "0" for j in declared if "gpu" in j.resources)  # none asked for by default


@pytest.mark.parametrize("profile", ["local", "slurm"])
def test_every_profile_key_is_commented(root, profile):
    lines = (root / "profiles" / profile / "config.yaml").read_text().splitlines()
    for i, line in enumerate(lines):
        if re.match(r"^[a-z][\w-]*:", line):
            before = [ln for ln in lines[:i] if ln.strip()]
            assert before and before[-1].startswith("#"), f"{profile}: key without a comment: {line}"


def test_report_benchmark_table_reads_the_same_files(tmp_path):
    from mlreview.report.html import benchmark_table

    bench(tmp_path / "fit/a.tsv", 10, 900)
    bench(tmp_path / "fit/b.tsv", 20, 1500)
    (tmp_path / "plot").mkdir()
    (tmp_path / "plot/x.tsv").write_text(HEADER)  # no rows yet: left out
    assert benchmark_table(tmp_path) == [{"rule": "fit", "jobs": 2, "total_s": 30, "max_s": 20, "max_rss_mb": 1500}]
