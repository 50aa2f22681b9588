"""``tf.keras.initializers``: Keras 3's weight initializers. ``init(shape, dtype=None)`` gives
an eager rill tensor (made in init scope, even when called inside a ``rill.function``)."""

import math as _math

import numpy as _np

import rill as tf


def _dtype(dtype, floating=True):
    dtype = tf.as_dtype(dtype or "float32")
    if floating and not dtype.is_floating:
        raise ValueError(f"This initializer needs a floating dtype, got {dtype.name}")
    return dtype


def _shape(shape):
    if isinstance(shape, tf.TensorShape):
        shape = shape.as_list()
    shape = tuple(int(d) for d in shape)
    if any(d < 0 for d in shape):
        raise ValueError(f"Initializer shape must be fully defined and >= 0, got {shape}")
    return shape


def compute_fans(shape, input_axes=None, output_axes=None):
    """(fan_in, fan_out) as Keras computes them (conv kernels: receptive field x channels),
    or the products of the sizes along ``input_axes`` / ``output_axes`` when both are given."""
    shape = tuple(shape)
    if input_axes is not None and output_axes is not None:
        fan_in = int(_np.prod([shape[a] for a in input_axes]))
        fan_out = int(_np.prod([shape[a] for a in output_axes]))
        return fan_in, fan_out
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = int(_np.prod(shape[:-2]))
    return shape[-2] * receptive, shape[-1] * receptive


class Initializer:
    """Base class: subclasses implement ``__call__(shape, dtype=None)``."""

    def __call__(self, shape, dtype=None):
        raise NotImplementedError(f"{type(self).__name__} must implement `__call__`.")

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def clone(self):
        return type(self).from_config(self.get_config())

    def __repr__(self):
        return f"<{type(self).__name__} {self.get_config()}>"


class Zeros(Initializer):
    def __call__(self, shape, dtype=None):
        with tf.init_scope():
            return tf.zeros(_shape(shape), dtype=_dtype(dtype, False))


class Ones(Initializer):
    def __call__(self, shape, dtype=None):
        with tf.init_scope():
            return tf.ones(_shape(shape), dtype=_dtype(dtype, False))


class Constant(Initializer):
    def __init__(self, value=0.0):
        self.value = value

    def __call__(self, shape, dtype=None):
        with tf.init_scope():
            dt = _dtype(dtype, False)
            value = tf.cast(tf.convert_to_tensor(self.value), dt)
            return tf.broadcast_to(value, _shape(shape))

    def get_config(self):
        value = self.value
        if isinstance(value, _np.ndarray) or tf.is_tensor(value):
            value = _np.asarray(value).tolist()
        return {"value": value}


class RandomInitializer(Initializer):
    """Seeded: the same values on every call; unseeded: fresh values each call (these
    follow ``rill.random.set_seed``)."""

    def __init__(self, seed=None):
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ValueError(f"`seed` must be an int or None, got {seed!r}")
        self.seed = seed

    def _seed(self):
        if self.seed is not None:
            return tf.constant([self.seed, 0], dtype=tf.int64)
        # a fresh pair from rill's global generator (respects tf.random.set_seed)
        return tf.cast(tf.random.uniform([2], 0, 2**31 - 1, dtype=tf.int64), tf.int64)

    def _normal(self, shape, mean, stddev, dtype):
        return tf.random.stateless_normal(shape, self._seed(), mean=mean, stddev=stddev,
                                          dtype=dtype)  # fmt: skip

    def _truncated(self, shape, mean, stddev, dtype):
        return tf.random.stateless_truncated_normal(shape, self._seed(), mean=mean,
                                                    stddev=stddev, dtype=dtype)  # fmt: skip

    def _uniform(self, shape, minval, maxval, dtype):
        return tf.random.stateless_uniform(shape, self._seed(), minval=minval, maxval=maxval,
                                           dtype=dtype)  # fmt: skip

    def get_config(self):
        return {"seed": self.seed}


class RandomNormal(RandomInitializer):
    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean, self.stddev = mean, stddev

    def __call__(self, shape, dtype=None):
        with tf.init_scope():
            return self._normal(_shape(shape), self.mean, self.stddev, _dtype(dtype))

    def get_config(self):
        return {"seed": self.seed, "mean": self.mean, "stddev": self.stddev}


class TruncatedNormal(RandomNormal):
    """Normal values redrawn beyond two standard deviations of the mean."""

    def __call__(self, shape, dtype=None):
        with tf.init_scope():
            return self._truncated(_shape(shape), self.mean, self.stddev, _dtype(dtype))


class RandomUniform(RandomInitializer):
    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        super().__init__(seed)
        self.minval, self.maxval = minval, maxval

    def __call__(self, shape, dtype=None):
        with tf.init_scope():
            return self._uniform(_shape(shape), self.minval, self.maxval, _dtype(dtype))

    def get_config(self):
        return {"seed": self.seed, "minval": self.minval, "maxval": self.maxval}


_MODES = ("fan_in", "fan_out", "fan_avg")
_DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")
# stddev of a unit normal truncated to [-2, 2]
_TRUNC_STD = 0.87962566103423978


class VarianceScaling(RandomInitializer):
    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None,
                 input_axes=None, output_axes=None):  # fmt: skip
        super().__init__(seed)
        self.input_axes, self.output_axes = input_axes, output_axes
        if scale <= 0.0:
            raise ValueError(f"`scale` must be positive, got scale={scale}")
        if mode not in _MODES:
            raise ValueError(f"Invalid `mode` {mode!r}; valid: {_MODES}")
        distribution = distribution.lower()
        if distribution == "normal":
            distribution = "truncated_normal"
        if distribution not in _DISTRIBUTIONS:
            raise ValueError(f"Invalid `distribution` {distribution!r}; valid: {_DISTRIBUTIONS}")
        self.scale, self.mode, self.distribution = scale, mode, distribution

    def __call__(self, shape, dtype=None):
        shape = _shape(shape)
        dtype = _dtype(dtype)
        fan_in, fan_out = compute_fans(shape, self.input_axes, self.output_axes)
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}
        scale = self.scale / max(1.0, fan[self.mode])
        with tf.init_scope():
            if self.distribution == "truncated_normal":
                return self._truncated(shape, 0.0, _math.sqrt(scale) / _TRUNC_STD, dtype)
            if self.distribution == "untruncated_normal":
                return self._normal(shape, 0.0, _math.sqrt(scale), dtype)
            limit = _math.sqrt(3.0 * scale)
            return self._uniform(shape, -limit, limit, dtype)

    def get_config(self):
        return {"seed": self.seed, "scale": self.scale, "mode": self.mode,
                "distribution": self.distribution, "input_axes": self.input_axes,
                "output_axes": self.output_axes}  # fmt: skip


def _preset(name, scale, mode, distribution):
    def __init__(self, seed=None, input_axes=None, output_axes=None):
        VarianceScaling.__init__(self, scale=scale, mode=mode, distribution=distribution,
                                 seed=seed, input_axes=input_axes,
                                 output_axes=output_axes)  # fmt: skip

    def get_config(self):
        return {"seed": self.seed, "input_axes": self.input_axes,
                "output_axes": self.output_axes}  # fmt: skip

    cls = type(name, (VarianceScaling,), {
        "__init__": __init__, "get_config": get_config,
        "__doc__": f"VarianceScaling(scale={scale}, mode={mode!r}, distribution={distribution!r}).",
    })  # fmt: skip
    cls.__module__ = __name__
    cls.__qualname__ = name
    return cls


GlorotUniform = _preset("GlorotUniform", 1.0, "fan_avg", "uniform")
GlorotNormal = _preset("GlorotNormal", 1.0, "fan_avg", "truncated_normal")
HeUniform = _preset("HeUniform", 2.0, "fan_in", "uniform")
HeNormal = _preset("HeNormal", 2.0, "fan_in", "truncated_normal")
LecunUniform = _preset("LecunUniform", 1.0, "fan_in", "uniform")
LecunNormal = _preset("LecunNormal", 1.0, "fan_in", "truncated_normal")


class Orthogonal(RandomInitializer):
    """A (semi-)orthogonal matrix over the flattened ``(prod(shape[:-1]), shape[-1])``."""

    def __init__(self, gain=1.0, seed=None):
        super().__init__(seed)
        self.gain = gain

    def __call__(self, shape, dtype=None):
        shape = _shape(shape)
        dtype = _dtype(dtype)
        if len(shape) < 2:
            raise ValueError(f"Orthogonal needs a shape of rank >= 2, got {shape}")
        rows = int(_np.prod(shape[:-1]))
        cols = shape[-1]
        with tf.init_scope():
            a = self._normal((max(rows, cols), min(rows, cols)), 0.0, 1.0, dtype)
            q, r = tf.linalg.qr(a)
            q = q * tf.sign(tf.linalg.diag_part(r))
            if rows < cols:
                q = tf.transpose(q)
            return tf.reshape(self.gain * q, shape)

    def get_config(self):
        return {"seed": self.seed, "gain": self.gain}


class Identity(Initializer):
    def __init__(self, gain=1.0):
        self.gain = gain

    def __call__(self, shape, dtype=None):
        shape = _shape(shape)
        if len(shape) != 2:
            raise ValueError(f"Identity needs a 2D shape, got {shape}")
        with tf.init_scope():
            return self.gain * tf.eye(shape[0], shape[1], dtype=_dtype(dtype))

    def get_config(self):
        return {"gain": self.gain}


def _window(name, length, periodic):
    """Window values by name: the cosine windows in NumPy, any other through SciPy."""
    # a periodic window is the symmetric one of length + 1 with its last value dropped
    n = length + 1 if periodic else length
    coeffs = {"hann": (0.5, 0.5), "hanning": (0.5, 0.5), "hamming": (0.54, 0.46)}
    if name in coeffs:
        a0, a1 = coeffs[name]
        if n == 1:
            win = _np.ones(1)
        else:
            win = a0 - a1 * _np.cos(2.0 * _np.pi * _np.arange(n) / (n - 1))
        return win[:length]
    if name in ("boxcar", "rectangular", "ones"):
        return _np.ones(length)
    try:
        import scipy.signal
    except ImportError:
        raise ImportError(
            f"STFT window {name!r} needs SciPy (built in: hann, hamming, boxcar): "
            'pip install "rill[scipy]"'
        ) from None
    return scipy.signal.get_window(name, length, periodic)


class STFT(Initializer):
    """Conv kernels ``(frame_length, 1, fft_length // 2 + 1)`` computing the real or
    imaginary part of a windowed short-time Fourier transform."""

    def __init__(self, side="real", window="hann", scaling="density", periodic=False):
        if side not in ("real", "imag"):
            raise ValueError(f"STFT: `side` must be 'real' or 'imag', got {side!r}")
        if scaling is not None and scaling not in ("density", "spectrum"):
            raise ValueError(
                f"STFT: `scaling` must be None, 'density' or 'spectrum', got {scaling!r}"
            )
        if isinstance(window, str):
            _window(window, 1, periodic)  # an unknown window name fails here, not later
        self.side, self.window, self.scaling, self.periodic = side, window, scaling, periodic

    def __call__(self, shape, dtype=None):
        dtype = _dtype(dtype)
        frame_length, _, fft_bins = _shape(shape)
        n_fft = (fft_bins - 1) * 2
        t = _np.arange(frame_length, dtype=_np.float64).reshape(frame_length, 1, 1)
        f = _np.arange(fft_bins, dtype=_np.float64).reshape(1, 1, fft_bins)
        angle = -2.0 * _np.pi * t * f / n_fft
        kernel = _np.cos(angle) if self.side == "real" else _np.sin(angle)
        if self.window is not None:
            win = self.window
            if isinstance(win, str):
                win = _window(win, frame_length, self.periodic)
            win = _np.asarray(win, dtype=_np.float64)
            if win.ndim != 1 or win.shape[0] != frame_length:
                raise ValueError(
                    f"STFT: `window` must have shape [frame_length]=[{frame_length}], "
                    f"got {list(win.shape)}"
                )
            kernel = kernel * win.reshape(frame_length, 1, 1)
            if self.scaling == "density":
                kernel = kernel / _np.sqrt(_np.sum(win**2))
            elif self.scaling == "spectrum":
                kernel = kernel / _np.sum(_np.abs(win))
        with tf.init_scope():
            return tf.constant(kernel.astype(dtype.as_numpy_dtype))

    def get_config(self):
        window = self.window
        if window is not None and not isinstance(window, str):
            window = _np.asarray(window).tolist()
        return {"side": self.side, "window": window, "periodic": self.periodic,
                "scaling": self.scaling}  # fmt: skip


STFTInitializer = STFT


OrthogonalInitializer = Orthogonal
IdentityInitializer = Identity

_CLASSES = {
    c.__name__: c
    for c in (Zeros, Ones, Constant, RandomNormal, RandomUniform, TruncatedNormal,
              VarianceScaling, GlorotUniform, GlorotNormal, HeUniform, HeNormal, LecunUniform,
              LecunNormal, Orthogonal, Identity, STFT)
}  # fmt: skip
_CLASSES.update(
    OrthogonalInitializer=Orthogonal, IdentityInitializer=Identity, STFTInitializer=STFT
)
_ALIASES = {
    "zeros": Zeros, "zero": Zeros, "ones": Ones, "one": Ones, "constant": Constant,
    "random_normal": RandomNormal, "normal": RandomNormal, "random_uniform": RandomUniform,
    "uniform": RandomUniform, "truncated_normal": TruncatedNormal,
    "variance_scaling": VarianceScaling, "glorot_uniform": GlorotUniform,
    "glorot_normal": GlorotNormal, "he_uniform": HeUniform, "he_normal": HeNormal,
    "lecun_uniform": LecunUniform, "lecun_normal": LecunNormal, "orthogonal": Orthogonal,
    "identity": Identity, "stft": STFT,
}  # fmt: skip

# Keras 3 exports the lowercase names as aliases of the classes
zeros, ones, constant, identity = Zeros, Ones, Constant, Identity
random_normal, random_uniform, truncated_normal = RandomNormal, RandomUniform, TruncatedNormal
variance_scaling, orthogonal, stft = VarianceScaling, Orthogonal, STFT
glorot_uniform, glorot_normal = GlorotUniform, GlorotNormal
he_uniform, he_normal, lecun_uniform, lecun_normal = HeUniform, HeNormal, LecunUniform, LecunNormal

_OBJECTS = {**_CLASSES, **_ALIASES}


def serialize(initializer):
    """A Keras 3 config dict for a initializer (``None`` stays ``None``)."""
    from rill.keras.saving import serialization_lib

    return serialization_lib.serialize_catalog(initializer, _OBJECTS, "initializer")


def deserialize(config, custom_objects=None):
    """Names resolve only through this module's table, ``custom_objects``, the
    custom-object scope and the registry (nothing named in a config is imported)."""
    from rill.keras.saving import serialization_lib

    return serialization_lib.deserialize_catalog(config, _OBJECTS, "initializer", custom_objects)


def get(identifier):
    """``None``, a name, a config dict, a class (instantiated) or a callable."""
    from rill.keras.saving import serialization_lib

    return serialization_lib.get_catalog(identifier, _OBJECTS, "initializer")
