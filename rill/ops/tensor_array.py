"""``tf.TensorArray`` over list tensors: one ``variant`` value that flows through ops.

A TensorArray's contents are a single tensor of dtype ``variant`` (its ``flow``) holding an
immutable ``TensorListValue``: a tuple of NumPy arrays, ``None`` for an element never
written (read as zeros). Every write makes a new list value, so the same primitives serve
eager code, tapes and traced graphs, where the flow is an ordinary loop variable.

Eagerly a TensorArray behaves like TF's eager one: writes update it in place (the old
Python object sees them), ``clear_after_read`` (default True) makes a second read of an
element an error and ``stack`` after a read returns zeros there. While tracing, every
method returns a new TensorArray with a new symbolic flow, and ``clear_after_read`` is
ignored, as in TF's graph TensorArrays.

Gradients: the gradient of a list is a list (``None`` items mean zero); the tape adds two
list gradients with ``TensorListAdd`` (registered as the gradient algebra of variant).
"""

from __future__ import annotations

import numpy as np

from rill.core import dispatch as _dispatch
from rill.core import dtypes as _d
from rill.core.dispatch import is_symbolic
from rill.core.errors import InvalidArgumentError, OutOfRangeError
from rill.core.interfaces import register_gradient_algebra
from rill.core.tensor_shape import as_shape
from rill.ops import lowering_lists as _low
from rill.ops._op import (
    AVal,
    EagerTensor,
    TensorShape,
    bind,
    convert_to_tensor,
    op_error,
    primitive,
    tf_export,
)
from rill.ops.array_ops import zeros_like

__all__ = ["TensorArray", "TensorListValue"]

variant = _d.variant

# Every TensorList primitive reads or makes a variant list (a host object boxing a tuple of
# arrays): all are declared host=True. Under XLA a list is one dense buffer
# (rill.ops.lowering_lists), each primitive's ``lowering=``.


# --------------------------------------------------------------------------------------
# The list value
# --------------------------------------------------------------------------------------


class TensorListValue:
    """The value of a list tensor: a tuple of arrays (``None``: unset, reads as zeros).

    Immutable. ``+`` adds two lists elementwise (``None`` counts as zero): it is how list
    gradients accumulate, also inside NumPy object arithmetic.
    """

    __slots__ = ("items",)
    _rill_variant = True  # marks 0-d object arrays holding it as dtype variant

    def __init__(self, items=()):
        self.items = tuple(items)

    def __len__(self):
        return len(self.items)

    def __add__(self, other):
        if not isinstance(other, TensorListValue):
            if other is None or (np.ndim(other) == 0 and other == 0):
                return self
            return NotImplemented
        a, b = self.items, other.items
        if len(a) < len(b):
            a, b = b, a
        out = list(a)
        for i, y in enumerate(b):
            x = out[i]
            out[i] = y if x is None else x if y is None else x + y
        return TensorListValue(out)

    __radd__ = __add__

    def __repr__(self):
        return f"<TensorList of {len(self.items)} elements>"


def _box(items) -> np.ndarray:
    a = np.empty((), dtype=object)
    a[()] = TensorListValue(items)
    return a


def _items(lst) -> tuple:
    v = lst[()] if isinstance(lst, np.ndarray) else lst
    if not isinstance(v, TensorListValue):
        raise TypeError(f"expected a TensorList value, got {type(v).__name__}")
    return v.items


def _shape_tuple(shape: TensorShape):
    """A TensorShape as a hashable param: a tuple (None for unknown dims) or None (unknown rank)."""
    return None if shape.rank is None else tuple(shape.as_list())


def _compatible(shape, static) -> bool:
    if static is None:
        return True
    return len(shape) == len(static) and all(s is None or s == d for s, d in zip(static, shape))


def _element_shape_for_zeros(op, items, element_shape):
    """The shape of an unset element: the static element shape if fully known, else the
    shape of the first element that was written."""
    if element_shape is not None and None not in element_shape:
        return element_shape
    for it in items:
        if it is not None:
            if not _compatible(it.shape, element_shape):
                raise op_error(
                    InvalidArgumentError,
                    op,
                    f"element shape {list(it.shape)} is incompatible with the TensorArray's "
                    f"element_shape {list(element_shape)}",
                )
            return it.shape
    raise unknown_element_shape(op, element_shape)


def unknown_stack_shape(op, element_shape):
    """The error of stacking zero elements whose shape is not fully defined (shared with
    the XLA lowering)."""
    shape = "<unknown>" if element_shape is None else list(element_shape)
    return op_error(
        InvalidArgumentError,
        op,
        f"cannot stack zero elements of element shape {shape}: it is not fully defined; "
        f"give the TensorArray a fully defined element_shape",
    )


def unknown_element_shape(op, element_shape):
    """The error of a read as zeros of a never-written element of unknown shape (shared
    with the XLA lowering)."""
    shape = "<unknown>" if element_shape is None else list(element_shape)
    return op_error(
        InvalidArgumentError,
        op,
        f"an element was never written and the element shape {shape} is not fully defined, "
        f"so it cannot be read as zeros; write every element first or give the TensorArray a "
        f"fully defined element_shape",
    )


def _filled(op, items, element_dtype, element_shape) -> list:
    if all(v is not None for v in items):
        return list(items)
    z = np.zeros(_element_shape_for_zeros(op, items, element_shape), element_dtype.np)
    return [z if v is None else v for v in items]


def _stack_arrays(op, arrays, element_dtype, element_shape):
    if not arrays:
        if element_shape is None or None in element_shape:
            raise unknown_stack_shape(op, element_shape)
        return np.zeros((0, *element_shape), element_dtype.np)
    first = arrays[0].shape
    for i, a in enumerate(arrays):
        if a.shape != first:
            raise op_error(
                InvalidArgumentError,
                op,
                f"element {i} has shape {list(a.shape)} but element 0 has shape {list(first)}; "
                f"stacking needs every element to have the same shape (use concat() for "
                f"elements that differ in their first dimension)",
            )
    return np.stack(arrays)


def _index(op, i, n, what, resize=False):
    i = int(i)
    if i < 0:
        raise op_error(OutOfRangeError, op, f"{what} negative indices (index {i}) is not allowed")
    if i >= n and not resize:
        if what == "Writing to":
            msg = f"Tried to write to index {i} but array is not resizeable and size is: {n}"
        else:
            msg = f"Tried to read from index {i} but array size is: {n}"
        raise op_error(OutOfRangeError, op, msg)
    return i


def _list_aval():
    return AVal(TensorShape([]), variant)


def _check_list(op, a):
    if a.dtype is not variant:
        raise op_error(
            InvalidArgumentError, op, f"expected a TensorList (dtype variant), got {a.dtype.name}"
        )


def _check_scalar_int(op, a, what):
    if not a.dtype.is_integer or a.shape.rank not in (0, None):
        raise op_error(
            InvalidArgumentError,
            op,
            f"{what} must be an integer scalar, got {a.dtype.name} of shape {a.shape}",
        )


def _out_shape(lead, element_shape):
    return TensorShape(None) if element_shape is None else TensorShape([lead, *element_shape])


def _static_len(a):
    """The length of a list aval when its value is known at trace time, else None."""
    return None if a.value is None else len(_items(a.value))


# --------------------------------------------------------------------------------------
# Primitives
# --------------------------------------------------------------------------------------


# TensorListReserve: a list of `num_elements` unset elements ------------------------------
def _reserve_kernel(num_elements, element_dtype, element_shape):
    n = int(num_elements)
    if n < 0:
        raise op_error(
            InvalidArgumentError, "TensorListReserve", f"size must be non-negative, got {n}"
        )
    return _box((None,) * n)


def _reserve_rule(num_elements, element_dtype, element_shape):
    _check_scalar_int("TensorListReserve", num_elements, "num_elements")
    return _list_aval()


reserve_p = primitive(
    "TensorListReserve", _reserve_kernel, _reserve_rule, host=True, lowering=_low.reserve
)


# TensorListLength --------------------------------------------------------------------------
def _length_kernel(lst):
    return np.asarray(len(_items(lst)), np.int32)


def _length_rule(lst):
    _check_list("TensorListLength", lst)
    return AVal(TensorShape([]), _d.int32)


length_p = primitive(
    "TensorListLength", _length_kernel, _length_rule, host=True, lowering=_low.length
)


def _length(lst):
    return bind(length_p, (lst,))


def _empty_like(lst):
    """A list of unset elements as long as ``lst``: the zero gradient of a list."""
    return bind(reserve_p, (_length(lst),), {"element_dtype": None, "element_shape": None})


# TensorListFromTensor: the rows of a tensor -------------------------------------------------
def _from_tensor_kernel(tensor, element_shape):
    if tensor.ndim == 0:
        raise op_error(
            InvalidArgumentError,
            "TensorListFromTensor",
            "the tensor to unstack must be at least a vector, got a scalar",
        )
    return _box(tensor[i, ...] for i in range(tensor.shape[0]))


def _from_tensor_rule(tensor, element_shape):
    if tensor.rank == 0:
        raise op_error(
            InvalidArgumentError,
            "TensorListFromTensor",
            "the tensor to unstack must be at least a vector, got a scalar",
        )
    return _list_aval()


def _from_tensor_grad(inputs, out, dy, element_shape):
    t = inputs[0]
    rest = _shape_tuple(t.shape[1:]) if t.shape.rank is not None else None
    n = t.shape[0] if t.shape.rank else None
    return (
        bind(
            stack_p,
            (dy,),
            {
                "element_dtype": t.dtype,
                "element_shape": rest,
                "num_elements": -1 if n is None else n,
            },
        ),
    )


from_tensor_p = primitive(
    "TensorListFromTensor",
    _from_tensor_kernel,
    _from_tensor_rule,
    _from_tensor_grad,
    host=True,
    lowering=_low.from_tensor,
)


# TensorListStack -----------------------------------------------------------------------------
def _stack_kernel(lst, element_dtype, element_shape, num_elements):
    items = _items(lst)
    if num_elements >= 0 and len(items) != num_elements:
        raise op_error(
            InvalidArgumentError,
            "TensorListStack",
            f"the list has {len(items)} elements but {num_elements} were expected",
        )
    arrays = _filled("TensorListStack", items, element_dtype, element_shape)
    return _stack_arrays("TensorListStack", arrays, element_dtype, element_shape)


def _stack_rule(lst, element_dtype, element_shape, num_elements):
    _check_list("TensorListStack", lst)
    n = _static_len(lst)
    lead = num_elements if num_elements >= 0 else n
    return AVal(_out_shape(lead, element_shape), element_dtype)


def _stack_grad(inputs, out, dy, element_dtype, element_shape, num_elements):
    return (bind(from_tensor_p, (dy,), {"element_shape": element_shape}),)


stack_p = primitive(
    "TensorListStack", _stack_kernel, _stack_rule, _stack_grad, host=True, lowering=_low.stack
)


# TensorListGetItem ------------------------------------------------------------------------
def _get_item_kernel(lst, index, element_dtype, element_shape):
    items = _items(lst)
    i = _index("TensorListGetItem", index, len(items), "Reading from")
    v = items[i]
    if v is None:
        v = np.zeros(
            _element_shape_for_zeros("TensorListGetItem", items, element_shape), element_dtype.np
        )
    return v


def _get_item_rule(lst, index, element_dtype, element_shape):
    _check_list("TensorListGetItem", lst)
    _check_scalar_int("TensorListGetItem", index, "index")
    return AVal(TensorShape(None if element_shape is None else list(element_shape)), element_dtype)


def _get_item_grad(inputs, out, dy, element_dtype, element_shape):
    lst, index = inputs
    d = bind(set_item_p, (_empty_like(lst), index, dy), {"resize_if_index_out_of_bounds": False})
    return (d, None)


get_item_p = primitive(
    "TensorListGetItem",
    _get_item_kernel,
    _get_item_rule,
    _get_item_grad,
    host=True,
    lowering=_low.get_item,
)


# TensorListSetItem ------------------------------------------------------------------------
def _set_item_kernel(lst, index, item, resize_if_index_out_of_bounds):
    items = _items(lst)
    i = _index("TensorListSetItem", index, len(items), "Writing to", resize_if_index_out_of_bounds)
    out = list(items)
    if i >= len(out):
        out.extend([None] * (i + 1 - len(out)))
    out[i] = item
    return _box(out)


def _set_item_rule(lst, index, item, resize_if_index_out_of_bounds):
    _check_list("TensorListSetItem", lst)
    _check_scalar_int("TensorListSetItem", index, "index")
    return _list_aval()


def _set_item_grad(inputs, out, dy, resize_if_index_out_of_bounds):
    lst, index, item = inputs
    d_item = bind(
        get_item_p,
        (dy, index),
        {"element_dtype": item.dtype, "element_shape": _shape_tuple(item.shape)},
    )
    d_lst = bind(
        set_item_p, (dy, index, zeros_like(item)), {"resize_if_index_out_of_bounds": False}
    )
    if resize_if_index_out_of_bounds:
        d_lst = bind(resize_p, (d_lst, _length(lst)))
    return (d_lst, None, d_item)


set_item_p = primitive(
    "TensorListSetItem",
    _set_item_kernel,
    _set_item_rule,
    _set_item_grad,
    host=True,
    lowering=_low.set_item,
)


# TensorListResize ---------------------------------------------------------------------------
def _resize_kernel(lst, size):
    items = _items(lst)
    n = int(size)
    if n < 0:
        raise op_error(
            InvalidArgumentError, "TensorListResize", f"size must be non-negative, got {n}"
        )
    return _box(items[:n] + (None,) * (n - len(items)))


def _resize_rule(lst, size):
    _check_list("TensorListResize", lst)
    _check_scalar_int("TensorListResize", size, "size")
    return _list_aval()


def _resize_grad(inputs, out, dy):
    return (bind(resize_p, (dy, _length(inputs[0]))), None)


resize_p = primitive(
    "TensorListResize", _resize_kernel, _resize_rule, _resize_grad, host=True, lowering=_low.resize
)


# TensorListGather ---------------------------------------------------------------------------
def _gather_kernel(lst, indices, element_dtype, element_shape):
    items = _items(lst)
    idx = [_index("TensorListGather", i, len(items), "Reading from") for i in indices.reshape(-1)]
    picked = [items[i] for i in idx]
    if any(v is None for v in picked):
        z = np.zeros(
            _element_shape_for_zeros("TensorListGather", items, element_shape), element_dtype.np
        )
        picked = [z if v is None else v for v in picked]
    return _stack_arrays("TensorListGather", picked, element_dtype, element_shape)


def _gather_rule(lst, indices, element_dtype, element_shape):
    _check_list("TensorListGather", lst)
    if not indices.dtype.is_integer or indices.shape.rank not in (1, None):
        raise op_error(
            InvalidArgumentError,
            "TensorListGather",
            f"indices must be an integer vector, got {indices.dtype.name} of shape {indices.shape}",
        )
    lead = indices.shape[0] if indices.shape.rank == 1 else None
    return AVal(_out_shape(lead, element_shape), element_dtype)


def _gather_grad(inputs, out, dy, element_dtype, element_shape):
    lst, indices = inputs
    d = bind(
        scatter_p,
        (_empty_like(lst), dy, indices),
        {"resize_if_index_out_of_bounds": False, "accumulate": True},
    )
    return (d, None)


gather_p = primitive(
    "TensorListGather", _gather_kernel, _gather_rule, _gather_grad, host=True, lowering=_low.gather
)


# TensorListScatterIntoExistingList ----------------------------------------------------------
def _scatter_kernel(lst, tensor, indices, resize_if_index_out_of_bounds, accumulate):
    op = "TensorListScatterIntoExistingList"
    items = list(_items(lst))
    idx = indices.reshape(-1)
    if tensor.ndim == 0 or tensor.shape[0] != idx.size:
        raise op_error(
            InvalidArgumentError,
            op,
            f"the value to scatter has shape {list(tensor.shape)} but there are {idx.size} "
            f"indices; its first dimension must equal the number of indices",
        )
    n = len(items)
    for k, i in enumerate(idx):
        i = _index(op, i, n, "Writing to", resize_if_index_out_of_bounds)
        if i >= len(items):
            items.extend([None] * (i + 1 - len(items)))
        row = tensor[k, ...]
        if accumulate and items[i] is not None:
            row = items[i] + row
        items[i] = row
    return _box(items)


def _scatter_rule(lst, tensor, indices, resize_if_index_out_of_bounds, accumulate):
    op = "TensorListScatterIntoExistingList"
    _check_list(op, lst)
    if not indices.dtype.is_integer or indices.shape.rank not in (1, None):
        raise op_error(
            InvalidArgumentError,
            op,
            f"indices must be an integer vector, got {indices.dtype.name} of shape {indices.shape}",
        )
    if tensor.rank == 0:
        raise op_error(InvalidArgumentError, op, "the value to scatter must be at least a vector")
    if (
        tensor.rank is not None
        and indices.shape.rank == 1
        and tensor.shape[0] is not None
        and indices.shape[0] is not None
        and tensor.shape[0] != indices.shape[0]
    ):
        raise op_error(
            InvalidArgumentError,
            op,
            f"the value to scatter has shape {tensor.shape} but there are {indices.shape[0]} "
            f"indices; its first dimension must equal the number of indices",
        )
    return _list_aval()


def _scatter_grad(inputs, out, dy, resize_if_index_out_of_bounds, accumulate):
    lst, tensor, indices = inputs
    rest = _shape_tuple(tensor.shape[1:]) if tensor.shape.rank is not None else None
    d_tensor = bind(gather_p, (dy, indices), {"element_dtype": tensor.dtype, "element_shape": rest})
    if accumulate:
        d_lst = dy
    else:  # overwritten elements get no gradient
        d_lst = bind(
            scatter_p,
            (dy, zeros_like(tensor), indices),
            {"resize_if_index_out_of_bounds": False, "accumulate": False},
        )
    if resize_if_index_out_of_bounds:
        d_lst = bind(resize_p, (d_lst, _length(lst)))
    return (d_lst, d_tensor, None)


scatter_p = primitive(
    "TensorListScatterIntoExistingList",
    _scatter_kernel,
    _scatter_rule,
    _scatter_grad,
    host=True,
    lowering=_low.scatter,
)


# TensorListConcatV2: (elements concatenated along axis 0, their lengths) --------------------
def _concat_kernel(lst, leading_dims, element_dtype, element_shape):
    leading = [int(d) for d in np.asarray(leading_dims).reshape(-1)]
    return concat_items(np, _items(lst), leading, element_shape, element_dtype.np)


def concat_items(xp, items, leading, element_shape, dtype):
    """The elements ``items`` (None: never written, zeros of the size ``leading`` or the
    element shape gives) concatenated along their first dim, and their lengths: the
    kernel's and the XLA lowering's (``xp`` NumPy or jax.numpy)."""
    op = "TensorListConcatV2"
    for i, v in enumerate(items):
        if v is not None and v.ndim == 0:
            raise op_error(
                InvalidArgumentError,
                op,
                f"Concat saw a scalar shape at index {i} but requires at least vectors",
            )
    rest = None if element_shape is None else tuple(element_shape[1:])
    if rest is None or None in rest:
        for v in items:
            if v is not None:
                rest = tuple(v.shape[1:])
                break
    arrays = []
    lead = element_shape[0] if element_shape else None
    for i, v in enumerate(items):
        if v is None:
            n = leading[i] if leading is not None and len(leading) == len(items) else lead
            if n is None or rest is None or None in rest:
                raise op_error(
                    InvalidArgumentError,
                    op,
                    f"element {i} was never written and its shape is unknown; give the "
                    f"TensorArray a fully defined element_shape or write every element",
                )
            v = xp.zeros((n, *rest), dtype)
        elif tuple(v.shape[1:]) != tuple(rest):
            raise op_error(
                InvalidArgumentError,
                op,
                f"element {i} has shape {list(v.shape)} but the elements' shapes after the "
                f"first dimension must all be {list(rest)}",
            )
        arrays.append(v)
    lengths = np.array([a.shape[0] for a in arrays], np.int64)
    if not arrays:
        if rest is None or None in rest:
            raise op_error(
                InvalidArgumentError,
                op,
                "cannot concatenate zero elements of unknown shape; give the TensorArray a "
                "fully defined element_shape",
            )
        return xp.zeros((0, *rest), dtype), lengths
    return xp.concatenate(arrays, axis=0), lengths


def _concat_rule(lst, leading_dims, element_dtype, element_shape):
    _check_list("TensorListConcatV2", lst)
    if element_shape is None:
        shape = TensorShape(None)
    elif len(element_shape) == 0:
        raise op_error(
            InvalidArgumentError,
            "TensorListConcatV2",
            "Concat saw scalar elements but requires at least vectors",
        )
    else:
        shape = TensorShape([None, *element_shape[1:]])
    return AVal(shape, element_dtype), AVal(TensorShape([None]), _d.int64)


def _concat_grad(inputs, outs, dys, element_dtype, element_shape):
    d = bind(split_p, (dys[0], outs[1]), {"element_shape": element_shape})
    return (d, None)


concat_p = primitive(
    "TensorListConcatV2",
    _concat_kernel,
    _concat_rule,
    _concat_grad,
    n_out=2,
    saves_output=True,
    host=True,
    lowering=_low.concat,
)


# TensorListSplit: a tensor cut along axis 0 into pieces of the given lengths ----------------
def _split_kernel(tensor, lengths, element_shape):
    op = "TensorListSplit"
    if tensor.ndim == 0:
        raise op_error(
            InvalidArgumentError,
            op,
            "Expected value to be at least a vector, but received a scalar",
        )
    if lengths.ndim != 1:
        raise op_error(
            InvalidArgumentError,
            op,
            f"Expected lengths to be a vector, received shape: {list(lengths.shape)}",
        )
    if lengths.size and lengths.min() < 0:
        raise op_error(
            InvalidArgumentError, op, f"lengths must be non-negative, got {lengths.tolist()}"
        )
    total = int(lengths.sum())
    if total != tensor.shape[0]:
        raise op_error(
            InvalidArgumentError,
            op,
            f"Expected sum of lengths to be equal to values.shape[0], but sum of lengths is "
            f"{total} and value's shape is: {list(tensor.shape)}",
        )
    cuts = np.cumsum(lengths)[:-1]
    return _box(np.split(tensor, cuts, axis=0) if lengths.size else [])


def _split_rule(tensor, lengths, element_shape):
    op = "TensorListSplit"
    if tensor.rank == 0:
        raise op_error(
            InvalidArgumentError,
            op,
            "Expected value to be at least a vector, but received a scalar",
        )
    if not lengths.dtype.is_integer or lengths.shape.rank not in (1, None):
        raise op_error(
            InvalidArgumentError,
            op,
            f"Expected lengths to be an integer vector, received {lengths.dtype.name} of shape "
            f"{lengths.shape}",
        )
    return _list_aval()


def _split_grad(inputs, out, dy, element_shape):
    tensor, lengths = inputs
    rest = [None] + tensor.shape.as_list()[1:] if tensor.shape.rank is not None else None
    d, _ = bind(
        concat_p,
        (dy, lengths),
        {"element_dtype": tensor.dtype, "element_shape": None if rest is None else tuple(rest)},
    )
    return (d, None)


split_p = primitive(
    "TensorListSplit", _split_kernel, _split_rule, _split_grad, host=True, lowering=_low.split
)


# TensorListAdd: the sum of two list gradients -----------------------------------------------
def _add_kernel(a, b):
    return _box((a[()] + b[()]).items)


def _add_rule(a, b):
    _check_list("TensorListAdd", a)
    _check_list("TensorListAdd", b)
    return _list_aval()


add_p = primitive(
    "TensorListAdd",
    _add_kernel,
    _add_rule,
    lambda inputs, out, dy: (dy, dy),
    host=True,
    lowering=_low.add,
)


# Gradients of lists (dtype variant) sum element by element, and the zero gradient of a
# list is a list of unset elements.
register_gradient_algebra(variant, zeros_like=_empty_like, add=lambda a, b: bind(add_p, (a, b)))


# --------------------------------------------------------------------------------------
# TensorArray
# --------------------------------------------------------------------------------------


class _Cell:
    """What TensorArray objects created from one another share: the element shape (always,
    as in TF) and, eagerly, the current flow and the indices cleared by reads."""

    __slots__ = ("element_shape", "flow", "cleared")

    def __init__(self, element_shape, flow):
        self.element_shape = element_shape
        self.flow = flow
        self.cleared = set()


def _as_index(x):
    if isinstance(x, (int, np.integer)) and not isinstance(x, bool):
        return convert_to_tensor(int(x), dtype=_d.int32)
    t = convert_to_tensor(x)
    if not t.dtype.is_integer or t.shape.rank not in (0, None):
        raise TypeError(
            f"TensorArray index must be an integer scalar, got {t.dtype.name} of shape {t.shape}."
        )
    return t


def _eager_int(t):
    return int(t._value) if type(t) is EagerTensor else None


@tf_export("TensorArray")
class TensorArray:
    """A list of same-dtype tensors that loops write one step at a time (``tf.TensorArray``).

    ``write``/``unstack``/``scatter``/``split`` return the updated TensorArray (use the
    returned object: in a traced function it is a new one); ``read``, ``stack``, ``gather``,
    ``concat`` and ``size`` read it. Unwritten elements read as zeros of ``element_shape``.
    """

    def __init__(
        self,
        dtype,
        size=None,
        dynamic_size=None,
        clear_after_read=None,
        tensor_array_name=None,
        handle=None,
        flow=None,
        infer_shape=True,
        element_shape=None,
        colocate_with_first_write_call=True,
        name=None,
    ):
        if handle is not None:
            raise ValueError("TensorArray handles are not supported; pass `size` (or `flow`).")
        if flow is not None and size is not None:
            raise ValueError("Cannot provide both `flow` and `size` arguments at the same time.")
        if flow is None and size is None:
            raise ValueError(
                "TensorArray: `size` must be given (use size=0, dynamic_size=True for a "
                "TensorArray that grows)."
            )
        self._dtype = _d.as_dtype(dtype)
        self._dynamic_size = bool(dynamic_size)
        self._clear_after_read = True if clear_after_read is None else bool(clear_after_read)
        self._infer_shape = infer_shape
        shape = as_shape(element_shape) if element_shape is not None else TensorShape(None)
        if flow is not None:
            flow = convert_to_tensor(flow)
            if flow.dtype is not variant:
                raise TypeError(
                    f"Expected `flow` to be a variant tensor (a TensorArray's flow), but "
                    f"received {flow.dtype.name}."
                )
            self._size = None
        else:
            size_t = _as_index(size)
            n = _eager_int(size_t)
            if n is None and getattr(size_t, "_const", None) is not None:
                n = int(size_t._const)
            if n is not None and n < 0:
                raise InvalidArgumentError(
                    None, "TensorArray", f"TensorArray size must be non-negative, got {n}."
                )
            self._size = None if self._dynamic_size else n  # static size, if fixed and known
            flow = bind(
                reserve_p,
                (size_t,),
                {"element_dtype": self._dtype, "element_shape": _shape_tuple(shape)},
            )
        self._cell = _Cell(shape, flow)

    # construction from a flow (how a traced loop carries a TensorArray) ---------------------
    def _with_flow(self, flow) -> TensorArray:
        """A TensorArray with this one's static info (dtype, element shape, flags) over
        ``flow``. Eagerly this one is updated in place and returned, as in TF."""
        if self._eager() and not is_symbolic(flow):
            self._cell.flow = flow
            return self
        ta = object.__new__(TensorArray)
        ta._dtype = self._dtype
        ta._dynamic_size = self._dynamic_size
        ta._clear_after_read = self._clear_after_read
        ta._infer_shape = self._infer_shape
        ta._size = self._size
        ta._cell = _Cell(self._cell.element_shape, flow)
        return ta

    @classmethod
    def _from_flow(cls, flow, template: TensorArray) -> TensorArray:
        """Rebuild a TensorArray around ``flow`` (e.g. a while_loop's output for a loop
        variable that was ``template``), keeping ``template``'s static info."""
        ta = object.__new__(cls)
        ta._dtype = template._dtype
        ta._dynamic_size = template._dynamic_size
        ta._clear_after_read = template._clear_after_read
        ta._infer_shape = template._infer_shape
        ta._size = template._size
        ta._cell = _Cell(template._cell.element_shape, flow)
        return ta

    @property
    def _flow(self):
        return self._cell.flow

    # composite protocol (rill.core.nest): a TensorArray is carried through while_loop,
    # cond and scan as its flow tensor
    def _rill_components(self):
        return [self._cell.flow]

    def _rill_rebuild(self, components):
        return TensorArray._from_flow(components[0], self)

    # properties ----------------------------------------------------------------------------
    @property
    def flow(self):
        """The list tensor (dtype variant) holding the elements."""
        return self._cell.flow

    @property
    def handle(self):
        return None

    @property
    def dtype(self):
        return self._dtype

    @property
    def element_shape(self) -> TensorShape:
        return self._cell.element_shape

    @property
    def dynamic_size(self) -> bool:
        return self._dynamic_size

    def _eager(self) -> bool:
        """True when running eagerly on a concrete flow (TF's eager, in-place semantics)."""
        return _dispatch.state.graph is None and not is_symbolic(self._cell.flow)

    def __repr__(self):
        return (
            f"<rill.TensorArray dtype={self._dtype.name} element_shape={self.element_shape} "
            f"dynamic_size={self._dynamic_size}>"
        )

    # checks -----------------------------------------------------------------------------
    def _convert(self, value):
        if isinstance(value, TensorArray):
            raise TypeError("Cannot write a TensorArray into a TensorArray.")
        try:
            t = convert_to_tensor(value, dtype_hint=self._dtype)
        except (TypeError, ValueError) as e:
            raise TypeError(f"TensorArray: cannot convert {value!r} to a tensor: {e}") from None
        if t.dtype is not self._dtype:
            raise InvalidArgumentError(
                None,
                "TensorArrayWrite",
                f"TensorArray dtype is {self._dtype.name} but Op is trying to write dtype "
                f"{t.dtype.name}",
            )
        return t

    def _merge_element_shape(self, shape: TensorShape):
        cur = self._cell.element_shape
        if not cur.is_compatible_with(shape):
            raise ValueError(
                f"Incompatible shape for value ({shape}), expected ({cur}): every element of "
                f"a TensorArray must have the same shape (create it with infer_shape=False "
                f"and use concat() for elements of different lengths)."
            )
        if self._infer_shape:
            self._cell.element_shape = cur.merge_with(shape)

    def _zero_shape_param(self):
        return _shape_tuple(self._cell.element_shape)

    # reading -----------------------------------------------------------------------------
    def read(self, index, name=None):
        """The element at ``index`` (zeros of ``element_shape`` if it was never written)."""
        idx = _as_index(index)
        cell = self._cell
        eager = self._eager()
        i = _eager_int(idx) if eager else None
        if eager and i is not None and i in cell.cleared:
            raise InvalidArgumentError(
                None,
                "TensorArrayRead",
                f"Could not read index {i} twice because it was cleared after a previous read "
                f"(perhaps try setting clear_after_read = false?)",
            )
        value = bind(
            get_item_p,
            (cell.flow, idx),
            {"element_dtype": self._dtype, "element_shape": self._zero_shape_param()},
        )
        if eager and self._clear_after_read and i is not None:
            cell.flow = bind(
                set_item_p,
                (cell.flow, idx, zeros_like(value)),
                {"resize_if_index_out_of_bounds": False},
            )
            cell.cleared.add(i)
        return value

    def stack(self, name=None):
        """All elements stacked along a new first axis."""
        n = -1 if self._size is None else self._size
        out = bind(
            stack_p,
            (self._cell.flow,),
            {
                "element_dtype": self._dtype,
                "element_shape": self._zero_shape_param(),
                "num_elements": n,
            },
        )
        self._cell.cleared.clear()
        return out

    def gather(self, indices, name=None):
        """The elements at ``indices``, stacked."""
        idx = convert_to_tensor(indices, dtype_hint=_d.int32)
        out = bind(
            gather_p,
            (self._cell.flow, idx),
            {"element_dtype": self._dtype, "element_shape": self._zero_shape_param()},
        )
        if self._eager():
            self._cell.cleared.difference_update(int(i) for i in np.asarray(idx._value).reshape(-1))
        return out

    def concat(self, name=None):
        """All elements concatenated along their first axis."""
        es = self._cell.element_shape
        param = None if es.rank is None else tuple([None] + es.as_list()[1:]) if es.rank else ()
        lead = convert_to_tensor(np.zeros((0,), np.int64))
        out, _ = bind(
            concat_p,
            (self._cell.flow, lead),
            {"element_dtype": self._dtype, "element_shape": param},
        )
        self._cell.cleared.clear()
        return out

    def size(self, name=None):
        """The number of elements (an int32 scalar tensor)."""
        return bind(length_p, (self._cell.flow,))

    # writing -----------------------------------------------------------------------------
    def write(self, index, value, name=None):
        """Write ``value`` at ``index``; returns the updated TensorArray."""
        idx = _as_index(index)
        v = self._convert(value)
        self._merge_element_shape(v.shape)
        flow = bind(
            set_item_p,
            (self._cell.flow, idx, v),
            {"resize_if_index_out_of_bounds": self._dynamic_size},
        )
        ta = self._with_flow(flow)
        i = _eager_int(idx)
        if ta is self and i is not None:
            self._cell.cleared.discard(i)
        return ta

    def unstack(self, value, name=None):
        """Replace the elements with the rows of ``value``; returns the updated TensorArray."""
        v = self._convert(value)
        if v.shape.rank == 0:
            raise InvalidArgumentError(
                None,
                "TensorArrayUnstack",
                "the value to unstack must be at least a vector, got a scalar",
            )
        if v.shape.rank is not None:
            self._merge_element_shape(v.shape[1:])
            n = v.shape[0]
            if n is not None and self._size is not None and n > self._size:
                raise ValueError(
                    f"Cannot unstack {n} tensors into a TensorArray of static size {self._size}; "
                    f"create it with dynamic_size=True or a larger size."
                )
        flow = bind(from_tensor_p, (v,), {"element_shape": self._zero_shape_param()})
        ta = self._with_flow(flow)
        ta._cell.cleared.clear()
        return ta

    def scatter(self, indices, value, name=None):
        """Write the rows of ``value`` at ``indices``; returns the updated TensorArray."""
        idx = convert_to_tensor(indices, dtype_hint=_d.int32)
        v = self._convert(value)
        if v.shape.rank is not None and v.shape.rank > 0:
            self._merge_element_shape(v.shape[1:])
        flow = bind(
            scatter_p,
            (self._cell.flow, v, idx),
            {"resize_if_index_out_of_bounds": self._dynamic_size, "accumulate": False},
        )
        ta = self._with_flow(flow)
        if ta is self:
            self._cell.cleared.difference_update(int(i) for i in np.asarray(idx._value).reshape(-1))
        return ta

    def split(self, value, lengths, name=None):
        """Replace the elements with pieces of ``value`` cut along axis 0 into ``lengths``."""
        v = self._convert(value)
        ln = convert_to_tensor(lengths, dtype_hint=_d.int64)
        if ln.shape.rank is not None and ln.shape.rank != 1:
            raise InvalidArgumentError(
                None,
                "TensorArraySplit",
                f"Expected lengths to be a vector, received shape: {ln.shape.as_list()}",
            )
        if v.shape.rank == 0:
            raise InvalidArgumentError(
                None,
                "TensorArraySplit",
                "Expected value to be at least a vector, but received shape: []",
            )
        k = ln.shape[0] if ln.shape.rank == 1 else None
        if self._size is not None and k is not None and k != self._size:
            raise InvalidArgumentError(
                None,
                "TensorArraySplit",
                f"TensorArray's size is not equal to the size of lengths ({self._size} vs. {k}), "
                f"and the TensorArray is not marked as dynamically resizeable",
            )
        lv = ln._value if type(ln) is EagerTensor else getattr(ln, "_const", None)
        if v.shape.rank is not None:
            first = None
            if lv is not None and lv.size and np.all(lv == lv.reshape(-1)[0]):
                first = int(lv.reshape(-1)[0])
            self._merge_element_shape(TensorShape([first, *v.shape.as_list()[1:]]))
        flow = bind(split_p, (v, ln), {"element_shape": self._zero_shape_param()})
        ta = self._with_flow(flow)
        ta._cell.cleared.clear()
        return ta

    # misc --------------------------------------------------------------------------------
    def identity(self):
        """This TensorArray (a new object over the same flow while tracing)."""
        return self if self._eager() else TensorArray._from_flow(self._cell.flow, self)

    def close(self, name=None):
        """Eagerly, drop every element (the size becomes 0); a no-op while tracing."""
        if self._eager():
            self._cell.flow = bind(resize_p, (self._cell.flow, convert_to_tensor(0)))
            self._cell.cleared.clear()

    def grad(self, source, flow=None, name=None):
        raise NotImplementedError(
            "TensorArray.grad is not supported: gradients flow through TensorArray ops on "
            "a GradientTape (write -> stack, unstack -> read, ...)."
        )
