"""``Layer.input_spec`` is checked on every call (eager and on keras.Input, before and after
``build``) with Keras 3's messages; Dense declares min_ndim=2 and, once built, its input
size. Reference: Keras 3 itself raises the same ValueError text (skipped without Keras).

    cd /work/main && PYTHONPATH=. /work/peers/bin/python -m pytest tests/keras/test_input_spec.py
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from rill import keras

L = keras.layers


class _Spec(L.Layer):
    def __init__(self, spec, **kwargs):
        super().__init__(**kwargs)
        self.input_spec = spec

    def call(self, x):
        return x


CASES = [
    (dict(ndim=3), (2, 4), "expected ndim=3, found ndim=2. Full shape received: (2, 4)"),
    (dict(min_ndim=3), (2, 4), "expected min_ndim=3, found ndim=2. Full shape received: (2, 4)"),
    (dict(max_ndim=2), (2, 4, 1), "expected max_ndim=2, found ndim=3"),
    (dict(dtype="int32"), (2, 4), "expected dtype=int32, found dtype=float32"),
    (dict(axes={-1: 3}), (2, 4),
     "expected axis -1 of input shape to have value 3, but received input with shape (2, 4)"),
    (dict(shape=(None, 5)), (2, 4), "expected shape=(None, 5), found shape=(2, 4)"),
]  # fmt: skip


@pytest.mark.parametrize("spec,shape,message", CASES)
def test_user_layer_spec_is_checked(spec, shape, message):
    layer = _Spec(L.InputSpec(**spec), name="checked")
    head = "Input 0 with name 'None' of layer 'checked' is incompatible with the layer: "
    with pytest.raises(ValueError) as info:
        layer(np.zeros(shape, "float32"))
    assert str(info.value) == head + message
    with pytest.raises(ValueError, match="expected"):  # symbolic calls check it too
        layer(keras.Input(batch_shape=shape))


def test_matching_inputs_pass_and_spec_is_settable():
    layer = _Spec(L.InputSpec(ndim=2, axes={-1: 4}))
    assert layer(np.ones((2, 4), "float32")).shape == (2, 4)
    assert layer(keras.Input((4,))).shape == (None, 4)
    layer.input_spec = None
    assert layer(np.ones((3,), "float32")).shape == (3,)


def test_number_of_inputs():
    layer = _Spec([L.InputSpec(ndim=2), L.InputSpec(ndim=2)], name="pair")
    with pytest.raises(ValueError, match=r'Layer "pair" expects 2 input\(s\), but it received 1'):
        layer(np.zeros((2, 2), "float32"))


def test_dense_spec_before_and_after_build():
    d = L.Dense(3, name="dense_spec")
    assert d.input_spec.min_ndim == 2
    with pytest.raises(ValueError, match="expected min_ndim=2, found ndim=1"):
        d(np.zeros((4,), "float32"))
    d(np.zeros((2, 4), "float32"))
    assert d.input_spec.axes == {-1: 4}
    with pytest.raises(ValueError, match="expected axis -1 of input shape to have value 4"):
        d(np.zeros((2, 5), "float32"))


def test_spec_set_in_build_is_checked_after_build():
    class Late(L.Layer):
        def build(self, shape):
            self.input_spec = L.InputSpec(axes={-1: 2})  # wrong on purpose

        def call(self, x):
            return x

    with pytest.raises(ValueError, match="expected axis -1 of input shape to have value 2"):
        Late()(np.zeros((1, 3), "float32"))


@pytest.fixture(scope="module")
def K():
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    pytest.importorskip("tensorflow")
    return pytest.importorskip("keras")


@pytest.mark.parametrize(
    "make,shape",
    [
        (lambda k: k.layers.Dense(3, name="dn"), (4,)),
        (lambda k: k.layers.Conv2D(2, 3, name="cv"), (1, 5, 5)),
        (lambda k: k.layers.LSTM(2, name="ls"), (2, 4)),
        (lambda k: k.layers.MaxPooling1D(name="mp"), (2, 4, 3, 1)),
    ],
)
def test_messages_match_keras(K, make, shape):
    x = np.zeros(shape, "float32")
    with pytest.raises(ValueError) as ours:
        make(keras)(x)
    with pytest.raises(ValueError) as theirs:
        make(K)(x)
    assert str(ours.value) == str(theirs.value)


def test_dense_built_message_matches_keras(K):
    ours, theirs = L.Dense(3, name="db"), K.layers.Dense(3, name="db")
    ours(np.zeros((2, 4), "float32"))
    theirs(np.zeros((2, 4), "float32"))
    with pytest.raises(ValueError) as a:
        ours(np.zeros((2, 5), "float32"))
    with pytest.raises(ValueError) as b:
        theirs(np.zeros((2, 5), "float32"))
    assert str(a.value) == str(b.value)
