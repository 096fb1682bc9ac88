"""Shared fixtures: the repository root, the paper config, the venv's binaries, and the
whole small DAG run once in a temporary copy of the project (used by the workflow tests and
as the local reference of the SLURM test)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

# numba's compiled kernels go to the user's cache folder, as in the workflow's steps (the package's
# source tree stays free of .nbi/.nbc files); set before any test imports numba.
from mlreview.runtime import cache_dir  # noqa: E402

os.environ.setdefault("NUMBA_CACHE_DIR", str(cache_dir("numba")))


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def paper_config() -> dict:
    return yaml.safe_load((ROOT / "config" / "config.yaml").read_text())


@pytest.fixture(scope="session")
def env_with_venv() -> dict:
    """The environment for subprocesses: this interpreter's bin first on PATH."""
    env = dict(os.environ)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("MPLBACKEND", "Agg")
    # The offline copies of MNIST beside the checkout (CI has no internet). A temporary copy
    # of the project has no ../shared beside it, so name the folder absolutely.
    mirror = ROOT.parent / "shared" / "data"
    if mirror.is_dir():
        env.setdefault("MLREVIEW_DATA_MIRROR", str(mirror))
    return env


#: Tc of the 2D Ising model (J = 1)
TC = 2.269185314213022


def save_tiny_ising(path: Path, blocks: list[np.ndarray], temperatures: list[float], lattice: int) -> Path:
    """A tiny file in the layout of ising2d.npz: one block of +-1 states (n, lattice**2) per
    temperature, with the labels and phase sets of decision e."""
    from mlreview.io import save_npz
    from mlreview.ising.packing import pack_states

    t = np.concatenate([np.full(len(b), T, np.float32) for b, T in zip(blocks, temperatures)])
    phase = np.where(t < 2.0, 0, np.where(t > 2.5, 2, 1)).astype(np.int8)
    save_npz(path, packed=pack_states(np.concatenate(blocks).astype(np.int8)), temperature=t,
             label=(t < TC).astype(np.int8), phase=phase, lattice=lattice, J=1.0, tc=TC,
             temperatures=np.array(temperatures))
    return path


#: What a temporary copy of the project leaves out (outputs, caches, the environment).
IGNORE = shutil.ignore_patterns(".venv", "results", ".snakemake", ".git", "__pycache__", "*.egg-info",
                                ".pytest_cache")


def copy_project(dest: Path) -> Path:
    """A copy of the project's sources at ``dest`` (no results, no .venv)."""
    shutil.copytree(ROOT, dest, ignore=IGNORE)
    return dest


def dag_progress(output: str) -> str:
    """How far a Snakemake run got, from its console output: the last 'N of M steps' line and the
    jobs that had started but not finished (for a timeout or a failure message)."""
    import re

    steps = re.findall(r"(\d+) of (\d+) steps \((\d+%)\) done", output)
    started = {jobid: rule for rule, jobid in re.findall(r"^(?:local)?rule (\w+):\n(?:    .*\n)*?    jobid: (\d+)",
                                                        output, re.MULTILINE)}
    finished = set(re.findall(r"Finished jobid: (\d+)", output))
    running = [f"{rule} (job {jobid})" for jobid, rule in started.items() if jobid not in finished]
    done = f"{steps[-1][0]} of {steps[-1][1]} steps ({steps[-1][2]}) done" if steps else "no step finished"
    return f"{done}; running: {', '.join(running) or 'nothing'}"


#: the small DAG's time limit (seconds); a slower machine fails with how far the run got
SMALL_DAG_TIMEOUT = 1200


@pytest.fixture(scope="session")
def small_run(env_with_venv, tmp_path_factory):
    """Copy the project, run `snakemake` on config/small.yaml, return (dir, seconds)."""
    work = copy_project(tmp_path_factory.mktemp("project") / "mlreview")
    start = time.perf_counter()
    try:
        proc = subprocess.run(
            ["snakemake", "--cores", "2", "--configfile", "config/small.yaml"],
            cwd=work, env=env_with_venv, capture_output=True, text=True, timeout=SMALL_DAG_TIMEOUT,
        )
    except subprocess.TimeoutExpired as err:
        output = (err.stdout or b"").decode(errors="replace") if isinstance(err.stdout, bytes) else (err.stdout or "")
        output += (err.stderr or b"").decode(errors="replace") if isinstance(err.stderr, bytes) else (err.stderr or "")
        pytest.fail(f"the small DAG did not finish in {SMALL_DAG_TIMEOUT} s (a loaded machine?): "
                    f"{dag_progress(output)}")
    assert proc.returncode == 0, dag_progress(proc.stdout + proc.stderr) + "\n" + proc.stdout[-5000:] + proc.stderr[-5000:]
    return work, time.perf_counter() - start


#: the tiny Ising phases file shared by the tests of Figs 21, 33 (lattice, temperatures, states per T)
TINY_L = 6
TINY_TEMPS = [1.0, 1.5, 2.0, 2.25, 2.5, 3.0, 3.5]
TINY_PER_T = 40


@pytest.fixture(scope="module")
def ising_file(tmp_path_factory):
    """A tiny file in the layout of ising2d.npz: ordered states mostly up (so that a linear model
    can separate them; the real data hold both signs), disordered states random."""
    rng = np.random.default_rng(0)
    rows = []
    for T in TINY_TEMPS:
        flip = min(0.5, 0.05 * T**2)  # fraction of spins against the majority grows with T
        sign = np.ones((TINY_PER_T, 1), np.int8) if T < 2.0 else rng.choice([-1, 1], size=(TINY_PER_T, 1))
        rows.append(np.where(rng.random((TINY_PER_T, TINY_L * TINY_L)) < flip, -sign, sign).astype(np.int8))
    return save_tiny_ising(tmp_path_factory.mktemp("ising") / "ising2d.npz", rows, TINY_TEMPS, TINY_L)


def phase_set_params() -> dict:
    """The phase sets of the Ising classification figures (Figs 21, 33): train on ordered and
    disordered states, evaluate also on the critical ones."""
    return {"train_phases": ["ordered", "disordered"], "evaluation_phases": ["critical"], "dtype": "float32",
            "confidence": 0.95}
