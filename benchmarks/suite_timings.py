"""Speed figures that used to be wall-clock asserts in the test suite (issue 21).

The tests now assert properties (values, bounded memory, calls overlapping, nothing
blocking); how long those paths take is measured here, on rill, with the bound the test
used to assert shown next to each figure:

(1) ``conv2d`` forward and gradient, x f32[8,32,32,16], w f32[3,3,16,32], SAME padding
    (was ``< 5 s`` in tests/ops/test_conv_ops.py)
(2) fifteen ``tf.sparse`` ops on 100000 x 100000 operands with 1000 nonzeros each
    (was ``< 5 s`` in tests/structures/test_sparse.py)
(3) a ``FIFOQueue(16)`` stress: 4 producers and 4 consumers move 100000 int64 elements,
    each exactly once (was ``< 30 s`` in tests/structures/test_queues.py)
(4) ``dequeue(timeout=0.05)`` on an empty queue: seconds until DeadlineExceededError
    (was ``< 2 s`` in tests/structures/test_queues.py)

The parallel-map speed-up (was "AUTOTUNE at least 4x faster than serial" in
tests/data/test_dataset.py) is workload (2) of ``benchmarks/data_pipeline.py``.

    python benchmarks/suite_timings.py            # best of 3
    python benchmarks/suite_timings.py --quick    # smaller sizes, one run each

rill is imported from this checkout. Each figure is the best (minimum) of ``--repeat``
runs, in seconds; every run also checks its result, so a wrong answer fails loudly.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def _best(run, repeat):
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - t)
    return best


def workload_conv_gradient(batch=8, repeat=3):
    import rill as tf

    rng = np.random.default_rng(0)
    x = tf.constant(rng.standard_normal((batch, 32, 32, 16)).astype(np.float32))
    w = tf.constant(rng.standard_normal((3, 3, 16, 32)).astype(np.float32))

    def run():
        with tf.GradientTape() as tape:
            tape.watch([x, w])
            y = tf.nn.conv2d(x, w, 1, "SAME")
        gx, gw = tape.gradient(y, [x, w])
        assert y.shape == (batch, 32, 32, 32) and gx.shape == x.shape and gw.shape == w.shape

    return _best(run, repeat)


def workload_sparse_ops(n=100_000, nnz=1000, repeat=3):
    import rill as tf

    S = tf.sparse

    def big(seed):
        r = np.random.default_rng(seed)
        lin = r.choice(n * n, nnz, replace=False)
        return S.SparseTensor(np.stack([lin // n, lin % n], 1), r.standard_normal(nnz), [n, n])

    a, b = big(1), big(2)
    dense = tf.constant(np.random.default_rng(0).standard_normal((n, 4)))

    def run():
        r = S.reorder(a)
        S.transpose(a)
        S.reduce_sum(a, 1, output_is_sparse=True)
        S.reduce_max(a, 0, output_is_sparse=True)
        mm = S.sparse_dense_matmul(r, dense)
        S.sparse_dense_matmul(tf.transpose(dense), a)
        S.concat(0, [a, b])
        S.concat(1, [a, b])
        S.slice(a, [0, 0], [n // 2, n // 2])
        S.retain(a, np.arange(nnz) % 2 == 0)
        ad = S.add(a, b)
        S.maximum(r, S.reorder(b))
        S.reshape(a, [n * 10, n // 10])
        S.softmax(r)
        parts = S.split(sp_input=a, num_split=4, axis=1)
        assert mm.shape == (n, 4) and ad.values.shape[0] == 2 * nnz
        assert sum(p.values.shape[0] for p in parts) == nnz

    return _best(run, repeat)


def workload_queue_stress(n=100_000, producers=4, consumers=4, repeat=3):
    import rill as tf

    timeout = 60.0

    def run():
        q = tf.queue.FIFOQueue(16, tf.int64, shapes=[[]])
        got = [[] for _ in range(consumers)]
        failures = []

        def produce(p):
            vals = np.arange(p, n, producers, dtype=np.int64)
            try:
                for i in range(0, len(vals), 20):
                    q.enqueue_many([vals[i : i + 20]], timeout=timeout)
            except Exception as e:  # noqa: BLE001 - reported below
                failures.append(e)

        def consume(c):
            try:
                while True:
                    try:
                        got[c].extend(q.dequeue_up_to(24, timeout=timeout).numpy().tolist())
                    except tf.errors.OutOfRangeError:
                        return
            except Exception as e:  # noqa: BLE001 - reported below
                failures.append(e)

        ps = [threading.Thread(target=produce, args=(i,), daemon=True) for i in range(producers)]
        cs = [threading.Thread(target=consume, args=(i,), daemon=True) for i in range(consumers)]
        for th in ps + cs:
            th.start()
        for th in ps:
            th.join(timeout)
        q.close()
        for th in cs:
            th.join(timeout)
        assert not failures, failures[:3]
        delivered = np.sort(np.concatenate([np.asarray(g, np.int64) for g in got]))
        assert np.array_equal(delivered, np.arange(n)), "lost or duplicated elements"

    return _best(run, repeat)


def workload_dequeue_timeout(repeat=3):
    import rill as tf

    q = tf.queue.FIFOQueue(2, tf.int32, shapes=[[]])

    def run():
        try:
            q.dequeue(timeout=0.05)
        except tf.errors.DeadlineExceededError:
            return
        raise AssertionError("dequeue on an empty queue returned")

    return _best(run, repeat)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="smaller workloads, one run each")
    p.add_argument("--repeat", type=int, default=None)
    args = p.parse_args(argv)
    repeat = args.repeat or (1 if args.quick else 3)
    batch, n = (2, 10_000) if args.quick else (8, 100_000)
    rows = [
        (f"(1) conv2d + gradient f32[{batch},32,32,16] * [3,3,16,32]", 5.0,
         workload_conv_gradient(batch, repeat)),
        ("(2) 15 tf.sparse ops, 100000^2 dense shape, nnz 1000", 5.0,
         workload_sparse_ops(repeat=repeat)),
        (f"(3) FIFOQueue(16) stress, 4+4 threads, {n} elements", 30.0,
         workload_queue_stress(n, repeat=repeat)),
        ("(4) dequeue(timeout=0.05) on an empty queue", 2.0, workload_dequeue_timeout(repeat)),
    ]  # fmt: skip
    print(f"\n{'workload':56s}{'seconds':>10s}{'old test bound':>16s}")
    for name, bound, secs in rows:
        print(f"{name:56s}{secs:10.3f}{bound:14.1f} s")
    return rows


if __name__ == "__main__":
    main()
