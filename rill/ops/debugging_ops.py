"""``tf.debugging``: check_numerics and the assert_* family.

Value checks run through two stateful primitives: ``CheckNumerics`` (passes its input
through) and ``Assert`` (no outputs; raises ``InvalidArgumentError`` when its condition is
false). Eagerly they raise at the call; in a traced function they run with the graph.
Checks on static properties (rank, dtype, static shapes) raise ``ValueError`` /
``TypeError`` at the call, like TF.
"""

from __future__ import annotations

import collections.abc

import numpy as np

from rill.core import dtypes as _d
from rill.ops import math_ops
from rill.ops._op import (
    AVal,
    InvalidArgumentError,
    Tensor,
    TensorShape,
    bind,
    convert_to_tensor,
    is_tensor_like,
    op_error,
    primitive,
    static_value,
    tf_export,
)
from rill.ops.array_ops import zeros_like
from rill.ops.unary_ops import abs as absolute

_FLOATS = frozenset([_d.bfloat16, _d.float16, _d.float32, _d.float64])

# --------------------------------------------------------------------------------------
# check_numerics
# --------------------------------------------------------------------------------------


def _check_numerics_kernel(x, message, xp=np):
    if x.dtype.kind == "f" or x.dtype == _d.bfloat16.np:
        xf = x.astype(np.float32) if x.dtype.kind != "f" else x
        has_nan = bool(xp.isnan(xf).any())
        has_inf = bool(xp.isinf(xf).any())
        if has_nan or has_inf:
            what = "Inf and NaN" if has_nan and has_inf else ("NaN" if has_nan else "Inf")
            raise op_error(
                InvalidArgumentError, "CheckNumerics", f"{message} : Tensor had {what} values"
            )
    return x


def _check_numerics_grad(inputs, out, dy, message):
    msg = f"Not a number (NaN) or infinity (Inf) values detected in gradient. {message}"
    return (bind(check_numerics_p, (dy,), {"message": msg}),)


check_numerics_p = primitive(
    "CheckNumerics",
    _check_numerics_kernel,
    lambda x, message: AVal(x.shape, x.dtype),
    _check_numerics_grad,
    dtypes=_FLOATS,
    stateful=True,
)


@tf_export("debugging.check_numerics")
def check_numerics(tensor, message, name=None):
    """Return ``tensor`` unchanged; raise InvalidArgumentError if it has NaN or Inf values."""
    return bind(check_numerics_p, (convert_to_tensor(tensor),), {"message": str(message)})


@tf_export("debugging.assert_all_finite")
def assert_all_finite(x, message, name=None):
    """Return ``x``; raise InvalidArgumentError if it has NaN or Inf values."""
    return check_numerics(x, message)


# --------------------------------------------------------------------------------------
# Message formatting (shared by the eager path and the Assert kernel)
# --------------------------------------------------------------------------------------


def _fmt_array(a) -> str:
    return np.array2string(np.asarray(a), separator=" ") if np.ndim(a) else str(np.asarray(a)[()])


def _first(a, n):
    flat = np.asarray(a).reshape(-1)
    return flat if n < 0 else flat[:n]


def _summarize_data(a, summarize) -> str:
    """Assert's summary of one data entry: the first ``summarize`` values, comma-joined."""
    a = np.asarray(a)
    n = 3 if summarize is None else summarize
    vals = _first(a, n)
    text = ", ".join(repr(v) if isinstance(v, bytes) else str(v) for v in vals)
    if 0 <= n < a.size:
        text += ", ..."
    return text


def _describe(a) -> str:
    a = np.asarray(a)
    dt = _d.from_numpy(a.dtype).name if a.dtype != object else "string"
    return f"shape={tuple(a.shape)} dtype={dt}"


def _binary_message(header, cond, x, y, test, summarize):
    n = 3 if summarize is None else summarize
    lines = [header] if header else []
    lines.append(f"Condition {cond} did not hold.")
    x, y, test = np.asarray(x), np.asarray(y), np.asarray(test)
    if x.shape == y.shape and test.shape == x.shape and x.ndim > 0:
        idx = np.argwhere(~test)
        if n >= 0:
            idx = idx[:n]
        sel = tuple(idx.T)
        lines += [
            f"Indices of first {len(idx)} different values:",
            _fmt_array(idx),
            "Corresponding x values:",
            _fmt_array(x[sel]),
            "Corresponding y values:",
            _fmt_array(y[sel]),
        ]
    fx, fy = _first(x, n), _first(y, n)
    lines += [
        f"First {fx.size} elements of x:",
        _fmt_array(fx),
        f"First {fy.size} elements of y:",
        _fmt_array(fy),
    ]
    return "\n".join(lines)


def _unary_message(header, cond, x, summarize):
    lines = [header] if header else []
    lines += [
        f"Condition {cond} did not hold element-wise:",
        f"x ({_describe(x)}) = ",
        _fmt_array(_first(x, 3 if summarize is None else summarize)),
    ]
    return "\n".join(lines)


def _assert_kernel(condition, *data, kind, summarize=None, message="", cond=""):
    c = np.asarray(condition)
    if c.size == 1 and kind == "data":
        ok = bool(c.reshape(()))
    elif kind == "data":
        raise op_error(
            InvalidArgumentError, "Assert", f"condition must be a scalar, got shape {list(c.shape)}"
        )
    else:
        ok = bool(np.all(c))
    if ok:
        return ()
    if kind == "binary":
        text = _binary_message(message, cond, data[0], data[1], c, summarize)
    elif kind == "unary":
        text = _unary_message(message, cond, data[0], summarize)
    elif kind == "near":
        x, y = data
        text = "\n".join(
            ([message] if message else [])
            + [
                cond,
                f"x ({_describe(x)}) = ",
                _summarize_data(x, summarize),
                f"y ({_describe(y)}) = ",
                _summarize_data(y, summarize),
            ]
        )
    else:
        summary = "\n".join(_summarize_data(d, summarize) for d in data)
        text = f"Expected '{bool(c.reshape(()))}' to be true. Summarized data: {summary}"
    raise op_error(InvalidArgumentError, "Assert", text)


assert_p = primitive(
    "Assert",
    _assert_kernel,
    lambda condition, *data, **_: (),
    n_out=0,
    stateful=True,
    host=True,  # formats its data into the error message on the host, like TF's Assert
)


def _run_assert(condition, data, kind, summarize, message, cond=""):
    params = {
        "kind": kind,
        "summarize": None if summarize is None else int(summarize),
        "message": message,
        "cond": cond,
    }
    bind(assert_p, (condition, *data), params)


def _header(message) -> str:
    return "" if message is None else str(message)


# --------------------------------------------------------------------------------------
# Assert and the comparison asserts
# --------------------------------------------------------------------------------------


@tf_export("debugging.Assert", "Assert")
def Assert(condition, data, summarize=None, name=None):  # noqa: N802 - TF's public name
    """Raise InvalidArgumentError with a summary of ``data`` if ``condition`` is false."""
    c = convert_to_tensor(condition)
    if c.dtype is not _d.bool:
        raise TypeError(f"Assert: condition must be a bool tensor, got {c.dtype.name}")
    v = static_value(c)
    if v is not None and np.size(v) != 1:  # eager TF evaluates `not condition` in Python
        raise ValueError(
            "The truth value of an array with more than one element is ambiguous. Use a.any() or a.all()"
        )
    _run_assert(c, [convert_to_tensor(d) for d in data], "data", summarize, "")


def _binary_assert(comparison, cond, x, y, message, summarize):
    x = convert_to_tensor(x)
    y = convert_to_tensor(y)  # converted separately, like TF: dtypes must match
    test = comparison(x, y)  # raises for incompatible shapes/dtypes
    _run_assert(test, [x, y], "binary", summarize, _header(message), cond)


def _cmp(name):
    def get(x, y):
        return getattr(math_ops, name)(x, y)

    return get


@tf_export("debugging.assert_equal", "assert_equal")
def assert_equal(x, y, message=None, summarize=None, name=None):
    """Raise InvalidArgumentError unless ``x == y`` elementwise (broadcasting)."""
    return _binary_assert(_cmp("equal"), "x == y", x, y, message, summarize)


@tf_export("debugging.assert_none_equal")
def assert_none_equal(x, y, summarize=None, message=None, name=None):
    """Raise InvalidArgumentError unless ``x != y`` elementwise."""
    return _binary_assert(_cmp("not_equal"), "x != y", x, y, message, summarize)


@tf_export("debugging.assert_less", "assert_less")
def assert_less(x, y, message=None, summarize=None, name=None):
    """Raise InvalidArgumentError unless ``x < y`` elementwise."""
    return _binary_assert(_cmp("less"), "x < y", x, y, message, summarize)


@tf_export("debugging.assert_less_equal")
def assert_less_equal(x, y, message=None, summarize=None, name=None):
    """Raise InvalidArgumentError unless ``x <= y`` elementwise."""
    return _binary_assert(_cmp("less_equal"), "x <= y", x, y, message, summarize)


@tf_export("debugging.assert_greater", "assert_greater")
def assert_greater(x, y, message=None, summarize=None, name=None):
    """Raise InvalidArgumentError unless ``x > y`` elementwise."""
    return _binary_assert(_cmp("greater"), "x > y", x, y, message, summarize)


@tf_export("debugging.assert_greater_equal")
def assert_greater_equal(x, y, message=None, summarize=None, name=None):
    """Raise InvalidArgumentError unless ``x >= y`` elementwise."""
    return _binary_assert(_cmp("greater_equal"), "x >= y", x, y, message, summarize)


def _sign_assert(comparison, cond, x, message, summarize):
    x = convert_to_tensor(x)
    test = comparison(x, zeros_like(x))
    _run_assert(test, [x], "unary", summarize, _header(message), cond)


@tf_export("debugging.assert_positive")
def assert_positive(x, message=None, summarize=None, name=None):
    """Raise InvalidArgumentError unless ``x > 0`` elementwise."""
    return _sign_assert(_cmp("greater"), "x > 0", x, message, summarize)


@tf_export("debugging.assert_negative")
def assert_negative(x, message=None, summarize=None, name=None):
    """Raise InvalidArgumentError unless ``x < 0`` elementwise."""
    return _sign_assert(_cmp("less"), "x < 0", x, message, summarize)


@tf_export("debugging.assert_non_negative")
def assert_non_negative(x, message=None, summarize=None, name=None):
    """Raise InvalidArgumentError unless ``x >= 0`` elementwise."""
    return _sign_assert(_cmp("greater_equal"), "x >= 0", x, message, summarize)


@tf_export("debugging.assert_non_positive")
def assert_non_positive(x, message=None, summarize=None, name=None):
    """Raise InvalidArgumentError unless ``x <= 0`` elementwise."""
    return _sign_assert(_cmp("less_equal"), "x <= 0", x, message, summarize)


@tf_export("debugging.assert_near")
def assert_near(x, y, rtol=None, atol=None, message=None, summarize=None, name=None):
    """Raise InvalidArgumentError unless ``|x - y| <= atol + rtol * |y|`` elementwise.

    ``rtol`` and ``atol`` default to 10 * eps of the dtype.
    """
    x = convert_to_tensor(x)
    y = convert_to_tensor(y)
    if not (x.dtype.is_floating or x.dtype.is_complex):
        raise TypeError(
            f"assert_near: x and y must be float or complex tensors, got {x.dtype.name}"
        )
    real = x.dtype.real_dtype
    eps = float(np.finfo(real.np).eps)
    rtol_t = convert_to_tensor(10 * eps if rtol is None else rtol, real)
    atol_t = convert_to_tensor(10 * eps if atol is None else atol, real)
    diff = absolute(math_ops.subtract(x, y))
    tol = math_ops.add(atol_t, math_ops.multiply(rtol_t, absolute(y)))
    test = math_ops.less_equal(diff, tol)
    cond = f"x and y not equal to tolerance rtol = {_scalar_text(rtol_t)}, atol = {_scalar_text(atol_t)}"
    _run_assert(test, [x, y], "near", summarize, _header(message), cond)


def _scalar_text(t):
    v = static_value(t)
    return "?" if v is None else str(np.asarray(v)[()])


# --------------------------------------------------------------------------------------
# Static checks: rank, dtype, shapes
# --------------------------------------------------------------------------------------


def _static_shape(x) -> TensorShape:
    return x.shape if is_tensor_like(x) else TensorShape(np.shape(x))


def _prefix(message) -> str:
    return f"{message}.  " if message else ""


def _rank_value(rank, what="Rank"):
    r = np.asarray(static_value(rank) if is_tensor_like(rank) else rank)
    if r.ndim != 0:
        raise ValueError(f"{what} must be a scalar.")
    if r.dtype.kind not in "iu":
        raise TypeError(f"{what} must be an integer, got {r.dtype}")
    return int(r)


def _shape_text(s: TensorShape) -> str:
    return "<unknown>" if s.rank is None else str(tuple(s.as_list()))


@tf_export("debugging.assert_rank", "assert_rank")
def assert_rank(x, rank, message=None, name=None):
    """Raise ValueError unless ``x`` has rank ``rank`` (checked statically)."""
    r = _rank_value(rank)
    s = _static_shape(x)
    if s.rank is not None and s.rank != r:
        raise ValueError(
            f"{_prefix(message)}Tensor must have rank {r}.  Received rank {s.rank}, shape {_shape_text(s)}"
        )


@tf_export("debugging.assert_rank_at_least")
def assert_rank_at_least(x, rank, message=None, name=None):
    """Raise ValueError unless ``x`` has rank >= ``rank``."""
    r = _rank_value(rank)
    s = _static_shape(x)
    if s.rank is not None and s.rank < r:
        raise ValueError(
            f"{_prefix(message)}Tensor must have rank at least {r}.  Received rank {s.rank}, shape {_shape_text(s)}"
        )


@tf_export("debugging.assert_rank_in")
def assert_rank_in(x, ranks, message=None, name=None):
    """Raise ValueError unless the rank of ``x`` is one of ``ranks``."""
    rs = tuple(_rank_value(r) for r in ranks)
    s = _static_shape(x)
    if s.rank is not None and s.rank not in rs:
        raise ValueError(
            f"{_prefix(message)}Tensor must have rank in {rs}.  Received rank {s.rank}, shape {_shape_text(s)}"
        )


@tf_export("debugging.assert_scalar")
def assert_scalar(tensor, message=None, name=None):
    """Raise ValueError unless ``tensor`` is a scalar; returns the tensor."""
    t = convert_to_tensor(tensor)
    if t.shape.rank is not None and t.shape.rank != 0:
        raise ValueError(
            f"{_prefix(message)}Expected scalar shape, saw shape: {_shape_text(t.shape)}."
        )
    return t


@tf_export("debugging.assert_type")
def assert_type(tensor, tf_type, message=None, name=None):
    """Raise TypeError unless ``tensor`` has dtype ``tf_type``."""
    want = _d.as_dtype(tf_type)
    dt = tensor.dtype if is_tensor_like(tensor) else convert_to_tensor(tensor).dtype
    if dt is not want:
        raise TypeError(f"{_prefix(message)}tensor must be of type {want!r}; got {dt!r}")


@tf_export("debugging.assert_integer")
def assert_integer(x, message=None, name=None):
    """Raise TypeError unless ``x`` has an integer dtype."""
    dt = x.dtype if is_tensor_like(x) else convert_to_tensor(x).dtype
    if not dt.is_integer:
        raise TypeError(
            f'{_prefix(message)}Expected "x" to be integer type.  Found: tensor of dtype {dt!r}'
        )


@tf_export("debugging.assert_same_float_dtype")
def assert_same_float_dtype(tensors=None, dtype=None):
    """The common float dtype of ``tensors`` (and ``dtype``); float32 if there is none."""
    want = None if dtype is None else _d.as_dtype(dtype)
    if want is not None and not want.is_floating:
        raise ValueError(f"Expected floating point type, got {want!r}.")
    first = None
    for t in tensors or ():
        dt = t.dtype
        if want is None and first is None:
            if not dt.is_floating:
                raise ValueError(f"Expected floating point type, got {dt!r}.")
            want, first = dt, t
        elif dt is not want:
            raise ValueError(
                f"{t!r}, type={dt!r}, must be of the same type ({want!r}){'' if first is None else f' as {first!r}'}."
            )
    return want if want is not None else _d.float32


@tf_export("debugging.assert_proper_iterable")
def assert_proper_iterable(values):
    """Raise TypeError if ``values`` is not a proper iterable (a string, tensor or array is not)."""
    unintentional = (str, bytes, np.ndarray, Tensor)
    if isinstance(values, unintentional) or is_tensor_like(values):
        raise TypeError(
            f'Expected argument "values" to be a "proper" iterable.  Found: {type(values)}'
        )
    if not isinstance(values, collections.abc.Iterable):
        raise TypeError(f'Expected argument "values" to be iterable.  Found: {type(values)}')


@tf_export("debugging.is_numeric_tensor")
def is_numeric_tensor(tensor):
    """True for a Tensor of a numeric (int, uint, float or complex) dtype."""
    return isinstance(tensor, Tensor) and tensor.dtype in _d.NUMERIC


@tf_export("debugging.assert_shapes")
def assert_shapes(shapes, data=None, summarize=None, message=None, name=None):
    """Check static shapes against specs like ``(x, ('N', 'Q'))``; raise ValueError on mismatch.

    A spec entry is an int, a symbol (same size everywhere it appears), ``'.'`` (any size)
    or a leading ``'...'`` (any number of leading dimensions).
    """
    items = list(shapes.items()) if isinstance(shapes, dict) else list(shapes)
    sizes = {}  # symbol -> (size, description of where it was fixed)
    for x, spec in items:
        s = _static_shape(x)
        spec = list(spec)
        desc = f"Tensor {_shape_text(s)}"
        if s.rank is None:
            continue
        dims = s.as_list()
        if spec and spec[0] == "...":
            spec = spec[1:]
            if len(dims) < len(spec):
                raise ValueError(
                    f"{_prefix(message)}{desc} must have rank at least {len(spec)}.  Received rank {len(dims)}"
                )
            dims = dims[len(dims) - len(spec) :]
        elif len(dims) != len(spec):
            raise ValueError(
                f"{_prefix(message)}{desc} must have rank {len(spec)}.  Received rank {len(dims)}"
            )
        for i, (d, e) in enumerate(zip(dims, spec)):
            if e == "." or d is None:
                continue
            if isinstance(e, str):
                if e in sizes and sizes[e][0] != d:
                    raise ValueError(
                        f"{_prefix(message)}Dimension '{e}' was fixed to {sizes[e][0]} by {sizes[e][1]}.  "
                        f"{desc} dimension {i} must have size {sizes[e][0]}.  Received size {d}"
                    )
                sizes.setdefault(e, (d, f"{desc} dimension {i}"))
            elif int(e) != d:
                raise ValueError(
                    f"{_prefix(message)}{desc} dimension {i} must have size {int(e)}.  Received size {d}"
                )


# --------------------------------------------------------------------------------------
# Traceback filtering switches (rill does not filter tracebacks; kept for API parity)
# --------------------------------------------------------------------------------------

_traceback_filtering = [True]


@tf_export("debugging.enable_traceback_filtering")
def enable_traceback_filtering():
    _traceback_filtering[0] = True


@tf_export("debugging.disable_traceback_filtering")
def disable_traceback_filtering():
    _traceback_filtering[0] = False


@tf_export("debugging.is_traceback_filtering_enabled")
def is_traceback_filtering_enabled():
    return _traceback_filtering[0]
