"""keras.random: samplers' shapes, dtypes and distributions, seeds and SeedGenerator (also
inside rill.function); shapes, dtypes and errors against Keras 3 when it is installed."""

from __future__ import annotations

import numpy as np
import pytest

import rill
from rill.keras import random as R

N = 20000


def test_int_seed_is_deterministic_and_generator_advances():
    a = R.normal((4,), seed=7)
    np.testing.assert_array_equal(a, R.normal((4,), seed=7))
    assert not np.array_equal(a, R.normal((4,), seed=8))
    g = R.SeedGenerator(3)
    first, second = R.uniform((3,), seed=g), R.uniform((3,), seed=g)
    assert not np.array_equal(first, second)
    assert g.state.numpy().tolist() == [3, 2] and g.state.dtype == rill.int64
    assert not g.state.trainable
    again = R.SeedGenerator(3)
    np.testing.assert_array_equal(R.uniform((3,), seed=again), first)
    assert not np.array_equal(R.normal((3,)), R.normal((3,)))  # the global generator
    assert g.get_config() == {"seed": 3, "name": g.name}
    assert R.SeedGenerator.from_config(g.get_config()).state.numpy().tolist() == [3, 0]


def test_seed_generator_inside_rill_function():
    g = R.SeedGenerator(11)

    @rill.function
    def draw():
        return R.normal((2,), seed=g), R.dropout(rill.ones((4,)), 0.5, seed=g)

    a, _ = draw()
    b, _ = draw()
    assert not np.array_equal(a, b)
    assert g.state.numpy().tolist() == [11, 4]
    eager = R.SeedGenerator(11)
    np.testing.assert_array_equal(R.normal((2,), seed=eager), a)


def test_distributions():
    x = R.normal((N,), mean=2.0, stddev=3.0, seed=1).numpy()
    assert abs(x.mean() - 2.0) < 0.1 and abs(x.std() - 3.0) < 0.1
    t = R.truncated_normal((N,), mean=1.0, stddev=0.5, seed=2).numpy()
    assert t.min() >= 0.0 and t.max() <= 2.0 and abs(t.mean() - 1.0) < 0.02
    u = R.uniform((N,), minval=-1.0, maxval=3.0, seed=3).numpy()
    assert u.min() >= -1 and u.max() < 3 and abs(u.mean() - 1.0) < 0.05
    i = R.randint((N,), 2, 7, seed=4).numpy()
    assert i.dtype == np.int32 and set(np.unique(i)) == {2, 3, 4, 5, 6}
    assert R.randint((3,), 0, 5, dtype="uint8", seed=1).dtype == rill.uint8
    c = R.categorical(np.log([[0.2, 0.8], [0.9, 0.1]]), N, seed=5).numpy()
    assert c.shape == (2, N) and c.dtype == np.int32
    assert abs(c[0].mean() - 0.8) < 0.02 and abs(c[1].mean() - 0.1) < 0.02
    gm = R.gamma((1000,), 3.0, seed=6).numpy()  # rill's gamma sampler is slow: fewer draws
    assert abs(gm.mean() - 3.0) < 0.2
    bn = R.binomial((N,), 10, 0.3, seed=7).numpy()
    assert bn.dtype == np.float32 and abs(bn.mean() - 3.0) < 0.1 and bn.max() <= 10
    bt = R.beta((1000,), 2.0, 6.0, seed=8).numpy()
    assert abs(bt.mean() - 0.25) < 0.02 and bt.min() >= 0 and bt.max() <= 1
    assert R.gamma((2,), 1.0, dtype="bfloat16", seed=1).dtype == rill.bfloat16


def test_dropout_and_shuffle():
    x = np.ones((200, 50), np.float32)
    y = R.dropout(x, 0.3, seed=1).numpy()
    kept = y != 0
    assert abs(kept.mean() - 0.7) < 0.02
    np.testing.assert_allclose(y[kept], 1 / 0.7, rtol=1e-6)
    z = R.dropout(x, 0.5, noise_shape=(1, 50), seed=2).numpy()
    assert (z == z[:1]).all()  # the same columns dropped in every row
    assert (R.dropout(x, 1.0) == 0).numpy().all()
    np.testing.assert_array_equal(R.dropout(x, 0.0), x)
    s = R.shuffle(np.arange(10), seed=3).numpy()
    assert sorted(s) == list(range(10)) and s.tolist() != list(range(10))
    m = np.arange(12).reshape(3, 4)
    cols = R.shuffle(m, axis=1, seed=4).numpy()
    assert sorted(cols[0]) == [0, 1, 2, 3] and (cols - cols[:1] == np.array([[0], [4], [8]])).all()


def test_argument_errors():
    with pytest.raises(ValueError, match="floating point"):
        R.uniform((2,), dtype="int32")
    with pytest.raises(ValueError, match="integer"):
        R.randint((2,), 0, 3, dtype="float32")
    with pytest.raises(ValueError, match="2-D"):
        R.categorical([0.1, 0.2], 3)
    with pytest.raises(ValueError, match="seed"):
        R.normal((2,), seed="x")
    with pytest.raises(ValueError, match="integer"):
        R.SeedGenerator(1.5)
    with pytest.raises(ValueError, match="Unrecognized"):
        R.SeedGenerator(1, bad=1)


# ------------------------------------------------------------------------ vs Keras 3
CALLS = [
    ("normal", ((2, 3),), {}), ("normal", ((4,),), {"dtype": "float64", "mean": 1.0}),
    ("uniform", ((3,),), {"minval": 2.0, "maxval": 5.0, "dtype": "float16"}),
    ("truncated_normal", ((2, 2),), {}), ("randint", ((5,), 0, 4), {}),
    ("randint", ((5,), 0, 4), {"dtype": "int64"}), ("randint", ((5,), 0, 4), {"dtype": "uint16"}),
    ("categorical", (np.zeros((2, 3), np.float32), 4), {}),
    ("categorical", (np.zeros((2, 3), np.float32), 4), {"dtype": "int64"}),
    ("dropout", (np.ones((3, 4), np.float32), 0.5), {}), ("shuffle", (np.arange(6),), {}),
    ("gamma", ((3,), 2.0), {}), ("gamma", ((3,), 2.0), {"dtype": "float64"}),
    ("binomial", ((3,), 5, 0.5), {}), ("binomial", ((3,), 5, 0.5), {"dtype": "int32"}),
    ("beta", ((3,), 2.0, 3.0), {}),
    ("uniform", ((2,),), {"dtype": "int32"}), ("randint", ((2,), 0, 3), {"dtype": "float32"}),
    ("categorical", (np.zeros(3, np.float32), 2), {}),
]  # fmt: skip


@pytest.mark.parametrize("call", CALLS, ids=[f"{c[0]}-{i}" for i, c in enumerate(CALLS)])
def test_dtypes_shapes_and_errors_match_keras(call):
    pytest.importorskip("tensorflow")
    keras = pytest.importorskip("keras")
    from tests.keras.keras_compare import dtype_name
    from tests.tf_errors import assert_same_error

    name, args, kwargs = call
    try:
        ref = getattr(keras.random, name)(*args, seed=1, **kwargs)
    except Exception as e:
        with pytest.raises(Exception) as info:
            getattr(R, name)(*args, seed=1, **kwargs)
        assert_same_error(info.value, e, name)
        return
    got = getattr(R, name)(*args, seed=1, **kwargs)
    assert dtype_name(got) == dtype_name(ref) and tuple(got.shape) == tuple(ref.shape), name
