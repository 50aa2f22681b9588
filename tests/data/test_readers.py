"""File sources: TextLineDataset, TFRecordDataset, FixedLengthRecordDataset, CsvDataset,
make_csv_dataset (plain, GZIP and ZLIB files; several files)."""

import collections
import gzip
import zlib

import numpy as np
import pytest

import rill as tf
from rill.data import readers
from rill.data import tfrecord as tfr
from rill.data.dataset_ops import Dataset


def values(ds):
    out = []
    for x in ds.as_numpy_iterator():
        out.append(x.tolist() if isinstance(x, np.ndarray) else x)
    return out


def _write(path, data: bytes, compression=None):
    if compression == "GZIP":
        data = gzip.compress(data)
    elif compression == "ZLIB":
        data = zlib.compress(data)
    path.write_bytes(data)
    return str(path)


@pytest.mark.parametrize("compression", [None, "GZIP", "ZLIB"])
def test_text_lines(tmp_path, compression):
    f = _write(tmp_path / "a.txt", b"l1\r\nl2\n\nl4", compression)
    ds = readers.TextLineDataset(f, compression_type=compression)
    assert ds.element_spec == tf.TensorSpec([], tf.string)
    assert values(ds) == [b"l1", b"l2", b"", b"l4"]  # as TF 2.21 reads it


def test_text_lines_several_files(tmp_path):
    a = _write(tmp_path / "a.txt", b"a1\na2\na3\n")
    b = _write(tmp_path / "b.txt", b"b1\nb2\n")
    assert values(readers.TextLineDataset([a, b])) == [b"a1", b"a2", b"a3", b"b1", b"b2"]
    par = readers.TextLineDataset([a, b], num_parallel_reads=2)
    assert values(par) == [b"a1", b"b1", b"a2", b"b2", b"a3"]
    from_ds = readers.TextLineDataset(Dataset.from_tensor_slices([a, b]))
    assert len(values(from_ds)) == 5
    with pytest.raises(tf.errors.NotFoundError):
        values(readers.TextLineDataset(str(tmp_path / "missing.txt")))


def test_text_lines_stream(tmp_path):
    f = _write(tmp_path / "big.txt", b"".join(b"%d\n" % i for i in range(50_000)))
    it = iter(readers.TextLineDataset(f))
    assert next(it).numpy() == b"0"
    assert sum(int(x) for x in readers.TextLineDataset(f).as_numpy_iterator()) == sum(range(50_000))


def test_fixed_length_records(tmp_path):
    f = _write(tmp_path / "r.bin", b"HH" + b"abcdef" + b"F")
    ds = readers.FixedLengthRecordDataset(f, 3, header_bytes=2, footer_bytes=1)
    assert values(ds) == [b"abc", b"def"]
    bad = readers.FixedLengthRecordDataset(f, 4, header_bytes=2, footer_bytes=1)
    with pytest.raises(tf.errors.InvalidArgumentError, match="not an exact multiple"):
        values(bad)


def test_csv_dataset(tmp_path):
    f = tmp_path / "c.csv"
    f.write_text('a,b,c\n1,2.5,"x,y"\n3,,z\n')
    ds = readers.CsvDataset(str(f), [tf.int32, tf.constant(0.0), tf.string], header=True)
    assert ds.element_spec == (
        tf.TensorSpec([], tf.int32),
        tf.TensorSpec([], tf.float32),
        tf.TensorSpec([], tf.string),
    )
    assert values(ds) == [(1, 2.5, b"x,y"), (3, 0.0, b"z")]
    required = readers.CsvDataset(str(f), [tf.int32, tf.float32, tf.string], header=True)
    with pytest.raises(
        tf.errors.InvalidArgumentError, match="Field 1 is required but missing in record!"
    ):
        values(required)
    sel = readers.CsvDataset(str(f), [tf.int32, tf.string], header=True, select_cols=[0, 2])
    assert values(sel) == [(1, b"x,y"), (3, b"z")]
    semi = tmp_path / "s.csv"
    semi.write_text("1;2\n3;4\n")
    assert values(readers.CsvDataset(str(semi), [tf.int64, tf.int64], field_delim=";")) == [
        (1, 2),
        (3, 4),
    ]


def test_csv_gzip(tmp_path):
    f = _write(tmp_path / "c.csv.gz", b"1,a\n2,b\n", "GZIP")
    ds = readers.CsvDataset(f, [tf.int64, tf.string], compression_type="GZIP")
    assert values(ds) == [(1, b"a"), (2, b"b")]


def test_make_csv_dataset(tmp_path):
    f = tmp_path / "d.csv"
    f.write_text("a,b,label,s\n1,2.5,0,foo\n3,4,1,bar\n5,6.5,1,baz\n")
    ds = readers.make_csv_dataset(
        str(f), batch_size=2, label_name="label", shuffle=False, num_epochs=1
    )
    feats, label = ds.element_spec
    assert isinstance(feats, collections.OrderedDict)
    assert list(feats) == ["a", "b", "s"]
    assert feats["a"] == tf.TensorSpec([None], tf.int32)
    assert feats["b"] == tf.TensorSpec([None], tf.float32)
    assert feats["s"] == tf.TensorSpec([None], tf.string)
    assert label == tf.TensorSpec([None], tf.int32)
    batches = list(ds)
    assert len(batches) == 2
    f0, l0 = batches[0]
    assert f0["a"].numpy().tolist() == [1, 3] and f0["s"].numpy().tolist() == [b"foo", b"bar"]
    assert l0.numpy().tolist() == [0, 1]
    sel = readers.make_csv_dataset(
        str(f), 2, select_columns=["a", "s"], shuffle=False, num_epochs=1
    )
    assert list(sel.element_spec) == ["a", "s"]
    shuffled = readers.make_csv_dataset(str(f), 3, shuffle=True, shuffle_seed=1, num_epochs=1)
    assert sorted(next(iter(shuffled))["a"].numpy().tolist()) == [1, 3, 5]


@pytest.mark.parametrize("compression", [None, "GZIP", "ZLIB"])
def test_tfrecord_dataset(tmp_path, compression):
    paths = []
    for k in range(2):
        p = str(tmp_path / f"r{k}.tfrecord")
        opts = tfr.TFRecordOptions(compression_type=compression) if compression else None
        with tfr.TFRecordWriter(p, opts) as w:
            for i in range(3):
                w.write(b"rec-%d-%d" % (k, i))
        paths.append(p)
    ds = readers.TFRecordDataset(paths, compression_type=compression)
    assert ds.element_spec == tf.TensorSpec([], tf.string)
    assert values(ds) == [b"rec-%d-%d" % (k, i) for k in range(2) for i in range(3)]
    inter = readers.TFRecordDataset(paths, compression_type=compression, num_parallel_reads=2)
    assert values(inter) == [b"rec-%d-%d" % (k, i) for i in range(3) for k in range(2)]


def test_tfrecord_corruption_is_reported(tmp_path):
    p = tmp_path / "bad.tfrecord"
    with tfr.TFRecordWriter(str(p)) as w:
        w.write(b"hello world")
    data = bytearray(p.read_bytes())
    data[14] ^= 0xFF
    p.write_bytes(bytes(data))
    with pytest.raises(tf.errors.DataLossError):
        values(readers.TFRecordDataset(str(p)))
