"""TF's last top-level raw-op names: ``guarantee_const``, ``check_pinned``, the generic
``conv``, the ``*_v2`` Conv2D backprops taking tensors, the raw-signature N-D FFTs,
``ragged_fill_empty_rows`` (and its gradient), and ``variable_creator_scope``."""

from __future__ import annotations

import numpy as np

from rill.core import dtypes as _d
from rill.core.errors import FailedPreconditionError
from rill.core.variable_scope import variable_creator_scope
from rill.ops import conv_ops as _conv
from rill.ops import fft_ops as _fft
from rill.ops._op import (
    AVal,
    InvalidArgumentError,
    bind,
    convert_to_tensor,
    op_error,
    primitive,
    tf_export,
)
from rill.ops.array_ops import cast, identity, reshape, shape
from rill.ops.indexing_ops import gather
from rill.ops.math_ops import subtract
from rill.ops.reduction_ops import reduce_sum
from rill.ops.shape_ops import concat

tf_export("variable_creator_scope")(variable_creator_scope)


@tf_export("guarantee_const")
def guarantee_const(input, name=None):  # noqa: A002
    """Identity; TF uses it to promise the runtime that ``input`` is a constant."""
    return identity(input)


@tf_export("check_pinned")
def check_pinned(tensor, name=None):
    """Check that ``tensor`` lives in pinned host memory: never true of rill's NumPy-backed
    tensors, so it raises FailedPreconditionError, as TF does without CUDA."""
    convert_to_tensor(tensor)
    raise op_error(
        FailedPreconditionError,
        "CheckPinned",
        "to check pinnedness the tensor must be in CUDA pinned host memory; rill's CPU "
        "tensors live in ordinary (pageable) NumPy memory",
    )


# --------------------------------------------------------------------------------------
# Convolutions with the raw ops' signatures
# --------------------------------------------------------------------------------------


def _explicit(padding, explicit_paddings, rank, op):
    """The raw ops' (padding string, flat explicit list) as rill's padding argument."""
    if padding != "EXPLICIT":
        if list(explicit_paddings or []):
            raise op_error(
                InvalidArgumentError,
                op,
                f"explicit_paddings must be empty unless padding is 'EXPLICIT', got "
                f"padding={padding!r}, explicit_paddings={list(explicit_paddings)}",
            )
        return padding
    flat = [int(v) for v in np.asarray(explicit_paddings).reshape(-1)]
    if len(flat) != 2 * rank:
        raise op_error(
            InvalidArgumentError,
            op,
            f"explicit_paddings must have {2 * rank} values (a [before, after] pair per "
            f"dimension of the rank-{rank} input), got {len(flat)}",
        )
    return [flat[i : i + 2] for i in range(0, len(flat), 2)]


def _full_list(v, rank, what, op, default=None):
    vals = [int(t) for t in np.asarray(v if v is not None else [], np.int64).reshape(-1)]
    if not vals and default is not None:
        return [default] * rank
    if len(vals) != rank:
        raise op_error(
            InvalidArgumentError,
            op,
            f"{what} field must specify {rank} dimensions (one per dimension of the input), "
            f"got {vals}",
        )
    return vals


@tf_export("conv")
def conv(
    input,  # noqa: A002
    filter,  # noqa: A002
    strides,
    padding,
    explicit_paddings=[],  # noqa: B006 - TF's raw-op default, never mutated
    data_format="CHANNELS_LAST",
    dilations=[],  # noqa: B006
    batch_dims=1,
    groups=1,
    name=None,
):
    """Generic 2-D/3-D convolution: ``batch_dims`` leading batch dimensions, then the
    spatial ones and channels (last or first per ``data_format``); the input depth is
    ``groups`` times the filter's."""
    op = "Conv"
    x = convert_to_tensor(input)
    w = convert_to_tensor(filter, dtype=x.dtype)
    if data_format not in ("CHANNELS_LAST", "CHANNELS_FIRST"):
        raise op_error(
            InvalidArgumentError,
            op,
            f"data_format must be 'CHANNELS_LAST' or 'CHANNELS_FIRST', got {data_format!r}",
        )
    batch_dims, groups = int(batch_dims), int(groups)
    if batch_dims < 1 or groups < 1:
        raise op_error(
            InvalidArgumentError,
            op,
            f"batch_dims and groups must be >= 1, got {batch_dims}, {groups}",
        )
    wr, xr = w.shape.rank, x.shape.rank
    sr = wr - 2
    if sr not in (2, 3):
        raise op_error(
            InvalidArgumentError,
            op,
            f"The input must have 2 or 3 spatial dimensions but got {sr} (filter shape {w.shape})",
        )
    if xr != sr + batch_dims + 1:
        raise op_error(
            InvalidArgumentError,
            op,
            f"input of shape {x.shape} must have rank {sr + batch_dims + 1}: {batch_dims} batch "
            f"dimension(s), {sr} spatial and one channel dimension (filter shape {w.shape})",
        )
    rank = sr + 2  # strides & co. count one batch dimension, as TF's attributes do
    st = _full_list(strides, rank, "Sliding window strides", op)
    dl = _full_list(dilations, rank, "Dilation rates", op, default=1)
    pad = _explicit(padding, explicit_paddings, rank, op)
    first = data_format == "CHANNELS_FIRST"
    in_depth = x.shape[batch_dims if first else -1]
    if in_depth is not None and w.shape[-2] is not None and in_depth != w.shape[-2] * groups:
        raise op_error(
            InvalidArgumentError,
            op,
            f"Input depth must be equal to filter depth times groups: {in_depth} vs "
            f"{w.shape[-2]} * {groups} (input shape {x.shape}, filter shape {w.shape})",
        )
    lead = None
    if batch_dims > 1:  # fold the batch dimensions into one for rill's convolution
        xs = shape(x)
        lead = xs[:batch_dims]
        x = reshape(x, concat([[-1], xs[batch_dims:]], 0))
    y = bind(
        _conv.conv2d_p,
        (x, w),
        _conv._conv_params(sr, st, pad, "NCHW" if first else "NHWC", dl, op),
    )
    if lead is not None:
        y = reshape(y, concat([lead, shape(y)[1:]], 0))
    return y


def _backprop_params(strides, padding, explicit_paddings, data_format, dilations, op):
    pad = _explicit(padding, explicit_paddings, 4, op)
    return _conv._conv_params(2, strides, pad, data_format, dilations, op)


@tf_export("conv2d_backprop_filter_v2")
def conv2d_backprop_filter_v2(
    input,  # noqa: A002
    filter,  # noqa: A002
    out_backprop,
    strides,
    padding,
    use_cudnn_on_gpu=True,
    explicit_paddings=[],  # noqa: B006
    data_format="NHWC",
    dilations=[1, 1, 1, 1],  # noqa: B006
    name=None,
):
    """Gradient of conv2d with respect to its filter, shaped like ``filter``."""
    op = "Conv2DBackpropFilterV2"
    x = convert_to_tensor(input)
    w = convert_to_tensor(filter, dtype=x.dtype)
    dy = convert_to_tensor(out_backprop, dtype=x.dtype)
    p = _backprop_params(strides, padding, explicit_paddings, data_format, dilations, op)
    return bind(_conv.conv_bpf_p, (x, shape(w), dy), p)


@tf_export("conv2d_backprop_input_v2")
def conv2d_backprop_input_v2(
    input,  # noqa: A002
    filter,  # noqa: A002
    out_backprop,
    strides,
    padding,
    use_cudnn_on_gpu=True,
    explicit_paddings=[],  # noqa: B006
    data_format="NHWC",
    dilations=[1, 1, 1, 1],  # noqa: B006
    name=None,
):
    """Gradient of conv2d with respect to its input, shaped like ``input``."""
    op = "Conv2DBackpropInputV2"
    x = convert_to_tensor(input)
    w = convert_to_tensor(filter, dtype=x.dtype)
    dy = convert_to_tensor(out_backprop, dtype=x.dtype)
    p = _backprop_params(strides, padding, explicit_paddings, data_format, dilations, op)
    return bind(_conv.conv_bpi_p, (shape(x), w, dy), p)


# --------------------------------------------------------------------------------------
# N-D FFTs with the raw ops' signatures
# --------------------------------------------------------------------------------------


@tf_export("fftnd")
def fftnd(input, fft_length, axes, name=None):  # noqa: A002
    """N-D FFT over ``axes``, each cropped or zero-padded to ``fft_length``."""
    return _fft.fftnd(input, fft_length, axes)


@tf_export("ifftnd")
def ifftnd(input, fft_length, axes, name=None):  # noqa: A002
    """N-D inverse FFT over ``axes``, each cropped or zero-padded to ``fft_length``."""
    return _fft.ifftnd(input, fft_length, axes)


@tf_export("rfftnd")
def rfftnd(input, fft_length, axes, Tcomplex=_d.complex64, name=None):  # noqa: A002, N803
    """N-D real FFT over ``axes``; the result has dtype ``Tcomplex``."""
    y = _fft.rfftnd(input, fft_length, axes)
    tc = _d.as_dtype(Tcomplex)
    return y if y.dtype == tc else cast(y, tc)


@tf_export("irfftnd")
def irfftnd(input, fft_length, axes, Treal=_d.float32, name=None):  # noqa: A002, N803
    """N-D inverse real FFT over ``axes``; the result has dtype ``Treal``."""
    y = _fft.irfftnd(input, fft_length, axes)
    tr = _d.as_dtype(Treal)
    return y if y.dtype == tr else cast(y, tr)


# --------------------------------------------------------------------------------------
# RaggedFillEmptyRows
# --------------------------------------------------------------------------------------


def _fill_kernel(rowids, nrows):
    op = "RaggedFillEmptyRows"
    rows = np.asarray(rowids, np.int64).reshape(-1)
    n = int(nrows)
    if n < 0:
        raise op_error(InvalidArgumentError, op, f"nrows must be non-negative, got {n}")
    bad = np.flatnonzero((rows < 0) | (rows >= n))
    if len(bad):
        i = bad[0]
        raise op_error(
            InvalidArgumentError, op, f"value_rowids({i}) is invalid: {rows[i]} is not in [0, {n})"
        )
    empty = np.bincount(rows, minlength=n)[:n] == 0
    erows = np.flatnonzero(empty).astype(np.int64)
    allrows = np.concatenate([rows, erows])
    # source of each output value: an input value, or len(values) for the default
    src = np.concatenate([np.arange(len(rows)), np.full(len(erows), len(rows))]).astype(np.int64)
    order = np.argsort(allrows, kind="stable")  # rows in order, input order within a row
    where = np.empty(len(allrows), np.int64)
    where[order] = np.arange(len(allrows))
    return allrows[order], src[order], empty, where[: len(rows)]


def _fill_rule(rowids, nrows):
    n = rowids.shape[0] if rowids.rank else None
    return (
        AVal([None], _d.int64),
        AVal([None], _d.int64),
        AVal([None], _d.bool),
        AVal([n], _d.int64),
    )


ragged_fill_p = primitive("RaggedFillEmptyRows", _fill_kernel, _fill_rule, n_out=4, host=True)


def _int64_input(v, what, op):
    t = convert_to_tensor(v, dtype_hint=_d.int64)
    if t.dtype != _d.int64:
        raise op_error(
            InvalidArgumentError, op, f"{what} must be an int64 tensor, got a {t.dtype.name} tensor"
        )
    return t


@tf_export("ragged_fill_empty_rows")
def ragged_fill_empty_rows(value_rowids, values, nrows, default_value, name=None):
    """Give every empty row of a ragged tensor (value_rowids encoded) one
    ``default_value``; returns (output_value_rowids, output_values, empty_row_indicator,
    reverse_index_map)."""
    op = "RaggedFillEmptyRows"
    rowids = _int64_input(value_rowids, "value_rowids", op)
    n = _int64_input(nrows, "nrows", op)
    vals = convert_to_tensor(values)
    d = convert_to_tensor(default_value, dtype=vals.dtype)
    if rowids.shape.rank not in (None, 1) or vals.shape.rank not in (None, 1):
        raise op_error(
            InvalidArgumentError,
            op,
            f"value_rowids and values must be vectors, got shapes {rowids.shape} and {vals.shape}",
        )
    out_rows, src, empty, reverse = bind(ragged_fill_p, (rowids, n))
    # a gather, so gradients reach values and default_value as TF's grad op splits them
    out_vals = gather(concat([vals, reshape(d, [1])], 0), src)
    return _result("RaggedFillEmptyRows", out_rows, out_vals, empty, reverse)


def _result(kind, *parts):
    import collections

    fields = {
        "RaggedFillEmptyRows": (
            "output_value_rowids",
            "output_values",
            "empty_row_indicator",
            "reverse_index_map",
        ),
        "RaggedFillEmptyRowsGrad": ("d_values", "d_default_value"),
    }[kind]
    cls = _RESULTS.get(kind)
    if cls is None:
        cls = _RESULTS[kind] = collections.namedtuple(kind, fields)
    return cls(*parts)


_RESULTS: dict = {}


@tf_export("ragged_fill_empty_rows_grad")
def ragged_fill_empty_rows_grad(reverse_index_map, grad_values, name=None):
    """Split the gradient of ``ragged_fill_empty_rows``' output values into the input
    values' part and the default value's (the sum over the filled rows)."""
    op = "RaggedFillEmptyRowsGrad"
    idx = _int64_input(reverse_index_map, "reverse_index_map", op)
    g = convert_to_tensor(grad_values)
    d_values = gather(g, idx)
    d_default = subtract(reduce_sum(g), reduce_sum(d_values))
    return _result(op, d_values, d_default)
