"""How rill's compiler configures JAX when it loads it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

jax = pytest.importorskip("jax")

_HAS_SWITCH = "jax_cpu_enable_async_dispatch" in jax.config.values

# A straight-line elementwise computation of a few milliseconds on an input already on
# the device: run on the calling thread, its result is ready when the call returns; handed
# to JAX's worker thread, the call returns long before it is done. (JAX queues even an
# inline computation while an input's transfer from the host is still in flight.)
_INLINE = textwrap.dedent(
    """
    import numpy as np
    from rill.backend import jax_runtime as backend
    jax = backend.load()
    def chain(x):
        for _ in range(100):
            x = jax.numpy.tanh(x * 0.5 + 0.1) - x * 0.01
        return x
    f = jax.jit(chain)
    x = jax.device_put(np.ones((256, 256), np.float32)).block_until_ready()
    f(x).block_until_ready()
    r = f(x)
    print(jax.config.values["jax_cpu_enable_async_dispatch"], r.is_ready())
    r.block_until_ready()
    """
)


def _load_in_a_fresh_process(**env):
    full = {k: v for k, v in os.environ.items() if k != "RILL_XLA_ASYNC_DISPATCH"}
    full.update(env, JAX_PLATFORMS="cpu")
    out = subprocess.run(
        [sys.executable, "-c", _INLINE], env=full, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    asynchronous, ready = out.stdout.split()
    return asynchronous == "True", ready == "True"


@pytest.mark.skipif(
    not _HAS_SWITCH, reason="this JAX has no switch (it dispatches such computations inline)"
)
def test_cpu_computations_run_on_the_calling_thread():
    asynchronous, ready = _load_in_a_fresh_process()
    assert not asynchronous
    assert ready  # computed before the call returned


@pytest.mark.skipif(
    not _HAS_SWITCH, reason="this JAX has no switch (it dispatches such computations inline)"
)
def test_the_switch_keeps_jax_asynchronous_dispatch():
    asynchronous, _ = _load_in_a_fresh_process(RILL_XLA_ASYNC_DISPATCH="1")
    assert asynchronous


def test_64_bit_types_are_on():
    from rill.backend import jax_runtime as backend

    jx = backend.load()
    assert jx.config.values["jax_enable_x64"]
    assert jx.numpy.zeros((), "int64").dtype == "int64"
