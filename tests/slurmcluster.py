"""A real one-node SLURM cluster on this machine, for the cluster-profile test.

``one_node_cluster()`` starts ``munged`` (as the ``munge`` user, with its own key and
socket), ``slurmctld`` and ``slurmd`` (as root, in the foreground, on free ports) from a
``slurm.conf`` in a temporary directory, waits until ``sinfo`` shows the node idle and
yields the environment that points SLURM's commands at it (``SLURM_CONF``). On the way
out - also when the test fails - it cancels what is still queued, stops the daemons by
the process ids it started and removes the directory.

Debian's ``slurm-wlm`` and ``munge`` are installed before the tests by ``make test-deps``, never
here. ``SlurmNotInstalled`` (the programs are missing) turns the test into a skip that says so;
any other ``SlurmUnavailable`` (no root, a daemon that does not start) fails it. Nothing here touches the system's own SLURM or
munge configuration.

Run by hand (as root) to get a cluster for a few minutes::

    python -m tests.slurmcluster
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

#: The programs the cluster needs (from Debian's slurm-wlm and munge, installed by `make test-deps`).
PROGRAMS = ("munged", "slurmctld", "slurmd", "sinfo", "sbatch", "squeue", "scancel", "srun")
PARTITION = "debug"
#: Memory left to the operating system when the node's RealMemory is declared.
RESERVED_MB = 1024
#: Seconds to wait for the daemons to come up and for the node to become idle.
START_TIMEOUT = 60


class SlurmUnavailable(RuntimeError):
    """A one-node cluster cannot be started here (the message says why)."""


def missing_programs() -> list[str]:
    return [p for p in PROGRAMS if shutil.which(p) is None and not Path("/usr/sbin", p).exists()]


class SlurmNotInstalled(SlurmUnavailable):
    """The SLURM programs are not installed (the only case in which the SLURM tests are skipped)."""


def require_programs() -> None:
    """The SLURM and munge programs must be installed, by `make test-deps`, never by a test."""
    if missing_programs():
        raise SlurmNotInstalled(f"the SLURM programs {missing_programs()} are not installed: run `make test-deps` "
                                "(as root, on Debian) to test the cluster profile")


def program(name: str) -> str:
    return shutil.which(name) or str(Path("/usr/sbin", name))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def node_memory_mb() -> int:
    """The memory SLURM may hand out: MemTotal less a reserve for the system."""
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return max(int(line.split()[1]) // 1024 - RESERVED_MB, 512)
    raise SlurmUnavailable("/proc/meminfo has no MemTotal")


def slurm_conf(tmp: Path, *, host: str, cpus: int, memory_mb: int, munge_socket: Path) -> str:
    """A one-node configuration: no cgroups, no accounting, one partition."""
    ctld, slurmd = free_port(), free_port()
    return "\n".join(
        [
            "ClusterName=mlreview-test",
            # the daemons talk over the loopback address even where the host name does not resolve
            f"SlurmctldHost={host}(127.0.0.1)",
            f"SlurmctldPort={ctld}",
            f"SlurmdPort={slurmd}",
            "SlurmUser=root",
            "SlurmdUser=root",
            "AuthType=auth/munge",
            "CredType=cred/munge",
            f"AuthInfo=socket={munge_socket}",
            f"StateSaveLocation={tmp}/state",
            f"SlurmdSpoolDir={tmp}/spool",
            f"SlurmctldPidFile={tmp}/slurmctld.pid",
            f"SlurmdPidFile={tmp}/slurmd.pid",
            f"SlurmctldLogFile={tmp}/slurmctld.log",
            f"SlurmdLogFile={tmp}/slurmd.log",
            f"PlugStackConfig={tmp}/plugstack.conf",
            "ProctrackType=proctrack/linuxproc",
            "TaskPlugin=task/none",
            "SwitchType=switch/none",
            "MpiDefault=none",
            "SelectType=select/cons_tres",
            "SelectTypeParameters=CR_Core_Memory",
            "AccountingStorageType=accounting_storage/none",
            "JobAcctGatherType=jobacct_gather/none",
            "JobCompType=jobcomp/none",
            # finished jobs stay visible to `squeue --states=all` (the status command)
            "MinJobAge=3600",
            "ReturnToService=2",
            "SchedulerParameters=sched_interval=2",
            f"NodeName={host} NodeAddr=127.0.0.1 CPUs={cpus} RealMemory={memory_mb} State=UNKNOWN",
            f"PartitionName={PARTITION} Nodes={host} Default=YES MaxTime=INFINITE State=UP",
            "",
        ]
    )


def _start(stack: ExitStack, argv: list[str], log: Path, env: dict, user: str | None = None) -> subprocess.Popen:
    """Start a foreground daemon; the stack stops it by its pid on the way out."""
    fh = stack.enter_context(open(log, "ab"))
    proc = subprocess.Popen(argv, stdout=fh, stderr=subprocess.STDOUT, env=env, user=user,
                            start_new_session=True)
    stack.callback(_stop, proc)
    return proc


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def _wait(what: str, ready, procs: list[subprocess.Popen], logs: list[Path], timeout: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    dead: list = []
    while time.monotonic() < deadline:
        if ready():
            return
        dead = [p.args[0] for p in procs if p.poll() is not None]
        if dead:
            break
        time.sleep(0.5)
    tails = "\n".join(f"--- {log}:\n{log.read_text(errors='replace')[-2000:]}" for log in logs if log.exists())
    raise RuntimeError(f"{what} did not happen within {timeout:.0f} s (exited: {dead or 'none'})\n{tails}")


def _cancel_jobs(env: dict) -> None:
    """Cancel what is still queued or running on our cluster (a failed test leaves jobs)."""
    subprocess.run([program("scancel"), "--full", "--user", "root"], env=env, capture_output=True, timeout=30)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        out = subprocess.run([program("squeue"), "-h", "-o", "%i"], env=env, capture_output=True, text=True,
                             timeout=30)
        if out.returncode != 0 or not out.stdout.strip():
            return
        time.sleep(1)


@contextmanager
def one_node_cluster() -> Iterator[dict]:
    """Start munged, slurmctld and slurmd; yield the environment for SLURM commands.

    The yielded dict is ``os.environ`` with ``SLURM_CONF`` set and an ``srun`` wrapper first
    on ``PATH``, plus the partition, host, CPU count, memory, directory and daemon pids
    under ``MLREVIEW_SLURM_*`` keys.
    """
    if os.geteuid() != 0:
        raise SlurmUnavailable("a test SLURM cluster needs root (slurmd runs jobs as their user)")
    require_programs()
    try:
        pwd.getpwnam("munge")
    except KeyError:
        raise SlurmUnavailable("the munge package did not create the 'munge' user") from None
    host = socket.gethostname().split(".")[0]
    cpus = os.cpu_count() or 1
    memory_mb = node_memory_mb()
    # mkdtemp is private (0700): open it so that munged, running as munge, reaches its files.
    tmp = Path(tempfile.mkdtemp(prefix="mlreview-slurm-"))
    with ExitStack() as stack:
        stack.callback(shutil.rmtree, tmp, ignore_errors=True)
        tmp.chmod(0o755)
        munge_dir = tmp / "munge"
        munge_dir.mkdir(mode=0o700)
        key = munge_dir / "munge.key"
        key.write_bytes(os.urandom(1024))
        key.chmod(0o400)
        shutil.chown(munge_dir, "munge", "munge")
        shutil.chown(key, "munge", "munge")
        munge_socket = munge_dir / "munge.socket"
        for sub in ("state", "spool"):
            (tmp / sub).mkdir()
        (tmp / "plugstack.conf").write_text("")
        conf = tmp / "slurm.conf"
        conf.write_text(slurm_conf(tmp, host=host, cpus=cpus, memory_mb=memory_mb, munge_socket=munge_socket))
        env = {**os.environ, "SLURM_CONF": str(conf)}
        # The SLURM executor's job step starts the rule with a nested `srun` whose environment
        # keeps only a few SLURM_* variables, SLURM_CONF not among them: on a real cluster the
        # configuration sits at its default path (or comes from slurmctld), this one's does not.
        # An `srun` first on PATH (exported into every job) puts it back.
        wrappers = tmp / "bin"
        wrappers.mkdir()
        srun = wrappers / "srun"
        srun.write_text(f'#!/bin/sh\nSLURM_CONF="{conf}" exec "{program("srun")}" "$@"\n')
        srun.chmod(0o755)
        env["PATH"] = f"{wrappers}{os.pathsep}{env.get('PATH', '')}"
        for var in [v for v in env if v.startswith(("SLURM_", "SBATCH_", "SRUN_", "SQUEUE_")) and v != "SLURM_CONF"]:
            env.pop(var)  # a test run inside a SLURM job must not leak that job's settings
        logs = [munge_dir / "munged.log", tmp / "slurmctld.out", tmp / "slurmd.out",
                tmp / "slurmctld.log", tmp / "slurmd.log"]
        # --force: munged refuses a key below a world-writable (sticky) directory such as /tmp
        munged = _start(stack, [program("munged"), "--foreground", "--force", f"--socket={munge_socket}",
                                f"--key-file={key}", f"--log-file={munge_dir / 'munged.log'}",
                                f"--pid-file={munge_dir / 'munged.pid'}", f"--seed-file={munge_dir / 'munged.seed'}"],
                        munge_dir / "munged.out", env, user="munge")
        _wait("munged's socket", munge_socket.exists, [munged], logs)
        ctld = _start(stack, [program("slurmctld"), "-D", "-c", "-i", "-f", str(conf)], tmp / "slurmctld.out", env)
        slurmd = _start(stack, [program("slurmd"), "-D", "-f", str(conf), "-N", host], tmp / "slurmd.out", env)
        # cancel leftover jobs before the daemons stop (callbacks run in reverse order)
        stack.callback(_cancel_jobs, env)

        def node_idle() -> bool:
            out = subprocess.run([program("sinfo"), "-h", "-N", "-o", "%T"], env=env, capture_output=True,
                                 text=True, timeout=30)
            return out.returncode == 0 and out.stdout.strip() == "idle"

        _wait(f"node {host} idle in sinfo", node_idle, [munged, ctld, slurmd], logs)
        yield {
            **env,
            "MLREVIEW_SLURM_PARTITION": PARTITION,
            "MLREVIEW_SLURM_HOST": host,
            "MLREVIEW_SLURM_CPUS": str(cpus),
            "MLREVIEW_SLURM_MEMORY_MB": str(memory_mb),
            "MLREVIEW_SLURM_DIR": str(tmp),
            "MLREVIEW_SLURM_PIDS": ",".join(str(p.pid) for p in (munged, ctld, slurmd)),
        }


if __name__ == "__main__":
    with one_node_cluster() as cluster_env:
        print(f"export SLURM_CONF={cluster_env['SLURM_CONF']}   # the cluster runs for 10 minutes")
        subprocess.run([program("sinfo")], env=cluster_env)
        try:
            time.sleep(600)
        except KeyboardInterrupt:
            pass
