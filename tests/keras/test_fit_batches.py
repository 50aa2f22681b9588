"""fit/evaluate/predict's array batches: the same order and contents as slicing the
arrays in turn, the steps limit, early stops and errors."""

import numpy as np
import pytest

import rill as tf
from rill.keras.models import _Batches


def _reference_batches(x, y, batch_size, order):
    """The batches a plain loop over ``order`` gives (the independent reference)."""
    return [
        (x[order[s : s + batch_size]], y[order[s : s + batch_size]])
        for s in range(0, len(order), batch_size)
    ]


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("n, batch_size", [(70, 16), (64, 16), (5, 16), (16, 16)])
def test_batches_match_plain_slicing(shuffle, n, batch_size):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 3)).astype(np.float32)
    y = np.arange(n)
    np.random.seed(7)
    order = np.random.permutation(n) if shuffle else np.arange(n)
    np.random.seed(7)  # _Batches draws its permutation from the same global generator
    got = list(_Batches(x, y, batch_size=batch_size, shuffle=shuffle))
    want = _reference_batches(x, y, batch_size, order)
    assert len(got) == len(want) == -(-n // batch_size)
    for (bx, by, bsw), (wx, wy) in zip(got, want):
        np.testing.assert_array_equal(bx.numpy(), wx)
        np.testing.assert_array_equal(by.numpy(), wy)
        assert bsw is None


def test_steps_limit_and_early_stop():
    x = np.arange(100, dtype=np.float32).reshape(50, 2)
    got = list(_Batches(x, None, batch_size=8, steps=3))
    assert [b[0].numpy()[0, 0] for b in got] == [0.0, 16.0, 32.0]
    it = iter(_Batches(x, None, batch_size=8))
    first = next(it)
    it.close()  # the consumer stops early (stop_training)
    assert first[0].shape == (8, 2)


def test_error_in_a_batch_reaches_the_caller(monkeypatch):
    from rill.keras import models

    calls = []
    real = models._take_rows

    def failing(a, idx):  # the third batch's gather fails
        calls.append(idx[0])
        if len(calls) == 3:
            raise RuntimeError("bad rows")
        return real(a, idx)

    monkeypatch.setattr(models, "_take_rows", failing)
    it = iter(_Batches(np.zeros((40, 2), np.float32), None, batch_size=8))
    next(it), next(it)
    with pytest.raises(RuntimeError, match="bad rows"):
        next(it)


def test_fit_with_sample_weights_uses_every_sample_once():
    # a model whose loss is the weighted mean of its inputs: the epoch's mean loss is
    # computed by hand from the same batches
    x = np.arange(40, dtype=np.float32).reshape(40, 1)
    w = np.linspace(0.5, 2.0, 40).astype(np.float32)
    inp = tf.keras.Input((1,))
    model = tf.keras.Model(inp, tf.keras.layers.Lambda(lambda t: t)(inp))
    model.compile(loss=lambda yt, yp: tf.reduce_mean(yp, axis=-1), optimizer="sgd")
    logs = model.evaluate(x, x, sample_weight=w, batch_size=16, verbose=0, return_dict=True)
    per_batch = [
        (np.sum(x[s : s + 16, 0] * w[s : s + 16]) / len(x[s : s + 16]), len(x[s : s + 16]))
        for s in range(0, 40, 16)
    ]
    want = sum(v * k for v, k in per_batch) / 40
    np.testing.assert_allclose(logs["loss"], want, rtol=1e-5)
