"""``tf.keras.losses``: Keras 3's loss classes and functions, built from rill ops so they
run eagerly, inside ``rill.function`` and under ``GradientTape``."""

import math as _math

import rill as tf

EPSILON = 1e-7

_REDUCTIONS = ("sum_over_batch_size", "sum", None, "none", "mean", "mean_with_sample_weight")


def _check_reduction(reduction):
    if reduction not in _REDUCTIONS:
        raise ValueError(
            f"Invalid value for argument `reduction`: {reduction!r}. Expected one of {_REDUCTIONS}."
        )
    return reduction


def _float_tensor(x, dtype=None):
    """``x`` as a floating tensor (``dtype`` if given, float32 for non-float input)."""
    if dtype is not None:
        dtype = tf.as_dtype(dtype)
        if tf.is_tensor(x):
            return x if x.dtype == dtype else tf.cast(x, dtype)
        return tf.convert_to_tensor(x, dtype=dtype)
    x = tf.convert_to_tensor(x)
    if not x.dtype.is_floating:
        x = tf.cast(x, tf.float32)
    return x


def _pair(y_true, y_pred):
    y_pred = _float_tensor(y_pred)
    y_true = tf.cast(y_true, y_pred.dtype)
    return y_true, y_pred


def _rank(x):
    return x.shape.rank


def squeeze_or_expand_to_same_rank(x1, x2, expand_rank_1=True):
    """Make ranks agree when they differ by one trailing unit dimension, as Keras does."""
    r1, r2 = _rank(x1), _rank(x2)
    if r1 is None or r2 is None or r1 == r2:
        return x1, x2
    if r1 == r2 + 1 and x1.shape[-1] == 1:
        if r2 == 1 and expand_rank_1:
            x2 = tf.expand_dims(x2, -1)
        else:
            x1 = tf.squeeze(x1, axis=[-1])
    if r2 == r1 + 1 and x2.shape[-1] == 1:
        if r1 == 1 and expand_rank_1:
            x1 = tf.expand_dims(x1, -1)
        else:
            x2 = tf.squeeze(x2, axis=[-1])
    return x1, x2


def _num_elements(x, dtype):
    n = x.shape.num_elements() if x.shape.rank is not None else None
    if n is not None:
        return tf.constant(float(n), dtype=dtype)
    return tf.cast(tf.size(x), dtype)


def reduce_weighted_values(values, sample_weight=None, mask=None,
                           reduction="sum_over_batch_size", dtype=None):  # fmt: skip
    """Weight per-sample ``values`` by ``sample_weight`` (and ``mask``) then reduce."""
    _check_reduction(reduction)
    values = _float_tensor(values, dtype)
    if mask is not None:
        mask = tf.cast(mask, values.dtype)
        if reduction in ("mean", "sum_over_batch_size"):
            # masked entries are excluded from the mean: rescale the valid ones
            scale = tf.math.divide_no_nan(_num_elements(mask, values.dtype), tf.reduce_sum(mask))
            mask = mask * scale
        if sample_weight is None:
            sample_weight = mask
        else:
            sample_weight = tf.cast(sample_weight, values.dtype)
            mask, sample_weight = squeeze_or_expand_to_same_rank(mask, sample_weight)
            sample_weight = sample_weight * mask
    if sample_weight is not None:
        sample_weight = tf.cast(sample_weight, values.dtype)
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        values = values * sample_weight
    if reduction is None or reduction == "none":
        return values
    if values.shape.rank == 0 or (values.shape.rank == 1 and values.shape[0] == 0):
        return values
    total = tf.reduce_sum(values)
    if reduction == "sum":
        return total
    if reduction == "mean_with_sample_weight" and sample_weight is not None:
        divisor = tf.reduce_sum(sample_weight)
    else:
        divisor = _num_elements(values, values.dtype)
    return tf.math.divide_no_nan(total, divisor)


# ----------------------------------------------------------------------------- functions


def mean_squared_error(y_true, y_pred):
    y_true, y_pred = _pair(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return tf.reduce_mean(tf.square(y_true - y_pred), axis=-1)


def mean_absolute_error(y_true, y_pred):
    y_true, y_pred = _pair(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return tf.reduce_mean(tf.abs(y_true - y_pred), axis=-1)


def mean_absolute_percentage_error(y_true, y_pred):
    y_true, y_pred = _pair(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    denom = tf.maximum(tf.abs(y_true), tf.constant(EPSILON, y_pred.dtype))
    return 100.0 * tf.reduce_mean(tf.abs((y_true - y_pred) / denom), axis=-1)


def mean_squared_logarithmic_error(y_true, y_pred):
    y_true, y_pred = _pair(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    eps = tf.constant(EPSILON, y_pred.dtype)
    a = tf.math.log(tf.maximum(y_pred, eps) + 1.0)
    b = tf.math.log(tf.maximum(y_true, eps) + 1.0)
    return tf.reduce_mean(tf.square(a - b), axis=-1)


def _l2_normalize(x, axis):
    sq = tf.reduce_sum(tf.square(x), axis=axis, keepdims=True)
    inv = tf.minimum(tf.math.rsqrt(sq), tf.constant(1.0 / EPSILON, x.dtype))
    return x * inv


def cosine_similarity(y_true, y_pred, axis=-1):
    y_true, y_pred = _pair(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return -tf.reduce_sum(_l2_normalize(y_true, axis) * _l2_normalize(y_pred, axis), axis=axis)


def huber(y_true, y_pred, delta=1.0):
    y_true, y_pred = _pair(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    delta = tf.constant(float(delta), y_pred.dtype) if not tf.is_tensor(delta) else delta
    err = y_pred - y_true
    abs_err = tf.abs(err)
    quad = 0.5 * tf.square(err)
    lin = delta * abs_err - 0.5 * tf.square(delta)
    return tf.reduce_mean(tf.where(abs_err <= delta, quad, lin), axis=-1)


def log_cosh(y_true, y_pred):
    y_true, y_pred = _pair(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    x = y_pred - y_true
    # log(cosh(x)) = x + log(1 + exp(-2x)) - log 2, stable for large |x|
    return tf.reduce_mean(x + tf.nn.softplus(-2.0 * x) - _math.log(2.0), axis=-1)


def kl_divergence(y_true, y_pred):
    y_true, y_pred = _pair(y_true, y_pred)
    y_true = tf.clip_by_value(y_true, EPSILON, 1.0)
    y_pred = tf.clip_by_value(y_pred, EPSILON, 1.0)
    return tf.reduce_sum(y_true * tf.math.log(y_true / y_pred), axis=-1)


def poisson(y_true, y_pred):
    y_true, y_pred = _pair(y_true, y_pred)
    return tf.reduce_mean(y_pred - y_true * tf.math.log(y_pred + EPSILON), axis=-1)


def _to_hinge_labels(y_true):
    """{0, 1} labels become {-1, 1}; labels already in another form are kept."""
    is_binary = tf.reduce_all(tf.logical_or(tf.equal(y_true, 0.0), tf.equal(y_true, 1.0)))
    return tf.where(is_binary, 2.0 * y_true - 1.0, y_true)


def hinge(y_true, y_pred):
    y_true, y_pred = _pair(y_true, y_pred)
    y_true = _to_hinge_labels(y_true)
    return tf.reduce_mean(tf.maximum(1.0 - y_true * y_pred, 0.0), axis=-1)


def squared_hinge(y_true, y_pred):
    y_true, y_pred = _pair(y_true, y_pred)
    y_true = _to_hinge_labels(y_true)
    return tf.reduce_mean(tf.square(tf.maximum(1.0 - y_true * y_pred, 0.0)), axis=-1)


def categorical_hinge(y_true, y_pred):
    y_true, y_pred = _pair(y_true, y_pred)
    pos = tf.reduce_sum(y_true * y_pred, axis=-1)
    neg = tf.reduce_max((1.0 - y_true) * y_pred, axis=-1)
    return tf.maximum(neg - pos + 1.0, 0.0)


def _check_same_shape(name, y_true, y_pred):
    if y_true.shape.rank is not None and y_pred.shape.rank is not None:
        if y_true.shape.rank != y_pred.shape.rank or not y_true.shape.is_compatible_with(
            y_pred.shape
        ):
            raise ValueError(
                f"{name}: `y_true` and `y_pred` must have the same shape. "
                f"Received: y_true.shape={y_true.shape}, y_pred.shape={y_pred.shape}"
            )


def _elementwise_bce(y_true, y_pred, from_logits):
    if from_logits:
        return tf.nn.sigmoid_cross_entropy_with_logits(labels=y_true, logits=y_pred)
    p = tf.clip_by_value(y_pred, EPSILON, 1.0 - EPSILON)
    return -(y_true * tf.math.log(p) + (1.0 - y_true) * tf.math.log(1.0 - p))


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    y_true, y_pred = _pair(y_true, y_pred)
    _check_same_shape("binary_crossentropy", y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    return tf.reduce_mean(_elementwise_bce(y_true, y_pred, from_logits), axis=axis)


def binary_focal_crossentropy(y_true, y_pred, apply_class_balancing=False, alpha=0.25, gamma=2.0,
                              from_logits=False, label_smoothing=0.0, axis=-1):  # fmt: skip
    y_true, y_pred = _pair(y_true, y_pred)
    _check_same_shape("binary_focal_crossentropy", y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        y_pred = tf.sigmoid(y_pred)
    bce = _elementwise_bce(y_true, y_pred, False)
    p_t = y_true * y_pred + (1.0 - y_true) * (1.0 - y_pred)
    loss = tf.pow(1.0 - p_t, gamma) * bce
    if apply_class_balancing:
        loss = (y_true * alpha + (1.0 - y_true) * (1.0 - alpha)) * loss
    return tf.reduce_mean(loss, axis=axis)


def _last_dim(x):
    d = x.shape[-1] if x.shape.rank else None
    if d is not None:
        return tf.constant(float(d), x.dtype)
    return tf.cast(tf.shape(x)[-1], x.dtype)


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    if isinstance(axis, bool) or not isinstance(axis, int):
        raise ValueError(f"`axis` must be an int. Received: axis={axis!r}")
    y_true, y_pred = _pair(y_true, y_pred)
    if y_true.shape.rank is not None and y_true.shape.rank < 1:
        raise ValueError(
            f"categorical_crossentropy needs inputs of rank >= 1. Received: y_true.shape="
            f"{y_true.shape}, y_pred.shape={y_pred.shape}"
        )
    _check_same_shape("categorical_crossentropy", y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / _last_dim(y_true)
    if from_logits:
        return tf.nn.softmax_cross_entropy_with_logits(labels=y_true, logits=y_pred, axis=axis)
    p = y_pred / tf.reduce_sum(y_pred, axis=axis, keepdims=True)
    p = tf.clip_by_value(p, EPSILON, 1.0 - EPSILON)
    return -tf.reduce_sum(y_true * tf.math.log(p), axis=axis)


def _sparse_ce(y_true, y_pred, from_logits=False, ignore_class=None, axis=-1):
    """Per-sample sparse categorical crossentropy and the validity mask (or None)."""
    y_pred = _float_tensor(y_pred)
    y_true = tf.convert_to_tensor(y_true)
    rank = y_pred.shape.rank
    if rank is None or rank < 1:
        raise ValueError(f"`y_pred` must be at least rank 1. Received: shape={y_pred.shape}")
    if axis not in (-1, rank - 1):
        raise ValueError(f"Only axis=-1 is supported. Received: axis={axis}")
    if y_true.shape.rank == rank and y_true.shape[-1] == 1:
        y_true = tf.squeeze(y_true, axis=[-1])
    if y_true.shape.rank is not None and y_true.shape.rank != rank - 1:
        raise ValueError(
            "sparse_categorical_crossentropy: `y_true` must have rank `y_pred.ndim - 1`. "
            f"Received: y_true.shape={y_true.shape}, y_pred.shape={y_pred.shape}"
        )
    valid = None
    if ignore_class is not None:
        valid = tf.not_equal(tf.cast(y_true, tf.int64), tf.constant(int(ignore_class), tf.int64))
        y_true = tf.where(valid, y_true, tf.zeros_like(y_true))
        y_pred = tf.where(tf.expand_dims(valid, -1), y_pred, tf.zeros_like(y_pred))
    labels = tf.cast(y_true, tf.int64)
    logits = y_pred
    if not from_logits:
        logits = tf.math.log(tf.clip_by_value(y_pred, EPSILON, 1.0 - EPSILON))
    res = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    if valid is not None:
        res = tf.where(valid, res, tf.zeros_like(res))
    return res, valid


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None,
                                    axis=-1):  # fmt: skip
    return _sparse_ce(y_true, y_pred, from_logits, ignore_class, axis)[0]


def categorical_focal_crossentropy(y_true, y_pred, alpha=0.25, gamma=2.0, from_logits=False,
                                   label_smoothing=0.0, axis=-1):  # fmt: skip
    """Categorical crossentropy with each class term scaled by ``alpha * (1 - p)**gamma``."""
    if isinstance(axis, bool) or not isinstance(axis, int):
        raise ValueError(f"categorical_focal_crossentropy: `axis` must be an int, got {axis!r}")
    y_true, y_pred = _pair(y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / _last_dim(y_true)
    if from_logits:
        y_pred = tf.nn.softmax(y_pred, axis=axis)
    p = y_pred / tf.reduce_sum(y_pred, axis=axis, keepdims=True)
    p = tf.clip_by_value(p, EPSILON, 1.0 - EPSILON)
    alpha = tf.cast(alpha, p.dtype)  # a scalar or one weight per class
    focal = alpha * tf.pow(1.0 - p, gamma) * (-y_true * tf.math.log(p))
    return tf.reduce_sum(focal, axis=axis)


def categorical_generalized_cross_entropy(y_true, y_pred, q):
    """(1 - p**q) / q for the probability ``p`` of each sample's integer label: between
    crossentropy (q -> 0) and mean absolute error (q = 1), and robust to noisy labels."""
    y_pred = _float_tensor(y_pred)
    labels = tf.cast(tf.convert_to_tensor(y_true), tf.int32)
    if labels.shape.rank is not None and labels.shape.rank == y_pred.shape.rank:
        labels = tf.squeeze(labels, axis=[-1])  # (batch, 1) labels
    one_hot = tf.one_hot(labels, tf.shape(y_pred)[-1], dtype=y_pred.dtype)
    p = tf.reduce_sum(y_pred * one_hot, axis=-1)
    return (1.0 - tf.pow(p, q)) / q


def ctc(y_true, y_pred):
    """CTC loss of integer label rows ``y_true`` (batch, max_length; 0 is the blank and
    pads) given logits ``y_pred`` (batch, time, classes)."""
    from rill.keras.ops import nn as _nn

    y_true = tf.convert_to_tensor(y_true)
    y_pred = _float_tensor(y_pred)
    if y_true.shape.rank != 2:
        raise ValueError(
            "ctc: `y_true` must be integer labels of shape (batch_size, max_length). "
            f"Received: y_true.shape={y_true.shape}"
        )
    if y_pred.shape.rank != 3:
        raise ValueError(
            "ctc: `y_pred` must be logits of shape (batch_size, max_length, num_classes). "
            f"Received: y_pred.shape={y_pred.shape}"
        )
    batch, steps = tf.shape(y_pred)[0], tf.shape(y_pred)[1]
    logit_length = tf.fill([batch], tf.cast(steps, tf.int32))
    label_length = tf.reduce_sum(tf.cast(tf.not_equal(y_true, 0), tf.int32), axis=-1)
    return _nn.ctc_loss(y_true, y_pred, label_length, logit_length, mask_index=0)


def dice(y_true, y_pred, axis=None):
    """1 - 2 sum(y_true * y_pred) / (sum(y_true) + sum(y_pred)), over ``axis`` (all if None)."""
    y_true, y_pred = _pair(y_true, y_pred)
    inter = tf.reduce_sum(y_true * y_pred, axis=axis)
    total = tf.reduce_sum(y_true, axis=axis) + tf.reduce_sum(y_pred, axis=axis)
    return 1.0 - 2.0 * inter / (total + EPSILON)


def tversky(y_true, y_pred, alpha=0.5, beta=0.5, axis=None):
    """1 - TP / (TP + alpha FP + beta FN), soft counts over ``axis`` (all if None)."""
    y_true, y_pred = _pair(y_true, y_pred)
    tp = tf.reduce_sum(y_true * y_pred, axis=axis)
    # Keras 3 weighs by these soft counts: "fp" is the target mass missed by y_pred
    fp = tf.reduce_sum((1.0 - y_pred) * y_true, axis=axis)
    fn = tf.reduce_sum(y_pred * (1.0 - y_true), axis=axis)
    return 1.0 - tp / (tp + alpha * fp + beta * fn + EPSILON)


def circle(y_true, y_pred, ref_labels=None, ref_embeddings=None, remove_diagonal=True, gamma=80,
           margin=0.4):  # fmt: skip
    """Circle loss of L2-normalised embeddings ``y_pred`` with integer labels ``y_true``
    against a reference set (the batch itself by default)."""
    y_pred = _float_tensor(y_pred)
    labels = tf.reshape(tf.cast(tf.convert_to_tensor(y_true), tf.int32), [-1, 1])
    ref = y_pred if ref_embeddings is None else tf.cast(ref_embeddings, y_pred.dtype)
    ref_lab = labels if ref_labels is None else tf.reshape(tf.cast(ref_labels, tf.int32), [-1, 1])
    dist = tf.maximum(1.0 - tf.matmul(y_pred, ref, transpose_b=True), 0.0)
    pos = tf.equal(labels, tf.transpose(ref_lab))
    neg = tf.logical_not(pos)
    if remove_diagonal:
        eye = tf.eye(tf.size(labels), tf.size(ref_lab), dtype=tf.bool)
        pos = tf.logical_and(pos, tf.logical_not(eye))
    pos_f, neg_f = tf.cast(pos, dist.dtype), tf.cast(neg, dist.dtype)
    # self-paced weights: a pair far from its optimum (margin, 1 + margin) weighs more
    pos_w = tf.maximum((margin + dist) * pos_f, 0.0)
    neg_w = tf.maximum((1.0 + margin - dist) * neg_f, 0.0)
    pos_logits = -gamma * pos_w * (margin - dist)
    neg_logits = gamma * neg_w * (1.0 - margin - dist)
    minus_inf = tf.fill(tf.shape(dist), tf.constant(float("-inf"), dist.dtype))
    p_loss = tf.reduce_logsumexp(tf.where(pos, pos_logits, minus_inf), axis=1)
    n_loss = tf.reduce_logsumexp(tf.where(neg, neg_logits, minus_inf), axis=1)
    return tf.nn.softplus(p_loss + n_loss)


# short aliases, as Keras exports them
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kullback_leibler_divergence = kl_divergence
logcosh = log_cosh
bce = BCE = binary_crossentropy


# ----------------------------------------------------------------------------- classes


class Loss:
    """Base class: subclasses implement ``call(y_true, y_pred)`` returning per-sample losses;
    ``__call__`` applies ``sample_weight`` and the ``reduction``."""

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        self.name = name or _snake(type(self).__name__)
        self.reduction = _check_reduction(reduction)
        self._dtype = dtype

    @property
    def dtype(self):
        return tf.as_dtype(self._dtype).name if self._dtype is not None else "float32"

    def call(self, y_true, y_pred):
        raise NotImplementedError(f"{type(self).__name__} must implement `call`.")

    def _call_with_mask(self, y_true, y_pred):
        return self.call(y_true, y_pred), None

    def __call__(self, y_true, y_pred, sample_weight=None):
        with tf.name_scope(self.name):
            dtype = self.dtype
            y_pred = tf.nest.map_structure(lambda x: _float_tensor(x, dtype), y_pred)
            y_true = tf.nest.map_structure(lambda x: _float_tensor(x, dtype), y_true)
            losses, mask = self._call_with_mask(y_true, y_pred)
            return reduce_weighted_values(
                losses, sample_weight=sample_weight, mask=mask, reduction=self.reduction,
                dtype=dtype,
            )  # fmt: skip

    def get_config(self):
        config = {"name": self.name, "reduction": self.reduction}
        if self._dtype is not None:
            config["dtype"] = tf.as_dtype(self._dtype).name
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r} reduction={self.reduction!r}>"


def _snake(name):
    out = []
    for i, c in enumerate(name):
        if c.isupper() and i and not name[i - 1].isupper():
            out.append("_")
        out.append(c.lower())
    return "".join(out)


class LossFunctionWrapper(Loss):
    """A ``Loss`` around a function ``fn(y_true, y_pred, **kwargs)``."""

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, dtype=None, **kwargs):
        if isinstance(fn, (str, dict)):
            fn = deserialize(fn)
        if not callable(fn):
            raise TypeError(f"LossFunctionWrapper needs a callable `fn`, got {fn!r}")
        super().__init__(name=name or getattr(fn, "__name__", None), reduction=reduction,
                         dtype=dtype)  # fmt: skip
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true, y_pred):
        if tf.is_tensor(y_true) and tf.is_tensor(y_pred):
            y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self):
        config = super().get_config()
        config["fn"] = serialize(self.fn)
        config.update(self._fn_kwargs)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if "fn" in config:
            config["fn"] = deserialize(config["fn"])
        return cls(**config)

    def __repr__(self):
        return f"<LossFunctionWrapper({getattr(self.fn, '__name__', self.fn)}, kwargs={self._fn_kwargs})>"


class _Wrapped(LossFunctionWrapper):
    """Built-in wrapper: its config lists its own arguments, not ``fn``."""

    _fn = None
    _default_name = None

    def __init__(self, reduction="sum_over_batch_size", name=None, dtype=None, **kwargs):
        super().__init__(type(self)._fn, reduction=reduction, name=name or self._default_name,
                         dtype=dtype, **kwargs)  # fmt: skip

    def get_config(self):
        config = Loss.get_config(self)
        config.update(self._fn_kwargs)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config.pop("fn", None)
        return cls(**config)


def _define(cls_name, fn, default_name, params=()):
    params = tuple(params)

    def __init__(self, *args, **kwargs):
        names = [k for k, _ in params] + ["reduction", "name", "dtype"]
        if len(args) > len(names):
            raise TypeError(f"{cls_name} takes at most {len(names)} positional arguments")
        values = dict(params)
        values.update(reduction="sum_over_batch_size", name=default_name, dtype=None)
        for key, value in zip(names, args):
            values[key] = value
        for key, value in kwargs.items():
            if key not in values:
                raise TypeError(f"{cls_name} got an unexpected argument {key!r}; valid: {names}")
            values[key] = value
        reduction, name, dtype = values.pop("reduction"), values.pop("name"), values.pop("dtype")
        _Wrapped.__init__(self, reduction=reduction, name=name, dtype=dtype, **values)

    cls = type(cls_name, (_Wrapped,), {"_fn": staticmethod(fn), "_default_name": default_name,
                                       "__init__": __init__,
                                       "__doc__": f"Keras' ``{cls_name}`` loss."})  # fmt: skip
    cls.__module__ = __name__
    cls.__qualname__ = cls_name
    return cls


class SparseCategoricalCrossentropy(_Wrapped):
    """Crossentropy between integer labels and class probabilities/logits."""

    _fn = staticmethod(sparse_categorical_crossentropy)
    _default_name = "sparse_categorical_crossentropy"

    def __init__(self, from_logits=False, ignore_class=None, reduction="sum_over_batch_size",
                 axis=-1, name="sparse_categorical_crossentropy", dtype=None):  # fmt: skip
        super().__init__(reduction=reduction, name=name, dtype=dtype, from_logits=from_logits,
                         ignore_class=ignore_class)  # fmt: skip
        self.axis = axis

    def call(self, y_true, y_pred):
        return self._call_with_mask(y_true, y_pred)[0]

    def _call_with_mask(self, y_true, y_pred):
        return _sparse_ce(y_true, y_pred, axis=self.axis, **self._fn_kwargs)


BinaryCrossentropy = _define(
    "BinaryCrossentropy",
    binary_crossentropy,
    "binary_crossentropy",
    [("from_logits", False), ("label_smoothing", 0.0), ("axis", -1)],
)
CategoricalCrossentropy = _define(
    "CategoricalCrossentropy",
    categorical_crossentropy,
    "categorical_crossentropy",
    [("from_logits", False), ("label_smoothing", 0.0), ("axis", -1)],
)
BinaryFocalCrossentropy = _define(
    "BinaryFocalCrossentropy",
    binary_focal_crossentropy,
    "binary_focal_crossentropy",
    [
        ("apply_class_balancing", False),
        ("alpha", 0.25),
        ("gamma", 2.0),
        ("from_logits", False),
        ("label_smoothing", 0.0),
        ("axis", -1),
    ],
)
Poisson = _define("Poisson", poisson, "poisson")
KLDivergence = _define("KLDivergence", kl_divergence, "kl_divergence")
MeanSquaredError = _define("MeanSquaredError", mean_squared_error, "mean_squared_error")
MeanAbsoluteError = _define("MeanAbsoluteError", mean_absolute_error, "mean_absolute_error")
MeanAbsolutePercentageError = _define(
    "MeanAbsolutePercentageError", mean_absolute_percentage_error, "mean_absolute_percentage_error"
)
MeanSquaredLogarithmicError = _define(
    "MeanSquaredLogarithmicError", mean_squared_logarithmic_error, "mean_squared_logarithmic_error"
)
CosineSimilarity = _define(
    "CosineSimilarity", cosine_similarity, "cosine_similarity", [("axis", -1)]
)
Huber = _define("Huber", huber, "huber_loss", [("delta", 1.0)])
LogCosh = _define("LogCosh", log_cosh, "log_cosh")
Hinge = _define("Hinge", hinge, "hinge")
SquaredHinge = _define("SquaredHinge", squared_hinge, "squared_hinge")
CategoricalHinge = _define("CategoricalHinge", categorical_hinge, "categorical_hinge")


class Reduction:
    """The reduction names of the legacy ``tf.keras.losses.Reduction`` enum."""

    AUTO = "auto"
    NONE = "none"
    SUM = "sum"
    SUM_OVER_BATCH_SIZE = "sum_over_batch_size"

    @classmethod
    def all(cls):
        """The four reduction names."""
        return (cls.AUTO, cls.NONE, cls.SUM, cls.SUM_OVER_BATCH_SIZE)

    @classmethod
    def validate(cls, key):
        """Raise ``ValueError`` unless ``key`` is one of ``all()``."""
        if key not in cls.all():
            raise ValueError(f"Invalid Reduction Key: {key}. Expected keys are {cls.all()}")


CategoricalFocalCrossentropy = _define(
    "CategoricalFocalCrossentropy",
    categorical_focal_crossentropy,
    "categorical_focal_crossentropy",
    [("alpha", 0.25), ("gamma", 2.0), ("from_logits", False), ("label_smoothing", 0.0),
     ("axis", -1)],
)  # fmt: skip


class CategoricalGeneralizedCrossEntropy(_Wrapped):
    """Generalized crossentropy of integer labels, robust to label noise (0 < q < 1)."""

    _fn = staticmethod(categorical_generalized_cross_entropy)
    _default_name = "categorical_generalized_cross_entropy"

    def __init__(self, q=0.5, reduction="sum_over_batch_size",
                 name="categorical_generalized_cross_entropy", dtype=None):  # fmt: skip
        if not 0 < q < 1:
            raise ValueError(f"CategoricalGeneralizedCrossEntropy: `q` must be in (0, 1), got {q}")
        super().__init__(reduction=reduction, name=name, dtype=dtype, q=q)
        self.q = q


class CTC(_Wrapped):
    """Connectionist temporal classification loss (labels: 0 is the blank and padding)."""

    _fn = staticmethod(ctc)
    _default_name = "ctc"

    def __init__(self, reduction="sum_over_batch_size", name="ctc", dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype)


class Dice(_Wrapped):
    """Dice loss: 1 - the soft Dice coefficient over ``axis`` (all axes if None)."""

    _fn = staticmethod(dice)
    _default_name = "dice"

    def __init__(self, reduction="sum_over_batch_size", name="dice", axis=None, dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype, axis=axis)
        self.axis = axis


class Tversky(_Wrapped):
    """Tversky loss: Dice with false positives and negatives weighted by alpha and beta."""

    _fn = staticmethod(tversky)
    _default_name = "tversky"

    def __init__(self, alpha=0.5, beta=0.5, reduction="sum_over_batch_size", name="tversky",
                 axis=None, dtype=None):  # fmt: skip
        super().__init__(reduction=reduction, name=name, dtype=dtype, alpha=alpha, beta=beta,
                         axis=axis)  # fmt: skip
        self.alpha, self.beta, self.axis = alpha, beta, axis


class Circle(_Wrapped):
    """Circle loss for metric learning; samples whose loss is 0 are left out of the mean."""

    _fn = staticmethod(circle)
    _default_name = "circle"

    def __init__(self, gamma=80.0, margin=0.4, remove_diagonal=True,
                 reduction="sum_over_batch_size", name="circle", dtype=None):  # fmt: skip
        super().__init__(reduction=reduction, name=name, dtype=dtype, gamma=gamma,
                         margin=margin, remove_diagonal=remove_diagonal)  # fmt: skip
        self.gamma, self.margin, self.remove_diagonal = gamma, margin, remove_diagonal

    def _call_with_mask(self, y_true, y_pred):
        # as in Keras 3, samples with a zero loss are masked out of the reduction
        losses = self.call(y_true, y_pred)
        return losses, losses > 0


# fmt: on

# ----------------------------------------------------------------------------- lookup

_CLASSES = {
    c.__name__: c
    for c in (
        Loss, LossFunctionWrapper, BinaryCrossentropy, CategoricalCrossentropy,
        SparseCategoricalCrossentropy, BinaryFocalCrossentropy, Poisson, KLDivergence,
        MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
        MeanSquaredLogarithmicError, CosineSimilarity, Huber, LogCosh, Hinge, SquaredHinge,
        CategoricalHinge, CategoricalFocalCrossentropy, CategoricalGeneralizedCrossEntropy, CTC,
        Dice, Tversky, Circle,
    )
}  # fmt: skip

_FUNCTIONS = {
    "mean_squared_error": mean_squared_error, "mse": mean_squared_error,
    "MSE": mean_squared_error,
    "mean_absolute_error": mean_absolute_error, "mae": mean_absolute_error,
    "MAE": mean_absolute_error,
    "mean_absolute_percentage_error": mean_absolute_percentage_error,
    "mape": mean_absolute_percentage_error, "MAPE": mean_absolute_percentage_error,
    "mean_squared_logarithmic_error": mean_squared_logarithmic_error,
    "msle": mean_squared_logarithmic_error, "MSLE": mean_squared_logarithmic_error,
    "kl_divergence": kl_divergence, "kld": kl_divergence, "KLD": kl_divergence,
    "kullback_leibler_divergence": kl_divergence,
    "binary_crossentropy": binary_crossentropy, "bce": binary_crossentropy,
    "BCE": binary_crossentropy,
    "categorical_crossentropy": categorical_crossentropy,
    "sparse_categorical_crossentropy": sparse_categorical_crossentropy,
    "binary_focal_crossentropy": binary_focal_crossentropy,
    "poisson": poisson, "cosine_similarity": cosine_similarity, "huber": huber,
    "log_cosh": log_cosh, "logcosh": log_cosh, "hinge": hinge, "squared_hinge": squared_hinge,
    "categorical_hinge": categorical_hinge,
    "categorical_focal_crossentropy": categorical_focal_crossentropy,
    "categorical_generalized_cross_entropy": categorical_generalized_cross_entropy,
    "ctc": ctc, "dice": dice, "tversky": tversky, "circle": circle,
}  # fmt: skip

_OBJECTS = {**_FUNCTIONS, **_CLASSES}


def serialize(loss):
    """A Keras 3 config dict for a loss (``None`` stays ``None``)."""
    from rill.keras.saving import serialization_lib

    return serialization_lib.serialize_catalog(loss, _OBJECTS, "loss")


def deserialize(name, custom_objects=None):
    """A loss from its name or config dict (Keras 3 calls the argument ``name``); names
    resolve only through this module's table, ``custom_objects``, the custom-object scope
    and the registry (nothing named in a config is imported)."""
    from rill.keras.saving import serialization_lib

    return serialization_lib.deserialize_catalog(name, _OBJECTS, "loss", custom_objects)


def get(identifier):
    """A loss from ``None``, a name (function, or class instantiated), a config dict or a
    callable."""
    from rill.keras.saving import serialization_lib

    return serialization_lib.get_catalog(identifier, _OBJECTS, "loss")
