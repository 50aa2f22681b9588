"""Attention layers: ``MultiHeadAttention``, ``GroupedQueryAttention`` (exported, as in
Keras, as ``GroupQueryAttention`` too), ``Attention`` (dot-product / concat scores, Luong)
and ``AdditiveAttention`` (Bahdanau).

The multi-head layers own Keras 3's sublayers, ``EinsumDense`` projections named
``query``, ``key``, ``value`` and ``attention_output`` (and ``gate`` with ``use_gate``),
so their weights, names and shapes are Keras' and weight files move both ways. Scores are
``einsum(key, query)`` over the attention axes, softmaxed with the mask; as in Keras
3.15 on TensorFlow, a rank-3 query without dropout or returned scores takes the fused
dot-product-attention path, where a fully masked row attends uniformly instead of giving
zeros.
"""

from __future__ import annotations

import math
import string

import rill as tf
import rill.keras.layers.conv_utils as cu
from rill.keras import constraints, initializers, regularizers
from rill.keras.layer import get_keras_mask, set_keras_mask
from rill.keras.layers.activations import Softmax
from rill.keras.layers.core import Dropout
from rill.keras.layers.einsum_dense import EinsumDense
from rill.keras.layers.input_spec import SpecLayer

__all__ = [
    "MultiHeadAttention", "GroupedQueryAttention", "GroupQueryAttention", "Attention",
    "AdditiveAttention",
]  # fmt: skip

_LETTERS = string.ascii_lowercase
_DPA_NEGATIVE = -0.7 * 3.38953e38  # what Keras' fused path puts at masked logits


def projection_equation(free, bound, out):
    """The einsum of a dense projection: ``free`` pass-through dims, ``bound`` contracted
    dims, ``out`` new dims -> (equation, bias axes, output rank)."""
    f = _LETTERS[:free]
    b = _LETTERS[free : free + bound]
    o = _LETTERS[free + bound : free + bound + out]
    return f"{f}{b},{b}{o}->{f}{o}", o, free + out


def attention_equations(rank, attn_axes):
    """For projected (batch, ..., heads, dim) tensors of ``rank``: the score einsum
    ``key, query -> scores`` (non-attention axes first, then the query's attention axes,
    then the key's), the combine einsum ``scores, value -> output`` and the scores' rank."""
    target = _LETTERS[:rank]
    batch = [i for i in range(rank - 1) if i not in attn_axes]
    source = list(target)
    extra = iter(_LETTERS[rank:])
    for i in attn_axes:
        source[i] = next(extra)
    source = "".join(source)
    product = "".join([target[i] for i in batch] + [target[i] for i in attn_axes]
                      + [source[i] for i in attn_axes])  # fmt: skip
    return f"{source},{target}->{product}", f"{product},{source}->{target}", len(product)


def _output_shape(rank, known):
    return [None] * (rank - len(known)) + list(known)


def _positive_int(owner, name, value, allow_none=False):
    if allow_none and value is None:
        return
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(
            f"{owner}: Received an invalid value for argument `{name}`, expected a positive "
            f"integer{' or `None`' if allow_none else ''}. Received: {name}={value}"
        )


def _causal_mask(q_len, v_len):
    """(1, q_len, v_len) bool: query position i sees key positions <= i."""
    rows = tf.cumsum(tf.ones(tf.stack([1, q_len, v_len]), tf.int32), axis=-2)
    cols = tf.cumsum(tf.ones(tf.stack([1, q_len, v_len]), tf.int32), axis=-1)
    return tf.greater_equal(rows, cols)


def _window_mask(q_len, v_len, window):
    rows = tf.reshape(tf.range(q_len), [1, -1, 1])
    cols = tf.reshape(tf.range(v_len), [1, 1, -1])
    return tf.less(tf.abs(rows - cols), window)


def combined_mask(query, value, query_mask, value_mask, key_mask, attention_mask,
                  use_causal_mask, sliding_window=None):  # fmt: skip
    """The (batch, T, S) bool mask from the padding masks, causality, a sliding window and
    an explicit ``attention_mask``; None when there is no mask at all."""
    auto = None

    def both(a, b):
        return b if a is None else tf.logical_and(a, b)

    if query_mask is not None:
        auto = tf.expand_dims(tf.cast(query_mask, tf.bool), -1)
    for m in (value_mask, key_mask):
        if m is not None:
            auto = both(auto, tf.expand_dims(tf.cast(m, tf.bool), -2))
    q_len, v_len = tf.shape(query)[1], tf.shape(value)[1]
    if use_causal_mask:
        auto = both(auto, _causal_mask(q_len, v_len))
    if sliding_window is not None:
        auto = both(auto, _window_mask(q_len, v_len, sliding_window))
    if attention_mask is not None:
        attention_mask = tf.cast(attention_mask, tf.bool)
    if auto is not None:
        attention_mask = auto if attention_mask is None else tf.logical_and(attention_mask, auto)
    return attention_mask


class _MultiHead(SpecLayer):
    """The call protocol shared by the multi-head layers: ``layer(query, value, key=None,
    ..., attention_mask=None, return_attention_scores=False, training=None,
    use_causal_mask=False)``; the projections are built on the first call."""

    def __call__(self, query=None, value=None, key=None, **kwargs):
        if query is None or value is None:
            raise ValueError(
                f"{cu.owner(self)}: both `query` and `value` are required, got "
                f"query={query!r}, value={value!r}."
            )
        if key is not None:
            kwargs["key"] = key
        for k in ("query_mask", "value_mask", "key_mask"):
            if kwargs.get(k) is None:
                kwargs.pop(k, None)
        return super().__call__(query, value, **kwargs)

    def _record_shapes(self, query_shape, value_shape, key_shape):
        shapes = {"query_shape": cu.dims(query_shape), "value_shape": cu.dims(value_shape)}
        if key_shape is not None:
            shapes["key_shape"] = cu.dims(key_shape)
        self.__dict__["_shapes_dict"] = shapes

    def get_build_config(self):
        shapes = self.__dict__.get("_shapes_dict")
        return None if shapes is None else {"shapes_dict": shapes}

    def build_from_config(self, config):
        shapes = (config or {}).get("shapes_dict")
        if shapes:
            self.build(**shapes)
        self.built = True

    def _common_kwargs(self):
        return dict(
            kernel_initializer=self._kernel_initializer.clone()
            if hasattr(self._kernel_initializer, "clone") else self._kernel_initializer,
            bias_initializer=self._bias_initializer.clone()
            if hasattr(self._bias_initializer, "clone") else self._bias_initializer,
            kernel_regularizer=self._kernel_regularizer,
            bias_regularizer=self._bias_regularizer,
            activity_regularizer=self._activity_regularizer,
            kernel_constraint=self._kernel_constraint,
            bias_constraint=self._bias_constraint,
            dtype=self._dtype,
        )  # fmt: skip

    def _softmax_scores(self, scores, mask, n_attn):
        if mask is not None:
            for _ in range(scores.shape.rank - mask.shape.rank):
                mask = tf.expand_dims(mask, -n_attn * 2 - 1)
        return self._softmax(scores, mask=mask)

    def _fused_attention(self, query, key, value, mask, scale):
        """Keras' dot-product-attention path (rank-4 projections): logits scaled after the
        product, masked logits at a huge negative value (a fully masked row is uniform)."""
        logits = tf.einsum("btnh,bsnh->bnts", query, key) * tf.cast(scale, query.dtype)
        if mask is not None:
            for _ in range(4 - mask.shape.rank):
                mask = tf.expand_dims(mask, -3)
            logits = tf.where(mask, logits, tf.cast(_DPA_NEGATIVE, logits.dtype))
        probs = tf.nn.softmax(logits, axis=-1)
        return tf.einsum("bnts,bsnh->btnh", probs, value)


class MultiHeadAttention(_MultiHead):
    """Multi-head attention (Vaswani et al., 2017): ``num_heads`` heads of size
    ``key_dim`` (``value_dim`` for values), over ``attention_axes`` (default: every axis
    between the batch and the features), projected back to ``output_shape`` (default:
    the query's last dimension)."""

    def __init__(
        self,
        num_heads,
        key_dim,
        value_dim=None,
        dropout=0.0,
        use_bias=True,
        output_shape=None,
        attention_axes=None,
        sliding_window=None,
        flash_attention=None,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        use_gate=False,
        seed=None,
        **kwargs,
    ):
        who = type(self).__name__
        _positive_int(who, "num_heads", num_heads)
        _positive_int(who, "key_dim", key_dim)
        _positive_int(who, "value_dim", value_dim, allow_none=True)
        super().__init__(**kwargs)
        self.supports_masking = True
        self._num_heads = num_heads
        self._key_dim = key_dim
        self._value_dim = value_dim if value_dim else key_dim
        self._dropout = dropout
        self._use_bias = use_bias
        self._use_gate = use_gate
        if output_shape:
            if isinstance(output_shape, int):
                output_shape = (output_shape,)
            try:
                output_shape = tuple(output_shape)
            except TypeError:
                raise ValueError(
                    f"{who}: Invalid `output_shape`: {output_shape}. When specified, the "
                    "`output_shape` should be of type tuple, list, or int."
                ) from None
        self._output_shape = output_shape
        if flash_attention:
            raise ValueError(
                f"{who}: flash attention is not supported by rill (as by Keras on its "
                "TensorFlow backend); pass flash_attention=None or False."
            )
        self._flash_attention = False
        self._kernel_initializer = initializers.get(kernel_initializer)
        self._bias_initializer = initializers.get(bias_initializer)
        self._kernel_regularizer = regularizers.get(kernel_regularizer)
        self._bias_regularizer = regularizers.get(bias_regularizer)
        self._activity_regularizer = regularizers.get(activity_regularizer)
        self._kernel_constraint = constraints.get(kernel_constraint)
        self._bias_constraint = constraints.get(bias_constraint)
        if isinstance(attention_axes, int):
            attention_axes = (attention_axes,)
        elif attention_axes and not isinstance(attention_axes, (list, tuple)):
            raise ValueError(
                f"{who}: `attention_axes` must be an int, list, or tuple.Received: "
                f"attention_axes={attention_axes}"
            )
        self._attention_axes = attention_axes
        if sliding_window is not None and (
            not isinstance(sliding_window, int) or sliding_window <= 0
        ):
            raise ValueError(
                f"{who}: `sliding_window` must be `None` or a positive integer. Received: "
                f"sliding_window={sliding_window}"
            )
        self._sliding_window = sliding_window
        self.seed = seed
        self._inverse_sqrt_key_dim = 1.0 / math.sqrt(float(self._key_dim))
        self.query_dense = None

    num_heads = property(lambda self: self._num_heads)
    key_dim = property(lambda self: self._key_dim)
    value_dim = property(lambda self: self._value_dim)
    dropout = property(lambda self: self._dropout)
    use_bias = property(lambda self: self._use_bias)
    attention_axes = property(lambda self: self._attention_axes)
    _query_dense = property(lambda self: self.query_dense)
    _key_dense = property(lambda self: self.key_dense)
    _value_dense = property(lambda self: self.value_dense)
    _output_dense = property(lambda self: self.output_dense)

    def build(self, query_shape, value_shape=None, key_shape=None):
        if value_shape is None:  # called with the query alone: built on the first call
            return
        self._record_shapes(query_shape, value_shape, key_shape)
        query_shape, value_shape = cu.dims(query_shape), cu.dims(value_shape)
        key_shape = value_shape if key_shape is None else cu.dims(key_shape)
        if value_shape[1:-1] != key_shape[1:-1]:
            raise ValueError(
                f"{cu.owner(self)}: All dimensions of `value` and `key`, except the last one, "
                f"must be equal. Received: value_shape={tuple(value_shape)} and "
                f"key_shape={tuple(key_shape)}"
            )
        qr, vr, kr = len(query_shape), len(value_shape), len(key_shape)
        heads = [self._num_heads, self._key_dim]
        common = self._common_kwargs

        def dense(rank, dims, name, **extra):
            eq, axes, out_rank = projection_equation(rank - 1, 1, 2)
            return EinsumDense(eq, output_shape=_output_shape(out_rank - 1, dims),
                               bias_axes=axes if self._use_bias else None, name=name,
                               **extra, **common())  # fmt: skip

        self.query_dense = dense(qr, heads, "query")
        self.query_dense.build(query_shape)
        self.key_dense = dense(kr, heads, "key")
        self.key_dense.build(key_shape)
        if self._use_gate:
            self._gate_dense = dense(qr, [self._num_heads, self._value_dim], "gate",
                                    activation="sigmoid")  # fmt: skip
            self._gate_dense.build(query_shape)
        self.value_dense = dense(vr, [self._num_heads, self._value_dim], "value")
        self.value_dense.build(value_shape)
        rank = qr + 1
        if self._attention_axes is None:
            self._attention_axes = tuple(range(1, rank - 2))
        else:
            self._attention_axes = tuple(
                a if a >= 0 else rank - 1 + a for a in self._attention_axes
            )
        self._dot_product_equation, self._combine_equation, scores_rank = attention_equations(
            rank, self._attention_axes
        )
        n = len(self._attention_axes)
        self._softmax = Softmax(axis=tuple(range(scores_rank - n, scores_rank)), dtype=self._dtype)
        self._dropout_layer = Dropout(rate=self._dropout, dtype=self._dtype, seed=self.seed)
        out = list(self._output_shape) if self._output_shape else [query_shape[-1]]
        eq, axes, out_rank = projection_equation(qr - 1, 2, len(out))
        self.output_dense = EinsumDense(
            eq, output_shape=_output_shape(out_rank - 1, out),
            bias_axes=axes if self._use_bias else None, name="attention_output", **common(),
        )  # fmt: skip
        projected = list(self.query_dense.compute_output_shape(query_shape).as_list())
        projected[-1] = self._value_dim
        self.output_dense.build(projected)
        self.built = True

    def call(self, query, value, key=None, query_mask=None, value_mask=None, key_mask=None,
             attention_mask=None, return_attention_scores=False, training=None,
             use_causal_mask=False):  # fmt: skip
        if self.query_dense is None:
            self.build(query.shape, value.shape, None if key is None else key.shape)
        if key is None:
            key = value
        query_mask = get_keras_mask(query)  # Keras 3: only the mask the query carries
        for t in (query, value, key):  # consumed here: the projections must not see them
            set_keras_mask(t, None)
        causal_only = (
            use_causal_mask and query_mask is None and value_mask is None and key_mask is None
            and attention_mask is None and self._sliding_window is None
        )  # fmt: skip
        if not causal_only:
            attention_mask = combined_mask(query, value, query_mask, value_mask, key_mask,
                                           attention_mask, use_causal_mask,
                                           self._sliding_window)  # fmt: skip
        gate = self._gate_dense(query) if self._use_gate else None
        q = self.query_dense(query)
        k = self.key_dense(key)
        v = self.value_dense(value)
        out, scores = self._attend(q, k, v, attention_mask, training, return_attention_scores,
                                   causal_only)  # fmt: skip
        if gate is not None:
            out = out * gate
        out = self.output_dense(out)
        if return_attention_scores:
            return out, scores
        return out

    def _attend(self, q, k, v, mask, training, return_scores, causal_only):
        if not (self._dropout > 0.0 or return_scores or q.shape.rank != 4):
            if causal_only:
                mask = _causal_mask(tf.shape(q)[1], tf.shape(k)[1])
            return self._fused_attention(q, k, v, mask, self._inverse_sqrt_key_dim), None
        if causal_only:
            mask = _causal_mask(tf.shape(q)[1], tf.shape(v)[1])
        q = q * tf.cast(self._inverse_sqrt_key_dim, q.dtype)
        scores = tf.einsum(self._dot_product_equation, k, q)
        scores = self._softmax_scores(scores, mask, len(self._attention_axes))
        dropped = self._dropout_layer(scores, training=training) if self._dropout > 0 else scores
        return tf.einsum(self._combine_equation, dropped, v), scores

    def compute_output_shape(self, query_shape, value_shape=None, key_shape=None):
        query_shape = tuple(cu.dims(query_shape))
        if value_shape is not None:
            value_shape = tuple(cu.dims(value_shape))
            key_shape = value_shape if key_shape is None else tuple(cu.dims(key_shape))
            if value_shape[1:-1] != key_shape[1:-1]:
                raise ValueError(
                    f"{cu.owner(self)}: All dimensions of `value` and `key`, except the last "
                    f"one, must be equal. Received: value_shape={value_shape} and "
                    f"key_shape={key_shape}"
                )
        if self._output_shape:
            query_shape = query_shape[:-1] + tuple(self._output_shape)
        return tf.TensorShape(query_shape)

    def compute_mask(self, inputs, mask=None):
        return mask

    def get_config(self):
        config = super().get_config()
        config.pop("activity_regularizer", None)
        return {
            **config,
            "num_heads": self._num_heads,
            "key_dim": self._key_dim,
            "value_dim": self._value_dim,
            "dropout": self._dropout,
            "use_bias": self._use_bias,
            "use_gate": self._use_gate,
            "output_shape": self._output_shape,
            "attention_axes": self._attention_axes,
            "sliding_window": self._sliding_window,
            "kernel_initializer": initializers.serialize(self._kernel_initializer),
            "bias_initializer": initializers.serialize(self._bias_initializer),
            "kernel_regularizer": regularizers.serialize(self._kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self._bias_regularizer),
            "activity_regularizer": regularizers.serialize(self._activity_regularizer),
            "kernel_constraint": constraints.serialize(self._kernel_constraint),
            "bias_constraint": constraints.serialize(self._bias_constraint),
            "seed": self.seed,
        }


class GroupedQueryAttention(_MultiHead):
    """Grouped-query attention (Ainslie et al., 2023): ``num_query_heads`` query heads share
    ``num_key_value_heads`` key/value heads, each of size ``head_dim``."""

    def __init__(
        self,
        head_dim,
        num_query_heads,
        num_key_value_heads,
        dropout=0.0,
        use_bias=True,
        sliding_window=None,
        flash_attention=None,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        use_gate=False,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        who = cu.owner(self)
        self.supports_masking = True
        self.head_dim = head_dim
        self.num_query_heads = num_query_heads
        self.num_key_value_heads = num_key_value_heads
        if num_query_heads % num_key_value_heads != 0:
            raise ValueError(
                f"{who}: `num_query_heads` must be divisible by `num_key_value_heads`. "
                f"Received: num_query_heads={num_query_heads}, "
                f"num_key_value_heads={num_key_value_heads}"
            )
        self.num_repeats = num_query_heads // num_key_value_heads
        self.dropout = dropout
        self.use_bias = use_bias
        self.use_gate = use_gate
        if sliding_window is not None and (
            not isinstance(sliding_window, int) or sliding_window <= 0
        ):
            raise ValueError(
                f"{who}: `sliding_window` must be `None` or a positive integer. Received: "
                f"sliding_window={sliding_window}"
            )
        self.sliding_window = sliding_window
        if flash_attention:
            raise ValueError(f"{who}: flash attention is not supported by rill.")
        self._flash_attention = False
        self._kernel_initializer = self.kernel_initializer = initializers.get(kernel_initializer)
        self._bias_initializer = self.bias_initializer = initializers.get(bias_initializer)
        self._kernel_regularizer = self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self._bias_regularizer = self.bias_regularizer = regularizers.get(bias_regularizer)
        self._activity_regularizer = regularizers.get(activity_regularizer)
        self._kernel_constraint = self.kernel_constraint = constraints.get(kernel_constraint)
        self._bias_constraint = self.bias_constraint = constraints.get(bias_constraint)
        self.seed = seed
        self._inverse_sqrt_head_dim = 1.0 / math.sqrt(float(self.head_dim))
        self._query_dense = None

    def build(self, query_shape, value_shape=None, key_shape=None):
        if value_shape is None:
            return
        self._record_shapes(query_shape, value_shape, key_shape)
        query_shape, value_shape = cu.dims(query_shape), cu.dims(value_shape)
        key_shape = value_shape if key_shape is None else cu.dims(key_shape)
        self.feature_dim = query_shape[-1]
        bias = self.use_bias
        common = self._common_kwargs
        self._query_dense = EinsumDense(
            "bqm,muh->bquh", output_shape=(None, self.num_query_heads, self.head_dim),
            bias_axes="uh" if bias else None, name="query", **common(),
        )  # fmt: skip
        self._query_dense.build(query_shape)
        self._key_dense = EinsumDense(
            "bkm,mvh->bkvh", output_shape=(None, self.num_key_value_heads, self.head_dim),
            bias_axes="vh" if bias else None, name="key", **common(),
        )  # fmt: skip
        self._key_dense.build(key_shape)
        if self.use_gate:
            self._gate_dense = EinsumDense(
                "bqm,muh->bquh", output_shape=(None, self.num_query_heads, self.head_dim),
                bias_axes="uh" if bias else None, activation="sigmoid", name="gate", **common(),
            )  # fmt: skip
            self._gate_dense.build(query_shape)
        self._value_dense = EinsumDense(
            "bkm,mvh->bkvh", output_shape=(None, self.num_key_value_heads, self.head_dim),
            bias_axes="vh" if bias else None, name="value", **common(),
        )  # fmt: skip
        self._value_dense.build(value_shape)
        self._softmax = Softmax(axis=-1, dtype=self._dtype)
        self._dropout_layer = Dropout(rate=self.dropout, dtype=self._dtype, seed=self.seed)
        self._dot_product_equation = "bquh,bkuh->buqk"
        self._combine_equation = "buqk,bkuh->bquh"
        self._output_dense = EinsumDense(
            "bquh,uhm->bqm", output_shape=(None, self.feature_dim),
            bias_axes="m" if bias else None, name="attention_output", **common(),
        )  # fmt: skip
        self._output_dense.build((None, None, self.num_query_heads, self.head_dim))
        self.built = True

    def call(self, query, value, key=None, query_mask=None, value_mask=None, key_mask=None,
             attention_mask=None, return_attention_scores=False, training=None,
             use_causal_mask=False):  # fmt: skip
        if self._query_dense is None:
            self.build(query.shape, value.shape, None if key is None else key.shape)
        if key is None:
            key = value
        causal_only = (
            use_causal_mask and query_mask is None and value_mask is None and key_mask is None
            and attention_mask is None and self.sliding_window is None
        )  # fmt: skip
        if not causal_only:
            attention_mask = combined_mask(query, value, query_mask, value_mask, key_mask,
                                           attention_mask, use_causal_mask,
                                           self.sliding_window)  # fmt: skip
        gate = self._gate_dense(query) if self.use_gate else None
        q = self._query_dense(query)
        k = tf.repeat(self._key_dense(key), self.num_repeats, axis=2)
        v = tf.repeat(self._value_dense(value), self.num_repeats, axis=2)
        if not (self.dropout > 0.0 or return_attention_scores):
            if causal_only:
                attention_mask = _causal_mask(tf.shape(q)[1], tf.shape(k)[1])
            out = self._fused_attention(q, k, v, attention_mask, self._inverse_sqrt_head_dim)
            scores = None
        else:
            if causal_only:
                attention_mask = _causal_mask(tf.shape(q)[1], tf.shape(v)[1])
            qs = q * tf.cast(self._inverse_sqrt_head_dim, q.dtype)
            scores = tf.einsum(self._dot_product_equation, qs, k)
            scores = self._softmax_scores(scores, attention_mask, 1)
            dropped = self._dropout_layer(scores, training=training) if self.dropout > 0 else scores
            out = tf.einsum(self._combine_equation, dropped, v)
        if gate is not None:
            out = out * gate
        out = self._output_dense(out)
        if return_attention_scores:
            return out, scores
        return out

    def compute_output_shape(self, query_shape, value_shape=None, key_shape=None):
        q = tuple(cu.dims(query_shape))
        if value_shape is not None:
            v = tuple(cu.dims(value_shape))
            k = v if key_shape is None else tuple(cu.dims(key_shape))
            if q[-1] != v[-1]:
                raise ValueError(
                    f"{cu.owner(self)}: The last dimension of `query_shape` and `value_shape` "
                    f"must be equal, but are {q[-1]}, {v[-1]}. Received: query_shape={q}, "
                    f"value_shape={v}"
                )
            if v[1:-1] != k[1:-1]:
                raise ValueError(
                    f"{cu.owner(self)}: All dimensions of `value` and `key`, except the last "
                    f"one, must be equal. Received: value_shape={v} and key_shape={k}"
                )
        return tf.TensorShape(q)

    def compute_mask(self, inputs, mask=None):
        return mask

    def get_config(self):
        config = super().get_config()
        config.pop("activity_regularizer", None)
        return {
            **config,
            "head_dim": self.head_dim,
            "num_query_heads": self.num_query_heads,
            "num_key_value_heads": self.num_key_value_heads,
            "use_bias": self.use_bias,
            "use_gate": self.use_gate,
            "sliding_window": self.sliding_window,
            "dropout": self.dropout,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": regularizers.serialize(self._activity_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
            "seed": self.seed,
        }


# Keras exports the class under this name; its weights files key it by the class' own
# name (``grouped_query_attention``), which rill's saving derives from ``__name__`` too.
GroupQueryAttention = GroupedQueryAttention


class Attention(SpecLayer):
    """Dot-product attention (Luong): ``layer([query, value(, key)], mask=[query_mask,
    value_mask])``; ``score_mode`` "dot" (``q . k``) or "concat" (``sum(tanh(q + k))``),
    optionally scaled by a learned scalar (``use_scale``)."""

    def __init__(self, use_scale=False, score_mode="dot", dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.use_scale = use_scale
        self.score_mode = score_mode
        self.dropout = dropout
        self.seed = seed
        if score_mode not in ("dot", "concat"):
            raise ValueError(
                f"{type(self).__name__}: Invalid value for argument score_mode. Expected one "
                f"of {{'dot', 'concat'}}. Received: score_mode={score_mode}"
            )
        self.supports_masking = True

    def _validate(self, inputs, mask=None):
        name = type(self).__name__
        if not isinstance(inputs, list):
            raise ValueError(
                f"{name} layer must be called on a list of inputs, namely [query, value] or "
                f"[query, value, key]. Received: inputs={inputs}."
            )
        if not 2 <= len(inputs) <= 3:
            raise ValueError(
                f"{name} layer accepts inputs list of length 2 or 3, namely [query, value] or "
                f"[query, value, key]. Received length: {len(inputs)}."
            )
        if mask is not None:
            if not isinstance(mask, list):
                raise ValueError(
                    f"{name} layer mask must be a list, namely [query_mask, value_mask]. "
                    f"Received: mask={mask}."
                )
            if not 2 <= len(mask) <= 3:
                raise ValueError(
                    f"{name} layer accepts mask list of length 2 or 3. Received: "
                    f"inputs={inputs}, mask={mask}."
                )

    def build(self, input_shape):
        self._validate(input_shape)
        self.scale = None
        self.concat_score_weight = None
        if self.use_scale:
            self.scale = self.add_weight(name="scale", shape=(), initializer="ones")
        if self.score_mode == "concat":
            self.concat_score_weight = self.add_weight(
                name="concat_score_weight", shape=(), initializer="ones"
            )
        self.built = True

    def _scores(self, q, k):
        if self.score_mode == "dot":
            s = tf.matmul(q, k, transpose_b=True)
            return s * self.scale if self.scale is not None else s
        q4, k4 = tf.expand_dims(q, -2), tf.expand_dims(k, -3)
        pre = q4 + k4 if self.scale is None else self.scale * (q4 + k4)
        return self.concat_score_weight * tf.reduce_sum(tf.tanh(pre), -1)

    def call(self, inputs, mask=None, training=None, return_attention_scores=False,
             use_causal_mask=False):  # fmt: skip
        self._validate(inputs, mask)
        q, v = inputs[0], inputs[1]
        k = inputs[2] if len(inputs) > 2 else v
        q_mask = mask[0] if mask else None
        v_mask = mask[1] if mask else None
        scores = self._scores(q, k)
        if use_causal_mask:
            sh = tf.shape(scores)
            causal = _causal_mask(sh[-2], sh[-1])
            smask = causal if v_mask is None else tf.logical_and(
                tf.expand_dims(tf.cast(v_mask, tf.bool), -2), causal)  # fmt: skip
        else:
            smask = None if v_mask is None else tf.cast(v_mask, tf.bool)
        if smask is not None:
            if smask.shape.rank == 2:
                smask = tf.expand_dims(smask, -2)
            scores = tf.where(smask, scores, scores - tf.cast(1e9, scores.dtype))
        weights = tf.nn.softmax(scores, axis=-1)
        if training and self.dropout > 0:
            weights = tf.nn.dropout(weights, self.dropout, seed=self.seed)
        out = tf.matmul(weights, v)
        if q_mask is not None:
            out = tf.where(tf.expand_dims(tf.cast(q_mask, tf.bool), -1), out, tf.zeros_like(out))
        if return_attention_scores:
            return out, weights
        return out

    def compute_mask(self, inputs, mask=None):
        self._validate(inputs, mask)
        if mask is None or mask[0] is None:
            return None
        return tf.convert_to_tensor(mask[0])

    def compute_output_shape(self, input_shape):
        q, v = cu.dims(input_shape[0]), cu.dims(input_shape[1])
        return tf.TensorShape([*q[:-1], v[-1]])

    def get_config(self):
        return {
            **super().get_config(),
            "use_scale": self.use_scale,
            "score_mode": self.score_mode,
            "dropout": self.dropout,
            "seed": self.seed,
        }


class AdditiveAttention(Attention):
    """Additive attention (Bahdanau): scores ``sum(scale * tanh(q + k))`` with a learned
    per-feature ``scale`` (``use_scale``)."""

    def __init__(self, use_scale=True, dropout=0.0, **kwargs):
        super().__init__(use_scale=use_scale, dropout=dropout, **kwargs)

    def build(self, input_shape):
        self._validate(input_shape)
        dim = cu.dims(input_shape[0])[-1]
        self.scale = None
        self.concat_score_weight = None
        if self.use_scale:
            self.scale = self.add_weight(name="scale", shape=(dim,), initializer="glorot_uniform")
        self.built = True

    def _scores(self, q, k):
        q4, k4 = tf.expand_dims(q, -2), tf.expand_dims(k, -3)
        t = tf.tanh(q4 + k4)
        return tf.reduce_sum(t * self.scale if self.use_scale else t, -1)

    def get_config(self):
        config = super().get_config()
        del config["score_mode"]
        return config
