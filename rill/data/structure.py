"""Element structures of ``tf.data``: nesting, specs, and the flat leaves datasets pass.

tf.data nests like ``tf.nest`` with one difference: a Python *list* is a value (converted
to one tensor), not a structure; tuples, namedtuples and dicts are structures. Inside a
pipeline an element travels as a flat tuple of *leaves*, one per leaf spec of the
dataset's ``element_spec``: a NumPy array (or NumPy scalar) for a ``TensorSpec``, the
value itself for a composite (RaggedTensor, SparseTensor) or a nested Dataset. Leaves
become rill tensors only when the element leaves the pipeline.
"""

from __future__ import annotations

import collections.abc as _abc

import numpy as np

from rill.core import dtypes as _d
from rill.core.convert import convert_to_tensor
from rill.core.errors import InvalidArgumentError, op_error
from rill.core.tensor import EagerTensor, Tensor, TensorSpec, wrap
from rill.core.tensor_shape import TensorShape

__all__ = [
    "is_nested", "flatten", "pack", "map_structure", "normalize", "spec_of", "to_leaf",
    "from_leaf", "make_packer", "stack_leaves", "is_dense_spec", "leaf_specs",
    "compatible_spec", "spec_repr",
]  # fmt: skip


def _is_namedtuple(x) -> bool:
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


def is_nested(x) -> bool:
    """Tuples (and namedtuples) and mappings are structures; lists are values."""
    return isinstance(x, (tuple, _abc.Mapping))


def flatten(x) -> list:
    """Leaves in TF's order (mappings by sorted key)."""
    if not is_nested(x):
        return [x]
    out = []
    stack = [x]
    while stack:
        v = stack.pop()
        if isinstance(v, _abc.Mapping):
            stack.extend(v[k] for k in reversed(sorted(v)))
        elif isinstance(v, tuple):
            stack.extend(reversed(v))
        else:
            out.append(v)
    return out


def pack(template, leaves):
    """``template``'s structure with its leaves replaced, in order, by ``leaves``."""
    it = iter(leaves)

    def build(t):
        if isinstance(t, _abc.Mapping):
            vals = {k: build(t[k]) for k in sorted(t)}
            if type(t) is dict:
                return {k: vals[k] for k in t}
            return type(t)((k, vals[k]) for k in t)
        if _is_namedtuple(t):
            return type(t)(*[build(v) for v in t])
        if isinstance(t, tuple):
            return tuple(build(v) for v in t)
        return next(it)

    return build(template)


def map_structure(fn, *structs):
    """``fn`` applied leaf-wise to structures that nest alike."""
    flats = [flatten(s) for s in structs]
    n = len(flats[0])
    if any(len(f) != n for f in flats):
        raise ValueError(
            f"The two structures don't have the same number of elements: {structs[0]!r} vs "
            f"{structs[1]!r}"
        )
    return pack(structs[0], [fn(*xs) for xs in zip(*flats)])


# --------------------------------------------------------------------------------------
# Specs
# --------------------------------------------------------------------------------------


def _is_composite(x) -> bool:
    return hasattr(x, "_rill_components")


def _is_composite_spec(x) -> bool:
    return hasattr(x, "_rill_component_specs")


def is_dense_spec(spec) -> bool:
    return type(spec) is TensorSpec


def _is_dataset(x) -> bool:
    return getattr(x, "_rill_dataset", False)


def _static(x):
    """The value of a symbolic tensor known while tracing (a constant), else None."""
    from rill.ops._op import static_value

    return static_value(x)


def _to_tensor(x, dtype=None):
    if type(x) is EagerTensor:
        return x if dtype is None or x.dtype is dtype else convert_to_tensor(x, dtype)
    if getattr(x, "_rill_variable", False):
        return x.read_value()
    if isinstance(x, Tensor):  # symbolic: its value if known now, else kept symbolic
        v = _static(x)
        if v is None:
            return x
        return wrap(np.asarray(v), x.dtype)
    return convert_to_tensor(x, dtype)


def normalize(value):
    """``value`` with each leaf a tensor (lists and numbers converted), composite or
    Dataset, as tf.data does to the elements it is given."""

    def conv(x):
        if _is_composite(x) or _is_dataset(x):
            return x
        return _to_tensor(x)

    if isinstance(value, list):  # a top-level list is one tensor
        return conv(value)
    return map_structure(conv, value)


def spec_of(leaf):
    """The spec of one normalised leaf: TensorSpec, a composite's spec or a DatasetSpec."""
    if isinstance(leaf, Tensor):
        return TensorSpec(leaf.shape, leaf.dtype)
    if _is_dataset(leaf):
        from rill.data.dataset_ops import DatasetSpec

        return DatasetSpec(leaf.element_spec)
    for attr in ("_type_spec", "spec"):
        s = getattr(leaf, attr, None)
        if s is not None and not callable(s):
            return s
    import sys

    mod = sys.modules.get(type(leaf).__module__)
    spec_cls = getattr(mod, type(leaf).__name__ + "Spec", None)
    if spec_cls is not None and hasattr(spec_cls, "from_value"):
        return spec_cls.from_value(leaf)
    raise TypeError(f"tf.data: no spec for element component {leaf!r} of type {type(leaf)}.")


def leaf_specs(element_spec) -> list:
    return flatten(element_spec)


def to_leaf(x):
    """A normalised leaf as a pipeline leaf: the NumPy array of a tensor."""
    if type(x) is EagerTensor:
        return x._value
    return x


def from_leaf(leaf, spec):
    if type(spec) is TensorSpec:
        return wrap(leaf, spec.dtype)
    return leaf


def make_packer(element_spec):
    """A fast ``leaves -> element`` (rill tensors in the element's structure)."""
    specs = flatten(element_spec)
    if not is_nested(element_spec) and type(element_spec) is TensorSpec:
        dt = element_spec.dtype
        return lambda leaves: wrap(leaves[0], dt)
    if (
        all(type(s) is TensorSpec for s in specs)
        and type(element_spec) is tuple
        and all(type(s) is TensorSpec for s in element_spec)
    ):
        dts = [s.dtype for s in specs]
        return lambda leaves: tuple(wrap(a, d) for a, d in zip(leaves, dts))
    return lambda leaves: pack(element_spec, [from_leaf(a, s) for a, s in zip(leaves, specs)])


def _shape_of(leaf):
    return np.shape(leaf) if not hasattr(leaf, "shape") else tuple(leaf.shape)


def stack_leaves(items, spec, index=0):
    """Stack one component of several elements along a new first dimension."""
    if type(spec) is TensorSpec:
        npdt = spec.dtype.np
        if spec.shape.rank == 0:
            if npdt.kind != "O":
                return np.array(items, dtype=npdt)
            # scalar strings: fill an object vector element by element (np.stack of 0-d
            # object arrays would nest the arrays themselves as elements)
            out = np.empty(len(items), object)
            for i, x in enumerate(items):
                out[i] = x.item() if isinstance(x, np.ndarray) else x
            return out
        try:
            out = np.stack(items)
        except ValueError:
            first = np.shape(items[0])
            j, s = next((j, np.shape(x)) for j, x in enumerate(items) if np.shape(x) != first)
            raise op_error(
                InvalidArgumentError,
                "IteratorGetNext",
                f"Cannot batch tensors with different shapes in component {index}. First "
                f"element had shape {list(first)} and element {j} had shape {list(s)}.",
            ) from None
        return out if out.dtype == npdt or npdt.kind == "O" else out.astype(npdt)
    return _stack_composite(items, spec)


def _stack_composite(items, spec):
    import rill

    sname = type(spec).__name__
    if sname == "RaggedTensorSpec":
        if getattr(spec, "ragged_rank", 1) == 0:  # rows of a ragged tensor: dense tensors
            return _ragged_from_rows(items, spec)
        return rill.ragged.stack(list(items), axis=0)
    if sname == "SparseTensorSpec":
        return _stack_sparse(items)
    if _is_dataset(items[0]):
        raise TypeError("tf.data: elements that are datasets cannot be batched.")
    raise TypeError(f"tf.data: cannot batch elements of type {type(items[0]).__name__}.")


def _ragged_from_rows(items, spec):
    from rill.structures.ragged_tensor import RaggedTensor

    sdt = spec.row_splits_dtype.np
    arrays = [np.asarray(getattr(x, "_value", x)) for x in items]
    splits = np.concatenate([[0], np.cumsum([a.shape[0] for a in arrays])]).astype(sdt)
    flat = np.concatenate(arrays, axis=0)
    return RaggedTensor.from_row_splits(wrap(flat, spec.dtype), wrap(splits), validate=False)


def _stack_sparse(items):
    """Batch SparseTensors: indices get the element's position as a new first column and
    the dense shape grows to the largest of each dimension."""
    import rill

    idx, vals = [], []
    shapes = np.array([np.asarray(s.dense_shape) for s in items], dtype=np.int64)
    for i, s in enumerate(items):
        ind = np.asarray(s.indices)
        idx.append(np.concatenate([np.full((ind.shape[0], 1), i, np.int64), ind], axis=1))
        vals.append(np.asarray(s.values))
    dense = np.concatenate([[len(items)], shapes.max(axis=0)]).astype(np.int64)
    values = np.concatenate(vals) if vals else np.zeros(0)
    return rill.sparse.SparseTensor(np.concatenate(idx), wrap(values, items[0].dtype), dense)


def batch_spec(spec, n):
    """The spec of ``n`` stacked elements of ``spec`` (``n`` None when it varies)."""
    if type(spec) is TensorSpec:
        return TensorSpec(TensorShape([n]).concatenate(spec.shape), spec.dtype)
    b = getattr(spec, "_batch", None)
    if b is not None:
        return b(n)
    name = type(spec).__name__
    if name == "RaggedTensorSpec":
        return type(spec)(
            TensorShape([n]).concatenate(spec.shape),
            spec.dtype,
            ragged_rank=spec.ragged_rank + 1,
            row_splits_dtype=spec.row_splits_dtype,
        )
    if name == "SparseTensorSpec":
        return type(spec)(TensorShape([n]).concatenate(spec.shape), spec.dtype)
    raise TypeError(f"tf.data: cannot batch elements of spec {spec!r}.")


def unbatch_spec(spec):
    if type(spec) is TensorSpec:
        if spec.shape.rank == 0:
            raise ValueError(
                "Cannot unbatch an input with scalar components: every component must have "
                f"a first dimension, got {spec!r}."
            )
        return TensorSpec(spec.shape[1:] if spec.shape.rank else TensorShape(None), spec.dtype)
    u = getattr(spec, "_unbatch", None)
    if u is not None:
        return u()
    name = type(spec).__name__
    if name == "RaggedTensorSpec":
        return type(spec)(
            spec.shape[1:] if spec.shape.rank else TensorShape(None),
            spec.dtype,
            ragged_rank=max(0, spec.ragged_rank - 1),
            row_splits_dtype=spec.row_splits_dtype,
        )
    if name == "SparseTensorSpec":
        return type(spec)(spec.shape[1:] if spec.shape.rank else TensorShape(None), spec.dtype)
    raise TypeError(f"tf.data: cannot unbatch elements of spec {spec!r}.")


def compatible_spec(a, b):
    """The most specific spec compatible with both, or None."""
    if type(a) is TensorSpec and type(b) is TensorSpec:
        if a.dtype is not b.dtype:
            return None
        if a.shape.rank != b.shape.rank:
            return TensorSpec(TensorShape(None), a.dtype)
        return TensorSpec(a.shape.most_specific_compatible_shape(b.shape), a.dtype)
    if type(a) is type(b):
        m = getattr(a, "most_specific_compatible_type", None)
        if m is not None:
            try:
                return m(b)
            except (ValueError, TypeError):
                return None
        return a if a == b else None
    return None


def spec_repr(spec) -> str:
    return repr(spec)


def dtype_name(dt) -> str:
    return _d.as_dtype(dt).name
