"""Datasets inside ``rill.function``, and ``tf.experimental.Optional``.

``for x in dataset:`` in a traced function (AutoGraph calls ``Dataset.__rill_for_stmt__``)
becomes a graph loop over a dataset iterator, as in TF: three stateful ops whose kernels
run at call time,

- ``AnonymousIterator`` (params: the dataset) makes a fresh iterator handle (a variant);
- ``IteratorHasNext`` peeks whether another element follows (idempotent);
- ``IteratorGetNext`` (params: the leaf specs) returns the next element's components;

and the loop is AutoGraph's staged ``while_loop`` with ``IteratorHasNext`` as its test.
So each call of the function iterates the dataset afresh (a shuffled dataset reshuffles,
a generator runs again), the body is traced once, and loop variables, ``break`` and
``return`` behave as in any staged loop. ``Dataset.reduce`` in a traced function is the
same loop.
"""

from __future__ import annotations

import numpy as np

from rill.core import dispatch as _dispatch
from rill.core import dtypes as _d
from rill.core.errors import InvalidArgumentError, OutOfRangeError, op_error
from rill.core.tensor import Tensor, TensorSpec, wrap
from rill.core.tensor_shape import TensorShape
from rill.data import structure as _s
from rill.ops._op import AVal, bind, primitive, tf_export

__all__ = [
    "Optional",
    "dataset_for_stmt",
    "graph_reduce",
    "track_position",
    "iterator_state",
    "restore_iterator_state",
]


# --------------------------------------------------------------------------------------
# Iterator primitives
# --------------------------------------------------------------------------------------


class _Handle:
    """A Python iterator over a dataset's leaves with one element of look-ahead."""

    __slots__ = ("it", "ahead", "has")

    def __init__(self, dataset):
        self.it = dataset._iter()
        self.ahead = None
        self.has = None  # None: not looked yet

    def has_next(self) -> bool:
        if self.has is None:
            try:
                self.ahead = next(self.it)
                self.has = True
            except StopIteration:
                self.has = False
        return self.has

    def get_next(self):
        if not self.has_next():
            raise op_error(OutOfRangeError, "IteratorGetNext", "End of sequence")
        out, self.ahead, self.has = self.ahead, None, None
        return out


def _box(obj):
    a = np.empty((), object)
    a[()] = obj
    return a


def _anonymous_iterator_kernel(*, dataset):
    return _box(_Handle(dataset))


def _handle_rule(*_, **__):
    return AVal(TensorShape([]), _d.variant)


def _has_next_kernel(handle):
    return np.asarray(handle[()].has_next())


def _has_next_rule(handle):
    return AVal(TensorShape([]), _d.bool)


def _component_specs(specs):
    out = []
    for sp in specs:
        if type(sp) is TensorSpec:
            out.append(sp)
        elif hasattr(sp, "_rill_component_specs"):
            out.extend(sp._rill_component_specs())
        else:
            raise NotImplementedError(
                f"Iterating over a dataset of {sp!r} elements inside a rill.function is not "
                "supported; iterate eagerly, or map the elements to tensors first."
            )
    return out


def _get_next_kernel(handle, *, specs):
    leaves = handle[()].get_next()
    out = []
    for a, sp in zip(leaves, specs):
        if type(sp) is TensorSpec:
            a = np.asarray(a)
            out.append(
                a if a.dtype == sp.dtype.np or sp.dtype is _d.string else a.astype(sp.dtype.np)
            )
        else:
            out.extend(np.asarray(c._value) for c in a._rill_components())
    return tuple(out)


def _get_next_rule(handle, *, specs):
    return tuple(AVal(sp.shape, sp.dtype) for sp in _component_specs(specs))


anonymous_iterator_p = primitive(
    "AnonymousIterator", _anonymous_iterator_kernel, _handle_rule, stateful=True, host=True
)
iterator_has_next_p = primitive(
    "IteratorHasNext", _has_next_kernel, _has_next_rule, stateful=True, host=True
)
iterator_get_next_p = primitive(
    "IteratorGetNext", _get_next_kernel, _get_next_rule, n_out=-1, stateful=True, host=True
)


def _make_handle(dataset):
    return bind(anonymous_iterator_p, (), {"dataset": dataset})


def _get_element(dataset, handle):
    specs = tuple(dataset._leaf_specs)
    comps = bind(iterator_get_next_p, (handle,), {"specs": specs})
    if not isinstance(comps, tuple):
        comps = (comps,)
    leaves, i = [], 0
    for sp in specs:
        if type(sp) is TensorSpec:
            leaves.append(comps[i])
            i += 1
        else:
            n = len(sp._rill_component_specs())
            leaves.append(sp._rill_from_components(list(comps[i : i + n])))
            i += n
    return _s.pack(dataset.element_spec, leaves)


# --------------------------------------------------------------------------------------
# for loops (AutoGraph) and reduce
# --------------------------------------------------------------------------------------


def dataset_for_stmt(dataset, extra_test, body, get_state, set_state, symbol_names, opts):
    """AutoGraph's ``for`` over a dataset: a Python loop eagerly, a graph loop over an
    iterator while tracing."""
    if _dispatch.state.graph is None:
        if extra_test is not None and not extra_test():
            return
        for element in dataset:
            body(element)
            if extra_test is not None and not extra_test():
                return
        return
    import rill
    from rill.autograph.operators import _is_staged, _pred, _staged_loop

    for sp in dataset._leaf_specs:
        _component_specs([sp])  # clear error for unsupported element types
    handle = _make_handle(dataset)

    def test():
        c = bind(iterator_has_next_p, (handle,))
        if extra_test is not None:
            e = extra_test()
            if _is_staged(e):
                c = rill.logical_and(_pred(e, "for loop"), c)
            elif not e:
                c = rill.logical_and(c, False)
        return c

    def cond_user(aux):
        return test()

    def body_user(aux):
        body(_get_element(dataset, handle))
        return aux

    if extra_test is not None:
        e = extra_test()
        if not _is_staged(e) and not e:
            return
    _staged_loop(test(), cond_user, body_user, [], get_state, set_state, tuple(symbol_names), opts)


def graph_reduce(dataset, init, reduce_func):
    """``dataset.reduce`` while tracing: a while_loop over an iterator handle."""
    from rill.ops.control_flow import while_loop

    handle = _make_handle(dataset)
    flat0 = [x if isinstance(x, Tensor) else _s._to_tensor(x) for x in _s.flatten(init)]

    def cond(*flat):
        return bind(iterator_has_next_p, (handle,))

    def body(*flat):
        state = _s.pack(init, list(flat))
        new = reduce_func(state, _get_element(dataset, handle))
        from rill.data.functions import _normalize_result

        new_flat = _s.flatten(_normalize_result(new))
        if len(new_flat) != len(flat):
            raise TypeError(
                f"The element classes for the new state must match the initial state. "
                f"Expected {init!r} but got {new!r}."
            )
        return [n if n.dtype is o.dtype else _type_error(o, n) for n, o in zip(new_flat, flat0)]

    out = while_loop(
        cond,
        body,
        flat0,
        shape_invariants=[
            TensorShape([None] * t.shape.rank) if t.shape.rank else t.shape for t in flat0
        ],
    )
    if not isinstance(out, (list, tuple)):
        out = [out]
    return _s.pack(init, list(out))


def _type_error(old, new):
    raise TypeError(
        "The element types for the new state must match the initial state. Expected "
        f"{old.dtype!r} but got {new.dtype!r}."
    )


# --------------------------------------------------------------------------------------
# Optional
# --------------------------------------------------------------------------------------


@tf_export("experimental.Optional", "data.experimental.Optional")
class Optional:
    """A value that may be absent: ``has_value()``, ``get_value()``, ``element_spec``."""

    def __init__(self, value=None, element_spec=None, _has=False):
        self._value = value
        self._has = _has
        self._element_spec = element_spec

    @staticmethod
    def from_value(value) -> Optional:
        v = _s.normalize(value)
        return Optional(v, _s.map_structure(_s.spec_of, v), True)

    @staticmethod
    def empty(element_spec) -> Optional:
        return Optional(None, element_spec, False)

    @property
    def element_spec(self):
        return self._element_spec

    def has_value(self, name=None):
        return wrap(np.asarray(self._has), _d.bool)

    def get_value(self, name=None):
        if not self._has:
            raise op_error(
                InvalidArgumentError,
                "OptionalGetValue",
                "The given optional does not have a value.",
            )
        return self._value

    def __repr__(self):
        return f"<rill.experimental.Optional has_value={self._has} element_spec={self._element_spec!r}>"


# --------------------------------------------------------------------------------------
# Checkpointing an iterator: its position
# --------------------------------------------------------------------------------------
# TF saves an iterator's internal state as an opaque variant. rill's pipelines are Python
# generators, whose state cannot be serialized; rill saves the number of elements taken
# instead, and restores by iterating the dataset afresh and skipping that many. That is
# exact for deterministic pipelines (a shuffle needs a seed to resume the same order).

_STATE_FORMAT = "rill.iterator.position/1"


class _Positioned:
    """A leaf iterator that counts the elements taken from it (``None``: not known, the
    iterator was advanced before it was tracked)."""

    __slots__ = ("it", "taken")

    def __init__(self, it, taken):
        self.it = it
        self.taken = taken

    def __iter__(self):
        return self

    def __next__(self):
        out = next(self.it)
        if self.taken is not None:
            self.taken += 1
        return out


def track_position(iterator) -> None:
    """Start counting the elements ``iterator`` (a ``tf.data.Iterator``) hands out, so a
    checkpoint can save its position. Idempotent."""
    import inspect

    inner = iterator._it
    if isinstance(inner, _Positioned):
        return
    fresh = inspect.isgenerator(inner) and (inspect.getgeneratorstate(inner) == inspect.GEN_CREATED)
    iterator._it = _Positioned(inner, 0 if fresh else None)


def iterator_state(iterator) -> np.ndarray:
    """The iterator's saved state: a scalar string tensor value holding its position."""
    import json

    track_position(iterator)
    taken = iterator._it.taken
    if taken is None:
        raise ValueError(
            "Cannot checkpoint this tf.data iterator: it was advanced before a checkpoint "
            "tracked it, so its position is unknown. Pass the iterator to "
            "tf.train.Checkpoint before taking elements from it."
        )
    text = json.dumps({"format": _STATE_FORMAT, "position": taken})
    return np.array(text.encode(), dtype=object)


def restore_iterator_state(iterator, state) -> None:
    """Move ``iterator`` to the position saved in ``state`` (from ``iterator_state``)."""
    import json

    raw = np.asarray(state, dtype=object).reshape(-1)
    try:
        info = json.loads(raw[0])
        position = int(info["position"])
        if info.get("format") != _STATE_FORMAT or position < 0:
            raise ValueError(info)
    except (ValueError, TypeError, KeyError, IndexError):
        raise InvalidArgumentError(
            None,
            None,
            "Restoring a tf.data iterator: the checkpointed ITERATOR_STATE is not a rill "
            "iterator position (an iterator checkpointed by TensorFlow holds an opaque "
            "variant that rill cannot read).",
        ) from None
    it = _Positioned(iterator._dataset._iter(), 0)
    for _ in range(position):
        try:
            next(it)
        except StopIteration:
            break
    iterator._it = it
