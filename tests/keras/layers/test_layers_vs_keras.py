"""The layer catalog against Keras 3 itself (skipped without TensorFlow and Keras): the same
constructor arguments must give the same weights (names, shapes, order), the same
serialized config, and, with the same weight values, the same outputs and gradients in
inference and training mode (and the same moving statistics for BatchNormalization).

    cd /work/main && PYTHONPATH=. /work/peers/bin/python -m pytest tests/keras/layers
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
T = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

import rill as R  # noqa: E402
from rill import keras as RK  # noqa: E402
from rill.keras.layers.input_spec import keras_snake  # noqa: E402
from tests.keras.layers.specs import SPECS, spec_id  # noqa: E402

_PERM = {3: [0, 2, 1], 4: [0, 2, 3, 1], 5: [0, 2, 3, 4, 1]}
_INV = {3: [0, 2, 1], 4: [0, 3, 1, 2], 5: [0, 4, 1, 2, 3]}


def _inputs(shape, opts, seed=0):
    rng = np.random.default_rng(seed)
    if "int" in opts:
        x = rng.integers(0, opts["int"], shape).astype("int32")
        x[0, -1] = 0  # a masked position
        return x
    x = rng.standard_normal(shape).astype("float32")
    if len(shape) == 3:
        x[0, 1] = 0.0  # a fully zero timestep (Masking)
    return x


def _pair(name, kwargs, shape, opts):
    """(keras layer, rill layer, input, keras input) built alike with the same weights."""
    kkw = dict(kwargs)
    if opts.get("keras_cl"):
        kkw.pop("data_format")
    kl = getattr(keras.layers, name)(**kkw)
    rl = getattr(RK.layers, name)(**kwargs)
    x = _inputs(shape, opts)
    kx = x.transpose(_PERM[len(shape)]) if opts.get("keras_cl") else x
    kl(kx)
    rl(x)
    rng = np.random.default_rng(1)
    values = [
        (rng.uniform(0.5, 1.5, w.shape) if "variance" in w.name or "stddev" in w.name
         else rng.standard_normal(w.shape)).astype("float32")
        for w in kl.weights
    ]  # fmt: skip
    kl.set_weights(values)
    rl.set_weights(values)
    return kl, rl, x, kx


def _back(y, opts):
    y = np.asarray(y)
    return y.transpose(_INV[y.ndim]) if opts.get("keras_cl") else y


def _run(layer, fw, x, training, upstream):
    """Output and gradients (w.r.t. a float input and the trainable weights)."""
    xt = fw.constant(x)
    with fw.GradientTape() as tape:
        tape.watch(xt)
        y = layer(xt, training=training)
        loss = fw.reduce_sum(y * fw.constant(upstream))
    sources = ([xt] if x.dtype.kind == "f" else []) + list(layer.trainable_weights)
    grads = tape.gradient(loss, sources)
    conv = T.convert_to_tensor if fw is T else R.convert_to_tensor
    return y.numpy(), [None if g is None else np.asarray(conv(g)) for g in grads]


def _normalized(config):
    """A serialized layer with Keras 3.15's optional initializer keys (``input_axes`` /
    ``output_axes``, None unless set) dropped."""
    if isinstance(config, dict):
        return {
            k: _normalized(v)
            for k, v in config.items()
            if not (k in ("input_axes", "output_axes") and v is None)
        }
    if isinstance(config, list):
        return [_normalized(v) for v in config]
    return config


KERAS_SPECS = [s for s in SPECS if not s[3].get("no_keras")]


def _close(a, b, what):
    np.testing.assert_allclose(a, b, rtol=2e-4, atol=2e-5, err_msg=what)


@pytest.mark.parametrize("spec", KERAS_SPECS, ids=[spec_id(s) for s in KERAS_SPECS])
def test_weights_and_config_match(spec):
    name, kwargs, shape, opts = spec
    kl, rl, _, _ = _pair(name, kwargs, shape, opts)
    assert [(w.name, tuple(w.shape), w.trainable) for w in kl.weights] == [
        (w.name.split("/")[-1].split(":")[0], tuple(w.shape.as_list()), w.trainable)
        for w in rl.weights
    ]
    kc = _normalized(json.loads(json.dumps(keras.saving.serialize_keras_object(kl), default=str)))
    rc = _normalized(json.loads(json.dumps(RK.saving.serialize_keras_object(rl), default=str)))
    if "build_config" not in kc or opts.get("keras_cl"):  # none without a build()
        rc.pop("build_config", None)
        kc.pop("build_config", None)
    for c in (kc, rc):
        c["config"].pop("name", None)
        if opts.get("keras_cl"):
            c["config"].pop("data_format", None)
    diff = {k: (rc["config"].get(k), kc["config"].get(k))
            for k in set(rc["config"]) | set(kc["config"])
            if rc["config"].get(k, "<absent>") != kc["config"].get(k, "<absent>")}  # fmt: skip
    assert not diff, diff
    rc.pop("config"), kc.pop("config")
    assert rc == kc
    # Keras' own config rebuilds the layer in rill, and vice versa
    again = RK.saving.deserialize_keras_object(keras.saving.serialize_keras_object(kl))
    assert type(again) is type(rl)


@pytest.mark.parametrize("spec", KERAS_SPECS, ids=[spec_id(s) for s in KERAS_SPECS])
def test_outputs_and_gradients_match(spec):
    name, kwargs, shape, opts = spec
    kl, rl, x, kx = _pair(name, kwargs, shape, opts)
    modes = [False] if opts.get("random") else [False, True]
    for training in modes:
        ky = kl(kx, training=False)  # (inference: no moving-statistics update here)
        up = np.random.default_rng(2).standard_normal(_back(ky, opts).shape).astype("float32")
        kup = up.transpose(_PERM[up.ndim]) if opts.get("keras_cl") else up
        ky, kg = _run(kl, T, kx, training, kup)
        ry, rg = _run(rl, R, x, training, up)
        _close(ry, _back(ky, opts), f"{name} output, training={training}")
        if opts.get("keras_cl") and x.dtype.kind == "f":
            kg[0] = _back(kg[0], opts)
        assert len(kg) == len(rg)
        for i, (a, b) in enumerate(zip(kg, rg)):
            _close(b, a, f"{name} gradient {i}, training={training}")
        for kw, rw in zip(kl.weights, rl.weights):  # moving statistics after training
            _close(rw.numpy(), kw.numpy(), f"{name} weight {kw.name}, training={training}")


def test_masks_match():
    x = _inputs((2, 5, 3), {})
    for name, kwargs in (("Masking", {}),):
        k = getattr(keras.layers, name)(**kwargs)
        r = getattr(RK.layers, name)(**kwargs)
        np.testing.assert_array_equal(
            np.asarray(r.compute_mask(R.constant(x))), np.asarray(k.compute_mask(T.constant(x)))
        )
    ids = _inputs((2, 5), {"int": 10})
    k, r = keras.layers.Embedding(10, 3, mask_zero=True), RK.layers.Embedding(10, 3, mask_zero=True)
    np.testing.assert_array_equal(
        np.asarray(r.compute_mask(R.constant(ids))), np.asarray(k.compute_mask(T.constant(ids)))
    )
    # masked softmax, masked global average pooling, masked batch normalization
    mask = np.array([[1, 1, 0, 1, 0], [1, 0, 0, 0, 1]], bool)
    y = np.random.default_rng(4).standard_normal((2, 5, 3)).astype("float32")
    for name, kwargs, m in (
        ("Softmax", dict(axis=1), mask[:, :, None]),
        ("GlobalAveragePooling1D", {}, mask),
        ("BatchNormalization", {}, mask),
    ):
        k = getattr(keras.layers, name)(**kwargs)
        r = getattr(RK.layers, name)(**kwargs)
        _close(
            np.asarray(r(R.constant(y), mask=R.constant(m), training=True)),
            np.asarray(k(T.constant(y), mask=T.constant(m), training=True)),
            name,
        )


def test_dot_and_merge_functions_match():
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5, 4))
    for axes, normalize in ((2, False), ((2, 2), True), (-1, False)):
        k = keras.layers.Dot(axes=axes, normalize=normalize)([a, b])
        r = RK.layers.Dot(axes=axes, normalize=normalize)([R.constant(a), R.constant(b)])
        _close(np.asarray(r), np.asarray(k), f"Dot{axes}")
    c, d = rng.standard_normal((2, 4)), rng.standard_normal((2, 4))
    _close(np.asarray(RK.layers.dot([R.constant(c), R.constant(d)], axes=1)),
           np.asarray(keras.layers.dot([c, d], axes=1)), "dot")  # fmt: skip
    for fn in ("add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate"):
        _close(np.asarray(getattr(RK.layers, fn)([R.constant(c), R.constant(d)])),
               np.asarray(getattr(keras.layers, fn)([c, d])), fn)  # fmt: skip


ERRORS = [
    ("Conv2D", dict(filters=-1, kernel_size=3), None),
    ("Conv2D", dict(filters=2, kernel_size=3, padding="foo"), None),
    ("Conv2D", dict(filters=2, kernel_size=3, padding="causal"), None),
    ("Conv2D", dict(filters=2, kernel_size=0), None),
    ("Conv2D", dict(filters=2, kernel_size=3, strides=2, dilation_rate=2), None),
    ("Conv2D", dict(filters=3, kernel_size=3, groups=2), None),
    ("Conv2D", dict(filters=4, kernel_size=3, groups=2), (1, 5, 5, 3)),
    ("Conv2D", dict(filters=2, kernel_size=3), (1, 5, 5)),
    ("Conv2D", dict(filters=2, kernel_size=3), (1, 2, 2, 1)),
    ("Conv2D", dict(filters=2, kernel_size=3, data_format="foo"), None),
    ("Conv2DTranspose", dict(filters=2, kernel_size=3, strides=2, output_padding=3), None),
    ("DepthwiseConv2D", dict(kernel_size=3, depth_multiplier=-1), None),
    ("MaxPooling2D", dict(pool_size=2, padding="foo"), (1, 4, 4, 1)),
    ("MaxPooling2D", dict(pool_size=2), (1, 2, 2)),
    ("GlobalMaxPooling2D", dict(), (1, 2, 2)),
    ("SpatialDropout2D", dict(rate=0.5), (1, 2, 2)),
    ("GaussianNoise", dict(stddev=-1), None),
    ("Embedding", dict(input_dim=0, output_dim=3), None),
    ("Permute", dict(dims=(1, 3)), None),
    ("Cropping1D", dict(cropping=(3, 3)), (1, 5, 2)),
    ("GroupNormalization", dict(groups=4), (1, 2, 6)),
    ("RepeatVector", dict(n=2), (2, 3, 4)),
    ("ReLU", dict(max_value=-1), None),
    ("LeakyReLU", dict(negative_slope=-1), None),
    ("ZeroPadding2D", dict(padding=((1, 2), (3,))), None),
]  # fmt: skip


def _error(fw_layers, name, kwargs, shape, fw):
    try:
        layer = getattr(fw_layers, name)(**kwargs)
        if shape is not None:
            layer(fw.constant(np.zeros(shape, "float32")))
    except Exception as e:  # noqa: BLE001 - the class is what is compared
        return e
    return None


@pytest.mark.parametrize("name,kwargs,shape", ERRORS, ids=[f"{n}{k}{s}" for n, k, s in ERRORS])
def test_bad_arguments_raise_what_keras_raises(name, kwargs, shape):
    ke = _error(keras.layers, name, kwargs, shape, T)
    re_ = _error(RK.layers, name, kwargs, shape, R)
    assert ke is not None and re_ is not None, (ke, re_)
    # the same class (by name: TF's InvalidArgumentError is rill's), naming the layer: by
    # its class, or (Keras' input-spec messages, kept word for word) by its default name
    assert type(ke).__name__ in [c.__name__ for c in type(re_).__mro__], (ke, re_)
    assert name in str(re_) or f"'{keras_snake(name)}" in str(re_), re_


def test_spectral_normalization_matches_keras():
    x = _inputs((3, 4), {})
    kl = keras.layers.SpectralNormalization(keras.layers.Dense(3), power_iterations=2)
    rl = RK.layers.SpectralNormalization(RK.layers.Dense(3), power_iterations=2)
    kl(x)
    rl(x)
    values = [np.random.default_rng(i).standard_normal(w.shape).astype("float32")
              for i, w in enumerate(kl.weights)]  # fmt: skip
    kl.set_weights(values)
    rl.set_weights(values)
    assert [w.name for w in kl.weights] == [w.name.split("/")[-1].split(":")[0] for w in rl.weights]
    for training in (False, True, True):
        _close(np.asarray(rl(R.constant(x), training=training)),
               np.asarray(kl(T.constant(x), training=training)), f"training={training}")  # fmt: skip
        for kw, rw in zip(kl.weights, rl.weights):
            _close(rw.numpy(), kw.numpy(), kw.name)
    kc = _normalized(json.loads(json.dumps(keras.saving.serialize_keras_object(kl))))
    rc = _normalized(json.loads(json.dumps(RK.saving.serialize_keras_object(rl))))
    for c in (kc, rc):
        c["config"].pop("name")
        c["config"]["layer"]["config"].pop("name")
    assert rc == kc
    again = RK.saving.deserialize_keras_object(keras.saving.serialize_keras_object(kl))
    assert isinstance(again.layer, RK.layers.Dense) and again.power_iterations == 2
