"""tf.queue: FIFOQueue, RandomShuffleQueue, PaddingFIFOQueue, PriorityQueue.

Semantics (return structures, blocking, closing, errors) follow TF 2.21's eager queues,
checked against the reference install. Every call that could block passes a ``timeout``
(rill's extension) so that a bug fails the test instead of hanging it.
"""

import random
import threading
import time

import numpy as np
import pytest

import rill as tf
from rill.structures import queues as Q

T = 10.0  # generous per-call timeout: only reached when something is broken
errors = tf.errors


def fifo(*args, **kw):
    return Q.FIFOQueue(*args, **kw)


# --------------------------------------------------------------------------------------
# construction and properties
# --------------------------------------------------------------------------------------


def test_properties_and_structure_arguments():
    q = fifo(3, tf.int32)
    assert q.dtypes == [tf.int32] and q.names is None and q.name == "fifo_queue"
    assert q.shapes[0].rank is None
    q = fifo(3, [tf.int32, tf.float32], shapes=[[], [2]], name="q")
    assert q.shapes == [tf.TensorShape([]), tf.TensorShape([2])] and q.name == "q"
    # a flat list of ints is one shape
    assert fifo(3, tf.int32, shapes=[2]).shapes == [tf.TensorShape([2])]
    assert fifo(3, [tf.int32, tf.int32], names=("a", "b")).names == ["a", "b"]
    with pytest.raises(ValueError, match="fully defined"):
        fifo(3, tf.int32, shapes=[[None]])
    with pytest.raises(ValueError, match="same length"):
        fifo(3, [tf.int32, tf.int32], names=["a"])
    with pytest.raises(errors.InvalidArgumentError, match="number of component"):
        fifo(3, [tf.int32, tf.int32], shapes=[[]])
    with pytest.raises(TypeError):
        fifo(3, {"a": tf.int32})


def test_exported_names():
    from rill.ops._op import EXPORTS

    names = {n for (ns, n) in EXPORTS if ns == "queue"}
    assert {
        "FIFOQueue",
        "RandomShuffleQueue",
        "PaddingFIFOQueue",
        "PriorityQueue",
        "QueueBase",
    } <= names


# --------------------------------------------------------------------------------------
# FIFOQueue
# --------------------------------------------------------------------------------------


def test_fifo_enqueue_dequeue_order_and_size():
    q = fifo(10, tf.int32, shapes=[[]])
    q.enqueue(1)
    q.enqueue([2])  # a list is one value per component
    q.enqueue_many([[3, 4, 5]])
    assert q.size().numpy() == 5 and q.size().dtype == tf.int32
    d = q.dequeue()
    assert isinstance(d, tf.Tensor) and d.dtype == tf.int32 and d.shape == () and int(d) == 1
    many = q.dequeue_many(3)
    assert many.shape == (3,) and many.numpy().tolist() == [2, 3, 4]
    assert q.dequeue_up_to(1).numpy().tolist() == [5]
    assert q.size().numpy() == 0


def test_multi_component_returns_list_and_names_return_dict():
    q = fifo(5, [tf.int32, tf.float32], shapes=[[], [2]])
    q.enqueue((1, [1.0, 2.0]))
    q.enqueue_many(([2, 3], [[3.0, 4.0], [5.0, 6.0]]))
    a, b = q.dequeue()
    assert int(a) == 1 and b.numpy().tolist() == [1.0, 2.0] and b.dtype == tf.float32
    a, b = q.dequeue_many(2)
    assert a.numpy().tolist() == [2, 3] and b.shape == (2, 2)

    q = fifo(5, [tf.int32, tf.string], shapes=[[], []], names=["a", "b"])
    q.enqueue({"a": 1, "b": "x"})
    q.enqueue_many({"a": [2, 3], "b": ["y", "z"]})
    out = q.dequeue()
    assert set(out) == {"a", "b"} and int(out["a"]) == 1 and out["b"].numpy() == b"x"
    out = q.dequeue_many(2)
    assert out["b"].numpy().tolist() == [b"y", b"z"]
    with pytest.raises(ValueError, match="must enqueue a dictionary"):
        q.enqueue((1, "x"))
    with pytest.raises(ValueError, match="do not match names"):
        q.enqueue({"a": 1})
    with pytest.raises(ValueError, match="must have names"):
        fifo(5, tf.int32).enqueue({"a": 1})


def test_single_dtype_list_queue_returns_a_tensor():
    q = fifo(5, [tf.int32], shapes=[[]])
    q.enqueue(3)
    assert isinstance(q.dequeue(), tf.Tensor)
    q = fifo(5, [tf.int32], shapes=[[]], names=["a"])
    q.enqueue({"a": 3})
    assert int(q.dequeue()["a"]) == 3


def test_enqueue_checks_dtypes_shapes_and_components():
    q = fifo(5, [tf.int32, tf.float32], shapes=[[], [2]])
    with pytest.raises(ValueError, match=r"Shapes \(3,\) and \(2,\) are incompatible"):
        q.enqueue((1, [1.0, 2.0, 3.0]))
    with pytest.raises(errors.InvalidArgumentError, match="component"):
        q.enqueue(1)
    with pytest.raises(ValueError, match="Dimensions 3 and 2 are not compatible"):
        q.enqueue_many(([1, 2, 3], [[1.0, 2.0], [3.0, 4.0]]))
    with pytest.raises(TypeError):
        fifo(5, tf.int32).enqueue(1.5)
    with pytest.raises(TypeError):
        fifo(5, tf.int32).enqueue("a")
    with pytest.raises(ValueError, match="requested dtype int64"):
        fifo(5, tf.int64).enqueue(tf.constant(1, tf.int32))
    with pytest.raises(ValueError, match="rank at least 1"):
        fifo(5, tf.int32).enqueue_many(1)
    with pytest.raises(errors.InvalidArgumentError, match="2 component"):
        fifo(5, tf.int32).enqueue([1, 2])  # TF reads a list as components
    q = fifo(5, tf.int32, shapes=[[2]])
    with pytest.raises(ValueError, match=r"Shapes \(\) and \(2,\)"):
        q.enqueue_many([[1, 2, 3]])
    q.enqueue_many(np.zeros([0, 2], np.int32))  # an empty batch is fine
    assert q.size().numpy() == 0


def test_dequeue_many_needs_shapes_and_non_negative_n():
    q = fifo(5, tf.int32)
    q.enqueue(1)
    with pytest.raises(errors.InvalidArgumentError, match="specified shapes"):
        q.dequeue_many(1)
    with pytest.raises(errors.InvalidArgumentError, match="specified shapes"):
        q.dequeue_up_to(1)
    q = fifo(5, tf.int32, shapes=[[2]])
    with pytest.raises(errors.InvalidArgumentError, match="-1 < 0"):
        q.dequeue_many(-1)
    empty = q.dequeue_many(0)
    assert empty.shape == (0, 2) and empty.dtype == tf.int32


def test_close_semantics():
    q = fifo(5, tf.int32, shapes=[[]])
    q.enqueue_many([[1, 2, 3]])
    assert not bool(q.is_closed())
    q.close()
    assert bool(q.is_closed()) and q.is_closed().dtype == tf.bool
    with pytest.raises(errors.CancelledError, match="is closed"):
        q.enqueue(4)
    with pytest.raises(errors.CancelledError):
        q.enqueue_many([[4]])
    # dequeue_many with too few elements fails and leaves them in the queue
    with pytest.raises(errors.OutOfRangeError, match=r"insufficient elements \(requested 5"):
        q.dequeue_many(5)
    assert q.size().numpy() == 3
    assert int(q.dequeue()) == 1
    assert q.dequeue_up_to(5).numpy().tolist() == [2, 3]
    with pytest.raises(errors.OutOfRangeError):
        q.dequeue_up_to(5)
    with pytest.raises(errors.OutOfRangeError):
        q.dequeue()
    assert q.dequeue_many(0).shape == (0,)


def test_close_wakes_blocked_dequeue():
    q = fifo(5, tf.int32, shapes=[[]])
    q.enqueue(7)
    out = {}

    def consumer():
        try:
            out["v"] = q.dequeue_many(3, timeout=T)
        except Exception as e:  # noqa: BLE001
            out["e"] = e

    th = threading.Thread(target=consumer, daemon=True)
    th.start()
    time.sleep(0.05)
    q.close()
    th.join(T)
    assert isinstance(out.get("e"), errors.OutOfRangeError)
    assert int(q.dequeue(timeout=T)) == 7  # the partial batch went back


def test_capacity_blocks_and_cancel_pending_enqueues():
    q = fifo(2, tf.int32, shapes=[[]])
    q.enqueue_many([[1, 2]])
    with pytest.raises(errors.DeadlineExceededError, match="0 of 1"):
        q.enqueue(3, timeout=0.05)
    out = {}

    def producer():
        try:
            q.enqueue_many([[3, 4, 5]], timeout=T)
        except Exception as e:  # noqa: BLE001
            out["e"] = e

    th = threading.Thread(target=producer, daemon=True)
    th.start()
    assert int(q.dequeue(timeout=T)) == 1  # makes room for 3
    time.sleep(0.05)
    q.close(cancel_pending_enqueues=True)
    th.join(T)
    assert not th.is_alive()
    assert isinstance(out.get("e"), errors.CancelledError)
    assert q.dequeue_up_to(10, timeout=T).numpy().tolist() == [2, 3]


def test_close_without_cancel_lets_pending_enqueue_finish():
    q = fifo(1, tf.int32, shapes=[[]])
    q.enqueue(1)
    th = threading.Thread(target=lambda: q.enqueue(2, timeout=T), daemon=True)
    th.start()
    time.sleep(0.05)
    q.close()
    assert int(q.dequeue(timeout=T)) == 1
    th.join(T)
    assert int(q.dequeue(timeout=T)) == 2


def test_batch_larger_than_capacity():
    q = fifo(3, tf.int64, shapes=[[]])
    th = threading.Thread(target=lambda: q.enqueue_many([np.arange(10)], timeout=T), daemon=True)
    th.start()
    got = q.dequeue_many(10, timeout=T)
    th.join(T)
    assert got.numpy().tolist() == list(range(10))


def test_timeouts_raise_deadline_exceeded():
    q = fifo(2, tf.int32, shapes=[[]])
    out = {}

    def blocked_dequeue():  # on a thread: a timeout that is never honoured fails, not hangs
        try:
            q.dequeue(timeout=0.05)
        except Exception as e:  # noqa: BLE001
            out["e"] = e

    th = threading.Thread(target=blocked_dequeue, daemon=True)
    th.start()
    th.join(60)  # a hang guard, not a speed bound (benchmarks/suite_timings.py times it)
    assert not th.is_alive(), "dequeue(timeout=0.05) on an empty queue never returned"
    assert isinstance(out.get("e"), errors.DeadlineExceededError)
    assert "timed out" in str(out["e"])
    q.enqueue(1)
    with pytest.raises(errors.DeadlineExceededError):
        q.dequeue_many(2, timeout=0.05)
    assert q.size().numpy() == 1  # what the failed call had taken is back
    with pytest.raises(errors.DeadlineExceededError):
        q.dequeue_up_to(2, timeout=0.05)  # open queue: waits for 2
    assert isinstance(errors.DeadlineExceededError("x"), TimeoutError)
    with pytest.raises(ValueError, match="timeout"):
        q.dequeue(timeout=-1)


def test_unbounded_capacity():
    q = fifo(-1, tf.int32, shapes=[[]])
    q.enqueue_many([np.arange(1000, dtype=np.int32)], timeout=T)
    assert q.size().numpy() == 1000


# --------------------------------------------------------------------------------------
# RandomShuffleQueue
# --------------------------------------------------------------------------------------


def test_random_shuffle_min_after_dequeue_and_close():
    q = Q.RandomShuffleQueue(10, 2, tf.int32, shapes=[[]], seed=3)
    assert q.name == "random_shuffle_queue"
    q.enqueue_many([[1, 2, 3, 4, 5]])
    got = [int(q.dequeue(timeout=T)) for _ in range(3)]
    # two are kept back until the queue is closed
    with pytest.raises(errors.DeadlineExceededError):
        q.dequeue(timeout=0.05)
    with pytest.raises(errors.DeadlineExceededError):
        q.dequeue_many(1, timeout=0.05)
    assert q.size().numpy() == 2
    q.close()
    got += q.dequeue_up_to(5, timeout=T).numpy().tolist()
    assert sorted(got) == [1, 2, 3, 4, 5]
    with pytest.raises(errors.OutOfRangeError):
        q.dequeue()


def _drain_order(seed):
    q = Q.RandomShuffleQueue(100, 0, tf.int32, shapes=[[]], seed=seed)
    q.enqueue_many([np.arange(50, dtype=np.int32)])
    return q.dequeue_many(50).numpy().tolist()


def test_random_shuffle_seeded_and_uniform():
    a, b = _drain_order(7), _drain_order(7)
    assert a == b and sorted(a) == list(range(50)) and a != list(range(50))
    assert _drain_order(8) != a
    # uniform: with 4 elements present, each is first about a quarter of the time
    counts = np.zeros(4)
    q = Q.RandomShuffleQueue(10, 0, tf.int32, shapes=[[]], seed=1)
    for _ in range(4000):
        q.enqueue_many([[0, 1, 2, 3]])
        counts[int(q.dequeue())] += 1
        q.dequeue_many(3)
    assert np.all(np.abs(counts / 4000 - 0.25) < 0.03), counts


def test_random_shuffle_checks():
    with pytest.raises(errors.InvalidArgumentError, match="must be < capacity"):
        Q.RandomShuffleQueue(3, 5, tf.int32)
    q = Q.RandomShuffleQueue(10, 0, tf.int32)
    q.enqueue(1)
    with pytest.raises(errors.InvalidArgumentError, match="specified shapes"):
        q.dequeue_many(1)


# --------------------------------------------------------------------------------------
# PaddingFIFOQueue
# --------------------------------------------------------------------------------------


def test_padding_fifo_pads_to_batch_max():
    q = Q.PaddingFIFOQueue(5, [tf.int32, tf.string], shapes=[[None], [None, 2]])
    assert q.shapes == [tf.TensorShape([None]), tf.TensorShape([None, 2])]
    q.enqueue(([1], [["a", "b"]]))
    q.enqueue(([1, 2, 3], [["a", "b"], ["c", "d"]]))
    with pytest.raises(ValueError, match=r"Shapes \(1, 3\) and \(None, 2\)"):
        q.enqueue(([1, 2, 3], [["a", "b", "c"]]))
    ints, strs = q.dequeue_many(2)
    assert ints.numpy().tolist() == [[1, 0, 0], [1, 2, 3]]
    assert strs.numpy().tolist() == [[[b"a", b"b"], [b"", b""]], [[b"a", b"b"], [b"c", b"d"]]]
    q.enqueue(([4, 5], [["e", "f"]]))
    a, b = q.dequeue()  # single elements are not padded
    assert a.numpy().tolist() == [4, 5] and b.shape == (1, 2)
    assert q.dequeue_many(0)[0].shape == (0, 0)


def test_padding_fifo_up_to_and_shape_rules():
    q = Q.PaddingFIFOQueue(5, [tf.int32], shapes=[[None]])
    q.enqueue(([1],))
    q.enqueue(([1, 2, 3],))
    q.close()
    assert q.dequeue_up_to(5).numpy().tolist() == [[1, 0, 0], [1, 2, 3]]
    with pytest.raises(ValueError, match="list of shapes"):
        Q.PaddingFIFOQueue(5, [tf.int32], shapes=[None])
    with pytest.raises(TypeError):
        Q.PaddingFIFOQueue(5, [tf.int32])  # shapes are required


# --------------------------------------------------------------------------------------
# PriorityQueue
# --------------------------------------------------------------------------------------


def test_priority_queue_lowest_first():
    q = Q.PriorityQueue(5, [tf.string], shapes=[[]])
    assert q.dtypes == [tf.int64, tf.string] and q.shapes == [tf.TensorShape([])] * 2
    for v in [(3, "c"), (1, "a"), (2, "b"), (2, "b2")]:
        q.enqueue(v)
    p, s = q.dequeue()
    assert int(p) == 1 and p.dtype == tf.int64 and s.numpy() == b"a"
    p, s = q.dequeue_many(3)
    assert p.numpy().tolist() == [2, 2, 3] and s.numpy().tolist() == [b"b", b"b2", b"c"]
    q.enqueue_many(([5, 4], ["e", "d"]))
    assert q.dequeue_many(2)[1].numpy().tolist() == [b"d", b"e"]
    with pytest.raises(ValueError, match="int64"):
        q.enqueue((tf.constant(1, tf.int32), "a"))
    with pytest.raises(TypeError, match="shapes"):
        Q.PriorityQueue(5, [tf.string])
    with pytest.raises(ValueError, match="same length"):
        Q.PriorityQueue(5, [tf.string], shapes=[[]], names=["x"])
    named = Q.PriorityQueue(5, [tf.string], shapes=[[]], names=["p", "x"])
    named.enqueue({"p": 2, "x": "y"})
    assert named.dequeue()["x"].numpy() == b"y"


# --------------------------------------------------------------------------------------
# inside rill.function
# --------------------------------------------------------------------------------------


def test_queue_ops_inside_rill_function():
    q = fifo(10, [tf.int32, tf.string], shapes=[[], [2]])

    @tf.function
    def produce(x):
        q.enqueue((x, ["a", "b"]))
        q.enqueue_many(([x + 1, x + 2], [["c", "d"], ["e", "f"]]))
        return q.size()

    @tf.function
    def consume():
        a, b = q.dequeue()
        c, d = q.dequeue_many(2)
        assert c.shape.as_list() == [2] and d.shape.as_list() == [2, 2]
        return a, c

    assert int(produce(tf.constant(1))) == 3
    assert int(produce(tf.constant(10))) == 6  # runs again on every call
    a, c = consume()
    assert int(a) == 1 and c.numpy().tolist() == [2, 3]
    a, c = consume()
    assert int(a) == 10 and c.numpy().tolist() == [11, 12]


# --------------------------------------------------------------------------------------
# Stress: many producers and consumers, every element exactly once, no thread left hanging
# (how long it takes: benchmarks/suite_timings.py)
# --------------------------------------------------------------------------------------


def _stress(q, n=100_000, producers=4, consumers=4):
    failures, got = [], [[] for _ in range(consumers)]

    def produce(p):
        rng = random.Random(p)
        vals = np.arange(p, n, producers, dtype=np.int64)
        i = 0
        try:
            while i < len(vals):
                if rng.random() < 0.5:
                    k = rng.randint(1, 40)
                    q.enqueue_many([vals[i : i + k]], timeout=T)
                    i += k
                else:
                    q.enqueue(vals[i], timeout=T)
                    i += 1
        except Exception as e:  # noqa: BLE001
            failures.append(e)

    def consume(c):
        rng, out, draining = random.Random(100 + c), got[c], False
        try:
            while True:
                r, k = rng.random(), rng.randint(1, 24)
                try:
                    if r < 0.4:
                        out.append(int(q.dequeue(timeout=T)))
                    elif r < 0.7 and not draining:
                        out.extend(q.dequeue_many(k, timeout=T).numpy().tolist())
                    else:
                        out.extend(q.dequeue_up_to(k, timeout=T).numpy().tolist())
                except errors.OutOfRangeError:
                    if 0.4 <= r < 0.7 and not draining:
                        draining = True  # closed with < k left: take the rest with up_to
                        continue
                    return
        except Exception as e:  # noqa: BLE001
            failures.append(e)

    ps = [threading.Thread(target=produce, args=(i,), daemon=True) for i in range(producers)]
    cs = [threading.Thread(target=consume, args=(i,), daemon=True) for i in range(consumers)]
    for th in ps + cs:
        th.start()
    for th in ps:
        th.join(60)
    q.close()
    for th in cs:
        th.join(60)
    assert not any(th.is_alive() for th in ps + cs), "a producer or consumer hung"
    assert not failures, failures[:3]
    delivered = np.concatenate([np.asarray(g, np.int64) for g in got])
    assert len(delivered) == n  # none lost, none duplicated:
    assert np.array_equal(np.sort(delivered), np.arange(n))
    assert all(len(g) > 0 for g in got)  # every consumer took part
    return got


def test_stress_fifo_queue():
    got = _stress(Q.FIFOQueue(16, tf.int64, shapes=[[]]))
    # FIFO: each producer's elements arrive in the order they were produced, per consumer
    for g in got:
        g = np.asarray(g)
        for p in range(4):
            mine = g[g % 4 == p]
            assert np.all(np.diff(mine) > 0)


def test_stress_random_shuffle_queue():
    _stress(Q.RandomShuffleQueue(32, 8, tf.int64, shapes=[[]], seed=1))
