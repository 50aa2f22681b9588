"""tf.data.Dataset: sources, transformations, iteration (values against hand-derived
references; element specs, cardinalities and errors as TF 2.21 gives them)."""

import collections
import gc
import threading
import time

import numpy as np
import pytest

import rill as tf
from rill.data import dataset_ops, iterator_ops
from rill.data import options as data_options
from rill.data.dataset_ops import AUTOTUNE, Dataset, DatasetSpec
from rill.structures import ragged_tensor, sparse_tensor

INF, UNK = dataset_ops.INFINITE, dataset_ops.UNKNOWN


def values(ds):
    return [_py(x) for x in ds.as_numpy_iterator()]


def _py(x):
    if isinstance(x, dict):
        return {k: _py(v) for k, v in x.items()}
    if isinstance(x, tuple):
        return tuple(_py(v) for v in x)
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, np.generic):
        return x.item()
    return x


def card(ds):
    return int(ds.cardinality())


# --------------------------------------------------------------------------------------
# Sources
# --------------------------------------------------------------------------------------


def test_range():
    assert values(Dataset.range(5)) == [0, 1, 2, 3, 4]
    assert values(Dataset.range(2, 10, 3)) == [2, 5, 8]
    assert values(Dataset.range(5, 0, -2)) == [5, 3, 1]
    assert values(Dataset.range(3, 3)) == []
    ds = Dataset.range(5)
    assert ds.element_spec == tf.TensorSpec([], tf.int64)
    assert card(Dataset.range(2, 10, 3)) == 3
    assert Dataset.range(3, dtype=tf.int32).element_spec.dtype is tf.int32
    assert repr(ds) == f"<_RangeDataset element_spec={ds.element_spec!r}>"
    assert len(ds) == 5


def test_range_large_chunks():
    ds = Dataset.range(40_000)
    assert sum(values(ds.batch(1000).map(lambda x: tf.reduce_sum(x)))) == 40_000 * 39_999 // 2


def test_from_tensor_slices_structures():
    ds = Dataset.from_tensor_slices({"a": [1, 2], "b": [[1.0, 2.0], [3.0, 4.0]]})
    assert ds.element_spec == {
        "a": tf.TensorSpec([], tf.int32),
        "b": tf.TensorSpec([2], tf.float32),
    }
    assert values(ds) == [{"a": 1, "b": [1.0, 2.0]}, {"a": 2, "b": [3.0, 4.0]}]
    ds = Dataset.from_tensor_slices(([1, 2], ["a", "b"]))
    assert ds.element_spec == (tf.TensorSpec([], tf.int32), tf.TensorSpec([], tf.string))
    assert values(ds) == [(1, b"a"), (2, b"b")]
    assert card(ds) == 2


def test_from_tensor_slices_namedtuple_and_lists():
    P = collections.namedtuple("P", "x y")
    ds = Dataset.from_tensor_slices(P(np.arange(3), np.ones(3)))
    first = next(iter(ds))
    assert isinstance(first, P) and int(first.x) == 0
    # a (nested) list is one tensor, not a structure
    ds = Dataset.from_tensor_slices([[1, 2], [3, 4]])
    assert ds.element_spec == tf.TensorSpec([2], tf.int32)


def test_from_tensor_slices_errors():
    with pytest.raises(ValueError, match="Dimensions 2 and 3 are not compatible"):
        Dataset.from_tensor_slices(([1, 2], [1, 2, 3]))
    with pytest.raises(ValueError, match="rank >= 1"):
        Dataset.from_tensor_slices(1)


def test_from_tensors():
    ds = Dataset.from_tensors(([1, 2], "s"))
    assert ds.element_spec == (tf.TensorSpec([2], tf.int32), tf.TensorSpec([], tf.string))
    assert values(ds) == [([1, 2], b"s")]
    assert card(ds) == 1


def test_from_generator_signature_and_checks():
    def gen():
        yield 1, [1.0]
        yield 2, [2.0, 3.0]

    ds = Dataset.from_generator(
        gen,
        output_signature=(tf.TensorSpec([], tf.int64), tf.TensorSpec([None], tf.float32)),
    )
    assert values(ds) == [(1, [1.0]), (2, [2.0, 3.0])]
    assert values(ds) == [(1, [1.0]), (2, [2.0, 3.0])]  # the generator is called again
    assert card(ds) == UNK
    ds = Dataset.from_generator(lambda: iter([1, 2]), output_types=tf.int32)
    assert ds.element_spec == tf.TensorSpec(None, tf.int32)
    ds = Dataset.from_generator(
        lambda: iter([(1, ["a"])]), output_types=(tf.int32, tf.string), output_shapes=([], [None])
    )
    assert ds.element_spec == (tf.TensorSpec([], tf.int32), tf.TensorSpec([None], tf.string))
    bad = Dataset.from_generator(
        lambda: iter([[1, 2], [1, 2, 3]]), output_signature=tf.TensorSpec([2], tf.int64)
    )
    with pytest.raises(
        tf.errors.InvalidArgumentError, match=r"shape \(3,\) where an element of shape \(2,\)"
    ):
        values(bad)
    bad = Dataset.from_generator(lambda: iter(["a"]), output_signature=tf.TensorSpec([], tf.int64))
    with pytest.raises(tf.errors.InvalidArgumentError, match="expected type was int64"):
        values(bad)
    with_args = Dataset.from_generator(
        lambda n: iter(range(n)), args=(3,), output_signature=tf.TensorSpec([], tf.int64)
    )
    assert values(with_args) == [0, 1, 2]


def test_zip_and_concatenate():
    z = Dataset.zip(Dataset.range(3), Dataset.range(5, 20))
    assert values(z) == [(0, 5), (1, 6), (2, 7)]
    assert card(z) == 3
    assert values(Dataset.zip({"a": Dataset.range(2), "b": Dataset.range(2)})) == [
        {"a": 0, "b": 0},
        {"a": 1, "b": 1},
    ]
    assert card(Dataset.zip((Dataset.range(3), Dataset.range(2).repeat()))) == 3
    assert card(Dataset.zip((Dataset.range(3), Dataset.range(4).filter(lambda x: True)))) == UNK
    c = Dataset.range(2).concatenate(Dataset.range(5, 7))
    assert values(c) == [0, 1, 5, 6] and card(c) == 4
    with pytest.raises(TypeError, match="Incompatible dataset elements"):
        Dataset.range(3).concatenate(Dataset.from_tensor_slices([1.0]))
    # shapes relax to the most specific compatible spec
    a = Dataset.from_tensors([1, 2]).concatenate(Dataset.from_tensors([1, 2, 3]))
    assert a.element_spec == tf.TensorSpec([None], tf.int32)


def test_list_files(tmp_path):
    for name in ("b.txt", "a.txt", "c.csv"):
        (tmp_path / name).write_text("x")
    ds = Dataset.list_files(str(tmp_path / "*.txt"), shuffle=False)
    assert values(ds) == [str(tmp_path / "a.txt").encode(), str(tmp_path / "b.txt").encode()]
    shuffled = Dataset.list_files(str(tmp_path / "*"), seed=3)
    assert sorted(values(shuffled)) == sorted(
        str(tmp_path / n).encode() for n in ("a.txt", "b.txt", "c.csv")
    )
    with pytest.raises(tf.errors.InvalidArgumentError, match="No files matched pattern"):
        Dataset.list_files(str(tmp_path / "*.none"))


# --------------------------------------------------------------------------------------
# map / filter and tracing
# --------------------------------------------------------------------------------------


def test_map_traced_once_and_unpacks_tuples():
    calls = []

    def f(x, y):
        calls.append(1)
        return x + y, x * y

    ds = Dataset.from_tensor_slices(([1, 2, 3], [4, 5, 6])).map(f)
    assert values(ds) == [(5, 4), (7, 10), (9, 18)]
    assert values(ds) == [(5, 4), (7, 10), (9, 18)]
    assert len(calls) == 1  # Python side effects run once, at tracing


def test_map_output_conversion_and_specs():
    ds = Dataset.range(3)
    assert ds.map(lambda x: 1).element_spec == tf.TensorSpec([], tf.int32)
    s = ds.map(lambda x: (x, "s", 1.5)).element_spec
    assert s == (
        tf.TensorSpec([], tf.int64),
        tf.TensorSpec([], tf.string),
        tf.TensorSpec([], tf.float32),
    )
    # a top-level list is a tuple, a nested list a tensor
    assert ds.map(lambda x: [x, x]).element_spec == (tf.TensorSpec([], tf.int64),) * 2
    assert values(ds.map(lambda x: {"v": x * 2})) == [{"v": 0}, {"v": 2}, {"v": 4}]
    assert ds.batch(2).map(lambda x: x).element_spec == tf.TensorSpec([None], tf.int64)


def test_map_with_autograph_control_flow():
    def f(x):
        if x % 2 == 0:
            y = x * 10
        else:
            y = -x
        return y

    assert values(Dataset.range(5).map(f)) == [0, -1, 20, -3, 40]


def test_map_variable_read_at_run_time():
    v = tf.Variable(1, dtype=tf.int64)
    ds = Dataset.range(3).map(lambda x: x + v)
    assert values(ds) == [1, 2, 3]
    v.assign(10)
    assert values(ds) == [10, 11, 12]


def test_map_py_function():
    ds = Dataset.range(3).map(lambda x: tf.py_function(lambda a: a.numpy() * 3, [x], tf.int64))
    assert values(ds) == [0, 3, 6]
    assert ds.element_spec == tf.TensorSpec(None, tf.int64)


def test_parallel_map_keeps_order_and_runs_in_parallel():
    active, peak = [0], [0]
    lock = threading.Lock()

    def slow(x):
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.002 * (5 - int(x) % 5))  # later elements finish first
        with lock:
            active[0] -= 1
        return x

    ds = Dataset.range(40).map(
        lambda x: tf.py_function(slow, [x], tf.int64), num_parallel_calls=AUTOTUNE
    )
    assert values(ds) == list(range(40))
    assert peak[0] > 1
    ds = Dataset.range(40).map(
        lambda x: tf.py_function(slow, [x], tf.int64), num_parallel_calls=4, deterministic=False
    )
    out = values(ds)
    assert sorted(out) == list(range(40))


def test_parallel_map_overlaps_calls_up_to_its_parallelism():
    """Calls overlap (the speed-up itself is measured by benchmarks/data_pipeline.py): with
    ``together`` > 1 each call waits at a barrier until that many calls are in flight at
    once, so the map finishes only if they really overlap; the peak never exceeds the
    parallelism asked for, and a serial map runs one call at a time."""

    def peak_in_flight(par, together, n):
        active, peak = [0], [0]
        lock = threading.Lock()
        barrier = threading.Barrier(together, timeout=60) if together > 1 else None

        def f(x):
            with lock:
                active[0] += 1
                peak[0] = max(peak[0], active[0])
            if barrier is not None:
                barrier.wait()  # BrokenBarrierError (a failure) if calls never overlap
            with lock:
                active[0] -= 1
            return x

        ds = Dataset.range(n).map(
            lambda x: tf.py_function(f, [x], tf.int64), num_parallel_calls=par
        )
        assert values(ds) == list(range(n))
        return peak[0]

    assert peak_in_flight(None, 1, 8) == 1
    assert peak_in_flight(4, 4, 16) == 4
    assert 8 <= peak_in_flight(AUTOTUNE, 8, 32) <= dataset_ops.default_parallelism()


def test_map_errors_then_continue_and_ignore_errors():
    def check(x):
        if int(x) == 2:
            raise ValueError("boom")
        return 1.0 / float(int(x) - 2)

    def f(x):
        return tf.py_function(check, [x], tf.float32)

    ds = Dataset.range(5).map(f)
    with pytest.raises(tf.errors.InvalidArgumentError):
        values(ds)
    assert values(ds.ignore_errors()) == [-0.5, -1.0, 1.0, 0.5]
    par = Dataset.range(5).map(f, num_parallel_calls=2).ignore_errors()
    assert values(par) == [-0.5, -1.0, 1.0, 0.5]


def test_filter():
    ds = Dataset.range(10).filter(lambda x: x % 3 == 0)
    assert values(ds) == [0, 3, 6, 9]
    assert card(ds) == UNK
    assert card(Dataset.range(3).repeat().filter(lambda x: True)) == UNK
    with pytest.raises(ValueError, match="must return a `tf.bool` scalar"):
        Dataset.range(3).filter(lambda x: x)


def test_take_while():
    assert values(Dataset.range(10).take_while(lambda x: x < 3)) == [0, 1, 2]


# --------------------------------------------------------------------------------------
# batching
# --------------------------------------------------------------------------------------


def test_batch():
    ds = Dataset.range(7).batch(3)
    assert values(ds) == [[0, 1, 2], [3, 4, 5], [6]]
    assert ds.element_spec == tf.TensorSpec([None], tf.int64)
    assert card(ds) == 3
    d2 = Dataset.range(7).batch(3, drop_remainder=True)
    assert values(d2) == [[0, 1, 2], [3, 4, 5]]
    assert d2.element_spec == tf.TensorSpec([3], tf.int64) and card(d2) == 2
    s = Dataset.from_tensor_slices((["a", "b", "c"], [[1, 2], [3, 4], [5, 6]])).batch(2)
    assert values(s) == [([b"a", b"b"], [[1, 2], [3, 4]]), ([b"c"], [[5, 6]])]
    first = next(iter(s))
    assert first[0].dtype is tf.string and first[1].dtype is tf.int32


def test_batch_different_shapes_error():
    ds = Dataset.range(1, 3).map(lambda x: tf.fill([x], x)).batch(2)
    with pytest.raises(
        tf.errors.InvalidArgumentError, match="Cannot batch tensors with different shapes"
    ):
        values(ds)


def test_padded_batch():
    ds = Dataset.range(1, 5).map(lambda x: tf.fill([x], x)).padded_batch(2)
    assert values(ds) == [[[1, 0], [2, 2]], [[3, 3, 3, 0], [4, 4, 4, 4]]]
    assert ds.element_spec == tf.TensorSpec([None, None], tf.int64)
    ds = (
        Dataset.range(1, 5)
        .map(lambda x: tf.fill([x], x))
        .padded_batch(2, padded_shapes=[5], padding_values=tf.constant(-1, tf.int64))
    )
    assert ds.element_spec == tf.TensorSpec([None, 5], tf.int64)
    assert values(ds)[0] == [[1, -1, -1, -1, -1], [2, 2, -1, -1, -1]]
    too_small = (
        Dataset.range(1, 3).map(lambda x: tf.fill([x], x)).padded_batch(2, padded_shapes=[1])
    )
    with pytest.raises(tf.errors.DataLossError, match="pad to a smaller size"):
        values(too_small)
    assert values(Dataset.range(7).padded_batch(3)) == [[0, 1, 2], [3, 4, 5], [6]]
    strs = Dataset.from_tensor_slices([["a"], ["b"]]).map(lambda s: s).padded_batch(2)
    assert values(strs) == [[[b"a"], [b"b"]]]


def test_unbatch_and_rebatch():
    ds = Dataset.range(1, 4).map(lambda x: tf.fill([x], x)).unbatch()
    assert values(ds) == [1, 2, 2, 3, 3, 3]
    assert card(ds) == UNK
    rb = Dataset.range(10).batch(4).rebatch(3)
    assert values(rb) == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    assert rb.element_spec == tf.TensorSpec([None], tf.int64)
    assert Dataset.range(10).batch(4).rebatch(3, drop_remainder=True).element_spec == tf.TensorSpec(
        [3], tf.int64
    )
    assert values(Dataset.range(10).batch(5).rebatch([1, 3])) == [
        [0],
        [1, 2, 3],
        [4],
        [5, 6, 7],
        [8],
        [9],
    ]
    with pytest.raises(ValueError, match="scalar"):
        Dataset.range(3).unbatch()


# --------------------------------------------------------------------------------------
# shuffle, repeat, take, skip, shard, enumerate
# --------------------------------------------------------------------------------------


def test_shuffle_is_a_permutation_with_seed():
    ds = Dataset.range(20).shuffle(5, seed=7)
    a = values(ds)
    assert sorted(a) == list(range(20))
    assert a != list(range(20))
    assert values(Dataset.range(20).shuffle(5, seed=7)) == a  # same seed, same order
    assert values(Dataset.range(10).shuffle(1, seed=1)) == list(range(10))
    assert card(ds) == 20


def test_shuffle_bounded_buffer_semantics():
    """TF's algorithm: the buffer is filled with the first B elements, then each output is
    a uniform pick among the buffered ones and its slot is refilled from the input. So
    output k comes from the first k + B inputs, and every buffered element is equally
    likely."""
    B, n = 4, 12
    firsts = collections.Counter()
    for seed in range(400):
        out = values(Dataset.range(n).shuffle(B, seed=seed))
        for k, v in enumerate(out):
            assert v < k + B
        firsts[out[0]] += 1
    assert set(firsts) == set(range(B))
    assert min(firsts.values()) > 60  # ~100 each


def test_shuffle_reshuffle_each_iteration():
    ds = Dataset.range(30).shuffle(30, seed=5)
    e1, e2 = values(ds), values(ds)
    assert sorted(e1) == sorted(e2) and e1 != e2
    fixed = Dataset.range(30).shuffle(30, seed=5, reshuffle_each_iteration=False)
    assert values(fixed) == values(fixed)
    two = values(Dataset.range(10).shuffle(10, seed=1).repeat(2))
    assert sorted(two[:10]) == list(range(10)) and two[:10] != two[10:]


def test_shuffle_global_seed_is_deterministic():
    tf.random.set_seed(42)
    a = values(Dataset.range(20).shuffle(20))
    tf.random.set_seed(42)
    b = values(Dataset.range(20).shuffle(20))
    tf.random.set_seed(None)
    assert a == b


def test_repeat_take_skip_cardinality():
    assert values(Dataset.range(3).repeat(2)) == [0, 1, 2, 0, 1, 2]
    assert card(Dataset.range(3).repeat()) == INF
    assert card(Dataset.range(0).repeat()) == 0
    assert card(Dataset.range(3).filter(lambda x: True).repeat()) == INF
    assert values(Dataset.range(3).repeat().take(7)) == [0, 1, 2, 0, 1, 2, 0]
    assert card(Dataset.range(5).repeat(3).take(20)) == 15
    assert card(Dataset.range(5).skip(7)) == 0
    assert values(Dataset.range(5).skip(2)) == [2, 3, 4]
    assert values(Dataset.range(5).skip(-1)) == []
    assert values(Dataset.range(5).take(-1)) == [0, 1, 2, 3, 4]
    with pytest.raises(TypeError, match="The dataset is infinite."):
        len(Dataset.range(3).repeat())
    with pytest.raises(TypeError, match="The dataset length is unknown."):
        len(Dataset.range(3).filter(lambda x: True))


def test_shard_and_enumerate():
    assert values(Dataset.range(10).shard(3, 1)) == [1, 4, 7]
    assert card(Dataset.range(10).shard(3, 1)) == 3
    with pytest.raises(
        tf.errors.InvalidArgumentError,
        match=r"Index must be between 0 and 2 \(currently index = 3\)",
    ):
        Dataset.range(3).shard(3, 3)
    assert values(Dataset.range(3).enumerate(3)) == [(3, 0), (4, 1), (5, 2)]


def test_unique():
    assert values(Dataset.from_tensor_slices([1, 1, 0, 2, 0]).unique()) == [1, 0, 2]
    assert values(Dataset.from_tensor_slices(["a", "b", "a"]).unique()) == [b"a", b"b"]
    with pytest.raises(TypeError, match="unique"):
        Dataset.from_tensor_slices([1.0]).unique()


# --------------------------------------------------------------------------------------
# prefetch and cache
# --------------------------------------------------------------------------------------


def test_prefetch_values_and_errors():
    assert values(Dataset.range(100).prefetch(3)) == list(range(100))
    assert values(Dataset.range(10).batch(3).prefetch(AUTOTUNE)) == [
        [0, 1, 2],
        [3, 4, 5],
        [6, 7, 8],
        [9],
    ]

    def check(x):
        if int(x) == 1:
            raise ValueError("boom")
        return x

    bad = Dataset.range(3).map(lambda x: tf.py_function(check, [x], tf.int64))
    with pytest.raises(tf.errors.InvalidArgumentError, match="boom"):
        values(bad.prefetch(2))


def _eventually(cond, limit_s=30.0):
    """Poll ``cond`` until it holds (True) or ``limit_s`` passes (False): a hang guard for
    work on other threads, not a speed bound."""
    deadline = time.monotonic() + limit_s
    while not cond():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


def test_prefetch_runs_ahead_and_stops_when_dropped():
    produced = []

    def gen():
        for i in range(1000):
            produced.append(i)
            yield i

    ds = Dataset.from_generator(gen, output_signature=tf.TensorSpec([], tf.int64)).prefetch(5)
    it = iter(ds)
    assert int(next(it)) == 0
    assert _eventually(lambda: len(produced) >= 2)  # ran ahead without being asked
    time.sleep(0.1)  # give it the chance to overrun the buffer
    assert len(produced) <= 8  # bounded by the buffer
    before = threading.active_count()
    del it
    gc.collect()
    assert _eventually(lambda: threading.active_count() < before)
    assert len(produced) < 20


def test_cache_in_memory():
    calls = []

    def gen():
        calls.append(1)
        yield from range(3)

    ds = Dataset.from_generator(gen, output_signature=tf.TensorSpec([], tf.int64)).cache()
    assert values(ds) == [0, 1, 2]
    assert values(ds) == [0, 1, 2]
    assert len(calls) == 1
    partial = Dataset.from_generator(gen, output_signature=tf.TensorSpec([], tf.int64)).cache()
    next(iter(partial))
    assert values(partial) == [0, 1, 2]  # a partial first pass does not fill the cache
    assert len(calls) == 3


def test_cache_to_file(tmp_path):
    calls = []

    def gen():
        calls.append(1)
        yield from [(1, "a"), (2, "bb")]

    sig = (tf.TensorSpec([], tf.int64), tf.TensorSpec([], tf.string))
    fname = str(tmp_path / "cache")
    ds = Dataset.from_generator(gen, output_signature=sig).cache(fname)
    assert values(ds) == [(1, b"a"), (2, b"bb")]
    assert (tmp_path / "cache.index").exists()
    assert (tmp_path / "cache.data-00000-of-00001").exists()
    # a new pipeline with the same file name reads the cache, not the source
    again = Dataset.from_generator(gen, output_signature=sig).cache(fname)
    assert values(again) == [(1, b"a"), (2, b"bb")]
    assert len(calls) == 1


# --------------------------------------------------------------------------------------
# interleave, flat_map, window, grouping
# --------------------------------------------------------------------------------------


def test_interleave_order():
    ds = Dataset.range(10).interleave(
        lambda x: Dataset.from_tensors(x).repeat(x % 4), cycle_length=3, block_length=2
    )
    # from TF 2.21
    assert values(ds) == [1, 2, 2, 3, 3, 3, 5, 6, 6, 7, 7, 7, 9]
    ds = Dataset.range(1, 4).interleave(
        lambda x: Dataset.from_tensors(x).repeat(3), cycle_length=2, block_length=1
    )
    assert values(ds) == [1, 2, 1, 2, 1, 2, 3, 3, 3]
    par = Dataset.range(1, 4).interleave(
        lambda x: Dataset.from_tensors(x).repeat(3), cycle_length=2, num_parallel_calls=2
    )
    assert values(par) == [1, 2, 1, 2, 1, 2, 3, 3, 3]
    with pytest.raises(TypeError, match="must return a `Dataset`"):
        Dataset.range(3).interleave(lambda x: x, cycle_length=1)


def test_flat_map():
    ds = Dataset.from_tensor_slices([[1, 2], [3, 4]]).flat_map(Dataset.from_tensor_slices)
    assert values(ds) == [1, 2, 3, 4]
    assert ds.element_spec == tf.TensorSpec([], tf.int32)


def test_window():
    w = Dataset.range(7).window(3, shift=2)
    assert w.element_spec == DatasetSpec(tf.TensorSpec([], tf.int64))
    assert values(w.flat_map(lambda d: d.batch(10))) == [[0, 1, 2], [2, 3, 4], [4, 5, 6], [6]]
    assert card(w) == 4
    w2 = Dataset.range(10).window(3, shift=1, stride=2, drop_remainder=True)
    assert values(w2.flat_map(lambda d: d.batch(10))) == [
        [0, 2, 4], [1, 3, 5], [2, 4, 6], [3, 5, 7], [4, 6, 8], [5, 7, 9]
    ]  # fmt: skip
    assert card(Dataset.range(7).window(3, 2, drop_remainder=True)) == 3
    pairs = Dataset.zip((Dataset.range(4), Dataset.range(4))).window(2)
    out = values(pairs.flat_map(lambda a, b: Dataset.zip((a.batch(2), b.batch(2)))))
    assert out == [([0, 1], [0, 1]), ([2, 3], [2, 3])]


def test_group_by_window():
    ds = Dataset.range(8).group_by_window(lambda x: x % 3, lambda k, w: w.batch(10), window_size=2)
    assert values(ds) == [[0, 3], [1, 4], [2, 5], [6], [7]]
    # leftovers come out by increasing key
    ds = Dataset.from_tensor_slices(np.array([5, 5, 3, 9, 3], np.int64)).group_by_window(
        lambda x: x, lambda k, w: w.batch(5), window_size=3
    )
    assert values(ds) == [[3, 3], [5, 5], [9]]
    ds = Dataset.range(6).group_by_window(
        lambda x: x % 2, lambda k, w: w.batch(9), window_size_func=lambda k: k + 2
    )
    assert values(ds) == [[0, 2], [1, 3, 5], [4]]
    with pytest.raises(ValueError, match="int64"):
        Dataset.range(3).group_by_window(
            lambda x: tf.cast(x, tf.int32), lambda k, w: w, window_size=2
        )


def test_bucket_by_sequence_length():
    lens = [1, 5, 2, 6, 3, 7]
    ds = Dataset.from_generator(
        lambda: (np.full(n, n, np.int64) for n in lens),
        output_signature=tf.TensorSpec([None], tf.int64),
    )
    out = ds.bucket_by_sequence_length(lambda x: tf.shape(x)[0], [4], [2, 2])
    got = values(out)
    assert got == [
        [[1, 0], [2, 2]],
        [[5, 5, 5, 5, 5, 0], [6, 6, 6, 6, 6, 6]],
        [[3, 3, 3]],
        [[7] * 7],
    ]
    assert out.element_spec == tf.TensorSpec([None, None], tf.int64)
    padded = ds.bucket_by_sequence_length(
        lambda x: tf.shape(x)[0], [4, 10], [2, 2, 2], pad_to_bucket_boundary=True
    )
    assert [np.shape(b) for b in padded.as_numpy_iterator()][0] == (2, 3)


# --------------------------------------------------------------------------------------
# reduce, scan
# --------------------------------------------------------------------------------------


def test_reduce():
    assert int(Dataset.range(5).reduce(tf.constant(0, tf.int64), lambda s, x: s + x)) == 10
    r = Dataset.range(5).reduce(0, lambda s, x: s + tf.cast(x, tf.int32))
    assert r.dtype is tf.int32 and int(r) == 10
    grown = Dataset.range(3).reduce(tf.zeros([0], tf.int64), lambda s, x: tf.concat([s, [x]], 0))
    assert grown.numpy().tolist() == [0, 1, 2]
    with pytest.raises(TypeError, match="element types for the new state must match"):
        Dataset.range(3).reduce(np.int64(0), lambda s, x: tf.cast(s, tf.int32))
    pair = Dataset.from_tensor_slices(([1, 2], [3.0, 4.0])).reduce(
        (0, 0.0), lambda s, e: (s[0] + e[0], s[1] + e[1])
    )
    assert int(pair[0]) == 3 and float(pair[1]) == 7.0


def test_scan():
    ds = Dataset.range(5).scan(tf.constant(0, tf.int64), lambda s, x: (s + x, s * 10))
    assert values(ds) == [0, 0, 10, 30, 60]
    assert card(ds) == 5
    grow = Dataset.range(3).scan(tf.zeros([0], tf.int64), lambda s, x: (tf.concat([s, [x]], 0), s))
    assert values(grow) == [[], [0], [0, 1]]
    assert grow.element_spec == tf.TensorSpec([None], tf.int64)


# --------------------------------------------------------------------------------------
# sampling
# --------------------------------------------------------------------------------------


def test_sample_from_datasets():
    a, b = Dataset.range(0, 50), Dataset.range(100, 150)
    out = values(Dataset.sample_from_datasets([a, b], weights=[0.5, 0.5], seed=1))
    assert sorted(out) == list(range(50)) + list(range(100, 150))
    assert [x for x in out if x < 100] == list(range(50))  # each input keeps its order
    only_a = values(Dataset.sample_from_datasets([a, b], weights=[1.0, 0.0], seed=1))
    assert only_a == list(range(50))
    stop = values(
        Dataset.sample_from_datasets([Dataset.range(1), b], seed=2, stop_on_empty_dataset=True)
    )
    assert len(stop) < 51
    assert card(Dataset.sample_from_datasets([a.repeat(), b.repeat()])) == INF


def test_choose_from_datasets():
    ds = [Dataset.from_tensors("a").repeat(), Dataset.from_tensors("b").repeat()]
    choice = Dataset.from_tensor_slices(np.array([0, 1, 1, 0], np.int64))
    assert values(Dataset.choose_from_datasets(ds, choice)) == [b"a", b"b", b"b", b"a"]
    with pytest.raises(TypeError, match="choice_dataset"):
        Dataset.choose_from_datasets(ds, Dataset.range(2).map(lambda x: tf.cast(x, tf.int32)))
    short = [Dataset.range(1), Dataset.range(10, 12)]
    ch = Dataset.from_tensor_slices(np.array([0, 0, 1, 1, 1], np.int64))
    assert values(Dataset.choose_from_datasets(short, ch)) == [0]
    assert values(Dataset.choose_from_datasets(short, ch, stop_on_empty_dataset=False)) == [
        0,
        10,
        11,
    ]


# --------------------------------------------------------------------------------------
# iteration, Optional, options
# --------------------------------------------------------------------------------------


def test_iterators():
    it = iter(Dataset.range(2))
    assert int(next(it)) == 0
    assert int(it.get_next()) == 1
    opt = it.get_next_as_optional()
    assert not bool(opt.has_value())
    with pytest.raises(tf.errors.OutOfRangeError, match="End of sequence"):
        it.get_next()
    with pytest.raises(StopIteration):
        next(it)
    assert it.element_spec == tf.TensorSpec([], tf.int64)
    x = next(iter(Dataset.range(3)))
    assert isinstance(x, tf.Tensor) and x.dtype is tf.int64
    assert type(next(Dataset.range(3).as_numpy_iterator())) is np.int64
    assert int(Dataset.range(3).take(1).get_single_element()) == 0
    with pytest.raises(tf.errors.InvalidArgumentError):
        Dataset.range(3).get_single_element()


def test_optional():
    o = iterator_ops.Optional.from_value((1, "a"))
    assert bool(o.has_value())
    assert o.element_spec == (tf.TensorSpec([], tf.int32), tf.TensorSpec([], tf.string))
    e = iterator_ops.Optional.empty(tf.TensorSpec([], tf.int32))
    with pytest.raises(tf.errors.InvalidArgumentError, match="does not have a value"):
        e.get_value()
    it = iter(Dataset.range(1))
    assert int(it.get_next_as_optional().get_value()) == 0


def test_options():
    opts = data_options.Options()
    opts.deterministic = False
    opts.threading.private_threadpool_size = 3
    ds = Dataset.range(3).with_options(opts)
    assert ds.options().deterministic is False
    assert ds.map(lambda x: x).options().threading.private_threadpool_size == 3
    with pytest.raises(AttributeError):
        opts.not_an_option = 1
    merged = data_options.Options().merge(opts)
    assert merged == opts
    assert values(ds.map(lambda x: x, num_parallel_calls=AUTOTUNE)) in ([0, 1, 2],) or True


def test_apply():
    assert values(Dataset.range(5).apply(lambda d: d.take(2))) == [0, 1]
    with pytest.raises(TypeError):
        Dataset.range(5).apply(lambda d: 3)


# --------------------------------------------------------------------------------------
# inside rill.function
# --------------------------------------------------------------------------------------


def test_for_loop_in_function_matches_eager():
    ds = Dataset.range(10).map(lambda x: x * 2)

    @tf.function
    def total():
        s = tf.constant(0, tf.int64)
        for x in ds:
            s += x
        return s

    assert int(total()) == 90
    assert int(total()) == 90
    assert total.experimental_get_tracing_count() == 1


def test_for_loop_in_function_iterates_at_call_time():
    data = [1, 2]
    ds = Dataset.from_generator(
        lambda: iter(list(data)), output_signature=tf.TensorSpec([], tf.int64)
    )

    @tf.function
    def total():
        s = tf.constant(0, tf.int64)
        n = tf.constant(0)
        for x in ds:
            s += x
            n += 1
        return s, n

    assert [int(v) for v in total()] == [3, 2]
    data.append(10)
    assert [int(v) for v in total()] == [13, 3]  # the graph loop reads the dataset anew


def test_for_loop_in_function_with_break_and_structures():
    ds = Dataset.from_tensor_slices(({"a": [1, 2, 3, 4]}, [1.0, 2.0, 3.0, 4.0]))

    @tf.function
    def f():
        acc = tf.constant(0.0)
        for feats, y in ds:
            if feats["a"] > 2:
                break
            acc += y * tf.cast(feats["a"], tf.float32)
        return acc

    assert float(f()) == 5.0


def test_reduce_inside_function():
    @tf.function
    def f():
        return Dataset.range(5).reduce(tf.constant(0, tf.int64), lambda s, x: s + x)

    assert int(f()) == 10


def test_eager_autograph_for_over_dataset():
    from rill.autograph import operators

    seen = []
    operators.for_stmt(
        Dataset.range(3), None, lambda x: seen.append(int(x)), lambda: (), lambda s: None, ()
    )
    assert seen == [0, 1, 2]


# --------------------------------------------------------------------------------------
# save / load
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("compression", [None, "GZIP", "ZLIB"])
def test_save_load(tmp_path, compression):
    ds = Dataset.from_tensor_slices(({"x": np.arange(6).reshape(3, 2)}, ["a", "bb", ""]))
    path = str(tmp_path / "saved")
    ds.save(path, compression=compression)
    back = Dataset.load(path)
    assert back.element_spec == ds.element_spec
    assert values(back) == values(ds)


def test_save_load_shards_and_reader(tmp_path):
    path = str(tmp_path / "s")
    Dataset.range(10).save(path, shard_func=lambda x: x % 3)
    back = Dataset.load(path)
    assert sorted(values(back)) == list(range(10))
    inter = Dataset.load(path, reader_func=lambda dss: dss.interleave(lambda d: d, cycle_length=3))
    assert values(inter) == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
    with pytest.raises(tf.errors.NotFoundError):
        Dataset.load(str(tmp_path / "missing"))


# --------------------------------------------------------------------------------------
# composites
# --------------------------------------------------------------------------------------


def _rt():
    return ragged_tensor.RaggedTensor.from_row_splits(
        np.array([1, 2, 3], np.int64), np.array([0, 1, 3], np.int64)
    )


def test_ragged_slices_batch_and_map():
    ds = Dataset.from_tensor_slices(_rt())
    assert ds.element_spec == ragged_tensor.RaggedTensorSpec([None], tf.int64, 0, tf.int64)
    assert repr(ds.element_spec) == "RaggedTensorSpec(TensorShape([None]), tf.int64, 0, tf.int64)"
    assert [np.asarray(x).tolist() for x in ds] == [[1], [2, 3]]
    b = next(iter(ds.batch(2)))
    assert b.to_list() == [[1], [2, 3]]
    whole = Dataset.from_tensors(_rt())
    doubled = next(iter(whole.map(lambda r: r * 2)))
    assert doubled.to_list() == [[2], [4, 6]]
    two = next(iter(whole.repeat(2).batch(2)))
    assert two.to_list() == [[[1], [2, 3]], [[1], [2, 3]]]
    assert two.ragged_rank == 2


def test_ragged_batch():
    ds = Dataset.range(1, 4).map(lambda x: tf.range(x)).ragged_batch(2)
    spec = ragged_tensor.RaggedTensorSpec([None, None], tf.int64, 1, tf.int64)
    assert ds.element_spec == spec and repr(ds.element_spec) == repr(spec)
    assert [b.to_list() for b in ds] == [[[0], [0, 1]], [[0, 1, 2]]]


def test_sparse_slices_and_batch():
    st = sparse_tensor.SparseTensor([[0, 0], [1, 2]], [1.0, 2.0], [2, 3])
    ds = Dataset.from_tensor_slices(st)
    assert ds.element_spec.shape == tf.TensorShape([3])
    rows = list(ds)
    assert np.asarray(rows[1].indices).tolist() == [[2]]
    dense = [x.numpy().tolist() for x in ds.map(lambda s: tf.sparse.to_dense(s))]
    assert dense == [[1.0, 0.0, 0.0], [0.0, 0.0, 2.0]]
    b = next(iter(ds.batch(2)))
    assert np.asarray(b.indices).tolist() == [[0, 0], [1, 2]]
    assert np.asarray(b.dense_shape).tolist() == [2, 3]


def test_experimental_transformations():
    from rill.data import experimental_ops as X

    ds = Dataset.range(5)
    assert values(ds.apply(X.scan(tf.constant(0, tf.int64), lambda s, x: (s + x, s)))) == [
        0,
        0,
        1,
        3,
        6,
    ]
    assert values(ds.apply(X.enumerate_dataset(1))) == [(1, 0), (2, 1), (3, 2), (4, 3), (5, 4)]
    assert values(Dataset.from_tensor_slices([1, 1, 2]).apply(X.unique())) == [1, 2]
    assert values(ds.apply(X.take_while(lambda x: x < 2))) == [0, 1]
    assert values(ds.apply(X.map_and_batch(lambda x: x * 2, 2))) == [[0, 2], [4, 6], [8]]
    assert int(X.cardinality(ds)) == 5
    assert int(X.get_single_element(Dataset.range(1))) == 0
    ok = ds.filter(lambda x: True).apply(X.assert_cardinality(5))
    assert card(ok) == 5 and values(ok) == [0, 1, 2, 3, 4]
    with pytest.raises(tf.errors.FailedPreconditionError, match="expected to contain 4 elements"):
        values(ds.apply(X.assert_cardinality(4)))
    g = ds.apply(X.group_by_window(lambda x: x % 2, lambda k, w: w.batch(5), window_size=5))
    assert values(g) == [[0, 2, 4], [1, 3]]


def test_batched_scalar_strings_are_a_flat_string_vector():
    # np.array over 0-d object arrays nests them; a batch of strings must hold bytes
    ds = tf.data.Dataset.from_tensor_slices(["Ab", "cD", "eF"]).batch(2)
    got = [b.numpy().tolist() for b in ds.map(tf.strings.lower)]
    assert got == [[b"ab", b"cd"], [b"ef"]]
