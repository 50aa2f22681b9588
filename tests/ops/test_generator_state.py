"""tf.random.Generator's state as TF keeps it: create_rng_state's word layout, and 256
counter steps per output of a draw (TF's stateful kernels reserve that many); split,
make_seeds, reset_from_seed, the global generator, and a generator inside a function."""

from __future__ import annotations

import numpy as np
import pytest

import rill as tf


def _words(seed: int, n: int) -> list:
    """A Python int as n little-endian two's-complement int64 words (TF's rule)."""
    out = []
    for _ in range(n):
        w = seed & (2**64 - 1)
        out.append(w - 2**64 if w >= 2**63 else w)
        seed >>= 64
    return out


@pytest.mark.parametrize("seed", [0, 11, -1, 2**64 + 5, 2**63])
def test_create_rng_state_from_int(seed):
    st = tf.random.create_rng_state(seed, "philox")
    assert isinstance(st, tf.Tensor) and st.dtype == tf.int64
    assert st.numpy().tolist() == _words(seed, 3)
    assert tf.random.create_rng_state(seed, "threefry").numpy().tolist() == _words(seed, 2)


def test_create_rng_state_from_list_pads_left_and_truncates():
    assert tf.random.create_rng_state([5], "philox").numpy().tolist() == [0, 0, 5]
    assert tf.random.create_rng_state([1, 2, 3, 4], "philox").numpy().tolist() == [1, 2, 3]
    assert tf.random.Generator.from_seed(11).state.numpy().tolist() == [11, 0, 0]


def test_counter_advances_256_per_output():
    g = tf.random.Generator.from_state([0, 0, 7], alg="philox")
    expected = 0
    for draw, n in [
        (lambda: g.skip(10), 10),
        (lambda: g.normal([2, 3]), 6),
        (lambda: g.uniform([5], 0, 10, tf.int32), 5),
        (lambda: g.truncated_normal([1]), 1),
        (lambda: g.uniform_full_int([2], tf.int64), 2),
        (lambda: g.make_seeds(2), 2),
        (lambda: g.normal([0]), 0),
    ]:
        draw()
        expected += 256 * n
        assert g.state.numpy().tolist() == [expected, 0, 7]


def test_split_and_reset():
    g = tf.random.Generator.from_seed(3)
    children = g.split(3)
    assert len(children) == 3 and all(c.algorithm == g.algorithm for c in children)
    states = [c.state.numpy().tolist() for c in children]
    assert all(s[:2] == [0, 0] for s in states)  # counter zero, a fresh key each
    assert len({s[2] for s in states}) == 3
    draws = [c.normal([4]).numpy() for c in children]
    assert not np.allclose(draws[0], draws[1])
    g.reset_from_seed(3)
    assert g.state.numpy().tolist() == [3, 0, 0]
    seeds = g.make_seeds(4)
    assert seeds.shape == (2, 4) and seeds.dtype == tf.int64
    assert np.all(seeds.numpy()[1] == 0)


def test_global_generator_and_function_use():
    g = tf.random.Generator.from_seed(5)
    tf.random.set_global_generator(g)
    assert tf.random.get_global_generator() is g

    @tf.function
    def draw():
        return g.normal([3])

    a, b = draw(), draw()
    assert not np.allclose(a.numpy(), b.numpy())  # the state advances per call
    assert g.state.numpy().tolist() == [5 + 2 * 3 * 256, 0, 0]
    assert draw.experimental_get_tracing_count() == 1
    nd = tf.random.Generator.from_non_deterministic_state()
    assert nd.state.shape == (3,)


def test_states_match_tensorflow():
    tft = pytest.importorskip("tensorflow")
    got = []
    for lib in (tf, tft):
        g = lib.random.Generator.from_seed(2**64 + 9)
        g.normal([3])
        g.skip(4)
        g.uniform([2, 2])
        got.append(g.state.numpy().tolist())
    assert got[0] == got[1]
