"""``rill.function(jit_compile=...)`` against rill's executor (the same function without
it): values, variable side effects, control flow, gradients, random ops, errors, Keras."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

pytest.importorskip("jax")

import rill as tf  # noqa: E402
from rill.backend import jax_runtime as xla_backend  # noqa: E402
from rill.errors import InvalidArgumentError  # noqa: E402


def _both(fn, *args):
    """(XLA result, executor result) of ``fn`` on ``args``."""
    jit = tf.function(fn, jit_compile=True)(*args)
    ref = tf.function(fn)(*args)
    return jit, ref


def _close(a, b, tol=1e-5):
    for x, y in zip(tf.nest.flatten(a), tf.nest.flatten(b)):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=tol, atol=tol)


def test_control_flow_and_variables_match_the_executor():
    rng = np.random.default_rng(0)
    x = tf.constant(rng.normal(size=(4, 3)).astype(np.float32))
    v = tf.Variable(np.zeros(3, np.float32))

    def f(x):
        v.assign_add(tf.reduce_sum(x, 0))  # an assignment, read back below
        total = tf.reduce_sum(v)
        i, s = tf.while_loop(lambda i, s: i < 4, lambda i, s: (i + 1, s * 0.5 + total), [0, 1.0])
        y = tf.cond(s > 0, lambda: tf.nn.relu(x) * s, lambda: x - s)
        sq = tf.scan(lambda c, e: c + e, x)
        v.assign_sub(tf.ones([3]))
        return y, sq, i

    v.assign(np.zeros(3, np.float32))
    got = tf.function(f, jit_compile=True)(x)
    after_jit = v.numpy()
    v.assign(np.zeros(3, np.float32))
    ref = tf.function(f)(x)
    _close(got, ref)
    np.testing.assert_allclose(after_jit, v.numpy(), rtol=1e-6)
    cf = tf.function(f, jit_compile=True).get_concrete_function(x)
    assert cf._plan is None or cf._plan.xla is not None


def test_training_step_with_a_tape_and_a_scan_is_one_computation():
    rng = np.random.default_rng(1)
    w = tf.Variable(rng.normal(size=(3, 3)).astype(np.float32))
    xs = tf.constant(rng.normal(size=(5, 2, 3)).astype(np.float32))

    def step(xs):
        with tf.GradientTape() as tape:
            h = tf.scan(lambda h, x: tf.tanh(tf.matmul(x, w) + h), xs, initializer=tf.zeros([2, 3]))
            loss = tf.reduce_sum(h[-1] ** 2)
        g = tape.gradient(loss, w)
        w.assign_sub(0.1 * g)
        return loss, g

    w0 = w.numpy().copy()
    fj = tf.function(step, jit_compile=True)
    got = fj(xs)
    w_jit = w.numpy().copy()
    w.assign(w0)
    ref = tf.function(step)(xs)
    _close(got, ref, 1e-4)
    np.testing.assert_allclose(w_jit, w.numpy(), rtol=1e-4, atol=1e-5)
    assert fj.get_concrete_function(xs)._plan.xla is not None


def test_conv_pool_and_cross_entropy_gradients_match():
    rng = np.random.default_rng(2)
    x = tf.constant(rng.normal(size=(2, 6, 6, 2)))
    k = tf.constant(rng.normal(size=(3, 3, 2, 4)))
    labels = tf.constant([1, 3])

    def f(x, k):
        with tf.GradientTape() as tape:
            tape.watch([x, k])
            y = tf.nn.conv2d(x, k, 1, "SAME")
            y = tf.nn.max_pool2d(tf.nn.relu(y), 2, 2, "VALID") + tf.nn.avg_pool2d(y, 2, 2, "SAME")
            logits = tf.reduce_mean(y, [1, 2])
            loss = tf.reduce_sum(tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits))
        return loss, tape.gradient(loss, [x, k])

    got, ref = _both(f, x, k)
    _close(got, ref, 1e-8)


def test_random_ops_are_seeded_fresh_per_call_and_shaped():
    tf.random.set_seed(7)
    f = tf.function(lambda: tf.random.normal([2000]), jit_compile=True)
    a, b = f().numpy(), f().numpy()
    assert a.shape == (2000,) and a.dtype == np.float32 and not np.array_equal(a, b)
    assert abs(a.mean()) < 0.1 and abs(a.std() - 1) < 0.1
    g = tf.function(
        lambda s: tf.random.stateless_uniform([1000], s), jit_compile=True
    )  # deterministic per seed
    s = tf.constant([1, 2])
    u1, u2 = g(s).numpy(), g(s).numpy()
    np.testing.assert_array_equal(u1, u2)
    assert 0 <= u1.min() and u1.max() < 1 and abs(u1.mean() - 0.5) < 0.05


def test_an_op_xla_cannot_take_raises_tf_error_or_falls_back():
    def f(x):
        return tf.strings.as_string(x), x * 2  # the line this test names

    x = tf.constant([1.5])
    with pytest.raises(InvalidArgumentError, match=r"AsString.*\n.*test_jit_compile\.py:\d+"):
        tf.function(f, jit_compile=True)(x)
    s, y = tf.function(f, jit_compile="auto")(x)  # auto: the executor runs it
    assert s.numpy()[0] == b"1.500000" and y.numpy()[0] == 3.0  # TF's format


def test_without_jax_it_warns_once_and_runs_the_executor(monkeypatch):
    from rill.xla import jit as xla_jit

    monkeypatch.setattr(xla_jit, "_warned_missing", False)
    monkeypatch.setattr("rill.backend.jax_runtime.available", lambda: False)
    x = tf.constant([1.0, 2.0])
    with pytest.warns(RuntimeWarning, match=r'pip install "rill\[xla\]"'):
        y = tf.function(lambda x: x + 1, jit_compile=True)(x)
    np.testing.assert_array_equal(y.numpy(), [2.0, 3.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tf.function(lambda x: x - 1, jit_compile=True)(x)  # said once only


def test_a_new_shape_is_a_new_concrete_function_not_a_relaxed_one():
    f = tf.function(lambda x: x * 2, jit_compile=True, reduce_retracing=True)
    f(tf.ones([2]))
    f(tf.ones([3]))
    assert f.experimental_get_tracing_count() == 2
    assert all(cf.graph.inputs[0].shape.is_fully_defined() for _, cf in f._concretes)


def test_keras_fit_with_jit_compile_matches_the_executor():
    keras = tf.keras
    rng = np.random.default_rng(3)
    x = rng.normal(size=(32, 6)).astype(np.float32)
    y = rng.integers(0, 3, 32)
    results, seen = [], []

    class ReadEveryOtherBatch(keras.callbacks.Callback):
        # reads a weight between compiled steps: XLA's deferred value is converted, and
        # the next step must update a copy, not the buffer this host view reads
        def on_train_batch_end(self, batch, logs=None):
            if batch % 2 == 0:
                self.model.layers[0].kernel.numpy()  # a host view, dropped
                self.kept.append(self.model.layers[0].kernel.read_value())  # kept

    for jit in (True, False):
        keras.utils.set_random_seed(5)
        m = keras.Sequential(
            [keras.Input((6,)), keras.layers.Dense(8, "relu"), keras.layers.Dense(3)]
        )
        m.compile(
            keras.optimizers.SGD(0.1),
            keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            jit_compile=jit,
        )
        assert m.jit_compile is jit
        reader = ReadEveryOtherBatch()
        reader.kept = []
        h = m.fit(x, y, batch_size=8, epochs=2, verbose=0, shuffle=False, callbacks=[reader])
        results.append((h.history["loss"], m.evaluate(x, y, verbose=0), m.predict(x, verbose=0)))
        seen.append([t.numpy() for t in reader.kept])
        if jit:
            cf = m._fns["train_step"]._concretes[0][1]
            assert cf._plan.xla is not None
    (lj, ej, pj), (lr, er, pr) = results
    np.testing.assert_allclose(lj, lr, rtol=1e-4)
    np.testing.assert_allclose(ej, er, rtol=1e-4)
    np.testing.assert_allclose(pj, pr, rtol=1e-4, atol=1e-5)
    assert len(seen[0]) == len(seen[1]) == 4  # batches 0 and 2 of each epoch
    for kj, kr in zip(*seen):  # the values read mid-fit, unchanged by later steps
        np.testing.assert_allclose(kj, kr, rtol=1e-4, atol=1e-6)


def test_keras_auto_leaves_xla_off_on_a_cpu_only_machine():
    if xla_backend.has_accelerator():
        pytest.skip("a GPU/TPU is visible to JAX here")
    m = tf.keras.Sequential([tf.keras.Input((2,)), tf.keras.layers.Dense(1)])
    m.compile("sgd", "mse")  # jit_compile="auto", as Keras 3 on TensorFlow
    assert m.jit_compile is False


def test_device_resident_values_follow_every_update():
    """Values passed to compiled calls stay on the device between calls (a variable read,
    a tensor fed again); eager updates, other compiled functions' assignments and the
    tensors' own values must all still be seen as the executor sees them."""
    v = tf.Variable(np.arange(4, dtype=np.float32))
    w = tf.Variable(np.ones(4, np.float32))
    read = tf.function(lambda x: v * 2.0 + x * w, jit_compile=True)
    bump = tf.function(lambda: v.assign_add(w * 3.0), jit_compile=True)
    x = tf.constant(np.full(4, 0.5, np.float32))

    def expected():  # NumPy, from the variables' current values
        return v.numpy() * 2.0 + 0.5 * w.numpy()

    for _ in range(3):  # the second call of x makes it device-resident
        np.testing.assert_allclose(read(x).numpy(), expected(), rtol=1e-6)
    from rill.core.variables import held_value

    # a variable only read stays on the device between calls, like an assigned one
    read(x)
    assert not isinstance(held_value(w), np.ndarray)
    v.assign_add(np.ones(4, np.float32))  # an eager in-place update of a resident value
    np.testing.assert_allclose(read(x).numpy(), expected(), rtol=1e-6)
    bump()  # another compiled function assigns v
    np.testing.assert_allclose(v.numpy(), np.arange(4) + 1.0 + 3.0, rtol=1e-6)
    np.testing.assert_allclose(read(x).numpy(), expected(), rtol=1e-6)
    w.assign(np.full(4, -1.0, np.float32))  # a new array for w
    np.testing.assert_allclose(read(x).numpy(), expected(), rtol=1e-6)
    # the resident tensor keeps its values, and numpy() hands out a writable copy
    got = x.numpy()
    np.testing.assert_array_equal(got, np.full(4, 0.5, np.float32))
    got[0] = 9.0
    np.testing.assert_array_equal(x.numpy(), np.full(4, 0.5, np.float32))


def test_keras_optimizer_updates_a_variable_that_xla_made_resident():
    # predict under XLA makes the weights device-resident (read-only host views); the
    # fused eager optimizer then updates them (copying first), and XLA sees the update
    model = tf.keras.Sequential([tf.keras.Input((3,)), tf.keras.layers.Dense(2)])
    model.compile(jit_compile=True)
    x = np.ones((4, 3), np.float32)
    model.predict(x, verbose=0)
    kernel = model.layers[0].kernel
    before = kernel.numpy()
    opt = tf.keras.optimizers.SGD(0.5)
    opt.apply_gradients([(tf.ones_like(kernel), kernel)])
    np.testing.assert_allclose(kernel.numpy(), before - 0.5, rtol=1e-6)
    want = x @ kernel.numpy() + model.layers[0].bias.numpy()
    np.testing.assert_allclose(model.predict(x, verbose=0), want, rtol=1e-5)


def test_bfloat16_values_are_not_put_on_the_device_every_call(monkeypatch):
    # NumPy sees a bfloat16 device array only through a copy, so such values cannot be
    # kept device-resident: they must take jit's own transfer, not a device_put per call
    ml_dtypes = pytest.importorskip("ml_dtypes")
    v = tf.Variable(np.arange(4, dtype=np.float32).astype(ml_dtypes.bfloat16))
    x = tf.constant(np.ones(4, np.float32).astype(ml_dtypes.bfloat16))
    f = tf.function(lambda x: v * x + v, jit_compile=True)
    f(x), f(x)  # the second call tries to make x resident and learns it cannot
    jax = xla_backend.load()
    calls = []
    monkeypatch.setattr(jax, "device_put", lambda *a, **k: calls.append(a) or a[0])
    for _ in range(3):
        got = f(x)
    assert calls == []  # no per-call device_put
    want = np.arange(4, dtype=np.float32) * 1.0 + np.arange(4, dtype=np.float32)
    np.testing.assert_allclose(np.asarray(got.numpy(), np.float32), want)


def test_bfloat16_variable_assigned_by_xla_again_and_again():
    ml_dtypes = pytest.importorskip("ml_dtypes")
    start = np.array([1, 2, 3, 0], np.float32)
    step = np.array([1, 0, 1, 1], np.float32)
    v = tf.Variable(start.astype(ml_dtypes.bfloat16))
    x = tf.constant(step.astype(ml_dtypes.bfloat16))
    bump = tf.function(lambda x: v.assign_add(x * 2.0), jit_compile=True)
    for _ in range(4):
        bump(x)
    np.testing.assert_array_equal(v.numpy().astype(np.float32), start + 4 * 2 * step)
    v.assign_add(x)  # eagerly, on the value XLA wrote
    read = tf.function(lambda: v * 1.0, jit_compile=True)
    np.testing.assert_array_equal(read().numpy().astype(np.float32), start + 9 * step)


def test_assigned_variables_stay_deferred_and_are_updated_in_place():
    """A compiled update leaves the variable's new value on the device, unconverted, and
    the next call donates that buffer (XLA writes the update in place); the variable reads
    the same values as under the executor throughout, and reading turns it back into a
    plain variable."""
    from rill.core.variables import held_value

    start = np.arange(6, dtype=np.float32).reshape(2, 3)
    v = tf.Variable(start)
    step = tf.function(lambda d: v.assign_add(d * 2.0), jit_compile=True)
    d = tf.constant(np.full((2, 3), 0.25, np.float32))
    step(d)
    held = held_value(v)
    assert not isinstance(held, np.ndarray)  # still the device array XLA computed
    assert isinstance(v, tf.Variable) and type(v).__name__ == "Variable"
    step(d)
    assert held.is_deleted()  # donated: the second call wrote into its buffer
    np.testing.assert_allclose(v.numpy(), start + 2 * 0.5, rtol=1e-6)
    assert type(v) is tf.Variable  # read: a plain variable again
    # eager ops and the executor see the deferred value too
    step(d)
    np.testing.assert_allclose((v * 1.0).numpy(), start + 3 * 0.5, rtol=1e-6)
    step(d)
    ref = tf.function(lambda: v + 1.0)()
    np.testing.assert_allclose(ref.numpy(), start + 4 * 0.5 + 1.0, rtol=1e-6)


def test_a_donated_update_never_changes_a_value_read_before_it():
    """Tensors read from a variable keep their values when a compiled call updates the
    variable, also when one of them is an argument of that same call (its buffer must not
    be both donated and read)."""
    v = tf.Variable(np.ones(4, np.float32))
    step = tf.function(lambda x: v.assign(v * 3.0 + x), jit_compile=True)
    zero = tf.constant(np.zeros(4, np.float32))
    step(zero)
    before = v.read_value()  # a host view of the deferred value
    np.testing.assert_array_equal(before.numpy(), np.full(4, 3.0, np.float32))
    step(before)  # fed back as the input of the call that updates v
    np.testing.assert_array_equal(before.numpy(), np.full(4, 3.0, np.float32))
    np.testing.assert_array_equal(v.numpy(), np.full(4, 12.0, np.float32))
    for _ in range(2):
        step(before)
    np.testing.assert_array_equal(before.numpy(), np.full(4, 3.0, np.float32))
    np.testing.assert_array_equal(v.numpy(), np.full(4, (12.0 * 3 + 3) * 3 + 3, np.float32))

    # the old value read inside the call that donates the variable's buffer, returned
    w = tf.Variable(np.ones(4, np.float32))

    def bump():
        old = w.read_value()
        w.assign_add(tf.ones(4))
        return old, w.read_value()

    bump = tf.function(bump, jit_compile=True)
    results = [bump() for _ in range(3)]
    for i, (old, new) in enumerate(results):  # earlier results kept their values
        np.testing.assert_array_equal(old.numpy(), np.full(4, 1.0 + i, np.float32))
        np.testing.assert_array_equal(new.numpy(), np.full(4, 2.0 + i, np.float32))


def test_deferred_variables_copy_pickle_and_print_as_themselves():
    import copy
    import pickle

    from rill.keras.variables import Variable as KerasVariable

    model = tf.keras.Sequential([tf.keras.Input((3,)), tf.keras.layers.Dense(2)])
    model.compile("sgd", "mse", jit_compile=True)
    x, y = np.ones((4, 3), np.float32), np.zeros((4, 2), np.float32)
    kernel = model.layers[0].kernel
    for make_copy in (copy.copy, copy.deepcopy, repr):
        model.train_on_batch(x, y)
        # deferred by the compiled step, yet named and typed as the Keras variable it is
        assert type(kernel) is not KerasVariable and isinstance(kernel, KerasVariable)
        assert type(kernel).__name__ == "Variable"
        made = make_copy(kernel)
        assert type(kernel) is KerasVariable  # copying read the value
        if make_copy is repr:
            assert "numpy=" in made
        else:
            np.testing.assert_array_equal(made.numpy(), kernel.numpy())
    core = tf.Variable(np.ones(3, np.float32))
    tf.function(lambda: core.assign_add(np.ones(3, np.float32)), jit_compile=True)()
    back = pickle.loads(pickle.dumps(core))
    assert type(back) is tf.Variable
    np.testing.assert_array_equal(back.numpy(), np.full(3, 2.0, np.float32))


def _adam_like_step(seed=0):
    """Variables of one shape (weights and two moments), a step counter and a step that
    returns its loss beside its updates."""
    rng = np.random.default_rng(seed)
    w = tf.Variable(rng.standard_normal((3, 4)).astype(np.float32))
    m = tf.Variable(np.zeros((3, 4), np.float32))
    s = tf.Variable(np.zeros((3, 4), np.float32))
    steps = tf.Variable(0.0)

    def step(x):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(x @ w))
        g = tape.gradient(loss, w)
        steps.assign_add(1.0)
        m.assign(0.9 * m + 0.1 * g)
        s.assign(0.99 * s + 0.01 * g * g)
        w.assign_sub(0.1 * m / (tf.sqrt(s) + 1e-7))
        return loss

    return (w, m, s, steps), step


def test_each_donated_variable_is_updated_in_its_own_buffer():
    """JAX gives a donated buffer to the first result of its shape and dtype: with a loss
    returned beside them and several variables of one shape (Adam's moments), each
    variable's new value must still land in the buffer of its own old value. Paired
    otherwise, XLA copies every buffer in and out to stay correct."""
    from rill.core.variables import held_value

    x = tf.constant(np.random.default_rng(1).standard_normal((5, 3)).astype(np.float32))
    variables, step = _adam_like_step()
    fast = tf.function(step, jit_compile=True)
    losses = [float(fast(x))]  # the variables now hold device arrays, donated from now on
    for _ in range(3):
        before = [held_value(v).unsafe_buffer_pointer() for v in variables]
        losses.append(float(fast(x)))
        assert [held_value(v).unsafe_buffer_pointer() for v in variables] == before
    ref_variables, ref_step = _adam_like_step()
    ref = tf.function(ref_step)
    ref_losses = [float(ref(x)) for _ in range(4)]
    np.testing.assert_allclose(losses, ref_losses, rtol=1e-5)
    for v, r in zip(variables, ref_variables):
        np.testing.assert_allclose(v.numpy(), r.numpy(), rtol=1e-5, atol=1e-6)
