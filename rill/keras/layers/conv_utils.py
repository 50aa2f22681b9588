"""Argument checks and geometry shared by the convolution, pooling and reshaping layers."""

from __future__ import annotations

import rill as tf


def owner(layer):
    """How error messages name a layer: ``Conv2D 'conv2d_3'``."""
    return f"{type(layer).__name__} {layer.name!r}"


def _head(who):
    return f"{who}: " if who else ""


def normalize_tuple(value, n, name, allow_zero=False, who=None):
    """An int or an iterable of ``n`` ints -> a tuple of ``n`` ints (> 0, or >= 0)."""
    if isinstance(value, int) and not isinstance(value, bool):
        out = (value,) * n
    else:
        try:
            out = tuple(value)
        except TypeError:
            raise ValueError(
                f"{_head(who)}The `{name}` argument must be a tuple of {n} integers. "
                f"Received {name}={value!r}"
            ) from None
        if len(out) != n or not all(isinstance(v, int) and not isinstance(v, bool) for v in out):
            raise ValueError(
                f"{_head(who)}The `{name}` argument must be a tuple of {n} integers. "
                f"Received {name}={value!r}"
            )
    bad = {v for v in out if (v < 0 if allow_zero else v <= 0)}
    if bad:
        cond = ">= 0" if allow_zero else "> 0"
        raise ValueError(
            f"{_head(who)}The `{name}` argument must be a tuple of {n} integers. Received "
            f"{name}={value!r}, including values {bad} that do not satisfy `value {cond}`"
        )
    return out


def normalize_padding(value, allowed=("valid", "same"), who=None, error=ValueError):
    padding = value.lower() if isinstance(value, str) else value
    if padding not in allowed:
        names = "{" + ", ".join(repr(a) for a in sorted(allowed)) + "}"
        raise error(
            f"{_head(who)}The `padding` argument must be one of {names}. Received: padding={value}"
        )
    return padding


def normalize_data_format(value, who=None):
    if value is None:
        return "channels_last"
    fmt = str(value).lower()
    if fmt not in ("channels_first", "channels_last"):
        raise ValueError(
            f"{_head(who)}The `data_format` argument must be one of {{'channels_first', "
            f"'channels_last'}}. Received: data_format={value}"
        )
    return fmt


def positive_int(value, name, who=None):
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(
            f"{_head(who)}Invalid value for argument `{name}`. Expected a strictly positive "
            f"value. Received {name}={value}."
        )
    return value


def conv_output_length(n, k, padding, stride, dilation=1):
    """Output length of a convolution or pooling window along one axis (None if unknown)."""
    if n is None:
        return None
    eff = (k - 1) * dilation + 1
    if padding in ("same", "causal"):
        return -(-n // stride)
    return (n - eff) // stride + 1


def deconv_output_length(n, k, padding, output_padding, stride, dilation=1):
    """Output length of a transposed convolution along one axis (None if unknown)."""
    if n is None:
        return None
    eff = (k - 1) * dilation + 1
    if output_padding is None:
        if padding == "valid":
            return n * stride + max(eff - stride, 0)
        return n * stride
    pad = eff // 2 if padding == "same" else 0
    return (n - 1) * stride + eff - 2 * pad + output_padding


def tf_data_format(data_format, rank):
    """TF's ``data_format`` for ``rank`` spatial dims: "NWC", "NHWC", "NDHWC", or the
    channels-first "NCW", "NCHW", "NCDHW"."""
    spatial = "DHW"[3 - rank :]
    return f"NC{spatial}" if data_format == "channels_first" else f"N{spatial}C"


def to_channels_last(x, data_format):
    if data_format != "channels_first":
        return x
    r = x.shape.rank
    return tf.transpose(x, [0, *range(2, r), 1])


def to_channels_first(x, data_format):
    if data_format != "channels_first":
        return x
    r = x.shape.rank
    return tf.transpose(x, [0, r - 1, *range(1, r - 1)])


def dims(shape):
    """A shape (TensorShape, tuple or list) as a list of ints and Nones."""
    if shape is None:
        return None
    if isinstance(shape, tf.TensorShape):
        return shape.as_list() if shape.rank is not None else None
    return [None if d is None else int(d) for d in shape]


def cast_inputs(layer, x):
    """Floating inputs in the layer's dtype (Keras autocasts them)."""
    dt = x.dtype
    if dt.is_floating and dt.name != layer._dtype:
        return tf.cast(x, layer._dtype)
    return x


def leading_shape(t, n_trailing):
    """``t``'s shape without its last ``n_trailing`` dims: a list if at most one dim is
    unknown (as -1), else a tensor."""
    head = t.shape.as_list()[: t.shape.rank - n_trailing]
    if head.count(None) <= 1:
        return [-1 if d is None else d for d in head]
    return tf.shape(t)[: t.shape.rank - n_trailing]


def with_tail(head, tail):
    """``head`` (list or tensor, from ``leading_shape``) followed by the ints ``tail``."""
    if isinstance(head, list):
        return head + list(tail)
    return tf.concat([head, tf.constant(list(tail), dtype=head.dtype)], 0)
