"""Provenance recorded with every metrics file: config values, versions, commit, time."""

from __future__ import annotations

import platform
import subprocess
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

#: Distributions whose versions are recorded with every result.
TRACKED_PACKAGES = (
    "mlreview",
    "numpy",
    "scipy",
    "scikit-learn",
    "matplotlib",
    "pandas",
    "numba",
    "torch",
    "xgboost-cpu",
    "xgboost",
    "snakemake",
)


def package_versions(names: tuple[str, ...] = TRACKED_PACKAGES) -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def git_commit(cwd: str | Path = ".") -> dict[str, object]:
    """The commit of the working tree and whether it had uncommitted changes.

    Returns ``{"commit": "unknown", "dirty": None}`` outside a git checkout.
    """
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return {"commit": "unknown", "dirty": None}
    return {"commit": commit, "dirty": bool(status.strip())}


def cpu_model() -> str:
    """The CPU model name (from /proc/cpuinfo on Linux), else what platform knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def provenance(step: str, params: dict, wall_time_s: float, threads: int) -> dict:
    """The provenance block stored under ``"provenance"`` in every metrics file."""
    seeds = {k: v for k, v in _walk(params) if k.split(".")[-1].startswith("seed")}
    return {
        "step": step,
        "params": params,
        "seeds": seeds,
        "threads": threads,
        "wall_time_s": round(wall_time_s, 4),
        "finished_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "git": git_commit(),
        "versions": package_versions(),
        "host": platform.node(),
        "cpu": cpu_model(),
    }


def _walk(obj, prefix=""):
    if isinstance(obj, dict):
        for key, value in obj.items():
            yield from _walk(value, f"{prefix}.{key}" if prefix else str(key))
    else:
        yield prefix, obj
