"""Devices of compiled functions: the accelerators JAX has are ``tf.config``'s GPUs, and a
``tf.device`` scope selects where a ``jit_compile`` function runs.

Without a GPU, a child process gives JAX two CPU devices and names the second rill's
"GPU:0" (the one seam, ``jax_runtime._accelerators``, that a real plugin fills), so the
placement path runs for real: the values must be the executor's and the device arrays on
the device the scope names. The last test runs on a real GPU only.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

pytest.importorskip("jax")

_CHILD = textwrap.dedent(
    """
    import numpy as np
    from rill.backend import jax_runtime
    jax = jax_runtime.load()
    cpu0, cpu1 = jax.devices("cpu")
    jax_runtime._accelerators = [("GPU", 0, cpu1)]  # what a one-GPU plugin would give
    import rill as tf
    from rill.core.errors import InvalidArgumentError
    from rill.core.variables import held_values
    from rill.xla.jit import _device_array_of

    DEV = type(jax.numpy.zeros(()))

    def where(value):
        a = value if isinstance(value, DEV) else _device_array_of(value, DEV)
        return a.devices().pop().id if a is not None else "host"

    print("physical", [d.name for d in tf.config.list_physical_devices("GPU")])
    print("logical", [d.name for d in tf.config.list_logical_devices("GPU")])
    print("gpu_name", tf.test.gpu_device_name(), tf.test.is_gpu_available())
    print("details", tf.config.experimental.get_device_details(tf.config.list_physical_devices("GPU")[0]))

    v = tf.Variable(np.arange(6, dtype=np.float32))

    def body(x):
        v.assign(v * 2.0 + x)
        return tf.reduce_sum(v) * x

    xla, ex = tf.function(body, jit_compile=True), tf.function(body)
    x = tf.constant(np.float32(1.5))
    with tf.device("/GPU:0"):
        r1 = xla(x)
        print("gpu", where(r1._value), where(held_values([v])[0]))
    with tf.device("/GPU:0"):
        with tf.device("/CPU:0"):
            r2 = xla(x)
            print("cpu-inner", where(r2._value), where(held_values([v])[0]))
        with tf.device(None):
            r3 = xla(x)
            print("cleared", where(r3._value))
        with tf.device("/job:localhost"):  # names no type: the outer scope holds
            r4 = xla(x)
            print("outer", where(r4._value))
    r5 = xla(x)
    print("none", where(r5._value))
    got = [r.numpy() for r in (r1, r2, r3, r4, r5)] + [v.numpy()]
    v.assign(np.arange(6, dtype=np.float32))
    want = [ex(x).numpy() for _ in range(5)] + [v.numpy()]
    print("equal", all(np.array_equal(a, b) for a, b in zip(got, want)))

    tf.config.set_soft_device_placement(False)
    with tf.device("GPU:0"):
        pass
    try:
        with tf.device("/GPU:1"):
            pass
    except InvalidArgumentError as e:
        print("gpu1", "Supported device types [CPU, GPU]" in str(e), "device:GPU:0" in str(e))
    """
)


def _run_child(script):
    env = dict(
        os.environ, JAX_PLATFORMS="cpu", XLA_FLAGS="--xla_force_host_platform_device_count=2"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=180
    )
    assert out.returncode == 0, out.stderr
    return dict(line.split(" ", 1) for line in out.stdout.splitlines())


def test_a_device_scope_places_compiled_calls_on_that_device():
    got = _run_child(_CHILD)
    assert got["physical"] == "['/physical_device:GPU:0']"
    assert got["logical"] == "['/device:GPU:0']"
    assert got["gpu_name"] == "/device:GPU:0 True"
    assert got["details"].startswith("{'device_name': ")
    assert got["gpu"] == "1 1"  # the result and the variable's new value, on device 1
    assert got["cpu-inner"] == "0 0"  # the inner scope wins, and JAX moved the variable
    assert got["cleared"] == "0"  # device(None): JAX's default device
    assert got["outer"] == "1"
    assert got["none"] == "0"
    assert got["equal"] == "True"  # every call's values are the executor's
    assert got["gpu1"] == "True True"


_HIDDEN = textwrap.dedent(
    """
    from rill.backend import jax_runtime
    jax = jax_runtime.load()
    jax_runtime._accelerators = [("GPU", 0, jax.devices("cpu")[1])]
    import rill as tf
    gpu = tf.config.list_physical_devices("GPU")[0]
    tf.config.experimental.set_memory_growth(gpu, False)
    print("growth", tf.config.experimental.get_memory_growth(gpu))
    tf.config.set_visible_devices([], "GPU")
    print("visible", tf.config.get_visible_devices("GPU"), len(tf.config.get_visible_devices()))
    print("logical", tf.config.list_logical_devices("GPU"))
    try:
        tf.config.experimental.set_memory_growth(gpu, True)
    except RuntimeError as e:
        print("after-init", str(e))
    """
)


def test_hiding_the_gpu_and_memory_growth_follow_tf():
    got = _run_child(_HIDDEN)
    assert got["growth"] == "False"
    assert got["visible"] == "[] 1"  # the CPU is still there
    assert got["logical"] == "[]"
    assert got["after-init"] == "Physical devices cannot be modified after being initialized"


def test_cpu_only_machine_lists_no_gpu_and_soft_placement_runs_on_cpu():
    import rill as tf
    from rill.backend import jax_runtime

    if jax_runtime.has_accelerator():
        pytest.skip("an accelerator is visible to JAX here")
    assert tf.config.list_physical_devices("GPU") == []
    f = tf.function(lambda x: x * 2.0, jit_compile=True)
    with tf.device("/GPU:0"):  # soft placement: JAX's default device, the CPU
        assert f(tf.constant(3.0)).numpy() == 6.0


def test_keras_step_on_a_real_gpu_matches_the_executor():
    import rill as tf
    from rill.backend import jax_runtime

    if not any(k == "GPU" for k, _, _ in jax_runtime.accelerators()):
        pytest.skip("no GPU visible to JAX here (jax[cuda12] on an NVIDIA machine runs this)")
    assert tf.config.list_physical_devices("GPU")
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(64, 20)).astype(np.float32), rng.integers(0, 3, 64)
    losses = []
    for jit in (False, True):
        tf.keras.utils.set_random_seed(0)
        m = tf.keras.Sequential([tf.keras.Input((20,)), tf.keras.layers.Dense(16, activation="relu"),
                                 tf.keras.layers.Dense(3)])  # fmt: skip
        m.compile(
            "adam", tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True), jit_compile=jit
        )
        with tf.device("/GPU:0"):
            losses.append([float(m.train_on_batch(x, y)) for _ in range(5)])
    np.testing.assert_allclose(losses[1], losses[0], rtol=1e-4)
