"""``keras.models.clone_model``: a new model of the same architecture, its layers cloned
from their configs (fresh weights) or by a user ``clone_function``.

A functional model is re-run symbolically on new ``keras.Input`` tensors (or the given
``input_tensors``), each layer replaced by its clone and called through ``call_function``
when one is given; a Sequential model is rebuilt from its cloned layers; any other model
goes through its config.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from rill.core import nest
from rill.keras.input_layer import Input, InputLayer
from rill.keras.keras_tensor import KerasTensor
from rill.keras.layer import Layer
from rill.keras.models import Functional, Model, Sequential

__all__ = ["clone_model"]


def _clone_layer(layer):
    return layer.__class__.from_config(layer.get_config())


def _wrap_clone_function(clone_function, call_function, recursive, cache):
    """``clone_function`` made to clone each layer once (shared layers stay shared) and,
    with ``recursive``, to clone nested Sequential and functional models as models."""
    clone_function = clone_function or _clone_layer

    def wrapped(layer):
        if id(layer) in cache:
            return cache[id(layer)]
        if (
            recursive
            and isinstance(layer, Model)
            and (isinstance(layer, Sequential) or layer._graph is not None)
        ):
            clone = clone_model(layer, clone_function=clone_function,
                                call_function=None if isinstance(layer, Sequential)
                                else call_function, recursive=True, cache=cache)  # fmt: skip
        else:
            clone = clone_function(layer)
        cache[id(layer)] = clone
        return clone

    return wrapped


def _clone_sequential(model, clone_function, input_tensors):
    new_layers: list[Any] = [clone_function(layer) for layer in model.layers]
    input_layer = model._input_layer
    if input_layer is not None:
        name, batch_shape = input_layer.name, input_layer.batch_shape
        dtype, optional = input_layer.dtype, input_layer.optional
    elif model._graph is not None:  # the input shape came from the first layer
        spec = model._graph.flat_inputs[0]
        name, batch_shape, dtype, optional = None, spec.shape, spec.dtype, False
    else:
        name = batch_shape = dtype = None
        optional = False
    if input_tensors is not None:
        if isinstance(input_tensors, (list, tuple)):
            if len(input_tensors) != 1:
                raise ValueError(
                    "clone_model: `input_tensors` of a Sequential model must contain a single "
                    f"tensor. Received {len(input_tensors)}."
                )
            input_tensors = input_tensors[0]
        if not isinstance(input_tensors, KerasTensor):
            raise ValueError(
                "clone_model: `input_tensors` must be a KerasTensor. Received invalid value: "
                f"input_tensors={input_tensors!r}"
            )
        history = input_tensors._keras_history
        if history is not None and isinstance(history[0], InputLayer):
            new_layers.insert(0, history[0])
        else:
            new_layers.insert(0, Input(batch_shape=input_tensors.shape,
                                       dtype=input_tensors.dtype, name=name))  # fmt: skip
    elif batch_shape is not None:
        new_layers.insert(0, Input(batch_shape=tuple(batch_shape), dtype=dtype, name=name,
                                   optional=optional))  # fmt: skip
    return Sequential(new_layers, name=model.name, trainable=model.trainable)


def _functional_like(cls) -> bool:
    """Whether ``cls(inputs, outputs, name=...)`` builds a functional model of ``cls``."""
    if cls in (Model, Functional):
        return True
    params = list(inspect.signature(cls.__init__).parameters)[1:3]
    return params == ["inputs", "outputs"]


def _clone_functional(model, clone_function, input_tensors, call_function):
    graph = model._graph
    if input_tensors is not None:
        if not all(isinstance(x, KerasTensor) for x in nest.flatten(input_tensors)):
            raise ValueError(
                "clone_model: all entries in `input_tensors` must be KerasTensors. Received "
                f"invalid values: input_tensors={input_tensors!r}"
            )
        try:
            nest.assert_same_structure(input_tensors, graph.inputs)
        except (ValueError, TypeError) as e:
            raise ValueError(
                "clone_model: `input_tensors` must have the same structure as model.input\n"
                f"Reference structure: {graph.inputs}\nReceived structure: {input_tensors}"
            ) from e
    else:
        input_tensors = nest.map_structure(
            lambda x: Input(batch_shape=x.shape, dtype=x.dtype, name=x.name), graph.inputs
        )
    values = {id(t): v for t, v in zip(graph.flat_inputs, nest.flatten(input_tensors))}
    for node in graph.run_nodes:
        args, kwargs = nest.map_structure(
            lambda v: values[id(v)] if isinstance(v, KerasTensor) else v, (node.args, node.kwargs)
        )
        op = node.operation
        if isinstance(op, Layer):
            op = clone_function(op)
        out = (
            call_function(op, *args, **kwargs) if call_function is not None else op(*args, **kwargs)
        )
        for t, v in zip(node.output_tensors, nest.flatten(out)):
            values[id(t)] = v
    outputs = nest.map_structure(lambda t: values[id(t)], graph.outputs)
    cls = type(model) if _functional_like(type(model)) else Functional
    return cls(input_tensors, outputs, name=model.name)


def _copy_compile(model, clone):
    if getattr(model, "compiled", False):
        from rill.keras.saving import serialization_lib

        config = serialization_lib.get_compile_config(model)
        if config is not None:
            serialization_lib.compile_from_config(clone, config)
    return clone


def clone_model(model: Model, input_tensors: Any = None, clone_function: Callable | None = None,
                call_function: Callable | None = None, recursive: bool = False,
                **kwargs: Any) -> Model:  # fmt: skip
    """A new model with ``model``'s architecture and cloned layers (new weights, unless
    ``clone_function`` returns the layers themselves); compiled like ``model`` if it is."""
    cache = kwargs.pop("cache", None)
    if kwargs:
        raise ValueError(f"clone_model: unexpected keyword argument(s): {tuple(kwargs)}")
    cache = {} if cache is None else cache
    if clone_function is not None and not callable(clone_function):
        raise ValueError(
            "clone_model: `clone_function` must be a callable. Received: "
            f"clone_function={clone_function!r}"
        )
    if isinstance(model, Sequential):
        if call_function is not None:
            raise ValueError(
                "clone_model: the `call_function` argument is not supported with Sequential "
                "models: their layers are listed, not called, at construction. Use "
                f"`call_function` with functional models only. Received model of type "
                f"{type(model).__name__!r}."
            )
        wrapped = _wrap_clone_function(clone_function, call_function, recursive, cache)
        return _copy_compile(model, _clone_sequential(model, wrapped, input_tensors))
    if isinstance(model, Model) and model._graph is not None:
        wrapped = _wrap_clone_function(clone_function, call_function, recursive, cache)
        clone = _clone_functional(model, wrapped, input_tensors, call_function)
        return _copy_compile(model, clone)
    if clone_function is not None or input_tensors is not None:
        raise ValueError(
            "clone_model: `clone_function` and `input_tensors` are only supported for "
            f"Sequential and functional models. Received model of type {type(model).__name__!r}."
        )
    if call_function is not None:
        raise ValueError(
            "clone_model: `call_function` is only supported for functional models. Received "
            f"model of type {type(model).__name__!r}."
        )
    from rill.keras.saving import serialization_lib

    config = serialization_lib.serialize_keras_object(model)
    return serialization_lib.deserialize_keras_object(
        config, custom_objects={type(model).__name__: type(model)}
    )
