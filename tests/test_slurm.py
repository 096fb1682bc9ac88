"""The shipped SLURM profile, run for real: a one-node SLURM cluster on this machine
(tests/slurmcluster.py) builds a slice of the small DAG through profiles/slurm.

The slice: Fig 16 and the scorecard of its claims (results/small/scorecards/fig16.csv, which
needs only that part of the DAG): the 1D Ising chains, the diabetes fit (both submitted at
once, so that two SLURM jobs run side by side) and the 1D Ising regression that needs the
chains. The compute jobs must each have run as a SLURM job; the figure and the scorecard are
local rules of the workflow (cheap, they run where Snakemake runs). (Until 2026-12 the slice was
Fig 21's: 16 Ising temperature jobs more, about 15 s of Snakemake start-up each inside SLURM,
for no further evidence.) The outputs must equal those of the
local run of the whole small DAG (the `small_run` fixture shared with test_workflow.py).

The only changes to the shipped profile are those this cluster needs: its partition, no
account (it has no accounting database), `squeue` for job states (accounting is off) and
a short first status query (5 s instead of 40 s; it only makes the test faster).

Skipped, with the reason, when there is no root or the packages cannot be installed.
Deselect with `pytest -m "not slurm"`.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import time
from contextlib import ExitStack
from pathlib import Path

import numpy as np
import pytest
import yaml

from mlreview.report.scorecard import read_csv
from tests.conftest import BIN, ROOT, copy_project
from tests.slurmcluster import SlurmNotInstalled, SlurmUnavailable, one_node_cluster, program

pytestmark = pytest.mark.slurm

RESULTS = "results/small"
TARGETS = [f"{RESULTS}/scorecards/fig16.csv", f"{RESULTS}/figures/fig16.png"]
#: The rules of the slice, and which of them are local rules of the workflow.
SLURM_RULES = {"ising1d_chains", "diabetes_fit", "ising1d_regression"}
LOCAL_RULES = {"fig16_plot", "figure_scorecard"}
#: Metrics keys holding wall-clock timings: they differ between any two runs.
TIMING_KEY = re.compile(r"seconds")
TIMEOUT = 900


def profile_override(partition: str) -> dict:
    """What the test cluster needs on top of the shipped profile (None removes a key)."""
    return {
        "default-resources": {"slurm_partition": partition, "slurm_account": None},
        "slurm-no-account": True,
        "slurm-status-command": "squeue",
        "slurm-init-seconds-before-status-checks": 5,
    }


def merged_profile(shipped: dict, override: dict) -> dict:
    """``shipped`` with ``override`` applied one level into mappings; None deletes a key."""
    merged = {key: (dict(value) if isinstance(value, dict) else value) for key, value in shipped.items()}
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            for inner, inner_value in value.items():
                if inner_value is None:
                    merged[key].pop(inner, None)
                else:
                    merged[key][inner] = inner_value
        elif value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def test_merged_profile_changes_only_the_override():
    shipped = yaml.safe_load((ROOT / "profiles/slurm/config.yaml").read_text())
    merged = merged_profile(shipped, profile_override("debug"))
    assert merged["default-resources"]["slurm_partition"] == "debug"
    assert "slurm_account" not in merged["default-resources"]
    assert merged["default-resources"]["mem_mb"] == shipped["default-resources"]["mem_mb"]
    assert merged["set-resources"] == shipped["set-resources"]
    assert shipped["default-resources"]["slurm_account"]  # the shipped file is untouched
    assert {k: v for k, v in merged.items() if not k.startswith(("slurm-", "default-resources"))} == {
        k: v for k, v in shipped.items() if not k.startswith(("slurm-", "default-resources"))
    }


def test_cluster_is_stopped_and_removed_even_after_a_failure():
    """The daemons go and the directory is removed when the code inside fails."""
    seen = {}
    try:
        with pytest.raises(RuntimeError, match="a test fails"):
            with one_node_cluster() as env:
                seen = env
                raise RuntimeError("a test fails")
    except SlurmNotInstalled as err:
        pytest.skip(str(err))
    except SlurmUnavailable as err:
        pytest.fail(f"SLURM is installed but no cluster can be started here: {err}")
    assert not Path(seen["MLREVIEW_SLURM_DIR"]).exists()
    for pid in seen["MLREVIEW_SLURM_PIDS"].split(","):
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text().lower(), pid


@pytest.fixture(scope="module")
def cluster():
    """A running one-node cluster; stopped and removed after the module (also on failure)."""
    with ExitStack() as stack:
        try:
            env = stack.enter_context(one_node_cluster())
        except SlurmNotInstalled as err:
            pytest.skip(str(err))
        except SlurmUnavailable as err:
            pytest.fail(f"SLURM is installed but no cluster can be started here: {err}")
        yield env


@pytest.fixture(scope="module")
def slurm_run(cluster, env_with_venv):
    """Run the slice through the SLURM profile in a copy of the project inside the cluster's
    temporary directory; return (project dir, snakemake output, seconds)."""
    work = copy_project(Path(cluster["MLREVIEW_SLURM_DIR"]) / "project")
    shipped = yaml.safe_load((work / "profiles/slurm/config.yaml").read_text())
    profile = work / "test-profile"
    profile.mkdir()
    (profile / "config.yaml").write_text(
        yaml.safe_dump(merged_profile(shipped, profile_override(cluster["MLREVIEW_SLURM_PARTITION"])))
    )
    # the cluster's environment; the venv first on PATH (its python runs every step)
    env = {**cluster, **{k: v for k, v in env_with_venv.items() if k.startswith("MLREVIEW_") or k == "MPLBACKEND"},
           "PATH": f"{BIN}{os.pathsep}{cluster['PATH']}"}
    start = time.perf_counter()
    proc = subprocess.run(
        ["snakemake", *TARGETS, "--workflow-profile", str(profile), "--configfile", "config/small.yaml"],
        cwd=work, env=env, capture_output=True, text=True, timeout=TIMEOUT,
    )
    seconds = time.perf_counter() - start
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-8000:] + _tail(work)
    print(f"SLURM slice: {seconds:.0f} s")
    return work, out, seconds


def _tail(work: Path) -> str:
    """The SLURM logs of a failed run, for the assertion message."""
    logs = sorted((work / ".snakemake/slurm_logs").rglob("*.log"))
    return "".join(f"\n--- {p}:\n{p.read_text(errors='replace')[-1500:]}" for p in logs[-3:])


def jobs_of(out: str) -> list[dict]:
    """Every job Snakemake started: rule, local or not, its Snakemake id."""
    jobs = []
    for match in re.finditer(r"^(local)?rule (\w+):\n((?:    .*\n)+)", out, flags=re.MULTILINE):
        jobid = re.search(r"^    jobid: (\d+)$", match.group(3), flags=re.MULTILINE)
        jobs.append({"local": bool(match.group(1)), "rule": match.group(2), "jobid": int(jobid.group(1))})
    return jobs


def submissions_of(out: str) -> dict[int, tuple[str, Path]]:
    """Snakemake job id -> (SLURM job id, SLURM log) of every submitted job."""
    found = re.findall(r"Job (\d+) has been submitted with SLURM jobid (\d+) \(log: (.+?)\)\.", out)
    return {int(job): (slurm, Path(log)) for job, slurm, log in found}


def test_every_compute_job_ran_as_a_slurm_job(slurm_run, cluster):
    work, out, _ = slurm_run
    jobs = jobs_of(out)
    assert {j["rule"] for j in jobs} == SLURM_RULES | LOCAL_RULES, out[-3000:]
    assert sum(not j["local"] for j in jobs) >= 2
    submitted = submissions_of(out)
    states = subprocess.run([program("squeue"), "--states=all", "-h", "-o", "%i|%T"], env=cluster,
                            capture_output=True, text=True, timeout=30).stdout
    states = dict(line.split("|") for line in states.split())
    for job in jobs:
        if job["local"]:
            assert job["rule"] in LOCAL_RULES, job
            assert job["jobid"] not in submitted, job
            continue
        assert job["rule"] in SLURM_RULES, job
        assert job["jobid"] in submitted, f"{job} was not submitted to SLURM"
        slurm_id, log = submitted[job["jobid"]]
        assert states.get(slurm_id) == "COMPLETED", (job, slurm_id, states)
        # the plugin's log of the SLURM job: the job step ran this rule to its end
        assert log.is_relative_to(work / ".snakemake/slurm_logs" / f"rule_{job['rule']}"), log
        text = log.read_text()
        assert f"rule {job['rule']}:" in text and "Finished jobid" in text, text[-2000:]
    assert len(submitted) == sum(not j["local"] for j in jobs)


def _compare(a, b, path=""):
    """Differences between two metrics trees; timing keys are skipped."""
    if isinstance(a, dict) and isinstance(b, dict):
        diffs = [f"{path}: keys {sorted(set(a) ^ set(b))}"] if set(a) != set(b) else []
        for key in sorted(set(a) & set(b)):
            if not TIMING_KEY.search(key):
                diffs += _compare(a[key], b[key], f"{path}/{key}")
        return diffs
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: lengths {len(a)} != {len(b)}"]
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in _compare(x, y, f"{path}/{i}")]
    if isinstance(a, float) and isinstance(b, float):
        same = (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
        return [] if same else [f"{path}: {a!r} != {b!r}"]
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]


def test_compare_metrics():
    assert _compare({"a": 1.0, "fit_seconds": 3.0, "b": [1, {"c": True}]},
                    {"a": 1.0 + 1e-12, "fit_seconds": 9.0, "b": [1, {"c": True}]}) == []
    assert _compare({"a": 1.0, "b": [1, 2]}, {"a": 1.1, "b": [1]}) == ["/a: 1.0 != 1.1", "/b: lengths 2 != 1"]


def test_slurm_outputs_equal_the_local_run(slurm_run, small_run):
    work, _, _ = slurm_run
    local, _ = small_run
    produced = sorted((work / RESULTS / "metrics").glob("*.json"))
    assert {p.stem for p in produced} >= {"ising1d", "diabetes", "ising1d_regression"}
    for path in produced:
        ours = json.loads(path.read_text())["metrics"]
        reference = json.loads((local / RESULTS / "metrics" / path.name).read_text())["metrics"]
        assert not _compare(ours, reference), (path.name, _compare(ours, reference)[:10])
    with np.load(work / RESULTS / "ising/ising1d.npz") as ours, np.load(local / RESULTS / "ising/ising1d.npz") as ref:
        assert sorted(ours.files) == sorted(ref.files)
        for name in ours.files:
            assert np.array_equal(ours[name], ref[name]), name
    # the figure's scorecard holds the same rows as the full scorecard of the local run
    rows = read_csv(work / RESULTS / "scorecards/fig16.csv")
    reference = [r for r in read_csv(local / RESULTS / "scorecard.csv") if r["figure"] == "16"]
    assert rows
    assert rows == reference
    assert (work / RESULTS / "figures/fig16.png").stat().st_size > 1000
