"""TensorArray: TF's eager semantics, errors, gradients (finite differences) and graph use."""

import numpy as np
import pytest

import rill as tf
from rill.errors import InvalidArgumentError, OutOfRangeError
from rill.ops.tensor_array import TensorArray
from tests.gradcheck import assert_grad_matches_finite_differences

# --------------------------------------------------------------------------------------
# eager behaviour
# --------------------------------------------------------------------------------------


def test_write_read_stack_and_unwritten_elements_are_zeros():
    ta = TensorArray(tf.float32, size=3)
    ta = ta.write(0, [1.0, 2.0]).write(2, [5.0, 6.0])
    assert ta.element_shape.as_list() == [2]
    assert ta.size().dtype == tf.int32 and int(ta.size()) == 3
    s = ta.stack()
    assert s.dtype == tf.float32
    np.testing.assert_array_equal(s.numpy(), [[1, 2], [0, 0], [5, 6]])


def test_eager_write_updates_in_place_like_tf():
    ta = TensorArray(tf.float32, size=2, clear_after_read=False)
    ta2 = ta.write(0, 3.0)
    assert ta2 is ta  # TF eager: the old object sees the write
    assert float(ta.read(0)) == 3.0


def test_dynamic_size_grows_and_static_size_rejects():
    ta = TensorArray(tf.float32, size=0, dynamic_size=True).write(4, 1.0)
    assert ta.dynamic_size
    np.testing.assert_array_equal(ta.stack().numpy(), [0, 0, 0, 0, 1])
    with pytest.raises(OutOfRangeError, match="not resizeable"):
        TensorArray(tf.float32, size=3).write(3, 1.0)
    with pytest.raises(OutOfRangeError, match="negative"):
        TensorArray(tf.float32, size=3).write(-1, 1.0)
    with pytest.raises(OutOfRangeError, match="negative"):
        TensorArray(tf.float32, size=3).read(-1)
    with pytest.raises(OutOfRangeError, match="size is: 3"):
        TensorArray(tf.float32, size=3).read(3)


def test_dtype_and_shape_checks_on_write():
    ta = TensorArray(tf.float32, size=2)
    ta.write(0, 1)  # a Python int converts to the array's dtype
    with pytest.raises(InvalidArgumentError, match="dtype is float32 .* dtype int32"):
        ta.write(1, tf.constant(1))
    with pytest.raises(InvalidArgumentError, match="dtype is int32 .* dtype float32"):
        TensorArray(tf.int32, size=2).write(0, 2.5)
    shaped = TensorArray(tf.float32, size=2).write(0, [1.0, 2.0])
    with pytest.raises(ValueError, match="Incompatible shape"):
        shaped.write(1, [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="Incompatible shape"):
        TensorArray(tf.float32, size=2, element_shape=[2]).write(0, [[1.0, 2.0]])
    with pytest.raises(TypeError):
        TensorArray(tf.float32, size=2).write(1.0, 2.0)


def test_clear_after_read_default_and_disabled():
    ta = TensorArray(tf.float32, size=2).write(0, 1.0).write(1, 2.0)
    assert float(ta.read(0)) == 1.0
    with pytest.raises(InvalidArgumentError, match="read index 0 twice"):
        ta.read(0)
    np.testing.assert_array_equal(ta.stack().numpy(), [0.0, 2.0])  # cleared -> zeros, as TF
    keep = TensorArray(tf.float32, size=2, clear_after_read=False).write(0, 1.0).write(1, 2.0)
    assert float(keep.read(0)) == float(keep.read(0)) == 1.0
    np.testing.assert_array_equal(keep.stack().numpy(), [1.0, 2.0])
    again = TensorArray(tf.float32, size=1).write(0, 1.0)
    again.read(0)
    again.write(0, 7.0)  # a new write makes the element readable again
    assert float(again.read(0)) == 7.0


def test_unstack_gather_scatter_concat_split_match_numpy():
    x = np.arange(12, dtype=np.float32).reshape(4, 3)
    ta = TensorArray(tf.float32, size=4, clear_after_read=False).unstack(x)
    assert int(ta.size()) == 4 and ta.element_shape.as_list() == [3]
    np.testing.assert_array_equal(ta.gather([3, 0, 3]).numpy(), x[[3, 0, 3]])
    np.testing.assert_array_equal(ta.concat().numpy(), x.reshape(-1))
    np.testing.assert_array_equal(ta.read(2).numpy(), x[2])

    sc = TensorArray(tf.float32, size=4).scatter([3, 1], x[:2])
    expect = np.zeros((4, 3), np.float32)
    expect[[3, 1]] = x[:2]
    np.testing.assert_array_equal(sc.stack().numpy(), expect)
    grown = TensorArray(tf.float32, size=2, dynamic_size=True).scatter([3, 1], x[:2])
    assert int(grown.size()) == 4
    with pytest.raises(OutOfRangeError):
        TensorArray(tf.float32, size=2).scatter([3, 1], x[:2])

    v = np.arange(5, dtype=np.float32)
    sp = TensorArray(tf.float32, size=2, clear_after_read=False).split(v, [2, 3])
    np.testing.assert_array_equal(sp.read(0).numpy(), v[:2])
    np.testing.assert_array_equal(sp.read(1).numpy(), v[2:])
    assert sp.element_shape.as_list() == [None]
    np.testing.assert_array_equal(sp.concat().numpy(), v)
    with pytest.raises(InvalidArgumentError, match="Pack|same shape"):
        sp.stack()


def test_unstack_split_and_concat_errors():
    with pytest.raises(ValueError, match="Cannot unstack 3 tensors"):
        TensorArray(tf.float32, size=2).unstack(np.zeros((3, 2), np.float32))
    shrunk = TensorArray(tf.float32, size=4).unstack(np.zeros((3, 2), np.float32))
    assert int(shrunk.size()) == 3  # TF replaces the elements
    with pytest.raises(InvalidArgumentError, match="sum of lengths is 4"):
        TensorArray(tf.float32, size=2).split([1.0, 2, 3, 4, 5], [2, 2])
    with pytest.raises(InvalidArgumentError, match="size of lengths \\(2 vs. 3\\)"):
        TensorArray(tf.float32, size=2).split([1.0, 2, 3, 4, 5], [2, 3, 0])
    with pytest.raises(InvalidArgumentError, match="scalar"):
        TensorArray(tf.float32, size=2).write(0, 1.0).write(1, 2.0).concat()
    loose = TensorArray(tf.float32, size=2, infer_shape=False)
    loose = loose.write(0, [1.0, 2.0]).write(1, [3.0, 4.0, 5.0])
    np.testing.assert_array_equal(loose.concat().numpy(), [1, 2, 3, 4, 5])
    with pytest.raises(InvalidArgumentError, match="same shape"):
        loose.stack()


def test_empty_and_unknown_shapes():
    np.testing.assert_array_equal(
        TensorArray(tf.float32, size=0, element_shape=[3]).stack().numpy(), np.zeros((0, 3))
    )
    assert TensorArray(tf.float32, size=2, element_shape=[3]).stack().shape == (2, 3)
    with pytest.raises(ValueError):  # nothing written and no element_shape: no zeros to make
        TensorArray(tf.float32, size=2).stack()
    with pytest.raises(ValueError):
        TensorArray(tf.float32, size=2).read(0)


def test_constructor_arguments_and_close():
    with pytest.raises(ValueError, match="size"):
        TensorArray(tf.float32)
    with pytest.raises(ValueError, match="handle"):
        TensorArray(tf.float32, size=1, handle=object())
    with pytest.raises(TypeError, match="variant"):
        TensorArray(tf.float32, flow=tf.constant(1.0))
    ta = TensorArray("float64", size=tf.constant(3))
    assert ta.dtype == tf.float64 and int(ta.size()) == 3
    assert ta.flow.dtype.name == "variant"
    assert ta.identity() is ta and ta.handle is None
    rebuilt = TensorArray(tf.float64, flow=ta.write(0, 1.0).flow)
    assert int(rebuilt.size()) == 3 and rebuilt.dtype == tf.float64
    ta.close()
    assert int(ta.size()) == 0


def test_string_and_int_arrays():
    s = TensorArray(tf.string, size=2).write(0, "a").write(1, "bc").stack()
    assert s.dtype == tf.string and list(s.numpy()) == [b"a", b"bc"]
    i = TensorArray(tf.int32, size=0, dynamic_size=True)
    for k in range(4):
        i = i.write(k, k * k)
    np.testing.assert_array_equal(i.stack().numpy(), [0, 1, 4, 9])
    assert i.stack().dtype == tf.int32


# --------------------------------------------------------------------------------------
# gradients against central finite differences (float64)
# --------------------------------------------------------------------------------------


_rng = np.random.default_rng(7)
W = _rng.standard_normal((3, 2))


def test_grad_write_then_stack():
    def f(a, b):
        ta = TensorArray(tf.float64, size=3)
        ta = ta.write(0, a * a).write(2, tf.sin(b)).write(1, a * b)
        return tf.reduce_sum(ta.stack() * W)

    assert_grad_matches_finite_differences(f, _rng.standard_normal(2), _rng.standard_normal(2))


def test_grad_unstack_then_reads_accumulate():
    def f(x):
        ta = TensorArray(tf.float64, size=3, clear_after_read=False).unstack(x)
        r0 = ta.read(0)
        return tf.reduce_sum(r0 * r0 + ta.read(2) * 3.0 + ta.read(0) * ta.read(1))

    assert_grad_matches_finite_differences(f, _rng.standard_normal((3, 2)))


def test_grad_clear_after_read_and_overwrite():
    def f(x, y):
        ta = TensorArray(tf.float64, size=3).unstack(x)
        r = ta.read(1)  # cleared afterwards: stack sees zeros there
        ta = ta.write(2, y * y)  # overwrites row 2: x[2] gets no gradient
        return tf.reduce_sum(ta.stack() * W) + tf.reduce_sum(r * r)

    assert_grad_matches_finite_differences(f, _rng.standard_normal((3, 2)), _rng.standard_normal(2))


def test_grad_scatter_then_gather_with_repeats():
    def f(v):
        ta = TensorArray(tf.float64, size=4).scatter([3, 0, 1], v)
        g = ta.gather([0, 0, 3, 2])
        return tf.reduce_sum(g * g * np.arange(8.0).reshape(4, 2))

    assert_grad_matches_finite_differences(f, _rng.standard_normal((3, 2)))


def test_grad_split_then_concat_and_reads():
    def f(v):
        ta = TensorArray(tf.float64, size=3, clear_after_read=False).split(v, [2, 0, 3])
        c = ta.concat()
        return tf.reduce_sum(c * tf.range(5, dtype=tf.float64)) + tf.reduce_sum(
            ta.read(2) * ta.read(2)
        )

    assert_grad_matches_finite_differences(f, _rng.standard_normal(5))


def test_grad_dynamic_size_rnn_loop():
    wh = _rng.standard_normal((2, 2)) * 0.5

    def f(xs, w):
        h = tf.zeros([2], tf.float64)
        ta = TensorArray(tf.float64, size=0, dynamic_size=True)
        for t in range(xs.shape[0]):
            h = tf.tanh(tf.linalg.matvec(w, h) + xs[t])
            ta = ta.write(t, h)
        s = ta.stack()
        return tf.reduce_sum(s * s)

    assert_grad_matches_finite_differences(f, _rng.standard_normal((4, 2)), wh)


# --------------------------------------------------------------------------------------
# graph mode
# --------------------------------------------------------------------------------------


def test_traced_unrolled_writes_match_eager_and_ignore_clear_after_read():
    @tf.function
    def f(x):
        ta = TensorArray(tf.float32, size=3)
        for i in range(3):
            ta = ta.write(i, x * float(i))
        return ta.stack(), ta.read(1), ta.read(1)  # graph TensorArrays read many times

    x = np.array([1.0, 2.0], np.float32)
    s, r1, r2 = f(tf.constant(x))
    np.testing.assert_array_equal(s.numpy(), np.stack([x * i for i in range(3)]))
    np.testing.assert_array_equal(r1.numpy(), x)
    np.testing.assert_array_equal(r2.numpy(), x)
    types = [op.type for op in f.get_concrete_function(tf.constant(x)).graph.get_operations()]
    assert "TensorListSetItem" in types and "TensorListStack" in types


def _rnn_reference(xs, w):
    h = np.zeros(w.shape[0])
    out = []
    for x in xs:
        h = np.tanh(w @ h + x)
        out.append(h)
    return np.stack(out)


def _graph_rnn(xs, w):
    n = tf.shape(xs)[0]
    ta = TensorArray(tf.float64, size=0, dynamic_size=True)

    def body(i, h, flow):
        h = tf.tanh(tf.linalg.matvec(w, h) + xs[i])
        return i + 1, h, TensorArray._from_flow(flow, ta).write(i, h).flow

    h0 = tf.zeros([2], tf.float64)
    _, _, flow = tf.while_loop(lambda i, h, fl: i < n, body, [tf.constant(0), h0, ta.flow])
    return TensorArray._from_flow(flow, ta).stack()


def test_traced_while_loop_accumulates_rnn_outputs():
    f = tf.function(_graph_rnn)
    w = _rng.standard_normal((2, 2)) * 0.5
    for steps in (3, 5):  # data-dependent iteration count, one trace
        xs = _rng.standard_normal((steps, 2))
        np.testing.assert_allclose(
            f(tf.constant(xs), tf.constant(w)).numpy(), _rnn_reference(xs, w)
        )


def test_gradient_through_traced_while_loop_of_tensor_array():
    f = tf.function(_graph_rnn)

    def loss(xs, w):
        s = f(xs, w)
        return tf.reduce_sum(s * s)

    assert_grad_matches_finite_differences(
        loss, _rng.standard_normal((3, 2)), _rng.standard_normal((2, 2)) * 0.5
    )


def test_tape_inside_traced_function_through_tensor_array():
    @tf.function
    def step(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            ta = TensorArray(tf.float64, size=2).write(0, x * x).write(1, x * 3.0)
            y = tf.reduce_sum(ta.stack() * tf.constant([[1.0], [2.0]], tf.float64))
        return tape.gradient(y, x)

    x = np.array([0.5, -1.5])
    np.testing.assert_allclose(step(tf.constant(x)).numpy(), 2 * x + 6.0)
