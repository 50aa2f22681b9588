"""The shortcuts of ``Layer.__call__`` and ``fit`` keep their behaviour: input specs are
still enforced, call losses still reset per call, state in tuples is still tracked, and
fit's batches are the rows it was given."""

import numpy as np
import pytest

import rill as tf
from rill import keras


def test_input_spec_is_checked_after_a_passing_call():
    d = keras.layers.Dense(3)
    d(tf.ones((2, 4)))
    d(tf.ones((2, 4)))  # the same shape again: the remembered check
    d(tf.ones((5, 2, 4)))  # min_ndim=2 and the last axis 4: accepted
    with pytest.raises(ValueError, match="axis -1"):
        d(tf.ones((2, 5)))
    with pytest.raises(ValueError, match="min_ndim=2"):
        d(tf.ones((4,)))
    d.input_spec = keras.layers.InputSpec(ndim=2, axes={-1: 4})  # a new spec is checked
    with pytest.raises(ValueError, match="ndim=2"):
        d(tf.ones((5, 2, 4)))


def test_call_losses_reset_on_each_outer_call():
    class Penalised(keras.layers.Layer):
        def call(self, x):
            self.add_loss(tf.reduce_sum(x))
            return x

    inner = Penalised()
    model = keras.Sequential([keras.layers.Dense(2, activity_regularizer="l2"), inner])
    x = tf.constant(np.ones((1, 3), np.float32))
    for _ in range(3):
        model(x)
        assert len(model.losses) == 2  # the activity penalty and the add_loss: not growing
    y = model(x)
    np.testing.assert_allclose(float(model.losses[1]), float(tf.reduce_sum(y)), rtol=1e-6)


def test_state_in_tuples_is_tracked_and_shapes_are_not():
    class Holder(keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.shape_hint = (None, 3)
            self.pair = (keras.layers.Dense(2), keras.layers.Dense(1))

        def call(self, x):
            return self.pair[1](self.pair[0](x))

    h = Holder()
    h(tf.ones((1, 3)))
    assert len(h.layers) == 2
    assert len(h.trainable_weights) == 4
    assert h.shape_hint == (None, 3)


def test_fit_batches_are_the_given_rows_and_leave_the_data_alone():
    seen = []

    class Recorder(keras.layers.Layer):
        def call(self, x):
            if tf.executing_eagerly():  # not the symbolic call that builds the model
                seen.append(np.array(x))
            return x

    model = keras.Sequential([keras.Input((2,)), Recorder(), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", run_eagerly=True)
    x = np.arange(20, dtype=np.float64).reshape(10, 2)
    y = np.arange(10, dtype=np.int64)
    x0, y0 = x.copy(), y.copy()
    model.fit(x, y, batch_size=4, epochs=1, shuffle=True, verbose=0)
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(y, y0)
    rows = np.concatenate(seen)
    assert [len(b) for b in seen] == [4, 4, 2]
    # a permutation of the rows, each cast to the layer's float32
    np.testing.assert_array_equal(rows[np.argsort(rows[:, 0])], x.astype(np.float32))


def test_fit_takes_integer_and_string_columns():
    ids = np.array([[1, 2], [3, 0], [2, 2], [0, 1]], np.int32)
    model = keras.Sequential([keras.Input((2,), dtype="int32"), keras.layers.Embedding(4, 3),
                              keras.layers.Flatten(), keras.layers.Dense(1)])  # fmt: skip
    model.compile(optimizer="sgd", loss="mse")
    hist = model.fit(ids, np.ones(4, np.float32), batch_size=2, epochs=2, verbose=0)
    assert len(hist.history["loss"]) == 2
    words = np.array([["a"], ["b"], ["a"], ["c"]])
    lookup = keras.layers.StringLookup(vocabulary=["a", "b", "c"])
    m2 = keras.Sequential([keras.Input((1,), dtype="string"), lookup, keras.layers.Embedding(4, 2),
                           keras.layers.Flatten(), keras.layers.Dense(1)])  # fmt: skip
    m2.compile(optimizer="sgd", loss="mse", run_eagerly=True)
    hist = m2.fit(words, np.zeros(4, np.float32), batch_size=2, epochs=1, verbose=0)
    assert np.isfinite(hist.history["loss"][0])
