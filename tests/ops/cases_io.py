"""Cases for the primitives of rill/io (none differentiable): file ops, byte decoders,
sparse serialization and SequenceExample parsing. The protobuf-backed ones raise
UnimplementedError without ``protobuf`` and the registry skips them."""

import base64
import os
import tempfile
import zlib

import numpy as np

import rill.io  # noqa: F401 - registers the io primitives
from rill.core import dtypes as d
from rill.data import example as ex
from rill.io import sequence_example as se
from tests.ops.cases import case


def _strings(*xs):
    a = np.empty(len(xs), object)
    a[:] = xs
    return a


def _scalar(x):
    a = np.empty((), object)
    a[()] = x
    return a


_DIR = tempfile.mkdtemp(prefix="rill-cases-io-")
with open(os.path.join(_DIR, "a.txt"), "wb") as _f:
    _f.write(b"abc")

case("ReadFile", _scalar(os.path.join(_DIR, "a.txt").encode()), grad=False)
case("WriteFile", _scalar(os.path.join(_DIR, "b.txt").encode()), _scalar(b"xyz"), grad=False)
case("MatchingFiles", _strings(os.path.join(_DIR, "*.txt").encode()), grad=False)

case(
    "DecodeRaw",
    _strings(b"\x01\x00\x02\x00", b"\x03\x00\x04\x00"),
    out_type=d.int16,
    little_endian=True,
    fixed_length=None,
    grad=False,
)
case(
    "DecodeRaw",
    _strings(b"\x01", b"\x02\x03"),
    out_type=d.uint8,
    little_endian=False,
    fixed_length=4,
    grad=False,
)
case("EncodeBase64", _strings(b"hi?", b"\xff"), pad=False, grad=False)
case("DecodeBase64", _strings(base64.urlsafe_b64encode(b"hi?"), b"_w"), grad=False)
case("DecodeCompressed", _strings(zlib.compress(b"abc")), compression_type="ZLIB", grad=False)
case(
    "DecodeCSV",
    _strings(b"1,2.5,x", b"3,,y"),
    np.array([0], np.int32),
    np.array([1.0], np.float32),
    _strings(b""),
    field_delim=",",
    use_quote_delim=True,
    na_value="",
    select_cols=None,
    dts=(d.int32, d.float32, d.string),
    grad=False,
)
case("DecodeJSONExample", _strings(b'{"features": {}}'), grad=False)

_idx = np.array([[0, 1], [1, 0]], np.int64)
case(
    "SerializeSparse",
    _idx,
    np.array([1.5, 2.5], np.float32),
    np.array([2, 3], np.int64),
    grad=False,
)
case(
    "SerializeManySparse", _idx, np.array([1, 2], np.int32), np.array([2, 3], np.int64), grad=False
)
# rows: serialize_sparse of SparseTensor([[0]], [7], [2]) (int32), as TensorFlow writes it
_row = [
    b'\x08\t\x12\x08\x12\x02\x08\x01\x12\x02\x08\x01"\x08\x00\x00\x00\x00\x00\x00\x00\x00',
    b'\x08\x03\x12\x04\x12\x02\x08\x01"\x04\x07\x00\x00\x00',
    b'\x08\t\x12\x04\x12\x02\x08\x01"\x08\x02\x00\x00\x00\x00\x00\x00\x00',
]
_rows = np.empty((2, 3), object)
_rows[0], _rows[1] = _row, _row
case("DeserializeManySparse", _rows, dtype=d.int32, rank=2, grad=False)

_SEQ = (
    b"\n\x0c\n\n\n\x01c\x12\x05\x1a\x03\n\x01\x01\x12!\n\x1f\n\x01x\x12\x1a\n\x06\x1a\x04\n"
    b"\x02\x01\x02\n\x06\x1a\x04\n\x02\x03\x04\n\x08\x1a\x06\n\x04\x05\x06\x07\x08"
)
_ctx = ex._config({"c": ex.FixedLenFeature([], d.int64)}, False)
_seqc = se._seq_config(
    {
        "x": ex.VarLenFeature(d.int64),
        "y": ex.FixedLenSequenceFeature([], d.int64, allow_missing=True),
    }
)
case(
    "ParseSequenceExampleV2",
    _strings(_SEQ, _SEQ),
    ctx_config=_ctx,
    seq_config=_seqc,
    single=False,
    grad=False,
)
