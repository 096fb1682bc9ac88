"""The benchmark summary (mlreview.report.benchmarks): per-rule sums, the critical path against
brute force, and the job DAG read from a tiny workflow."""

from __future__ import annotations

import itertools
import math
import os
import textwrap
from pathlib import Path

import pytest

from mlreview.report import benchmarks as bm

HEADER = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"


def write_bench(results: Path, key: str, wall: float, cpu: float, rss: float, end: float) -> Path:
    path = results / "benchmarks" / f"{key}.tsv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + f"{wall}\t0:00:01\t{rss}\t1\t1\t1\t0\t0\t50\t{cpu}\n")
    os.utime(path, (end, end))
    return path


def test_rule_table_and_timeline(tmp_path):
    write_bench(tmp_path, "fit/a", 10.0, 8.0, 100.0, 1010.0)
    write_bench(tmp_path, "fit/b", 20.0, 18.0, 300.0, 1020.0)
    write_bench(tmp_path, "plot/plot", 2.0, 1.5, 50.0, 1022.0)
    jobs = bm.read_jobs(tmp_path)
    assert [j.key for j in jobs] == ["fit/a", "fit/b", "plot/plot"]
    rows = bm.rule_table(jobs)
    assert rows[0] == {"rule": "fit", "jobs": 2, "cpu": 26.0, "wall": 30.0, "max_wall": 20.0, "max_rss": 300.0}
    assert rows[1]["rule"] == "plot"
    t = bm.timeline(jobs)
    # first start 1000 (a: 1010 - 10 and b: 1020 - 20), last end 1022
    assert t["elapsed"] == pytest.approx(22.0)
    assert t["parallel"] == pytest.approx(32.0 / 22.0)
    text = bm.markdown_table(rows, top=1)
    assert "| fit | 2 | 26.0 | 30.0 | 20.0 | 300 |" in text
    assert "*1 other rules* | 1 | 1.5" in text
    assert "| **total** | 3 | 27.5 | 32.0 |" in text


def test_missing_values_do_not_poison_sums(tmp_path):
    path = tmp_path / "benchmarks" / "r" / "r.tsv"
    path.parent.mkdir(parents=True)
    path.write_text(HEADER + "3.0\t0:00:03\tNA\t-\t-\t-\t-\t-\t-\t-\n")
    rows = bm.rule_table(bm.read_jobs(tmp_path))
    assert rows[0]["wall"] == 3.0 and rows[0]["cpu"] == 0.0 and math.isnan(rows[0]["max_rss"])


def test_no_benchmarks_folder_is_a_clear_error(tmp_path):
    with pytest.raises(SystemExit, match="benchmarks"):
        bm.read_jobs(tmp_path)


def brute_force_longest(durations, deps):
    """Every chain of the DAG, enumerated."""
    best = 0.0
    nodes = sorted(durations)
    for r in range(1, len(nodes) + 1):
        for chain in itertools.permutations(nodes, r):
            if all(chain[i] in deps.get(chain[i + 1], ()) for i in range(len(chain) - 1)):
                best = max(best, sum(durations[n] for n in chain))
    return best


@pytest.mark.parametrize("seed", range(5))
def test_critical_path_against_brute_force(seed):
    import random

    rng = random.Random(seed)
    nodes = [f"r{i}" for i in range(6)]
    durations = {n: float(rng.randint(1, 9)) for n in nodes}
    deps = {n: {m for m in nodes[:i] if rng.random() < 0.4} for i, n in enumerate(nodes)}
    total, path = bm.critical_path(durations, deps)
    assert total == brute_force_longest(durations, deps)
    assert sum(durations[n] for n in path) == total
    assert all(path[i] in deps[path[i + 1]] for i in range(len(path) - 1))


def test_critical_path_counts_unknown_jobs_as_zero_and_finds_cycles():
    total, path = bm.critical_path({"a": 2.0, "c": 5.0}, {"all#1": {"c", "b"}, "b": {"a"}, "c": set()})
    assert total == 5.0 and path[0] == "c"
    with pytest.raises(ValueError, match="cycle"):
        bm.critical_path({"a": 1.0}, {"a": {"b"}, "b": {"a"}})


SNAKEFILE = """
configfile: "config/config.yaml"

rule all:
    input: expand(config["results"] + "/plot_{x}.txt", x=["1", "2"])

rule data:
    output: config["results"] + "/data.txt"
    benchmark: config["results"] + "/benchmarks/data/data.tsv"
    shell: "echo > {output}"

rule fit:
    input: config["results"] + "/data.txt"
    output: config["results"] + "/fit_{x}.txt"
    benchmark: config["results"] + "/benchmarks/fit/{x}.tsv"
    shell: "echo > {output}"

rule plot:
    input: config["results"] + "/fit_{x}.txt"
    output: config["results"] + "/plot_{x}.txt"
    benchmark: config["results"] + "/benchmarks/plot/{x}.tsv"
    shell: "echo > {output}"
"""


def test_report_reads_the_dag_of_the_workflow(tmp_path):
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.yaml").write_text("results: results\n")
    (tmp_path / "config" / "small.yaml").write_text("results: results/small\n")
    (tmp_path / "Snakefile").write_text(textwrap.dedent(SNAKEFILE))
    results = tmp_path / "results" / "small"
    write_bench(results, "data/data", 5.0, 4.0, 10.0, 1005.0)
    write_bench(results, "fit/1", 10.0, 9.0, 10.0, 1015.0)
    write_bench(results, "fit/2", 30.0, 29.0, 10.0, 1035.0)
    write_bench(results, "plot/1", 1.0, 1.0, 10.0, 1036.0)
    write_bench(results, "plot/2", 2.0, 1.0, 10.0, 1037.0)
    assert bm.config_for(tmp_path, results) == tmp_path / "config" / "small.yaml"
    cwd = Path.cwd()
    _, deps = bm.job_dependencies(tmp_path, tmp_path / "config" / "small.yaml")
    assert Path.cwd() == cwd
    assert deps["fit/2"] == {"data/data"} and deps["plot/2"] == {"fit/2"}
    text = bm.report(results, root=tmp_path)
    assert "Critical path" in text and "37.0 s over 3 jobs" in text
    assert text.index("data/data") < text.index("fit/2") < text.index("plot/2")
