"""Shared fixtures: the repository root, the paper config, and the venv's binaries."""

from __future__ import annotations

import os
import sys
from pathlib import Path

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
