"""Two Snakemake runs in one folder: what the lock message does not say.

Snakemake locks the working folder while it runs. After a killed run the lock stays behind and
`snakemake --unlock` removes it; but an `--unlock` while another Snakemake is still running there
lets a second run start the very jobs the first is running. :func:`check` (called by the Snakefile)
finds the other Snakemake processes of the folder (Linux: /proc) and refuses `--unlock` while one
runs, naming it; when the folder is locked it says whether the lock belongs to a running process
(wait for it) or is stale (`--unlock` is safe).
"""

from __future__ import annotations

import os
from pathlib import Path

LOCKS = Path(".snakemake") / "locks"


def _ancestors(pid: int) -> set[int]:
    found = set()
    while pid > 1:
        found.add(pid)
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            pid = int(stat.rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            break
    return found


def other_snakemakes(folder: str | os.PathLike) -> list[tuple[int, str]]:
    """(pid, command line) of every other Snakemake process whose working folder is ``folder``
    (this process and its parents excluded; empty where /proc cannot be read)."""
    folder = Path(folder).resolve()
    mine = _ancestors(os.getpid())
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        pid = int(entry.name)
        if pid in mine:
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            if not any(Path(a.decode(errors="replace")).name == "snakemake" for a in argv[:3] if a):
                continue
            if Path(os.readlink(entry / "cwd")).resolve() != folder:
                continue
        except OSError:
            continue
        found.append((pid, " ".join(a.decode(errors="replace") for a in argv if a)))
    return sorted(found)


def check(folder: str | os.PathLike, argv: list[str]) -> str | None:
    """Refuse `--unlock` while another Snakemake runs in ``folder`` (raises RuntimeError with the
    message); return a note about the folder's lock when there is one to make (else None)."""
    if "--nolock" in argv or any(a in ("-n", "--dry-run", "--dryrun") for a in argv):
        return None
    running = other_snakemakes(folder)
    described = "; ".join(f"pid {pid}: {cmd[:120]}" for pid, cmd in running)
    if "--unlock" in argv:
        if running:
            raise RuntimeError(
                f"another Snakemake process is running in this folder ({described}). --unlock would let a second "
                f"run start the jobs it is running: wait for it to finish, or stop it (kill {running[0][0]}), "
                "then unlock.")
        return None
    locked = (Path(folder) / LOCKS).is_dir() and any((Path(folder) / LOCKS).iterdir())
    if not locked:
        return None
    if running:
        return (f"note: this folder is locked by a running Snakemake ({described}); wait for it to finish or "
                "stop it - do not --unlock while it runs.")
    return ("note: this folder is locked, but no Snakemake runs here: the lock is stale (a killed run); "
            "`snakemake --unlock` removes it.")
