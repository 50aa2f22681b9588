"""``keras.layers.InputSpec`` and the input checks a layer runs before its ``call``.

A layer sets ``self.input_spec`` (one spec, or one per input) to the rank, dtype, shape or
particular axis sizes it accepts; every call, eager or symbolic, checks its inputs against
it first and raises ``ValueError`` naming the layer, the input and both shapes.
``SpecLayer`` is the Layer subclass that runs the check (the layers of this package derive
from it).
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
    """Raise ValueError if ``inputs`` do not satisfy ``input_spec`` (one spec or a list)."""
    if not input_spec:
        return
    who = f'"{layer_name}"' + (f" ({layer_class})" if layer_class else "")
    specs = list(nest.flatten(input_spec))
    flat = nest.flatten(inputs)
    if len(flat) != len(specs):
        raise ValueError(
            f"Layer {who} expects {len(specs)} input(s), but it received "
            f"{len(flat)} input tensors. Inputs received: {inputs}"
        )
    for i, (x, spec) in enumerate(zip(flat, specs)):
        if spec is None:
            continue
        if x is None:
            if spec.optional:
                continue
            raise ValueError(f"Input {i} of layer {who} is None, which it does not accept.")
        dims = _dims(x)
        if dims is None:
            continue
        head = f"Input {i} of layer {who} is incompatible with the layer:"
        ndim = len(dims)
        if spec.ndim is not None and not spec.allow_last_axis_squeeze and ndim != spec.ndim:
            raise ValueError(
                f"{head} expected ndim={spec.ndim}, found ndim={ndim}. Full shape received: "
                f"{_fmt(dims)}"
            )
        if spec.max_ndim is not None and ndim > spec.max_ndim:
            raise ValueError(
                f"{head} expected max_ndim={spec.max_ndim}, found ndim={ndim}. Full shape "
                f"received: {_fmt(dims)}"
            )
        if spec.min_ndim is not None and ndim < spec.min_ndim:
            raise ValueError(
                f"{head} expected min_ndim={spec.min_ndim}, found ndim={ndim}. Full shape "
                f"received: {_fmt(dims)}"
            )
        if spec.dtype is not None:
            dtype = getattr(getattr(x, "dtype", None), "name", None)
            if dtype is not None and dtype != spec.dtype:
                raise ValueError(
                    f"{head} expected dtype={spec.dtype}, found dtype={dtype}. Full shape "
                    f"received: {_fmt(dims)}"
                )
        for axis, value in spec.axes.items():
            if value is None:
                continue
            if not -ndim <= axis < ndim:
                raise ValueError(
                    f"{head} expected axis {axis} of the input to have value {value}, but the "
                    f"input has only {ndim} dimensions. Full shape received: {_fmt(dims)}"
                )
            got = dims[axis]
            if got is not None and got != value:
                raise ValueError(
                    f"{head} expected axis {axis} of the input to have value {value}, but "
                    f"received input with shape {_fmt(dims)}"
                )
        if spec.shape is not None:
            want = list(spec.shape)
            have = dims
            if spec.allow_last_axis_squeeze:
                if have and have[-1] == 1:
                    have = have[:-1]
                if want and want[-1] == 1:
                    want = want[:-1]
            if len(want) != len(have) or any(
                w is not None and h is not None and w != h for w, h in zip(want, have)
            ):
                raise ValueError(
                    f"{head} expected shape={tuple(spec.shape)}, found shape={_fmt(dims)}"
                )


def keras_snake(name: str) -> str:
    """Keras' default layer name for a class name: ``Conv2D`` -> ``conv2d``, ``PReLU`` ->
    ``p_re_lu`` (a digit does not start a new word)."""
    s = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", re.sub(r"\W+", "", name))
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", s).lower()


class SpecLayer(Layer):
    """A Layer whose ``input_spec`` (settable) is checked on every call, named by default
    as Keras names it."""

    def __init__(self, *args, **kwargs):
        if kwargs.get("name") is None:
            kwargs["name"] = unique_name(keras_snake(type(self).__name__))
        super().__init__(*args, **kwargs)

    @property
    def input_spec(self):
        return self.__dict__.get("_input_spec")

    @input_spec.setter
    def input_spec(self, value):
        self.__dict__["_input_spec"] = value

    def compute_mask(self, inputs, mask=None):
        """The mask of the outputs: the input mask for layers that support masking (they
        keep the timesteps), else None."""
        return mask if self.supports_masking else None

    def __call__(self, inputs, *args, **kwargs):
        spec = self.__dict__.get("_input_spec")
        if spec is not None:
            assert_input_compatibility(spec, inputs, self.name, type(self).__name__)
        return super().__call__(inputs, *args, **kwargs)
