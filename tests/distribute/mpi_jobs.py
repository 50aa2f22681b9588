"""Launching real MPI jobs from the tests: ``run(n, script, *args)`` under ``mpiexec``."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "scripts")


def _mpiexec():
    beside = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    return beside if os.path.exists(beside) else shutil.which("mpiexec")


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    return env


@functools.lru_cache(maxsize=1)
def _why_not() -> str | None:
    """None when a 2-process MPI job starts here; else why not (the skip reason)."""
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return 'mpi4py is not installed (pip install "rill[mpi]")'
    exe = _mpiexec()
    if exe is None:
        return "no mpiexec found (pip install mpich)"
    probe = "from mpi4py import MPI; c = MPI.COMM_WORLD; print(c.allreduce(1))"
    why = None
    for _ in range(3):  # a loaded machine can fail one start; three failures are a reason
        try:
            res = subprocess.run([exe, "-n", "2", sys.executable, "-c", probe], capture_output=True,
                                 text=True, timeout=60, env=_env())  # fmt: skip
        except (OSError, subprocess.TimeoutExpired) as e:
            why = f"MPI cannot start a 2-process job here: {e}"
            continue
        # each rank prints "2"; the launcher may interleave the two lines ("22\n\n")
        if res.returncode == 0 and "".join(res.stdout.split()) == "22":
            return None
        why = f"MPI cannot start a 2-process job here: {(res.stderr or res.stdout).strip()[-300:]}"
    return why


def require_mpi():
    reason = _why_not()
    if reason:
        pytest.skip(reason)


def run(n: int, script: str, *args, timeout: float = 120) -> subprocess.CompletedProcess:
    """``script`` (a file of tests/distribute/scripts) as an ``n``-process job (``n`` = 1:
    a plain process, no launcher); the job is killed after ``timeout`` seconds."""
    path = os.path.join(SCRIPTS, script)
    cmd = [sys.executable, path, *map(str, args)]
    if n > 1:
        require_mpi()
        cmd = [_mpiexec(), "-n", str(n), *cmd]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=_env())


def check(res: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert res.returncode == 0, f"job failed ({res.returncode}):\n{res.stdout}\n{res.stderr}"
    return res
