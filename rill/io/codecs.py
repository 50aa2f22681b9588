"""Byte-level decoders of ``tf.io``: ``decode_raw``, ``decode_base64`` / ``encode_base64``
(the web-safe alphabet, as TensorFlow), ``decode_compressed``, ``decode_csv`` and
``decode_json_example``.

Each is a host primitive over string tensors (NumPy object arrays of ``bytes``), so it
runs eagerly and inside ``rill.function`` / ``Dataset.map`` alike; none is
differentiable.
"""

from __future__ import annotations

import base64
import binascii
import re
import zlib

import numpy as np

from rill.core import dtypes as _d
from rill.core.errors import DataLossError, UnimplementedError
from rill.ops._op import (
    AVal,
    InvalidArgumentError,
    TensorShape,
    bind,
    convert_to_tensor,
    op_error,
    primitive,
    tf_export,
)

__all__ = [
    "decode_raw", "decode_base64", "encode_base64", "decode_compressed", "decode_csv",
    "decode_json_example",
]  # fmt: skip

_STR = frozenset([_d.string])


def _strings(x, op):
    """``x`` as a string tensor (TypeError naming ``op`` for another dtype)."""
    t = convert_to_tensor(x, dtype=_d.string) if not hasattr(x, "dtype") else x
    t = convert_to_tensor(t)
    if t.dtype is not _d.string:
        raise TypeError(f"{op}: expected a string tensor, got dtype {t.dtype.name}")
    return t


def _map_bytes(a: np.ndarray, fn) -> np.ndarray:
    out = np.empty(a.shape, object)
    flat_in, flat_out = a.reshape(-1), out.reshape(-1)
    for i, s in enumerate(flat_in.tolist()):
        flat_out[i] = fn(s)
    return out


def _same_shape(x: AVal, **_) -> AVal:
    return AVal(x.shape, _d.string)


# --------------------------------------------------------------------------------------
# decode_raw
# --------------------------------------------------------------------------------------

_RAW_TYPES = (
    _d.float16, _d.float32, _d.float64, _d.int32, _d.uint16, _d.uint8, _d.int16, _d.int8,
    _d.int64, _d.complex64, _d.complex128, _d.bool, _d.bfloat16,
)  # fmt: skip


def _raw_kernel(x, *, out_type, little_endian, fixed_length):
    npd = np.dtype(out_type.np)
    size = npd.itemsize
    flat = x.reshape(-1).tolist()
    if fixed_length is not None:
        n = fixed_length // size
        buf = b"".join(s[:fixed_length].ljust(fixed_length, b"\0") for s in flat)
    else:
        first = len(flat[0]) if flat else 0
        for i, s in enumerate(flat):
            if len(s) != first:
                raise op_error(
                    InvalidArgumentError,
                    "DecodeRaw",
                    f"DecodeRaw requires input strings to all be the same size, but element "
                    f"{i} has size {len(s)} != {first}",
                )
        if first % size:
            raise op_error(
                InvalidArgumentError,
                "DecodeRaw",
                f"Input to DecodeRaw has length {first} that is not a multiple of {size}, "
                f"the size of {out_type.name}",
            )
        n = first // size
        buf = b"".join(flat)
    raw = np.frombuffer(buf, np.uint8)
    # complex values swap each of their two parts, as TensorFlow
    unit = size // 2 if out_type.is_complex else size
    if not little_endian and unit > 1:
        raw = raw.reshape(-1, unit)[:, ::-1].reshape(-1)
    if out_type is _d.bool:
        vals = raw != 0
    else:
        vals = raw.copy().view(npd)
    return vals.reshape((*x.shape, n))


def _raw_rule(x, *, out_type, little_endian, fixed_length):
    if x.dtype is not _d.string:
        raise op_error(
            InvalidArgumentError,
            "DecodeRaw",
            f"input_bytes must be a string tensor, got {x.dtype.name}",
        )
    size = np.dtype(out_type.np).itemsize
    n = None if fixed_length is None else fixed_length // size
    return AVal(TensorShape(x.shape).concatenate([n]), out_type)


decode_raw_p = primitive("DecodeRaw", _raw_kernel, _raw_rule, host=True)


@tf_export("io.decode_raw")
def decode_raw(input_bytes, out_type, little_endian: bool = True, fixed_length=None, name=None):
    """Reinterpret the bytes of each string as a vector of ``out_type`` (shape
    ``input.shape + [n]``); ``fixed_length`` pads (with zeros) or cuts every string to
    that many bytes first."""
    out_type = _d.as_dtype(out_type)
    if out_type not in _RAW_TYPES:
        raise TypeError(
            f"decode_raw: out_type {out_type.name} is not supported; valid types: "
            + ", ".join(d.name for d in _RAW_TYPES)
        )
    x = _strings(input_bytes, "decode_raw")
    if fixed_length is not None:
        fixed_length = int(convert_to_tensor(fixed_length).numpy())
        size = np.dtype(out_type.np).itemsize
        if fixed_length < 0 or fixed_length % size:
            raise op_error(
                InvalidArgumentError,
                "DecodePaddedRaw",
                f"fixed_length ({fixed_length}) must be a non-negative multiple of the size "
                f"of out_type {out_type.name} ({size})",
            )
    params = {
        "out_type": out_type,
        "little_endian": bool(little_endian),
        "fixed_length": fixed_length,
    }
    return bind(decode_raw_p, (x,), params)


# --------------------------------------------------------------------------------------
# base64 (web-safe alphabet: '-' and '_' for '+' and '/')
# --------------------------------------------------------------------------------------

_B64 = re.compile(rb"[A-Za-z0-9_\-]*={0,2}")


def _b64_decode_one(s: bytes) -> bytes:
    if not _B64.fullmatch(s):
        raise op_error(InvalidArgumentError, "DecodeBase64", "Invalid character found in base64.")
    body = s.rstrip(b"=")
    if len(body) % 4 == 1:
        raise op_error(
            InvalidArgumentError, "DecodeBase64", "Base64 string length cannot be 1 modulo 4."
        )
    try:
        return base64.urlsafe_b64decode(body + b"=" * (-len(body) % 4))
    except binascii.Error as e:
        raise op_error(InvalidArgumentError, "DecodeBase64", f"Invalid base64 data: {e}") from None


encode_base64_p = primitive(
    "EncodeBase64",
    lambda x, *, pad: _map_bytes(
        x,
        lambda s: base64.urlsafe_b64encode(s) if pad else base64.urlsafe_b64encode(s).rstrip(b"="),
    ),
    _same_shape,
    dtypes=_STR,
    host=True,
)
decode_base64_p = primitive(
    "DecodeBase64", lambda x: _map_bytes(x, _b64_decode_one), _same_shape, dtypes=_STR, host=True
)


@tf_export("io.encode_base64")
def encode_base64(input, pad: bool = False, name=None):  # noqa: A002 - TF's argument name
    """Each string in web-safe base64 (``-`` and ``_``), ``=``-padded only if ``pad``."""
    return bind(encode_base64_p, (_strings(input, "encode_base64"),), {"pad": bool(pad)})


@tf_export("io.decode_base64")
def decode_base64(input, name=None):  # noqa: A002 - TF's argument name
    """Decode web-safe base64 strings (padding optional)."""
    return bind(decode_base64_p, (_strings(input, "decode_base64"),))


# --------------------------------------------------------------------------------------
# decode_compressed
# --------------------------------------------------------------------------------------


def _inflate(s: bytes, wbits: int) -> bytes:
    try:
        d = zlib.decompressobj(wbits)
        out = d.decompress(s) + d.flush()
    except zlib.error as e:
        raise op_error(DataLossError, "DecodeCompressed", f"inflate() failed: {e}") from None
    if not d.eof:
        raise op_error(DataLossError, "DecodeCompressed", "inflate() failed: truncated input")
    return out


def _decompress_kernel(x, *, compression_type):
    if compression_type == "":
        return x.copy()
    wbits = zlib.MAX_WBITS if compression_type == "ZLIB" else 16 + zlib.MAX_WBITS
    return _map_bytes(x, lambda s: _inflate(s, wbits))


decode_compressed_p = primitive(
    "DecodeCompressed", _decompress_kernel, _same_shape, dtypes=_STR, host=True
)


@tf_export("io.decode_compressed")
def decode_compressed(bytes, compression_type: str = "", name=None):  # noqa: A002
    """Decompress each string: ``compression_type`` ``""`` (none), ``"ZLIB"`` or ``"GZIP"``."""
    ct = (compression_type or "").upper()
    if ct == "ZSTD":
        raise UnimplementedError(
            None,
            "DecodeCompressed",
            "DecodeCompressed: ZSTD is not supported by rill; use ZLIB or GZIP",
        )
    if ct not in ("", "ZLIB", "GZIP"):
        raise op_error(
            InvalidArgumentError,
            "DecodeCompressed",
            f"Only ZLIB, ZSTD, GZIP or NONE are supported compressions, got {compression_type!r}",
        )
    x = _strings(bytes, "decode_compressed")
    return bind(decode_compressed_p, (x,), {"compression_type": ct})


# --------------------------------------------------------------------------------------
# decode_csv
# --------------------------------------------------------------------------------------

_CSV_TYPES = (_d.int32, _d.int64, _d.float32, _d.float64, _d.string)
_INT = re.compile(r"\s*[+-]?\d+\s*")
_FLOAT = re.compile(
    r"\s*[+-]?((\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|inf|infinity|nan)\s*", re.IGNORECASE
)


def _csv_err(msg):
    return op_error(InvalidArgumentError, "DecodeCSV", msg)


def _split_record(rec: bytes, delim: int, quote: bool, r: int) -> list:
    """The fields of one CSV record, with TensorFlow's quoting rules."""
    if not rec:
        return []
    fields, i, n = [], 0, len(rec)
    while True:
        if quote and i < n and rec[i] == 0x22:  # a quoted field: "" stands for "
            out = bytearray()
            i += 1
            while True:
                if i >= n:
                    raise _csv_err("Quoted field has to end with quote followed by delim or end")
                c = rec[i]
                if c == 0x22:
                    if i + 1 < n and rec[i + 1] == 0x22:
                        out.append(0x22)
                        i += 2
                        continue
                    i += 1
                    break
                out.append(c)
                i += 1
            if i < n and rec[i] != delim:
                raise _csv_err("Quoted field has to end with quote followed by delim or end")
            fields.append(bytes(out))
        else:
            j = rec.find(bytes([delim]), i)
            j = n if j < 0 else j
            f = rec[i:j]
            if quote and (b'"' in f or b"\r" in f or b"\n" in f):
                raise _csv_err("Unquoted fields cannot have quotes/CRLFs inside")
            fields.append(f)
            i = j
        if i >= n:
            return fields
        i += 1  # past the delimiter; a trailing one leaves an empty last field
        if i >= n:
            fields.append(b"")
            return fields


def _csv_value(s: bytes, dt, f: int, r: int):
    text = s.decode("utf-8", "replace")
    if dt is _d.string:
        return s
    if dt.is_integer:
        if not _INT.fullmatch(text):
            raise _csv_err(f"Field {f} in record {r} is not a valid {dt.name}: {text}")
        v = int(text)
        info = np.iinfo(dt.np)
        if not info.min <= v <= info.max:
            raise _csv_err(f"Field {f} in record {r} is not a valid {dt.name}: {text}")
        return v
    if not _FLOAT.fullmatch(text):
        raise _csv_err(f"Field {f} in record {r} is not a valid {dt.name}: {text}")
    return float(text)


def _csv_kernel(records, *defaults, field_delim, use_quote_delim, na_value, select_cols, dts):
    delim = field_delim.encode()[0]
    na = na_value.encode()
    ncols = len(defaults)
    flat = records.reshape(-1).tolist()
    cols = [[None] * len(flat) for _ in range(ncols)]
    for r, rec in enumerate(flat):
        fields = _split_record(rec, delim, use_quote_delim, r)
        if select_cols is not None:
            fields = [fields[c] for c in select_cols if c < len(fields)]
        if len(fields) != ncols:
            raise _csv_err(f"Expect {ncols} fields but have {len(fields)} in record {r}")
        for f, (s, dt, d) in enumerate(zip(fields, dts, defaults)):
            if s == b"" or (na and s == na):
                if d.size == 0:
                    raise _csv_err(f"Field {f} is required but missing in record {r}!")
                cols[f][r] = d.reshape(-1)[0]
            else:
                cols[f][r] = _csv_value(s, dt, f, r)
    outs = []
    for dt, vals in zip(dts, cols):
        if dt is _d.string:
            a = np.empty(len(vals), object)
            a[:] = vals
        else:
            a = np.array(vals, dt.np) if vals else np.zeros(0, dt.np)
        outs.append(a.reshape(records.shape))
    return tuple(outs)


def _csv_rule(records, *defaults, **_):
    return tuple(AVal(records.shape, d.dtype) for d in defaults)


decode_csv_p = primitive("DecodeCSV", _csv_kernel, _csv_rule, n_out=-1, host=True)


@tf_export("io.decode_csv")
def decode_csv(
    records,
    record_defaults,
    field_delim: str = ",",
    use_quote_delim: bool = True,
    na_value: str = "",
    select_cols=None,
    name=None,
) -> list:
    """Split CSV ``records`` into one tensor per column (each of ``records``' shape);
    ``record_defaults`` gives each column's dtype and its value when a field is empty
    (an empty tensor makes the column required)."""
    recs = _strings(records, "decode_csv")
    if len(field_delim) != 1:
        raise op_error(InvalidArgumentError, "DecodeCSV", "field_delim should be only 1 char")
    defaults = []
    for i, d in enumerate(record_defaults):
        t = convert_to_tensor(d)
        if t.dtype not in _CSV_TYPES:
            raise TypeError(
                f"decode_csv: record_defaults[{i}] has dtype {t.dtype.name}; valid types are "
                "int32, int64, float32, float64 and string"
            )
        if t.shape.rank is not None and (
            t.shape.rank > 1 or t.shape.num_elements() not in (0, 1, None)
        ):
            raise op_error(
                InvalidArgumentError,
                "DecodeCSV",
                f"record_defaults[{i}] must be a scalar or have at most one element, got shape {t.shape}",
            )
        defaults.append(t)
    cols = None
    if select_cols is not None:
        cols = tuple(int(c) for c in select_cols)
        if any(c < 0 for c in cols):
            raise ValueError("select_cols contains negative values.")
        if any(b <= a for a, b in zip(cols, cols[1:])):
            raise ValueError("select_cols is not strictly increasing.")
        if len(cols) != len(defaults):
            raise ValueError("Length of select_cols and record_defaults do not match.")
    params = {
        "field_delim": field_delim,
        "use_quote_delim": bool(use_quote_delim),
        "na_value": na_value,
        "select_cols": cols,
        "dts": tuple(t.dtype for t in defaults),
    }
    out = bind(decode_csv_p, (recs, *defaults), params)
    return list(out) if isinstance(out, tuple) else [out]


# --------------------------------------------------------------------------------------
# decode_json_example
# --------------------------------------------------------------------------------------


def _json_kernel(x):
    from rill.data.example import message_classes

    Example = message_classes()["Example"]
    from google.protobuf import json_format

    def one(s):
        try:
            return json_format.Parse(s, Example()).SerializeToString()
        except json_format.ParseError as e:
            raise op_error(
                InvalidArgumentError, "DecodeJSONExample", f"Error while parsing JSON: {e}"
            ) from None

    return _map_bytes(x, one)


decode_json_example_p = primitive(
    "DecodeJSONExample", _json_kernel, _same_shape, dtypes=_STR, host=True
)


@tf_export("io.decode_json_example")
def decode_json_example(json_examples, name=None):
    """Convert JSON-encoded ``tf.train.Example`` protos to their binary serialization
    (needs ``protobuf``)."""
    return bind(decode_json_example_p, (_strings(json_examples, "decode_json_example"),))
