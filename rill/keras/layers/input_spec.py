"""``keras.layers.InputSpec`` and the input checks a layer runs before its ``call``.

A layer sets ``self.input_spec`` (one spec, or one per input) to the rank, dtype, shape or
particular axis sizes it accepts; every call, eager or symbolic, checks its inputs against
it (``Layer.__call__``, before and after ``build``) and raises ``ValueError`` naming the
layer, the input and both shapes, in Keras 3's words. ``SpecLayer`` names layers as Keras
does (the layers of this package derive from it).
"""

from __future__ import annotations

import re

from rill.core import nest
from rill.core.dtypes import as_dtype
from rill.keras.layer import Layer, unique_name

__all__ = ["InputSpec", "SpecLayer", "assert_input_compatibility"]


class InputSpec:
    """What a layer accepts as an input: ``ndim``/``min_ndim``/``max_ndim``, ``dtype``,
    a full ``shape`` (``None`` for any size), or sizes of some ``axes`` ({axis: size})."""

    def __init__(
        self,
        dtype=None,
        shape=None,
        ndim=None,
        max_ndim=None,
        min_ndim=None,
        axes=None,
        allow_last_axis_squeeze=False,
        name=None,
        optional=False,
    ):
        self.dtype = as_dtype(dtype).name if dtype is not None else None
        if shape is not None:
            self.shape = tuple(None if d is None else int(d) for d in shape)
            self.ndim = len(self.shape)
        else:
            self.shape = None
            self.ndim = ndim
        self.max_ndim = max_ndim
        self.min_ndim = min_ndim
        self.name = name
        self.optional = optional
        self.allow_last_axis_squeeze = allow_last_axis_squeeze
        try:
            self.axes = {int(k): v for k, v in (axes or {}).items()}
        except (ValueError, TypeError) as e:
            raise TypeError(
                f"InputSpec: the keys of `axes` must be integers, got axes={axes!r}"
            ) from e
        if self.axes and (self.ndim is not None or self.max_ndim is not None):
            top = (self.ndim if self.ndim is not None else self.max_ndim + 1) - 1
            if max(self.axes) > top:
                raise ValueError(
                    f"InputSpec: axis {max(self.axes)} in `axes` is out of range for "
                    f"ndim={self.ndim}, max_ndim={self.max_ndim}."
                )

    def __repr__(self):
        parts = [
            f"{k}={v}"
            for k, v in (
                ("dtype", self.dtype),
                ("shape", self.shape),
                ("ndim", self.ndim),
                ("max_ndim", self.max_ndim),
                ("min_ndim", self.min_ndim),
                ("axes", self.axes or None),
            )
            if v is not None
        ]
        return f"InputSpec({', '.join(parts)})"

    def get_config(self):
        return {
            "dtype": self.dtype,
            "shape": self.shape,
            "ndim": self.ndim,
            "max_ndim": self.max_ndim,
            "min_ndim": self.min_ndim,
            "axes": self.axes,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _dims(x):
    shape = getattr(x, "shape", None)
    if shape is None:
        return None
    try:
        return [None if d is None else int(d) for d in shape]
    except TypeError:  # unknown rank
        return None


def _fmt(dims):
    return tuple(dims)


def assert_input_compatibility(input_spec, inputs, layer_name, layer_class=None):
    """Raise ValueError, with Keras 3's messages, if ``inputs`` do not satisfy
    ``input_spec`` (one spec, or a list: one per input; a dict of inputs is matched to
    the specs' names)."""
    if not input_spec:
        return
    specs = list(nest.flatten(input_spec))
    if isinstance(inputs, dict):
        names = [getattr(spec, "name", None) for spec in specs]
        if all(names):
            missing = [n for n in names if n not in inputs]
            if missing:
                raise ValueError(
                    f'Missing data for input "{missing[0]}". You passed a data dictionary with '
                    f"keys {list(inputs)}. Expected the following keys: {names}"
                )
            inputs = [inputs[n] for n in names]
    flat = nest.flatten(inputs)
    if len(flat) != len(specs):
        names = [spec.name for spec in specs if spec is not None]
        if len(names) == len(specs) and all(names):
            keys = ", ".join(f"'{n}': ..." for n in names)
            raise ValueError(
                f'Layer "{layer_name}" expects {len(specs)} named input(s) with keys {names}, '
                f"but it received {len(flat)} input tensors. Pass inputs as a dict, e.g. "
                f"`layer({{{keys}}})`."
            )
        raise ValueError(
            f'Layer "{layer_name}" expects {len(specs)} input(s), but it received '
            f"{len(flat)} input tensors. Inputs received: {inputs}"
        )
    for i, (x, spec) in enumerate(zip(flat, specs)):
        if spec is None or (x is None and spec.optional):
            continue
        if not hasattr(x, "shape"):
            raise ValueError(
                f"Inputs to a layer should be tensors. Got '{x}' (of type {type(x)}) as input "
                f"for layer '{layer_name}'."
            )
        dims = _dims(x)
        if dims is None:  # unknown rank: nothing to check
            continue
        shape = _fmt(dims)
        head = (
            f"Input {i} with name '{spec.name}' of layer '{layer_name}' is incompatible with "
            "the layer:"
        )
        ndim = len(dims)
        if spec.ndim is not None and not spec.allow_last_axis_squeeze and ndim != spec.ndim:
            raise ValueError(
                f"{head} expected ndim={spec.ndim}, found ndim={ndim}. Full shape received: {shape}"
            )
        if spec.max_ndim is not None and ndim > spec.max_ndim:
            raise ValueError(f"{head} expected max_ndim={spec.max_ndim}, found ndim={ndim}")
        if spec.min_ndim is not None and ndim < spec.min_ndim:
            raise ValueError(
                f"{head} expected min_ndim={spec.min_ndim}, found ndim={ndim}. Full shape "
                f"received: {shape}"
            )
        if spec.dtype is not None:
            dtype = getattr(x, "dtype", None)
            dtype = getattr(dtype, "name", None) or (None if dtype is None else str(dtype))
            if dtype is not None and dtype != spec.dtype:
                raise ValueError(f"{head} expected dtype={spec.dtype}, found dtype={dtype}")
        for axis, value in (spec.axes or {}).items():
            if value is None:
                continue
            if not -ndim <= axis < ndim:
                raise ValueError(
                    f"{head} expected axis {axis} of input shape to have value {value}, but "
                    f"received input with shape {shape}"
                )
            if dims[axis] is not None and dims[axis] != value:
                raise ValueError(
                    f"{head} expected axis {axis} of input shape to have value {value}, but "
                    f"received input with shape {shape}"
                )
        if spec.shape is not None:
            want, have = list(spec.shape), list(dims)
            if spec.allow_last_axis_squeeze:
                if have and have[-1] == 1:
                    have = have[:-1]
                if want and want[-1] == 1:
                    want = want[:-1]
            for w, h in zip(want, have):
                if w is not None and h is not None and w != h:
                    raise ValueError(
                        f"{head} expected shape={spec.shape}, found shape={tuple(have)}"
                    )


def keras_snake(name: str) -> str:
    """Keras' default layer name for a class name: ``Conv2D`` -> ``conv2d``, ``PReLU`` ->
    ``p_re_lu`` (a digit does not start a new word)."""
    s = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", re.sub(r"\W+", "", name))
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", s).lower()


class SpecLayer(Layer):
    """A Layer named by default as Keras names it (``Conv2D`` -> ``conv2d``); the
    ``input_spec`` it sets is checked by ``Layer.__call__``."""

    def __init__(self, *args, **kwargs):
        if kwargs.get("name") is None:
            kwargs["name"] = unique_name(keras_snake(type(self).__name__))
        super().__init__(*args, **kwargs)
