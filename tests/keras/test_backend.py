"""keras.backend (Keras 2's legacy functions as TF 2.21's tf.keras.backend ships them):
every name present, calls checked against NumPy, and against tf.keras.backend (values,
dtypes, shapes, error classes) when TensorFlow is installed."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

import rill
from rill.keras import backend as K

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
rng = np.random.default_rng(3)
f32 = np.float32
F = rng.standard_normal((2, 3)).astype(f32)
F2 = rng.standard_normal((2, 3)).astype(f32)
P = rng.uniform(0.1, 0.9, (2, 3)).astype(f32)
B3 = rng.standard_normal((2, 3, 4)).astype(f32)
B4 = rng.standard_normal((2, 4, 5)).astype(f32)
IMG = rng.standard_normal((2, 4, 4, 3)).astype(f32)
VOL = rng.standard_normal((1, 4, 4, 4, 2)).astype(f32)
KER = rng.standard_normal((3, 3, 3, 2)).astype(f32)
ONEHOT = np.eye(3, dtype=f32)[[0, 2]]


def test_every_name_is_present():
    names = json.load(open(os.path.join(ROOT, "tools", "api", "tf-2.21.json")))["namespaces"]
    assert [n for n in names["keras.backend"] if not hasattr(rill.keras.backend, n)] == []


CALLS = [
    ("abs", (F,)), ("all", (F > 0,), {"axis": 1}), ("any", (F,)), ("arange", (5,)),
    ("arange", (-3,)), ("arange", (1, 7, 2), {"dtype": "float32"}), ("argmax", (F,)),
    ("argmin", (F,), {"axis": 0}), ("batch_dot", (B3, B4)), ("batch_dot", (F, F2), {"axes": 1}),
    ("batch_dot", (B3, B3), {"axes": (2, 2)}), ("batch_flatten", (B3,)),
    ("batch_normalization", (F, F2[0], P[0], F[0], P[1])), ("bias_add", (F, F2[0])),
    ("bias_add", (IMG, F[0]), {"data_format": "channels_last"}),
    ("binary_crossentropy", (P, P[::-1].copy())), ("binary_crossentropy", (P, F), {"from_logits": True}),
    ("binary_focal_crossentropy", (P, P[::-1].copy())),
    ("binary_focal_crossentropy", (P, F), {"from_logits": True, "apply_class_balancing": True}),
    ("cast", (F, "int32")), ("categorical_crossentropy", (ONEHOT, np.abs(F) + 0.1)),
    ("categorical_crossentropy", (ONEHOT, F), {"from_logits": True}),
    ("categorical_focal_crossentropy", (ONEHOT, np.abs(F) + 0.1)),
    ("clip", (F, -0.5, 0.5)), ("clip", (F, 0.5, -0.5)), ("concatenate", ([F, F2],)),
    ("concatenate", ([F, F2],), {"axis": 0}), ("conv1d", (B3, rng.standard_normal((2, 4, 5)).astype(f32)),
                                               {"padding": "causal"}),
    ("conv2d", (IMG, KER)), ("conv2d", (IMG, KER), {"padding": "same", "strides": (2, 2)}),
    ("conv3d", (VOL, rng.standard_normal((2, 2, 2, 2, 3)).astype(f32))),
    ("conv2d_transpose", (IMG, rng.standard_normal((3, 3, 2, 3)).astype(f32), (2, 9, 9, 2)),
     {"strides": (2, 2)}),
    ("cos", (F,)), ("cumprod", (F,)), ("cumsum", (F,), {"axis": 1}),
    ("depthwise_conv2d", (IMG, KER)), ("dot", (F, F2.T.copy())), ("dot", (B3, B4)),
    ("elu", (F,)), ("elu", (F, 0.5)), ("equal", (F, F)), ("exp", (F,)), ("expand_dims", (F,)),
    ("flatten", (B3,)), ("gather", (F, [1, 0])), ("greater", (F, F2)), ("greater_equal", (F, F2)),
    ("hard_sigmoid", (F * 4,)), ("in_top_k", (F, np.array([0, 2]), 1)), ("l2_normalize", (F,), {"axis": 1}),
    ("less", (F, F2)), ("less_equal", (F, F2)), ("log", (P,)), ("max", (F,), {"axis": 1}),
    ("maximum", (F, F2)), ("mean", (F > 0,)), ("mean", (F,), {"axis": 0, "keepdims": True}),
    ("min", (F,)), ("minimum", (F, F2)), ("not_equal", (F, F2)), ("one_hot", (np.array([0, 2]), 3)),
    ("ones_like", (F,)), ("permute_dimensions", (B3, (2, 0, 1))), ("pool2d", (IMG, (2, 2))),
    ("pool2d", (IMG, (2, 2)), {"strides": (2, 2), "pool_mode": "avg", "padding": "same"}),
    ("pool3d", (VOL, (2, 2, 2))), ("pow", (P, 2.5)), ("prod", (F,), {"axis": 1}),
    ("relu", (F,)), ("relu", (F,), {"alpha": 0.1}), ("relu", (F * 10,), {"max_value": 6}),
    ("relu", (F,), {"alpha": 0.1, "max_value": 1.0, "threshold": 0.2}),
    ("repeat", (F, 2)), ("repeat_elements", (F, 2, 1)), ("reshape", (F, (3, 2))),
    ("resize_images", (IMG, 2, 3, "channels_last")),
    ("resize_images", (IMG, 2, 2, "channels_last"), {"interpolation": "bilinear"}),
    ("resize_volumes", (VOL, 2, 1, 2, "channels_last")), ("reverse", (F, 1)), ("round", (F * 3,)),
    ("separable_conv2d", (IMG, KER, rng.standard_normal((1, 1, 6, 4)).astype(f32))),
    ("sigmoid", (F,)), ("sign", (F,)), ("sin", (F,)), ("softmax", (F,)), ("softmax", (B3,), {"axis": (1, 2)}),
    ("softplus", (F,)), ("softsign", (F,)), ("sparse_categorical_crossentropy", (np.array([0, 2]), np.abs(F) + 0.1)),
    ("sparse_categorical_crossentropy", (np.array([0, 2]), F), {"from_logits": True, "ignore_class": 2}),
    ("spatial_2d_padding", (IMG,)), ("spatial_3d_padding", (VOL, ((1, 0), (0, 1), (1, 1)))),
    ("sqrt", (F,)), ("square", (F,)), ("squeeze", (F[:, None], 1)), ("stack", ([F, F2],), {"axis": 1}),
    ("std", (F,)), ("sum", (F,), {"axis": 0}), ("switch", (np.array(True), F, F2)),
    ("switch", (F > 0, F, F2)), ("tanh", (F,)), ("temporal_padding", (B3, (2, 1))), ("tile", (F, (2, 1))),
    ("transpose", (F,)), ("var", (F > 0,)), ("zeros_like", (F,)), ("cast_to_floatx", (np.arange(3),)),
    ("dtype", (rill.constant(F),)), ("int_shape", (rill.constant(B3),)), ("ndim", (rill.constant(B3),)),
    ("count_params", (rill.constant(B3),)), ("is_sparse", (F,)), ("to_dense", (F,)),
    ("ctc_label_dense_to_sparse", (np.array([[1, 2, 0], [3, 0, 0]], np.int32), np.array([2, 1], np.int32))),
    ("maximum", (F, np.arange(3))), ("softmax", (F[0],)), ("conv2d", (IMG, KER), {"padding": "bad"}),
    ("pool2d", (IMG, (2,))), ("repeat", (B3, 2)), ("batch_dot", (F[0], F[0])),
    ("bias_add", (F, F)), ("spatial_2d_padding", (IMG, ((1, 1),))),
]  # fmt: skip


def _norm(call):
    name, args = call[0], call[1]
    kwargs = call[2] if len(call) > 2 else {}
    return name, args, kwargs


def _tensors(make, args):
    """NumPy arrays in ``args`` (also inside lists) as tensors: TF's legacy backend
    functions need tensors, not arrays."""

    def one(a):
        if isinstance(a, np.ndarray):
            return make(a)
        if isinstance(a, list):
            return [one(v) for v in a]
        return a

    return tuple(one(a) for a in args)


def _call(mod, name, args, kwargs):
    try:
        return ["ok", getattr(mod, name)(*args, **kwargs)]
    except Exception as e:
        return ("raise", e)


def _value(x):
    if hasattr(x, "indices") and hasattr(x, "dense_shape"):  # a SparseTensor
        return np.asarray(x.indices), np.asarray(x.values), np.asarray(x.dense_shape)
    return x.numpy() if hasattr(x, "numpy") else x


@pytest.mark.parametrize("call", CALLS, ids=[f"{c[0]}-{i}" for i, c in enumerate(CALLS)])
def test_call_matches_tf_keras_backend(call):
    tf = pytest.importorskip("tensorflow")
    from tests.keras.keras_compare import assert_matches_keras
    from tests.tf_errors import compare_outcomes

    name, args, kwargs = _norm(call)
    keep = ("cast_to_floatx",)  # takes NumPy values
    got = _call(K, name, args if name in keep else _tensors(rill.constant, args), kwargs)
    ref = _call(tf.keras.backend, name, args if name in keep else _tensors(tf.constant, args),
                kwargs)  # fmt: skip
    if compare_outcomes(got, ref, name):
        return
    g, r = _value(got[1]), _value(ref[1])
    if isinstance(r, tuple) and not isinstance(r, tf.TensorShape):
        for a, b in zip(g, r):
            np.testing.assert_allclose(a, b, err_msg=name)
        return
    if isinstance(r, (str, int, bool, type(None))) or name in ("int_shape",):
        assert tuple(g) == tuple(r) if name == "int_shape" else g == r, name
        return
    assert_matches_keras(g, r, rtol=1e-5, atol=1e-5, err_msg=name)


def test_variables_and_values():
    v = K.variable([[1.0, 2.0]])
    assert isinstance(v, rill.Variable) and v.dtype == rill.float32
    K.set_value(v, [[3.0, 4.0]])
    np.testing.assert_array_equal(K.get_value(v), [[3.0, 4.0]])
    K.batch_set_value([(v, [[5.0, 6.0]])])
    assert K.batch_get_value([v])[0].tolist() == [[5.0, 6.0]]
    K.update_add(v, [[1.0, 1.0]])
    K.update_sub(v, [[0.5, 0.5]])
    np.testing.assert_array_equal(K.eval(v), [[5.5, 6.5]])
    K.update(v, [[0.0, 0.0]])
    K.moving_average_update(v, [[10.0, 10.0]], 0.9)
    np.testing.assert_allclose(K.get_value(v), [[1.0, 1.0]], rtol=1e-6)
    z, o, e = K.zeros((2, 2)), K.ones((2,), dtype="int32"), K.eye(3)
    assert isinstance(z, rill.Variable) and o.dtype == rill.int32 and e.numpy().trace() == 3
    assert not isinstance(K.zeros((0, 2)), rill.Variable)
    assert K.constant(1).dtype == rill.float32 and K.cast_to_floatx(1).dtype == np.float32
    for sampler in (K.random_normal, K.random_uniform, K.truncated_normal, K.random_bernoulli):
        out = sampler((3, 2), seed=1)
        assert out.shape == (3, 2) and out.dtype == rill.float32
    rn = K.random_normal_variable((2,), 0.0, 1.0, seed=1)
    ru = K.random_uniform_variable((2,), 0.0, 1.0, seed=1)
    assert isinstance(rn, rill.Variable) and isinstance(ru, rill.Variable)
    d = K.dropout(np.ones((100,), f32), 0.5, seed=1).numpy()
    assert set(np.unique(d)) <= {0.0, 2.0}
    with pytest.raises(RuntimeError):
        K.gradients(v, [v])


def test_uids_session_and_dtype_helpers():
    from rill.keras import config

    a, b = K.get_uid("thing_x"), K.get_uid("thing_x")
    assert (a, b) == (1, 2)
    config.set_dtype_policy("mixed_float16")
    K.clear_session()
    assert K.get_uid("thing_x") == 1 and config.dtype_policy().name == "float32"
    assert K.is_keras_tensor(rill.keras.Input((2,))) and not K.is_keras_tensor(F)
    assert (
        K.standardize_dtype(np.float64) == "float64" and K.result_type("int8", "uint8") == "int16"
    )
    assert K.is_float_dtype("bfloat16") and K.is_int_dtype("uint8") and not K.is_int_dtype("bool")
    assert K.floatx() == "float32" and K.backend() == "tensorflow"
    assert K.image_data_format() == "channels_last" and K.epsilon() == 1e-7
    with K.name_scope("block"):
        pass


def test_higher_order_and_rnn():
    x = np.arange(6.0, dtype=f32).reshape(3, 2)
    np.testing.assert_allclose(K.foldl(lambda a, r: a + r, x), x.sum(0))
    np.testing.assert_allclose(K.foldr(lambda a, r: a * 0 + r, x), x[0])
    np.testing.assert_allclose(K.map_fn(lambda r: r * 2, x), x * 2)
    inputs = np.ones((2, 3, 4), f32)

    def step(x_t, states):
        new = states[0] + x_t
        return new * 2, [new]

    last, outputs, states = K.rnn(step, inputs, [np.zeros((2, 4), f32)])
    np.testing.assert_allclose(outputs[:, :, 0], [[2, 4, 6], [2, 4, 6]])
    np.testing.assert_allclose(states[0][:, 0], [3, 3])
    mask = np.array([[1, 1, 0], [1, 0, 0]], bool)
    last, outputs, states = K.rnn(step, inputs, [np.zeros((2, 4), f32)], mask=mask,
                                  go_backwards=True)  # fmt: skip
    np.testing.assert_allclose(states[0][:, 0], [2, 1])
    np.testing.assert_allclose(last[:, 0], [4, 2])


def test_ctc_functions():
    probs = np.array([[[0.6, 0.4], [0.3, 0.7]]], f32)  # classes {a, blank}: blank is last
    loss = K.ctc_batch_cost(np.array([[0]]), probs, np.array([[2]]), np.array([[1]]))
    p = 0.6 * 0.7 + 0.6 * 0.3 + 0.4 * 0.3  # "a-", "aa", "-a"
    np.testing.assert_allclose(loss, [[-np.log(p)]], rtol=1e-4)
    decoded, log_prob = K.ctc_decode(probs, np.array([2]))
    assert decoded[0].numpy().tolist() == [[0, -1]] and log_prob.shape == (1, 1)
