"""``keras.layers.Layer``: the unit of state (weights) and computation (``call``).

A layer builds lazily on its first call (``build(input_shape)`` creates the weights with
``add_weight``), tracks nested layers and variables assigned as attributes, propagates the
``training`` flag to the layers it calls, and collects losses added with ``add_loss`` and by
weight and activity regularizers.
"""

from __future__ import annotations

import inspect
import threading
import weakref

import numpy as np

from rill.core import nest
from rill.core.context import init_scope
from rill.core.convert import convert_to_tensor
from rill.core.dtypes import as_dtype
from rill.core.tensor import EagerTensor, Tensor, TensorSpec
from rill.core.tensor_shape import TensorShape
from rill.core.variables import Variable
from rill.keras.keras_tensor import KerasTensor
from rill.keras.naming import snake_case as _snake
from rill.keras.naming import unique_name
from rill.keras.operation import Operation, symbolic_outputs
from rill.keras.variables import AutocastScope, get_autocast_scope, get_stateless_scope
from rill.keras.variables import Variable as KerasVariable
from rill.tracing.abstract import trace_abstract

__all__ = ["Layer", "get_keras_mask", "set_keras_mask"]


class _CallContext(threading.local):
    def __init__(self):
        self.stack = []  # training flags of the layer calls in progress


_ctx = _CallContext()

# Keras masks ride on tensors (Keras 3 sets ``tensor._keras_mask``). rill's tensors have
# __slots__, so the masks of eager and traced tensors live in this side table, keyed by id
# and dropped when the tensor dies; the eager hot path only tests it for emptiness.
_MASKS: dict = {}  # id(tensor) -> (weakref to the tensor, its mask)


def get_keras_mask(x):
    """The Keras mask carried by ``x`` (a tensor or KerasTensor), or None."""
    if not isinstance(x, Tensor):
        return getattr(x, "_keras_mask", None)
    entry = _MASKS.get(id(x)) if _MASKS else None
    if entry is None or entry[0]() is not x:
        return None
    return entry[1]


def set_keras_mask(x, mask) -> None:
    """Attach ``mask`` to ``x`` (None removes it), as Keras 3's ``set_keras_mask``."""
    if not isinstance(x, Tensor):
        try:
            x._keras_mask = mask
        except (AttributeError, TypeError):  # a NumPy array or a Python value: no mask
            pass
        return
    key = id(x)
    if mask is None:
        _MASKS.pop(key, None)
        return
    _MASKS[key] = (weakref.ref(x, lambda _, k=key: _MASKS.pop(k, None)), mask)


def _masks_of(inputs):
    """The masks the ``inputs`` carry: one mask, a structure of them, or None if none."""
    if isinstance(inputs, Tensor):
        return get_keras_mask(inputs)
    if not nest.is_nested(inputs):
        return get_keras_mask(inputs)
    masks = nest.map_structure(get_keras_mask, inputs)
    return None if all(m is None for m in nest.flatten(masks)) else masks


def _shape_of(x):
    if isinstance(x, (Tensor, Variable)):
        return x.shape
    if hasattr(x, "shape"):
        return TensorShape(np.shape(x))
    return None


def _leaves(value):
    """The leaves of a tracked attribute: most are one layer or one variable, which need
    no structure walk (weights are collected on every training step)."""
    if isinstance(value, (Layer, Variable)):
        return (value,)
    return nest.flatten(value)


class Layer(Operation):
    """Base class of Keras layers: subclass it and implement ``build`` and ``call``."""

    _kind = "Layer"

    def __init__(self, trainable=True, name=None, dtype=None, dynamic=False, **kwargs):
        input_shape = kwargs.pop("input_shape", None)
        input_dim = kwargs.pop("input_dim", None)
        batch_input_shape = kwargs.pop("batch_input_shape", None)
        autocast = kwargs.pop("autocast", True)
        activity_regularizer = kwargs.pop("activity_regularizer", None)
        if kwargs:
            raise ValueError(
                f"Unrecognized keyword arguments passed to {type(self).__name__}: {kwargs}"
            )
        object.__setattr__(self, "_tracked", [])
        self._trainable = bool(trainable)
        super().__init__(name or unique_name(_snake(type(self).__name__)))
        self.autocast = bool(autocast)
        self.dtype_policy = dtype  # sets the cached compute/variable dtypes too
        self.dynamic = bool(dynamic)
        self.built = False
        self._own_weights = []  # variables made by add_weight, in creation order
        self._call_losses = []
        self._regularized = []  # (variable, regularizer) pairs
        from rill.keras import regularizers

        self.activity_regularizer = regularizers.get(activity_regularizer)
        # Keras 3: a layer supports masking when it overrides `compute_mask`
        self.supports_masking = type(self).compute_mask is not Layer.compute_mask
        if batch_input_shape is not None:
            self._batch_input_shape = tuple(batch_input_shape)
        elif input_shape is not None:
            self._batch_input_shape = (None, *tuple(input_shape))
        elif input_dim is not None:
            self._batch_input_shape = (None, int(input_dim))
        else:
            self._batch_input_shape = None
        sig = inspect.signature(self.call)
        self._call_has_training = "training" in sig.parameters
        self._call_has_mask = "mask" in sig.parameters
        # tensor arguments with a `<name>_mask` parameter (MultiHeadAttention's query, value,
        # key): filled from the masks those arguments carry, as Keras 3 does
        names = list(sig.parameters)
        self._call_mask_args = tuple(
            (i, p) for i, p in enumerate(names) if f"{p}_mask" in sig.parameters
        )

    # tracking ---------------------------------------------------------------------------
    def __setattr__(self, name, value):
        # plain values (a number, a name, a shape tuple) hold no state: skip the search
        tv = type(value)
        if tv in _PLAIN or (tv is tuple and all(type(v) in _PLAIN for v in value)):
            object.__setattr__(self, name, value)
            return
        if not name.startswith("__") and _holds_state(value):
            tracked = self.__dict__.get("_tracked")
            if tracked is not None and all(t is not value for t in tracked):
                tracked.append(value)
        object.__setattr__(self, name, value)

    def _sublayers(self) -> list:
        out = []
        for v in self.__dict__.get("_tracked", ()):
            for leaf in _leaves(v):
                if isinstance(leaf, Layer) and all(leaf is not o for o in out):
                    out.append(leaf)
        return out

    @property
    def layers(self) -> list:
        return self._sublayers()

    def _flatten_layers(self, include_self=True) -> list:
        out, stack = [], [self]
        while stack:
            layer = stack.pop(0)
            if any(layer is o for o in out):
                continue
            out.append(layer)
            stack.extend(layer._sublayers())
        return out if include_self else out[1:]

    def _tracked_variables(self) -> list:
        out = list(self._own_weights)
        for v in self.__dict__.get("_tracked", ()):
            for leaf in _leaves(v):
                if isinstance(leaf, Variable) and all(leaf is not o for o in out):
                    out.append(leaf)
        return out

    # weights ----------------------------------------------------------------------------
    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        for layer in self._flatten_layers():
            layer._trainable = bool(value)

    def _weight_pairs(self) -> list:
        """(variable, trainable) pairs in Keras 3's order: depth-first, each layer's own
        weights (trainable ones first) before its sublayers', in tracking order."""
        out, seen, visited = [], set(), set()
        stack = [self]
        while stack:  # iterative: deep nestings never reach Python's recursion limit
            layer = stack.pop()
            if id(layer) in visited:
                continue
            visited.add(id(layer))
            own = layer._tracked_variables()
            for v in [v for v in own if v.trainable] + [v for v in own if not v.trainable]:
                if id(v) not in seen:
                    seen.add(id(v))
                    out.append((v, v.trainable and layer._trainable))
            stack.extend(reversed(layer._sublayers()))
        return out

    def _collect(self, trainable: bool | None) -> list:
        return [v for v, t in self._weight_pairs() if trainable is None or t == trainable]

    @property
    def weights(self) -> list:
        """Every weight, in Keras 3's order (depth-first, own weights first)."""
        return [v for v, _ in self._weight_pairs()]

    @property
    def variables(self) -> list:
        return self.weights

    @property
    def trainable_weights(self) -> list:
        return self._collect(True) if self._trainable else []

    trainable_variables = trainable_weights

    @property
    def non_trainable_weights(self) -> list:
        if not self._trainable:
            return self._collect(None)
        return self._collect(False)

    non_trainable_variables = non_trainable_weights

    def add_weight(
        self,
        shape=None,
        initializer=None,
        dtype=None,
        trainable=True,
        regularizer=None,
        constraint=None,
        name=None,
        **kwargs,
    ) -> Variable:
        """Create a weight variable of this layer (initialised eagerly, even while tracing)."""
        from rill.keras import constraints, initializers, regularizers

        if isinstance(shape, str) and name is None:  # Keras 2's add_weight(name, shape)
            shape, name = initializer, shape
            initializer = kwargs.pop("initializer", None)
        shape = () if shape is None else tuple(int(d) for d in shape)
        autocast = kwargs.pop("autocast", True)
        dtype = _dtype_name(dtype) if dtype is not None else self._variable_dtype
        if initializer is None:
            initializer = "glorot_uniform" if "float" in dtype else "zeros"
        init = initializers.get(initializer)
        with init_scope():
            value = init(shape, dtype=dtype) if callable(init) else init
            value = convert_to_tensor(value, dtype=dtype)
            var = KerasVariable(
                value,
                trainable=trainable,
                autocast=autocast,
                name=f"{self.name}/{name or 'variable'}",
                dtype=dtype,
                constraint=constraints.get(constraint),
            )
        self._own_weights.append(var)
        pending = self.__dict__.get("_deferred_restore")
        if pending and (name or "variable") in pending:  # a checkpoint restored before build
            with init_scope():  # build may run while tracing: assign now, not in the graph
                var.assign(pending.pop(name or "variable"))
        reg = regularizers.get(regularizer)
        if reg is not None:
            self._regularized.append((var, reg))
        return var

    add_variable = add_weight

    def get_weights(self) -> list:
        return [v.numpy() for v in self.weights]

    def set_weights(self, weights):
        own = self.weights
        if len(weights) != len(own):
            raise ValueError(
                f"Layer {self.name!r} expects {len(own)} weights, but received {len(weights)}."
            )
        for v, w in zip(own, weights):
            w = np.asarray(w)
            if tuple(v.shape.as_list()) != w.shape:
                raise ValueError(
                    f"Layer {self.name!r} weight {v.name!r} has shape {v.shape}, received {w.shape}."
                )
            v.assign(w.astype(v.dtype.np))

    def count_params(self) -> int:
        if not self.built:
            raise ValueError(
                f"You tried to call `count_params` on layer {self.name!r}, but the layer isn't "
                f"built. Call it on data first, or call `build(input_shape)`."
            )
        return int(sum(np.prod(v.shape.as_list(), dtype=np.int64) for v in self.weights))

    # losses -----------------------------------------------------------------------------
    def add_loss(self, loss):
        """Add a loss (a tensor, or a zero-argument callable) to this layer's ``losses``."""
        self._call_losses.append(loss)
        _WITH_CALL_LOSSES.add(self)
        scope = get_stateless_scope()
        if scope is not None and scope.collect_losses:
            scope.add_loss(loss)

    @property
    def losses(self) -> list:
        out = []
        for layer in self._flatten_layers():
            for loss in layer._call_losses:
                out.append(loss() if callable(loss) else loss)
            for var, reg in layer._regularized:
                out.append(reg(var))
        return out

    def _clear_losses(self):
        if not _WITH_CALL_LOSSES:  # no layer holds a call loss: nothing to walk
            return
        for layer in self._flatten_layers():
            layer._call_losses = []
            _WITH_CALL_LOSSES.discard(layer)

    # building and calling -------------------------------------------------------------------
    def build(self, input_shape):
        """Create the weights, given the shape of the inputs (override in subclasses)."""
        self.built = True

    def call(self, inputs, *args, **kwargs):
        raise NotImplementedError(
            f"Layer {type(self).__name__} does not have a `call()` method implemented."
        )

    def _maybe_build(self, inputs):
        if self.built:
            return
        shapes = nest.map_structure(_shape_of, inputs)
        self._build_input_shape = shapes  # saved as build_config, to rebuild on load
        if isinstance(shapes, TensorShape) or shapes is None:
            self.build(shapes)
        elif isinstance(shapes, (list, tuple)) and all(isinstance(s, TensorShape) for s in shapes):
            self.build(list(shapes) if isinstance(shapes, list) else shapes)
        else:
            self.build(shapes)
        self.built = True
        if self._input_spec is not None:  # build may have set or refined the spec
            self._check_input_spec(inputs)

    def __call__(self, inputs, *args, training=None, mask=None, **kwargs):
        if _is_symbolic(inputs, args, kwargs):  # the functional API: record a node
            if training is not None:
                kwargs["training"] = training
            if mask is not None:
                kwargs["mask"] = mask
            return self.symbolic_call(inputs, *args, **kwargs)
        # the mask the inputs carry (Keras 3 reads `_keras_mask`); an empty table: none
        previous_mask = mask if mask is not None or not _MASKS else _masks_of(inputs)
        compute = self._dtype
        if (
            args
            or kwargs
            or not isinstance(inputs, Tensor)
            or (self.autocast and inputs.dtype.is_floating and inputs.dtype.name != compute)
        ):  # the common case (one tensor already in the compute dtype) skips this
            converted = self._convert_inputs(inputs, args, kwargs)
            if _MASKS:
                _carry_masks((inputs, args, kwargs), converted)  # a cast input keeps its mask
            inputs, args, kwargs = converted
            if self._call_mask_args and _MASKS:
                self._fill_mask_args(inputs, args, kwargs)
        if self._input_spec is not None:
            self._check_input_spec(inputs)
        outer = _ctx.stack
        if training is None and outer:
            training = outer[-1]  # inherited from the layer that calls this one
        if not outer:
            self._clear_losses()
        self._maybe_build(inputs)
        if self._call_has_training:
            kwargs["training"] = training
        if self._call_has_mask and previous_mask is not None:
            kwargs["mask"] = previous_mask
        outer.append(training)
        scope = self._autocast_scope()
        try:
            if scope is None:
                outputs = self.call(inputs, *args, **kwargs)
            else:
                with scope:
                    outputs = self.call(inputs, *args, **kwargs)
        finally:
            outer.pop()
        if self.activity_regularizer is not None:
            for o in nest.flatten(outputs):
                self.add_loss(self.activity_regularizer(o))
        if self.supports_masking:
            # Layer.compute_mask passes the previous mask on: with none, nothing to attach
            if previous_mask is not None or type(self).compute_mask is not _BASE_COMPUTE_MASK:
                self._set_mask_metadata(inputs, outputs, previous_mask)
        elif previous_mask is not None:
            _warn_mask_dropped(self)
        return outputs

    def _fill_mask_args(self, inputs, args, kwargs):
        for i, name in self._call_mask_args:
            key = f"{name}_mask"
            if kwargs.get(key) is not None:
                continue
            x = inputs if i == 0 else args[i - 1] if i - 1 < len(args) else kwargs.get(name)
            m = None if x is None else _masks_of(x)
            if m is not None:
                kwargs[key] = m

    def _set_mask_metadata(self, inputs, outputs, previous_mask):
        """Attach ``compute_mask``'s masks to the outputs that carry none yet (Keras 3)."""
        flat = nest.flatten(outputs)
        if all(get_keras_mask(o) is not None for o in flat):
            return  # masks set inside the call (a nested model, MultiHeadAttention)
        masks = self.compute_mask(inputs, previous_mask)
        if masks is None:
            return
        for o, m in zip(flat, nest.flatten(masks)):
            if m is not None and get_keras_mask(o) is None:
                set_keras_mask(o, m)

    def compute_mask(self, inputs, previous_mask=None):
        """The mask of the outputs, given the inputs and their mask (here: passed on)."""
        return previous_mask

    def _check_input_spec(self, inputs):
        global _assert_input_compatibility
        spec = self._input_spec
        key = None
        if type(inputs) is EagerTensor:  # a spec reads only shape and dtype: check once
            key = (spec, inputs._value.shape, inputs._dtype)
            if self.__dict__.get("_input_spec_passed") == key:
                return
        if _assert_input_compatibility is None:  # layers.input_spec imports this module
            from rill.keras.layers.input_spec import assert_input_compatibility

            _assert_input_compatibility = assert_input_compatibility
        _assert_input_compatibility(spec, inputs, self.name)
        if key is not None:
            object.__setattr__(self, "_input_spec_passed", key)

    # the functional API ----------------------------------------------------------------------
    def _symbolic_outputs(self, args, kwargs):
        """The output KerasTensors of a call on KerasTensors (``Operation.symbolic_call``):
        the eager call traced abstractly; for a dynamic layer that cannot be traced, its
        ``compute_output_shape``."""
        try:
            in_masks = [get_keras_mask(x) for x in nest.flatten((args, kwargs))]
            if all(m is None for m in in_masks) and not self.supports_masking:
                return symbolic_outputs(
                    self.name, lambda *a, **k: Layer.__call__(self, *a, **k), args, kwargs
                )
            return self._symbolic_outputs_masked(args, kwargs, in_masks)
        except Exception as e:
            if not self.dynamic:
                raise
            if type(self).compute_output_shape is Layer.compute_output_shape:
                raise TypeError(
                    f"Layer {self.name!r} is dynamic (dynamic=True): its call needs concrete "
                    f"values, so calling it on a keras.Input needs `compute_output_shape` to "
                    f"be implemented. Error while inferring its output: {e}"
                ) from e
            shapes = self.compute_output_shape(nest.map_structure(lambda x: x.shape, args[0]))
            return _from_shapes(shapes, self.compute_dtype)
        finally:
            self._clear_losses()  # symbolic activity-regularization losses must not leak

    def _symbolic_outputs_masked(self, args, kwargs, in_masks):
        """The output KerasTensors, each with the ``_keras_mask`` (a KerasTensor) the call
        gives it: the call is traced with the input masks attached to the placeholders."""

        def run(a, k, masks):
            for x, m in zip(nest.flatten((a, k)), masks):
                if m is not None:
                    set_keras_mask(x, m)
            out = Layer.__call__(self, *a, **k)
            return out, [get_keras_mask(o) for o in nest.flatten(out)]

        _, (out, masks) = trace_abstract(
            run, (args, kwargs, in_masks), name=f"{self.name}_symbolic", spec_of=_kt_spec
        )
        out = nest.map_structure(lambda t: KerasTensor(t.shape, t.dtype), out)
        for o, m in zip(nest.flatten(out), masks):
            if m is not None:
                o._keras_mask = KerasTensor(m.shape, m.dtype)
        return out

    def compute_output_shape(self, input_shape):
        """The output shape for ``input_shape``, found by tracing ``call`` on a placeholder."""
        dtype = as_dtype(self._dtype)
        if _is_shape(input_shape):
            spec = TensorSpec(input_shape, dtype)
        else:  # several inputs (merge layers): one placeholder per shape
            spec = [TensorSpec(s, dtype) for s in input_shape]
        _, out = trace_abstract(self, [spec], name=f"{self.name}_output_shape")
        return nest.map_structure(lambda t: t.shape, out)

    # config -----------------------------------------------------------------------------
    def get_config(self) -> dict:
        """The constructor arguments, as Keras 3 writes them (``dtype`` as a DTypePolicy);
        subclasses add theirs to ``super().get_config()``."""
        from rill.keras import dtype_policies, regularizers

        config = {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": dtype_policies.serialize(self._dtype_policy),
        }
        if self.activity_regularizer is not None:
            config["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    # dtype policy ---------------------------------------------------------------------------
    @property
    def dtype_policy(self):
        """The layer's ``DTypePolicy`` (settable from a policy, a name or a dtype)."""
        return self._dtype_policy

    @dtype_policy.setter
    def dtype_policy(self, value):
        from rill.keras import dtype_policies

        policy = dtype_policies.get(value)
        if policy.quantization_mode is not None:
            raise NotImplementedError(
                f"Layer {self.name!r}: the quantized dtype policy {policy.name!r} (mode "
                f"{policy.quantization_mode!r}) needs quantized kernels, which rill does not "
                "implement; use a float policy such as 'float32' or 'mixed_float16'."
            )
        self._dtype_policy = policy
        # cached: read on every call
        self._dtype = policy.compute_dtype
        self._variable_dtype = policy.variable_dtype

    @property
    def dtype(self) -> str:
        """The dtype of the layer's variables (Keras 3: ``variable_dtype``)."""
        return self._variable_dtype

    @property
    def compute_dtype(self) -> str:
        """The dtype of the layer's computations and outputs."""
        return self._dtype

    @property
    def variable_dtype(self) -> str:
        """The dtype the layer creates its weights in."""
        return self._variable_dtype

    @property
    def input_dtype(self) -> str:
        """The dtype floating inputs are cast to (with ``autocast``)."""
        return self._dtype

    @property
    def quantization_mode(self):
        return self._dtype_policy.quantization_mode

    def _convert_inputs(self, inputs, args, kwargs):
        """Array-like arguments as tensors, floating ones cast to the compute dtype when
        ``autocast`` (integer inputs stay integer: ids for Embedding and lookups)."""
        policy, autocast, dtype = self._dtype_policy, self.autocast, self._dtype

        def convert(x):
            if isinstance(x, (Tensor, Variable)) or hasattr(x, "__array__"):
                return policy.convert_input(x, autocast, dtype)
            return x

        if not isinstance(inputs, (Tensor, Variable)) and not nest.is_nested(inputs):
            if isinstance(inputs, (int, float, bool)):
                inputs = convert_to_tensor(inputs)  # a Python number: a scalar tensor
        inputs = nest.map_structure(convert, inputs)
        if args:
            args = nest.map_structure(convert, args)
        if kwargs:
            kwargs = {k: nest.map_structure(convert, v) for k, v in kwargs.items()}
        return inputs, args, kwargs

    def _autocast_scope(self):
        """The ``AutocastScope`` this call enters (``None``: keep the current one), as
        Keras 3: a mixed policy casts float variables to its compute dtype; a layer with
        ``autocast=False`` or a non-float compute dtype turns an outer scope off."""
        current = get_autocast_scope()
        compute = self._dtype
        if current is not None:
            if not self.autocast or not as_dtype(compute).is_floating:
                return AutocastScope(None) if current.dtype is not None else None
            if current.dtype != compute:
                return AutocastScope(compute)
            return None
        if compute != self._variable_dtype:  # a mixed policy
            return AutocastScope(compute)
        return None

    _input_spec = None

    @property
    def input_spec(self):
        """The ``InputSpec`` (or list of them) every call checks its inputs against."""
        return self._input_spec

    @input_spec.setter
    def input_spec(self, value):
        object.__setattr__(self, "_input_spec", value)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


_assert_input_compatibility = None  # rill.keras.layers.input_spec's, imported on first use


def _kt_spec(x):
    return TensorSpec(x.shape, x.dtype) if isinstance(x, KerasTensor) else None


def _carry_masks(src, dst):
    """Attach the masks of the tensors of ``src`` to those of ``dst`` (same structure)."""
    try:
        pairs = zip(nest.flatten(src), nest.flatten(dst))
    except (TypeError, ValueError):
        return
    for a, b in pairs:
        m = get_keras_mask(a)
        if m is not None and b is not a:
            set_keras_mask(b, m)


def _warn_mask_dropped(layer):
    import warnings

    warnings.warn(
        f"Layer '{layer.name}' (of type {type(layer).__name__}) was passed an input with a "
        "mask attached to it. However, this layer does not support masking and will therefore "
        "destroy the mask information. Downstream layers will not see the mask.",
        stacklevel=3,
    )


def _is_symbolic(inputs, args, kwargs) -> bool:
    if isinstance(inputs, (Tensor, Variable)) and not args and not kwargs:
        return False  # the eager hot path: one tensor in, nothing to search
    for x in nest.flatten((inputs, args, kwargs)):
        if isinstance(x, KerasTensor):
            return True
    return False


def _from_shapes(shapes, dtype):
    """KerasTensors for a shape, or a list/tuple/dict of shapes."""
    if isinstance(shapes, TensorShape) or (
        isinstance(shapes, (list, tuple)) and all(d is None or isinstance(d, int) for d in shapes)
    ):
        return KerasTensor(shapes, dtype)
    if isinstance(shapes, dict):
        return {k: _from_shapes(v, dtype) for k, v in shapes.items()}
    return type(shapes)(_from_shapes(s, dtype) for s in shapes)


def _is_shape(s) -> bool:
    """A single shape (TensorShape, or a list/tuple of ints and None), not a list of them."""
    if isinstance(s, TensorShape) or s is None:
        return True
    return isinstance(s, (list, tuple)) and all(d is None or isinstance(d, int) for d in s)


_BASE_COMPUTE_MASK = Layer.compute_mask
_PLAIN = frozenset({type(None), bool, int, float, str, bytes, TensorShape})
_WITH_CALL_LOSSES = weakref.WeakSet()  # layers whose _call_losses may be non-empty


def _holds_state(value) -> bool:
    if isinstance(value, (Layer, Variable)):
        return True
    if isinstance(value, (list, tuple, dict)):
        return any(isinstance(x, (Layer, Variable)) for x in nest.flatten(value))
    return False


def _dtype_name(dtype) -> str:
    if dtype is None:
        return "float32"
    if isinstance(dtype, str):
        return dtype
    if isinstance(dtype, dict):  # a Keras 3 DTypePolicy config, as saved in model files
        return _dtype_name((dtype.get("config") or {}).get("name"))
    return getattr(dtype, "name", str(dtype))
