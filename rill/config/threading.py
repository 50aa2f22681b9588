"""``tf.config.threading``: how many threads ops may use.

- intra-op: the threads one op uses inside it. rill's ops that use threads are NumPy's
  BLAS calls (matmul, linalg, convolutions through matmul), so a positive value limits
  the BLAS (and OpenMP) thread pools of the process, through ``threadpoolctl`` (an
  optional package: ``pip install 'rill[threads]'``, imported only when a limit is set);
  0 gives the pools back their own size.
- inter-op: how many ops run at once. rill's eager ops run one at a time in the caller's
  thread; what runs in parallel is ``tf.data``: a positive value bounds the worker
  threads of parallel ``map`` and the datasets a parallel ``interleave`` produces ahead
  (unless the dataset's ``options().threading.private_threadpool_size`` is set), and a
  negative one runs them in the caller's thread, as TF does.

Both are fixed once rill is initialised (``rill.core.runtime``): changing them after
raises ``RuntimeError`` (setting the current value again does not), as in TF. 0 (the
default) lets the system choose.
"""

from __future__ import annotations

import operator

from rill.core import runtime as _runtime

__all__ = [
    "get_inter_op_parallelism_threads", "set_inter_op_parallelism_threads",
    "get_intra_op_parallelism_threads", "set_intra_op_parallelism_threads",
]  # fmt: skip

_blas_limits = [None]  # the threadpoolctl limiter in force, to restore the pools from


def _threads(num_threads) -> int:
    if isinstance(num_threads, bool):
        raise TypeError(f"num_threads must be an int, got {num_threads!r}.")
    try:
        return operator.index(num_threads)
    except TypeError:
        raise TypeError(f"num_threads must be an int, got {num_threads!r}.") from None


def _threadpoolctl():
    try:
        import threadpoolctl
    except ImportError as e:
        raise ImportError(
            "tf.config.threading.set_intra_op_parallelism_threads limits NumPy's BLAS "
            "threads through the optional 'threadpoolctl' package: "
            "pip install 'rill[threads]' (or pip install threadpoolctl)."
        ) from e
    return threadpoolctl


def _limit_blas(n: int) -> None:
    """Limit the process's BLAS/OpenMP pools to ``n`` threads; ``n <= 0`` restores them."""
    current = _blas_limits[0]
    if n > 0:
        limiter = _threadpoolctl().threadpool_limits(limits=n)
        if current is None:  # keep the first limiter: it knows the original sizes
            _blas_limits[0] = limiter
    elif current is not None:
        current.restore_original_limits()
        _blas_limits[0] = None


def get_intra_op_parallelism_threads() -> int:
    """The intra-op thread setting (0: the system picks)."""
    return _runtime.settings.intra_op_threads


def set_intra_op_parallelism_threads(num_threads) -> None:
    """Limit the threads one op may use (NumPy's BLAS pools) to ``num_threads``; 0 lifts
    the limit. Changing it raises ``RuntimeError`` once rill is initialised."""
    n = _threads(num_threads)
    if n == _runtime.settings.intra_op_threads:
        return
    if _runtime.settings.initialized:
        raise RuntimeError("Intra op parallelism cannot be modified after initialization.")
    _limit_blas(n)
    _runtime.settings.intra_op_threads = n


def get_inter_op_parallelism_threads() -> int:
    """The inter-op thread setting (0: the system picks)."""
    return _runtime.settings.inter_op_threads


def set_inter_op_parallelism_threads(num_threads) -> None:
    """Bound the threads that run in parallel (``tf.data``'s parallel map and
    interleave) to ``num_threads``; 0 lifts the bound, a negative value runs them in the
    caller's thread. Changing it raises ``RuntimeError`` once rill is initialised."""
    n = _threads(num_threads)
    if n == _runtime.settings.inter_op_threads:
        return
    if _runtime.settings.initialized:
        raise RuntimeError("Inter op parallelism cannot be modified after initialization.")
    _runtime.settings.inter_op_threads = n
