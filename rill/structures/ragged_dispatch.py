"""More of the ops TF dispatches for RaggedTensor arguments (TF's list:
``tf.ragged``'s "Additional ops that support RaggedTensor").

- elementwise ops with one ragged operand (special functions, bitwise ``invert``, casts,
  ``check_numerics``, string regexes, ``one_hot``, dropout): applied to the flat values,
  the row partition kept;
- elementwise ops with several (bitwise ops, ``zeta``, ``complex``, ``strings.join``,
  ``sigmoid_cross_entropy_with_logits``): operands of one partition, dense ones broadcast;
- structural ops: ``reverse``, ``tile``, ``reshape``, ``squeeze``, ``split``, ``cumsum``,
  ``softmax``, written with rill ops on the row partition, so they trace too.

Registered through ``dispatch_for`` when ``rill.structures.ragged_ops`` loads.
"""

from __future__ import annotations

from rill.core import dtypes as _d
from rill.ops import array_ops as _a
from rill.ops import creation_ops as _cr
from rill.ops import indexing_ops as _ix
from rill.ops import math_ops as _m
from rill.ops import reduction_ops as _r
from rill.ops import shape_ops as _s
from rill.ops._op import EXPORTS, dispatch_for, op_error, static_value
from rill.ops.creation_ops import range as _range
from rill.structures.ragged_tensor import RaggedTensor

__all__ = ["register"]

_FLAT = (
    ("bitwise", "invert"), ("math", "bessel_i0"), ("math", "bessel_i0e"),
    ("math", "bessel_i1"), ("math", "bessel_i1e"), ("math", "erfcinv"),
    ("math.special", "bessel_j0"), ("math.special", "bessel_j1"),
    ("math.special", "bessel_k0"), ("math.special", "bessel_k0e"),
    ("math.special", "bessel_k1"), ("math.special", "bessel_k1e"),
    ("math.special", "bessel_y0"), ("math.special", "bessel_y1"),
    ("math.special", "dawsn"), ("math.special", "expint"),
    ("math.special", "fresnel_cos"), ("math.special", "fresnel_sin"),
    ("math.special", "spence"), ("", "bitcast"), ("dtypes", "saturate_cast"),
    ("debugging", "check_numerics"), ("strings", "regex_full_match"),
    ("strings", "regex_replace"), ("nn.experimental", "stateless_dropout"),
    ("nn", "dropout"), ("", "one_hot"),
)  # fmt: skip
_BINARY = (
    ("bitwise", "bitwise_and"), ("bitwise", "bitwise_or"), ("bitwise", "bitwise_xor"),
    ("bitwise", "left_shift"), ("bitwise", "right_shift"), ("math", "multiply_no_nan"),
    ("math", "zeta"), ("dtypes", "complex"),
)  # fmt: skip


def _is_rt(x) -> bool:
    return isinstance(x, RaggedTensor)


def _take(values, idx):
    """Rows ``idx`` of a tensor or RaggedTensor."""
    from rill.structures.ragged_ops import _take as take

    return take(values, idx)


def _undispatched(ns: str, name: str):
    fn = EXPORTS.get((ns, name))
    return getattr(fn, "__wrapped__", fn) if fn is not None else None


def _flat_handler(fn):
    def handler(*args, **kwargs):
        from rill.structures.ragged_ops import map_flat_values

        kwargs.pop("name", None)
        return map_flat_values(fn, *args, **kwargs)

    return handler


def _binary_handler(fn):
    def handler(x, y, *args, **kwargs):
        from rill.structures.ragged_ops import _elementwise

        kwargs.pop("name", None)
        hint = next((o.dtype for o in (x, y) if hasattr(o, "dtype")), None)
        return _elementwise(lambda a, b: fn(a, b, *args, **kwargs), [x, y], [hint, hint])

    return handler


def _join(fn):
    def handler(inputs, separator="", name=None):
        from rill.structures.ragged_ops import _elementwise

        inputs = list(inputs)
        return _elementwise(lambda *xs: fn(list(xs), separator=separator), inputs)

    return handler


def _scalar_mul(fn):
    def handler(scalar, x, name=None):
        from rill.structures.ragged_ops import map_flat_values

        return map_flat_values(lambda v: fn(scalar, v), x)

    return handler


def _reduce_join(fn):
    """``strings.reduce_join`` of a whole RaggedTensor (``axis=None``): its items in
    row-major order, which are its flat values; other axes go to the op itself."""

    def handler(inputs, axis=None, keepdims=False, separator="", name=None):
        if axis is None and _is_rt(inputs):
            out = fn(inputs.flat_values, axis=None, keepdims=False, separator=separator)
            return _a.reshape(out, [1] * _rank(inputs)) if keepdims else out
        return fn(inputs, axis=axis, keepdims=keepdims, separator=separator)

    return handler


def _sigmoid_xent(fn):
    def handler(labels=None, logits=None, name=None):
        from rill.structures.ragged_ops import _elementwise

        hint = logits.dtype if hasattr(logits, "dtype") else labels.dtype
        return _elementwise(lambda a, b: fn(labels=a, logits=b), [labels, logits], [hint, hint])

    return handler


# --------------------------------------------------------------------------------------
# Structural ops
# --------------------------------------------------------------------------------------


def _axis(op: str, axis, rank: int) -> int:
    a = static_value(axis)
    if a is None:
        raise ValueError(f"{op}: the axis of a RaggedTensor op must be static, got {axis!r}")
    a = int(a)
    if not -rank <= a < rank:
        raise op_error(ValueError, op, f"axis={a} is out of bounds: expected {-rank}<=axis<{rank}")
    return a + rank if a < 0 else a


def _rank(rt) -> int:
    return rt.ragged_rank + rt.flat_values.shape.rank


def _rowwise_index(rt, reverse: bool):
    """For a ragged rank 1 tensor: ``(row ids, starts, limits)`` per value, and the value
    index reversed within each row when ``reverse``."""
    rowids = rt.value_rowids()
    starts = _ix.gather(rt.row_starts(), rowids)
    limits = _ix.gather(rt.row_limits(), rowids)
    n = _s.shape(rowids, out_type=rowids.dtype)[0]
    pos = _range(n, dtype=rowids.dtype)
    if reverse:
        pos = starts + limits - 1 - pos
    return rowids, starts, pos


def _innermost(rt):
    """The ragged rank 1 tensor of ``rt``'s last ragged dimension, and how to put it back."""
    if rt.ragged_rank == 1:
        return rt, lambda inner: inner
    outer = rt.values
    inner, rebuild = _innermost(outer)
    return inner, lambda new: rt.with_values(rebuild(new))


def reverse(tensor, axis, name=None):
    """``tf.reverse`` of a RaggedTensor: rows (axis 0), each row's items (a ragged axis),
    or a uniform inner axis."""
    rank = _rank(tensor)
    axes = static_value(axis)
    axes = [axes] if axes is not None and getattr(axes, "ndim", 0) == 0 else axes
    if axes is None:
        raise ValueError("reverse: the axes of a RaggedTensor reverse must be static")
    out = tensor
    for a in sorted({_axis("ReverseV2", int(x), rank) for x in list(axes)}):
        out = _reverse_one(out, a)
    return out


def _reverse_one(rt, a):
    from rill.structures.ragged_ops import map_flat_values

    if a == 0:
        n = rt.nrows()
        return _take(rt, _range(n - 1, -1, -1, dtype=n.dtype))
    if a > rt.ragged_rank:
        return map_flat_values(lambda v: _a.reverse(v, [a - rt.ragged_rank]), rt)
    if a == 1:
        values = rt.values
        if _is_rt(values):  # reverse the rows of each row: gather whole sub-rows
            inner = RaggedTensor.from_row_splits(
                _range(values.nrows(), dtype=rt.row_splits.dtype), rt.row_splits
            )
            idx = _reverse_one(inner, 1)
            return rt.with_values(_take(values, idx.values))
        _, _, pos = _rowwise_index(rt, True)
        return rt.with_values(_ix.gather(values, pos))
    return rt.with_values(_reverse_one(rt.values, a - 1))


def tile(input, multiples, name=None):  # noqa: A002 - TF's argument name
    """``tf.tile`` of a RaggedTensor: ``multiples[0]`` repeats the rows, a ragged axis's
    multiple repeats each row's items, inner uniform axes tile the flat values."""
    from rill.structures.ragged_ops import map_flat_values

    m = static_value(multiples)
    rank = _rank(input)
    if m is None or len(m) != rank:
        raise op_error(
            ValueError,
            "Tile",
            f"multiples must be a static vector of length {rank} (the RaggedTensor's rank), "
            f"got {multiples!r}",
        )
    m = [int(x) for x in m]
    rt = input
    inner = m[rt.ragged_rank + 1 :]
    if any(x != 1 for x in inner):
        rt = map_flat_values(lambda v: _a.tile(v, [1, *inner]), rt)
    if rt.ragged_rank != 1:
        if any(x != 1 for x in m[1 : rt.ragged_rank + 1]):
            raise NotImplementedError(
                "tile: repeating a ragged dimension of a RaggedTensor with ragged_rank > 1 "
                "is not supported in rill; tile its ragged rank 1 parts"
            )
        out = rt
    else:
        out = _tile_rows(rt, m[1]) if m[1] != 1 else rt
    if m[0] != 1:
        n = out.nrows()
        idx = _m.floormod(_range(n * m[0], dtype=n.dtype), n)
        out = _take(out, idx)
    return out


def _tile_rows(rt, k: int):
    """Each row's items repeated ``k`` times (ragged rank 1)."""
    lengths = rt.row_lengths()
    out_lengths = lengths * k
    rows = RaggedTensor.from_row_lengths(
        _range(_r.reduce_sum(out_lengths), dtype=lengths.dtype), out_lengths
    )
    rowids = rows.value_rowids()
    k_in_row = rows.values - _ix.gather(rows.row_starts(), rowids)
    src = _ix.gather(rt.row_starts(), rowids) + _m.floormod(k_in_row, _ix.gather(lengths, rowids))
    return RaggedTensor.from_row_lengths(_ix.gather(rt.values, src), out_lengths)


def reshape(tensor, shape, name=None):
    """``tf.reshape`` of a RaggedTensor, as TF: its values (one level down) reshaped, or
    laid out in a DynamicRaggedShape."""
    from rill.structures import ragged_shape

    if isinstance(shape, ragged_shape.DynamicRaggedShape):
        return ragged_shape.reshape(tensor, shape)
    values = tensor.values if _is_rt(tensor) else tensor
    if _is_rt(values):
        return reshape(values, shape)
    return _a.reshape(values, shape)


def squeeze(input, axis=None, name=None):  # noqa: A002 - TF's argument name
    """``tf.squeeze`` of a RaggedTensor: only uniform dimensions of size 1, named in
    ``axis``."""
    from rill.structures.ragged_ops import map_flat_values

    if axis is None:
        raise ValueError("Ragged.squeeze must have an axis argument.")
    rank = _rank(input)
    axes = sorted({_axis("Squeeze", a, rank) for a in ([axis] if isinstance(axis, int) else axis)})
    rt = input
    for a in reversed(axes):
        if a > rt.ragged_rank:
            inner_axis = a - rt.ragged_rank
            rt = map_flat_values(lambda v, k=inner_axis: _a.squeeze(v, [k]), rt)
        elif a == 0:
            n = static_value(rt.nrows())
            if n is None or int(n) != 1:
                raise op_error(ValueError, "Squeeze", "can only squeeze axis 0 of 1 row")
            rt = rt.values
        else:
            uniform = _uniform_length(rt, a)
            if uniform != 1:
                raise op_error(
                    ValueError,
                    "Squeeze",
                    f"Cannot squeeze a ragged dimension (axis {a}) of a RaggedTensor",
                )
            rt = _drop_unit_axis(rt, a)
    return rt


def _uniform_length(rt, a):
    """The static length of ragged axis ``a`` if every row has it, else None."""
    level = rt
    for _ in range(a - 1):
        level = level.values
    lengths = static_value(level.row_lengths())
    if lengths is None or len(lengths) == 0:
        return None
    return int(lengths[0]) if (lengths == lengths[0]).all() else None


def _drop_unit_axis(rt, a):
    """``rt`` without its ragged axis ``a``, whose rows all have length 1."""
    if a == 1:  # one item per row: the values are the rows
        return rt.values
    return rt.with_values(_drop_unit_axis(rt.values, a - 1))


def split(value, num_or_size_splits, axis=0, num=None, name="split"):
    """``tf.split`` of a RaggedTensor along its rows (axis 0)."""
    if _axis("Split", axis, _rank(value)) != 0:
        raise NotImplementedError(
            "split: rill splits a RaggedTensor along axis 0 only (TF splits uniform axes)"
        )
    n = static_value(value.nrows())
    sizes = static_value(num_or_size_splits)
    if n is None or sizes is None:
        raise ValueError("split: a RaggedTensor split needs static row count and sizes")
    n = int(n)
    if getattr(sizes, "ndim", 0) == 0:
        k = int(sizes)
        if k <= 0 or n % k:
            raise op_error(
                ValueError,
                "Split",
                f"Cannot split {n} rows into {k} equal parts (num_or_size_splits={k})",
            )
        sizes = [n // k] * k
    sizes = [int(s) for s in sizes]
    if sum(sizes) != n:
        raise op_error(ValueError, "Split", f"size_splits {sizes} do not sum to {n} rows")
    out, start = [], 0
    for s in sizes:
        out.append(value[start : start + s])
        start += s
    return out


def cumsum(x, axis=0, exclusive=False, reverse=False, name=None):
    """``tf.math.cumsum`` of a RaggedTensor: along its innermost ragged axis within each
    row, along inner axes on the flat values, else through its dense padding (as TF)."""
    from rill.structures.ragged_ops import map_flat_values

    a = _axis("Cumsum", axis, _rank(x))
    if a > x.ragged_rank:
        return map_flat_values(
            lambda v: _r.cumsum(v, a - x.ragged_rank, exclusive=exclusive, reverse=reverse), x
        )
    if a == x.ragged_rank:
        inner, rebuild = _innermost(x)
        values = inner.values
        if reverse:
            _, _, pos = _rowwise_index(inner, True)
            values = _ix.gather(values, pos)
        cs = _r.cumsum(values, 0, exclusive=False)
        zero = _a.zeros_like(cs[:1])
        before = _s.concat([zero, cs], 0)
        rowids = inner.value_rowids()
        base = _ix.gather(before, _ix.gather(inner.row_starts(), rowids))
        out = cs - base
        if exclusive:
            out = out - values
        if reverse:
            out = _ix.gather(out, pos)
        return rebuild(inner.with_values(out))
    dense = x.to_tensor()
    out = _r.cumsum(dense, a, exclusive=exclusive, reverse=reverse)
    return RaggedTensor.from_tensor(out, lengths=None, ragged_rank=x.ragged_rank).with_values(
        _gather_like(x, out)
    )


def _gather_like(x, dense):
    """The items of ``dense`` (a padded form of ``x``) at ``x``'s positions."""
    from rill.ops.array_ops import ones_like

    mask = RaggedTensor.from_nested_row_splits(
        ones_like(x.flat_values, dtype=_d.bool), x.nested_row_splits
    ).to_tensor(default_value=False)
    return _ix.boolean_mask(dense, mask)


def softmax(logits, axis=None, name=None):
    """``tf.nn.softmax`` of a RaggedTensor over its last axis (a ragged one: per row)."""
    from rill.structures.ragged_ops import ragged_reduce

    rank = _rank(logits)
    a = rank - 1 if axis is None else _axis("Softmax", axis, rank)
    if a != rank - 1:
        raise NotImplementedError("softmax: rill supports a RaggedTensor's last axis only")
    if a > logits.ragged_rank:
        from rill.ops.nn_ops import softmax as _softmax
        from rill.structures.ragged_ops import map_flat_values

        return map_flat_values(lambda v: _softmax(v, axis=-1), logits)
    top = ragged_reduce("max", logits, a, keepdims=True)
    shifted = logits - top
    e = _flat_exp(shifted)
    total = ragged_reduce("sum", e, a, keepdims=True)
    return e / total


def _flat_exp(rt):
    from rill.ops.unary_ops import exp
    from rill.structures.ragged_ops import map_flat_values

    return map_flat_values(exp, rt)


def _asserting(fn):
    """``debugging.assert_*(x, y, ...)`` on RaggedTensors of one partition: the
    assertion on their flat values (dense operands broadcast into the partition)."""

    def handler(x, y, *args, **kwargs):
        from rill.structures.ragged_ops import _broadcast_dense, _same_partition

        ref = x if _is_rt(x) else y
        flat = []
        for o in (x, y):
            if _is_rt(o):
                _same_partition(ref, o)
                flat.append(o.flat_values)
            else:
                from rill.core.convert import convert_to_tensor

                flat.append(_broadcast_dense(ref, convert_to_tensor(o, dtype=ref.dtype)))
        return fn(flat[0], flat[1], *args, **kwargs)

    return handler


def _segment_handler(fn):
    """``unsorted_segment_*(data, segment_ids, n)`` with ragged data and ids of one
    partition: the segments of their flat values."""

    def handler(data, segment_ids, num_segments, name=None):
        from rill.structures.ragged_ops import _same_partition

        if _is_rt(data) and _is_rt(segment_ids):
            _same_partition(data, segment_ids)
            return fn(data.flat_values, segment_ids.flat_values, num_segments)
        if _is_rt(segment_ids):
            raise op_error(ValueError, fn.__name__, "segment_ids is ragged but data is not")
        # ragged data, dense ids over its rows: combine whole rows
        if data.ragged_rank == 1 and data.flat_values.shape.rank == 1:
            return _rows_out(fn, data, segment_ids, num_segments)
        raise NotImplementedError(
            f"{fn.__name__}: rill segments ragged data by ragged segment ids of the same "
            "partition, or rows of a ragged rank 1 tensor"
        )

    return handler


def _rows_out(fn, data, ids, n):
    """Rows of ``data`` combined by segment: row ``s`` of the result combines item-wise the
    rows with id ``s`` (its length the longest of theirs)."""
    rowids = data.value_rowids()
    pos = _range(_s.shape(rowids, out_type=rowids.dtype)[0], dtype=rowids.dtype) - _ix.gather(
        data.row_starts(), rowids
    )
    seg = _ix.gather(_a.cast(ids, rowids.dtype), rowids)
    lengths = _r.unsorted_segment_max(data.row_lengths(), _a.cast(ids, rowids.dtype), n)
    lengths = _m.maximum(lengths, _a.zeros_like(lengths))
    width = _m.maximum(_r.reduce_max(lengths), _a.zeros_like(_r.reduce_max(lengths)))
    flat_ids = seg * _a.cast(width, seg.dtype) + pos
    total = _a.cast(n, seg.dtype) * _a.cast(width, seg.dtype)
    dense = fn(data.flat_values, flat_ids, total)
    return RaggedTensor.from_row_lengths(
        _ix.gather(dense, _rowwise_positions(lengths, width)), lengths
    )


def _rowwise_positions(lengths, width):
    """Flat positions ``row * width + j`` for ``j < lengths[row]``."""
    rows = RaggedTensor.from_row_lengths(
        _range(_r.reduce_sum(lengths), dtype=lengths.dtype), lengths
    )
    rowids = rows.value_rowids()
    j = rows.values - _ix.gather(rows.row_starts(), rowids)
    return rowids * _a.cast(width, lengths.dtype) + j


def gather_nd(params, indices, batch_dims=0, name=None, bad_indices_policy=""):
    """``tf.gather_nd`` on a RaggedTensor: each index row walks the ragged levels through
    the row splits, then the flat values."""
    from rill.core.convert import convert_to_tensor

    if batch_dims != 0:
        raise NotImplementedError("gather_nd: rill gathers from a RaggedTensor with batch_dims=0")
    if _is_rt(indices):
        raise NotImplementedError("gather_nd: rill takes dense indices into a RaggedTensor")
    indices = convert_to_tensor(indices)
    k = indices.shape[-1]
    if k is None:
        raise ValueError("gather_nd: the last dimension of indices must be static")
    sdt = params.row_splits.dtype
    idx = _a.cast(indices, sdt)
    pos = idx[..., 0]
    cur = params
    c = 1
    while c < k and _is_rt(cur):
        j = idx[..., c]
        starts = _ix.gather(cur.row_splits, pos)
        limits = _ix.gather(cur.row_splits, pos + 1)
        _check_in_rows(j, limits - starts)
        pos = starts + j
        cur = cur.values
        c += 1
    if c == k:
        return _take(cur, pos)
    rest = idx[..., c:]
    return _ix.gather_nd(cur, _s.concat([_a.expand_dims(pos, -1), rest], -1))


def _check_in_rows(j, lengths):
    jv, lv = static_value(j), static_value(lengths)
    if jv is not None and lv is not None and ((jv < 0) | (jv >= lv)).any():
        from rill.core.errors import InvalidArgumentError

        raise op_error(
            InvalidArgumentError,
            "GatherNd",
            f"indices {jv.tolist()} are out of bounds for rows of lengths {lv.tolist()}",
        )


def dynamic_partition(data, partitions, num_partitions, name=None):
    """``tf.dynamic_partition`` of a RaggedTensor's rows (dense partitions, one per row) or
    of its items (ragged partitions of the same shape)."""
    from rill.structures.ragged_ops import _same_partition

    if _is_rt(partitions):
        _same_partition(data, partitions)
        from rill.ops.partition_ops import dynamic_partition as _dp

        return _dp(data.flat_values, partitions.flat_values, num_partitions)
    from rill.core.convert import convert_to_tensor

    p = convert_to_tensor(partitions)
    out = []
    for i in range(int(num_partitions)):
        rows = _ix.where(_m.equal(p, _a.cast(i, p.dtype)))[:, 0]
        out.append(_take(data, rows))
    return out


def bincount(
    arr, weights=None, minlength=None, maxlength=None, dtype=_d.int32, name=None, axis=None,
    binary_output=False,
):  # fmt: skip
    """``tf.math.bincount`` of a RaggedTensor: over all items (``axis=None``) or per row
    (``axis=-1``, ragged rank 1): a dense ``[rows, size]`` count."""
    from rill.ops.reduction_ops import bincount as _bincount

    w = weights.flat_values if _is_rt(weights) else weights
    if axis is None or axis == 0:
        return _bincount(
            arr.flat_values, w, minlength, maxlength, dtype, axis=None,
            binary_output=binary_output,
        )  # fmt: skip
    if axis != -1 or arr.ragged_rank != 1 or arr.flat_values.shape.rank != 1:
        raise op_error(
            ValueError, "Bincount", f"axis must be None, 0 or -1 for a RaggedTensor, got {axis}"
        )
    values = arr.flat_values
    top = _r.reduce_max(values) + 1 if values.shape[0] != 0 else _cr.zeros([], values.dtype)
    size = _m.maximum(top, _a.zeros_like(top))
    if minlength is not None:
        size = _m.maximum(size, _a.cast(minlength, size.dtype))
    if maxlength is not None:
        size = _m.minimum(size, _a.cast(maxlength, size.dtype))
    keep = _m.less(values, size)
    rowids = _a.cast(arr.value_rowids(), values.dtype)
    flat = rowids * size + values
    contrib = _a.ones_like(values, dtype=dtype) if w is None else _a.cast(w, w.dtype)
    contrib = _ix.boolean_mask(contrib, keep)
    flat = _ix.boolean_mask(flat, keep)
    n = _a.cast(arr.nrows(), values.dtype)
    counts = _r.unsorted_segment_sum(contrib, flat, n * size)
    if binary_output:
        counts = _a.cast(_m.greater(counts, _a.zeros_like(counts)), counts.dtype)
    return _a.reshape(counts, _s.stack([n, size]))


def matmul(a, b, transpose_a=False, transpose_b=False, adjoint_a=False, adjoint_b=False,
           a_is_sparse=False, b_is_sparse=False, output_type=None, grad_a=False,
           grad_b=False, name=None):  # fmt: skip
    """``tf.linalg.matmul`` of batches of ragged matrices: padded to dense, multiplied,
    then the rows of ``a``'s ragged dimension kept."""
    from rill.ops.linalg_ops import matmul as _matmul

    if transpose_a or adjoint_a:
        raise NotImplementedError("matmul: rill does not transpose a ragged `a`")
    ad = a.to_tensor() if _is_rt(a) else a
    bd = b.to_tensor() if _is_rt(b) else b
    out = _matmul(ad, bd, transpose_b=transpose_b, adjoint_b=adjoint_b, output_type=output_type)
    if _is_rt(a) and a.ragged_rank == 1:
        return RaggedTensor.from_tensor(out, lengths=a.row_lengths())
    return out


def register() -> None:
    """Install the handlers."""
    from rill.structures import ragged_shape

    ragged_shape.register()
    import rill.ops.nn_extra_ops  # noqa: F401 - stateless_dropout's module
    import rill.ops.special_ops  # noqa: F401 - the special functions' module
    import rill.structures.string_ops  # noqa: F401 - the string ops load after ragged_ops

    for ns, name in _FLAT:
        fn = _undispatched(ns, name)
        if fn is not None:
            dispatch_for(fn, RaggedTensor)(_flat_handler(fn))
    for ns, name in _BINARY:
        fn = _undispatched(ns, name)
        if fn is not None:
            dispatch_for(fn, RaggedTensor)(_binary_handler(fn))
    special = {
        ("strings", "join"): _join,
        ("nn", "sigmoid_cross_entropy_with_logits"): _sigmoid_xent,
        ("strings", "reduce_join"): _reduce_join,
        ("math", "scalar_mul"): _scalar_mul,
    }
    for (ns, name), make in special.items():
        fn = _undispatched(ns, name)
        if fn is not None:
            dispatch_for(fn, RaggedTensor)(make(fn))
    for name in ("assert_equal", "assert_greater", "assert_greater_equal", "assert_less",
                 "assert_less_equal", "assert_near", "assert_none_equal"):  # fmt: skip
        fn = _undispatched("debugging", name)
        if fn is not None:
            dispatch_for(fn, RaggedTensor)(_asserting(fn))
    for name in ("sum", "max", "min", "prod", "mean", "sqrt_n"):
        fn = _undispatched("math", f"unsorted_segment_{name}")
        if fn is not None:
            dispatch_for(fn, RaggedTensor)(_segment_handler(fn))
    structural = {
        ("", "gather_nd"): gather_nd,
        ("", "dynamic_partition"): dynamic_partition,
        ("math", "bincount"): bincount,
        ("linalg", "matmul"): matmul,
        ("", "reverse"): reverse,
        ("", "tile"): tile,
        ("", "reshape"): reshape,
        ("", "squeeze"): squeeze,
        ("", "split"): split,
        ("math", "cumsum"): cumsum,
        ("nn", "softmax"): softmax,
    }
    for (ns, name), handler in structural.items():
        fn = _undispatched(ns, name)
        if fn is not None:
            dispatch_for(fn, RaggedTensor)(handler)
