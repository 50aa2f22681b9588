"""TF's conversion rules: Python scalars, lists, NumPy arrays, requested dtypes."""

import numpy as np
import pytest

import rill as tf


@pytest.mark.parametrize(
    "value, dtype",
    [
        (1, tf.int32),
        (2**40, tf.int64),
        (1.5, tf.float32),
        (True, tf.bool),
        (1 + 2j, tf.complex128),
        ("abc", tf.string),
        (b"abc", tf.string),
        ([1, 2, 3], tf.int32),
        ([1, 2.5], tf.float32),
        ([[True], [False]], tf.bool),
        ([], tf.float32),
        (np.arange(3), tf.int64),
        (np.arange(3, dtype=np.int32), tf.int32),
        (np.float64(1.0), tf.float64),
        (np.ones(2, np.float16), tf.float16),
        (np.array(["a", "bc"]), tf.string),
    ],
)
def test_inferred_dtype(value, dtype):
    assert tf.constant(value).dtype is dtype
    assert tf.convert_to_tensor(value).dtype is dtype


def test_range_vs_constant_of_arange():
    assert tf.range(10).dtype is tf.int32
    c = tf.constant(np.arange(10))
    assert c.dtype is tf.int64
    np.testing.assert_array_equal(tf.range(10).numpy(), c.numpy())


def test_requested_dtype_compatibility():
    assert tf.constant(3, dtype=tf.float32).numpy() == np.float32(3)
    assert tf.constant(np.arange(3), dtype=tf.float32).dtype is tf.float32  # int -> float ok
    assert tf.constant(np.arange(3), dtype=tf.int8).dtype is tf.int8
    with pytest.raises(TypeError):
        tf.constant(1.5, dtype=tf.int32)
    with pytest.raises(TypeError):
        tf.constant(np.array([1.5]), dtype=tf.int32)  # float -> int is not allowed
    with pytest.raises(TypeError):
        tf.constant("a", dtype=tf.float32)
    assert tf.constant(True, dtype=tf.int32).numpy() == 1  # bools convert to numbers, as in TF
    assert tf.constant([True, False], dtype=tf.float32).numpy().tolist() == [1.0, 0.0]


def test_int_out_of_range_raises():
    with pytest.raises(ValueError, match="out of range"):
        tf.constant(2**31, dtype=tf.int32)
    with pytest.raises(ValueError, match="out of range"):
        tf.constant([1, 300], dtype=tf.uint8)
    with pytest.raises(ValueError):
        tf.constant(2**70)
    with pytest.raises(ValueError, match="out of range"):
        tf.constant(np.arange(3, dtype=np.int8)) + 1000


def test_non_rectangular_raises():
    with pytest.raises(ValueError, match="non-rectangular"):
        tf.constant([[1, 2], [3]])


def test_constant_shape_broadcasts_scalar_and_reshapes():
    np.testing.assert_array_equal(tf.constant(7, shape=[2, 3]).numpy(), np.full((2, 3), 7))
    np.testing.assert_array_equal(tf.constant([1, 2, 3, 4], shape=[2, 2]).numpy(), [[1, 2], [3, 4]])
    with pytest.raises(TypeError):
        tf.constant([1, 2, 3], shape=[2, 2])


def test_tensor_conversion_with_wrong_dtype_raises():
    t = tf.constant(1)
    with pytest.raises(ValueError, match="requested dtype float32"):
        tf.convert_to_tensor(t, dtype=tf.float32)
    assert tf.convert_to_tensor(t) is t


def test_dtype_hint_is_a_preference():
    assert tf.convert_to_tensor(1, dtype_hint=tf.float32).dtype is tf.float32
    assert tf.convert_to_tensor("s", dtype_hint=tf.float32).dtype is tf.string


def test_constant_copies_numpy_input():
    a = np.zeros(3)
    t = tf.constant(a)
    a[0] = 5
    assert t.numpy()[0] == 0


def test_lists_of_tensors_are_packed():
    t = tf.convert_to_tensor([tf.constant(1.0, tf.float64), tf.constant(2.0, tf.float64)])
    assert t.dtype is tf.float64 and t.shape == [2]


def test_string_values_are_utf8_bytes():
    t = tf.constant(["héllo", b"x"])
    assert t.numpy().tolist() == ["héllo".encode(), b"x"]


def test_str_and_bytes_mix_like_tf():
    t = tf.constant(["héllo", b"\xff", b"x"])
    assert t.dtype is tf.string and t.numpy().tolist() == ["héllo".encode(), b"\xff", b"x"]


def test_python_bytes_keep_trailing_nul_bytes():
    # NumPy's fixed-width "S" dtype would strip them; TF keeps every byte
    t = tf.constant([b"a\x00", b"\x01\x00"])
    assert t.numpy().tolist() == [b"a\x00", b"\x01\x00"]
    assert tf.constant([["x", "y"]]).shape == (1, 2)


def test_dtype_hint_packs_a_list_holding_a_traced_tensor():
    # [i, 0] with i traced: a Pack op, not a NumPy conversion of the symbolic tensor
    @tf.function
    def f(i):
        t = tf.convert_to_tensor([i, 0], dtype_hint=tf.int32)
        return t * 2

    np.testing.assert_array_equal(f(tf.constant(3)).numpy(), [6, 0])
    x = np.arange(12, dtype=np.float32).reshape(4, 3)
    g = tf.function(lambda x, i: tf.slice(x, [i, 0], [2, 3]))
    np.testing.assert_array_equal(g(tf.constant(x), tf.constant(1)).numpy(), x[1:3])
