"""Finding JAX and its devices: JAX is imported on first use only, with 64-bit types on
(rill's int64 shapes and float64 tensors must keep their dtypes) and CPU computations run
on the calling thread. Its accelerators (GPUs, TPUs) are the devices ``tf.config`` lists
beside the CPU and ``tf.device`` selects for compiled functions; JAX is imported to list
them only where an accelerator plugin is installed, so a CPU-only process never pays
JAX's import for it.

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

__all__ = [
    "load",
    "available",
    "install_hint",
    "has_accelerator",
    "accelerators",
    "jax_cpu_device",
    "has_plugin",
]

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


_ACCELERATOR_PLUGINS = (
    "jax_cuda12_plugin", "jax_cuda13_plugin", "jax_rocm6_plugin", "jax_rocm7_plugin", "libtpu",
)  # fmt: skip


def has_plugin(kind: str) -> bool:
    """Whether JAX's accelerator plugin of ``kind`` ("cuda", "rocm", "tpu") is installed
    (without importing it)."""
    return any(kind in p and importlib.util.find_spec(p) for p in _ACCELERATOR_PLUGINS)


_accelerators = None  # [(device type, index, jax Device)], found once


def accelerators() -> list:
    """JAX's GPUs and TPUs as ``[(device type, index, jax Device)]`` (type "GPU" or "TPU",
    numbered from 0 per type, in JAX's order); empty without JAX or an accelerator plugin.
    Imports JAX only when a plugin is there; found once per process, as the devices
    cannot change while it runs."""
    global _accelerators
    if _accelerators is None:
        found = []
        plugin = any(importlib.util.find_spec(p) for p in _ACCELERATOR_PLUGINS)
        if _jax is not None or (plugin and available()):
            try:
                devices = load().devices()
            except RuntimeError:  # a plugin without its device
                devices = []
            counts: dict = {}
            for d in devices:
                kind = "TPU" if d.platform == "tpu" else "GPU" if d.platform != "cpu" else None
                if kind is not None:
                    found.append((kind, counts.get(kind, 0), d))
                    counts[kind] = counts.get(kind, 0) + 1
        _accelerators = found
    return _accelerators


def has_accelerator() -> bool:
    """Whether JAX runs on a GPU or TPU here (what Keras' ``jit_compile="auto"`` asks:
    Keras 3 leaves XLA off on CPU-only machines)."""
    return bool(accelerators())


def jax_cpu_device():
    """JAX's (first) CPU device, where compiled functions run in a ``tf.device("CPU")``
    scope even when JAX's default device is an accelerator."""
    return load().devices("cpu")[0]
