"""``Variable``: a mutable, named, optionally trainable tensor-like value.

Assignment replaces the backing array instead of writing into it, so tensors read from a
variable earlier keep their values (tensors are immutable).
"""

from __future__ import annotations

import itertools
import sys

import numpy as np

from rill.core import dispatch as _dispatch
from rill.core import dtypes as _d
from rill.core.convert import convert_to_tensor, register_tensor_conversion_function
from rill.core.interfaces import core_ops
from rill.core.tensor import EagerTensor, Tensor, wrap
from rill.core.tensor_shape import TensorShape
from rill.core.variable_scope import CreatorHook

__all__ = ["Variable", "VariableSynchronization", "VariableAggregation"]

_uid = itertools.count(1).__next__


def is_variable(x) -> bool:
    """True for a ``tf.Variable`` (and its subclasses: Keras and distributed variables)."""
    return isinstance(x, Variable)


class VariableSynchronization:
    AUTO, NONE, ON_WRITE, ON_READ = 0, 1, 2, 3


class VariableAggregation:
    NONE, SUM, MEAN, ONLY_FIRST_REPLICA = 0, 1, 2, 3


class Variable(metaclass=CreatorHook):
    """A tensor-like value that persists across calls and can be assigned to."""

    _rill_creator_base = True  # tf.variable_creator_scope applies to Variable itself only

    _rill_variable = True
    _rill_dispatch = False  # op wrappers never redirect a variable (see Tensor's)
    __array_priority__ = 100

    def __init__(
        self,
        initial_value=None,
        trainable=None,
        validate_shape=True,
        caching_device=None,
        name=None,
        variable_def=None,
        dtype=None,
        import_scope=None,
        constraint=None,
        synchronization=VariableSynchronization.AUTO,
        aggregation=VariableAggregation.NONE,
        shape=None,
        experimental_enable_variable_lifting=True,
    ):
        if initial_value is None:
            raise ValueError("The initial_value must be specified.")
        if callable(initial_value):
            from rill.core.context import init_scope

            with init_scope():  # initialisers run eagerly, even while tracing
                initial_value = initial_value()
        if isinstance(initial_value, Variable):
            initial_value = initial_value.read_value()
        t = convert_to_tensor(initial_value, dtype)
        if type(t) is not EagerTensor:
            t = _dispatch.state.graph.lift_initial_value(t)  # created while tracing
        if synchronization == VariableSynchronization.ON_READ and trainable:
            raise ValueError(
                "Synchronization value can be set to VariableSynchronization.ON_READ only for non-trainable variables."
            )
        self._value = t._value
        self._dtype = t.dtype
        self._shape = TensorShape(t._value.shape) if shape is None else TensorShape(shape)
        if not self._shape.is_compatible_with(t._value.shape):
            raise ValueError(
                f"Variable: initial value of shape {t.shape} is not compatible with the "
                f"declared shape {self._shape}."
            )
        if not validate_shape:
            self._shape = TensorShape(None)
        self._trainable = True if trainable is None else bool(trainable)
        base = name if name is not None else "Variable"
        self._name = base if base.endswith(":0") else base + ":0"
        self._tid = _dispatch.next_tid()
        self._unique_id = f"{self._name[:-2]}_{_uid()}"
        self._constraint = constraint
        self._synchronization = synchronization
        self._aggregation = aggregation
        graph = _dispatch.state.graph
        if graph is not None:
            graph.variable_created(self)  # tf.function allows this on the first trace only

    # reading --------------------------------------------------------------------------
    def _read(self) -> Tensor:
        if _dispatch._slow:
            st = _dispatch.state
            t = (
                st.graph.capture_variable(self)
                if st.graph is not None
                else wrap(self._value, self._dtype)
            )
            if st.tapes and not st.stop_recording:
                t._tid = self._tid
                if self._trainable:
                    for tape in st.tapes:
                        if tape._recording and tape._watch_accessed:
                            tape._watch_variable(self)
            log = st.var_access_log
            if log is not None:
                log.append(self)
            return t
        return wrap(self._value, self._dtype)

    def value(self) -> Tensor:
        return self._read()

    def read_value(self) -> Tensor:
        return self._read()

    def numpy(self):
        v = self._value
        return v[()] if v.ndim == 0 else v.copy()

    def __array__(self, dtype=None, copy=None):
        v = self._value
        return v.astype(dtype) if dtype is not None and v.dtype != dtype else v.copy()

    # writing --------------------------------------------------------------------------
    def _convert_update(self, value, op):
        if (
            type(value) is EagerTensor
            and value._dtype is self._dtype
            and value._value.shape == self._shape._dims  # equal dims: compatible
        ):
            return value  # the optimizer's case, without the general checks below
        t = value if isinstance(value, Tensor) else convert_to_tensor(value, dtype=self._dtype)
        if t.dtype is not self._dtype:
            raise TypeError(
                f"{op}: cannot assign a {t.dtype.name} value to variable '{self._name}' of "
                f"dtype {self._dtype.name}; cast the value with tf.cast first."
            )
        if not self._shape.is_compatible_with(t.shape):
            raise ValueError(
                f"{op}: cannot assign a value of shape {t.shape} to variable '{self._name}' of "
                f"shape {self._shape}; the shapes are incompatible."
            )
        return t

    def _apply(self, op, arr) -> None:
        """Perform an update with a concrete array: used eagerly and by graph kernels."""
        if op == "assign":
            self._value = np.asarray(arr)
            return
        if type(arr) is _ndarray and sole_owner(self):
            # no tensor, view or caller holds the old array, so no one can see it change:
            # update it in place instead of allocating (the optimizer's hot path)
            cur = self._value
            if arr.dtype == cur.dtype and (arr.shape == cur.shape or arr.ndim == 0):
                (_np_add if op == "assign_add" else _np_subtract)(cur, arr, out=cur)
                return
        new = np.asarray(self._value + arr if op == "assign_add" else self._value - arr)
        if new.shape != self._value.shape:
            raise ValueError(
                f"{op}: update of shape {np.shape(arr)} does not match variable "
                f"'{self._name}' of shape {self._value.shape}."
            )
        self._value = new.astype(self._value.dtype, copy=False)

    def _update(self, op, value, read_value):
        t = self._convert_update(value, op)
        graph = _dispatch.state.graph if _dispatch._slow else None
        if graph is not None:  # inside a traced function: an op that runs at call time
            return graph.assign_variable(self, t, op, read_value)
        self._apply(op, t._value)
        return self if read_value else None

    def assign(self, value, use_locking=None, name=None, read_value=True):
        """Replace the variable's value (same dtype, compatible shape)."""
        return self._update("assign", value, read_value)

    def assign_add(self, delta, use_locking=None, name=None, read_value=True):
        """Add ``delta`` to the variable's value."""
        return self._update("assign_add", delta, read_value)

    def assign_sub(self, delta, use_locking=None, name=None, read_value=True):
        """Subtract ``delta`` from the variable's value."""
        return self._update("assign_sub", delta, read_value)

    def _scatter(self, indices, updates, scatter):
        """Assign the result of the op ``tensor_scatter_nd_*`` on the variable's value: the
        same op eagerly and traced, so both validate and compute alike."""
        updates = convert_to_tensor(updates, dtype=self._dtype)
        return self.assign(scatter(self.read_value(), indices, updates))

    def scatter_nd_update(self, indices, updates, name=None):
        """Replace the slices of the value at ``indices`` (an N-d index) with ``updates``."""
        return self._scatter(indices, updates, core_ops.tensor_scatter_nd_update)

    def scatter_nd_add(self, indices, updates, name=None):
        """Add ``updates`` at ``indices`` (duplicate indices accumulate)."""
        return self._scatter(indices, updates, core_ops.tensor_scatter_nd_add)

    def scatter_nd_sub(self, indices, updates, name=None):
        """Subtract ``updates`` at ``indices`` (duplicate indices accumulate)."""
        return self._scatter(indices, updates, core_ops.tensor_scatter_nd_sub)

    def _scatter_slices(self, sparse_delta, kind):
        """Apply an ``IndexedSlices`` to the rows it names: ``add``/``sub``/``update`` run
        the traceable ``tensor_scatter_nd_*`` ops; ``mul``/``div``/``min``/``max`` combine
        each row in place (duplicate indices apply one after another), eagerly."""
        if not (hasattr(sparse_delta, "indices") and hasattr(sparse_delta, "dense_shape")):
            raise TypeError(f"sparse_delta is not IndexedSlices: {sparse_delta}")
        indices = core_ops.reshape(convert_to_tensor(sparse_delta.indices), [-1, 1])
        values = convert_to_tensor(sparse_delta.values, dtype=self._dtype)
        nd = {
            "add": core_ops.tensor_scatter_nd_add,
            "sub": core_ops.tensor_scatter_nd_sub,
            "update": core_ops.tensor_scatter_nd_update,
        }.get(kind)
        if nd is not None:
            return self._scatter(indices, values, nd)
        if _dispatch.state.graph is not None:
            raise NotImplementedError(
                f"Variable.scatter_{kind} inside a rill.function is not supported; call it "
                "eagerly, or use scatter_add/scatter_sub/scatter_update."
            )
        ufunc = {"mul": np.multiply, "div": np.divide, "min": np.minimum, "max": np.maximum}
        idx = np.asarray(indices._value).reshape(-1)
        n = self.shape[0]
        if idx.size and (idx.min() < 0 or (n is not None and idx.max() >= n)):
            from rill.core.errors import InvalidArgumentError

            raise InvalidArgumentError(
                None,
                None,
                f"ResourceScatter{kind.capitalize()}: indices {idx.tolist()} out of range "
                f"[0, {n}) for variable {self.name} of shape {self.shape}",
            )
        new = np.array(self._value, copy=True)
        vals = np.asarray(values._value)
        if self._dtype.is_integer and kind == "div":
            np.floor_divide.at(new, idx, vals)
        else:
            ufunc[kind].at(new, idx, vals)
        return self.assign(new)

    def scatter_add(self, sparse_delta, use_locking=False, name=None):
        """Add ``IndexedSlices`` rows to the value (duplicate indices accumulate)."""
        return self._scatter_slices(sparse_delta, "add")

    def scatter_sub(self, sparse_delta, use_locking=False, name=None):
        """Subtract ``IndexedSlices`` rows from the value."""
        return self._scatter_slices(sparse_delta, "sub")

    def scatter_update(self, sparse_delta, use_locking=False, name=None):
        """Replace the rows an ``IndexedSlices`` names with its values."""
        return self._scatter_slices(sparse_delta, "update")

    def scatter_mul(self, sparse_delta, use_locking=False, name=None):
        """Multiply the rows an ``IndexedSlices`` names by its values."""
        return self._scatter_slices(sparse_delta, "mul")

    def scatter_div(self, sparse_delta, use_locking=False, name=None):
        """Divide the rows an ``IndexedSlices`` names by its values."""
        return self._scatter_slices(sparse_delta, "div")

    def scatter_min(self, sparse_delta, use_locking=False, name=None):
        """Element-wise minimum of the named rows and the ``IndexedSlices`` values."""
        return self._scatter_slices(sparse_delta, "min")

    def scatter_max(self, sparse_delta, use_locking=False, name=None):
        """Element-wise maximum of the named rows and the ``IndexedSlices`` values."""
        return self._scatter_slices(sparse_delta, "max")

    def batch_scatter_update(self, sparse_delta, use_locking=False, name=None):
        """``scatter_update`` (rows of a batch-major variable)."""
        return self._scatter_slices(sparse_delta, "update")

    # metadata -------------------------------------------------------------------------
    @property
    def dtype(self) -> _d.DType:
        return self._dtype

    @property
    def shape(self) -> TensorShape:
        return self._shape if self._shape.rank is None else TensorShape(self._value.shape)

    def get_shape(self) -> TensorShape:
        return self.shape

    @property
    def ndim(self):
        return self._value.ndim

    @property
    def name(self) -> str:
        return self._name

    @property
    def trainable(self) -> bool:
        return self._trainable

    @property
    def constraint(self):
        return self._constraint

    @property
    def synchronization(self):
        return self._synchronization

    @property
    def aggregation(self):
        return self._aggregation

    @property
    def device(self) -> str:
        from rill.backend import CPU_DEVICE

        return CPU_DEVICE

    @property
    def initial_value(self):
        raise RuntimeError("initial_value is not retained by rill variables after creation.")

    def ref(self):
        return Tensor.ref(self)

    experimental_ref = ref

    def __hash__(self):
        raise TypeError("Variable is unhashable. Instead, use variable.ref() as the key.")

    def __bool__(self):
        return bool(self._value)

    def __float__(self):
        return float(self._value)

    def __int__(self):
        return int(self._value)

    def __index__(self):
        return self._read().__index__()

    def __len__(self):
        return len(self._read())

    def __iter__(self):
        return iter(self._read())

    def __repr__(self):
        v = self._value
        return (
            f"<rill.Variable '{self._name}' shape={TensorShape(v.shape)} "
            f"dtype={self._dtype.name}, numpy={wrap(v, self._dtype)._numpy_text(True)}>"
        )

    def __deepcopy__(self, memo):
        new = Variable(
            self._value.copy(), trainable=self._trainable, name=self._name[:-2], dtype=self._dtype
        )
        memo[id(self)] = new
        return new


_ndarray = np.ndarray
_np_add, _np_subtract = np.add, np.subtract
_refcount = sys.getrefcount


def _refs(holder) -> int:
    return _refcount(holder._value)


class _Holder:
    pass


def _baseline() -> int:
    """What ``_refs`` reads for an array only its holder references (the interpreter's
    own references differ between Python versions, so it is measured, not assumed)."""
    h = _Holder()
    h._value = np.zeros(2)
    return _refs(h)


_SOLE = _baseline()


def writable_value(v):
    """``v``'s array if it may be updated in place (else a private copy, which becomes
    ``v``'s value): the array a fused optimizer kernel writes into."""
    if not sole_owner(v):
        v._value = v._value.copy()
    return v._value


def sole_owner(v) -> bool:
    """True when nothing but ``v`` (a variable or an eager tensor) references its array
    (no tensor read from it, no view of it, no caller's reference) and the array owns
    writable memory: writing into it then changes nothing anyone else can observe."""
    cur = v._value
    if cur.base is not None or not cur.flags.writeable:
        return False
    del cur
    return _refs(v) == _SOLE


# deferred values ---------------------------------------------------------------------
# A compiled computation (rill.xla) leaves each variable it assigns holding the new value
# as the device array it computed, converted only when something reads it: no host view
# then pins the buffer, so the next call can donate it and update it in place, as TF's
# XLA aliases resource variables. Such a variable's class is a subclass of its own whose
# ``_value`` property converts on the first read and restores the class, so a variable
# holding a host array pays nothing per read.
_deferred_classes: dict = {}
_deferred_types: set = set()  # its values: the classes of variables holding a deferred value


def _deferred_class(host: type) -> type:
    sub = _deferred_classes.get(host)
    if sub is None:

        def read(self):
            d = self.__dict__
            value = d["_value"] = np.asarray(d["_value"])
            self.__class__ = host
            return value

        def write(self, value):
            self.__dict__["_value"] = value
            self.__class__ = host

        def reduce_ex(self, protocol):
            read(self)  # copy and pickle see the variable's own class
            return self.__reduce_ex__(protocol)

        # same names as ``host``: reprs and messages show the user's class
        namespace = {"_value": property(read, write), "__reduce_ex__": reduce_ex,
                     "_rill_host_class": host, "__module__": host.__module__,
                     "__qualname__": host.__qualname__, "__doc__": host.__doc__}  # fmt: skip
        sub = _deferred_classes[host] = type(host)(host.__name__, (host,), namespace)
        _deferred_types.add(sub)
    return sub


def defer_value(v, source) -> None:
    """Give variable ``v`` the value ``source`` (an array-like such as a device array, of
    ``v``'s dtype and shape), converted with ``np.asarray`` when first read."""
    defer_values((v,), (source,))


def defer_values(variables, sources) -> None:
    """``defer_value`` for each of ``variables`` and its source, in one pass: the
    per-step path of a compiled training step, where every variable is usually still
    deferred from the step before and only the values change."""
    for v, source in zip(variables, sources):
        v.__dict__["_value"] = source
    if not _deferred_types.issuperset(map(type, variables)):  # one was read since
        for v in variables:
            cls = type(v)
            if cls not in _deferred_types:
                v.__class__ = _deferred_class(cls)


def held_value(v):
    """``v``'s value as held, without converting: a NumPy array, or the source of a
    deferred value (see ``defer_value``)."""
    return v.__dict__["_value"]


def held_values(variables) -> list:
    """``held_value`` of each of ``variables``."""
    return [v.__dict__["_value"] for v in variables]


def _convert_variable(v, dtype=None, name=None):
    if dtype is not None and dtype is not v._dtype:
        raise ValueError(
            f"Tensor conversion requested dtype {dtype.name} for variable '{v.name}' with dtype "
            f"{v.dtype.name}."
        )
    return v._read()


register_tensor_conversion_function(Variable, _convert_variable)
