"""tf.test.compute_gradient: TF's Jacobian layout (y_size, x_size), complex values as
interleaved real/imaginary parts, x's real dtype, delta 1/1024 by default; the same
numbers as TensorFlow 2.21 on the functions below."""

import importlib.util

import numpy as np
import pytest

import rill

HAS_TF = importlib.util.find_spec("tensorflow") is not None


def _cases(tf):
    """(id, f, x, delta): the functions both frameworks run."""
    return [
        ("square", lambda x: x * x, [tf.constant([1.0, 2.0, 3.0])], None),
        (
            "matmul",
            lambda x, y: tf.matmul(x, y),
            [np.ones((2, 3)), np.arange(12.0).reshape(3, 4)],
            None,
        ),
        ("sin_f32_delta", tf.math.sin, [np.array([1.0, 2.0], np.float32)], 1e-2),
        ("sin_f64", tf.math.sin, [np.array([1.0, -0.5])], None),
        ("complex_square", lambda x: x * x, [tf.constant([1 + 2j, 3 - 1j], tf.complex128)], None),
        ("complex_to_real", tf.math.real, [tf.constant([1 + 2j], tf.complex128)], None),
        (
            "real_to_complex",
            lambda x: tf.cast(x, tf.complex128) * (1 + 2j),
            [np.array([1.0])],
            None,
        ),
        ("half", lambda x: x * x, [np.array([1.0, 2.0], np.float16)], None),
        ("unconnected", lambda x: tf.stop_gradient(x) * 2, [np.array([1.0, 2.0])], None),
        ("empty", lambda x: tf.reduce_sum(x, axis=0), [np.ones((2, 0))], None),
        ("reduce", lambda x: tf.reduce_sum(x * x, axis=1), [np.arange(6.0).reshape(2, 3)], None),
        ("softmax", lambda x: tf.nn.softmax(x), [np.array([[0.1, 0.5, -1.0]])], None),
        ("python_list", lambda x: x * 2, [[1.0, 2.0]], None),
    ]


def _run(tf, f, x, delta):
    return tf.test.compute_gradient(f, x, delta)


@pytest.mark.parametrize("case", _cases(rill), ids=[c[0] for c in _cases(rill)])
def test_theoretical_matches_numerical(case):
    _, f, x, delta = case
    th, nu = _run(rill, f, x, delta)
    assert isinstance(th, tuple) and isinstance(nu, tuple) and len(th) == len(nu) == len(x)
    for t, n in zip(th, nu):
        assert t.shape == n.shape and t.dtype == n.dtype
        if "unconnected" in case[0] or "half" in case[0]:
            continue
        np.testing.assert_allclose(t, n, rtol=1e-3, atol=1e-3)


def test_layout_and_dtypes():
    th, nu = rill.test.compute_gradient(
        lambda x, y: rill.matmul(x, y), [np.ones((2, 3)), np.arange(12.0).reshape(3, 4)]
    )
    assert [t.shape for t in th] == [(8, 6), (8, 12)] and th[0].dtype == np.float64
    # row r is y.flat[r], column c is x.flat[c]: dy[0,0]/dx[0,:] = y[:, 0] = [0, 4, 8]
    assert th[0][0].tolist() == [0, 4, 8, 0, 0, 0]
    th, nu = rill.test.compute_gradient(
        lambda x: x * x, [rill.constant([1 + 2j, 3 - 1j], rill.complex128)]
    )
    expected = [[2, -4, 0, 0], [4, 2, 0, 0], [0, 0, 6, 2], [0, 0, -2, 6]]  # TF's numbers
    assert th[0].tolist() == expected and nu[0].tolist() == expected and th[0].dtype == np.float64
    th, nu = rill.test.compute_gradient(lambda x: x * x, [rill.constant([1 + 2j], rill.complex64)])
    assert th[0].dtype == np.float32
    th, nu = rill.test.compute_gradient(lambda x: rill.stop_gradient(x) * 2, [np.array([1.0, 2.0])])
    assert th[0].tolist() == [[0, 0], [0, 0]] and nu[0].tolist() == [[2, 0], [0, 2]]


def test_default_delta_is_a_power_of_two():
    # the central-difference error of sin at 1 is -cos(1) * delta**2 / 6, so this pins delta
    _, nu = rill.test.compute_gradient(rill.math.sin, [np.array([1.0])])
    assert nu[0][0, 0] == pytest.approx(np.cos(1.0) * (1 - (1 / 1024) ** 2 / 6), rel=1e-10)
    assert nu[0][0, 0] == 0.5403022199893712  # TF 2.21's value
    _, nu = rill.test.compute_gradient(lambda x: x * x, [rill.constant([2.0])])
    assert nu[0][0, 0] == 4.0  # exact: 2 +/- 1/1024 is exact in float32


def test_errors():
    with pytest.raises(ValueError, match="list or tuple"):
        rill.test.compute_gradient(lambda x: x, rill.constant([1.0]))
    with pytest.raises(AssertionError, match="int32 of argument 0"):
        rill.test.compute_gradient(lambda x: x * 2, [rill.constant([1, 2])])
    with pytest.raises(AssertionError, match="int32 of y"):
        rill.test.compute_gradient(lambda x: rill.cast(x, rill.int32), [rill.constant([1.0])])
    with pytest.raises(TypeError, match="one tensor"):
        rill.test.compute_gradient(lambda x: (x, x), [np.array([1.0])])


def test_variables_in_f():
    v = rill.Variable([1.0, 2.0])
    th, nu = rill.test.compute_gradient(lambda x: x * v, [np.array([1.0, 2.0], np.float32)])
    assert th[0].tolist() == [[1, 0], [0, 2]] and nu[0].tolist() == [[1, 0], [0, 2]]


@pytest.mark.skipif(not HAS_TF, reason="TensorFlow not installed")
def test_same_numbers_as_tensorflow():
    import tensorflow as tf

    for (cid, f, x, delta), (_, tf_f, tf_x, _) in zip(_cases(rill), _cases(tf)):
        th, nu = _run(rill, f, x, delta)
        tf_th, tf_nu = _run(tf, tf_f, tf_x, delta)
        for mine, theirs in ((th, tf_th), (nu, tf_nu)):
            assert len(mine) == len(theirs), cid
            for a, b in zip(mine, theirs):
                assert a.shape == b.shape and a.dtype == b.dtype, cid
                np.testing.assert_allclose(
                    a.astype(float), b.astype(float), rtol=2e-6, atol=1e-6, err_msg=cid
                )
