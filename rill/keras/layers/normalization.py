"""Normalization layers: Batch, Layer, Group, RMS, Unit and Spectral normalization.

BatchNormalization normalizes with the batch's moments while training (and moves its
non-trainable ``moving_mean`` / ``moving_variance`` towards them by ``momentum``) and with
the moving statistics otherwise; a frozen layer (``trainable=False``) always runs in
inference mode, as in Keras 3. The others normalize each example over ``axis``.
"""

from __future__ import annotations

import rill as tf
import rill.keras.layers.conv_utils as cu
from rill.keras import config as _config
from rill.keras import constraints, initializers, regularizers
from rill.keras.layer import Layer
from rill.keras.layers.input_spec import InputSpec, SpecLayer

__all__ = [
    "BatchNormalization", "LayerNormalization", "GroupNormalization", "RMSNormalization",
    "UnitNormalization", "SpectralNormalization",
]  # fmt: skip


def _compute(x):
    """Half-precision inputs are normalized in float32 (as Keras does)."""
    if x.dtype in (tf.float16, tf.bfloat16):
        return tf.cast(x, tf.float32)
    return x


def _axis_error(layer, axis, shape):
    return ValueError(
        f"{type(layer).__name__} {layer.name!r}: axis {axis} is out of range for inputs of "
        f"shape {tuple(shape)} (rank {len(shape)})."
    )


class _ScaleCenter(SpecLayer):
    """gamma/beta options shared by Batch, Layer and Group normalization."""

    def _init_scale_center(self, center, scale, beta_initializer, gamma_initializer,
                           beta_regularizer, gamma_regularizer, beta_constraint,
                           gamma_constraint):  # fmt: skip
        self.center = center
        self.scale = scale
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)

    def _add_gamma_beta(self, shape, gamma=True, beta=True):
        self.gamma = None
        self.beta = None
        if gamma:
            self.gamma = self.add_weight(
                name="gamma", shape=shape, initializer=self.gamma_initializer,
                regularizer=self.gamma_regularizer, constraint=self.gamma_constraint,
            )  # fmt: skip
        if beta:
            self.beta = self.add_weight(
                name="beta", shape=shape, initializer=self.beta_initializer,
                regularizer=self.beta_regularizer, constraint=self.beta_constraint,
            )  # fmt: skip

    def _scale_center_config(self):
        return {
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": initializers.serialize(self.beta_initializer),
            "gamma_initializer": initializers.serialize(self.gamma_initializer),
            "beta_regularizer": regularizers.serialize(self.beta_regularizer),
            "gamma_regularizer": regularizers.serialize(self.gamma_regularizer),
            "beta_constraint": constraints.serialize(self.beta_constraint),
            "gamma_constraint": constraints.serialize(self.gamma_constraint),
        }


# ------------------------------------------------------------------------------------------
# BatchNormalization
# ------------------------------------------------------------------------------------------


class BatchNormalization(_ScaleCenter):
    """Normalize over every axis but ``axis`` with the batch's statistics while training,
    the moving statistics otherwise: ``(x - mean) / sqrt(var + epsilon) * gamma + beta``."""

    def __init__(
        self,
        axis=-1,
        momentum=0.99,
        epsilon=1e-3,
        center=True,
        scale=True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        moving_mean_initializer="zeros",
        moving_variance_initializer="ones",
        beta_regularizer=None,
        gamma_regularizer=None,
        beta_constraint=None,
        gamma_constraint=None,
        renorm=False,
        renorm_clipping=None,
        renorm_momentum=0.99,
        synchronized=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not isinstance(axis, int) or isinstance(axis, bool):
            raise TypeError(f"{cu.owner(self)}: axis must be an int, received axis={axis!r}")
        self.axis = axis
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self._init_scale_center(center, scale, beta_initializer, gamma_initializer,
                                beta_regularizer, gamma_regularizer, beta_constraint,
                                gamma_constraint)  # fmt: skip
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.synchronized = bool(synchronized)
        self.renorm = bool(renorm)
        self.renorm_momentum = float(renorm_momentum)
        self.renorm_clipping = None
        if self.renorm:
            clip = dict(renorm_clipping or {})
            unknown = set(clip) - {"rmax", "rmin", "dmax"}
            if unknown:
                raise ValueError(
                    f"{cu.owner(self)}: Received invalid keys for `renorm_clipping` argument: {clip}. "
                    "Supported values: ['rmax', 'rmin', 'dmax']."
                )
            rmax, rmin, dmax = clip.get("rmax"), clip.get("rmin"), clip.get("dmax")
            if rmax is not None and rmin is not None and rmax < rmin:
                raise ValueError(
                    f"{cu.owner(self)}: rmax should be greater than rmin in the `renorm_clipping` argument. "
                    f"Received: rmax={rmax} rmin={rmin}."
                )
            if dmax is not None and dmax < 0:
                raise ValueError(
                    f"{cu.owner(self)}: dmax should be non-negative in the `renorm_clipping` argument. "
                    f"Received: dmax={dmax}."
                )
            self.renorm_clipping = clip
        self.supports_masking = True

    def build(self, input_shape):
        d = cu.dims(input_shape)
        if not -len(d) <= self.axis < len(d):
            raise _axis_error(self, self.axis, d)
        n = d[self.axis]
        if n is None:
            raise ValueError(
                f"BatchNormalization {self.name!r}: axis {self.axis} of the inputs must have a "
                f"known size, got input shape {tuple(d)}."
            )
        shape = (n,)
        self._add_gamma_beta(shape, self.scale, self.center)
        self.moving_mean = self.add_weight(
            name="moving_mean", shape=shape, initializer=self.moving_mean_initializer,
            trainable=False,
        )  # fmt: skip
        self.moving_variance = self.add_weight(
            name="moving_variance", shape=shape, initializer=self.moving_variance_initializer,
            trainable=False,
        )  # fmt: skip
        if self.renorm:
            var0 = self.moving_variance.numpy()
            self.moving_stddev = self.add_weight(
                name="moving_stddev", shape=shape, trainable=False,
                initializer=lambda s, dtype=None: tf.sqrt(tf.constant(var0, dtype=dtype)),
            )  # fmt: skip
            self.renorm_mean = self.add_weight(
                name="renorm_mean", shape=shape, trainable=False,
                initializer=self.moving_mean_initializer,
            )  # fmt: skip
            self.renorm_stddev = self.add_weight(
                name="renorm_stddev", shape=shape, trainable=False,
                initializer=lambda s, dtype=None: tf.sqrt(tf.constant(var0, dtype=dtype)),
            )  # fmt: skip
        self._rank = len(d)
        self._axis = self.axis % len(d)
        self._reduction_axes = [i for i in range(len(d)) if i != self._axis]
        self.input_spec = InputSpec(ndim=len(d), axes={self.axis: n})
        self.built = True

    def _broadcast(self, v):
        if v is None or self._axis == self._rank - 1:
            return v
        shape = [1] * self._rank
        shape[self._axis] = -1
        return tf.reshape(v, shape)

    def _moments(self, x, mask):
        if mask is None:
            return tf.nn.moments(x, self._reduction_axes)
        # Keras 3: the mask covers every axis but the last; masked entries are selected
        # away (not multiplied by 0, so an inf or NaN there stays out), and the count
        # gets Keras' epsilon so that an all-masked channel gives 0, not NaN.
        keep = tf.broadcast_to(tf.expand_dims(tf.cast(mask, tf.bool), -1), tf.shape(x))
        zeros = tf.zeros_like(x)
        count = tf.reduce_sum(tf.cast(keep, x.dtype), self._reduction_axes) + _config.epsilon()
        mean = tf.reduce_sum(tf.where(keep, x, zeros), self._reduction_axes) / count
        diff = tf.where(keep, x - self._broadcast(mean), zeros)
        variance = tf.reduce_sum(diff * diff, self._reduction_axes) / count
        return mean, variance

    def call(self, inputs, training=None, mask=None):
        if mask is not None:
            mask = tf.convert_to_tensor(mask)
        if mask is not None and mask.shape.rank != inputs.shape.rank - 1:
            raise ValueError(
                f"BatchNormalization {self.name!r}: the mask provided should be one dimension "
                f"less than the inputs. Received: mask.shape={tuple(mask.shape.as_list())}, "
                f"inputs.shape={tuple(inputs.shape.as_list())}"
            )
        x = _compute(inputs)
        dt = x.dtype
        moving_mean = tf.cast(self.moving_mean, dt)
        moving_var = tf.cast(self.moving_variance, dt)
        gamma = None if self.gamma is None else tf.cast(self.gamma, dt)
        beta = None if self.beta is None else tf.cast(self.beta, dt)
        if training and self.trainable:
            mean, var = self._moments(x, mask)
            if self.renorm:
                gamma, beta, mean, var = self._renorm(mean, var, gamma, beta, dt)
            else:
                m = self.momentum
                self.moving_mean.assign(
                    tf.cast(moving_mean * m + mean * (1.0 - m), self.moving_mean.dtype)
                )
                self.moving_variance.assign(
                    tf.cast(moving_var * m + var * (1.0 - m), self.moving_variance.dtype)
                )
        else:
            mean, var = moving_mean, moving_var
        inv = tf.math.rsqrt(self._broadcast(var) + self.epsilon)
        if gamma is not None:
            inv = inv * self._broadcast(gamma)
        y = (x - self._broadcast(mean)) * inv
        if beta is not None:
            y = y + self._broadcast(beta)
        return tf.cast(y, inputs.dtype)

    def _renorm(self, mean, var, gamma, beta, dt):
        """Batch renormalization: the batch moments corrected towards the renorm
        statistics by (r, d) (clipped, not differentiated), folded into gamma and beta;
        then the renorm and moving statistics move towards the batch's."""
        std = tf.sqrt(var + self.epsilon)
        renorm_mean = tf.cast(self.renorm_mean, dt)
        renorm_std = tf.cast(self.renorm_stddev, dt)
        denom = tf.maximum(renorm_std, tf.sqrt(tf.constant(self.epsilon, dt)))
        r = std / denom
        d = (mean - renorm_mean) / denom
        clip = self.renorm_clipping or {}
        rmax, rmin, dmax = clip.get("rmax"), clip.get("rmin"), clip.get("dmax")
        if rmin is not None:
            r = tf.maximum(r, rmin)
        if rmax is not None:
            r = tf.minimum(r, rmax)
        if dmax is not None:
            d = tf.clip_by_value(d, -dmax, dmax)
        r, d = tf.stop_gradient(r), tf.stop_gradient(d)
        g = r if gamma is None else r * gamma
        b = d if gamma is None else d * gamma
        if beta is not None:
            b = b + beta
        m, rm = self.momentum, self.renorm_momentum
        self.renorm_mean.assign(renorm_mean * rm + mean * (1.0 - rm))
        self.renorm_stddev.assign(renorm_std * rm + std * (1.0 - rm))
        self.moving_mean.assign(tf.cast(self.moving_mean, dt) * m + mean * (1.0 - m))
        moving_std = tf.cast(self.moving_stddev, dt) * m + std * (1.0 - m)
        self.moving_stddev.assign(moving_std)
        self.moving_variance.assign(tf.nn.relu(moving_std * moving_std - self.epsilon))
        return g, b, mean, var

    def compute_output_shape(self, input_shape):
        return tf.TensorShape(input_shape)

    def compute_mask(self, inputs, mask=None):
        return mask

    def get_config(self):
        return {
            **super().get_config(),
            "axis": self.axis,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            **self._scale_center_config(),
            "moving_mean_initializer": initializers.serialize(self.moving_mean_initializer),
            "moving_variance_initializer": initializers.serialize(self.moving_variance_initializer),
            "synchronized": self.synchronized,
            "renorm": self.renorm,
            "renorm_clipping": self.renorm_clipping,
            "renorm_momentum": self.renorm_momentum,
        }


# ------------------------------------------------------------------------------------------
# per-example normalizations
# ------------------------------------------------------------------------------------------


def _axes(layer, axis, rank, shape):
    axes = axis if isinstance(axis, (list, tuple)) else [axis]
    out = []
    for a in axes:
        if not -rank <= a < rank:
            raise _axis_error(layer, a, shape)
        out.append(a % rank)
    return sorted(out)


def _param_shape(axes, rank, v):
    """``v`` (shaped like the normalized axes) reshaped to broadcast against the input."""
    if axes == [rank - 1]:
        return v
    full = [1] * rank
    for a, n in zip(axes, v.shape.as_list()):
        full[a] = n
    return tf.reshape(v, full)


class LayerNormalization(_ScaleCenter):
    """Normalize each example over ``axis`` (an int or a list), then scale and shift."""

    def __init__(
        self,
        axis=-1,
        epsilon=1e-3,
        center=True,
        scale=True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        beta_regularizer=None,
        gamma_regularizer=None,
        beta_constraint=None,
        gamma_constraint=None,
        **kwargs,
    ):
        rms_scaling = bool(kwargs.pop("rms_scaling", False))
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)):
            self.axis = list(axis)
        elif isinstance(axis, int) and not isinstance(axis, bool):
            self.axis = axis
        else:
            raise TypeError(
                f"{cu.owner(self)}: Expected an int or a list/tuple of ints for the argument "
                "'axis', but "
                f"received: {axis!r}"
            )
        self.epsilon = float(epsilon)
        self.rms_scaling = rms_scaling
        self._init_scale_center(center, scale, beta_initializer, gamma_initializer,
                                beta_regularizer, gamma_regularizer, beta_constraint,
                                gamma_constraint)  # fmt: skip
        self.supports_masking = True

    def build(self, input_shape):
        d = cu.dims(input_shape)
        axes = self.axis if isinstance(self.axis, list) else [self.axis]
        for a in axes:
            if not -len(d) <= a < len(d):
                raise _axis_error(self, a, d)
        self.axis = sorted(axes)
        shape = tuple(d[a] for a in self.axis)
        self._add_gamma_beta(shape, self.scale or self.rms_scaling,
                             self.center and not self.rms_scaling)  # fmt: skip
        self.built = True

    def call(self, inputs):
        x = _compute(inputs)
        r = x.shape.rank
        axes = _axes(self, self.axis, r, x.shape.as_list())
        gamma = None if self.gamma is None else _param_shape(axes, r, tf.cast(self.gamma, x.dtype))
        beta = None if self.beta is None else _param_shape(axes, r, tf.cast(self.beta, x.dtype))
        mean, var = tf.nn.moments(x, axes, keepdims=True)
        inv = tf.math.rsqrt(var + self.epsilon)
        if self.rms_scaling:  # Keras' deprecated option: scales by the variance
            y = x * inv
            return tf.cast(y if gamma is None else y * gamma, inputs.dtype)
        if gamma is not None:
            inv = inv * gamma
        y = x * inv - mean * inv
        if beta is not None:
            y = y + beta
        return tf.cast(y, inputs.dtype)

    def compute_output_shape(self, input_shape):
        return tf.TensorShape(input_shape)

    def compute_mask(self, inputs, mask=None):
        return mask

    def get_config(self):
        sc = self._scale_center_config()
        return {
            **super().get_config(),
            "axis": self.axis,
            "epsilon": self.epsilon,
            "center": sc.pop("center"),
            "scale": sc.pop("scale"),
            "rms_scaling": self.rms_scaling,
            **sc,
        }


class GroupNormalization(_ScaleCenter):
    """Normalize each example over groups of ``groups`` channels (and every other axis)."""

    def __init__(
        self,
        groups=32,
        axis=-1,
        epsilon=1e-3,
        center=True,
        scale=True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        beta_regularizer=None,
        gamma_regularizer=None,
        beta_constraint=None,
        gamma_constraint=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.groups = groups
        self.axis = axis
        self.epsilon = float(epsilon)
        self._init_scale_center(center, scale, beta_initializer, gamma_initializer,
                                beta_regularizer, gamma_regularizer, beta_constraint,
                                gamma_constraint)  # fmt: skip
        self.supports_masking = True

    def build(self, input_shape):
        d = cu.dims(input_shape)
        if not -len(d) <= self.axis < len(d):
            raise _axis_error(self, self.axis, d)
        dim = d[self.axis]
        if dim is None:
            raise ValueError(
                f"{cu.owner(self)}: Axis {self.axis} of input tensor should have a defined dimension but the "
                f"layer received an input with shape {tuple(d)}."
            )
        if self.groups == -1:
            self.groups = dim
        if dim < self.groups:
            raise ValueError(
                f"{cu.owner(self)}: Number of groups ({self.groups}) cannot be more than the number of "
                f"channels ({dim})."
            )
        if dim % self.groups:
            raise ValueError(
                f"{cu.owner(self)}: Number of groups ({self.groups}) must be a multiple of the number of "
                f"channels ({dim})."
            )
        self.input_spec = InputSpec(ndim=len(d), axes={self.axis: dim})
        self._add_gamma_beta((dim,), self.scale, self.center)
        self.built = True

    def call(self, inputs):
        x = _compute(inputs)
        r = x.shape.rank
        axis = self.axis % r
        dims = x.shape.as_list()
        c, g = dims[axis], self.groups
        if None in dims[1:]:
            sh = tf.shape(x)
            grouped = tf.concat([[-1], sh[1:axis], [g, c // g], sh[axis + 1 :]], 0)
        else:
            grouped = [-1, *dims[1:axis], g, c // g, *dims[axis + 1 :]]
        xg = tf.reshape(x, grouped)
        red = [i for i in range(1, r + 1) if i != axis]  # every axis but batch and group
        mean, var = tf.nn.moments(xg, red, keepdims=True)
        inv = tf.math.rsqrt(var + self.epsilon)
        pshape = [1] * (r + 1)
        pshape[axis], pshape[axis + 1] = self.groups, c // self.groups
        if self.gamma is not None:
            inv = inv * tf.reshape(tf.cast(self.gamma, x.dtype), pshape)
        shift = -mean * inv
        if self.beta is not None:
            shift = shift + tf.reshape(tf.cast(self.beta, x.dtype), pshape)
        y = xg * inv + shift
        return tf.cast(tf.reshape(y, cu.leading_shape(x, 0)), inputs.dtype)

    def compute_output_shape(self, input_shape):
        return tf.TensorShape(input_shape)

    def compute_mask(self, inputs, mask=None):
        return mask

    def get_config(self):
        return {
            **super().get_config(),
            "groups": self.groups,
            "axis": self.axis,
            "epsilon": self.epsilon,
            **self._scale_center_config(),
        }


class RMSNormalization(SpecLayer):
    """``x * rsqrt(mean(x ** 2 over axis) + epsilon) * scale``."""

    def __init__(self, axis=-1, epsilon=1e-6, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis
        self.epsilon = float(epsilon)

    def build(self, input_shape):
        d = cu.dims(input_shape)
        axes = list(self.axis) if isinstance(self.axis, (list, tuple)) else [self.axis]
        for a in axes:
            if not -len(d) <= a < len(d):
                raise _axis_error(self, a, d)
        self.axis = sorted(axes)
        self.scale = self.add_weight(
            name="scale", shape=tuple(d[a] for a in self.axis), initializer="ones"
        )
        self.built = True

    def call(self, inputs):
        x = _compute(inputs)
        r = x.shape.rank
        axes = _axes(self, self.axis, r, x.shape.as_list())
        rrms = tf.math.rsqrt(tf.reduce_mean(tf.square(x), axes, keepdims=True) + self.epsilon)
        y = x * rrms * _param_shape(axes, r, tf.cast(self.scale, x.dtype))
        return tf.cast(y, inputs.dtype)

    def compute_output_shape(self, input_shape):
        return tf.TensorShape(input_shape)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon}


class UnitNormalization(SpecLayer):
    """Scale each example to unit L2 norm over ``axis``."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)):
            self.axis = list(axis)
        elif isinstance(axis, int) and not isinstance(axis, bool):
            self.axis = axis
        else:
            raise TypeError(
                f"{cu.owner(self)}: Invalid value for `axis` argument: expected an int or a list/tuple of ints. "
                f"Received: axis={axis!r}"
            )
        self.supports_masking = True

    def call(self, inputs):
        x = _compute(inputs)
        r = x.shape.rank
        axes = _axes(self, self.axis, r, x.shape.as_list())
        sq = tf.reduce_sum(tf.square(x), axes, keepdims=True)
        y = x * tf.math.rsqrt(tf.maximum(sq, 1e-24))
        return tf.cast(y, inputs.dtype)

    def compute_output_shape(self, input_shape):
        return tf.TensorShape(input_shape)

    def compute_mask(self, inputs, mask=None):
        return mask

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


# ------------------------------------------------------------------------------------------
# SpectralNormalization
# ------------------------------------------------------------------------------------------


def _l2_normalize_all(v):
    return v * tf.math.rsqrt(tf.maximum(tf.reduce_sum(tf.square(v)), 1e-24))


class SpectralNormalization(SpecLayer):
    """Wrap a layer with a ``kernel`` (or ``embeddings``): while training, rescale that
    weight by its largest singular value (estimated by ``power_iterations`` steps of the
    power method from the non-trainable ``vector_u``) before calling the layer."""

    def __init__(self, layer, power_iterations=1, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(layer, Layer):
            raise ValueError(
                f"{cu.owner(self)}: the layer passed to SpectralNormalization must be a `keras.layers.Layer` "
                f"instance. Received: layer={layer!r}"
            )
        if power_iterations <= 0:
            raise ValueError(
                f"{cu.owner(self)}: `power_iterations` should be greater than zero. Received: "
                f"`power_iterations={power_iterations}`"
            )
        self.layer = layer
        self.power_iterations = int(power_iterations)

    def build(self, input_shape):
        if not self.layer.built:
            self.layer._build_input_shape = tf.TensorShape(input_shape)  # its build_config
            self.layer.build(input_shape)
            self.layer.built = True
        d = cu.dims(input_shape)
        self.input_spec = InputSpec(min_ndim=1, axes={-1: d[-1]})
        if hasattr(self.layer, "kernel"):
            self.kernel = self.layer.kernel
        elif hasattr(self.layer, "embeddings"):
            self.kernel = self.layer.embeddings
        else:
            raise ValueError(
                f"{type(self.layer).__name__} object has no attribute 'kernel' nor 'embeddings'"
            )
        self.kernel_shape = self.kernel.shape.as_list()
        self.vector_u = self.add_weight(
            name="vector_u",
            shape=(1, self.kernel_shape[-1]),
            initializer=initializers.TruncatedNormal(stddev=0.02),
            trainable=False,
            dtype=self.kernel.dtype.name,
        )
        self.built = True

    @property
    def weights(self):
        """Keras' order: the wrapper's own (kernel, vector_u), then the layer's others."""
        out = [self.kernel, self.vector_u] if self.built else []
        for v in self.layer.weights:
            if all(v is not o for o in out):
                out.append(v)
        return out

    def normalized_weights(self):
        """(new vector_u, the kernel divided by its estimated spectral norm)."""
        w = tf.reshape(self.kernel, [-1, self.kernel_shape[-1]])
        u = tf.convert_to_tensor(self.vector_u)
        v = u
        for _ in range(self.power_iterations):
            v = _l2_normalize_all(tf.matmul(u, w, transpose_b=True))
            u = _l2_normalize_all(tf.matmul(v, w))
        u, v = tf.stop_gradient(u), tf.stop_gradient(v)
        sigma = tf.matmul(tf.matmul(v, w), u, transpose_b=True)
        return u, tf.reshape(tf.convert_to_tensor(self.kernel) / sigma, self.kernel_shape)

    def call(self, inputs, training=False):
        if training:
            new_u, new_kernel = self.normalized_weights()
            all_zero = tf.reduce_all(tf.equal(self.kernel, 0))
            self.vector_u.assign(tf.where(all_zero, tf.convert_to_tensor(self.vector_u), new_u))
            self.kernel.assign(tf.where(all_zero, tf.convert_to_tensor(self.kernel), new_kernel))
        return tf.cast(self.layer(inputs), inputs.dtype)

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)

    def get_config(self):
        from rill.keras.saving.serialization_lib import serialize_keras_object

        return {
            **super().get_config(),
            "layer": serialize_keras_object(self.layer),
            "power_iterations": self.power_iterations,
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from rill.keras.saving.serialization_lib import deserialize_keras_object

        config = dict(config)
        config["layer"] = deserialize_keras_object(config["layer"], custom_objects=custom_objects)
        return cls(**config)
