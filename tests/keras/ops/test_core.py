"""keras.ops control flow, conversion and dtype rules, without Keras: eagerly, inside
rill.function, with gradients, and on KerasTensors."""

from __future__ import annotations

import numpy as np
import pytest

import rill
from rill import keras
from rill.keras import ops
from rill.keras.ops import _dtypes


def _both(fn, *args):
    """``fn(*args)`` eagerly and traced."""
    return fn(*args), rill.function(fn)(*args)


def test_cond_switch_and_loops():
    x = np.float32(3.0)
    for out in _both(lambda v: ops.cond(v > 2, lambda: v * 2, lambda: v - 1), x):
        assert float(out) == 6.0
    branches = [lambda a: a + 1, lambda a: a * 10, lambda a: -a]
    for i, want in [(0, 4.0), (1, 30.0), (2, -3.0), (7, -3.0), (-1, 4.0)]:
        for out in _both(lambda j, a: ops.switch(j, branches, a), np.int32(i), x):
            assert float(out) == want
    for out in _both(lambda n: ops.fori_loop(0, n, lambda i, acc: acc + i, 0), np.int32(5)):
        assert int(out) == 10

    def body(i, acc):
        return i + 1, acc * 2

    for out in _both(lambda n: ops.while_loop(lambda i, acc: i < n, body, (0, 1.0)), np.int32(4)):
        assert int(out[0]) == 4 and float(out[1]) == 16.0
    single = ops.while_loop(lambda v: v < 10, lambda v: v * 3, 1)
    assert int(single) == 27
    capped = ops.while_loop(lambda v: v < 100, lambda v: v + 1, 0, maximum_iterations=5)
    assert int(capped) == 5


def test_scan():
    xs = np.arange(1.0, 6.0, dtype=np.float32)

    def step(carry, x):
        carry = carry + x
        return carry, carry * 2

    for carry, ys in _both(lambda v: ops.scan(step, np.float32(0.0), v), xs):
        assert float(carry) == 15.0
        np.testing.assert_allclose(ys, 2 * np.cumsum(xs))
    carry, ys = ops.scan(step, np.float32(0.0), xs, reverse=True)
    np.testing.assert_allclose(ys, 2 * np.cumsum(xs[::-1])[::-1])
    carry, ys = ops.scan(lambda c, _: (c * 2, c), np.float32(1.0), None, length=4)
    np.testing.assert_allclose(ys, [1, 2, 4, 8])
    nested = ops.scan(lambda c, x: ((c[0] + x["a"], c[1]), None), (0.0, 1.0),
                      {"a": xs})  # fmt: skip
    assert float(nested[0][0]) == 15.0 and nested[1] is None
    with pytest.raises(ValueError, match="length"):
        ops.scan(step, 0.0)
    with pytest.raises(TypeError):
        ops.scan(1, 0.0, xs)


def test_associative_scan_map_and_vectorize():
    xs = np.arange(1.0, 8.0, dtype=np.float32)
    np.testing.assert_allclose(ops.associative_scan(lambda a, b: a + b, xs), np.cumsum(xs))
    np.testing.assert_allclose(ops.associative_scan(lambda a, b: a * b, xs, reverse=True),
                               np.cumprod(xs[::-1])[::-1])  # fmt: skip
    m = np.arange(12.0, dtype=np.float32).reshape(3, 4)
    np.testing.assert_allclose(ops.associative_scan(lambda a, b: a + b, m, axis=1),
                               np.cumsum(m, axis=1))  # fmt: skip
    pair = ops.associative_scan(lambda a, b: (a[0] + b[0], a[1] * b[1]), (xs, xs))
    np.testing.assert_allclose(pair[1], np.cumprod(xs))
    for out in _both(lambda v: ops.map(lambda r: ops.sum(r) * 2, v), m):
        np.testing.assert_allclose(out, m.sum(1) * 2)
    np.testing.assert_allclose(ops.vectorized_map(lambda r: r[::-1], m), m[:, ::-1])
    dot = ops.vectorize(lambda a, b: ops.sum(a * b), signature="(n),(n)->()")
    np.testing.assert_allclose(dot(m, m[0]), m @ m[0])
    add = ops.vectorize(lambda a, b: a + b)
    np.testing.assert_allclose(add(m, np.float32(1.0)), m + 1)


def test_custom_gradient_stop_gradient_and_conversion():
    @ops.custom_gradient
    def clip_grad(x):
        def grad(upstream):
            return ops.clip(upstream, -0.5, 0.5)

        return x * 1.0, grad

    x = rill.Variable([1.0, 2.0])
    with rill.GradientTape() as tape:
        y = ops.sum(clip_grad(x) * 3.0) + ops.sum(ops.stop_gradient(x) * 5.0)
    np.testing.assert_allclose(tape.gradient(y, x), [0.5, 0.5])
    t = ops.convert_to_tensor([1, 2])
    assert ops.is_tensor(t) and not ops.is_tensor(np.ones(2)) and t.dtype == rill.int32
    assert ops.convert_to_tensor(2**40).dtype == rill.int64
    assert ops.convert_to_tensor(1.5, dtype="int32").numpy() == 1
    assert ops.convert_to_tensor([np.float16(1), 2.0]).dtype == rill.float16
    assert isinstance(ops.convert_to_numpy(t), np.ndarray)
    assert ops.dtype(t) == "int32" and ops.shape(np.ones((2, 3))) == (2, 3)
    sp = rill.sparse.from_dense(np.eye(2, dtype=np.float32))
    assert ops.convert_to_tensor(sp, sparse=False).shape == (2, 2)
    np.testing.assert_array_equal(ops.convert_to_numpy(sp), np.eye(2))
    assert ops.saturate_cast(np.array([-300.0, 1e10]), "int16").numpy().tolist() == [-300, 32767]

    @rill.function
    def dynamic(v):
        return ops.shape(v)[0] * 2

    assert (
        int(dynamic.get_concrete_function(rill.TensorSpec([None, 3]))(np.ones((4, 3), np.float32)))
        == 8
    )


def test_control_flow_on_keras_tensors():
    x = keras.Input((5,))
    carry, ys = ops.scan(lambda c, v: (c + v, c * v), ops.zeros_like(x[0]), x)
    mapped = ops.map(lambda r: r * 2, x)
    model = keras.Model(x, [carry, ys, mapped])
    data = np.arange(10.0, dtype=np.float32).reshape(2, 5)
    c, y, m = model(rill.constant(data))
    np.testing.assert_allclose(c, data.sum(0))
    np.testing.assert_allclose(m, data * 2)
    assert ys.shape == (None, 5)
    np.testing.assert_allclose(y, [np.zeros(5), data[0] * data[1]])


def test_elastic_transform():
    img = np.random.default_rng(0).uniform(size=(2, 8, 8, 3)).astype(np.float32)
    out = ops.image.elastic_transform(img, alpha=0.0, seed=1)
    np.testing.assert_allclose(out, img, atol=1e-6)  # no displacement: the image itself
    a = ops.image.elastic_transform(img, seed=3)
    b = ops.image.elastic_transform(img, seed=3)
    assert a.shape == img.shape and a.dtype == rill.float32
    np.testing.assert_array_equal(a, b)


# ------------------------------------------------------------------- dtype promotion
def test_result_type_lattice():
    rt = _dtypes.result_type
    cases = {
        ("int32", "float32"): "float32", ("uint8", "int8"): "int16", ("uint32", "int32"): "int64",
        ("uint64", "int64"): "float32", ("bfloat16", "float16"): "float32",
        ("int64", float): "float32", ("bfloat16", float): "bfloat16", ("int8", int): "int8",
        (int, float): "float32", (int,): "int32", ("bool", int): "int32", ("bool", bool): "bool",
        ("uint64",): "uint32", ("complex128", "float32"): "complex64", (): "float32",
        ("float64", "complex64"): "complex64", ("uint16", "float16"): "float16",
    }  # fmt: skip
    for args, want in cases.items():
        assert rt(*args) == want, (args, rt(*args), want)
    with pytest.raises(ValueError, match="float8"):
        rt("float8_e4m3fn", "float32")
    from rill.keras import config

    config.set_floatx("float16")
    try:
        assert rt(int, float) == "float16" and rt(int) == "int16" and rt() == "float16"
    finally:
        config.set_floatx("float32")


def test_keras_promotion_in_ops():
    i = np.arange(3, dtype=np.int32)
    assert ops.add(i, 1.5).dtype == rill.float32
    assert ops.add(np.ones(2, np.float16), 1.0).dtype == rill.float16
    assert ops.add(np.ones(2, np.uint8), np.ones(2, np.int8)).dtype == rill.int16
    assert ops.multiply(np.ones(2, np.int64), 2).dtype == rill.int64
    assert ops.divide(i, i + 1).dtype == rill.float32
    assert ops.sqrt(i).dtype == rill.float32 and ops.sqrt(i.astype(np.int64)).dtype == rill.float32
    assert ops.mean(i).dtype == rill.float32 and ops.sum(np.ones(2, np.int8)).dtype == rill.int32
    assert ops.mod(np.ones(2, np.uint8), 2).dtype == rill.int32  # Python ints converted first
    assert ops.matmul(np.ones((2, 2), np.int8), np.ones((2, 2), np.int8)).dtype == rill.int32
    assert ops.argmax(np.ones(3)).dtype == rill.int32
    assert ops.zeros(2).dtype == rill.float32 and ops.arange(3).dtype == rill.int32
    assert ops.arange(3.0).dtype == rill.float32
