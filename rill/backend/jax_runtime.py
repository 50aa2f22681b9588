"""Finding JAX: imported on first use only, with 64-bit types on (rill's int64 shapes and
float64 tensors must keep their dtypes) and CPU computations run on the calling thread.

JAX's CPU client by default hands each computation to a worker thread and returns at
once; the caller then waits on the result. rill reads a call's results as host arrays
right away (a tf.function returns EagerTensors), so it has nothing to overlap with the
computation, and the hand-off dominates small ones: a jitted 100-op chain on 256 floats
takes 52 us a call that way and 24 us inline (and the worker's spinning takes a second
core meanwhile). Inline was JAX's own default before 0.4.32. Computations XLA runs in
parallel, or that wait on an input still being copied from the host, stay asynchronous
either way, and accelerators are not affected. ``RILL_XLA_ASYNC_DISPATCH=1`` keeps JAX's
default; the setting acts only where rill's compiler loads JAX before JAX's CPU client
exists (it is process-wide in JAX, like the 64-bit flag).
"""

from __future__ import annotations

import importlib.util
import os

__all__ = ["load", "available", "install_hint"]

_INSTALL = 'pip install "rill[xla]"'
_jax = None


def install_hint() -> str:
    """The command that installs the compiler's optional dependencies."""
    return _INSTALL


def available() -> bool:
    """Whether JAX can be imported (without importing it)."""
    return _jax is not None or importlib.util.find_spec("jax") is not None


def load():
    """The ``jax`` module, configured for rill (64-bit types enabled, CPU computations run
    on the calling thread)."""
    global _jax
    if _jax is None:
        try:
            import jax
        except ImportError as e:
            raise ImportError(f"rill's XLA compiler needs JAX and jaxlib: {_INSTALL}") from e
        # JAX truncates to 32 bits by default; rill's dtypes are TF's, int64 and float64
        # included. The flag is process-wide in JAX, so it is set once, here.
        jax.config.update("jax_enable_x64", True)
        if (
            os.environ.get("RILL_XLA_ASYNC_DISPATCH", "0") != "1"
            # JAX without the switch runs such computations inline already (0.4.32 made
            # the hand-off its default for them)
            and "jax_cpu_enable_async_dispatch" in jax.config.values
        ):
            jax.config.update("jax_cpu_enable_async_dispatch", False)
        _jax = jax
    return _jax


_ACCELERATOR_PLUGINS = ("jax_cuda12_plugin", "jax_cuda13_plugin", "jax_rocm7_plugin", "libtpu")


def has_accelerator() -> bool:
    """Whether JAX runs on a GPU or TPU here (what Keras' ``jit_compile="auto"`` asks:
    Keras 3 leaves XLA off on CPU-only machines). Imports JAX only when a plugin is there."""
    if not available():
        return False
    if _jax is None and not any(importlib.util.find_spec(p) for p in _ACCELERATOR_PLUGINS):
        return False
    try:
        return any(d.platform != "cpu" for d in load().devices())
    except RuntimeError:  # a plugin without its device
        return False
