"""Python operators on eager tensors: a large temporary operand's array may take the
result (temporary elision, as NumPy does), and nothing anyone can still read changes."""

from __future__ import annotations

import operator
import re
import tracemalloc

import numpy as np
import pytest

import rill as tf
from rill.ops import operators

SHAPE = (300, 300)  # 360 kB of float32: above the elision threshold
N_BYTES = int(np.prod(SHAPE)) * 4
assert N_BYTES >= operators._ELIDE_BYTES


def _arrays(dtype=np.float32):
    rng = np.random.default_rng(0)
    return (rng.uniform(1, 2, SHAPE).astype(dtype), rng.uniform(1, 2, SHAPE).astype(dtype))


def _peak(fn):
    """(result, peak bytes NumPy allocated while ``fn`` ran)."""
    tracemalloc.start()
    try:
        out = fn()
        return out, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


OPS = [operator.add, operator.sub, operator.mul, operator.truediv]


@pytest.mark.parametrize("op", OPS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex64])
def test_results_equal_numpy_with_the_temporary_on_either_side(op, dtype):
    xa, ya = _arrays(dtype)
    x, y = tf.constant(xa), tf.constant(ya)
    cases = [  # (rill expression, NumPy expression): the temporary is ``x * 3``
        (lambda: op(x * 3.0, y), lambda: op(xa * 3, ya)),
        (lambda: op(y, x * 3.0), lambda: op(ya, xa * 3)),
        (lambda: op(x * 3.0, 0.5), lambda: op(xa * 3, dtype(0.5))),
        (lambda: op(0.5, x * 3.0), lambda: op(dtype(0.5), xa * 3)),
        (lambda: op(x * 3.0, tf.constant(np.asarray(2, dtype))), lambda: op(xa * 3, dtype(2))),
    ]
    for ours, numpy in cases:
        got = ours()
        assert got.dtype.as_numpy_dtype == dtype
        np.testing.assert_array_equal(got.numpy(), numpy())
    np.testing.assert_array_equal(x.numpy(), xa)  # the operands are untouched
    np.testing.assert_array_equal(y.numpy(), ya)


def test_a_temporary_gives_its_array_to_the_result():
    x, y = (tf.constant(a) for a in _arrays())
    _, elided = _peak(lambda: (x * 3.0) + y)
    _, chained = _peak(lambda: ((x * 3.0) + y) * 2.0 - 1.0)
    _, reflected = _peak(lambda: 2.0 * (x * 3.0))
    for peak in (elided, chained, reflected):
        assert peak < 1.5 * N_BYTES  # one array, not one per operator

    def named():
        t = x * 3.0
        return t + y

    _, kept = _peak(named)
    assert kept >= 2 * N_BYTES  # t is still readable: the sum is a new array
    # not commuting: 2 - t would need its operands swapped, so it allocates
    _, swapped = _peak(lambda: 2.0 - (x * 3.0))
    assert swapped >= 2 * N_BYTES


@pytest.mark.parametrize(
    "shape,elided", [((128, 256), True), ((16, 16), False)], ids=["128kB", "1kB"]
)
def test_elision_covers_layer_sized_arrays_not_small_ones(shape, elided):
    # a layer's 128 kB activations and Adam moments take the temporary's array; a 1 kB
    # array is not worth the checks
    nbytes = int(np.prod(shape)) * 4
    x, y = (tf.constant(np.full(shape, v, np.float32)) for v in (1.0, 2.0))
    got, peak = _peak(lambda: (x * 3.0) + y)
    np.testing.assert_array_equal(got.numpy(), np.full(shape, 5.0, np.float32))
    assert (peak < 1.5 * nbytes) if elided else (peak >= 2 * nbytes)


def test_values_others_can_read_are_never_written():
    xa, ya = _arrays()
    x, y = tf.constant(xa), tf.constant(ya)
    v = tf.Variable(xa)
    reads = {
        "identity": lambda: tf.identity(x),
        "stop_gradient": lambda: tf.stop_gradient(x),
        "convert_to_tensor": lambda: tf.convert_to_tensor(x),
        "cast to its dtype": lambda: tf.cast(x, tf.float32),
        "reshape": lambda: tf.reshape(x, SHAPE),
        "ensure_shape": lambda: tf.ensure_shape(x, SHAPE),
        "variable read": lambda: v.read_value(),
        "variable value": lambda: v.value(),
        "slice of all": lambda: x[:, :],
    }
    for name, read in reads.items():
        got = read() + y  # the left operand is a temporary tensor, but its array is x's
        np.testing.assert_array_equal(got.numpy(), xa + ya, err_msg=name)
        np.testing.assert_array_equal(x.numpy(), xa, err_msg=name)
        np.testing.assert_array_equal(v.numpy(), xa, err_msg=name)
    # a C function holding the only reference (sum's running total) must keep its value
    total = sum([x * 1.0, y, y])
    np.testing.assert_array_equal(total.numpy(), xa * 1.0 + ya + ya)
    # a tensor kept in a container or attribute is not a temporary
    kept = [x * 3.0]
    got = kept[0] + y
    np.testing.assert_array_equal(kept[0].numpy(), xa * 3.0)
    np.testing.assert_array_equal(got.numpy(), xa * 3.0 + ya)


def test_integer_tensors_take_the_ordinary_path():
    ints = tf.constant(np.arange(np.prod(SHAPE), dtype=np.int32).reshape(SHAPE))
    _, peak = _peak(lambda: (ints * 2) + 1)
    assert peak >= 2 * N_BYTES  # integer tensors are never updated in place


def test_under_a_tape_a_layer_sum_takes_the_products_array():
    # ``x * w + b`` while a tape records: the tape keeps no value of the product (Mul's
    # gradient reads its inputs), so the sum is written into it and recorded as AddV2
    xa, _ = _arrays()
    x = tf.constant(xa)
    bias = tf.Variable(np.linspace(0, 1, SHAPE[1], dtype=np.float32))

    def recorded():
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(x)
            out = (x * 3.0) + bias
        return out, tape

    (out, tape), peak = _peak(recorded)
    assert peak < 1.5 * N_BYTES  # one array for the product and the sum
    np.testing.assert_array_equal(out.numpy(), xa * 3.0 + bias.numpy())
    np.testing.assert_array_equal(x.numpy(), xa)
    np.testing.assert_allclose(tape.gradient(out, x).numpy(), np.full(SHAPE, 3.0), rtol=0)
    np.testing.assert_allclose(tape.gradient(out, bias).numpy(), np.full(SHAPE[1], SHAPE[0]))


def test_under_a_tape_a_value_a_gradient_reads_is_never_written():
    xa, ya = _arrays(np.float64)
    x, y = tf.constant(xa / 4), tf.constant(ya)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([x, y])
        # Exp's gradient reads its output, which the tape keeps: the sum allocates
        added = tf.exp(x) + y
        # Mul's gradient reads its operands: the product of a temporary allocates
        multiplied = (x * 3.0) * y
        divided = (x * 3.0) / y
    np.testing.assert_allclose(added.numpy(), np.exp(xa / 4) + ya, rtol=1e-15)
    np.testing.assert_allclose(tape.gradient(added, x).numpy(), np.exp(xa / 4), rtol=1e-15)
    np.testing.assert_allclose(multiplied.numpy(), xa * 0.75 * ya, rtol=1e-15)
    np.testing.assert_allclose(tape.gradient(multiplied, y).numpy(), xa * 0.75, rtol=1e-15)
    np.testing.assert_allclose(tape.gradient(multiplied, x).numpy(), 3.0 * ya, rtol=1e-15)
    np.testing.assert_allclose(tape.gradient(divided, y).numpy(), -xa * 0.75 / ya**2, rtol=1e-14)


@pytest.mark.parametrize("op", ["add", "sub", "mul", "truediv"])
def test_tensor_and_variable_under_a_tape_read_the_variable_as_the_op_does(op):
    # ``t <op> v`` while a tape records: the variable is read (and so watched) exactly as
    # tf.<op>(t, v) reads it; the gradient is the operator's closed form
    fn = getattr(operator, op)
    ta, va = _arrays(np.float64)
    t, v = tf.constant(ta[:3, :4]), tf.Variable(va[:3, :4])
    with tf.GradientTape() as tape:
        out = fn(t, v)
    expected = {
        "add": np.ones_like(va[:3, :4]),
        "sub": -np.ones_like(va[:3, :4]),
        "mul": ta[:3, :4],
        "truediv": -ta[:3, :4] / va[:3, :4] ** 2,
    }[op]
    np.testing.assert_allclose(out.numpy(), fn(ta[:3, :4], va[:3, :4]), rtol=1e-12)
    np.testing.assert_allclose(tape.gradient(out, v).numpy(), expected, rtol=1e-12)
    with tf.GradientTape(watch_accessed_variables=False) as tape:
        out = fn(t, v)
    assert tape.gradient(out, v) is None  # not watched: the read is not recorded for v
    # a dtype mismatch is the op's own error (InvalidArgumentError, or TypeError for
    # truediv), the same under a tape as without one
    t32 = tf.constant(ta[:3, :4].astype(np.float32))
    with pytest.raises((tf.errors.InvalidArgumentError, TypeError)) as plain:
        fn(t32, v)
    with tf.GradientTape():
        with pytest.raises(plain.type, match=re.escape(str(plain.value)[:40])):
            fn(t32, v)
