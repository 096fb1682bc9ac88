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
    from mlreview.ising.sampling import pack_states

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


@pytest.fixture(scope="session")
def small_run(env_with_venv, tmp_path_factory):
    """Copy the project, run `snakemake` on config/small.yaml, return (dir, seconds)."""
    work = copy_project(tmp_path_factory.mktemp("project") / "mlreview")
    start = time.perf_counter()
    proc = subprocess.run(
        ["snakemake", "--cores", "2", "--configfile", "config/small.yaml"],
        cwd=work, env=env_with_venv, capture_output=True, text=True, timeout=1200,
    )
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-5000:]
    return work, time.perf_counter() - start
