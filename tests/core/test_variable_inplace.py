"""Variable updates write into the variable's array only when no one else can see it.

``assign_add``/``assign_sub`` update in place when the variable is the array's only
holder (no tensor read from it, no view, no caller's reference); otherwise they allocate,
so every tensor read earlier keeps its value (tensors are immutable, as in TF).
"""

import numpy as np

import rill as tf
from rill.core import variables as V


def test_sole_owner_updates_in_place():
    v = tf.Variable(np.arange(4, dtype=np.float32))
    before = id(v._value)
    v.assign_add(np.ones(4, np.float32))
    v.assign_sub(np.full(4, 0.5, np.float32))
    assert id(v._value) == before  # written in place: no one else held the array
    np.testing.assert_array_equal(v.numpy(), np.arange(4, dtype=np.float32) + 0.5)


def test_tensor_read_before_update_keeps_its_value():
    v = tf.Variable(np.arange(4, dtype=np.float32))
    t = v.read_value()
    s = v.value()[1:3]  # a slice: a view of the read's array
    v.assign_add(np.ones(4, np.float32))
    np.testing.assert_array_equal(t.numpy(), np.arange(4, dtype=np.float32))
    np.testing.assert_array_equal(s.numpy(), [1.0, 2.0])
    np.testing.assert_array_equal(v.numpy(), np.arange(4, dtype=np.float32) + 1)


def test_assigned_tensor_and_user_arrays_are_never_written():
    src = tf.constant(np.zeros(3, np.float32))
    v = tf.Variable(np.ones(3, np.float32))
    v.assign(src)  # the variable may now share the tensor's array
    v.assign_add(np.ones(3, np.float32))
    np.testing.assert_array_equal(src.numpy(), np.zeros(3, np.float32))
    user = np.full(3, 2.0, np.float32)
    w = tf.Variable(user)
    w.assign_sub(np.ones(3, np.float32))
    np.testing.assert_array_equal(user, np.full(3, 2.0, np.float32))
    np.testing.assert_array_equal(w.numpy(), np.ones(3, np.float32))


def test_views_and_readonly_arrays_are_not_written():
    base = np.arange(6, dtype=np.float32)
    v = tf.Variable(np.zeros(3, np.float32))
    v._apply("assign", base[::2])  # a view of someone else's array
    v.assign_add(np.ones(3, np.float32))
    np.testing.assert_array_equal(base, np.arange(6, dtype=np.float32))
    np.testing.assert_array_equal(v.numpy(), [1.0, 3.0, 5.0])
    ro = np.ones(2, np.float32)
    ro.flags.writeable = False
    w = tf.Variable(np.zeros(2, np.float32))
    w._apply("assign", ro)
    w.assign_add(np.ones(2, np.float32))
    np.testing.assert_array_equal(ro, np.ones(2, np.float32))
    np.testing.assert_array_equal(w.numpy(), [2.0, 2.0])


def test_broadcast_and_scalar_updates():
    # the array-level update graph kernels call: a 0-d update writes in place, a broadcast
    # one takes the allocating path; both give the same values
    v = tf.Variable(np.zeros((2, 3), np.float32))
    v._apply("assign_add", np.array(2.0, np.float32))
    v._apply("assign_sub", np.array([1.0, 0.0, 1.0], np.float32))
    np.testing.assert_array_equal(v.numpy(), [[1.0, 2.0, 1.0]] * 2)
    it = tf.Variable(np.int64(0))
    for _ in range(3):
        it.assign_add(1)
    assert it.numpy() == 3 and it.dtype == tf.int64


def test_traced_read_then_update_keeps_the_read():
    v = tf.Variable(np.ones(3, np.float32))

    @tf.function
    def f():
        before = v.read_value()
        v.assign_add(tf.ones(3))
        return before, v.read_value()

    for k in range(2):
        before, after = f()
        np.testing.assert_array_equal(before.numpy(), np.full(3, 1.0 + k, np.float32))
        np.testing.assert_array_equal(after.numpy(), np.full(3, 2.0 + k, np.float32))


def test_writable_value_copies_a_shared_array():
    v = tf.Variable(np.zeros(2, np.float32))
    t = v.read_value()
    arr = V.writable_value(v)
    arr += 1  # a fused kernel writes here
    np.testing.assert_array_equal(t.numpy(), [0.0, 0.0])
    np.testing.assert_array_equal(v.numpy(), [1.0, 1.0])
    del t
    assert V.writable_value(v) is v._value  # now the variable's own array
