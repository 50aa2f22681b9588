"""``tf.strings``: string tensors (NumPy object arrays of ``bytes``) and the ops on them.

Every op is a primitive (kernel on object arrays, shape rule, no gradient), so it runs
eagerly and traces into ``rill.function`` graphs alike. Ops with ragged results (``split``,
``bytes_split``, ``unicode_decode``, ``ngrams`` ...) have kernels that return the flat
values and the nested row splits; the public function builds the RaggedTensor from them.
Ragged inputs are handled through their flat values, as TF does.

Hashes reproduce TF's bucket values exactly: ``to_hash_bucket_fast`` is FarmHash's
Fingerprint64, ``to_hash_bucket_strong`` SipHash-2-4, ``to_hash_bucket`` TF's legacy
MurmurHash64A variant (seed 0xDECAFCAFFE), all computed vectorised over the batch.
"""

from __future__ import annotations

import codecs
import functools
import re

import numpy as np

from rill.core import dtypes as _d
from rill.core.errors import OutOfRangeError
from rill.ops._op import (
    AVal,
    InvalidArgumentError,
    TensorShape,
    bind,
    convert_to_tensor,
    is_tensor_like,
    op_error,
    primitive,
    static_value,
    tf_export,
)

_STR = frozenset([_d.string])
_ASCII_WS = b" \t\n\v\f\r"

# --------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------


def _is_ragged(x) -> bool:
    return hasattr(x, "flat_values") and hasattr(x, "with_flat_values")


def _str_tensor(x, op):
    """``x`` as a string tensor (TypeError for non-string values, as TF's conversion)."""
    if is_tensor_like(x):
        x = convert_to_tensor(x)
        if x.dtype is not _d.string:
            raise TypeError(f"{op}: expected a string tensor, got dtype {x.dtype.name}")
        return x
    return convert_to_tensor(x, dtype=_d.string)


def _as_bytes(s, what="argument") -> bytes:
    if isinstance(s, bytes):
        return s
    if isinstance(s, str):
        return s.encode("utf-8")
    if isinstance(s, np.ndarray) and s.ndim == 0:
        return _as_bytes(s.item(), what)
    raise TypeError(f"{what} must be a string, got {s!r}")


def _flat(a) -> list:
    """The elements of an object array as a list of bytes."""
    return np.asarray(a, dtype=object).reshape(-1).tolist()


def _obj(items, shape=None) -> np.ndarray:
    """A list of bytes as an object array (of ``shape``)."""
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out if shape is None else out.reshape(shape)


def _map_str(a, fn) -> np.ndarray:
    return _obj([fn(s) for s in _flat(a)], np.shape(a))


def _nested_splits(shape, inner) -> list:
    """Row splits for the outer dims of a dense input of ``shape`` (uniform rows) followed
    by ``inner`` (one ragged row per input element)."""
    out = []
    rows = 1
    for i in range(len(shape) - 1):
        rows *= shape[i]
        out.append(_uniform_splits(rows, shape[i + 1]))
    out.append(np.asarray(inner, dtype=np.int64))
    return out


def _uniform_splits(rows, d):
    """``rows + 1`` split points of ``rows`` rows of ``d`` elements each."""
    return np.arange(rows + 1, dtype=np.int64) * d


def _ragged_rule_shapes(x: AVal):
    """Shapes of the nested splits a ragged-result kernel returns for input ``x``."""
    if x.rank is None:
        raise ValueError("the input's rank must be known")
    dims = x.shape.as_list() if x.rank else []
    out = []
    rows = 1
    for d in dims:
        rows = None if rows is None or d is None else rows * d
        out.append(TensorShape([None if rows is None else rows + 1]))
    if not dims:
        out.append(TensorShape([2]))
    return out


def _build_ragged(values, splits):
    """A RaggedTensor from flat ``values`` and nested ``splits`` (outermost first)."""
    from rill.structures.ragged_tensor import RaggedTensor

    rt = values
    for s in reversed(splits):
        rt = RaggedTensor.from_row_splits(rt, s, validate=False)
    return rt


def _ragged_result(outs, rank):
    """Public result of a ragged-result kernel: the dense values for a scalar input, else a
    RaggedTensor with ``rank`` ragged dimensions."""
    values, splits = outs[0], list(outs[1:])
    if rank == 0:
        return values
    return _build_ragged(values, splits)


def _over_flat_values(x, fn):
    """Apply ``fn`` to a RaggedTensor's flat values, keeping its row partitions."""
    return x.with_flat_values(fn(x.flat_values))


def _known_rank(x, op):
    r = x.shape.rank
    if r is None:
        raise ValueError(f"{op}: the input's rank must be known (got shape {x.shape})")
    return r


def _elementwise_rule(out_dtype=None):
    def rule(x, **_):
        return AVal(x.shape, out_dtype or x.dtype)

    return rule


# --------------------------------------------------------------------------------------
# length, lower, upper, strip
# --------------------------------------------------------------------------------------


def _utf8_char_counts(items) -> np.ndarray:
    """Characters per string: the bytes that are not UTF-8 continuation bytes (TF's count,
    also for invalid UTF-8)."""
    lens = np.fromiter(map(len, items), np.int64, count=len(items))
    buf = np.frombuffer(b"".join(items), np.uint8)
    cont = np.flatnonzero((buf & 0xC0) == 0x80)  # few in mostly-ASCII text
    ends = np.cumsum(lens)
    return lens - (np.searchsorted(cont, ends) - np.searchsorted(cont, ends - lens))


def _length_kernel(x, unit):
    items = _flat(x)
    if unit == "BYTE":
        out = np.fromiter(map(len, items), np.int32, count=len(items))
    else:
        out = _utf8_char_counts(items).astype(np.int32)
    return out.reshape(x.shape)


length_p = primitive(
    "StringLength", _length_kernel, _elementwise_rule(_d.int32), dtypes=_STR, host=True
)


def _check_unit(op, unit):
    if unit not in ("BYTE", "UTF8_CHAR"):
        raise op_error(
            InvalidArgumentError,
            op,
            f"Value for attr 'unit' of \"{unit}\" is not in the list of allowed values: "
            f'"BYTE", "UTF8_CHAR"',
        )


@tf_export("strings.length")
def length(input, unit: str = "BYTE", name=None):  # noqa: A002 - TF's argument name
    """The length of each string, in bytes (``unit="BYTE"``) or UTF-8 characters
    (``"UTF8_CHAR"``), as int32."""
    if _is_ragged(input):
        return _over_flat_values(input, lambda v: length(v, unit))
    _check_unit("StringLength", unit)
    return bind(length_p, (_str_tensor(input, "StringLength"),), {"unit": unit})


def _case_kernel(x, encoding, upper):
    if encoding:

        def f(s):
            t = s.decode("utf-8", "replace")  # invalid UTF-8 becomes U+FFFD, as in TF
            return (t.upper() if upper else t.lower()).encode("utf-8")

        return _map_str(x, f)
    return _map_str(x, bytes.upper if upper else bytes.lower)


lower_p = primitive(
    "StringLower", lambda x, encoding: _case_kernel(x, encoding, False), _elementwise_rule(),
    dtypes=_STR, host=True,
)  # fmt: skip
upper_p = primitive(
    "StringUpper", lambda x, encoding: _case_kernel(x, encoding, True), _elementwise_rule(),
    dtypes=_STR, host=True,
)  # fmt: skip


def _check_encoding(op, encoding):
    if encoding not in ("", "utf-8"):
        raise op_error(
            InvalidArgumentError,
            op,
            f"only utf-8 or '' (no encoding) is supported, received {encoding}",
        )


@tf_export("strings.lower")
def lower(input, encoding: str = "", name=None):  # noqa: A002
    """Lower-case each string: ASCII letters only, or all of Unicode with
    ``encoding="utf-8"``."""
    if _is_ragged(input):
        return _over_flat_values(input, lambda v: lower(v, encoding))
    _check_encoding("StringLower", encoding)
    return bind(lower_p, (_str_tensor(input, "StringLower"),), {"encoding": encoding})


@tf_export("strings.upper")
def upper(input, encoding: str = "", name=None):  # noqa: A002
    """Upper-case each string: ASCII letters only, or all of Unicode (``ß`` -> ``SS``)
    with ``encoding="utf-8"``."""
    if _is_ragged(input):
        return _over_flat_values(input, lambda v: upper(v, encoding))
    _check_encoding("StringUpper", encoding)
    return bind(upper_p, (_str_tensor(input, "StringUpper"),), {"encoding": encoding})


strip_p = primitive(
    "StringStrip", lambda x: _map_str(x, lambda s: s.strip(_ASCII_WS)), _elementwise_rule(),
    dtypes=_STR, host=True,
)  # fmt: skip


@tf_export("strings.strip")
def strip(input, name=None):  # noqa: A002
    """Remove leading and trailing ASCII whitespace from each string."""
    if _is_ragged(input):
        return _over_flat_values(input, strip)
    return bind(strip_p, (_str_tensor(input, "StringStrip"),))


# --------------------------------------------------------------------------------------
# Ragged-result kernels: split, bytes_split
# --------------------------------------------------------------------------------------


def _pieces_result(x, pieces):
    """(values, *nested splits) from a list of lists, one per element of ``x``."""
    counts = np.fromiter(map(len, pieces), np.int64, count=len(pieces))
    inner = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    values = _obj([p for ps in pieces for p in ps])
    return (values, *_nested_splits(x.shape if x.ndim else (), inner))


def _ragged_rule(out_dtype):
    def rule(x, **_):
        return (AVal([None], out_dtype), *(AVal(s, _d.int64) for s in _ragged_rule_shapes(x)))

    return rule


def _ws_split(s: bytes, m: int) -> list:
    """Whitespace split as TF does it: with ``maxsplit`` m > 0, a string holding exactly m
    tokens gets an empty remainder appended; with m == 0 it is kept whole."""
    if m == 0:
        return [s]
    parts = s.split(None, m)
    if 0 < m == len(parts):
        parts.append(b"")
    return parts


def _split_kernel(x, sep, maxsplit):
    m = maxsplit if maxsplit >= 0 else -1
    if sep:
        return _pieces_result(x, [e.split(sep, m) for e in _flat(x)])
    return _pieces_result(x, [_ws_split(e, m) for e in _flat(x)])


split_p = primitive(
    "StringSplitV2", _split_kernel, _ragged_rule(_d.string), n_out=-1, dtypes=_STR, host=True
)


@tf_export("strings.split")
def split(input, sep=None, maxsplit: int = -1, name=None):  # noqa: A002
    """Split each string at ``sep`` (runs of ASCII whitespace when None or empty), at most
    ``maxsplit`` times; a RaggedTensor with one more dimension than ``input`` (a dense
    1-D tensor for a scalar)."""
    if _is_ragged(input):
        return _over_flat_values(input, lambda v: split(v, sep, maxsplit))
    x = _str_tensor(input, "StringSplit")
    r = _known_rank(x, "strings.split")
    params = {"sep": b"" if sep is None else _as_bytes(sep, "sep"), "maxsplit": int(maxsplit)}
    return _ragged_result(bind(split_p, (x,), params), r)


def _bytes_split_kernel(x):
    return _pieces_result(x, [[e[i : i + 1] for i in range(len(e))] for e in _flat(x)])


bytes_split_p = primitive(
    "StringBytesSplit",
    _bytes_split_kernel,
    _ragged_rule(_d.string),
    n_out=-1,
    dtypes=_STR,
    host=True,
)


@tf_export("strings.bytes_split")
def bytes_split(input, name=None):  # noqa: A002
    """Split each string into its bytes; a RaggedTensor (dense 1-D for a scalar)."""
    if _is_ragged(input):
        return _over_flat_values(input, bytes_split)
    x = _str_tensor(input, "StringBytesSplit")
    return _ragged_result(bind(bytes_split_p, (x,)), _known_rank(x, "strings.bytes_split"))


# --------------------------------------------------------------------------------------
# join, reduce_join, unsorted_segment_join
# --------------------------------------------------------------------------------------


def _join_shape(op, shapes):
    out = None
    for s in shapes:
        if s.rank == 0:
            continue
        if out is None:
            out = s
        elif not out.is_compatible_with(s):
            raise op_error(
                InvalidArgumentError, op, f"Input shapes do not match: {list(out)} vs. {list(s)}"
            )
        else:
            out = out.merge_with(s)
    return TensorShape([]) if out is None else out


def _join_rule(*xs, separator):
    return AVal(_join_shape("StringJoin", [x.shape for x in xs]), _d.string)


def _join_kernel(*xs, separator):
    shape = _join_shape("StringJoin", [TensorShape(x.shape) for x in xs]).as_list()
    flats = [_flat(np.broadcast_to(x, shape)) for x in xs]
    if not flats:
        return _obj([b""], ())
    return _obj([separator.join(t) for t in zip(*flats)], shape)


join_p = primitive("StringJoin", _join_kernel, _join_rule, n_out=1, dtypes=_STR, host=True)


@tf_export("strings.join")
def join(inputs, separator="", name=None):
    """Join the strings of several tensors elementwise with ``separator``. Inputs have the
    same shape or are scalars."""
    xs = tuple(_str_tensor(x, "StringJoin") for x in inputs)
    return bind(join_p, xs, {"separator": _as_bytes(separator, "separator")})


def _rj_axes(rank, axis):
    if axis is None:
        return tuple(range(rank - 1, -1, -1))
    axes = []
    for a in axis:
        if not -rank <= a < rank:
            raise op_error(
                OutOfRangeError,
                "ReduceJoin",
                f"Invalid reduction dimension {a} for input with {rank} dimension(s)",
            )
        a %= rank
        if a in axes:
            raise op_error(InvalidArgumentError, "ReduceJoin", f"Duplicate reduction dimension {a}")
        axes.append(a)
    return tuple(axes)


def _rj_rule(x, axis, keepdims, separator):
    if x.rank is None:
        return AVal(TensorShape(None), _d.string)
    axes = _rj_axes(x.rank, axis)
    dims = x.shape.as_list()
    if keepdims:
        return AVal([1 if i in axes else d for i, d in enumerate(dims)], _d.string)
    return AVal([d for i, d in enumerate(dims) if i not in axes], _d.string)


def _rj_kernel(x, axis, keepdims, separator):
    axes = _rj_axes(x.ndim, axis)
    keep = [i for i in range(x.ndim) if i not in axes]
    t = np.transpose(x, keep + list(axes)[::-1])  # the first listed axis varies fastest
    kept = [x.shape[i] for i in keep]
    rows = t.reshape(int(np.prod(kept, dtype=np.int64)), -1) if t.size else None
    n = int(np.prod(kept, dtype=np.int64))
    out = [separator.join(r) for r in rows.tolist()] if rows is not None else [b""] * n
    shape = [1 if i in axes else d for i, d in enumerate(x.shape)] if keepdims else kept
    return _obj(out, shape)


reduce_join_p = primitive("ReduceJoin", _rj_kernel, _rj_rule, dtypes=_STR, host=True)


@tf_export("strings.reduce_join")
def reduce_join(inputs, axis=None, keepdims: bool = False, separator="", name=None):
    """Join the strings along ``axis`` (all axes when None) with ``separator``. For a
    RaggedTensor, ``axis`` must be its last (ragged) dimension."""
    sep = _as_bytes(separator, "separator")
    if _is_ragged(inputs):
        return _ragged_reduce_join(inputs, axis, keepdims, sep)
    x = _str_tensor(inputs, "ReduceJoin")
    if axis is not None:
        a = static_value(axis) if is_tensor_like(axis) else np.asarray(axis)
        if a is None:
            raise ValueError("reduce_join: axis must be a constant")
        axis = tuple(int(v) for v in np.reshape(a, -1))
    return bind(reduce_join_p, (x,), {"axis": axis, "keepdims": bool(keepdims), "separator": sep})


def _ragged_reduce_join(rt, axis, keepdims, sep):
    rank = rt.shape.rank
    if axis is None or int(np.reshape(axis, -1)[0]) % rank != rank - 1 or np.size(axis) != 1:
        raise NotImplementedError(
            "strings.reduce_join on a RaggedTensor supports only its last axis in rill"
        )
    if _is_ragged(rt.values):
        out = rt.with_values(_ragged_reduce_join(rt.values, -1, keepdims, sep))
        return out
    vals = rt.values
    res = bind(segment_join_p, (_str_tensor(vals, "ReduceJoin"), rt.row_splits), {"separator": sep})
    if keepdims:
        from rill.ops.shape_ops import expand_dims

        res = expand_dims(res, -1)
    return res


def _segment_join_kernel(values, splits, separator):
    items = _flat(values)
    sp = np.asarray(splits).tolist()
    return _obj([separator.join(items[a:b]) for a, b in zip(sp[:-1], sp[1:])])


def _segment_join_rule(values, splits, separator):
    n = splits.shape[0] if splits.rank == 1 else None
    return AVal([None if n is None else n - 1], _d.string)


segment_join_p = primitive(
    "RaggedReduceJoin", _segment_join_kernel, _segment_join_rule, dtypes=_STR, n_typed=1, host=True
)


def _usj_kernel(x, ids, n, separator):
    ids = np.asarray(ids)
    n = int(n)
    if ids.size and (ids.min() < 0 or ids.max() >= n):
        raise op_error(
            InvalidArgumentError,
            "UnsortedSegmentJoin",
            "segment_ids are not allowed to exceed num_segments or to have negative values.",
        )
    inner = x.shape[ids.ndim :]
    groups = [[] for _ in range(n)]
    rows = x.reshape((ids.size, -1)).tolist() if x.size else [[] for _ in range(ids.size)]
    for i, r in zip(ids.reshape(-1).tolist(), rows):
        groups[i].append(r)
    m = int(np.prod(inner, dtype=np.int64))
    out = []
    for g in groups:
        out.extend(separator.join(col) for col in zip(*g)) if g else out.extend([b""] * m)
    return _obj(out, (n, *inner))


def _usj_rule(x, ids, n, separator):
    if x.rank is None or ids.rank is None:
        return AVal(TensorShape(None), _d.string)
    k = n.value
    return AVal([None if k is None else int(k)] + x.shape.as_list()[ids.rank :], _d.string)


usj_p = primitive("UnsortedSegmentJoin", _usj_kernel, _usj_rule, dtypes=_STR, n_typed=1, host=True)


@tf_export("strings.unsorted_segment_join")
def unsorted_segment_join(inputs, segment_ids, num_segments, separator="", name=None):
    """Join the strings of ``inputs`` that share a segment id (in input order); segments
    with no strings are empty."""
    x = _str_tensor(inputs, "UnsortedSegmentJoin")
    ids = convert_to_tensor(segment_ids)
    n = convert_to_tensor(num_segments)
    return bind(usj_p, (x, ids, n), {"separator": _as_bytes(separator, "separator")})


# --------------------------------------------------------------------------------------
# substr
# --------------------------------------------------------------------------------------


def _substr_shape(x, p, q):
    if p.rank is not None and q.rank is not None and not p.shape.is_compatible_with(q.shape):
        raise op_error(
            InvalidArgumentError,
            "Substr",
            f"pos and len should have the same shape, got: {list(p.shape)} vs. {list(q.shape)}",
        )
    from rill.ops._op import broadcast_shapes

    return broadcast_shapes("Substr", x.shape, p.shape)


def _substr_rule(x, p, q, unit):
    return AVal(_substr_shape(x, p, q), _d.string)


def _char_starts(s: bytes) -> np.ndarray:
    a = np.frombuffer(s, np.uint8)
    return np.concatenate([np.flatnonzero((a & 0xC0) != 0x80), [len(s)]])


def _substr_kernel(x, pos, ln, unit):
    shape = _substr_shape(*(AVal(np.shape(a), _d.string) for a in (x, pos, ln))).as_list()
    xs = _flat(np.broadcast_to(x, shape))
    ps = np.broadcast_to(pos, shape).reshape(-1).tolist()
    ls = np.broadcast_to(ln, shape).reshape(-1).tolist()
    out = []
    for i, (s, p, n) in enumerate(zip(xs, ps, ls)):
        if unit == "BYTE":
            size = len(s)
            q = p + size if p < 0 else p
            if not 0 <= q <= size:
                raise op_error(
                    InvalidArgumentError,
                    "Substr",
                    f"pos {p} out of range for string b'{s.decode('latin-1')}' at index {i}",
                )
            out.append(s[q:] if n < 0 else s[q : q + n])
        else:
            starts = _char_starts(s)
            size = len(starts) - 1
            q = p + size if p < 0 else p
            if not 0 <= q <= size:
                raise op_error(
                    InvalidArgumentError, "Substr", f"pos {p} out of range for string at index {i}"
                )
            e = size if n < 0 else min(q + n, size)
            out.append(s[starts[q] : starts[e]])
    return _obj(out, shape)


substr_p = primitive("Substr", _substr_kernel, _substr_rule, dtypes=_STR, n_typed=1, host=True)


@tf_export("strings.substr")
def substr(input, pos, len, unit: str = "BYTE", name=None):  # noqa: A002
    """The substring of each string starting at ``pos`` (negative: from the end) of
    ``len`` bytes or UTF-8 characters. ``pos``/``len`` have one shape and broadcast against
    ``input``; a ``pos`` outside a string raises InvalidArgumentError."""
    if _is_ragged(input):
        return _over_flat_values(input, lambda v: substr(v, pos, len, unit))
    _check_unit("Substr", unit)
    x = _str_tensor(input, "Substr")
    p = convert_to_tensor(pos)
    q = convert_to_tensor(len, dtype=p.dtype) if not is_tensor_like(len) else convert_to_tensor(len)
    for t in (p, q):
        if t.dtype not in (_d.int32, _d.int64):
            raise TypeError(f"Substr: pos and len must be int32 or int64, got {t.dtype.name}")
    if p.dtype is not q.dtype:
        raise TypeError(f"Substr: pos ({p.dtype.name}) and len ({q.dtype.name}) must match")
    return bind(substr_p, (x, p, q), {"unit": unit})


# --------------------------------------------------------------------------------------
# Regular expressions (RE2 syntax mapped onto Python's re)
# --------------------------------------------------------------------------------------

_POSIX = {
    "alnum": "0-9A-Za-z", "alpha": "A-Za-z", "ascii": "\\x00-\\x7f", "blank": "\\t ",
    "cntrl": "\\x00-\\x1f\\x7f", "digit": "0-9", "graph": "!-~", "lower": "a-z",
    "print": " -~", "punct": "!-/:-@\\[-`{-~", "space": "\\t\\n\\v\\f\\r ", "upper": "A-Z",
    "word": "0-9A-Za-z_", "xdigit": "0-9A-Fa-f",
}  # fmt: skip


def _re2_to_python(pattern: str) -> str:
    """Translate the RE2 constructs Python spells differently; reject the Python-only ones
    RE2 lacks (backreferences, lookaround), as TF does."""
    out = []
    i, n = 0, len(pattern)
    in_class = False
    while i < n:
        c = pattern[i]
        if c == "\\" and i + 1 < n:
            d = pattern[i + 1]
            if d == "Q":
                end = pattern.find("\\E", i + 2)
                lit = pattern[i + 2 :] if end < 0 else pattern[i + 2 : end]
                out.append(re.escape(lit))
                i = n if end < 0 else end + 2
                continue
            if d == "z":
                out.append("\\Z")
            elif d == "C":
                out.append(".")
            elif d.isdigit() and d != "0" and not in_class:
                raise ValueError(f"invalid escape sequence: \\{d}")
            elif d in "pP":
                raise ValueError(f"Unicode classes (\\{d}) are not supported by rill")
            else:
                out.append(c + d)
            i += 2
            continue
        if in_class:
            if c == "[" and pattern.startswith("[:", i):
                end = pattern.find(":]", i + 2)
                name = pattern[i + 2 : end] if end > 0 else ""
                neg = name.startswith("^")
                if name.lstrip("^") in _POSIX and not neg:
                    out.append(_POSIX[name])
                    i = end + 2
                    continue
                raise ValueError(f"unsupported character class [:{name}:]")
            if c == "]":
                in_class = False
            out.append(c)
            i += 1
            continue
        if c == "[":
            in_class = True
            out.append(c)
            i += 1
            if i < n and pattern[i] == "^":
                out.append("^")
                i += 1
            if i < n and pattern[i] == "]":
                out.append("\\]")
                i += 1
            continue
        if c == ".":  # any character, but never a byte of invalid UTF-8 (as RE2)
            out.append("[^\\n\\udc80-\\udcff]")
            i += 1
            continue
        if c == "(" and pattern.startswith("(?", i):
            rest = pattern[i + 2 : i + 4]
            if rest[:1] in ("=", "!") or rest in ("<=", "<!"):
                raise ValueError(
                    f"invalid perl operator: (?{rest[:1] if rest[:1] in '=!' else rest}"
                )
            if rest[:1] == "<":
                out.append("(?P<")
                i += 3
                continue
        out.append(c)
        i += 1
    return "".join(out)


@functools.lru_cache(maxsize=256)
def _compile(op: str, pattern: bytes):
    text = pattern.decode("utf-8", "surrogateescape")
    try:
        return re.compile(_re2_to_python(text), re.ASCII)
    except (re.error, ValueError) as e:
        raise op_error(InvalidArgumentError, op, f"Invalid pattern: {text}, error: {e}") from None


@functools.lru_cache(maxsize=256)
def _rewrite_template(rewrite: bytes, ngroups: int) -> str:
    """An RE2 rewrite (``\\0``-``\\9`` groups, ``\\\\`` a backslash) as a Python template."""
    text = rewrite.decode("utf-8", "surrogateescape")
    out = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\":
            d = text[i + 1 : i + 2]
            if d == "\\":
                out.append("\\\\")
            elif d.isdigit() and int(d) <= ngroups:
                out.append(f"\\g<{d}>")
            else:
                raise op_error(
                    InvalidArgumentError,
                    "RegexReplace",
                    f"invalid rewrite pattern: {text} (\\{d} names no group of the pattern, "
                    f"which has {ngroups}; use \\0-\\{ngroups} or \\\\ for a backslash)",
                )
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _to_text(s: bytes) -> str:
    return s.decode("utf-8", "surrogateescape")


def _to_bytes(s: str) -> bytes:
    return s.encode("utf-8", "surrogateescape")


def _rr_kernel(x, pattern, rewrite, replace_global):
    rx = _compile("RegexReplace", bytes(pattern.item()))
    tmpl = _rewrite_template(bytes(rewrite.item()), rx.groups)
    count = 0 if replace_global else 1
    return _map_str(x, lambda s: _to_bytes(rx.sub(tmpl, _to_text(s), count=count)))


def _scalar_pattern_rule(op, out_dtype):
    def rule(x, *pats, **_):
        for p in pats:
            if p.rank not in (None, 0):
                raise op_error(
                    InvalidArgumentError, op, f"pattern must be a scalar, got shape {list(p.shape)}"
                )
        return AVal(x.shape, out_dtype)

    return rule


regex_replace_p = primitive(
    "RegexReplace",
    _rr_kernel,
    _scalar_pattern_rule("RegexReplace", _d.string),
    dtypes=_STR,
    host=True,
)


@tf_export("strings.regex_replace")
def regex_replace(input, pattern, rewrite, replace_global: bool = True, name=None):  # noqa: A002
    """Replace the matches of the RE2 ``pattern`` in each string with ``rewrite`` (``\\1``
    inserts a group, ``\\0`` the match); only the first match unless ``replace_global``."""
    x = _str_tensor(input, "RegexReplace")
    p, r = _str_tensor(pattern, "RegexReplace"), _str_tensor(rewrite, "RegexReplace")
    return bind(regex_replace_p, (x, p, r), {"replace_global": bool(replace_global)})


def _rfm_kernel(x, pattern):
    rx = _compile("RegexFullMatch", bytes(pattern.item()))
    items = _flat(x)
    out = np.fromiter(
        (rx.fullmatch(_to_text(s)) is not None for s in items), bool, count=len(items)
    )
    return out.reshape(x.shape)


regex_full_match_p = primitive(
    "RegexFullMatch",
    _rfm_kernel,
    _scalar_pattern_rule("RegexFullMatch", _d.bool),
    dtypes=_STR,
    host=True,
)


@tf_export("strings.regex_full_match")
def regex_full_match(input, pattern, name=None):  # noqa: A002
    """Whether each whole string matches the RE2 ``pattern`` (bool)."""
    x = _str_tensor(input, "RegexFullMatch")
    return bind(regex_full_match_p, (x, _str_tensor(pattern, "RegexFullMatch")))


# --------------------------------------------------------------------------------------
# to_number
# --------------------------------------------------------------------------------------

_FLOAT_RE = re.compile(
    rb"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf(?:inity)?|nan(?:\([0-9A-Za-z_]*\))?"
    rb"|(0x(?:[0-9a-f]+\.?[0-9a-f]*|\.[0-9a-f]+)(?:p[+-]?\d+)?))",
    re.IGNORECASE,
)
_INT_RE = re.compile(rb"[+-]?\d+")
_TO_NUMBER = (_d.float32, _d.float64, _d.int32, _d.int64, _d.uint32, _d.uint64)


def _parse_float(s: bytes) -> float:
    t = s.strip(_ASCII_WS)
    m = _FLOAT_RE.fullmatch(t)
    if m is None:
        raise op_error(
            InvalidArgumentError,
            "StringToNumber",
            f"StringToNumberOp could not correctly convert string: {s.decode('utf-8', 'replace')}",
        )
    if m.group(1) is not None:
        return float.fromhex(t.decode())
    low = t.lower().lstrip(b"+-")
    if low.startswith(b"nan"):
        return float("nan")
    return float(t)


def _to_number_kernel(x, out_type):
    items = _flat(x)
    if out_type.is_floating:
        vals = np.array([_parse_float(s) for s in items], dtype=np.float64)
        with np.errstate(over="ignore"):
            return vals.astype(out_type.np).reshape(x.shape)
    info = np.iinfo(out_type.np)
    out = np.empty(len(items), out_type.np)
    for i, s in enumerate(items):
        t = s.strip(_ASCII_WS)
        v = int(t) if _INT_RE.fullmatch(t) else None
        if v is None or not info.min <= v <= info.max:
            raise op_error(
                InvalidArgumentError,
                "StringToNumber",
                f"StringToNumberOp could not correctly convert string: "
                f"{s.decode('utf-8', 'replace')}",
            )
        out[i] = v
    return out.reshape(x.shape)


to_number_p = primitive(
    "StringToNumber",
    _to_number_kernel,
    lambda x, out_type: AVal(x.shape, out_type),
    dtypes=_STR,
    host=True,
)


@tf_export("strings.to_number")
def to_number(input, out_type=_d.float32, name=None):  # noqa: A002
    """Parse each string as a number of ``out_type`` (float32/64, int32/64, uint32/64).
    Decimal, hexadecimal (floats), ``inf`` and ``nan`` parse like strtod; a string that
    does not parse or overflows an integer type raises InvalidArgumentError."""
    dt = _d.as_dtype(out_type)
    if dt not in _TO_NUMBER:
        raise op_error(
            InvalidArgumentError,
            "StringToNumber",
            f"Value for attr 'out_type' of {dt.name} is not in the list of allowed values: "
            f"float, double, int32, int64, uint32, uint64",
        )
    if _is_ragged(input):
        return _over_flat_values(input, lambda v: to_number(v, dt))
    return bind(to_number_p, (_str_tensor(input, "StringToNumber"),), {"out_type": dt})


# --------------------------------------------------------------------------------------
# as_string
# --------------------------------------------------------------------------------------

_FILLS = ("", " ", "+", "-", "#", "0")


class _NonFiniteAware:
    """``fmt % v`` for finite ``v``; ``plain % v`` (space padding) for nan and inf."""

    def __init__(self, fmt, plain):
        self.fmt, self.plain = fmt, plain

    def __mod__(self, v):
        return (self.fmt if np.isfinite(v) else self.plain) % v


def _as_string_kernel(x, precision, scientific, shortest, width, fill):
    kind = x.dtype.kind
    w = str(width) if width > -1 else ""
    if kind == "b":
        return _map_str(x, lambda v: b"true" if v else b"false")
    if kind == "O":
        fmt = ("%" + fill + w + "s").encode()
        return _map_str(x, lambda v: fmt % v)
    if kind in "iu":
        fmt = "%" + fill + w + "d"
        out = [(fmt % v).encode() for v in x.reshape(-1).tolist()]
        return _obj(out, x.shape)
    conv = "e" if scientific else "g" if shortest else "f"
    fmt = "%" + fill + w + (f".{precision}" if precision > -1 else "") + conv
    if fill == "0":  # printf pads nan/inf with spaces, never zeros
        plain = "%" + w + conv
        fmt = _NonFiniteAware(fmt, plain)
    if kind == "c":
        out = [
            f"({fmt % v.real},{fmt % v.imag})".encode()
            for v in x.astype(np.complex128).reshape(-1).tolist()
        ]
    else:
        out = [(fmt % v).encode() for v in x.astype(np.float64).reshape(-1).tolist()]
    return _obj(out, x.shape)


as_string_p = primitive("AsString", _as_string_kernel, _elementwise_rule(_d.string), host=True)


@tf_export("strings.as_string", "as_string")
def as_string(
    input,  # noqa: A002
    precision: int = -1,
    scientific: bool = False,
    shortest: bool = False,
    width: int = -1,
    fill: str = "",
    name=None,
):
    """Format each number as a string: floats with ``precision`` decimals (6 by default),
    in ``scientific`` or ``shortest`` (``%g``) notation, ints in decimal, bools as
    ``true``/``false``; padded to ``width`` with the printf flag ``fill`` (``"0"``,
    ``" "``, ``"+"``, ``"-"``, ``"#"``)."""
    if _is_ragged(input):
        return _over_flat_values(
            input, lambda v: as_string(v, precision, scientific, shortest, width, fill)
        )
    x = convert_to_tensor(input)
    dt = x.dtype

    def bad(msg):
        return op_error(InvalidArgumentError, "AsString", msg)

    if len(fill) > 1:
        raise bad("Fill string must be one or fewer characters")
    if fill not in _FILLS:
        raise bad(f'Fill argument not supported: "{fill}"')
    if scientific and shortest:
        raise bad("Cannot select both scientific and shortest notation")
    if not (dt.is_floating or dt.is_complex):
        if precision > -1:
            raise bad(f"precision not supported for datatype {dt.name}")
        if scientific or shortest:
            raise bad(f"scientific and shortest format not supported for datatype {dt.name}")
    if dt is _d.variant:
        raise bad("AsString does not support variant tensors")
    params = {
        "precision": int(precision), "scientific": bool(scientific), "shortest": bool(shortest),
        "width": int(width), "fill": fill,
    }  # fmt: skip
    return bind(as_string_p, (x,), params)


# --------------------------------------------------------------------------------------
# format
# --------------------------------------------------------------------------------------


def _c_escape(s: bytes) -> str:
    out = []
    for b in s:
        if b == 0x0A:
            out.append("\\n")
        elif b == 0x0D:
            out.append("\\r")
        elif b == 0x09:
            out.append("\\t")
        elif b in (0x22, 0x27, 0x5C):
            out.append("\\" + chr(b))
        elif b < 0x20 or b == 0x7F:
            out.append(f"\\{b:03o}")
        else:  # bytes >= 0x80 pass through raw (surrogate-escaped until the final encode)
            out.append(chr(b) if b < 0x80 else chr(0xDC00 + b))
    return "".join(out)


def _scalar_formatter(a: np.ndarray):
    kind = a.dtype.kind
    if kind == "O":
        return lambda v: '"' + _c_escape(v) + '"'
    if kind == "b":
        return lambda v: "1" if v else "0"
    if kind in "iu":
        return str
    if kind == "f":
        if a.dtype.itemsize >= 8:
            short, long_, cast = "%.15g", "%.17g", float
        else:
            short, long_, cast = "%.6g", "%.9g", lambda v: float(np.float32(v))

        def f(v):
            s = short % v
            return s if v != v or cast(float(s)) == v else long_ % v

        return f
    return lambda v: "?"


def _summarize(a, summarize, fmt, depth=0) -> str:
    if a.ndim == 0:
        return fmt(a.item())
    n = a.shape[0]
    if a.ndim == 1:
        sep = " "
        vals = a.tolist()
        item = lambda i: fmt(vals[i])  # noqa: E731
    else:
        sep = "\n" * (a.ndim - 1) + " " * (depth + 1)
        item = lambda i: _summarize(a[i], summarize, fmt, depth + 1)  # noqa: E731
    if a.size == 0 and a.ndim == 1:
        return "[]"
    if summarize >= 0 and n > 2 * summarize:
        head = sep.join(item(i) for i in range(summarize))
        tail = sep.join(item(i) for i in range(n - summarize, n))
        return "[" + head + sep + "..." + (sep + tail if tail else "") + "]"
    return "[" + sep.join(item(i) for i in range(n)) + "]"


def _format_kernel(*xs, template, placeholder, summarize):
    parts = template.split(placeholder)
    out = [parts[0]]
    for x, p in zip(xs, parts[1:]):
        a = np.asarray(x)
        if a.dtype.kind == "V" or (a.dtype.kind == "f" and a.dtype.itemsize < 4):
            a = a.astype(np.float32)  # float16, bfloat16
        out.append(_summarize(a, summarize, _scalar_formatter(a)))
        out.append(p)
    return _obj(["".join(out).encode("utf-8", "surrogateescape")], ())


def _format_rule(*xs, template, placeholder, summarize):
    return AVal([], _d.string)


format_p = primitive("StringFormat", _format_kernel, _format_rule, host=True)


@tf_export("strings.format")
def format(template, inputs, placeholder="{}", summarize: int = 3, name=None):  # noqa: A001
    """A scalar string: ``template`` with each ``placeholder`` replaced by the next input,
    printed like TF (``[1 2 ... 9 10]``: dimensions longer than ``2 * summarize`` show
    their first and last ``summarize`` entries; -1 shows all)."""
    if is_tensor_like(inputs):
        inputs = [inputs]
    if not isinstance(inputs, (list, tuple)):
        raise TypeError(f"object of type '{type(inputs).__name__}' has no len()")
    tmpl = template.decode() if isinstance(template, bytes) else str(template)
    n = tmpl.count(placeholder)
    if n != len(inputs):
        raise ValueError(
            f"The template expects {n} tensors, but the inputs only has {len(inputs)}. Please "
            f"ensure the number of placeholders in template matches inputs length."
        )
    xs = tuple(convert_to_tensor(x) for x in inputs)
    params = {"template": tmpl, "placeholder": placeholder, "summarize": int(summarize)}
    return bind(format_p, xs, params)


# --------------------------------------------------------------------------------------
# Hashing (vectorised over the batch: per-string offsets into one byte buffer)
# --------------------------------------------------------------------------------------

_K0 = np.uint64(0xC3A5C85C97CB3127)
_K1 = np.uint64(0xB492B66FBE98F273)
_K2 = np.uint64(0x9AE16A3B2F90404F)


class _Buf:
    """The strings' bytes in one zero-padded buffer, with each string's start and length;
    ``u64``/``u32`` read little-endian words at any byte offsets through one overlapping
    (unaligned, stride-1) view of the buffer."""

    def __init__(self, items):
        self.lens = np.fromiter(map(len, items), np.int64, count=len(items))
        self.starts = (np.cumsum(self.lens) - self.lens).astype(np.int64)
        self.buf = np.frombuffer(b"".join(items) + bytes(16), np.uint8)
        n = self.buf.size
        self._w64 = np.ndarray((n - 7,), "<u8", self.buf, 0, (1,))
        self._w32 = np.ndarray((n - 3,), "<u4", self.buf, 0, (1,))

    def u64(self, offs):
        return self._w64[offs].astype(np.uint64)

    def u32(self, offs):
        return self._w32[offs].astype(np.uint64)


def _rot(v, s):
    return (v >> np.uint64(s)) | (v << np.uint64(64 - s))


def _shift_mix(v):
    return v ^ (v >> np.uint64(47))


def _h16(u, v, mul):
    a = (u ^ v) * mul
    a ^= a >> np.uint64(47)
    b = (v ^ a) * mul
    b ^= b >> np.uint64(47)
    return b * mul


def _weak32(b: _Buf, offs, a, c):
    w, x, y, z = b.u64(offs), b.u64(offs + 8), b.u64(offs + 16), b.u64(offs + 24)
    a = a + w
    c = _rot(c + a + z, 21)
    t = a
    a = a + x + y
    c = c + _rot(a, 44)
    return a + z, c + t


def _farmhash64(items) -> np.ndarray:
    """FarmHash Fingerprint64 of each string (TF's ``Fingerprint64``)."""
    b = _Buf(items)
    n, s = b.lens, b.starts
    out = np.full(n.shape, _K2, np.uint64)
    nu = n.astype(np.uint64)
    with np.errstate(over="ignore"):
        m = (n > 0) & (n < 4)
        if m.any():
            ss, nn = s[m], n[m]
            a = b.buf[ss].astype(np.uint64)
            bb = b.buf[ss + (nn >> 1)].astype(np.uint64)
            c = b.buf[ss + nn - 1].astype(np.uint64)
            y = a + (bb << np.uint64(8))
            z = nu[m] + (c << np.uint64(2))
            out[m] = _shift_mix((y * _K2) ^ (z * _K0)) * _K2
        m = (n >= 4) & (n < 8)
        if m.any():
            ss, nn = s[m], n[m]
            mul = _K2 + nu[m] * np.uint64(2)
            a = b.u32(ss)
            out[m] = _h16(nu[m] + (a << np.uint64(3)), b.u32(ss + nn - 4), mul)
        m = (n >= 8) & (n <= 16)
        if m.any():
            ss, nn = s[m], n[m]
            mul = _K2 + nu[m] * np.uint64(2)
            a = b.u64(ss) + _K2
            bb = b.u64(ss + nn - 8)
            c = _rot(bb, 37) * mul + a
            d = (_rot(a, 25) + bb) * mul
            out[m] = _h16(c, d, mul)
        m = (n > 16) & (n <= 32)
        if m.any():
            ss, nn = s[m], n[m]
            mul = _K2 + nu[m] * np.uint64(2)
            a = b.u64(ss) * _K1
            bb = b.u64(ss + 8)
            c = b.u64(ss + nn - 8) * mul
            d = b.u64(ss + nn - 16) * _K2
            out[m] = _h16(_rot(a + bb, 43) + _rot(c, 30) + d, a + _rot(bb + _K2, 18) + c, mul)
        m = (n > 32) & (n <= 64)
        if m.any():
            ss, nn = s[m], n[m]
            mul = _K2 + nu[m] * np.uint64(2)
            a = b.u64(ss) * _K2
            bb = b.u64(ss + 8)
            c = b.u64(ss + nn - 8) * mul
            d = b.u64(ss + nn - 16) * _K2
            y = _rot(a + bb, 43) + _rot(c, 30) + d
            z = _h16(y, a + _rot(bb + _K2, 18) + c, mul)
            e = b.u64(ss + 16) * mul
            f = b.u64(ss + 24)
            g = (y + b.u64(ss + nn - 32)) * mul
            h = (z + b.u64(ss + nn - 24)) * mul
            out[m] = _h16(_rot(e + f, 43) + _rot(g, 30) + h, e + _rot(f + a, 18) + g, mul)
        idx = np.flatnonzero(n > 64)
        if idx.size:
            out[idx] = _farmhash_long(b, idx)
    return out


def _farmhash_long(b: _Buf, idx):
    iters = (b.lens[idx] - 1) // 64
    order = np.argsort(-iters, kind="stable")  # active strings form a prefix at each step
    idx, iters = idx[order], iters[order]
    s, n = b.starts[idx], b.lens[idx]
    seed = np.uint64(81)
    cnt = idx.size
    x = np.full(cnt, seed, np.uint64)
    y = np.full(cnt, seed * _K1 + np.uint64(113), np.uint64)
    z = _shift_mix(y * _K2 + np.uint64(113)) * _K2
    v0 = np.zeros(cnt, np.uint64)
    v1 = np.zeros(cnt, np.uint64)
    w0 = np.zeros(cnt, np.uint64)
    w1 = np.zeros(cnt, np.uint64)
    x = x * _K2 + b.u64(s)
    for k in range(int(iters[0])):
        act = int(np.count_nonzero(iters > k))
        p = s[:act] + 64 * k
        X, Y, Z = x[:act], y[:act], z[:act]
        V0, V1, W0, W1 = v0[:act], v1[:act], w0[:act], w1[:act]
        X = _rot(X + Y + V0 + b.u64(p + 8), 37) * _K1
        Y = _rot(Y + V1 + b.u64(p + 48), 42) * _K1
        X ^= W1
        Y = Y + V0 + b.u64(p + 40)
        Z = _rot(Z + W0, 33) * _K1
        V0, V1 = _weak32(b, p, V1 * _K1, X + W0)
        W0, W1 = _weak32(b, p + 32, Z + W1, Y + b.u64(p + 16))
        x[:act], y[:act], z[:act] = Z, Y, X  # z and x swap
        v0[:act], v1[:act], w0[:act], w1[:act] = V0, V1, W0, W1
    mul = _K1 + ((z & np.uint64(0xFF)) << np.uint64(1))
    p = s + 64 * iters + ((n - 1) & 63) - 63
    w0 = w0 + ((n - 1) & 63).astype(np.uint64)
    v0 = v0 + w0
    w0 = w0 + v0
    x = _rot(x + y + v0 + b.u64(p + 8), 37) * mul
    y = _rot(y + v1 + b.u64(p + 48), 42) * mul
    x ^= w1 * np.uint64(9)
    y = y + v0 * np.uint64(9) + b.u64(p + 40)
    z = _rot(z + w0, 33) * mul
    v0, v1 = _weak32(b, p, v1 * mul, x + w0)
    w0, w1 = _weak32(b, p + 32, z + w1, y + b.u64(p + 16))
    x, z = z, x
    res = _h16(_h16(v0, w0, mul) + _shift_mix(y) * _K0 + z, _h16(v1, w1, mul) + x, mul)
    out = np.empty_like(res)
    out[order] = res
    return out


def _tail(b: _Buf, offs, r):
    """The last ``r`` (< 8) bytes at ``offs`` as a little-endian word."""
    mask = (np.uint64(1) << (8 * r).astype(np.uint64)) - np.uint64(1)
    return b.u64(offs) & mask


def _blocks(b: _Buf):
    """Strings sorted by 8-byte block count (descending) so the strings still hashing a
    block form a prefix: (order, starts, lengths, block counts)."""
    nb = b.lens // 8
    order = np.argsort(-nb, kind="stable")
    return order, b.starts[order], b.lens[order], nb[order]


def _siphash(items, k0: int, k1: int) -> np.ndarray:
    """SipHash-2-4 of each string under the 128-bit key (k0, k1)."""
    b = _Buf(items)
    order, s, n, nb = _blocks(b)
    cnt = n.size
    v = [
        np.full(cnt, np.uint64(k0 ^ 0x736F6D6570736575), np.uint64),
        np.full(cnt, np.uint64(k1 ^ 0x646F72616E646F6D), np.uint64),
        np.full(cnt, np.uint64(k0 ^ 0x6C7967656E657261), np.uint64),
        np.full(cnt, np.uint64(k1 ^ 0x7465646279746573), np.uint64),
    ]

    def rounds(v, r):
        v0, v1, v2, v3 = v
        for _ in range(r):
            v0 = v0 + v1
            v1 = _rotl(v1, 13) ^ v0
            v0 = _rotl(v0, 32)
            v2 = v2 + v3
            v3 = _rotl(v3, 16) ^ v2
            v0 = v0 + v3
            v3 = _rotl(v3, 21) ^ v0
            v2 = v2 + v1
            v1 = _rotl(v1, 17) ^ v2
            v2 = _rotl(v2, 32)
        return [v0, v1, v2, v3]

    with np.errstate(over="ignore"):
        for k in range(int(nb[0]) if cnt else 0):
            act = int(np.count_nonzero(nb > k))
            m = b.u64(s[:act] + 8 * k)
            part = [a[:act] for a in v]
            part[3] = part[3] ^ m
            part = rounds(part, 2)
            part[0] = part[0] ^ m
            for a, p in zip(v, part):
                a[:act] = p
        last = ((n & 0xFF).astype(np.uint64) << np.uint64(56)) | _tail(b, s + 8 * nb, n % 8)
        v[3] = v[3] ^ last
        v = rounds(v, 2)
        v[0] = v[0] ^ last
        v[2] = v[2] ^ np.uint64(0xFF)
        v = rounds(v, 4)
        res = v[0] ^ v[1] ^ v[2] ^ v[3]
    out = np.empty_like(res)
    out[order] = res
    return out


def _rotl(x, b):
    return (x << np.uint64(b)) | (x >> np.uint64(64 - b))


def _legacy_hash64(items) -> np.ndarray:
    """TF's legacy ``Hash64`` (MurmurHash64A, seed 0xDECAFCAFFE) of each string."""
    b = _Buf(items)
    order, s, n, nb = _blocks(b)
    m = np.uint64(0xC6A4A7935BD1E995)
    r = np.uint64(47)
    with np.errstate(over="ignore"):
        h = np.uint64(0xDECAFCAFFE) ^ (n.astype(np.uint64) * m)
        for k in range(int(nb[0]) if n.size else 0):
            act = int(np.count_nonzero(nb > k))
            w = b.u64(s[:act] + 8 * k) * m
            w ^= w >> r
            w *= m
            h[:act] = (h[:act] ^ w) * m
        rem = n % 8
        t = rem > 0
        h[t] = (h[t] ^ _tail(b, (s + 8 * nb)[t], rem[t])) * m
        h ^= h >> r
        h *= m
        h ^= h >> r
    out = np.empty_like(h)
    out[order] = h
    return out


def _bucket(hashes: np.ndarray, num_buckets: int, shape) -> np.ndarray:
    return (hashes % np.uint64(num_buckets)).astype(np.int64).reshape(shape)


def _hash_rule(x, **_):
    return AVal(x.shape, _d.int64)


hash_fast_p = primitive(
    "StringToHashBucketFast",
    lambda x, num_buckets: _bucket(_farmhash64(_flat(x)), num_buckets, x.shape),
    _hash_rule,
    dtypes=_STR,
    host=True,
)
hash_strong_p = primitive(
    "StringToHashBucketStrong",
    lambda x, num_buckets, key: _bucket(_siphash(_flat(x), *key), num_buckets, x.shape),
    _hash_rule,
    dtypes=_STR,
    host=True,
)
hash_legacy_p = primitive(
    "StringToHashBucket",
    lambda x, num_buckets: _bucket(_legacy_hash64(_flat(x)), num_buckets, x.shape),
    _hash_rule,
    dtypes=_STR,
    host=True,
)


def _num_buckets(op, num_buckets) -> int:
    n = int(num_buckets)
    if n < 1:
        raise op_error(
            InvalidArgumentError,
            op,
            f"Value for attr 'num_buckets' of {n} must be at least minimum 1",
        )
    return n


@tf_export("strings.to_hash_bucket_fast")
def to_hash_bucket_fast(input, num_buckets: int, name=None):  # noqa: A002
    """``Fingerprint64(s) % num_buckets`` (int64) for each string: TF's exact buckets."""
    if _is_ragged(input):
        return _over_flat_values(input, lambda v: to_hash_bucket_fast(v, num_buckets))
    n = _num_buckets("StringToHashBucketFast", num_buckets)
    x = _str_tensor(input, "StringToHashBucketFast")
    return bind(hash_fast_p, (x,), {"num_buckets": n})


@tf_export("strings.to_hash_bucket_strong")
def to_hash_bucket_strong(input, num_buckets: int, key, name=None):  # noqa: A002
    """SipHash-2-4 of each string under ``key`` (two ints), ``% num_buckets``."""
    if _is_ragged(input):
        return _over_flat_values(input, lambda v: to_hash_bucket_strong(v, num_buckets, key))
    n = _num_buckets("StringToHashBucketStrong", num_buckets)
    k = [int(v) for v in key]
    if len(k) != 2:
        raise op_error(
            InvalidArgumentError,
            "StringToHashBucketStrong",
            f"Key must have 2 elements, got {len(k)}",
        )
    x = _str_tensor(input, "StringToHashBucketStrong")
    key2 = tuple(v & 0xFFFFFFFFFFFFFFFF for v in k)
    return bind(hash_strong_p, (x,), {"num_buckets": n, "key": key2})


@tf_export("strings.to_hash_bucket")
def to_hash_bucket(input, num_buckets: int, name=None):  # noqa: A002
    """TF's legacy 64-bit hash of each string ``% num_buckets`` (prefer
    ``to_hash_bucket_fast``)."""
    if _is_ragged(input):
        return _over_flat_values(input, lambda v: to_hash_bucket(v, num_buckets))
    n = _num_buckets("StringToHashBucket", num_buckets)
    return bind(hash_legacy_p, (_str_tensor(input, "StringToHashBucket"),), {"num_buckets": n})


# --------------------------------------------------------------------------------------
# Unicode
# --------------------------------------------------------------------------------------

_MARK = "\udfff"  # stands for a decoding error: never produced by a valid decode


def _record_error(exc):
    return (_MARK, exc.end)


codecs.register_error("rill_mark", _record_error)


@functools.lru_cache(maxsize=64)
def _codec(op, encoding: str, direction="input"):
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        raise op_error(
            InvalidArgumentError,
            op,
            f"Could not create converter for {direction} encoding: {encoding}",
        ) from None


def _decode_one(s: bytes, codec, errors, repl, ctrl, op):
    """Code points (int32 array) and byte offsets (int64) of one string."""
    if codec == "utf-8":
        text = s.decode("utf-8", "rill_mark")
    else:
        text = s.decode(codec, "rill_mark")
    cps = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), "<u4").astype(np.int64)
    bad = cps == 0xDFFF
    if bad.any() and errors == "strict":
        raise op_error(InvalidArgumentError, op, "Invalid formatting on input string")
    if codec == "utf-8":
        lens = 1 + (cps >= 0x80) + (cps >= 0x800) + (cps >= 0x10000)
        if bad.any():
            lens[bad] = _error_spans(s, text)
    else:
        lens = np.array([len(c.encode(codec)) if c != _MARK else 0 for c in text], np.int64)
        if bad.any():
            lens[bad] = _error_spans(s, text, codec)
    offs = (np.cumsum(lens) - lens).astype(np.int64)
    if ctrl:
        cps = np.where(cps < 0x20, repl, cps)
    if bad.any():
        if errors == "ignore":
            keep = ~bad
            cps, offs = cps[keep], offs[keep]
        else:
            cps = np.where(bad, repl, cps)
    return cps.astype(np.int32), offs


def _error_spans(s: bytes, text: str, codec="utf-8") -> list:
    """Byte lengths of the invalid stretches a decode replaced (in order)."""
    spans = []

    def handler(exc):
        spans.append(exc.end - exc.start)
        return ("", exc.end)

    codecs.register_error("rill_span", handler)
    s.decode(codec, "rill_span")
    return spans


def _decode_kernel(x, input_encoding, errors, replacement_char, replace_control_characters):
    codec = _codec("UnicodeDecode", input_encoding)
    items = _flat(x)
    res = [
        _decode_one(s, codec, errors, replacement_char, replace_control_characters, "UnicodeDecode")
        for s in items
    ]
    counts = np.fromiter((len(c) for c, _ in res), np.int64, count=len(res))
    inner = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    cps = np.concatenate([c for c, _ in res]) if res else np.zeros(0, np.int32)
    offs = np.concatenate([o for _, o in res]) if res else np.zeros(0, np.int64)
    splits = _nested_splits(x.shape if x.ndim else (), inner)
    return (cps.astype(np.int32), offs.astype(np.int64), *splits)


def _decode_rule(x, **_):
    return (
        AVal([None], _d.int32),
        AVal([None], _d.int64),
        *(AVal(s, _d.int64) for s in _ragged_rule_shapes(x)),
    )


decode_p = primitive(
    "UnicodeDecodeWithOffsets", _decode_kernel, _decode_rule, n_out=-1, dtypes=_STR, host=True
)


def _check_errors(op, errors):
    if errors not in ("strict", "replace", "ignore"):
        raise op_error(
            InvalidArgumentError,
            op,
            f"Value for attr 'errors' of \"{errors}\" is not in the list of allowed values: "
            f'"strict", "replace", "ignore"',
        )


def _decode(input, input_encoding, errors, replacement_char, replace_control_characters, offsets):  # noqa: A002
    if _is_ragged(input):
        if offsets:
            cps = _decode(input.flat_values, input_encoding, errors, replacement_char,
                          replace_control_characters, True)  # fmt: skip
            return input.with_flat_values(cps[0]), input.with_flat_values(cps[1])
        return _over_flat_values(
            input,
            lambda v: _decode(
                v, input_encoding, errors, replacement_char, replace_control_characters, False
            ),  # fmt: skip
        )
    _check_errors("UnicodeDecode", errors)
    x = _str_tensor(input, "UnicodeDecode")
    r = _known_rank(x, "strings.unicode_decode")
    params = {
        "input_encoding": input_encoding, "errors": errors,
        "replacement_char": int(replacement_char),
        "replace_control_characters": bool(replace_control_characters),
    }  # fmt: skip
    outs = bind(decode_p, (x,), params)
    cps = _ragged_result((outs[0], *outs[2:]), r)
    if not offsets:
        return cps
    return cps, _ragged_result((outs[1], *outs[2:]), r)


@tf_export("strings.unicode_decode")
def unicode_decode(
    input,  # noqa: A002
    input_encoding: str,
    errors: str = "replace",
    replacement_char: int = 65533,
    replace_control_characters: bool = False,
    name=None,
):
    """Decode each string into int32 Unicode code points; a RaggedTensor with one more
    dimension (dense 1-D for a scalar). Invalid sequences become ``replacement_char``
    (``errors="replace"``), are dropped (``"ignore"``) or raise (``"strict"``)."""
    return _decode(
        input, input_encoding, errors, replacement_char, replace_control_characters, False
    )


@tf_export("strings.unicode_decode_with_offsets")
def unicode_decode_with_offsets(
    input,  # noqa: A002
    input_encoding: str,
    errors: str = "replace",
    replacement_char: int = 65533,
    replace_control_characters: bool = False,
    name=None,
):
    """``unicode_decode`` plus the int64 byte offset where each character starts."""
    return _decode(
        input, input_encoding, errors, replacement_char, replace_control_characters, True
    )


_OUT_ENCODINGS = ("UTF-8", "UTF-16-BE", "UTF-32-BE")


def _check_output_encoding(op, enc):
    if enc not in _OUT_ENCODINGS:
        raise op_error(
            InvalidArgumentError,
            op,
            f"Value for attr 'output_encoding' of \"{enc}\" is not in the list of allowed "
            f'values: "UTF-8", "UTF-16-BE", "UTF-32-BE"',
        )


def _encode_kernel(values, splits, output_encoding, errors, replacement_char):
    _check_output_encoding("UnicodeEncode", output_encoding)
    codec = _codec("UnicodeEncode", output_encoding, "output")
    cps = np.asarray(values).astype(np.int64)
    bad = (cps < 0) | (cps > 0x10FFFF) | ((cps >= 0xD800) & (cps <= 0xDFFF))
    if bad.any():
        if errors == "strict":
            raise op_error(
                InvalidArgumentError,
                "UnicodeEncode",
                "Code point is out of range for Unicode, or is a surrogate.",
            )
        if errors == "ignore":
            cps = np.where(bad, -1, cps)
        else:
            cps = np.where(bad, replacement_char, cps)
    sp = np.asarray(splits).tolist()
    out = []
    for a, b in zip(sp[:-1], sp[1:]):
        row = cps[a:b]
        row = row[row >= 0]
        text = row.astype("<u4").tobytes().decode("utf-32-le", "surrogatepass")
        out.append(text.encode(codec, "surrogatepass"))
    return _obj(out)


def _encode_rule(values, splits, **_):
    n = splits.shape[0] if splits.rank == 1 else None
    return AVal([None if n is None else n - 1], _d.string)


encode_p = primitive("UnicodeEncode", _encode_kernel, _encode_rule, host=True)


@tf_export("strings.unicode_encode")
def unicode_encode(
    input,  # noqa: A002
    output_encoding: str,
    errors: str = "replace",
    replacement_char: int = 65533,
    name=None,
):
    """Encode int32 code points (innermost dimension, dense or ragged) into strings of
    ``output_encoding``; the result has one dimension less."""
    _check_errors("UnicodeEncode", errors)
    _check_output_encoding("UnicodeEncode", output_encoding)
    params = {
        "output_encoding": output_encoding, "errors": errors,
        "replacement_char": int(replacement_char),
    }  # fmt: skip
    return _encode_any(input, params)


def _encode_any(x, params):
    from rill.ops.array_ops import reshape, shape
    from rill.ops.shape_ops import concat

    if _is_ragged(x):
        vals = x.values
        if _is_ragged(vals) or vals.shape.rank != 1:
            return x.with_values(_encode_any(vals, params))
        return bind(encode_p, (_int_codepoints(vals), x.row_splits), params)
    x = _int_codepoints(x)
    r = _known_rank(x, "strings.unicode_encode")
    if r == 0:
        raise ValueError("unicode_encode: input must have rank >= 1, got a scalar")
    dims = x.shape.as_list()
    last = dims[-1]
    if x.shape.is_fully_defined():
        rows = int(np.prod(dims[:-1], dtype=np.int64))
        splits = convert_to_tensor(_uniform_splits(rows, last))
        out = bind(encode_p, (reshape(x, [-1]), splits), params)
        return reshape(out, dims[:-1])
    from rill.ops.creation_ops import range as _range
    from rill.ops.math_ops import multiply
    from rill.ops.reduction_ops import reduce_prod

    sh = shape(x, out_type=_d.int64)
    rows = reduce_prod(sh[:-1])
    splits = multiply(_range(rows + 1, dtype=_d.int64), sh[-1])
    out = bind(encode_p, (reshape(x, [-1]), splits), params)
    return reshape(out, concat([sh[:-1]], 0)) if r > 1 else reshape(out, [])


def _int_codepoints(x):
    x = convert_to_tensor(x)
    if x.dtype is not _d.int32:
        raise TypeError(f"unicode_encode: code points must be int32, got {x.dtype.name}")
    return x


@tf_export("strings.unicode_split")
def unicode_split(
    input,  # noqa: A002
    input_encoding: str,
    errors: str = "replace",
    replacement_char: int = 65533,
    name=None,
):
    """Split each string into its characters (each re-encoded in ``input_encoding``,
    invalid sequences as ``replacement_char``); ragged like ``unicode_decode``."""
    return unicode_split_with_offsets(input, input_encoding, errors, replacement_char)[0]


@tf_export("strings.unicode_split_with_offsets")
def unicode_split_with_offsets(
    input,  # noqa: A002
    input_encoding: str,
    errors: str = "replace",
    replacement_char: int = 65533,
    name=None,
):
    """``unicode_split`` plus the int64 byte offset where each character starts."""
    cps, offs = unicode_decode_with_offsets(input, input_encoding, errors, replacement_char)
    params = {
        "output_encoding": input_encoding, "errors": errors,
        "replacement_char": int(replacement_char),
    }  # fmt: skip

    def chars(flat):
        from rill.ops.array_ops import shape
        from rill.ops.creation_ops import range as _range

        n = shape(flat, out_type=_d.int64)[0]
        return bind(encode_p, (flat, _range(n + 1, dtype=_d.int64)), params)

    if _is_ragged(cps):
        return cps.with_flat_values(chars(cps.flat_values)), offs
    return chars(cps), offs


def _transcode_kernel(x, input_encoding, output_encoding, errors, replacement_char,
                      replace_control_characters):  # fmt: skip
    cin = _codec("UnicodeTranscode", input_encoding)
    cout = _codec("UnicodeTranscode", output_encoding, "output")
    repl = chr(replacement_char) if 0 <= replacement_char <= 0x10FFFF else "\ufffd"
    ctrl = re.compile("[\x00-\x1f]") if replace_control_characters else None

    def f(s):
        text = s.decode(cin, "rill_mark")
        if _MARK in text:
            if errors == "strict":
                raise op_error(
                    InvalidArgumentError, "UnicodeTranscode", "Invalid formatting on input string"
                )
            text = text.replace(_MARK, "" if errors == "ignore" else repl)
        if ctrl is not None:
            text = ctrl.sub(repl, text)
        return text.encode(cout, "surrogatepass")

    return _map_str(x, f)


transcode_p = primitive(
    "UnicodeTranscode", _transcode_kernel, _elementwise_rule(), dtypes=_STR, host=True
)


@tf_export("strings.unicode_transcode")
def unicode_transcode(
    input,  # noqa: A002
    input_encoding: str,
    output_encoding: str,
    errors: str = "replace",
    replacement_char: int = 65533,
    replace_control_characters: bool = False,
    name=None,
):
    """Re-encode each string from ``input_encoding`` to ``output_encoding`` (e.g.
    ``"UTF-8"``, ``"UTF-16-BE"``), handling invalid input per ``errors``."""
    if _is_ragged(input):
        return _over_flat_values(
            input,
            lambda v: unicode_transcode(
                v,
                input_encoding,
                output_encoding,
                errors,
                replacement_char,
                replace_control_characters,
            ),  # fmt: skip
        )
    _check_errors("UnicodeTranscode", errors)
    _check_output_encoding("UnicodeTranscode", output_encoding)
    params = {
        "input_encoding": input_encoding, "output_encoding": output_encoding,
        "errors": errors, "replacement_char": int(replacement_char),
        "replace_control_characters": bool(replace_control_characters),
    }  # fmt: skip
    return bind(transcode_p, (_str_tensor(input, "UnicodeTranscode"),), params)


# --------------------------------------------------------------------------------------
# ngrams
# --------------------------------------------------------------------------------------


def _ngrams_kernel(values, splits, separator, widths, left, right, pad_width, preserve):
    items = _flat(values)
    sp = np.asarray(splits).tolist()
    out, counts = [], []
    for a, b in zip(sp[:-1], sp[1:]):
        row = items[a:b]
        start = len(out)
        for w in widths:
            p = 0 if pad_width < 0 else min(pad_width if pad_width > 0 else w - 1, w - 1)
            seq = [left] * p + row + [right] * p
            out.extend(separator.join(seq[i : i + w]) for i in range(len(seq) - w + 1))
        if preserve and len(out) == start and row:
            p = max(pad_width, 0)
            out.append(separator.join([left] * p + row + [right] * p))
        counts.append(len(out) - start)
    inner = np.concatenate([[0], np.cumsum(counts, dtype=np.int64)]).astype(np.int64)
    return _obj(out), inner


def _ngrams_rule(values, splits, **_):
    n = splits.shape[0] if splits.rank == 1 else None
    return AVal([None], _d.string), AVal([n], _d.int64)


ngrams_p = primitive(
    "StringNGrams", _ngrams_kernel, _ngrams_rule, n_out=2, dtypes=_STR, n_typed=1, host=True
)


def _ngram_count(n, widths, pad_width, preserve):
    if n is None:
        return None
    total = 0
    for w in widths:
        p = 0 if pad_width < 0 else min(pad_width if pad_width > 0 else w - 1, w - 1)
        total += max(0, n + 2 * p - w + 1)
    return 1 if total == 0 and preserve and n > 0 else total


@tf_export("strings.ngrams")
def ngrams(
    data,
    ngram_width,
    separator=" ",
    pad_values=None,
    padding_width=None,
    preserve_short_sequences: bool = False,
    name=None,
):
    """The n-grams of the innermost dimension of ``data`` (dense or ragged strings),
    joined with ``separator``, for each width in ``ngram_width``; optionally padded with
    ``pad_values`` (one string or a (left, right) pair) ``padding_width`` times per side
    (``width - 1`` when None)."""
    widths = [
        int(w) for w in (ngram_width if isinstance(ngram_width, (list, tuple)) else [ngram_width])
    ]
    for w in widths:
        if w <= 0:
            raise ValueError(f"All ngram_widths must be greater than 0. Got {w}")
    if separator is None:
        separator = ""
    if pad_values is None:
        if padding_width is not None:
            raise ValueError("pad_values must be provided if padding_width is set.")
        left = right = b""
        pw = -1
    else:
        if isinstance(pad_values, (tuple, list)):
            if len(pad_values) != 2:
                raise ValueError("pad_values must be a string, tuple or list of 2 strings.")
            left, right = (_as_bytes(v, "pad_values") for v in pad_values)
        else:
            left = right = _as_bytes(pad_values, "pad_values")
        if padding_width is not None and int(padding_width) <= 0:
            raise ValueError("padding_width must be greater than 0.")
        pw = 0 if padding_width is None else int(padding_width)
    params = {
        "separator": _as_bytes(separator, "separator"), "widths": tuple(widths),
        "left": left, "right": right, "pad_width": pw,
        "preserve": bool(preserve_short_sequences),
    }  # fmt: skip
    if _is_ragged(data):
        vals = data.values
        if _is_ragged(vals):
            return data.with_values(ngrams(vals, ngram_width, separator, pad_values,
                                           padding_width, preserve_short_sequences))  # fmt: skip
        out, splits = bind(ngrams_p, (_str_tensor(vals, "StringNGrams"), data.row_splits), params)
        return _build_ragged(out, [splits])
    x = _str_tensor(data, "StringNGrams")
    r = x.shape.rank
    if r == 0:
        raise ValueError("Data must have rank>0")
    if r is None:
        raise ValueError("ngrams: data must have a known rank")
    from rill.ops.array_ops import reshape

    dims = x.shape.as_list()
    if x.shape.is_fully_defined():
        rows = int(np.prod(dims[:-1], dtype=np.int64))
        splits = convert_to_tensor(_uniform_splits(rows, dims[-1]))
    else:
        from rill.ops.array_ops import shape
        from rill.ops.creation_ops import range as _range
        from rill.ops.math_ops import multiply
        from rill.ops.reduction_ops import reduce_prod

        sh = shape(x, out_type=_d.int64)
        splits = multiply(_range(reduce_prod(sh[:-1]) + 1, dtype=_d.int64), sh[-1])
    out, _ = bind(ngrams_p, (reshape(x, [-1]), splits), params)
    k = _ngram_count(dims[-1], widths, pw, params["preserve"])
    if r == 1:
        return out
    if None in dims[:-1]:
        from rill.ops.array_ops import shape
        from rill.ops.shape_ops import concat

        return reshape(out, concat([shape(x)[:-1], [-1 if k is None else k]], 0))
    return reshape(out, dims[:-1] + [-1 if k is None else k])


__all__ = [
    "as_string", "bytes_split", "format", "join", "length", "lower", "ngrams",
    "reduce_join", "regex_full_match", "regex_replace", "split", "strip", "substr",
    "to_hash_bucket", "to_hash_bucket_fast", "to_hash_bucket_strong", "to_number",
    "unicode_decode", "unicode_decode_with_offsets", "unicode_encode", "unicode_split",
    "unicode_split_with_offsets", "unicode_transcode", "unsorted_segment_join", "upper",
]  # fmt: skip


# --------------------------------------------------------------------------------------
# tf.fingerprint: FarmHash Fingerprint64 of each row's bytes
# --------------------------------------------------------------------------------------


def _fingerprint_kernel(x, method):
    if x.ndim == 0:
        raise ValueError("data must have rank 1 or higher")
    rows = x.reshape(x.shape[0], -1)
    if x.dtype == object:
        # a string row is fingerprinted by its strings' fingerprints, one 8-byte
        # little-endian word each, unless it holds exactly one string (as TF does)
        per = _farmhash64(_flat(rows)).astype("<u8").reshape(rows.shape)
        items = [r[0] if rows.shape[1] == 1 else per[i].tobytes() for i, r in enumerate(rows)]
        items = [s if isinstance(s, bytes) else str(s).encode() for s in items]
    else:
        rows = np.ascontiguousarray(rows)
        items = [r.tobytes() for r in rows]
    fp = _farmhash64(items).astype("<u8")
    return np.frombuffer(fp.tobytes(), np.uint8).reshape(len(items), 8)


def _fingerprint_rule(x, method):
    if x.shape.rank == 0:
        raise op_error(InvalidArgumentError, "Fingerprint", "data must have rank 1 or higher")
    return AVal([x.shape[0] if x.shape.rank else None, 8], _d.uint8)


fingerprint_p = primitive("Fingerprint", _fingerprint_kernel, _fingerprint_rule, host=True)


@tf_export("fingerprint")
def fingerprint(data, method="farmhash64", name=None):
    """An 8-byte (uint8) FarmHash Fingerprint64 of each ``data[i, ...]``: of its raw bytes
    for numbers (so invariant under reshape and bitcast), of its strings otherwise."""
    m = method.numpy() if hasattr(method, "numpy") else method
    m = m.decode() if isinstance(m, bytes) else m
    if m != "farmhash64":
        raise op_error(
            InvalidArgumentError, "Fingerprint", f"unsupported method {m!r}; only 'farmhash64'"
        )
    return bind(fingerprint_p, (convert_to_tensor(data),), {"method": m})
