"""Convolution layers: Conv1D/2D/3D, their transposes, depthwise and separable convolutions.

Each layer calls ``tf.nn``'s ops, as TF's Keras does: ``tf.nn.convolution`` (a depthwise
kernel reshaped to one input channel per group), ``tf.nn.conv_transpose``, then the bias
and the activation; so the layers and ``tf.nn`` share one implementation and one set of
op names (Conv2D, Conv2DBackpropInput, Conv2DBackpropFilter, see ``rill.ops.conv_ops``).
``channels_first`` inputs go to the ops with the matching ``data_format``.
"""

from __future__ import annotations

import rill as tf
import rill.keras.layers.conv_utils as cu
from rill.keras import activations, constraints, initializers, regularizers
from rill.keras.layers.input_spec import InputSpec, SpecLayer

__all__ = [
    "Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose",
    "DepthwiseConv1D", "DepthwiseConv2D", "SeparableConv1D", "SeparableConv2D",
    "Convolution1D", "Convolution2D", "Convolution3D", "Convolution1DTranspose",
    "Convolution2DTranspose", "Convolution3DTranspose", "SeparableConvolution1D",
    "SeparableConvolution2D",
]  # fmt: skip


# ------------------------------------------------------------------------------------------
# the layers
# ------------------------------------------------------------------------------------------


class BaseConv(SpecLayer):
    """The shared constructor, checks, build and call of the convolution layers."""

    rank = 2
    _transpose = False

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
        groups=1,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        output_padding=None,
        **kwargs,
    ):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        r, who = self.rank, cu.owner(self)
        self.filters = None if filters is None else cu.positive_int(filters, "filters", who)
        self.groups = cu.positive_int(groups, "groups", who)
        self.kernel_size = cu.normalize_tuple(kernel_size, r, "kernel_size", who=who)
        self.strides = cu.normalize_tuple(strides, r, "strides", who=who)
        self.dilation_rate = cu.normalize_tuple(dilation_rate, r, "dilation_rate", who=who)
        allowed = ("valid", "same", "causal") if self._causal_ok() else ("valid", "same")
        self.padding = cu.normalize_padding(padding, allowed, who)
        self.data_format = cu.normalize_data_format(data_format, who)
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        if self.filters is not None and self.filters % self.groups:
            raise ValueError(
                f"{who}: The number of filters must be evenly divisible by the number of "
                f"groups. Received: groups={self.groups}, filters={self.filters}."
            )
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(
                f"{who}: `strides > 1` not supported in conjunction with `dilation_rate > 1`. "
                f"Received: strides={self.strides} and dilation_rate={self.dilation_rate}"
            )
        self.output_padding = None
        if output_padding is not None:
            self.output_padding = cu.normalize_tuple(
                output_padding, r, "output_padding", allow_zero=True, who=who
            )
            for i, (p, s) in enumerate(zip(self.output_padding, self.strides)):
                if p >= s:
                    raise ValueError(
                        f"{who}: `output_padding` must be strictly less than `strides` for all "
                        f"dimensions. At dimension {i}, `output_padding` is {p} but `strides` "
                        f"is {s}. Received: output_padding={self.output_padding}, "
                        f"strides={self.strides}"
                    )
        self.input_spec = InputSpec(min_ndim=r + 2)

    def _causal_ok(self):
        return False

    @property
    def _channel_axis(self):
        return 1 if self.data_format == "channels_first" else -1

    def _spatial(self, shape):
        d = cu.dims(shape)
        return d[2:] if self.data_format == "channels_first" else d[-self.rank - 1 : -1]

    def _input_channels(self, input_shape):
        d = cu.dims(input_shape)
        c = d[self._channel_axis]
        if c is None:
            raise ValueError(
                f"{type(self).__name__} {self.name!r}: the channel dimension of the inputs "
                f"(axis {self._channel_axis}) must be known, got input shape {tuple(d)}."
            )
        return c

    def _kernel_shape(self, c):
        return (*self.kernel_size, c // self.groups, self.filters)

    def build(self, input_shape):
        c = self._input_channels(input_shape)
        if c % self.groups:
            raise ValueError(
                f"{cu.owner(self)}: The number of input channels must be evenly divisible by the "
                f"number of groups. Received groups={self.groups}, but the input has {c} channels (full input "
                f"shape is {tuple(cu.dims(input_shape))})."
            )
        self._check_output_size(input_shape, self._kernel_shape(c))
        self.kernel = self.add_weight(
            name="kernel",
            shape=self._kernel_shape(c),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias",
                shape=(self._out_channels(c),),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        self.input_spec = InputSpec(min_ndim=self.rank + 2, axes={self._channel_axis: c})
        self.built = True

    def _out_channels(self, c):
        return self.filters

    def _depthwise(self, x, kernel):
        """Depthwise convolution with ``kernel`` (*k, C, multiplier): a convolution with one
        input channel per group (output channel ``c * multiplier + m``), as
        ``tf.nn.depthwise_conv2d`` runs it."""
        k = kernel.shape.as_list()
        w = tf.reshape(kernel, [*k[:-2], 1, k[-2] * k[-1]])
        return tf.nn.convolution(
            x, w, strides=self.strides, padding=self.padding.upper(),
            data_format=self._tf_format, dilations=self.dilation_rate,
        )  # fmt: skip

    def _check_output_size(self, input_shape, kernel_shape):
        if self._transpose or self.padding != "valid":
            return
        spatial = self._spatial(input_shape)
        for n, k, d in zip(spatial, self.kernel_size, self.dilation_rate):
            if n is not None and n < (k - 1) * d + 1:
                raise ValueError(
                    f"{type(self).__name__} {self.name!r}: computed output size would be zero "
                    f"or negative. Received inputs shape={tuple(cu.dims(input_shape))}, kernel "
                    f"shape={tuple(kernel_shape)}, dilation_rate={self.dilation_rate}, "
                    f"strides={self.strides}, padding={self.padding}."
                )

    def call(self, inputs):
        x = cu.cast_inputs(self, inputs)
        if self.padding == "valid" and not self._transpose:
            self._check_output_size(x.shape, self._weight_shape())
        y = self._convolve(x)
        if self.bias is not None:
            if self.data_format == "channels_first":
                y = y + tf.reshape(self.bias, [-1, *(1,) * self.rank])
            else:
                y = y + self.bias
        return self.activation(y)

    def _weight_shape(self):
        return self.kernel.shape.as_list()

    @property
    def _tf_format(self):
        return cu.tf_data_format(self.data_format, self.rank)

    def _convolve(self, x):
        padding = self.padding
        if padding == "causal":  # Conv1D: pad the steps axis on the left, then "valid"
            pads = [[0, 0]] * x.shape.rank
            axis = -1 if self.data_format == "channels_first" else -2
            pads[axis] = [(self.kernel_size[0] - 1) * self.dilation_rate[0], 0]
            x = tf.pad(x, pads)
            padding = "valid"
        return tf.nn.convolution(
            x, self.kernel, strides=self.strides, padding=padding.upper(),
            data_format=self._tf_format, dilations=self.dilation_rate,
        )  # fmt: skip

    def compute_output_shape(self, input_shape):
        d = cu.dims(input_shape)
        spatial = self._spatial(d)
        out = [
            cu.conv_output_length(n, k, self.padding, s, r)
            for n, k, s, r in zip(spatial, self.kernel_size, self.strides, self.dilation_rate)
        ]
        c = self._out_channels(d[self._channel_axis])
        lead = d[: len(d) - self.rank - 1]
        if self.data_format == "channels_first":
            return tf.TensorShape([d[0], c, *out])
        return tf.TensorShape([*lead, *out, c])

    def get_config(self):
        config = {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            "groups": self.groups,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
        }
        return config


class Conv1D(BaseConv):
    """1-D convolution over (batch, steps, channels); ``padding="causal"`` pads on the left."""

    rank = 1

    def _causal_ok(self):
        return True


class Conv2D(BaseConv):
    """2-D convolution over (batch, rows, cols, channels)."""

    rank = 2


class Conv3D(BaseConv):
    """3-D convolution over (batch, depth, rows, cols, channels)."""

    rank = 3


# ------------------------------------------------------------------------------------------
# transposed convolutions
# ------------------------------------------------------------------------------------------


class BaseConvTranspose(BaseConv):
    _transpose = True

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        output_padding=None,
        data_format=None,
        dilation_rate=1,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(
            filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
            dilation_rate=dilation_rate, activation=activation, use_bias=use_bias,
            kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer, kernel_constraint=kernel_constraint,
            bias_constraint=bias_constraint, output_padding=output_padding, **kwargs,
        )  # fmt: skip
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def _kernel_shape(self, c):
        return (*self.kernel_size, self.filters, c)

    def build(self, input_shape):
        super().build(input_shape)
        c = self._input_channels(input_shape)
        self.input_spec = InputSpec(ndim=self.rank + 2, axes={self._channel_axis: c})

    def _out_sizes(self, spatial):
        op = self.output_padding or (None,) * self.rank
        return [
            cu.deconv_output_length(n, k, self.padding, p, s, d)
            for n, k, p, s, d in zip(
                spatial, self.kernel_size, op, self.strides, self.dilation_rate
            )
        ]

    def _convolve(self, x):
        spatial = self._spatial(x.shape)
        if None in spatial:
            raise ValueError(
                f"{type(self).__name__} {self.name!r}: the spatial dimensions of the inputs "
                f"must be known, got input shape {tuple(x.shape.as_list())}."
            )
        out = self._out_sizes(spatial)
        tail = (
            [self.filters, *out] if self.data_format == "channels_first" else [*out, self.filters]
        )
        n = x.shape.as_list()[0]
        if n is None:
            shape = tf.concat([tf.shape(x)[:1], tf.constant(tail, dtype=tf.int32)], 0)
        else:
            shape = [n, *tail]
        y = tf.nn.conv_transpose(
            x, self.kernel, shape, strides=self.strides, padding=self.padding.upper(),
            data_format=self._tf_format, dilations=self.dilation_rate,
        )  # fmt: skip
        return y if n is not None else tf.reshape(y, [-1, *tail])  # the static shape

    def compute_output_shape(self, input_shape):
        d = cu.dims(input_shape)
        out = self._out_sizes(self._spatial(d))
        if self.data_format == "channels_first":
            return tf.TensorShape([d[0], self.filters, *out])
        return tf.TensorShape([d[0], *out, self.filters])

    def get_config(self):
        config = super().get_config()
        config.pop("groups")
        out = {}
        for k, v in config.items():
            out[k] = v
            if k == "padding":
                out["output_padding"] = self.output_padding
        return out


class Conv1DTranspose(BaseConvTranspose):
    """Transposed 1-D convolution (a learnable upsampling)."""

    rank = 1


class Conv2DTranspose(BaseConvTranspose):
    """Transposed 2-D convolution (a learnable upsampling)."""

    rank = 2


class Conv3DTranspose(BaseConvTranspose):
    """Transposed 3-D convolution (a learnable upsampling)."""

    rank = 3

    def __init__(
        self,
        filters,
        kernel_size,
        strides=(1, 1, 1),
        padding="valid",
        data_format=None,
        output_padding=None,
        dilation_rate=(1, 1, 1),
        **kwargs,
    ):  # Keras orders data_format before output_padding here
        super().__init__(
            filters, kernel_size, strides=strides, padding=padding,
            output_padding=output_padding, data_format=data_format,
            dilation_rate=dilation_rate, **kwargs,
        )  # fmt: skip


# ------------------------------------------------------------------------------------------
# depthwise and separable convolutions
# ------------------------------------------------------------------------------------------


class BaseDepthwiseConv(BaseConv):
    def __init__(
        self,
        kernel_size,
        strides=1,
        padding="valid",
        depth_multiplier=1,
        data_format=None,
        dilation_rate=1,
        activation=None,
        use_bias=True,
        depthwise_initializer="glorot_uniform",
        bias_initializer="zeros",
        depthwise_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        depthwise_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(
            None, kernel_size, strides=strides, padding=padding, data_format=data_format,
            dilation_rate=dilation_rate, activation=activation, use_bias=use_bias,
            kernel_initializer=depthwise_initializer, bias_initializer=bias_initializer,
            kernel_regularizer=depthwise_regularizer, bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer, kernel_constraint=depthwise_constraint,
            bias_constraint=bias_constraint, **kwargs,
        )  # fmt: skip
        self.depth_multiplier = cu.positive_int(
            depth_multiplier, "depth_multiplier", cu.owner(self)
        )
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def _kernel_shape(self, c):
        return (*self.kernel_size, c, self.depth_multiplier)

    def _out_channels(self, c):
        return None if c is None else c * self.depth_multiplier

    def build(self, input_shape):
        super().build(input_shape)
        c = self._input_channels(input_shape)
        self.input_spec = InputSpec(ndim=self.rank + 2, axes={self._channel_axis: c})

    def _convolve(self, x):
        return self._depthwise(x, self.kernel)

    def get_config(self):
        base = SpecLayer.get_config(self)
        return {
            **base,
            "depth_multiplier": self.depth_multiplier,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "depthwise_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "depthwise_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "depthwise_constraint": constraints.serialize(self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
        }


class DepthwiseConv1D(BaseDepthwiseConv):
    """Depthwise 1-D convolution: each channel convolved with its own ``depth_multiplier``
    filters."""

    rank = 1


class DepthwiseConv2D(BaseDepthwiseConv):
    """Depthwise 2-D convolution: each channel convolved with its own ``depth_multiplier``
    filters."""

    rank = 2


class BaseSeparableConv(BaseConv):
    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
        depth_multiplier=1,
        activation=None,
        use_bias=True,
        depthwise_initializer="glorot_uniform",
        pointwise_initializer="glorot_uniform",
        bias_initializer="zeros",
        depthwise_regularizer=None,
        pointwise_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        depthwise_constraint=None,
        pointwise_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(
            filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
            dilation_rate=dilation_rate, activation=activation, use_bias=use_bias,
            bias_initializer=bias_initializer, bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer, bias_constraint=bias_constraint,
            **kwargs,
        )  # fmt: skip
        self.depth_multiplier = cu.positive_int(
            depth_multiplier, "depth_multiplier", cu.owner(self)
        )
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.pointwise_initializer = initializers.get(pointwise_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.pointwise_regularizer = regularizers.get(pointwise_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)
        self.pointwise_constraint = constraints.get(pointwise_constraint)
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def build(self, input_shape):
        c = self._input_channels(input_shape)
        self._check_output_size(input_shape, (*self.kernel_size, c, self.depth_multiplier))
        self.depthwise_kernel = self.add_weight(
            name="depthwise_kernel",
            shape=(*self.kernel_size, c, self.depth_multiplier),
            initializer=self.depthwise_initializer,
            regularizer=self.depthwise_regularizer,
            constraint=self.depthwise_constraint,
        )
        self.pointwise_kernel = self.add_weight(
            name="pointwise_kernel",
            shape=(*(1,) * self.rank, c * self.depth_multiplier, self.filters),
            initializer=self.pointwise_initializer,
            regularizer=self.pointwise_regularizer,
            constraint=self.pointwise_constraint,
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias",
                shape=(self.filters,),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        self.input_spec = InputSpec(ndim=self.rank + 2, axes={self._channel_axis: c})
        self.built = True

    def _weight_shape(self):
        return self.depthwise_kernel.shape.as_list()

    def _convolve(self, x):
        d = self._depthwise(x, self.depthwise_kernel)
        return tf.nn.convolution(d, self.pointwise_kernel, padding="VALID",
                                 data_format=self._tf_format)  # fmt: skip

    def get_config(self):
        base = SpecLayer.get_config(self)
        return {
            **base,
            "depth_multiplier": self.depth_multiplier,
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "depthwise_initializer": initializers.serialize(self.depthwise_initializer),
            "pointwise_initializer": initializers.serialize(self.pointwise_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "depthwise_regularizer": regularizers.serialize(self.depthwise_regularizer),
            "pointwise_regularizer": regularizers.serialize(self.pointwise_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "depthwise_constraint": constraints.serialize(self.depthwise_constraint),
            "pointwise_constraint": constraints.serialize(self.pointwise_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
        }


class SeparableConv1D(BaseSeparableConv):
    """Depthwise 1-D convolution followed by a pointwise (1x1) convolution."""

    rank = 1


class SeparableConv2D(BaseSeparableConv):
    """Depthwise 2-D convolution followed by a pointwise (1x1) convolution."""

    rank = 2


Convolution1D = Conv1D
Convolution2D = Conv2D
Convolution3D = Conv3D
Convolution1DTranspose = Conv1DTranspose
Convolution2DTranspose = Conv2DTranspose
Convolution3DTranspose = Conv3DTranspose
SeparableConvolution1D = SeparableConv1D
SeparableConvolution2D = SeparableConv2D
