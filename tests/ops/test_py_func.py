"""py_function / numpy_function: arguments, conversions, errors, gradients, graph calls."""

import numpy as np
import pytest

import rill as tf
from rill.errors import InvalidArgumentError, UnknownError
from rill.ops.py_func import numpy_function, py_function


def test_py_function_passes_eager_tensors_and_converts_results():
    seen = []

    def f(a, b, c):
        seen.extend((type(a).__name__, a.dtype, b.dtype, c.dtype, tuple(c.shape)))
        return a * 2.0

    out = py_function(f, [tf.constant(1.5), 2, np.array([1, 2], np.int64)], tf.float32)
    assert seen == ["EagerTensor", tf.float32, tf.int32, tf.int64, (2,)]
    assert out.dtype == tf.float32 and float(out) == 3.0
    assert float(py_function(lambda x: 2, [1.0], tf.float32)) == 2.0  # Python int -> float32


def test_tout_forms():
    one = py_function(lambda x: 2.5, [1.0], [tf.float32])
    assert isinstance(one, list) and len(one) == 1 and float(one[0]) == 2.5
    a, b = py_function(lambda x: (2.5, 3), [1.0], [tf.float32, tf.int32])
    assert a.dtype == tf.float32 and b.dtype == tf.int32 and int(b) == 3
    assert py_function(lambda x: None, [1.0], []) == []
    with pytest.raises(TypeError, match="Tout"):
        py_function(lambda x: x, [1.0], None)
    with pytest.raises(TypeError, match="inp"):
        py_function(lambda x: x, Tout=tf.float32)


def test_decorator_form():
    @py_function(Tout=tf.float32)
    def add(x, y):
        return x + y

    assert float(add(tf.constant(1.0), 2.0)) == 3.0

    @numpy_function(Tout=tf.float64)
    def sinh(x):
        return np.sinh(x)

    assert float(sinh(np.float64(1.0))) == pytest.approx(np.sinh(1.0))
    with pytest.raises(TypeError, match="inp"):
        py_function(inp=[1.0], Tout=tf.float32)


def test_result_errors():
    with pytest.raises(InvalidArgumentError, match="float32"):
        py_function(lambda x: tf.constant(2.5, tf.float64), [1.0], tf.float32)
    with pytest.raises(InvalidArgumentError, match="returns 1 values, but expects to see 2"):
        py_function(lambda x: 1.0, [1.0], [tf.float32, tf.float32])
    with pytest.raises(InvalidArgumentError, match="is float64, but expects float32"):
        numpy_function(lambda x: np.float64(2.5), [tf.constant(1.0)], tf.float32)


def test_exceptions_in_func_become_op_errors():
    def boom(x):
        raise ValueError("boom")

    with pytest.raises(InvalidArgumentError, match="ValueError in boom: boom"):
        py_function(boom, [1.0], tf.float32)
    with pytest.raises(UnknownError, match="ZeroDivisionError"):
        py_function(lambda x: 1 / 0, [1.0], tf.float32)
    with pytest.raises(InvalidArgumentError, match="boom"):
        numpy_function(boom, [1.0], tf.float32)


def test_numpy_function_passes_arrays():
    seen = []

    def f(a, s):
        seen.extend((type(a), a.dtype, a.shape, s))
        a += 1  # a copy: the input tensor must not change
        return a * 2

    x = tf.constant([1.0, 2.0])
    out = numpy_function(f, [x, tf.constant("s")], tf.float32)
    assert seen[:3] == [np.ndarray, np.float32, (2,)]
    assert seen[3].shape == () and seen[3][()] == b"s"
    np.testing.assert_array_equal(out.numpy(), [4.0, 6.0])
    np.testing.assert_array_equal(x.numpy(), [1.0, 2.0])
    assert float(numpy_function(lambda v: 2.5, [1.0], tf.float32)) == 2.5  # Python float converts


def _fd(f, x, eps=1e-6):
    g = np.zeros_like(x)
    for i in range(x.size):
        xp, xm = x.copy(), x.copy()
        xp.reshape(-1)[i] += eps
        xm.reshape(-1)[i] -= eps
        g.reshape(-1)[i] = (f(xp) - f(xm)) / (2 * eps)
    return g


def test_py_function_gradient_matches_finite_differences():
    w = np.array([0.3, -1.2, 2.0])

    def func(a, b, k):
        return a * a * b + tf.sin(a), tf.cast(k, tf.float64) * b

    def loss(a, b):
        y1, y2 = py_function(func, [a, b, 3], [tf.float64, tf.float64])
        return tf.reduce_sum(y1 * w) + tf.reduce_sum(y2 * y2)

    a0, b0 = np.array([0.5, -0.2, 1.1]), np.array([1.3, 0.4, -0.7])
    a, b = tf.constant(a0), tf.constant(b0)
    with tf.GradientTape() as tape:
        tape.watch([a, b])
        y = loss(a, b)
    ga, gb = tape.gradient(y, [a, b])
    np.testing.assert_allclose(
        ga.numpy(), _fd(lambda v: float(loss(tf.constant(v), b)), a0), rtol=1e-6
    )
    np.testing.assert_allclose(
        gb.numpy(), _fd(lambda v: float(loss(a, tf.constant(v))), b0), rtol=1e-6
    )


def test_numpy_function_is_not_differentiable():
    x = tf.constant(3.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = numpy_function(lambda a: a * a, [x], tf.float32)
    assert tape.gradient(y, x) is None


def test_python_runs_on_every_call_of_a_traced_function():
    calls = []

    def record(a):
        calls.append(tf.executing_eagerly())  # the Python runs eagerly, at call time
        return a * 2.0

    @tf.function
    def f(x):
        return py_function(record, [x], tf.float32), numpy_function(
            lambda a: a + 1, [x], tf.float32
        )

    for v in (1.0, 2.0, 5.0):
        y, z = f(tf.constant([v, v]))
        np.testing.assert_array_equal(y.numpy(), [2 * v, 2 * v])
        np.testing.assert_array_equal(z.numpy(), [v + 1, v + 1])
    assert calls == [True, True, True]
    cf = f.get_concrete_function(tf.constant([1.0, 1.0]))
    assert cf.outputs[0].shape.rank is None  # shapes are unknown to tracing
    assert {"EagerPyFunc", "PyFunc"} <= {op.type for op in cf.graph.get_operations()}


def test_py_function_gradient_inside_traced_function():
    @tf.function
    def grad(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = py_function(lambda a: a * a * a, [x], tf.float32)
        return tape.gradient(y, x)

    assert float(grad(tf.constant(2.0))) == pytest.approx(12.0)
    assert float(grad(tf.constant(-1.0))) == pytest.approx(3.0)
