"""The slow path's hooks (profiler op timer, check-numerics output check) may be
removed by another thread while an op runs: the op finishes with the hooks it began with."""

import numpy as np

import rill as tf
from rill.core import dispatch


def _op_whose_kernel_removes_the_hooks():
    def kernel(x):
        # stands in for another thread calling tf.profiler.experimental.stop() or
        # tf.debugging.disable_check_numerics() while this kernel runs
        dispatch.set_op_timer(None)
        dispatch.set_output_check(None)
        return x * 2

    return tf.numpy_function(kernel, [np.float32([1.0, 2.0])], tf.float32)


def test_op_timer_removed_while_a_kernel_runs():
    timed = []
    dispatch.set_op_timer(lambda prim, t0, t1: timed.append(prim.name))
    try:
        y = _op_whose_kernel_removes_the_hooks()
    finally:
        dispatch.set_op_timer(None)
    np.testing.assert_array_equal(y.numpy(), [2.0, 4.0])
    assert len(timed) == 1  # the op that began timed is still timed
    assert not dispatch._slow


def test_output_check_removed_while_a_kernel_runs():
    checked = []

    def check(prim, inputs, out):
        checked.append(prim.name)
        return out

    dispatch.set_output_check(check)
    try:
        y = _op_whose_kernel_removes_the_hooks()
    finally:
        dispatch.set_output_check(None)
    np.testing.assert_array_equal(y.numpy(), [2.0, 4.0])
    assert len(checked) == 1
    assert not dispatch._slow
