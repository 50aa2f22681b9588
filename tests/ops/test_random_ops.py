"""Behaviour of tf.random: seed semantics, distributions, errors, stateless ops, Generator."""

from __future__ import annotations

import importlib.util
import math

import numpy as np
import pytest

import rill as tf
from rill.errors import InvalidArgumentError
from rill.ops import random_ops

HAS_SCIPY = importlib.util.find_spec("scipy") is not None
needs_scipy = pytest.mark.skipif(not HAS_SCIPY, reason="gamma sampling needs the scipy extra")

N = 100_000


@pytest.fixture(autouse=True)
def _reset_seed():
    tf.random.set_seed(None)
    yield
    tf.random.set_seed(None)


def _phi(x):
    return math.exp(-x * x / 2) / math.sqrt(2 * math.pi)


def _Phi(x):  # noqa: N802 - standard notation
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


# --------------------------------------------------------------------------------------
# Seed semantics
# --------------------------------------------------------------------------------------


def _sequence(op_seed=None):
    return [
        tf.random.normal([5], seed=op_seed).numpy(),
        tf.random.uniform([5], seed=op_seed).numpy(),
        tf.random.normal([5], seed=op_seed).numpy(),
        tf.random.uniform([4], maxval=1000, dtype=tf.int64, seed=op_seed).numpy(),
        tf.random.shuffle(np.arange(20), seed=op_seed).numpy(),
    ]


def _same(a, b):
    return all(np.array_equal(x, y) for x, y in zip(a, b))


def test_global_seed_reproduces_the_sequence_and_calls_differ():
    tf.random.set_seed(1234)
    first = _sequence()
    tf.random.set_seed(1234)
    second = _sequence()
    assert _same(first, second)
    assert not np.array_equal(first[0], first[2])  # two calls of the same op differ
    tf.random.set_seed(4321)
    assert not np.array_equal(_sequence()[0], first[0])


def test_no_seed_is_nondeterministic():
    a = tf.random.normal([8]).numpy()
    b = tf.random.normal([8]).numpy()
    tf.random.set_seed(None)
    c = tf.random.normal([8]).numpy()
    assert not np.array_equal(a, b) and not np.array_equal(a, c)


def test_op_seed_only_is_reproducible_and_continues_its_stream():
    a1 = tf.random.uniform([4], seed=7).numpy()
    a2 = tf.random.uniform([4], seed=7).numpy()
    assert not np.array_equal(a1, a2)  # the op's stream continues
    tf.random.set_seed(None)  # like a program restart: streams start over
    assert np.array_equal(tf.random.uniform([4], seed=7).numpy(), a1)
    assert np.array_equal(tf.random.uniform([4], seed=7).numpy(), a2)
    assert not np.array_equal(tf.random.uniform([4], seed=8).numpy(), a1)


def test_global_and_op_seed_fully_determined():
    tf.random.set_seed(3)
    a = tf.random.normal([6], seed=11).numpy()
    b = tf.random.normal([6]).numpy()
    tf.random.set_seed(3)
    assert np.array_equal(tf.random.normal([6], seed=11).numpy(), a)
    assert np.array_equal(tf.random.normal([6]).numpy(), b)
    tf.random.set_seed(4)
    assert not np.array_equal(tf.random.normal([6], seed=11).numpy(), a)


def test_op_seed_with_and_without_global_seed_differ():
    a = tf.random.normal([6], seed=11).numpy()
    tf.random.set_seed(3)
    assert not np.array_equal(tf.random.normal([6], seed=11).numpy(), a)


def test_independent_ops_under_global_seed_are_uncorrelated():
    tf.random.set_seed(0)
    a = tf.random.normal([N]).numpy()
    b = tf.random.normal([N]).numpy()
    assert abs(np.corrcoef(a, b)[0, 1]) < 0.02


def test_random_ops_are_marked_stateful():
    from rill.core.dispatch import REGISTRY

    for name in ("RandomStandardNormal", "RandomUniform", "RandomUniformInt", "TruncatedNormal",
                 "Multinomial", "RandomShuffle", "RandomPoissonV2"):  # fmt: skip
        assert REGISTRY[name].stateful, name
    assert not REGISTRY["StatelessRandomNormal"].stateful


# --------------------------------------------------------------------------------------
# Distributions
# --------------------------------------------------------------------------------------


def test_normal_moments_dtype_and_shape():
    x = tf.random.normal([N], mean=2.0, stddev=3.0, seed=1)
    assert x.dtype == tf.float32 and x.shape == (N,)
    v = x.numpy()
    assert abs(v.mean() - 2.0) < 0.05 and abs(v.std() - 3.0) < 0.05
    y = tf.random.normal([2, 3], dtype=tf.float64)
    assert y.dtype == tf.float64 and y.shape == (2, 3)
    assert tf.random.normal([]).shape == ()
    assert tf.random.normal(tf.TensorShape([4, 1])).shape == (4, 1)
    assert tf.random.normal(np.array([2, 0], np.int64)).shape == (2, 0)
    assert tf.random.normal([3], dtype=tf.float16).dtype == tf.float16


def test_normal_tensor_mean_broadcasts():
    x = tf.random.normal([N, 2], mean=tf.constant([-5.0, 5.0]), stddev=0.5, seed=2).numpy()
    np.testing.assert_allclose(x.mean(axis=0), [-5.0, 5.0], atol=0.02)
    np.testing.assert_allclose(x.std(axis=0), [0.5, 0.5], atol=0.02)


def test_uniform_float_bounds_and_moments():
    x = tf.random.uniform([N], minval=2.0, maxval=5.0, seed=3).numpy()
    assert x.dtype == np.float32
    assert x.min() >= 2.0 and x.max() < 5.0
    assert abs(x.mean() - 3.5) < 0.02 and abs(x.var() - 9 / 12) < 0.02
    d = tf.random.uniform([N]).numpy()
    assert d.min() >= 0 and d.max() < 1


def test_uniform_low_precision_never_reaches_maxval():
    for dt in (tf.float16,):
        x = tf.random.uniform([N], dtype=dt).numpy()
        assert x.dtype == dt.as_numpy_dtype and x.max() < 1.0 and x.min() >= 0.0


def test_uniform_int_bounds_dtype_and_coverage():
    for dt in (tf.int32, tf.int64):
        x = tf.random.uniform([N], minval=-3, maxval=4, dtype=dt, seed=4)
        assert x.dtype == dt
        v = x.numpy()
        assert v.min() == -3 and v.max() == 3  # maxval exclusive, every value hit
        counts = np.bincount(v + 3)
        np.testing.assert_allclose(counts / N, np.full(7, 1 / 7), atol=0.01)


def test_uniform_int_errors():
    with pytest.raises(ValueError, match="maxval"):
        tf.random.uniform([2], dtype=tf.int32)
    with pytest.raises(InvalidArgumentError, match="minval < maxval"):
        tf.random.uniform([2], minval=5, maxval=5, dtype=tf.int32)
    with pytest.raises(InvalidArgumentError, match="0-D"):
        tf.random.uniform([2], minval=[0, 1], maxval=5, dtype=tf.int32)
    for bad in (tf.int8, tf.uint32, tf.complex64, tf.bool):
        with pytest.raises(ValueError, match="dtype"):
            tf.random.uniform([2], maxval=3, dtype=bad)


def test_shape_and_dtype_errors():
    with pytest.raises(InvalidArgumentError, match="must be >= 0"):
        tf.random.normal([2, -1])
    with pytest.raises(InvalidArgumentError):
        tf.random.normal([2.5])
    with pytest.raises(InvalidArgumentError, match="vector"):
        tf.random.normal(3)
    with pytest.raises(TypeError):
        tf.random.normal([2], dtype=tf.int32)
    with pytest.raises(TypeError):
        tf.random.truncated_normal([2], dtype=tf.int32)
    with pytest.raises(InvalidArgumentError):
        tf.random.normal([2], dtype=tf.complex64)
    with pytest.raises(ValueError):
        tf.random.normal([2], dtype=tf.float64, mean=tf.constant(1.0))


def test_truncated_normal_bounds_and_moments():
    x = tf.random.truncated_normal([N], mean=1.0, stddev=2.0, seed=5).numpy()
    assert np.all(np.abs(x - 1.0) <= 4.0 + 1e-6)
    z = 2.0
    var = 1 - 2 * z * _phi(z) / (_Phi(z) - _Phi(-z))  # variance of N(0,1) truncated to [-2, 2]
    assert abs(x.mean() - 1.0) < 0.03
    assert abs(x.std() - 2.0 * math.sqrt(var)) < 0.03
    h = tf.random.truncated_normal([N], dtype=tf.float16).numpy()
    assert h.dtype == np.float16 and np.all(np.abs(h) <= 2.0)


def test_categorical_frequencies_match_softmax():
    logits = np.array([[0.0, 1.0, 2.0, -np.inf], [3.0, 0.0, 0.0, 0.0]], np.float32)
    s = tf.random.categorical(logits, 50_000, seed=6)
    assert s.dtype == tf.int64 and s.shape == (2, 50_000)
    v = s.numpy()
    for row, lg in zip(v, logits):
        p = np.exp(lg - lg.max())
        p /= p.sum()
        np.testing.assert_allclose(np.bincount(row, minlength=4) / row.size, p, atol=0.015)
    assert not np.any(v[0] == 3)  # -inf logit is never drawn
    assert tf.random.categorical(logits, 3, dtype=tf.int32).dtype == tf.int32
    assert tf.random.categorical(logits, 0).shape == (2, 0)


def test_categorical_errors():
    with pytest.raises(ValueError, match="dtype"):
        tf.random.categorical([[0.0, 1.0]], 3, dtype=tf.float32)
    with pytest.raises(InvalidArgumentError, match="matrix"):
        tf.random.categorical([0.0, 1.0], 3)
    with pytest.raises(InvalidArgumentError, match="non-negative"):
        tf.random.categorical([[0.0, 1.0]], -1)
    with pytest.raises(InvalidArgumentError):
        tf.random.categorical([[0, 1]], 2)


def test_shuffle_is_a_permutation_of_rows():
    x = np.arange(30).reshape(10, 3)
    y = tf.random.shuffle(x, seed=9).numpy()
    assert y.shape == x.shape
    assert sorted(map(tuple, y)) == sorted(map(tuple, x))  # whole rows move together
    assert not np.array_equal(y, x) or not np.array_equal(tf.random.shuffle(x, seed=9).numpy(), x)
    assert tf.random.shuffle(5).numpy() == 5
    strings = tf.random.shuffle(tf.constant(["a", "b", "c"])).numpy()
    assert sorted(strings.tolist()) == [b"a", b"b", b"c"]


@needs_scipy
def test_gamma_moments_and_shape():
    alpha = np.array([0.5, 2.0, 7.0], np.float32)
    x = tf.random.gamma([N], alpha, beta=2.0, seed=10)
    assert x.shape == (N, 3) and x.dtype == tf.float32
    v = x.numpy()
    np.testing.assert_allclose(v.mean(axis=0), alpha / 2.0, rtol=0.03)
    np.testing.assert_allclose(v.var(axis=0), alpha / 4.0, rtol=0.05)
    assert np.all(v > 0)
    assert tf.random.gamma([2], [1.0, 2.0], beta=[[1.0], [2.0]]).shape == (2, 2, 2)
    with pytest.raises(ValueError):
        tf.random.gamma([2], 1, dtype=tf.int32)


@needs_scipy
def test_gamma_gradient_is_implicit_reparameterization():
    # E[x] = alpha / beta, so d mean(x) / d alpha = 1 / beta and d mean(x) / d beta = -alpha / beta**2.
    alpha = tf.Variable(3.0, dtype=tf.float64)
    beta = tf.Variable(2.0, dtype=tf.float64)
    with tf.GradientTape() as tape:
        x = tf.random.stateless_gamma([N], seed=[1, 2], alpha=alpha, beta=beta, dtype=tf.float64)
        m = tf.reduce_sum(x) / N
    ga, gb = tape.gradient(m, [alpha, beta])
    assert abs(ga.numpy() - 0.5) < 0.01
    assert abs(gb.numpy() + 0.75) < 0.02


@needs_scipy
def test_stateless_gamma_gradient_matches_finite_differences():
    seed = [4, 5]

    def f(a):
        return tf.random.stateless_gamma([7], seed=seed, alpha=a, dtype=tf.float64).numpy()

    a = tf.Variable(1.7, dtype=tf.float64)
    with tf.GradientTape() as tape:
        x = tf.random.stateless_gamma([7], seed=seed, alpha=a, dtype=tf.float64)
        s = tf.reduce_sum(x)
    g = tape.gradient(s, a).numpy()
    h = 1e-5
    num = (f(1.7 + h).sum() - f(1.7 - h).sum()) / (2 * h)
    assert abs(g - num) < 1e-4 * max(1.0, abs(num))


def test_poisson_moments_shape_and_dtype():
    lam = np.array([0.5, 4.0, 30.0], np.float32)
    x = tf.random.poisson([N], lam, seed=11)
    assert x.shape == (N, 3) and x.dtype == tf.float32
    v = x.numpy()
    np.testing.assert_allclose(v.mean(axis=0), lam, rtol=0.03)
    np.testing.assert_allclose(v.var(axis=0), lam, rtol=0.05)
    assert tf.random.poisson([2], [1, 2], dtype=tf.int64).dtype == tf.int64


def test_normal_and_uniform_gradients_flow_to_parameters_only():
    mean = tf.Variable(1.0)
    std = tf.Variable(2.0)
    lo = tf.Variable(-1.0)
    hi = tf.Variable(3.0)
    with tf.GradientTape(persistent=True) as tape:
        x = tf.random.normal([1000], mean=mean, stddev=std, seed=1)
        u = tf.random.uniform([1000], minval=lo, maxval=hi, seed=2)
        sx = tf.reduce_sum(x)
        su = tf.reduce_sum(u)
    gm, gs = tape.gradient(sx, [mean, std])
    assert gm.numpy() == pytest.approx(1000.0)
    z = (x.numpy() - 1.0) / 2.0
    assert gs.numpy() == pytest.approx(z.sum(), rel=1e-4, abs=1e-3)
    glo, ghi = tape.gradient(su, [lo, hi])
    r = (u.numpy() + 1.0) / 4.0  # the underlying U[0, 1) draws
    assert ghi.numpy() == pytest.approx(r.sum(), rel=1e-4)
    assert glo.numpy() == pytest.approx(1000 - r.sum(), rel=1e-4)


def test_random_outputs_are_not_differentiable():
    v = tf.Variable([[1.0, 2.0], [3.0, 4.0]])
    with tf.GradientTape() as tape:
        s = tf.reduce_sum(tf.random.shuffle(v))
    assert tape.gradient(s, v) is None


# --------------------------------------------------------------------------------------
# Stateless ops
# --------------------------------------------------------------------------------------


def test_stateless_ops_are_pure_functions_of_seed_and_shape():
    fns = [
        lambda s: tf.random.stateless_normal([3, 4], seed=s),
        lambda s: tf.random.stateless_uniform([3, 4], seed=s),
        lambda s: tf.random.stateless_truncated_normal([3, 4], seed=s),
        lambda s: tf.random.stateless_uniform([5], seed=s, minval=0, maxval=100, dtype=tf.int32),
        lambda s: tf.random.stateless_uniform(
            [5], seed=s, minval=None, maxval=None, dtype=tf.int64
        ),
        lambda s: tf.random.stateless_categorical([[0.0, 1.0, 2.0]], 20, seed=s),
        *([lambda s: tf.random.stateless_gamma([5], seed=s, alpha=2.0)] if HAS_SCIPY else []),
        lambda s: tf.random.stateless_poisson([5], seed=s, lam=3.0),
        lambda s: tf.random.stateless_binomial([5], seed=s, counts=10.0, probs=0.3),
        lambda s: random_ops.stateless_shuffle(np.arange(20), seed=s),
    ]
    for f in fns:
        a = f([1, 2]).numpy()
        tf.random.set_seed(99)  # the global seed and other ops do not matter
        tf.random.normal([3])
        b = f(tf.constant([1, 2], tf.int64)).numpy()
        c = f([2, 1]).numpy()
        assert np.array_equal(a, b)
        assert not np.array_equal(a, c)


def test_stateless_distributions():
    x = tf.random.stateless_normal([N], seed=[3, 4], mean=1.0, stddev=0.5).numpy()
    assert abs(x.mean() - 1.0) < 0.01 and abs(x.std() - 0.5) < 0.01
    u = tf.random.stateless_uniform([N], seed=[3, 4], minval=-2, maxval=-1, dtype=tf.int32).numpy()
    assert np.all(u == -2)
    t = tf.random.stateless_truncated_normal([N], seed=[3, 4]).numpy()
    assert np.all(np.abs(t) <= 2)
    full = tf.random.stateless_uniform([N], seed=[3, 4], minval=None, maxval=None, dtype=tf.uint32)
    assert full.dtype == tf.uint32 and full.numpy().max() > 2**31  # full range
    p = tf.random.stateless_poisson([N], seed=[3, 4], lam=5.0)
    assert p.dtype == tf.int32 and abs(p.numpy().mean() - 5) < 0.05
    b = tf.random.stateless_binomial([N, 2], seed=[3, 4], counts=[10.0, 20.0], probs=[0.5]).numpy()
    np.testing.assert_allclose(b.mean(axis=0), [5.0, 10.0], rtol=0.01)


def test_stateless_seed_errors():
    with pytest.raises(InvalidArgumentError, match=r"shape \[2\]"):
        tf.random.stateless_normal([2], seed=[1, 2, 3])
    with pytest.raises(InvalidArgumentError, match=r"shape \[2\]"):
        tf.random.stateless_normal([2], seed=1)
    with pytest.raises(InvalidArgumentError):
        tf.random.stateless_normal([2], seed=[1.0, 2.0])
    with pytest.raises(ValueError, match="both"):
        tf.random.stateless_uniform([2], seed=[1, 2], dtype=tf.int32)
    with pytest.raises(InvalidArgumentError, match="minval < maxval"):
        tf.random.stateless_uniform([2], seed=[1, 2], dtype=tf.int64, minval=3, maxval=2)


def test_split_and_fold_in():
    s = tf.random.split([1, 2], 3)
    assert s.shape == (3, 2) and s.dtype == tf.int32
    assert np.array_equal(s.numpy(), tf.random.split([1, 2], 3).numpy())
    assert len({tuple(r) for r in s.numpy().tolist()}) == 3
    assert tf.random.split(tf.constant([1, 2], tf.int64)).dtype == tf.int64
    f5, f6 = tf.random.fold_in([1, 2], 5), tf.random.fold_in([1, 2], 6)
    assert f5.shape == (2,) and not np.array_equal(f5.numpy(), f6.numpy())
    a = tf.random.stateless_normal([4], seed=f5).numpy()
    assert not np.array_equal(a, tf.random.stateless_normal([4], seed=f6).numpy())


# --------------------------------------------------------------------------------------
# Generator
# --------------------------------------------------------------------------------------


def test_generator_reproducible_and_advancing():
    g1 = tf.random.Generator.from_seed(1234)
    g2 = tf.random.Generator.from_seed(1234)
    a1, b1 = g1.normal([5]).numpy(), g1.normal([5]).numpy()
    a2, b2 = g2.normal([5]).numpy(), g2.normal([5]).numpy()
    assert np.array_equal(a1, a2) and np.array_equal(b1, b2)
    assert not np.array_equal(a1, b1)
    g3 = tf.random.Generator.from_seed(1235)
    assert not np.array_equal(g3.normal([5]).numpy(), a1)
    assert not np.array_equal(
        tf.random.Generator.from_non_deterministic_state().normal([5]).numpy(),
        tf.random.Generator.from_non_deterministic_state().normal([5]).numpy(),
    )


def test_generator_state_is_a_variable_and_can_be_restored():
    g = tf.random.Generator.from_seed(7)
    assert isinstance(g.state, tf.Variable) and g.state.dtype == tf.int64 and g.state.shape == (3,)
    assert not g.state.trainable
    saved = g.state.numpy()
    a = g.uniform([4]).numpy()
    assert not np.array_equal(g.state.numpy(), saved)
    g.reset(saved)
    assert np.array_equal(g.uniform([4]).numpy(), a)
    g.state.assign(saved)  # restoring the variable (what a checkpoint does) replays too
    assert np.array_equal(g.uniform([4]).numpy(), a)
    g.reset_from_seed(7)
    assert np.array_equal(g.uniform([4]).numpy(), a)
    h = tf.random.Generator(copy_from=g)
    assert np.array_equal(h.normal([3]).numpy(), g.normal([3]).numpy())


def test_generator_skip_returns_old_state():
    g = tf.random.Generator.from_seed(3)
    before = g.state.numpy()
    old = g.skip(10)
    assert np.array_equal(old.numpy(), before)
    assert not np.array_equal(g.state.numpy(), before)


def test_generator_distributions():
    g = tf.random.Generator.from_seed(5)
    x = g.normal([N], mean=-1.0, stddev=2.0).numpy()
    assert abs(x.mean() + 1.0) < 0.05 and abs(x.std() - 2.0) < 0.05
    t = g.truncated_normal([N]).numpy()
    assert np.all(np.abs(t) <= 2)
    u = g.uniform([N], minval=1.0, maxval=2.0).numpy()
    assert u.min() >= 1 and u.max() < 2
    i = g.uniform([N], minval=0, maxval=5, dtype=tf.int32)
    assert i.dtype == tf.int32 and set(np.unique(i.numpy())) == {0, 1, 2, 3, 4}
    assert g.uniform_full_int([3]).dtype == tf.uint64
    assert g.uniform([3], minval=None, maxval=None, dtype=tf.int64).dtype == tf.int64
    with pytest.raises(ValueError):
        g.uniform([2], dtype=tf.int32)
    with pytest.raises(TypeError):
        g.normal([2], dtype=tf.int32)
    b = g.binomial([N], counts=10.0, probs=0.25).numpy()
    assert abs(b.mean() - 2.5) < 0.05


def test_generator_split_and_make_seeds():
    g = tf.random.Generator.from_seed(11)
    s0 = g.state.numpy()
    children = g.split(3)
    assert len(children) == 3 and not np.array_equal(g.state.numpy(), s0)
    draws = [c.normal([N]).numpy() for c in children] + [g.normal([N]).numpy()]
    c = np.corrcoef(np.stack(draws))
    assert np.all(np.abs(c[np.triu_indices(4, 1)]) < 0.02)
    again = tf.random.Generator.from_seed(11).split(3)
    assert np.array_equal(again[0].normal([N]).numpy(), draws[0])  # reproducible
    assert (
        len(
            {tuple(ch.state.numpy()) for ch in g.split(3)}
            | {tuple(ch.state.numpy()) for ch in children}
        )
        == 6
    )
    seeds = g.make_seeds(4)
    assert seeds.shape == (2, 4) and seeds.dtype == tf.int64
    a = tf.random.stateless_normal([3], seed=seeds[:, 0]).numpy()
    assert not np.array_equal(a, tf.random.stateless_normal([3], seed=seeds[:, 1]).numpy())


def test_global_generator():
    g = tf.random.get_global_generator()
    assert g is tf.random.get_global_generator()
    mine = tf.random.Generator.from_seed(1)
    tf.random.set_global_generator(mine)
    try:
        assert tf.random.get_global_generator() is mine
    finally:
        tf.random.set_global_generator(g)


def test_algorithms_and_create_rng_state():
    assert tf.random.Algorithm.PHILOX.value == 1
    assert tf.random.Generator.from_seed(1, alg="threefry").state.shape == (2,)
    st = tf.random.create_rng_state(5, "philox")
    assert tf.is_tensor(st) and st.dtype == tf.int64 and st.shape == (3,)  # a Tensor, as TF
    assert np.array_equal(st.numpy(), tf.random.create_rng_state(5, 1).numpy())
    with pytest.raises(ValueError):
        tf.random.Generator.from_seed(1, alg="mersenne")


def test_gamma_without_scipy_says_how_to_install_it(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "scipy", None)  # makes `from scipy import ...` fail
    with pytest.raises(tf.errors.UnimplementedError, match=r"rill\[scipy\]"):
        tf.random.stateless_gamma([2], seed=[1, 2], alpha=2.0)
