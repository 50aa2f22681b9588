"""Cases for the top-level ops of rill.ops.cast_ops, sequence_ops, partition_ops and
graph_ops, rill.structures.edit_distance / string_ops.fingerprint and rill.audio."""

import numpy as np

import rill.audio  # noqa: F401 - registers DecodeWav / EncodeWav (a lazy namespace)
from rill.core import dtypes as d
from tests.ops.cases import case, rnd

case("Bitcast", np.array([1.0, -2.0], np.float32), type=d.int32, grad=False)
case("Bitcast", np.array([[1, 2], [3, 4]], np.int32), type=d.int64, grad=False)
case("Bitcast", np.array([7], np.int64), type=d.int16, grad=False)

lengths = np.array([2, 0, 3], np.int64)
case("ReverseSequence", rnd(3, 4, 2), lengths, seq_axis=1, batch_axis=0)
case("ReverseSequence", rnd(4, 3), lengths.astype(np.int32), seq_axis=0, batch_axis=1)
case(
    "SearchSorted",
    np.array([[0.0, 1.0, 3.0], [2.0, 2.0, 5.0]]),
    np.array([[0.5, 3.0], [2.0, 9.0]]),
    side="left",
    out_type=d.int32,
    grad=False,
)
case("UnravelIndex", np.array([0, 5, 7], np.int32), np.array([3, 3], np.int32), grad=False)
case("UnravelIndex", np.array(4, np.int64), np.array([2, 3], np.int64), grad=False)
values = np.array([-1.0, 0.0, 1.5, 2.0, 5.0, 15.0])
case("HistogramFixedWidth", values, np.array([0.0, 5.0]), nbins=5, dtype=d.int32, grad=False)
case("HistogramFixedWidthBins", values, np.array([0.0, 5.0]), nbins=5, dtype=d.int64, grad=False)

case("DynamicPartition", rnd(5, 2), np.array([1, 0, 1, 2, 0], np.int32), num_partitions=3)
case(
    "DynamicStitch",
    np.array([0, 2], np.int32),
    np.array([[1, 3]], np.int32),
    rnd(2, 2),
    rnd(1, 2, 2),
    n=2,
)
case("Timestamp", grad=False)
case("Fingerprint", np.array([[1, 2], [3, 4]], np.int32), method="farmhash64", grad=False)
case("Fingerprint", np.array([[b"ab", b"c"]], object), method="farmhash64", grad=False)
case(
    "EditDistance",
    np.array([[0, 0], [0, 1]], np.int64),
    np.array([1, 2], np.int32),
    np.array([1, 2], np.int64),
    np.array([[0, 0]], np.int64),
    np.array([2], np.int32),
    np.array([1, 1], np.int64),
    normalize=True,
    grad=False,
)
_pcm = np.array([[0.5, -0.25], [0.1, 0.9]], np.float32)
case("EncodeWav", _pcm, np.array(16000, np.int32), grad=False)
case(
    "DecodeWav",
    np.array(
        b"RIFF(\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00@\x1f\x00\x00\x80>\x00\x00"
        b"\x02\x00\x10\x00data\x04\x00\x00\x00\x00@\x00\xc0",
        dtype=object,
    ),
    desired_channels=-1,
    desired_samples=-1,
    grad=False,
)
