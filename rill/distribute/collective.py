"""The process group a strategy's replicas form, and its collectives on NumPy buffers.

One replica is one process. Under ``mpiexec`` / ``srun`` the group is MPI's
``COMM_WORLD`` (mpi4py, the ``rill[mpi]`` extra); launched plainly it is a group of one,
and MPI is never imported. Every collective works on one contiguous NumPy buffer (the
gradients of a step are flattened into one bucket before the call), never on pickled
objects, and waits with a deadline: a nonblocking MPI call is polled, so a rank that
died or never arrives fails the job with ``DeadlineExceededError`` instead of hanging.
"""

from __future__ import annotations

import abc
import os
import sys
import time

import numpy as np

from rill.core import errors

__all__ = ["Group", "LocalGroup", "MPIGroup", "world", "launched_by_mpi"]

# environment variables that MPI launchers set in every rank they start
_LAUNCHER_VARS = ("PMI_SIZE", "PMI_RANK", "OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS")
DEFAULT_TIMEOUT = float(os.environ.get("RILL_COLLECTIVE_TIMEOUT", "300"))

_OPS = ("SUM", "MAX", "MIN", "PROD")


def launched_by_mpi() -> bool:
    """True when an MPI launcher (mpiexec, mpirun, srun --mpi) started this process."""
    if any(v in os.environ for v in _LAUNCHER_VARS):
        return True
    # srun with PMI: SLURM_NTASKS > 1 and a step id
    return int(os.environ.get("SLURM_NTASKS", "1")) > 1 and "SLURM_STEP_ID" in os.environ


class Group(abc.ABC):
    """The ranks of a job: ``rank``, ``size``, and collectives with a deadline."""

    rank = 0
    size = 1
    timeout = DEFAULT_TIMEOUT

    @property
    def is_chief(self) -> bool:
        return self.rank == 0

    @abc.abstractmethod
    def allreduce(self, buf: np.ndarray, op: str = "SUM") -> np.ndarray:
        """Reduce ``buf`` over the ranks (in place where possible); the result."""
        ...

    @abc.abstractmethod
    def broadcast(self, buf: np.ndarray, root: int = 0) -> np.ndarray: ...

    @abc.abstractmethod
    def allgather(self, buf: np.ndarray) -> np.ndarray:
        """Concatenate every rank's ``buf`` along axis 0 (sizes may differ), rank order."""
        ...

    @abc.abstractmethod
    def barrier(self) -> None: ...


class LocalGroup(Group):
    """A job of one process: every collective is the identity."""

    def allreduce(self, buf, op="SUM"):
        _check_op(op)
        return np.asarray(buf)

    def broadcast(self, buf, root=0):
        return np.asarray(buf)

    def allgather(self, buf):
        return np.asarray(buf)

    def barrier(self):
        return None


def _check_op(op):
    if op not in _OPS:
        raise ValueError(f"all-reduce: unknown reduction {op!r}; expected one of {_OPS}.")


class MPIGroup(Group):
    """``MPI.COMM_WORLD`` through mpi4py; collectives are polled nonblocking calls."""

    def __init__(self, timeout: float | None = None):
        try:
            from mpi4py import MPI
        except ImportError as e:  # pragma: no cover - depends on the environment
            raise ImportError(
                "rill.distribute over several processes needs mpi4py and an MPI library: "
                'pip install "rill[mpi]"'
            ) from e
        self._mpi = MPI
        self.comm = MPI.COMM_WORLD
        self.rank = self.comm.Get_rank()
        self.size = self.comm.Get_size()
        self.timeout = DEFAULT_TIMEOUT if timeout is None else float(timeout)
        self._mpi_ops = {"SUM": MPI.SUM, "MAX": MPI.MAX, "MIN": MPI.MIN, "PROD": MPI.PROD}

    def _wait(self, req, what: str, nbytes: int):
        # spin briefly (latency of small messages), then sleep between polls so that a
        # long wait leaves the CPU to the ranks still computing
        if req.Test():
            return
        deadline = time.monotonic() + self.timeout
        spins = 0
        while not req.Test():
            spins += 1
            if spins > 200:
                if time.monotonic() > deadline:
                    raise errors.DeadlineExceededError(
                        None,
                        None,
                        f"Collective {what} of {nbytes} bytes on rank {self.rank} of "
                        f"{self.size} did not complete within {self.timeout:g} s: another "
                        "rank failed or stopped calling collectives (set the limit with "
                        "CommunicationOptions(timeout_seconds=...) or "
                        "RILL_COLLECTIVE_TIMEOUT).",
                    )
                time.sleep(5e-5 if spins < 2000 else 1e-3)

    def allreduce(self, buf, op="SUM"):
        _check_op(op)
        buf = np.ascontiguousarray(buf)
        if not buf.flags.writeable:
            buf = buf.copy()
        req = self.comm.Iallreduce(self._mpi.IN_PLACE, buf, self._mpi_ops[op])
        self._wait(req, f"all-reduce ({op})", buf.nbytes)
        return buf

    def broadcast(self, buf, root=0):
        buf = np.ascontiguousarray(buf)
        if not buf.flags.writeable:
            buf = buf.copy()
        req = self.comm.Ibcast(buf, root=root)
        self._wait(req, "broadcast", buf.nbytes)
        return buf

    def allgather(self, buf):
        buf = np.ascontiguousarray(buf)
        lead = np.array([buf.shape[0] if buf.ndim else 1], np.int64)
        counts = np.empty(self.size, np.int64)
        req = self.comm.Iallgather(lead, counts)
        self._wait(req, "all-gather (sizes)", 8 * self.size)
        rest = buf.shape[1:] if buf.ndim else ()
        row = int(np.prod(rest, dtype=np.int64))
        out = np.empty((int(counts.sum()), *rest), buf.dtype)
        sizes = [int(c) * row for c in counts]
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(int).tolist()
        req = self.comm.Iallgatherv(
            buf.reshape(-1), [out.reshape(-1), sizes, offsets, self._mpi._typedict[buf.dtype.char]]
        )
        self._wait(req, "all-gather", out.nbytes)
        return out

    def barrier(self):
        self._wait(self.comm.Ibarrier(), "barrier", 0)


_world: list = []


def _abort_on_uncaught(group: MPIGroup):
    """An uncaught exception on one rank ends the whole job (with its traceback first),
    as mpi4py's ``-m mpi4py`` runner does: the other ranks would otherwise wait."""

    def hook(kind, value, tb):
        import traceback

        sys.stdout.flush()
        sys.stderr.flush()
        text = "".join(traceback.format_exception(kind, value, tb))
        text += f"rill.distribute: rank {group.rank} failed; aborting the job.\n"
        # one write, then a moment before the abort: the launcher forwards this rank's
        # output through a pipe, and Abort kills the job before it drains what came late
        try:
            os.write(2, text.encode("utf-8", "replace"))
        except OSError:
            pass
        time.sleep(0.2)
        group.comm.Abort(1)

    sys.excepthook = hook


def world(timeout: float | None = None) -> Group:
    """The job's process group: MPI's world under an MPI launcher, else a group of one."""
    if not _world:
        if launched_by_mpi():
            group = MPIGroup(timeout)
            if group.size > 1:
                _abort_on_uncaught(group)
        else:
            group = LocalGroup()
        _world.append(group)
    elif timeout is not None:
        _world[0].timeout = float(timeout)
    return _world[0]
