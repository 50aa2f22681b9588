"""Lowerings of the TensorList primitives behind ``tf.TensorArray``: a list whose length is
known when compiling becomes one dense JAX buffer ``[size, *element_shape]``, as in TF's XLA.

On the executor a list is a host tuple of arrays (``TensorListValue``); under XLA it is a
``LoweredList``: a static ``size`` and either ``buf`` (the dense buffer), nothing yet (no
element written and the element shape unknown: every element reads as zeros), or, for
elements of different static shapes (a ``split`` into unequal pieces, a ragged host list),
``items``, one array per element. It is a JAX pytree, so lists are carried by
``lax.while_loop`` / ``lax.scan`` / ``lax.cond`` like any value; ``LoweringContext``
learns the buffer of a list that enters a loop empty from the body's first write
(``settle``) and gives an empty list the zeros buffer its partner has (``conform``).

Like ``lowering_rules``, this module imports nothing from JAX itself (``ctx`` has it).
"""

from __future__ import annotations

import numpy as np

from rill.core.errors import InvalidArgumentError, NotLowerable, OutOfRangeError
from rill.ops._op import op_error

__all__ = [
    "LoweredList",
    "as_list",
    "is_list",
    "has_unknown",
    "fill_unknown",
    "conform",
    "merge_known",
    "zeros_like_list",
    "reserve",
    "length",
    "from_tensor",
    "stack",
    "get_item",
    "set_item",
    "resize",
    "gather",
    "scatter",
    "concat",
    "split",
    "add",
]

_OBJECT = np.dtype(object)


class LoweredList:
    """A TensorList while lowering: ``size`` (static), ``buf`` or ``items`` or neither."""

    __slots__ = ("size", "buf", "items")
    dtype = _OBJECT  # what the loops' ``ctx.dynamic(value, carry.dtype)`` sees: variant

    def __init__(self, size, buf=None, items=None):
        self.size = size
        self.buf = buf
        self.items = items

    @property
    def known(self) -> bool:
        """Whether some element was written (else every element reads as zeros)."""
        return self.buf is not None or self.items is not None

    def __repr__(self):
        what = "empty" if not self.known else "dense" if self.buf is not None else "ragged"
        return f"<LoweredList size={self.size} {what}>"


_registered = False


def _register(jax) -> None:
    """Make ``LoweredList`` a JAX pytree (children: buf, items; static: size), once."""
    global _registered
    if not _registered:
        jax.tree_util.register_pytree_node(
            LoweredList,
            lambda lst: ((lst.buf, lst.items), lst.size),
            lambda size, ch: LoweredList(size, *ch),
        )
        _registered = True


def is_list(v) -> bool:
    return isinstance(v, LoweredList)


def _new(ctx, size, buf=None, items=None) -> LoweredList:
    _register(ctx.jax)
    if items is not None and all(x is None for x in items):
        items = None  # nothing written (a ragged list cut down): empty
    return LoweredList(int(size), buf, items)


def as_list(ctx, v) -> LoweredList:
    """A lowering's list input as a ``LoweredList``: a host list (a ``TensorListValue`` the
    executor's plan or ``lower_op`` folded from constants) is converted."""
    if isinstance(v, LoweredList):
        _register(ctx.jax)
        return v
    host = v[()] if isinstance(v, np.ndarray) and v.dtype == _OBJECT else v
    items = getattr(host, "items", None)
    if not getattr(host, "_rill_variant", False) or not isinstance(items, tuple):
        raise NotLowerable(f"expected a TensorList, got {type(host).__name__}")
    written = [np.asarray(x) for x in items if x is not None]
    if not written:
        return _new(ctx, len(items))
    first = written[0]
    if all(x.shape == first.shape and x.dtype == first.dtype for x in written):
        z = np.zeros_like(first)
        buf = np.stack([z if x is None else np.asarray(x) for x in items])
        return _new(ctx, len(items), buf=ctx.jnp.asarray(buf))
    return _new(
        ctx, len(items), items=tuple(None if x is None else ctx.jnp.asarray(x) for x in items)
    )


# --------------------------------------------------------------------------------------
# Loops and branches: lists of unknown element shape
# --------------------------------------------------------------------------------------


def _leaves(jax, tree):
    return jax.tree_util.tree_leaves(tree, is_leaf=is_list)


def has_unknown(ctx, tree) -> bool:
    """Whether ``tree`` (a loop's carry) holds a list with no element written yet."""
    return any(is_list(v) and not v.known for v in _leaves(ctx.jax, tree))


def _zeros_of(ctx, struct):
    return None if struct is None else ctx.jnp.zeros(struct.shape, struct.dtype)


def _materialise(ctx, lst, like, why):
    """Empty ``lst`` as the zeros that ``like`` (a list, or its shapes) has: every element
    of an empty list reads as zeros, so this changes no value, only the representation."""
    if lst.size != like.size:
        raise NotLowerable(
            f"a TensorArray has {lst.size} elements on one side of {why} and {like.size} on "
            f"the other; XLA needs one static size (give it a fixed size)"
        )
    if like.buf is not None:
        return _new(ctx, lst.size, buf=_zeros_of(ctx, like.buf))
    if like.items is not None:
        return _new(ctx, lst.size, items=tuple(_zeros_of(ctx, s) for s in like.items))
    return lst


def fill_unknown(ctx, carry, out):
    """``carry`` with each empty list that ``out`` (the shapes of a loop step's result, as
    ``jax.eval_shape`` gives them) has written given that buffer, of zeros."""

    def fill(c, o):
        if is_list(c) and not c.known and is_list(o) and o.known:
            return _materialise(ctx, c, o, "a loop")
        return c

    return ctx.jax.tree_util.tree_map(fill, carry, out, is_leaf=is_list)


def conform(ctx, tree, target, why):
    """``tree`` (a loop body's or branch's result) with each empty list given the zeros
    buffer its counterpart in ``target`` has: a loop's carry and the two branches of a
    cond must agree in structure."""

    def fix(v, t):
        if is_list(v) and not v.known and is_list(t) and t.known:
            return _materialise(ctx, v, t, why)
        if is_list(v) and is_list(t) and v.size != t.size:
            _materialise(ctx, v, t, why)  # raises: the sizes differ
        return v

    return ctx.jax.tree_util.tree_map(fix, tree, target, is_leaf=is_list)


def merge_known(ctx, a, b):
    """Of two results' shapes (a cond's branches), each list taken from the one that has
    its elements' shapes."""

    def pick(x, y):
        return y if is_list(x) and not x.known and is_list(y) and y.known else x

    return ctx.jax.tree_util.tree_map(pick, a, b, is_leaf=is_list)


def zeros_like_list(ctx, v) -> LoweredList:
    """The zero gradient of list ``v``: as many elements, none written."""
    return _new(ctx, as_list(ctx, v).size)


# --------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------


def _static_int(ctx, v):
    """The integer scalar ``v`` if it is known when compiling, else None."""
    known = ctx.known_elements(v)
    if known is None or len(known) != 1 or known[0] is None:
        return None
    return int(known[0])


def _static_ints(ctx, v):
    """The integer vector ``v`` if every element is known when compiling, else None."""
    known = ctx.known_elements(v)
    if known is None or any(k is None for k in known):
        return None
    return [int(k) for k in known]


def _needs_static(what, op):
    return NotLowerable(
        f"{what} must be known when compiling: XLA gives a TensorArray one static size and "
        f"element shape ({op})"
    )


def _check_index(op, i, n, reading, resize=False):
    if i < 0:
        verb = "Reading from" if reading else "Writing to"
        raise op_error(OutOfRangeError, op, f"{verb} negative indices (index {i}) is not allowed")
    if i >= n and not resize:
        if reading:
            msg = f"Tried to read from index {i} but array size is: {n}"
        else:
            msg = f"Tried to write to index {i} but array is not resizeable and size is: {n}"
        raise op_error(OutOfRangeError, op, msg)


def _full(shape) -> bool:
    return shape is not None and None not in shape


def _zero_shape(op, lst, element_shape):
    """The shape of an element never written: the element shape when it is fully known,
    else the first written element's (as the executor)."""
    if lst.buf is not None:
        return tuple(lst.buf.shape[1:])
    if _full(element_shape):
        return tuple(element_shape)
    for x in lst.items or ():
        if x is not None:
            return tuple(x.shape)
    from rill.ops.tensor_array import unknown_element_shape

    raise unknown_element_shape(op, element_shape)


def _np_dtype(element_dtype, fallback=None):
    return element_dtype.np if element_dtype is not None else fallback


def _dense(ctx, op, lst, element_dtype, element_shape):
    """The whole list as one array ``[size, *element shape]``."""
    if lst.buf is not None:
        return lst.buf
    if lst.items is None:
        if lst.size == 0 and not _full(element_shape):
            from rill.ops.tensor_array import unknown_stack_shape

            raise unknown_stack_shape(op, element_shape)
        shape = _zero_shape(op, lst, element_shape)
        return ctx.jnp.zeros((lst.size, *shape), _np_dtype(element_dtype, np.float32))
    shape = _zero_shape(op, lst, element_shape)
    dt = next(x.dtype for x in lst.items if x is not None)
    rows = [ctx.jnp.zeros(shape, dt) if x is None else x for x in lst.items]
    for i, r in enumerate(rows):
        if tuple(r.shape) != tuple(rows[0].shape):
            raise op_error(
                InvalidArgumentError,
                op,
                f"element {i} has shape {list(r.shape)} but element 0 has shape "
                f"{list(rows[0].shape)}; stacking needs every element to have the same shape "
                f"(use concat() for elements that differ in their first dimension)",
            )
    return ctx.jnp.stack(rows)


def _densify(ctx, op, lst, element_shape=None):
    """``lst`` as a dense list, for an access at an index known only at run time."""
    if lst.items is None:
        return lst
    try:
        return _new(ctx, lst.size, buf=_dense(ctx, op, lst, None, element_shape))
    except InvalidArgumentError:
        raise NotLowerable(
            "the TensorArray's elements have different shapes, and it is indexed at an "
            "index known only at run time; XLA needs one element shape for that"
        ) from None


# --------------------------------------------------------------------------------------
# Lowerings
# --------------------------------------------------------------------------------------


def reserve(ctx, num_elements, element_dtype, element_shape):
    """TensorListReserve: ``num_elements`` unwritten elements (zeros once the element shape
    is known: now, or at the first write)."""
    n = _static_int(ctx, num_elements)
    if n is None:
        raise _needs_static("the size of a TensorArray", "TensorListReserve")
    if n < 0:
        raise op_error(
            InvalidArgumentError, "TensorListReserve", f"size must be non-negative, got {n}"
        )
    if element_dtype is not None and _full(element_shape):
        return _new(ctx, n, buf=ctx.jnp.zeros((n, *element_shape), element_dtype.np))
    return _new(ctx, n)


def length(ctx, lst):
    """TensorListLength: the static size."""
    return np.asarray(as_list(ctx, lst).size, np.int32)


def from_tensor(ctx, tensor, element_shape):
    """TensorListFromTensor: the tensor itself is the buffer."""
    t = ctx.jnp.asarray(tensor)
    if t.ndim == 0:
        raise op_error(
            InvalidArgumentError,
            "TensorListFromTensor",
            "the tensor to unstack must be at least a vector, got a scalar",
        )
    return _new(ctx, t.shape[0], buf=t)


def stack(ctx, lst, element_dtype, element_shape, num_elements):
    """TensorListStack: the buffer (zeros where nothing was written)."""
    op = "TensorListStack"
    lst = as_list(ctx, lst)
    if num_elements >= 0 and lst.size != num_elements:
        raise op_error(
            InvalidArgumentError,
            op,
            f"the list has {lst.size} elements but {num_elements} were expected",
        )
    return _dense(ctx, op, lst, element_dtype, element_shape)


def get_item(ctx, lst, index, element_dtype, element_shape):
    """TensorListGetItem: a row of the buffer, at a static or traced index."""
    op = "TensorListGetItem"
    lst = as_list(ctx, lst)
    i = _static_int(ctx, index)
    if i is not None:
        _check_index(op, i, lst.size, reading=True)
        if lst.items is not None and lst.items[i] is not None:
            return lst.items[i]
    if not lst.known:
        shape = _zero_shape(op, lst, element_shape)
        return ctx.jnp.zeros(shape, _np_dtype(element_dtype, np.float32))
    if i is not None and lst.buf is not None:
        return lst.buf[i]
    if i is not None:  # an unwritten element of a ragged list
        shape = _zero_shape(op, lst, element_shape)
        dt = next(x.dtype for x in lst.items if x is not None)
        return ctx.jnp.zeros(shape, dt)
    buf = _densify(ctx, op, lst, element_shape).buf
    idx = ctx.jnp.asarray(index).astype(np.int32).reshape(())
    return ctx.lax.dynamic_index_in_dim(buf, idx, 0, keepdims=False)


def _grown(ctx, lst, n):
    """``lst`` with ``n`` >= its size elements (the new ones unwritten)."""
    if n <= lst.size:
        return lst
    if lst.buf is not None:
        pad = ctx.jnp.zeros((n - lst.size, *lst.buf.shape[1:]), lst.buf.dtype)
        return _new(ctx, n, buf=ctx.jnp.concatenate([lst.buf, pad]))
    if lst.items is not None:
        return _new(ctx, n, items=lst.items + (None,) * (n - lst.size))
    return _new(ctx, n)


def _dynamic_size(op):
    return NotLowerable(
        f"a TensorArray with dynamic_size=True written at an index known only at run time "
        f"(a loop's counter) has no static size, which XLA needs; give it a fixed size "
        f"({op})"
    )


def set_item(ctx, lst, index, item, resize_if_index_out_of_bounds):
    """TensorListSetItem: ``buf.at[index].set(item)``; the first write of an empty list
    makes its buffer, of the item's shape."""
    op = "TensorListSetItem"
    lst = as_list(ctx, lst)
    item = ctx.jnp.asarray(item)
    i = _static_int(ctx, index)
    if i is None:
        if resize_if_index_out_of_bounds:
            raise _dynamic_size(op)
        lst = _densify(ctx, op, lst)
    else:
        _check_index(op, i, lst.size, reading=False, resize=resize_if_index_out_of_bounds)
        lst = _grown(ctx, lst, i + 1)
    if lst.items is not None or (
        i is not None and lst.buf is not None and tuple(lst.buf.shape[1:]) != item.shape
    ):  # ragged: elements of different shapes, at static indices
        items = lst.items if lst.items is not None else tuple(lst.buf)
        return _new(ctx, lst.size, items=items[:i] + (item,) + items[i + 1 :])
    buf = lst.buf
    if buf is None:
        buf = ctx.jnp.zeros((lst.size, *item.shape), item.dtype)
    elif tuple(buf.shape[1:]) != item.shape:
        raise NotLowerable(
            f"a TensorArray of elements of shape {list(buf.shape[1:])} is written an element "
            f"of shape {list(item.shape)} at an index known only at run time ({op})"
        )
    at = i if i is not None else ctx.jnp.asarray(index).astype(np.int32).reshape(())
    return _new(ctx, lst.size, buf=buf.at[at].set(item.astype(buf.dtype)))


def resize(ctx, lst, size):
    """TensorListResize: truncated or padded with unwritten elements, to a static size."""
    op = "TensorListResize"
    lst = as_list(ctx, lst)
    n = _static_int(ctx, size)
    if n is None:
        raise _needs_static("the new size of a TensorArray", op)
    if n < 0:
        raise op_error(InvalidArgumentError, op, f"size must be non-negative, got {n}")
    if n >= lst.size:
        return _grown(ctx, lst, n)
    if lst.buf is not None:
        return _new(ctx, n, buf=lst.buf[:n])
    if lst.items is not None:
        return _new(ctx, n, items=lst.items[:n])
    return _new(ctx, n)


def gather(ctx, lst, indices, element_dtype, element_shape):
    """TensorListGather: rows of the buffer (``jnp.take``), at static or traced indices."""
    op = "TensorListGather"
    lst = as_list(ctx, lst)
    idx = _static_ints(ctx, indices)
    if idx is not None:
        for i in idx:
            _check_index(op, i, lst.size, reading=True)
        if lst.items is not None:  # static picks of a ragged list
            picked = _new(ctx, len(idx), items=tuple(lst.items[i] for i in idx))
            return _dense(ctx, op, picked, element_dtype, element_shape)
        n = len(idx)
    else:
        n = int(np.shape(indices)[0]) if np.ndim(indices) else 1
        lst = _densify(ctx, op, lst, element_shape)
    if not lst.known:
        if n == 0 and not _full(element_shape):
            return _dense(ctx, op, _new(ctx, 0), element_dtype, element_shape)
        shape = _zero_shape(op, lst, element_shape)
        return ctx.jnp.zeros((n, *shape), _np_dtype(element_dtype, np.float32))
    where = np.asarray(idx, np.int32) if idx is not None else ctx.jnp.asarray(indices).reshape(-1)
    return ctx.jnp.take(lst.buf, where, axis=0)


def scatter(ctx, lst, tensor, indices, resize_if_index_out_of_bounds, accumulate):
    """TensorListScatterIntoExistingList: rows written (or added, ``accumulate``: gradient
    sums) at static or traced indices."""
    op = "TensorListScatterIntoExistingList"
    lst = as_list(ctx, lst)
    t = ctx.jnp.asarray(tensor)
    k = int(np.prod(np.shape(indices)))
    if t.ndim == 0 or t.shape[0] != k:
        raise op_error(
            InvalidArgumentError,
            op,
            f"the value to scatter has shape {list(t.shape)} but there are {k} indices; its "
            f"first dimension must equal the number of indices",
        )
    idx = _static_ints(ctx, indices)
    if idx is None:
        if resize_if_index_out_of_bounds:
            raise _dynamic_size(op)
        where = ctx.jnp.asarray(indices).reshape(-1).astype(np.int32)
    else:
        for i in idx:
            _check_index(op, i, lst.size, reading=False, resize=resize_if_index_out_of_bounds)
        lst = _grown(ctx, lst, max(idx, default=-1) + 1)
        where = np.asarray(idx, np.int32)
    if lst.items is not None:
        if idx is None:
            lst = _densify(ctx, op, lst)
        else:  # row by row into a ragged list
            items = list(lst.items)
            for r, i in enumerate(idx):
                row = t[r]
                items[i] = row if not accumulate or items[i] is None else items[i] + row
            return _new(ctx, lst.size, items=tuple(items))
    buf = lst.buf
    if buf is None:
        buf = ctx.jnp.zeros((lst.size, *t.shape[1:]), t.dtype)
    elif tuple(buf.shape[1:]) != tuple(t.shape[1:]):
        raise NotLowerable(
            f"a TensorArray of elements of shape {list(buf.shape[1:])} is scattered rows of "
            f"shape {list(t.shape[1:])} ({op})"
        )
    rows = t.astype(buf.dtype)
    new = buf.at[where].add(rows) if accumulate else buf.at[where].set(rows)
    return _new(ctx, lst.size, buf=new)


def concat(ctx, lst, leading_dims, element_dtype, element_shape):
    """TensorListConcatV2: the elements joined along their first axis (a reshape of the
    buffer), and their lengths (static)."""
    op = "TensorListConcatV2"
    lst = as_list(ctx, lst)
    if lst.buf is not None:
        if lst.buf.ndim < 2:
            raise op_error(
                InvalidArgumentError,
                op,
                "Concat saw a scalar shape at index 0 but requires at least vectors",
            )
        n, m = lst.buf.shape[0], lst.buf.shape[1]
        out = lst.buf.reshape((n * m, *lst.buf.shape[2:]))
        return out, np.full((n,), m, np.int64)
    from rill.ops.tensor_array import concat_items

    given = _static_ints(ctx, leading_dims)
    items = lst.items or (None,) * lst.size
    written = [x for x in items if x is not None]
    dt = written[0].dtype if written else _np_dtype(element_dtype, np.float32)
    return concat_items(ctx.jnp, items, given, element_shape, dt)


def split(ctx, tensor, lengths, element_shape):
    """TensorListSplit: pieces of static lengths; equal ones are a reshape into a dense
    buffer, unequal ones a ragged list."""
    op = "TensorListSplit"
    t = ctx.jnp.asarray(tensor)
    if t.ndim == 0:
        raise op_error(
            InvalidArgumentError,
            op,
            "Expected value to be at least a vector, but received a scalar",
        )
    if np.ndim(lengths) != 1:
        raise op_error(
            InvalidArgumentError,
            op,
            f"Expected lengths to be a vector, received shape: {list(np.shape(lengths))}",
        )
    ln = _static_ints(ctx, lengths)
    if ln is None:
        raise _needs_static("the lengths of a TensorArray split", op)
    if ln and min(ln) < 0:
        raise op_error(InvalidArgumentError, op, f"lengths must be non-negative, got {ln}")
    if sum(ln) != t.shape[0]:
        raise op_error(
            InvalidArgumentError,
            op,
            f"Expected sum of lengths to be equal to values.shape[0], but sum of lengths is "
            f"{sum(ln)} and value's shape is: {list(t.shape)}",
        )
    if not ln:
        return _new(ctx, 0)
    if all(n == ln[0] for n in ln):
        return _new(ctx, len(ln), buf=t.reshape((len(ln), ln[0], *t.shape[1:])))
    cuts = np.cumsum([0, *ln])
    return _new(ctx, len(ln), items=tuple(t[a:b] for a, b in zip(cuts[:-1], cuts[1:])))


def _sum(ctx, a, b):
    """Two lists added element by element (unwritten counts as zero; the longer one's
    size): how list gradients accumulate."""
    if a.size < b.size:
        a, b = b, a
    b = _grown(ctx, b, a.size)
    if not b.known:
        return a
    if not a.known:
        return b
    if a.buf is not None and b.buf is not None and a.buf.shape[1:] == b.buf.shape[1:]:
        return _new(ctx, a.size, buf=a.buf + b.buf.astype(a.buf.dtype))
    xs = list(_rows(a))
    for i, y in enumerate(_rows(b)):
        x = xs[i]
        xs[i] = y if x is None else x if y is None else x + y
    return _new(ctx, a.size, items=tuple(xs))


def _rows(lst):
    if lst.items is not None:
        return lst.items
    return tuple(lst.buf[i] for i in range(lst.size)) if lst.buf is not None else (None,) * lst.size


def add(ctx, a, b):
    """TensorListAdd: the sum of two list gradients."""
    return _sum(ctx, as_list(ctx, a), as_list(ctx, b))
