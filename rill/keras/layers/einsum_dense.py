"""EinsumDense (a dense layer given by an einsum equation) and Identity."""

from __future__ import annotations

import re

import rill as tf
import rill.keras.layers.conv_utils as cu
from rill.keras import activations, constraints, initializers, regularizers
from rill.keras.layers.input_spec import SpecLayer

__all__ = ["EinsumDense", "Identity"]

_SIDE = r"(\.\.\.[a-zA-Z]*|[a-zA-Z]*\.\.\.|[a-zA-Z]+)"
_EQUATION = re.compile(rf"^{_SIDE},([a-zA-Z]+)->{_SIDE}$")


def analyze_einsum(equation, bias_axes, input_shape, output_shape, name="EinsumDense"):
    """(kernel shape, bias shape or None, full output shape) for ``equation`` applied to
    inputs of ``input_shape`` (with the batch dim), ``output_shape`` given without it.

    Dims elided by ``...`` pass through: on the left of the input they follow the batch
    dim, on the right they end the output.
    """
    m = _EQUATION.match(equation.replace(" ", ""))
    if m is None:
        raise ValueError(
            f"{name}: invalid einsum equation {equation!r}; expected the form 'ab,bc->ac' "
            "(an ellipsis '...' may start or end the input and output)."
        )
    inp, ker, out = m.groups()
    left, right = inp.startswith("..."), inp.endswith("...") and not inp.startswith("...")
    in_spec, out_spec = inp.replace("...", ""), out.replace("...", "")
    dims = list(input_shape)
    elided = len(dims) - len(in_spec) if "..." in inp else 0
    if elided < 0 or ("..." not in inp and len(dims) != len(in_spec)):
        raise ValueError(
            f"{name}: equation {equation!r} expects inputs of rank {len(in_spec)}"
            f"{' or more' if '...' in inp else ''}, got input shape {tuple(dims)}."
        )
    full = [dims[0], *([output_shape] if isinstance(output_shape, int) else output_shape)]
    if elided and left:
        full[1:1] = dims[1:elided]
    elif elided and right:
        full += dims[len(dims) - elided :]
    in_pos = {c: (i + elided if left else i) for i, c in enumerate(in_spec)}
    out_pos = {c: (len(full) - len(out_spec) + i if left else i) for i, c in enumerate(out_spec)}
    for c in in_spec:
        if c in out_pos:
            a, b = dims[in_pos[c]], full[out_pos[c]]
            if b is not None and a is not None and a != b:
                raise ValueError(
                    f"{name}: input shape and output shape do not match at shared dimension "
                    f"{c!r}: input shape is {a}, and output shape is {b}."
                )
            full[out_pos[c]] = a
    for c in out_spec:
        if c not in in_spec and c not in ker:
            raise ValueError(
                f"{name}: dimension {c!r} was specified in the output {out!r} but has no "
                f"corresponding dimension in the input {inp!r} or the kernel {ker!r}."
            )
    kernel = []
    for c in ker:
        if c in in_pos:
            kernel.append(dims[in_pos[c]])
        elif c in out_pos:
            kernel.append(full[out_pos[c]])
        else:
            raise ValueError(
                f"{name}: weight dimension {c!r} did not have a match in either the input "
                f"spec {inp!r} or the output spec {out!r}. For this layer, the weight must be "
                "fully specified."
            )
    bias = None
    if bias_axes:
        for c in bias_axes:
            if c not in out_spec:
                raise ValueError(
                    f"{name}: bias dimension {c!r} was requested, but is not part of the "
                    f"output spec {out!r}."
                )
        first = min(out_spec.index(c) for c in bias_axes)
        bias = [full[out_pos[c]] if c in bias_axes else 1 for c in out_spec[first:]]
        if right:
            bias += [1] * elided
    return kernel, bias, full


def _explicit(equation, rank):
    """``equation`` with its ellipsis spelled out in unused letters, for inputs of ``rank``."""
    eq = equation.replace(" ", "")
    if "..." not in eq:
        return eq
    inp = eq.split(",")[0]
    n = rank - len(inp.replace("...", ""))
    free = [c for c in "zyxwvutsrqponmlkjihgfedcbaZYXWVUTSRQPONMLKJIHGFEDCBA" if c not in eq]
    return eq.replace("...", "".join(free[:n]))


class EinsumDense(SpecLayer):
    """``activation(einsum(equation, inputs, kernel) + bias)``, the kernel's shape read
    from the equation, the inputs' shape and ``output_shape`` (without the batch dim)."""

    def __init__(
        self,
        equation,
        output_shape,
        activation=None,
        bias_axes=None,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        lora_rank=None,
        lora_alpha=None,
        gptq_unpacked_column_size=None,
        quantization_config=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if lora_rank is not None or quantization_config is not None:
            raise NotImplementedError(
                "EinsumDense: LoRA (`lora_rank`) and quantization are not supported by rill."
            )
        self.equation = equation
        self.partial_output_shape = (
            (output_shape,) if isinstance(output_shape, int) else tuple(output_shape)
        )
        self.bias_axes = bias_axes
        self.activation = activations.get(activation)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        if _EQUATION.match(equation.replace(" ", "")) is None:
            raise ValueError(
                f"EinsumDense: invalid einsum equation {equation!r}; expected the form "
                "'ab,bc->ac' (an ellipsis '...' may start or end the input and output)."
            )

    def build(self, input_shape):
        d = cu.dims(input_shape)
        kernel, bias, full = analyze_einsum(
            self.equation, self.bias_axes, d, self.partial_output_shape, self.name
        )
        self.full_output_shape = tuple(full)
        self.kernel = self.add_weight(
            name="kernel", shape=tuple(kernel), initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer, constraint=self.kernel_constraint,
        )  # fmt: skip
        self.bias = None
        if bias is not None:
            self.bias = self.add_weight(
                name="bias", shape=tuple(bias), initializer=self.bias_initializer,
                regularizer=self.bias_regularizer, constraint=self.bias_constraint,
            )  # fmt: skip
        self.built = True

    def call(self, inputs):
        x = cu.cast_inputs(self, inputs)
        y = tf.einsum(_explicit(self.equation, x.shape.rank), x, self.kernel)
        if self.bias is not None:
            y = y + self.bias
        return self.activation(y)

    def compute_output_shape(self, input_shape):
        _, _, full = analyze_einsum(self.equation, self.bias_axes, cu.dims(input_shape),
                                    self.partial_output_shape, self.name)  # fmt: skip
        return tf.TensorShape(full)

    def get_config(self):
        config = super().get_config()
        config.pop("activity_regularizer", None)
        return {
            **config,
            "output_shape": self.partial_output_shape,
            "equation": self.equation,
            "activation": activations.serialize(self.activation),
            "bias_axes": self.bias_axes,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
            "quantization_config": None,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if config.pop("quantization_config", None) is not None:
            raise ValueError("EinsumDense: quantized layers are not supported by rill.")
        return cls(**config)


class Identity(SpecLayer):
    """Return the inputs unchanged (any structure); passes masks through."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def compute_mask(self, inputs, mask=None):
        return mask
