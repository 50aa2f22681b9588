import numpy as np
import pytest

import rill as tf


def test_creation_and_metadata():
    v = tf.Variable([1.0, 2.0], name="w")
    assert v.name == "w:0" and v.trainable and v.dtype is tf.float32 and v.shape == [2]
    assert not tf.Variable(1, trainable=False).trainable
    assert tf.Variable(lambda: tf.constant(3.0)).numpy() == 3.0
    assert tf.Variable(1.0, dtype=tf.float64).dtype is tf.float64
    assert (
        repr(tf.Variable(1.0)) == "<rill.Variable 'Variable:0' shape=() dtype=float32, numpy=1.0>"
    )
    assert tf.Variable(1.0)._unique_id != tf.Variable(1.0)._unique_id


def test_behaves_as_tensor_in_ops():
    v = tf.Variable([1.0, 2.0])
    assert isinstance(v + 1, tf.Tensor)
    np.testing.assert_allclose((v * v).numpy(), [1.0, 4.0])
    np.testing.assert_allclose(tf.add(v, [1.0, 1.0]).numpy(), [2.0, 3.0])
    np.testing.assert_allclose(np.square(v), [1.0, 4.0])
    assert float(v[1]) == 2.0


def test_assign_family_and_read_isolation():
    v = tf.Variable([1.0, 2.0])
    before = v.read_value()
    v.assign([5.0, 6.0])
    v.assign_add([1.0, 1.0])
    v.assign_sub(tf.constant([0.5, 0.5]))
    np.testing.assert_allclose(v.numpy(), [5.5, 6.5])
    np.testing.assert_allclose(before.numpy(), [1.0, 2.0])  # earlier reads keep their value
    assert v.assign([0.0, 0.0]) is v


def test_scalar_variable_updates():
    v = tf.Variable(0.5)
    v.assign_sub(0.25)
    v.assign_add(tf.constant(1.0))
    assert float(v) == 1.25 and v.dtype is tf.float32 and v.shape == []


def test_assign_checks_shape_and_dtype():
    v = tf.Variable([1.0, 2.0])
    with pytest.raises(ValueError, match="shape"):
        v.assign([1.0, 2.0, 3.0])
    with pytest.raises(TypeError):
        v.assign(tf.constant([1, 2]))
    with pytest.raises(TypeError):
        tf.Variable([1, 2]).assign([1.5, 2.5])
    free = tf.Variable([1.0], shape=tf.TensorShape(None))
    free.assign([1.0, 2.0, 3.0])
    assert free.shape.rank is None and free.numpy().shape == (3,)


def test_scatter_nd_update_and_add():
    v = tf.Variable(np.zeros((3, 2), np.float32))
    v.scatter_nd_update([[0], [2]], [[1.0, 1.0], [2.0, 2.0]])
    v.scatter_nd_add([[2, 1], [2, 1]], [1.0, 1.0])  # duplicates accumulate
    np.testing.assert_allclose(v.numpy(), [[1, 1], [0, 0], [2, 4]])
    with pytest.raises(ValueError):
        v.scatter_nd_update([[5]], [[1.0, 1.0]])


def test_unhashable_with_ref():
    v = tf.Variable(1.0)
    with pytest.raises(TypeError):
        hash(v)
    assert {v.ref(): 1}[v.ref()] == 1


def test_assign_checks_dtype_and_shape_on_every_path():
    import numpy as np
    import pytest

    import rill as tf

    v = tf.Variable(np.zeros((2, 3), np.float32))
    v.assign(tf.constant(np.ones((2, 3), np.float32)))  # an equal-shape tensor: fast path
    np.testing.assert_array_equal(v.numpy(), np.ones((2, 3)))
    with pytest.raises(ValueError, match="shape"):
        v.assign(tf.constant(np.ones((3, 2), np.float32)))
    with pytest.raises(TypeError, match="float64"):
        v.assign(tf.constant(np.ones((2, 3), np.float64)))
    free = tf.Variable(np.zeros(2, np.float32), shape=tf.TensorShape(None))
    free.assign(tf.constant(np.ones(5, np.float32)))  # any shape: the general path
    assert free.numpy().shape == (5,)
    partial = tf.Variable(np.zeros((2, 3), np.float32), shape=tf.TensorShape([None, 3]))
    partial.assign(tf.constant(np.ones((4, 3), np.float32)))
    assert partial.numpy().shape == (4, 3)
    with pytest.raises(ValueError, match="shape"):
        partial.assign(tf.constant(np.ones((4, 2), np.float32)))


class _Source:
    """A stand-in for a device array: converts to its values with ``np.asarray``."""

    def __init__(self, values):
        self.values = np.asarray(values)
        self.reads = 0

    def __array__(self, dtype=None, copy=None):
        self.reads += 1
        return self.values


def test_deferred_values_convert_on_first_read_only():
    from rill.core.variables import defer_values, held_values

    vs = [tf.Variable([1.0, 2.0]), tf.Variable(3.0)]
    sources = [_Source(np.array([5.0, 6.0], np.float32)), _Source(np.float32(7.0))]
    defer_values(vs, sources)
    assert held_values(vs) == sources  # held as given, not converted
    assert [s.reads for s in sources] == [0, 0]
    np.testing.assert_array_equal(vs[0].numpy(), [5.0, 6.0])
    np.testing.assert_array_equal(vs[0].numpy(), [5.0, 6.0])
    assert [s.reads for s in sources] == [1, 0]  # converted once, when read
    assert type(vs[0]) is tf.Variable  # a read restores the variable's own class


def test_deferring_again_after_a_read_defers_every_variable():
    # the bulk path assumes the variables are still deferred from the step before; one
    # read since (its class restored) must not leave it holding an unconverted source
    from rill.core.variables import defer_values, held_values

    vs = [tf.Variable(float(i)) for i in range(3)]
    defer_values(vs, [_Source(np.float32(10 + i)) for i in range(3)])
    assert float(vs[1].numpy()) == 11.0  # read: vs[1] is a plain Variable again
    second = [_Source(np.float32(20 + i)) for i in range(3)]
    defer_values(vs, second)
    assert held_values(vs) == second
    assert all(type(v) is not tf.Variable for v in vs)  # all deferred again
    assert float((vs[1] + 1.0).numpy()) == 22.0  # an op reads the new value
    assert [float(v.numpy()) for v in vs] == [20.0, 21.0, 22.0]
    assert [s.reads for s in second] == [1, 1, 1]  # each converted once
    vs[2].assign(5.0)  # an assignment replaces a deferred value without reading it
    assert float(vs[2].numpy()) == 5.0
