"""Array backends: the only place that knows which array module runs the kernels.

A backend is an array namespace in the sense of the Python array API standard (NumPy 2's
``numpy`` module is one; CuPy's would be another) plus a name. Every primitive's kernel is
written against such a namespace, received as its first argument ``xp`` (or named as a
string, e.g. ``"subtract"``, resolved on the namespace), and the op registry binds each
kernel to the active backend once (``rill.core.dispatch.set_backend``), so the eager hot
path calls a bound kernel with no per-call lookup. Kernels that only make sense on host
memory (strings, variant lists, Python callbacks, file I/O) are declared ``host=True``
and always receive NumPy arrays, like TensorFlow's host-memory ops.
"""

from __future__ import annotations

import numpy as np

__all__ = ["Backend", "NUMPY", "bfloat16_np", "ml_dtype_np", "CPU_DEVICE"]


class Backend:
    """An array backend: ``name`` and ``xp``, the array namespace its kernels call."""

    __slots__ = ("name", "xp")

    def __init__(self, name: str, xp):
        self.name = name
        self.xp = xp

    def __repr__(self):
        return f"<rill backend {self.name}>"


NUMPY = Backend("numpy", np)  # the CPU device's backend, and the default

_ml_dtypes = None


def ml_dtype_np(name: str) -> np.dtype:
    """NumPy dtype ``name`` (bfloat16, float8_e4m3fn, int4, ...) from the optional
    ``ml_dtypes`` package, which defines these types for NumPy."""
    global _ml_dtypes
    if _ml_dtypes is None:
        try:
            import ml_dtypes
        except ImportError as e:  # pragma: no cover - depends on the environment
            raise ImportError(
                f"{name} needs the optional 'ml_dtypes' package: pip install 'rill[bfloat16]'"
            ) from e
        _ml_dtypes = ml_dtypes
    return np.dtype(getattr(_ml_dtypes, name))


def bfloat16_np() -> np.dtype:
    """NumPy dtype for bfloat16, from the optional ``ml_dtypes`` package."""
    return ml_dtype_np("bfloat16")


CPU_DEVICE = "/job:localhost/replica:0/task:0/device:CPU:0"
