"""Bad input gets a clear error and loses nothing: one test per hole found when the workflow was
tried as a demanding user would (the message asserted, the outputs intact)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from base64 import urlsafe_b64encode
from pathlib import Path

import numpy as np
import pytest
import yaml

from mlreview import config_checks, runlock
from mlreview.cli import run_step
from mlreview.data.ising import ISING2D, load_ising2d
from mlreview.io import Contract, UnreadableFile, load_json, load_npz, save_npz
from tests.conftest import ROOT, copy_project, dag_progress, save_tiny_ising


def _dry_run(root, env, *args):
    return subprocess.run(["snakemake", "-n", "--nolock", "--cores", "1", *args], cwd=root, env=env,
                          capture_output=True, text=True, timeout=300)


def _override(tmp_path, data) -> str:
    path = tmp_path / "override.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


# 1. an empty or root results folder ------------------------------------------------------------


@pytest.mark.parametrize("results", ["", " ", "/", "//"])
def test_results_must_be_a_folder_not_the_root(paper_config, results):
    config = {**paper_config, "results": results}
    with pytest.raises(config_checks.ConfigError, match=r"results: .* (is empty|is the file system's root)"):
        config_checks.check(config)


def test_an_empty_results_folder_stops_the_dry_run(root, env_with_venv, tmp_path):
    proc = _dry_run(root, env_with_venv, "--configfile", _override(tmp_path, {"results": ""}))
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "results: '' is empty" in out
    assert "/metrics/" not in out  # no job was planned


# 2. an unreadable intermediate names the file, the rule and the fix, never unpickling -------------


def test_garbage_and_truncated_npz_name_the_file_the_rule_and_the_fix(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    good = Path("results/ising/fig20.npz")
    save_npz(good, x=np.arange(10.0))
    record = Path(".snakemake/metadata") / urlsafe_b64encode(str(good).encode()).decode()
    record.parent.mkdir(parents=True)
    record.write_text(json.dumps({"rule": "fig20_select"}))
    data = good.read_bytes()
    for broken in (b"garbage, not an npz" * 5, data[: len(data) // 2]):
        good.write_bytes(broken)
        with pytest.raises(UnreadableFile) as err:
            load_npz(good)
        message = str(err.value)
        assert str(good) in message and "fig20_select" in message
        assert "snakemake --forcerun fig20_select" in message
        assert "pickle" not in message.lower()


def test_the_command_line_prints_one_line_and_exits_2(tmp_path, env_with_venv):
    bad = tmp_path / "fig20.npz"
    bad.write_bytes(b"\x93NUMPY garbage")
    proc = subprocess.run([sys.executable, "-m", "mlreview", "fig20_plot", "--input", f"data={bad}",
                           "--output", f"pdf={tmp_path / 'f.pdf'}", f"png={tmp_path / 'f.png'}", "--params", "{}"],
                          env=env_with_venv, capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 2
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith(f"error: {bad}: the file cannot be read as .npz")
    assert "Traceback" not in proc.stderr and "pickle" not in proc.stderr.lower()
    assert not (tmp_path / "f.pdf").exists()


def test_a_broken_json_names_the_file(tmp_path):
    path = tmp_path / "m.json"
    path.write_text('{"metrics": ')
    with pytest.raises(UnreadableFile, match=re.escape(str(path)) + ": the file is not valid JSON"):
        load_json(path)


# 3. contracts: consistent but wrong shapes are found when written and when read -----------------


def _tiny_ising(path):
    rng = np.random.default_rng(0)
    blocks = [rng.choice(np.array([-1, 1], np.int8), size=(4, 16)) for _ in range(3)]
    return save_tiny_ising(path, blocks, [1.0, 2.27, 3.5], lattice=4)


def test_an_ising_file_whose_lattice_disagrees_with_its_rows_is_refused(tmp_path):
    path = _tiny_ising(tmp_path / "ising2d.npz")
    raw = dict(np.load(path))
    raw["lattice"] = np.array(30)  # the rows still hold 16 spins
    np.savez(path, **raw)
    with pytest.raises(UnreadableFile) as err:
        load_ising2d(path)
    message = str(err.value)
    assert "row_bytes == (lattice * lattice + 7) // 8" in message and "'lattice': 30" in message
    assert "'packed': (12, 2)" in message  # the key and its shape


def test_arrays_cut_after_writing_are_found(tmp_path):
    path = tmp_path / "fig01.npz"
    save_npz(path, contract=Contract(dims={"x_fit": ("curve",), "fit_a": ("curve",)}),
             x_fit=np.linspace(0, 1, 100), fit_a=np.zeros(100), sigma=np.float64(1.0))
    raw = dict(np.load(path))
    for key in ("x_fit", "fit_a"):
        raw[key] = raw[key][:50]
    np.savez(path, **raw)
    with pytest.raises(UnreadableFile, match=r"'fit_a' has shape \(50,\), but was written with shape \(100,\)"):
        load_npz(path)


def test_a_contract_is_checked_when_the_file_is_written(tmp_path):
    with pytest.raises(ValueError, match=r"'energies' has shape \(3,\) and 'states' has shape \(4, 5\): they "
                                         r"disagree on n \(3 against 4\)"):
        save_npz(tmp_path / "x.npz", contract=Contract(dims={"states": ("n", "spins"), "energies": ("n",)}),
                 states=np.zeros((4, 5)), energies=np.zeros(3))
    assert not list(tmp_path.iterdir())  # nothing written, no temporary file left
    assert ISING2D.relations  # the data set declares how its sizes agree


def test_a_file_without_manifest_is_refused(tmp_path):
    path = tmp_path / "old.npz"
    np.savez(path, x=np.arange(3))
    with pytest.raises(UnreadableFile, match="it has no manifest"):
        load_npz(path)


# 4. a config error is one short message ------------------------------------------------------------


@pytest.mark.parametrize("override, key", [({"resuls": "x"}, "resuls: unknown key 'resuls'"),
                                           ({"susy": {"source": "ucii"}}, "susy.source: 'ucii' is not allowed")])
def test_a_schema_error_is_a_few_lines_naming_the_key(root, env_with_venv, tmp_path, override, key):
    proc = _dry_run(root, env_with_venv, "--configfile", _override(tmp_path, override))
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and key in out and "Documented in config/config.yaml" in out
    assert len(out.splitlines()) < 10, out


def test_a_missing_section_names_it(paper_config, root):
    config = {k: v for k, v in paper_config.items() if k != "clustering"}
    with pytest.raises(config_checks.ConfigError, match=r"clustering: the key is missing"):
        config_checks.validate(config, root / "workflow/schemas/config.schema.yaml")


# 5. values that fit the schema but not each other ---------------------------------------------------


def test_cross_key_checks_name_the_key(paper_config):
    config = json.loads(json.dumps(paper_config))
    config["polynomial"]["figures"]["fig01"]["functions"] = ["quadratic"]
    config["polynomial"]["train_range"] = [1.0, 0.0]
    config["deep_networks"]["mnist_dnn"]["n_train"] = 70000
    config["energy_based"]["mnist"]["train_fraction"] = 0.99999999
    found = config_checks.problems(config)
    assert any(m.startswith("polynomial.figures.fig01.functions: 'quadratic' is not a function") for m in found)
    assert "polynomial.train_range: [1.0, 0.0] must be [low, high] with low < high" in found
    assert any(m.startswith("deep_networks.mnist_dnn.n_train: 70000 is more than the 60000") for m in found)
    assert any(m.startswith("energy_based.mnist.train_fraction:") and "0 test rows" in m for m in found)
    assert config_checks.problems(paper_config) == []


# 6. an interrupted run does not stop the next one ---------------------------------------------------


def test_make_targets_and_profiles_rerun_incomplete_outputs_and_show_failed_logs(root):
    makefile = (root / "Makefile").read_text()
    command = re.search(r"^SNAKEMAKE := (.*)$", makefile, re.MULTILINE).group(1)
    assert "--rerun-incomplete" in command and "--show-failed-logs" in command
    for profile in ("local", "slurm"):
        settings = yaml.safe_load((root / "profiles" / profile / "config.yaml").read_text())
        assert settings["rerun-incomplete"] is True and settings["show-failed-logs"] is True


# 7. numba's cache stays out of the package ------------------------------------------------------


def test_numba_kernels_are_cached_outside_the_package(tmp_path, env_with_venv):
    env = {k: v for k, v in env_with_venv.items() if k != "NUMBA_CACHE_DIR"}
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    package = Path(__import__("mlreview").__file__).parent
    before = set(package.rglob("*.nb[ic]"))
    code = ("from mlreview.runtime import prepare; prepare(1); import numpy as np; from mlreview.ising import kernels; "
            "kernels.fill_random53(kernels.seed_state(1), np.empty(4))")
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=600)
    assert list((tmp_path / "cache" / "mlreview" / "numba").rglob("*.nbi"))
    assert set(package.rglob("*.nb[ic]")) <= before  # nothing new beside the sources


# 8. the tests install no system package ---------------------------------------------------------


def test_system_packages_are_installed_before_the_tests_not_by_them(root):
    for path in (root / "tests").rglob("*.py"):
        if path.name != Path(__file__).name:
            assert "apt-get" not in path.read_text(), path
    assert re.search(r"^test-deps:", (root / "Makefile").read_text(), re.MULTILINE)
    assert "DPkg::Lock::Timeout" in (root / "Makefile").read_text()
    ci = (root / ".ci/run").read_text()
    assert ci.index("make test-deps") < ci.index("make test\n")


# 9. a slow DAG says how far it got -------------------------------------------------------------------


def test_dag_progress_says_how_far_the_run_got():
    output = ("[t]\nlocalrule ising2d_sample:\n    output: a\n    jobid: 3\n    wildcards: temp=0.25\n"
              "[t]\nrule ising_logistic_fit:\n    output: b\n    jobid: 7\n"
              "[t]\nFinished jobid: 3 (Rule: ising2d_sample)\n1 of 9 steps (11%) done\n")
    assert dag_progress(output) == "1 of 9 steps (11%) done; running: ising_logistic_fit (job 7)"


# also: --unlock while another Snakemake runs here --------------------------------------------------


def test_unlock_is_refused_while_another_snakemake_runs_here(tmp_path):
    other = subprocess.Popen(["bash", "-c", "exec -a snakemake sleep 60"], cwd=tmp_path)
    try:
        for _ in range(50):
            if runlock.other_snakemakes(tmp_path):
                break
            time.sleep(0.1)
        with pytest.raises(RuntimeError, match=rf"another Snakemake process is running in this folder \(pid {other.pid}"):
            runlock.check(tmp_path, ["snakemake", "--unlock"])
        (tmp_path / ".snakemake/locks").mkdir(parents=True)
        (tmp_path / ".snakemake/locks/0.input.lock").write_text("x")
        assert "locked by a running Snakemake" in runlock.check(tmp_path, ["snakemake", "--cores", "1"])
    finally:
        other.kill()
        other.wait()
    assert "the lock is stale" in runlock.check(tmp_path, ["snakemake", "--cores", "1"])
    assert runlock.check(tmp_path, ["snakemake", "--unlock"]) is None


# also: a job killed mid-write -----------------------------------------------------------------------


def _data_files(results: Path) -> dict[str, bytes]:
    """The data and figure files of a run (metrics hold timings and are compared without them)."""
    return {str(p.relative_to(results)): p.read_bytes() for p in sorted(results.rglob("*"))
            if p.is_file() and p.suffix in (".npz", ".png", ".pdf") and "benchmarks" not in p.parts}


@pytest.mark.workflow
def test_a_job_killed_mid_run_is_rebuilt_alone_and_identical(tmp_path, env_with_venv, small_run):
    """SIGKILL the Fig 3 fit while it runs; the rerun rebuilds exactly its outputs and what depends
    on them, byte-identical to an uninterrupted run (the small DAG's, which built the same files
    from the same config), and leaves every finished output untouched."""
    targets = [f"results/small/figures/fig0{i}.png" for i in (1, 2, 3)]
    command = ["snakemake", *targets, "--cores", "1", "--workflow-profile", "profiles/local", "--configfile",
               "config/small.yaml"]
    reference = _data_files(small_run[0] / "results/small")

    work = copy_project(tmp_path / "work")
    run = subprocess.Popen(command, cwd=work, env=env_with_venv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    victim = None
    deadline = time.time() + 600
    while victim is None and time.time() < deadline and run.poll() is None:
        for entry in Path("/proc").glob("[0-9]*"):
            try:
                cmd = (entry / "cmdline").read_bytes().split(b"\0")
                if b"polynomial_fit" in cmd and any(b"fig03" in a for a in cmd) and \
                        Path(os.readlink(entry / "cwd")).resolve() == work.resolve():
                    victim = int(entry.name)
                    break
            except OSError:
                continue
        time.sleep(0.05)
    assert victim is not None, "the Fig 3 fit was never seen running"
    time.sleep(0.5)
    os.kill(victim, signal.SIGKILL)
    run.wait(timeout=600)
    results = work / "results/small"
    before = {name: (results / name).stat().st_mtime_ns for name in _data_files(results)}
    assert "polynomial/fig03.npz" not in before and not list(results.rglob(".*.tmp"))

    rerun = subprocess.run(command, cwd=work, env=env_with_venv, capture_output=True, text=True, timeout=900)
    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]
    after = _data_files(results)
    assert {"polynomial/fig03.npz", "figures/fig01.png", "figures/fig03.pdf"} <= set(after)
    assert after == {name: reference.get(name) for name in after}  # byte-identical to the uninterrupted run
    rebuilt = {name for name in after if name not in before or (results / name).stat().st_mtime_ns != before[name]}
    assert rebuilt == {"polynomial/fig03.npz", "figures/fig03.png", "figures/fig03.pdf"}
