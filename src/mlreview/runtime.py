"""How the process of a step is set up before the step's module is imported (and with it numpy,
torch or numba): the thread counts of the numerical libraries, the matplotlib backend, and the
cache folder of numba's compiled kernels. Imports nothing heavy."""

from __future__ import annotations

import os
from pathlib import Path

#: environment variables that fix the thread count of numpy's BLAS, OpenMP, MKL and numba
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")


def cache_dir(name: str) -> Path:
    """A folder for caches (the compiled numba kernels): ``$XDG_CACHE_HOME/mlreview/<name>``, by
    default ``~/.cache/mlreview/<name>``; never inside the package, which stays read-only."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "mlreview" / name


def prepare(threads: int) -> None:
    """Fix the thread counts, the plotting backend and numba's cache folder of this process
    (before numpy, torch or numba is imported)."""
    for var in THREAD_VARIABLES:
        os.environ[var] = str(threads)
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.environ.setdefault("NUMBA_CACHE_DIR", str(cache_dir("numba")))
