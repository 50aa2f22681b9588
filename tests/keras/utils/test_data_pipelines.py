"""PyDataset and its adapter, Progbar, split_dataset, timeseries_dataset_from_array (NumPy
windows computed here; TF's own output when TensorFlow is installed)."""

import io
import threading
import time
from contextlib import redirect_stdout

import numpy as np
import pytest

from rill.keras import utils
from rill.keras.utils.py_dataset import PyDatasetAdapter


class Squares(utils.PyDataset):
    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        self.n, self.epochs, self.threads = n, [], set()

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        self.threads.add(threading.get_ident())
        time.sleep(0.002 * ((self.n - i) % 3))  # finish out of order under a pool
        return np.full((2, 1), i, "float32"), np.full((2,), i * i, "float32")

    def on_epoch_end(self):
        self.epochs.append("end")


@pytest.mark.parametrize("workers", [1, 3])
def test_adapter_yields_batches_in_order_and_calls_epoch_hooks(workers):
    ds = Squares(7, workers=workers, max_queue_size=2)
    got = list(PyDatasetAdapter(ds))
    assert [int(x[0, 0]) for x, _ in got] == list(range(7))
    assert [int(y[0]) for _, y in got] == [i * i for i in range(7)]
    assert ds.epochs == ["end"] and utils.Sequence is utils.PyDataset
    if workers > 1:
        assert len(ds.threads) > 1


def test_adapter_shuffles_batch_order_and_standardizes():
    ds = Squares(20)
    order = [int(x[0, 0]) for x, _ in PyDatasetAdapter(ds, shuffle=True)]
    assert sorted(order) == list(range(20)) and order != list(range(20))

    class Bad(utils.PyDataset):
        def __len__(self):
            return 1

        def __getitem__(self, i):
            return (1, 2, 3, 4)

    with pytest.raises(ValueError, match="tuple"):
        list(PyDatasetAdapter(Bad()))


def test_progbar_averages_stateless_metrics(monkeypatch):
    import sys

    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    bar = utils.Progbar(4, verbose=2, stateful_metrics=["acc"])
    bar.update(1, [("loss", 1.0), ("acc", 0.5)])
    bar.update(3, [("loss", 4.0), ("acc", 0.7)])
    bar.update(4, [("loss", 2.0), ("acc", 0.9)], finalize=False)
    # loss: weighted by steps since the last update: (1*1 + 4*2 + 2*1) / 4 = 2.75
    assert bar._values["loss"] == [11.0, 4] and bar._values["acc"] == [0.9, 1]
    bar.update(4, [("acc", 0.9)])
    text = out.getvalue()
    assert "4/4" in text and "loss: 2.7500" in text and "acc: 0.9000" in text
    with pytest.raises(ValueError, match="only one"):
        utils.Progbar(3, stateful_metrics=["a"], stateless_metrics=["b"])


def test_progbar_verbose1_draws_a_bar():
    buf = io.StringIO()
    with redirect_stdout(buf):
        bar = utils.Progbar(10, width=10, interval=0)
        bar.update(5)
        bar.add(5, [("m", 3.0)])
    assert "5/10" in buf.getvalue() and "10/10" in buf.getvalue()
    assert buf.getvalue().endswith("\n") and "m: 3.0000" in buf.getvalue()


def test_split_dataset_sizes_and_contents():
    x = np.arange(10)
    y = np.arange(10) * 10
    left, right = utils.split_dataset((x, y), left_size=0.8)
    got_l = [(int(a), int(b)) for a, b in left.as_numpy_iterator()]
    got_r = [(int(a), int(b)) for a, b in right.as_numpy_iterator()]
    assert got_l == [(i, 10 * i) for i in range(8)] and got_r == [(8, 80), (9, 90)]
    left, right = utils.split_dataset(x, right_size=3, shuffle=True, seed=1)
    values = sorted(int(v) for v in left.as_numpy_iterator()) + [
        int(v) for v in right.as_numpy_iterator()
    ]
    assert len(list(right.as_numpy_iterator())) == 3 and sorted(values) == list(range(10))
    with pytest.raises(ValueError, match="At least one"):
        utils.split_dataset(x)
    with pytest.raises(ValueError, match="left_size"):
        utils.split_dataset(x, left_size=10)


def test_split_dataset_of_a_batched_dataset_splits_rows():
    import rill as tf

    ds = tf.data.Dataset.from_tensor_slices(np.arange(12)).batch(4)
    left, right = utils.split_dataset(ds, left_size=9)
    assert [b.tolist() for b in left.as_numpy_iterator()] == [[0, 1, 2, 3], [4, 5, 6, 7], [8]]
    assert [b.tolist() for b in right.as_numpy_iterator()] == [[9, 10, 11]]


def _windows(data, targets, length, stride, rate, start=0, end=None):
    end = len(data) if end is None else end
    n = end - start - (length - 1) * rate
    if targets is not None:
        n = min(n, len(targets))
    starts = range(0, n, stride)
    xs = [data[start + p : start + p + length * rate : rate] for p in starts]
    ys = None if targets is None else [targets[start + p] for p in starts]
    return np.array(xs), ys


@pytest.mark.parametrize("kw", [dict(sequence_length=3),
                                dict(sequence_length=4, sequence_stride=2, sampling_rate=2),
                                dict(sequence_length=2, start_index=3, end_index=15)])  # fmt: skip
def test_timeseries_windows(kw):
    data = np.arange(40, dtype="float64").reshape(20, 2)
    targets = np.arange(20) * 100
    ds = utils.timeseries_dataset_from_array(data, targets, batch_size=4, **kw)
    xs = np.concatenate([x for x, _ in ds.as_numpy_iterator()])
    ys = np.concatenate([y for _, y in ds.as_numpy_iterator()])
    ex, ey = _windows(
        data,
        targets,
        kw["sequence_length"],
        kw.get("sequence_stride", 1),
        kw.get("sampling_rate", 1),
        kw.get("start_index", 0),
        kw.get("end_index"),
    )
    np.testing.assert_array_equal(xs, ex)
    np.testing.assert_array_equal(ys, ey)
    assert xs.dtype == np.float64
    shuffled = utils.timeseries_dataset_from_array(data, None, batch_size=None, shuffle=True,
                                                   seed=3, **kw)  # fmt: skip
    got = sorted(map(tuple, (w.ravel() for w in shuffled.as_numpy_iterator())))
    assert got == sorted(map(tuple, (w.ravel() for w in ex)))


def test_timeseries_matches_tensorflow():
    tf_ref = pytest.importorskip("tensorflow")
    data = np.random.RandomState(0).rand(30, 3).astype("float32")
    targets = np.arange(30)
    kw = dict(sequence_length=5, sequence_stride=3, sampling_rate=2, batch_size=4)
    ref = list(tf_ref.keras.utils.timeseries_dataset_from_array(data, targets, **kw))
    got = list(utils.timeseries_dataset_from_array(data, targets, **kw))
    assert len(got) == len(ref)
    for (gx, gy), (rx, ry) in zip(got, ref):
        assert gx.dtype.name == rx.dtype.name and gy.dtype.name == ry.dtype.name
        np.testing.assert_array_equal(gx.numpy(), rx.numpy())
        np.testing.assert_array_equal(gy.numpy(), ry.numpy())


def test_timeseries_argument_errors():
    with pytest.raises(ValueError, match="sampling_rate"):
        utils.timeseries_dataset_from_array(np.zeros(5), None, 2, sampling_rate=0)
    with pytest.raises(ValueError, match="start_index"):
        utils.timeseries_dataset_from_array(np.zeros(5), None, 2, start_index=7)
