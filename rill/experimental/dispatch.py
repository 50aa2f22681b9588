"""``tf.experimental.dispatch_for_api`` and friends: TF's ops on user-defined types.

A dispatch target registered for an API (``tf.math.add``...) runs instead of it when the
call's arguments match the target's signature (the types named for some of its
parameters; unnamed parameters take anything). Built on rill's internal
``rill.ops._op.dispatch_for`` table: the target's handler checks the whole signature and,
when it does not match, hands the call to the next handler (RaggedTensor's, ...) or to the
op itself.
"""

from __future__ import annotations

import functools
import inspect
import typing

from rill.ops import _op
from rill.ops._op import EXPORTS, dispatch_for, tf_export

__all__ = [
    "dispatch_for_api", "dispatch_for_unary_elementwise_apis",
    "dispatch_for_binary_elementwise_apis", "dispatch_for_binary_elementwise_assert_apis",
    "unregister_dispatch_for",
]  # fmt: skip

# dispatch target -> [(op, handler)] (one target may serve many ops: the elementwise ones)
_TARGETS: dict = {}

_ASSERTS = (
    "assert_equal", "assert_none_equal", "assert_less", "assert_less_equal",
    "assert_greater", "assert_greater_equal",
)  # fmt: skip


def _undecorated(api):
    """The op behind ``api`` (the public name may already be a dispatch wrapper)."""
    if hasattr(api, "_table") and hasattr(api, "__wrapped__"):
        return api.__wrapped__
    return api


def _public(fn):
    """What users call for op ``fn``: its dispatch wrapper once it has one."""
    return _op._DISPATCHERS.get(fn, fn)


def _api_name(fn) -> str:
    for (ns, leaf), obj in EXPORTS.items():
        if obj is fn or getattr(obj, "__wrapped__", None) is fn:
            return f"tf.{ns}.{leaf}" if ns else f"tf.{leaf}"
    return getattr(fn, "__name__", repr(fn))


def _check_api(api):
    fn = _undecorated(api)
    if not any(obj is fn or getattr(obj, "__wrapped__", None) is fn for obj in EXPORTS.values()):
        raise ValueError(f"{api!r} does not support dispatch: it is not a TensorFlow API.")
    return fn


# --------------------------------------------------------------------------------------
# signatures
# --------------------------------------------------------------------------------------


def _types_in(ann) -> list:
    """The classes an annotation names (inside Union, Optional, List, Iterable)."""
    args = typing.get_args(ann)
    if args:
        return [t for a in args for t in _types_in(a)]
    return [ann] if isinstance(ann, type) else []


def _matches(value, ann) -> bool:
    origin, args = typing.get_origin(ann), typing.get_args(ann)
    if origin is None:
        return isinstance(value, ann) if isinstance(ann, type) else value is ann
    if origin is typing.Union or type(ann).__name__ == "UnionType":
        return any(_matches(value, a) for a in args)
    if origin in (list, tuple) or origin.__name__ in (
        "Iterable", "Sequence"
    ):  # fmt: skip
        if not isinstance(value, (list, tuple)) or not args:
            return False
        return all(_matches(v, args[0]) for v in value)
    return isinstance(value, origin)


def _signature_from_annotations(api_fn, target) -> dict:
    hints = typing.get_type_hints(target)
    hints.pop("return", None)
    api_params = list(inspect.signature(api_fn).parameters)
    sig = {k: v for k, v in hints.items() if k in api_params}
    if not sig:
        raise ValueError(
            f"dispatch_for_api: {target.__name__} has no type annotations naming parameters "
            f"of {_api_name(api_fn)} (its parameters: {api_params}); annotate them or pass "
            "signatures."
        )
    return sig


def _check_signature(api_fn, target, signature: dict) -> None:
    api_params = list(inspect.signature(api_fn).parameters)
    for name in signature:
        if name not in api_params:
            raise ValueError(
                f"dispatch_for_api: signature names parameter {name!r}, which "
                f"{_api_name(api_fn)} does not have (its parameters: {api_params})."
            )
    tparams = list(inspect.signature(target).parameters)
    if tparams != api_params:
        raise ValueError(
            f"Dispatch function's signature {tparams} does not match API's signature "
            f"{api_params} for {_api_name(api_fn)}."
        )


def _bind(api_fn, args, kwargs) -> dict | None:
    try:
        return inspect.signature(api_fn).bind(*args, **kwargs).arguments
    except TypeError:
        return None


def _fall_through(fn, handler, args, kwargs):
    """The call as if ``handler`` were not registered: the next handler whose type the
    dispatching argument has, else the op itself."""
    after = False
    values = list(args) + list(kwargs.values())
    for cls, h in _op.dispatch_handlers(fn):
        if h is handler:
            after = True
            continue
        if after and _op._find_handler([(cls, h)], values) is h:
            return h(*args, **kwargs)
    return fn(*args, **kwargs)


def _mark_dispatching(types) -> None:
    """rill's op wrappers look for a ``_rill_dispatch`` argument before they search their
    tables; user types get the flag (types that refuse attributes keep theirs)."""
    for t in types:
        if t.__module__.split(".")[0] in ("rill", "builtins", "numpy"):
            continue  # rill's own types dispatch already, or (Tensor) never
        if not getattr(t, "_rill_dispatch", False):
            try:
                t._rill_dispatch = True
            except (TypeError, AttributeError):
                pass


def _register(fn, target, types, handler) -> None:
    _mark_dispatching(types)
    dispatch_for(fn, tuple(types))(handler)
    _TARGETS.setdefault(target, []).append((fn, handler))


# --------------------------------------------------------------------------------------
# public decorators
# --------------------------------------------------------------------------------------


@tf_export("experimental.dispatch_for_api")
def dispatch_for_api(api, *signatures):
    """Decorator: run the decorated function instead of ``api`` when the arguments match
    one of ``signatures`` (dicts ``{parameter: type}``; by default, the function's own
    parameter annotations). The function must take ``api``'s parameters."""
    fn = _check_api(api)

    def deco(target):
        sigs = list(signatures) or [_signature_from_annotations(fn, target)]
        for s in sigs:
            if not isinstance(s, dict):
                raise TypeError(f"signatures must be dicts of parameter: type, got {s!r}")
            _check_signature(fn, target, s)
        types = [t for s in sigs for ann in s.values() for t in _types_in(ann)]

        def handler(*args, **kwargs):
            bound = _bind(fn, args, kwargs)
            if bound is not None and any(
                all(k in bound and _matches(bound[k], ann) for k, ann in s.items()) for s in sigs
            ):
                return target(*args, **kwargs)
            return _fall_through(fn, handler, args, kwargs)

        _register(fn, target, types, handler)
        return target

    return deco


def _elementwise(names, namespaces=("", "math", "nn")) -> list:
    out, seen = [], set()
    for name in names:
        for ns in namespaces:
            obj = EXPORTS.get((ns, name))
            if obj is not None:
                fn = _undecorated(obj)
                if fn not in seen:
                    seen.add(fn)
                    out.append(fn)
                break
    return out


def _operands(fn, n, args, kwargs):
    """(the first ``n`` parameters' values, the other arguments by name without
    ``name``), or None when the call does not bind."""
    bound = _bind(fn, args, kwargs)
    if bound is None:
        return None
    bound = dict(bound)
    bound.pop("name", None)
    params = list(inspect.signature(fn).parameters)[:n]
    if any(p not in bound for p in params):
        return None
    return [bound.pop(p) for p in params], bound


def _elementwise_deco(api_names, types, n, namespaces=("", "math", "nn")):
    def deco(target):
        for fn in _elementwise(api_names, namespaces):

            def handler(*args, _fn=fn, **kwargs):
                split = _operands(_fn, n, args, kwargs)
                if split is not None:
                    ops, rest = split
                    if all(_matches(o, t) for o, t in zip(ops, types)):
                        api = _public(_fn)
                        api_func = functools.partial(api, **rest) if rest else api
                        return target(api_func, *ops)
                return _fall_through(_fn, handler, args, kwargs)

            handler._rill_fn = fn
            _register(fn, target, [t for ann in types for t in _types_in(ann)], handler)
        return target

    return deco


def _unary_names():
    from rill.structures.ragged_ops import _UNARY

    return _UNARY


def _binary_names():
    from rill.structures.ragged_ops import _BINARY

    return _BINARY


@tf_export("experimental.dispatch_for_unary_elementwise_apis")
def dispatch_for_unary_elementwise_apis(x_type):
    """Decorator: ``handler(api_func, x)`` runs every unary elementwise op (``tf.math.abs``,
    ``tf.math.exp``, ``tf.cast``...) called with an ``x`` of ``x_type``; ``api_func`` is the
    op with its other arguments bound."""
    return _elementwise_deco(_unary_names(), [x_type], 1)


@tf_export("experimental.dispatch_for_binary_elementwise_apis")
def dispatch_for_binary_elementwise_apis(x_type, y_type):
    """Decorator: ``handler(api_func, x, y)`` runs every binary elementwise op
    (``tf.math.add``, ``tf.math.maximum``, comparisons...) called with ``x`` of ``x_type``
    and ``y`` of ``y_type``."""
    return _elementwise_deco(_binary_names(), [x_type, y_type], 2)


@tf_export("experimental.dispatch_for_binary_elementwise_assert_apis")
def dispatch_for_binary_elementwise_assert_apis(x_type, y_type):
    """Decorator: ``handler(assert_func, x, y)`` runs the elementwise assertions
    (``tf.debugging.assert_equal``, ``assert_less``...) on ``x_type`` and ``y_type``."""
    return _elementwise_deco(_ASSERTS, [x_type, y_type], 2, namespaces=("debugging", ""))


@tf_export("experimental.unregister_dispatch_for")
def unregister_dispatch_for(dispatch_target) -> None:
    """Remove every dispatch registration of ``dispatch_target`` (ValueError if none)."""
    entries = _TARGETS.pop(dispatch_target, None)
    if not entries:
        raise ValueError(
            f"Function {dispatch_target} was not registered using a `@dispatch_for_*` decorator."
        )
    for fn, handler in entries:
        _op.remove_dispatch(fn, handler)
