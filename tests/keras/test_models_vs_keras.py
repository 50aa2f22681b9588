"""Functional and Sequential models against Keras 3 itself (skipped without TensorFlow):
the same architecture with the same weights must give the same layer order, summary,
predictions, and the same fit/evaluate logs (names and values)."""

import numpy as np
import pytest

tf_ref = pytest.importorskip("tensorflow")
K = pytest.importorskip("keras")

from rill import keras as R  # noqa: E402
from tests.keras.keras_compare import assert_matches_keras  # noqa: E402

rng = np.random.default_rng(3)


def _build(keras):
    L = keras.layers
    a = keras.Input(shape=(4,), name="a")
    b = keras.Input(shape=(2,), name="b")
    shared = L.Dense(3, activation="tanh", name="shared")
    h = L.Concatenate(name="cat")([shared(a), b])
    o1 = L.Dense(1, name="o1")(h)
    o2 = L.Dense(3, activation="softmax", name="o2")(L.Add(name="add")([shared(a), h[:, :3]]))
    return keras.Model([a, b], [o1, o2], name="m")


def _pair():
    k, r = _build(K), _build(R)
    r.set_weights(k.get_weights())
    return k, r


def _data(n=13):
    x = [
        rng.standard_normal((n, 4)).astype(np.float32),
        rng.standard_normal((n, 2)).astype(np.float32),
    ]
    y = [rng.standard_normal((n, 1)).astype(np.float32), rng.integers(0, 3, n)]
    return x, y


def test_layers_and_summary_match():
    k, r = _pair()
    assert [x.name for x in r.layers] == [x.name for x in k.layers]
    assert r.output_names == list(k.output_names)
    assert r.count_params() == k.count_params()
    kl, rl = [], []
    r.summary(print_fn=rl.append)
    k.summary(print_fn=lambda s, line_break=False: kl.append(s))
    tail = lambda lines: [s for s in "\n".join(lines).splitlines() if "params" in s]  # noqa: E731
    assert tail(rl) == tail(kl)


def test_sequential_summary_is_identical():
    def seq(keras):
        return keras.Sequential(
            [keras.Input((4,)), keras.layers.Dense(8, activation="relu", name="h"),
             keras.layers.Dense(2, name="out")], name="seq")  # fmt: skip

    kl, rl = [], []
    seq(K).summary(print_fn=lambda s, line_break=False: kl.append(s))
    seq(R).summary(print_fn=rl.append)
    assert "\n".join(rl).splitlines() == "\n".join(kl).splitlines()


def test_predictions_match():
    k, r = _pair()
    x, _ = _data()
    pks, prs = k.predict(x, verbose=0), r.predict(x, verbose=0)
    assert type(prs) is type(pks) and len(prs) == len(pks) == 2
    for pk, pr in zip(pks, prs):
        assert type(pr) is type(pk)  # NumPy arrays
        assert_matches_keras(pr, pk, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("weighted", [False, True])
def test_fit_and_evaluate_logs_match(weighted):
    k, r = _pair()
    kw = dict(
        loss=["mse", "sparse_categorical_crossentropy"],
        loss_weights=[0.3, 1.7],
        metrics=[["mae"], ["accuracy"]],
        weighted_metrics=[[], ["accuracy"]],
    )
    k.compile(optimizer=K.optimizers.SGD(0.05), **kw)
    r.compile(optimizer=R.optimizers.SGD(0.05), **kw)
    x, y = _data()
    sw = rng.uniform(0.2, 2.0, len(y[1])).astype(np.float32) if weighted else None
    hk = k.fit(x, y, sample_weight=sw, batch_size=4, epochs=2, shuffle=False, verbose=0).history
    hr = r.fit(x, y, sample_weight=sw, batch_size=4, epochs=2, shuffle=False, verbose=0).history
    assert list(hr) == list(hk)
    for name in hk:
        assert [type(v) for v in hr[name]] == [type(v) for v in hk[name]], name
        assert_matches_keras(hr[name], hk[name], rtol=2e-4, atol=1e-6, err_msg=name)
    ek = k.evaluate(x, y, batch_size=5, verbose=0, return_dict=True)
    er = r.evaluate(x, y, batch_size=5, verbose=0, return_dict=True)
    assert list(er) == list(ek)
    for name in ek:
        assert type(er[name]) is type(ek[name]), name
        assert_matches_keras(er[name], ek[name], rtol=2e-4, atol=1e-6, err_msg=name)
