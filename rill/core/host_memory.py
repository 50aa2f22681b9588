"""The host allocator's policy for tensor buffers (glibc's malloc, on Linux).

An eager step allocates and frees arrays of hundreds of kilobytes per op (a layer's
activations, a weight's gradient, the optimizer's temporaries). glibc serves requests
above its mmap threshold (128 KiB at start) with fresh mappings, and returns the top of
its heap to the OS once more than its trim threshold (twice the mmap threshold) is free
there. Both thresholds rise only after the program frees a large mapped block, so a
training loop whose arrays are around a megabyte keeps giving pages back and faulting
them in again: measured on the eager MLP Adam step (784-256-128-10, batch 128), 42 to
53 page faults a step and 5 to 8% of its time; a fresh process's Keras fit epoch of that
model ran 27% slower.

rill's arrays are NumPy's, on the C library's malloc, so rill sets glibc's two
thresholds where glibc's own adaptive rule would put them after the first 32 MiB array
is freed: blocks under 32 MiB come from the heap, and up to 64 MiB of free heap top stays
mapped. Set ``RILL_MALLOC_TUNING=0`` to leave malloc as it is; malloc settings of your
own (``MALLOC_*_`` variables, ``GLIBC_TUNABLES``) are kept, and nothing is changed on
other C libraries.
"""

from __future__ import annotations

import os
import sys

__all__ = ["tune_malloc", "MMAP_THRESHOLD", "TRIM_THRESHOLD"]

# glibc's ceiling for its adaptive mmap threshold on 64-bit (DEFAULT_MMAP_THRESHOLD_MAX),
# and the trim threshold its adaptive rule pairs with it
MMAP_THRESHOLD = 32 << 20
TRIM_THRESHOLD = 2 * MMAP_THRESHOLD
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt's parameter numbers (malloc.h)
_USER_SETTINGS = (
    "MALLOC_TRIM_THRESHOLD_",
    "MALLOC_MMAP_THRESHOLD_",
    "MALLOC_TOP_PAD_",
    "MALLOC_MMAP_MAX_",
)

_applied: list = []  # [bool] once decided


def _user_tuned(env) -> bool:
    if any(k in env for k in _USER_SETTINGS):
        return True
    return "glibc.malloc." in env.get("GLIBC_TUNABLES", "")


def tune_malloc(env=None) -> bool:
    """Set glibc's mmap and trim thresholds for tensor-sized buffers (once per process);
    True if they are set. A no-op off glibc, with ``RILL_MALLOC_TUNING=0``, or where the
    environment already tunes malloc."""
    if _applied:
        return _applied[0]
    env = os.environ if env is None else env
    ok = False
    if (
        sys.platform.startswith("linux")
        and env.get("RILL_MALLOC_TUNING", "1") != "0"
        and not _user_tuned(env)
    ):
        try:
            libc_version = os.confstr("CS_GNU_LIBC_VERSION") or ""
        except (ValueError, OSError):
            libc_version = ""
        if libc_version.startswith("glibc"):
            import ctypes

            try:
                mallopt = ctypes.CDLL(None).mallopt
            except (OSError, AttributeError):
                mallopt = None
            if mallopt is not None:
                mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
                # the mmap threshold first: setting either one turns glibc's adaptive
                # rule off, and the pair must stay consistent
                ok = bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
                    mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
                )
    _applied.append(ok)
    return ok
