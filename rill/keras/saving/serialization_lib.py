"""Keras 3's object-config format: ``serialize_keras_object`` / ``deserialize_keras_object``.

An object is written as ``{"module", "class_name", "config", "registered_name"}`` (plus
``build_config`` / ``compile_config`` for layers and models); plain values, lists, tuples
and dicts are written as themselves, arrays and tensors as tagged dicts.

The security property: a class or function named in a config is resolved ONLY through the
``custom_objects`` the caller passes, the active ``custom_object_scope``, the
``register_keras_serializable`` registry and rill's own built-in tables (the catalogs,
``keras.layers``, ``keras.models``). Nothing named in a config is ever imported, and Python
bytecode (a ``Lambda`` layer's ``__lambda__``) is refused unless ``safe_mode=False``.

The catalogs (activations, initializers, losses, ...) share ``serialize_catalog``,
``deserialize_catalog`` and ``get_catalog`` here instead of each carrying a copy.
"""

from __future__ import annotations

import base64
import builtins
import inspect
import marshal
import threading
import types
import warnings
from typing import Any

import numpy as np

from rill.keras.saving import object_registration as _reg

__all__ = [
    "SafeModeScope",
    "deserialize_catalog",
    "deserialize_keras_object",
    "enable_unsafe_deserialization",
    "get_catalog",
    "in_safe_mode",
    "serialize_catalog",
    "serialize_keras_object",
]

PLAIN_TYPES = (str, int, float, bool)

_DTYPE_POLICY_CLASSES = ("DTypePolicy", "FloatDTypePolicy")

_LAMBDA_REFUSED = (
    "Requested the deserialization of a Python lambda (its bytecode is stored in the "
    "config). This can run arbitrary code, so it is refused by default. If you trust the "
    "source of this file, pass `safe_mode=False` to the loading function (or call "
    "`rill.keras.saving.serialization_lib.enable_unsafe_deserialization()`)."
)


# ---------------------------------------------------------------------------- safe mode
class _SafeMode(threading.local):
    def __init__(self):
        self.value: bool | None = None


_safe_mode = _SafeMode()


class SafeModeScope:
    """Propagates ``safe_mode`` to nested ``from_config`` calls in this thread."""

    def __init__(self, safe_mode: bool | None = True):
        self.safe_mode = safe_mode

    def __enter__(self) -> SafeModeScope:
        self._saved = _safe_mode.value
        _safe_mode.value = self.safe_mode
        return self

    def __exit__(self, *exc) -> None:
        _safe_mode.value = self._saved


def in_safe_mode() -> bool | None:
    """The safe mode of the innermost ``SafeModeScope`` (``None`` outside any)."""
    return _safe_mode.value


def enable_unsafe_deserialization() -> None:
    """Allow lambdas to be deserialized in this thread (like Keras' global switch)."""
    _safe_mode.value = False


# ---------------------------------------------------------------------- built-in tables
_tables_cache: dict | None = None


def _builtin_tables() -> dict[str, dict]:
    """rill's public Keras namespaces, keyed by the Keras module name written in configs."""
    global _tables_cache
    if _tables_cache is None:
        from rill.keras import (
            activations,
            constraints,
            initializers,
            layers,
            losses,
            metrics,
            models,
            optimizers,
            regularizers,
        )
        from rill.keras.layer import Layer
        from rill.keras.optimizers import schedules

        layer_table = {
            k: v
            for k, v in vars(layers).items()
            if isinstance(v, type) and issubclass(v, Layer) and not k.startswith("_")
        }
        model_table = {"Model": models.Model, "Sequential": models.Sequential}
        # Keras writes functional models as class "Functional"
        model_table["Functional"] = getattr(models, "Functional", models.Model)
        _tables_cache = {
            "keras.layers": layer_table,
            "keras": model_table,
            "keras.models": model_table,
            "keras.optimizers": optimizers._OBJECTS,
            "keras.optimizers.schedules": schedules._OBJECTS,
            "keras.initializers": initializers._OBJECTS,
            "keras.regularizers": regularizers._OBJECTS,
            "keras.constraints": constraints._OBJECTS,
            "keras.losses": losses._OBJECTS,
            "keras.metrics": metrics._OBJECTS,
            "keras.activations": activations._OBJECTS,
            # objects of the smaller namespaces, by their public class names
            "keras.quantizers": _public_classes("rill.keras.quantizers"),
            "keras.distillation": _public_classes("rill.keras.distillation"),
            "keras.utils": {"FeatureSpace": _feature_space()},
        }
    return _tables_cache


def _public_classes(module: str) -> dict:
    import importlib

    mod = importlib.import_module(module)
    return {k: v for k, v in vars(mod).items() if isinstance(v, type) and not k.startswith("_")}


def _feature_space():
    from rill.keras.utils.feature_space import FeatureSpace

    return FeatureSpace


# Where built-in *functions* named only by their name are looked for (Keras' order).
_FUNCTION_MODULES = ("keras.activations", "keras.losses", "keras.metrics")


def _public_name(obj: Any) -> tuple[str, str] | None:
    """(Keras module, name) of a rill built-in class or function, else None."""
    for module, table in _builtin_tables().items():
        for name, value in table.items():
            if value is obj and (not isinstance(obj, type) or name == obj.__name__):
                return module, name
    return None


def _is_builtin_keras_module(module: str | None) -> bool:
    return module is None or module in ("keras", "builtins") or module.startswith("keras.")


# ------------------------------------------------------------------------- serializing
def serialize_keras_object(obj: Any) -> Any:
    """A JSON-friendly description of ``obj`` in Keras 3's format."""
    if obj is None or isinstance(obj, PLAIN_TYPES):
        return obj
    if isinstance(obj, (list, tuple)):
        items = [serialize_keras_object(x) for x in obj]
        return tuple(items) if isinstance(obj, tuple) else items
    if isinstance(obj, dict):
        return _serialize_dict(obj)
    if isinstance(obj, bytes):
        return {"class_name": "__bytes__", "config": {"value": obj.decode("utf-8")}}
    if isinstance(obj, slice):
        return {
            "class_name": "__slice__",
            "config": {
                "start": serialize_keras_object(obj.start),
                "stop": serialize_keras_object(obj.stop),
                "step": serialize_keras_object(obj.step),
            },
        }
    if obj is Ellipsis:
        return {"class_name": "__ellipsis__", "config": {}}
    special = _serialize_rill_value(obj)
    if special is not _NOT_SPECIAL:
        return special
    if isinstance(obj, np.dtype):
        return obj.name
    if isinstance(obj, np.ndarray):
        if obj.ndim == 0:
            return obj.item()
        return {
            "class_name": "__numpy__",
            "config": {"value": obj.tolist(), "dtype": obj.dtype.name},
        }
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, types.FunctionType) and obj.__name__ == "<lambda>":
        warnings.warn(
            "The object being serialized includes a `lambda`. Reloading it requires "
            "`safe_mode=False`; prefer a named (registered) function.",
            stacklevel=2,
        )
        return {"class_name": "__lambda__", "config": {"value": list(_dump_function(obj))}}
    if isinstance(obj, (types.FunctionType, types.BuiltinFunctionType)):
        return _serialize_function(obj)
    if isinstance(obj, type):
        return _serialize_class_reference(obj)
    if not hasattr(obj, "get_config"):
        raise TypeError(
            f"Cannot serialize object {obj!r} of type {type(obj).__name__}: to be "
            "serializable, a class must implement `get_config()`."
        )
    inner = obj.get_config()
    if not isinstance(inner, dict):
        raise TypeError(
            f"The `get_config()` method of {obj!r} should return a dict, got {inner!r}."
        )
    config = {**_class_header(obj), "config": _serialize_dict(inner)}
    _attach_build_and_compile_config(obj, config)
    return config


_NOT_SPECIAL = object()


def _serialize_rill_value(obj: Any) -> Any:
    """DType, TensorShape, Tensor/Variable and KerasTensor; ``_NOT_SPECIAL`` otherwise."""
    from rill.core.dtypes import DType
    from rill.core.tensor import Tensor
    from rill.core.tensor_shape import TensorShape
    from rill.core.variables import Variable
    from rill.keras.keras_tensor import KerasTensor

    if isinstance(obj, DType):
        return obj.name
    if isinstance(obj, TensorShape):
        return None if obj.rank is None else obj.as_list()
    if isinstance(obj, (Tensor, Variable)):
        return {
            "class_name": "__tensor__",
            "config": {"value": obj.numpy().tolist(), "dtype": obj.dtype.name},
        }
    if isinstance(obj, KerasTensor):
        history = getattr(obj, "_keras_history", None)
        if history:  # (layer, node_index, tensor_index): the layer goes by its name
            history = [getattr(history[0], "name", history[0]), *list(history)[1:]]
        return {
            "class_name": "__keras_tensor__",
            "config": {
                "shape": serialize_keras_object(obj.shape),
                "dtype": obj.dtype,
                "keras_history": history,
            },
        }
    return _NOT_SPECIAL


def _serialize_dict(d: dict) -> dict:
    return {k: serialize_keras_object(v) for k, v in d.items()}


def _class_header(obj: Any) -> dict:
    cls = type(obj)
    if is_functional(obj) and _public_name(cls) in (("keras", "Model"), ("keras", "Functional")):
        # Keras 3 writes (and reads) functional models as this class
        return {
            "module": "keras.src.models.functional",
            "class_name": "Functional",
            "registered_name": "Functional",
        }
    public = _public_name(cls)
    if public is not None and not _reg._is_registered(cls):
        return {"module": public[0], "class_name": public[1], "registered_name": None}
    module = cls.__module__
    return {
        "module": None if module == "__main__" else module,
        "class_name": cls.__name__,
        "registered_name": _reg.get_registered_name(cls),
    }


def _serialize_function(fn: Any) -> dict:
    if _reg._is_registered(fn):
        name = _reg.get_registered_name(fn)
        return {"module": fn.__module__, "class_name": "function", "config": name,
                "registered_name": name}  # fmt: skip
    public = _public_name(fn)
    name = public[1] if public is not None else fn.__name__
    # Keras 3 writes built-in (and unregistered) functions under module "builtins".
    return {"module": "builtins", "class_name": "function", "config": name,
            "registered_name": "function"}  # fmt: skip


def _serialize_class_reference(cls: type) -> dict:
    public = _public_name(cls)
    if public is not None:
        return {"module": public[0], "class_name": "function", "config": public[1],
                "registered_name": "function"}  # fmt: skip
    name = _reg.get_registered_name(cls)
    return {"module": cls.__module__, "class_name": "function", "config": name,
            "registered_name": name}  # fmt: skip


def _dump_function(fn: types.FunctionType) -> tuple:
    code = base64.b64encode(marshal.dumps(fn.__code__)).decode("ascii")
    closure = tuple(c.cell_contents for c in fn.__closure__) if fn.__closure__ else None
    return code, fn.__defaults__, closure


def _load_function(code: str, defaults=None, closure=None) -> types.FunctionType:
    """Rebuild a lambda from its marshalled bytecode (only reached with safe_mode off)."""
    import rill

    raw = marshal.loads(base64.b64decode(code.encode("ascii")))
    cells = None
    if closure is not None:
        cells = tuple(types.CellType(v) for v in closure)
    globs = {"__builtins__": builtins, "tf": rill, "rill": rill, "np": np, "keras": rill.keras}
    return types.FunctionType(
        raw, globs, name=raw.co_name, argdefs=tuple(defaults) if defaults else None, closure=cells
    )


def lambda_config(fn: types.FunctionType) -> dict:
    """A ``Lambda`` layer's function: ``__lambda__`` bytecode, or a function reference."""
    if isinstance(fn, types.FunctionType) and fn.__name__ == "<lambda>":
        code, defaults, closure = _dump_function(fn)
        return {"class_name": "__lambda__",
                "config": {"code": code, "defaults": defaults, "closure": closure}}  # fmt: skip
    return serialize_keras_object(fn)


def load_lambda(config: Any, custom_objects: dict | None = None, safe_mode: bool | None = None):
    """Inverse of ``lambda_config``; refuses bytecode unless safe mode is off."""
    if isinstance(config, dict) and config.get("class_name") == "__lambda__":
        effective = safe_mode if safe_mode is not None else in_safe_mode()
        if effective is not False:  # unset counts as safe: fail closed
            raise ValueError(_LAMBDA_REFUSED)
        inner = config["config"]
        if "value" in inner:
            return _load_function(*inner["value"])
        return _load_function(inner["code"], inner.get("defaults"), inner.get("closure"))
    return deserialize_keras_object(config, custom_objects=custom_objects)


def is_functional(obj: Any) -> bool:
    """A model built as ``keras.Model(inputs, outputs)``."""
    return getattr(obj, "_graph", None) is not None


# --------------------------------------------------------- build and compile configs
def _attach_build_and_compile_config(obj: Any, config: dict) -> None:
    build = get_build_config(obj)
    if build is not None:
        config["build_config"] = _serialize_dict(build)
    compile_config = get_compile_config(obj)
    if compile_config:
        config["compile_config"] = _serialize_dict(compile_config)


def get_build_config(obj: Any) -> dict | None:
    """``{"input_shape": ...}`` of a built layer (its own ``get_build_config`` first)."""
    if hasattr(obj, "get_build_config"):
        return obj.get_build_config()
    if not getattr(obj, "built", False):
        return None
    shape = getattr(obj, "_build_input_shape", None)
    if shape is None:
        shape = getattr(obj, "_input_batch_shape", None)  # Sequential's declared input
    if shape is None and type(obj).__name__ == "Sequential" and getattr(obj, "layers", None):
        shape = getattr(obj.layers[0], "_batch_input_shape", None)
    if shape is None:
        return None
    return {"input_shape": serialize_keras_object(_shape_list(shape))}


def _shape_list(shape: Any) -> Any:
    from rill.core.tensor_shape import TensorShape

    if isinstance(shape, TensorShape):
        return shape.as_list()
    if isinstance(shape, (list, tuple)):
        if all(d is None or isinstance(d, int) for d in shape):
            return list(shape)
        return [_shape_list(s) for s in shape]  # several inputs
    if isinstance(shape, dict):
        return {k: _shape_list(v) for k, v in shape.items()}
    return shape


def get_compile_config(model: Any) -> dict | None:
    """The arguments ``model`` was compiled with, serialized (Keras 3's keys)."""
    if hasattr(model, "get_compile_config"):
        return model.get_compile_config()
    if not getattr(model, "_compiled", False) or getattr(model, "optimizer", None) is None:
        return None
    args = getattr(model, "_compile_args", None)
    if args is not None:  # Keras 3 records the optimizer object, not the string given
        args = {**args, "optimizer": model.optimizer}
    else:  # reconstructed from what compile() kept
        metrics = [m for m in getattr(model, "_compiled_metrics", [])]
        args = {
            "optimizer": model.optimizer,
            "loss": getattr(model, "loss", None),
            "loss_weights": None,
            "metrics": metrics or None,
            "weighted_metrics": None,
            "run_eagerly": bool(getattr(model, "_run_eagerly", False)),
            "steps_per_execution": 1,
            "jit_compile": False,
        }
    return {k: serialize_keras_object(v) for k, v in args.items()}


def build_from_config(obj: Any, config: dict) -> None:
    """Create ``obj``'s weights from its ``build_config``."""
    if hasattr(obj, "build_from_config"):
        obj.build_from_config(config)
        return
    shape = config.get("input_shape") if config else None
    if shape is None:
        return
    from rill.keras.layer import Layer
    from rill.keras.models import Model

    if isinstance(obj, Model) and type(obj).build is Layer.build:
        # a subclassed model creates its weights by running `call`: trace it once
        Layer.compute_output_shape(obj, shape)
    else:
        obj.build(shape)
    obj.built = True


_COMPILE_KEYS = ("optimizer", "loss", "loss_weights", "metrics", "weighted_metrics",
                 "run_eagerly", "steps_per_execution", "jit_compile")  # fmt: skip


def compile_from_config(model: Any, config: dict) -> None:
    """``model.compile(**config)``, then build the optimizer so its state can be loaded."""
    if hasattr(model, "compile_from_config"):
        model.compile_from_config(config)
        return
    args = deserialize_keras_object(config)
    model.compile(**{k: v for k, v in args.items() if k in _COMPILE_KEYS})
    if model.built and model.optimizer is not None:
        model.optimizer.build(model.trainable_variables)


def dtype_policy_config(name: str) -> dict:
    """A layer's ``dtype`` as Keras 3 writes it (a ``DTypePolicy``)."""
    return {"module": "keras", "class_name": "DTypePolicy", "config": {"name": name},
            "registered_name": None}  # fmt: skip


def dtype_name(dtype: Any) -> Any:
    """A dtype name from a string, a DType or Keras 3's ``DTypePolicy`` dict."""
    if isinstance(dtype, dict):
        return (dtype.get("config") or {}).get("name", "float32")
    return dtype


# ------------------------------------------------------------------------ deserializing
def deserialize_keras_object(
    config: Any, custom_objects: dict | None = None, safe_mode: bool = True, **kwargs: Any
) -> Any:
    """The object described by ``config`` (the inverse of ``serialize_keras_object``).

    Names resolve only through ``custom_objects``, the custom-object scope, the registry and
    rill's built-ins (``module_objects=`` restricts the built-ins to one table)."""
    scoped = in_safe_mode()
    safe_mode = scoped if scoped is not None else safe_mode
    module_objects = kwargs.pop("module_objects", None)
    kind = kwargs.pop("kind", None)
    custom = {**(custom_objects or {}), **_reg._scope_objects(), **_reg.get_custom_objects()}
    return _deserialize(config, custom, safe_mode, module_objects, kind)


def _deserialize(config, custom, safe_mode, module_objects, kind):
    if config is None:
        return None
    if isinstance(config, str) and custom.get(config) is not None:
        return custom[config]  # plain functions saved by name
    if isinstance(config, (list, tuple)):
        return [_deserialize(x, custom, safe_mode, module_objects, kind) for x in config]
    if isinstance(config, PLAIN_TYPES):
        if module_objects is not None and isinstance(config, str) and config in module_objects:
            return module_objects[config]
        return config
    if not isinstance(config, dict):
        raise TypeError(f"Could not parse config: {config!r}")
    if "class_name" not in config or "config" not in config:
        if module_objects is not None and "class_name" in config:
            config = {**config, "config": {}}  # catalogs accept {"class_name": ...} alone
        else:
            return {
                k: _deserialize(v, custom, safe_mode, module_objects, kind)
                for k, v in config.items()
            }
    class_name = config["class_name"]
    inner = config["config"] if config["config"] is not None else {}
    special = _deserialize_special(class_name, inner, config, custom, safe_mode)
    if special is not _NOT_SPECIAL:
        return special
    module = config.get("module")
    registered = config.get("registered_name") or class_name
    if class_name == "function":
        if not isinstance(inner, str):
            raise TypeError(f"Expected a function name as 'config', got {inner!r}: {config}")
        return _retrieve(inner, registered, module, "function", config, custom,
                         module_objects, kind)  # fmt: skip
    if not isinstance(inner, dict):
        raise TypeError(f"Expected 'config' to be a dict for {class_name}, got {inner!r}: {config}")
    cls = _retrieve(class_name, registered, module, "class", config, custom, module_objects, kind)
    if not isinstance(cls, type):
        return cls  # a function (or instance) registered under a class name
    if not hasattr(cls, "from_config"):
        raise TypeError(
            f"Unable to reconstruct an instance of '{class_name}': the class has no "
            f"`from_config()` method. Full object config: {config}"
        )
    inner = _adapt_config(cls, inner)
    with _reg.CustomObjectScope(custom), SafeModeScope(safe_mode):
        try:
            instance = cls.from_config(inner)
        except TypeError as e:
            raise TypeError(
                f"{cls.__name__} could not be deserialized properly: {e}. Components that "
                "are objects (layers, models...) returned by `get_config()` must be "
                f"deserialized explicitly in `from_config()`.\n\nconfig={config}"
            ) from e
        build = config.get("build_config")
        if build and not getattr(instance, "built", True):
            build_from_config(instance, build)
        compile_config = config.get("compile_config")
        if compile_config:
            compile_from_config(instance, compile_config)
    return instance


def _deserialize_special(class_name, inner, config, custom, safe_mode):
    if class_name == "__numpy__":
        return np.array(inner["value"], dtype=inner["dtype"])
    if class_name == "__tensor__":
        from rill.core.convert import convert_to_tensor

        return convert_to_tensor(np.array(inner["value"], dtype=inner["dtype"]))
    if class_name == "__bytes__":
        return inner["value"].encode("utf-8")
    if class_name == "__ellipsis__":
        return Ellipsis
    if class_name == "__slice__":
        parts = [
            _deserialize(inner[k], custom, safe_mode, None, None) for k in ("start", "stop", "step")
        ]
        return slice(*parts)
    if class_name == "__lambda__":
        if safe_mode is not False:
            raise ValueError(_LAMBDA_REFUSED)
        if "value" in inner:
            return _load_function(*inner["value"])
        return _load_function(inner["code"], inner.get("defaults"), inner.get("closure"))
    if class_name == "__keras_tensor__":
        from rill.keras.keras_tensor import KerasTensor

        tensor = KerasTensor(inner["shape"], dtype=inner["dtype"])
        tensor._pre_serialization_keras_history = inner.get("keras_history")
        return tensor
    if class_name in _DTYPE_POLICY_CLASSES and _is_builtin_keras_module(config.get("module")):
        return dtype_name(config)  # rill layers take a dtype name
    if class_name == "__typespec__":
        raise TypeError(f"TypeSpec configs are not supported by rill: {config}")
    return _NOT_SPECIAL


def _retrieve(name, registered, module, obj_type, full_config, custom, module_objects, kind):
    """The class/function for ``name``: custom and registered objects first, then rill's
    built-in tables. Never imports anything."""
    key = name if obj_type == "function" else registered
    for candidate in (key, name):
        if candidate in custom:
            return custom[candidate]
    if obj_type == "function" and ">" not in name:
        # Keras <= 3.6 saved registered functions by bare name
        for k, v in custom.items():
            if k.endswith(f">{name}"):
                return v
    if module_objects is not None:  # a catalog: only its own table
        if name in module_objects:
            return module_objects[name]
        valid = sorted(k for k in module_objects if isinstance(k, str))
        raise ValueError(
            f"Unknown {kind} class: {name!r}. Valid names: {valid}. Pass custom objects "
            "through `custom_objects` or register them with "
            "`@keras.saving.register_keras_serializable()`."
        )
    if _is_builtin_keras_module(module):
        tables = _builtin_tables()
        if obj_type == "function":
            order = [module] if module in tables else []
            order += [m for m in _FUNCTION_MODULES if m not in order]
            for m in order:
                obj = tables[m].get(name)
                if obj is not None and not isinstance(obj, type):
                    return obj
        else:
            if module in tables and name in tables[module]:
                return tables[module][name]
            for table in tables.values():
                obj = table.get(name)
                if isinstance(obj, type):
                    return obj
    raise TypeError(
        f"Could not locate {obj_type} '{name}'. Make sure custom classes and functions are "
        "decorated with `@keras.saving.register_keras_serializable()` (and imported before "
        "loading), or pass them in `custom_objects`. rill never imports a module named in "
        f"a config. Full object config: {full_config}"
    )


def _adapt_config(cls: type, inner: dict) -> dict:
    """Drop a ``None`` (default) value of an argument this rill class doesn't take: newer
    Keras versions add optional arguments (e.g. an initializer's ``input_axes``)."""
    try:
        params = inspect.signature(cls.__init__).parameters
    except (TypeError, ValueError):
        return inner
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return inner
    return {k: v for k, v in inner.items() if k in params or v is not None}


# -------------------------------------------------------------- the catalogs' helpers
def serialize_catalog(obj: Any, table: dict, kind: str) -> Any:
    """A catalog's ``serialize``: ``None`` stays ``None``; a built-in function of ``table``
    is written as its name; objects with ``get_config`` in Keras 3's dict format."""
    if obj is None:
        return None
    if not isinstance(obj, type):
        for name, value in table.items():
            if value is obj:
                return name
    if isinstance(obj, types.FunctionType) and obj.__name__ != "<lambda>":
        return _reg.get_registered_name(obj)
    if hasattr(obj, "get_config") and not isinstance(obj, type):
        return serialize_keras_object(obj)
    if callable(obj) and hasattr(obj, "__name__") and obj.__name__ != "<lambda>":
        return _reg.get_registered_name(obj)
    raise ValueError(
        f"Cannot serialize {kind} {obj!r}: not a built-in {kind}, a registered function, "
        "nor an object with `get_config()`."
    )


def deserialize_catalog(
    config: Any,
    table: dict,
    kind: str,
    custom_objects: dict | None = None,
    instantiate: bool = True,
) -> Any:
    """A catalog's ``deserialize``: a name or a ``{"class_name", "config"}`` dict (Keras 3's
    ``module`` / ``registered_name`` keys accepted), resolved through ``custom_objects``,
    the scope, the registry and ``table`` only. Class names given as strings are
    instantiated with no arguments when ``instantiate``."""
    if isinstance(config, str):
        obj = _reg.get_registered_object(config, custom_objects, table)
        if obj is None:
            raise ValueError(
                f"Unknown {kind}: {config!r}. Valid names: {sorted(table)}. Pass custom "
                "objects through `custom_objects` or register them with "
                "`@keras.saving.register_keras_serializable()`."
            )
        return obj() if instantiate and isinstance(obj, type) else obj
    if isinstance(config, dict):
        if "class_name" not in config:
            raise ValueError(f"Could not interpret serialized {kind}: {config!r}")
        return deserialize_keras_object(
            config, custom_objects=custom_objects, module_objects=table, kind=kind
        )
    raise TypeError(f"Could not interpret serialized {kind}: {config!r}")


def get_catalog(
    identifier: Any,
    table: dict,
    kind: str,
    default: Any = None,
    instantiate: bool = True,
    instance_types: tuple = (),
) -> Any:
    """A catalog's ``get``: ``None`` gives ``default``; names and dicts deserialize;
    classes are instantiated; callables (and ``instance_types``) pass through."""
    if identifier is None:
        return default
    if isinstance(identifier, (str, dict)):
        return deserialize_catalog(identifier, table, kind, instantiate=instantiate)
    if isinstance(identifier, type) and instantiate:
        return identifier()
    if callable(identifier) or isinstance(identifier, instance_types):
        return identifier
    raise ValueError(f"Could not interpret {kind} identifier: {identifier!r}")
