"""tf.experimental's runtime switches, narrow dtypes and DLPack exchange."""

import numpy as np
import pytest

import rill as tf


def test_dlpack_roundtrip_shares_memory_with_numpy():
    a = np.arange(6.0).reshape(2, 3)
    t = tf.experimental.dlpack.from_dlpack(a.__dlpack__())
    np.testing.assert_array_equal(t.numpy(), a)
    a[0, 0] = 42.0  # zero-copy: the tensor sees the producer's memory
    assert t.numpy()[0, 0] == 42.0
    cap = tf.experimental.dlpack.to_dlpack(tf.constant([[1, 2], [3, 4]], tf.int64))

    class Holder:  # NumPy consumes objects with the protocol, as other libraries do
        def __dlpack__(self, **_):
            return cap

        def __dlpack_device__(self):
            return (1, 0)

    back = np.from_dlpack(Holder())
    assert back.dtype == np.int64 and back.tolist() == [[1, 2], [3, 4]]
    with pytest.raises(TypeError, match="capsule"):
        tf.experimental.dlpack.from_dlpack(np.arange(3.0))


def test_async_scope_and_executor_switches_keep_results_and_errors():
    with tf.experimental.async_scope():
        y = tf.constant([1.0, 2.0]) * 3
    tf.experimental.async_clear_error()
    np.testing.assert_array_equal(y.numpy(), [3.0, 6.0])
    with pytest.raises(tf.errors.InvalidArgumentError):
        with tf.experimental.async_scope():
            tf.reshape(tf.constant([1, 2, 3]), [2, 2])
    with tf.experimental.function_executor_type("SINGLE_THREADED_EXECUTOR"):
        assert int(tf.function(lambda x: x + 1)(tf.constant(1))) == 2
    tf.experimental.enable_strict_mode()


def test_narrow_dtypes_are_the_dtypes_namespace_objects():
    for name in ("float8_e5m2", "float8_e4m3fn", "int4", "uint2", "float4_e2m1fn"):
        assert getattr(tf.experimental, name) is getattr(tf.dtypes.experimental, name)
