"""``keras.Variable``: the variables layers and optimizers create, with Keras 3's
autocasting and stateless scopes.

Inside an ``AutocastScope`` (a mixed-precision layer's call) reading a float variable gives
its value cast to the scope's dtype, and ``dtype`` reports that dtype, as Keras 3's
variables do; the cast is an op on the tape, so gradients reach the variable in its own
dtype. Inside a ``StatelessScope`` reads see the scope's values and assignments are
collected in the scope instead of being applied.
"""

from __future__ import annotations

import threading

from rill.core import dtypes as _d
from rill.core.convert import convert_to_tensor, register_tensor_conversion_function
from rill.core.tensor import Tensor
from rill.core.variables import Variable as _CoreVariable
from rill.core.variables import VariableAggregation, VariableSynchronization

__all__ = ["Variable", "AutocastScope", "StatelessScope", "get_autocast_scope"]


class _State(threading.local):
    autocast = None  # the innermost AutocastScope, or None
    stateless = None  # the innermost StatelessScope, or None


_state = _State()


def get_autocast_scope():
    """The active ``AutocastScope`` (``None`` outside of any)."""
    return _state.autocast


def get_stateless_scope():
    """The active ``StatelessScope`` (``None`` outside of any)."""
    return _state.stateless


def in_stateless_scope() -> bool:
    return _state.stateless is not None


def _cast(x, dtype):
    from rill.ops.array_ops import cast

    return cast(x, dtype)


class AutocastScope:
    """While active, float variables with ``autocast=True`` read as ``dtype`` (``None``:
    no casting, which a layer uses to turn off an outer layer's casting)."""

    def __init__(self, dtype):
        if dtype is not None:
            dt = _d.as_dtype(dtype)
            if not dt.is_floating:
                raise ValueError(
                    "`AutocastScope` can only be used with a floating-point target dtype, "
                    f"such as 'float16'. Received: dtype={dt.name}"
                )
            dtype = dt.name
        self.dtype = dtype
        self.original_scope = None

    def maybe_cast(self, value):
        """``value`` cast to the scope's dtype if it is floating (else unchanged)."""
        if self.dtype is not None and value.dtype.is_floating and value.dtype.name != self.dtype:
            return _cast(value, self.dtype)
        return value

    def __enter__(self):
        self.original_scope = _state.autocast
        _state.autocast = self
        return self

    def __exit__(self, *exc):
        _state.autocast = self.original_scope


_AGGREGATIONS = {
    "none": VariableAggregation.NONE, "sum": VariableAggregation.SUM,
    "mean": VariableAggregation.MEAN, "only_first_replica": VariableAggregation.ONLY_FIRST_REPLICA,
}  # fmt: skip
_SYNCHRONIZATIONS = {
    "auto": VariableSynchronization.AUTO, "none": VariableSynchronization.NONE,
    "on_write": VariableSynchronization.ON_WRITE, "on_read": VariableSynchronization.ON_READ,
}  # fmt: skip


def _check_choice(what, value, table):
    if value not in table:
        raise ValueError(
            f"Invalid value for argument `{what}`. Expected one of {list(table)}. "
            f"Received: {what}={value}"
        )
    return table[value]


class Variable(_CoreVariable):
    """Keras 3's variable: ``initializer`` is a value, or a callable ``(shape, dtype)``
    (then ``shape`` is required); ``autocast`` lets mixed-precision layers read it in
    their compute dtype. It is a ``tf.Variable`` too (``value()``, ``assign``, ...)."""

    def __init__(
        self,
        initializer,
        shape=None,
        dtype=None,
        trainable=True,
        autocast=True,
        aggregation="none",
        synchronization="auto",
        name=None,
        layout=None,
        **kwargs,
    ):
        constraint = kwargs.pop("constraint", None)  # rill's add_weight passes it through
        if kwargs:
            raise ValueError(f"Unrecognized keyword arguments passed to Variable: {kwargs}")
        if name is not None and not isinstance(name, str):
            raise ValueError(
                f"Argument `name` must be a string. Received: name={name} "
                f"(of type {type(name).__name__})"
            )
        agg = _check_choice("aggregation", aggregation, _AGGREGATIONS)
        sync = _check_choice("synchronization", synchronization, _SYNCHRONIZATIONS)
        if callable(initializer) and not isinstance(initializer, (Tensor, _CoreVariable)):
            if shape is None:
                raise ValueError(
                    "When creating a Variable from an initializer, the `shape` argument "
                    f"should be specified. Received: initializer={initializer} and shape={shape}"
                )
            from rill.keras import config

            dt = _d.as_dtype(dtype or config.floatx())
            shape = tuple(int(s) for s in shape)
            init = initializer

            def value():
                return convert_to_tensor(init(shape, dtype=dt.name), dtype=dt)
        else:
            dt = None if dtype is None else _d.as_dtype(dtype)
            value = initializer
            if dt is not None and not isinstance(value, (Tensor, _CoreVariable)):
                value = convert_to_tensor(value, dtype=dt)
            elif dt is not None and value.dtype is not dt:
                value = _cast(convert_to_tensor(value), dt)
        super().__init__(
            value,
            trainable=trainable,
            name=name or "variable",
            dtype=dt,
            constraint=constraint,
            synchronization=sync,
            aggregation=agg,
        )
        self._autocast = bool(autocast)
        self._keras_aggregation = aggregation
        self._keras_synchronization = synchronization
        from rill.keras.scopes import current_path

        prefix = current_path()
        self.path = f"{prefix}/{name or 'variable'}" if prefix else (name or "variable")
        self.regularizer = None

    @property
    def autocast(self) -> bool:
        return self._autocast

    @property
    def aggregation(self) -> str:
        return self._keras_aggregation

    @property
    def synchronization(self) -> str:
        return self._keras_synchronization

    @property
    def dtype(self):
        """The variable's dtype; inside an ``AutocastScope``, the scope's for a float
        variable with ``autocast`` (what reading it gives)."""
        sc = _state.autocast
        if sc is not None and sc.dtype is not None and self._autocast and self._dtype.is_floating:
            return _d.as_dtype(sc.dtype)
        return self._dtype

    def _read(self):
        ss = _state.stateless
        if ss is not None:
            v = ss.get_current_value(self)
            if v is not None:
                return self._maybe_autocast(v)
        sc = _state.autocast
        if sc is None:
            return super()._read()
        _state.autocast = None  # the core reads `dtype` (graph captures): the true one
        try:
            t = super()._read()
        finally:
            _state.autocast = sc
        return self._maybe_autocast(t)

    def _maybe_autocast(self, t):
        sc = _state.autocast
        if self._autocast and sc is not None:
            return sc.maybe_cast(t)
        return t

    def _convert_update(self, value, op):
        # Keras casts assigned values to the variable's dtype (a float16 moving mean
        # computed in a mixed-precision call goes into a float32 variable)
        t = value if isinstance(value, (Tensor, _CoreVariable)) else None
        if t is not None:
            if isinstance(t, _CoreVariable):
                t = t.read_value()
            if t.dtype is not self._dtype and t.dtype.is_floating and self._dtype.is_floating:
                value = _cast(t, self._dtype)
            else:
                value = t
        return super()._convert_update(value, op)

    def _update(self, op, value, read_value):
        ss = _state.stateless
        if ss is None:
            return super()._update(op, value, read_value)
        t = self._convert_update(value, op)
        if op != "assign":
            current = ss.get_current_value(self)
            if current is None:
                sc, _state.autocast = _state.autocast, None
                try:
                    current = _CoreVariable._read(self)
                finally:
                    _state.autocast = sc
            t = current + t if op == "assign_add" else current - t
        ss.add_update((self, t))
        return self if read_value else None


def _convert_keras_variable(v, dtype=None, name=None):
    t = v._read()
    if dtype is not None and t.dtype is not dtype:
        raise ValueError(
            f"Tensor conversion requested dtype {dtype.name} for variable '{v.name}' with "
            f"dtype {t.dtype.name}."
        )
    return t


# found before the tf.Variable conversion (lower priority runs first): reads may autocast
register_tensor_conversion_function(Variable, _convert_keras_variable, priority=50)


class StatelessScope:
    """Variables read their value from ``state_mapping`` (``[(variable, value), ...]``)
    and assignments are collected here (``get_current_value``), not applied; with
    ``collect_losses``, layer losses added inside are collected in ``losses``."""

    def __init__(self, state_mapping=None, collect_losses=False, initialize_variables=True):
        self.collect_losses = collect_losses
        self.initialize_variables = initialize_variables
        self.losses = []
        self.state_mapping = {}
        for k, v in state_mapping or ():
            if not isinstance(k, _CoreVariable):
                raise ValueError(
                    "Invalid reference variable in StatelessScope: all keys in argument "
                    "`mapping` must be Variable instances. Received instead: "
                    f"{k}"
                )
            if isinstance(v, _CoreVariable):
                v = _cast(v.read_value(), k._dtype)
            else:
                v = convert_to_tensor(v, dtype=k._dtype)
            if tuple(k.shape.as_list()) != tuple(v.shape.as_list()):
                raise ValueError(
                    "Invalid variable value in StatelessScope: all values in argument "
                    "`mapping` must be tensors with a shape that matches the corresponding "
                    f"variable shape. For variable {k.name}, received invalid value with "
                    f"shape {tuple(v.shape.as_list())} (the variable's is "
                    f"{tuple(k.shape.as_list())})."
                )
            self.state_mapping[id(k)] = v
        self.original_scope = None

    def add_loss(self, loss):
        self.losses.append(loss)

    def add_update(self, update):
        variable, value = update
        self.state_mapping[id(variable)] = value

    def get_current_value(self, variable):
        """The value ``variable`` has in this scope (``None`` if neither mapped nor
        assigned here)."""
        return self.state_mapping.get(id(variable), None)

    def __enter__(self):
        self.original_scope = _state.stateless
        _state.stateless = self
        return self

    def __exit__(self, *exc):
        _state.stateless = self.original_scope
