"""dispatch_for: TF-namespace calls with a dispatching argument reach its handler."""

import rill as tf
from rill.ops import _op
from rill.ops.math_ops import subtract


class Box:
    _rill_dispatch = True

    def __init__(self, v):
        self.v = v


def test_namespace_calls_dispatch_and_dense_calls_do_not():
    calls = []

    def handler(x, y, name=None):
        calls.append((x, y))
        return "handled"

    saved = dict(_op.EXPORTS)
    try:
        _op.dispatch_for(subtract, Box)(handler)
        wrapped = _op.EXPORTS[("math", "subtract")]
        assert wrapped(Box(1), 2) == "handled" and wrapped(1, y=Box(2)) == "handled"
        assert float(wrapped(tf.constant(3.0), 1.0)) == 2.0  # dense: the original op
        assert len(calls) == 2
    finally:
        _op.EXPORTS.clear()
        _op.EXPORTS.update(saved)
        _op._DISPATCHERS.pop(subtract, None)


def test_list_arguments_are_searched_one_level_deep():
    from rill.ops.shape_ops import concat

    saved = dict(_op.EXPORTS)
    try:
        _op.dispatch_for(concat, Box)(lambda values, axis, name="concat": "lists")
        wrapped = _op.EXPORTS[("", "concat")]
        assert wrapped([tf.constant([1]), Box(2)], 0) == "lists"
        assert wrapped([tf.constant([1]), tf.constant([2])], 0).numpy().tolist() == [1, 2]
    finally:
        _op.EXPORTS.clear()
        _op.EXPORTS.update(saved)
        _op._DISPATCHERS.pop(concat, None)


def test_plain_variables_take_the_fast_path_and_user_subclasses_still_dispatch():
    import numpy as np

    class TaggedVariable(tf.Variable):
        pass

    @tf.experimental.dispatch_for_api(tf.math.sqrt, {"x": TaggedVariable})
    def tagged_sqrt(x, name=None):
        return "tagged sqrt"

    @tf.experimental.dispatch_for_api(tf.math.add, {"x": TaggedVariable})
    def tagged_add(x, y, name=None):
        return "tagged add"

    try:
        tagged = TaggedVariable(np.ones(3, np.float32))
        w = tf.Variable(np.full(3, 4.0, np.float32))
        assert tf.math.sqrt(tagged) == "tagged sqrt" and tf.math.add(tagged, w) == "tagged add"
        np.testing.assert_array_equal(tf.math.sqrt(w).numpy(), np.full(3, 2.0))
        np.testing.assert_array_equal(tf.math.add(w, w).numpy(), np.full(3, 8.0))
        # under a tape the plain variables' ops are recorded: d/dw sum(sqrt(w) * (x @ w))
        x = tf.constant(np.ones((2, 3), np.float32))
        with tf.GradientTape() as tape:
            y = tf.reduce_sum(tf.math.sqrt(w) * tf.matmul(x, tf.reshape(w, (3, 1))))
        s, r = 12.0, 6.0  # sum(w), sum(sqrt(w)); two rows of x
        want = 2 * (s * 0.5 / np.sqrt(4.0) + r)
        np.testing.assert_allclose(tape.gradient(y, w).numpy(), np.full(3, want), rtol=1e-6)
    finally:
        tf.experimental.unregister_dispatch_for(tagged_sqrt)
        tf.experimental.unregister_dispatch_for(tagged_add)
