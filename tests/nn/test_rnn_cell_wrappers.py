"""tf.nn.RNNCell{Dropout,Residual,Device}Wrapper against the wrapped cell run alone."""

import numpy as np
import pytest

import rill as tf


def _cell(units=4, cls="SimpleRNNCell"):
    return getattr(tf.keras.layers, cls)(
        units, kernel_initializer="ones", recurrent_initializer="ones"
    )


def test_residual_wrapper_adds_the_input():
    cell = _cell(3)
    wrapped = tf.nn.RNNCellResidualWrapper(cell)
    x = np.random.default_rng(0).normal(size=(2, 3)).astype(np.float32)
    state = [np.full((2, 3), 0.1, np.float32)]
    out, new_state = wrapped(x, state)
    ref_out, ref_state = cell(x, state)
    np.testing.assert_allclose(out.numpy(), x + ref_out.numpy(), rtol=1e-6)
    np.testing.assert_allclose(new_state[0].numpy(), ref_state[0].numpy())
    assert wrapped.state_size == 3 and wrapped.output_size == 3 and wrapped.wrapped_cell is cell
    custom = tf.nn.RNNCellResidualWrapper(cell, residual_fn=lambda i, o: o - i)
    np.testing.assert_allclose(custom(x, state)[0].numpy(), ref_out.numpy() - x, rtol=1e-6)
    with pytest.raises(ValueError, match="must match"):
        tf.nn.RNNCellResidualWrapper(_cell(4))(x, [np.zeros((2, 4), np.float32)])


def test_dropout_wrapper_keep_one_is_identity_and_drops_otherwise():
    cell = _cell(50)
    x = np.ones((3, 5), np.float32)
    state = [np.zeros((3, 50), np.float32)]
    same = tf.nn.RNNCellDropoutWrapper(cell)
    np.testing.assert_allclose(same(x, state)[0].numpy(), cell(x, state)[0].numpy())
    keep = 0.5
    out = tf.nn.RNNCellDropoutWrapper(cell, output_keep_prob=keep, seed=4)(x, state)[0].numpy()
    ref = cell(x, state)[0].numpy()
    kept = out != 0
    assert 0 < kept.mean() < 1
    np.testing.assert_allclose(out[kept], ref[kept] / keep, rtol=1e-6)  # inverted dropout


def test_dropout_wrapper_variational_masks_repeat_over_time():
    cell = _cell(6)
    w = tf.nn.RNNCellDropoutWrapper(
        cell, output_keep_prob=0.5, variational_recurrent=True, dtype=tf.float32, seed=2
    )
    x = np.ones((2, 3), np.float32)
    state = [np.zeros((2, 6), np.float32)]
    masks = []
    for _ in range(3):
        out = w(x, state)[0].numpy()
        masks.append(out != 0)
    assert all((m == masks[0]).all() for m in masks)  # one noise tensor for every step
    assert (masks[0][0] == masks[0][1]).all()  # broadcast over the batch (noise [1, units])
    with pytest.raises(ValueError, match="dtype must be provided"):
        tf.nn.RNNCellDropoutWrapper(cell, variational_recurrent=True)
    with pytest.raises(ValueError, match="input_size"):
        tf.nn.RNNCellDropoutWrapper(
            cell, input_keep_prob=0.5, variational_recurrent=True, dtype=tf.float32
        )


def test_dropout_wrapper_validates_probabilities():
    with pytest.raises(ValueError, match="between 0 and 1"):
        tf.nn.RNNCellDropoutWrapper(_cell(), input_keep_prob=1.5)
    with pytest.raises(TypeError, match="callable"):
        tf.nn.RNNCellDropoutWrapper(_cell(), dropout_state_filter_visitor=3)


def test_wrappers_inside_keras_rnn_and_device():
    x = np.random.default_rng(1).normal(size=(2, 4, 3)).astype(np.float32)
    base = tf.keras.layers.RNN(_cell(3, "LSTMCell"))
    wrapped = tf.keras.layers.RNN(tf.nn.RNNCellDeviceWrapper(_cell(3, "LSTMCell"), "/cpu:0"))
    np.testing.assert_allclose(wrapped(x).numpy(), base(x).numpy(), rtol=1e-6)
    res = tf.keras.layers.RNN(tf.nn.RNNCellResidualWrapper(_cell(3, "GRUCell")))
    assert res(x).shape == (2, 3)
    config = tf.nn.RNNCellDeviceWrapper(_cell(), "/cpu:0").get_config()
    assert config["device"] == "/cpu:0" and config["cell"]["class_name"] == "SimpleRNNCell"


def test_tf_wraps_the_same_way():
    tft = pytest.importorskip("tensorflow")
    assert tft.nn.RNNCellResidualWrapper.__name__ == "ResidualWrapper"
    x = np.random.default_rng(3).normal(size=(2, 3)).astype(np.float32)
    s = np.zeros((2, 3), np.float32)
    cell = tft.keras.layers.SimpleRNNCell(
        3, kernel_initializer="ones", recurrent_initializer="ones"
    )
    ref_out, _ = tft.nn.RNNCellResidualWrapper(cell)(x, [s])
    ours, _ = tf.nn.RNNCellResidualWrapper(_cell(3))(x, [s])
    np.testing.assert_allclose(ours.numpy(), ref_out.numpy(), rtol=1e-5)
