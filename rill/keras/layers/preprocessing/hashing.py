"""Hashing (values to ``num_bins`` buckets by TF's FarmHash Fingerprint64, or SipHash
keyed by ``salt``) and HashedCrossing (buckets of feature crosses, by TF's
``sparse.cross_hashed`` hash)."""

from __future__ import annotations

import rill as tf
from rill.keras.layers.preprocessing._common import (
    PreprocessingLayer,
    check_choice,
    encode_categorical,
)
from rill.structures.cross_ops import hash_cross

__all__ = ["HashedCrossing", "Hashing", "cross_hash"]


def _salt_pair(salt, who):
    if salt is None:
        return None
    if isinstance(salt, (tuple, list)) and len(salt) == 2:
        return list(salt)
    if isinstance(salt, int):
        return [salt, salt]
    raise ValueError(
        f"The `salt` argument for `{who}` can only be a tuple of size 2 integers, or a "
        f"single integer. Received: salt={salt}."
    )


class Hashing(PreprocessingLayer):
    """Hash strings or numbers (as their decimal strings; floats truncated to int64) into
    ``num_bins`` buckets; ``mask_value`` maps to bucket 0 and the rest to ``1..``."""

    def __init__(self, num_bins, mask_value=None, salt=None, output_mode="int", sparse=False, **kwargs):  # fmt: skip
        if kwargs.get("dtype") is None:
            kwargs["dtype"] = "int64" if output_mode == "int" else "float32"
        super().__init__(**kwargs)
        if num_bins is None or num_bins <= 0:
            raise ValueError(
                "The `num_bins` for `Hashing` cannot be `None` or non-positive values. "
                f"Received: num_bins={num_bins}."
            )
        if output_mode == "int" and self.dtype not in ("int32", "int64"):
            raise ValueError(
                "When `output_mode=\"int\"`, `dtype` should be an integer type, 'int32' or "
                f"'int64'. Received: dtype={kwargs['dtype']}"
            )
        modes = ("int", "one_hot", "multi_hot", "count")
        if output_mode not in modes:
            raise ValueError(
                "Invalid value for argument `output_mode`. Expected one of "
                f"{modes}. Received: output_mode={output_mode}"
            )
        if sparse:
            raise ValueError("Hashing: `sparse=True` is not supported by rill.")
        self.num_bins = num_bins
        self.mask_value = mask_value
        self.strong_hash = salt is not None
        self.output_mode = output_mode
        self.sparse = sparse
        self.salt = _salt_pair(salt, "Hashing")

    def call(self, inputs):
        if isinstance(inputs, tf.SparseTensor):
            ids = tf.SparseTensor(inputs.indices, self._bins(inputs.values), inputs.dense_shape)
            if self.output_mode == "int":
                return ids
            inputs, ids = None, tf.sparse.to_dense(ids)
        elif isinstance(inputs, tf.RaggedTensor):
            return inputs.with_flat_values(tf.cast(self._bins(inputs.flat_values), self.dtype))
        else:
            if self.output_mode == "one_hot" and inputs.shape.rank and inputs.shape[-1] == 1:
                inputs = tf.squeeze(inputs, -1)
            ids = self._bins(inputs)
        return encode_categorical(ids, self.output_mode, self.num_bins, self.dtype)

    def _bins(self, values):
        bins = self.num_bins
        mask = None
        if self.mask_value is not None and bins > 1:
            bins -= 1
            mask = tf.equal(values, tf.constant(self.mask_value, values.dtype))
        if values.dtype.is_floating:
            values = tf.cast(values, tf.int64)
        if values.dtype != tf.string:
            values = tf.strings.as_string(values)
        if self.strong_hash:
            ids = tf.strings.to_hash_bucket_strong(values, bins, key=self.salt)
        else:
            ids = tf.strings.to_hash_bucket_fast(values, bins)
        if mask is not None:  # bucket 0 is the mask's; the others shift up by one
            ids = tf.where(mask, tf.zeros_like(ids), ids + 1)
        return ids

    def compute_output_shape(self, input_shape):
        shape = tuple(tf.TensorShape(input_shape).as_list())
        if self.output_mode == "int":
            return shape
        if not shape:
            return (self.num_bins,)
        return shape[:-1] + (self.num_bins,)

    def get_config(self):
        return {
            **super().get_config(),
            "num_bins": self.num_bins,
            "salt": self.salt,
            "mask_value": self.mask_value,
            "output_mode": self.output_mode,
            "sparse": self.sparse,
        }


# TF's hashed feature cross (the same ids as tf.sparse.cross_hashed)
cross_hash = hash_cross


class HashedCrossing(PreprocessingLayer):
    """Hash the cross of several scalar features (int or string tensors of equal shape
    ``()``, ``(batch,)`` or ``(batch, 1)``) into ``num_bins`` buckets."""

    _nested_inputs = True

    def __init__(self, num_bins, output_mode="int", sparse=False, name=None, dtype=None, **kwargs):  # fmt: skip
        if output_mode == "int" and dtype is None:
            dtype = "int64"
        from rill.keras.saving.serialization_lib import dtype_name

        super().__init__(name=name, dtype=dtype_name(dtype))
        if sparse:
            raise ValueError("HashedCrossing: `sparse=True` is not supported by rill.")
        check_choice("HashedCrossing", "output_mode", output_mode, ("int", "one_hot"))
        self.num_bins = num_bins
        self.output_mode = output_mode
        self.sparse = sparse

    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(
                "`HashedCrossing` should be called on a list or tuple of inputs. "
                f"Received: inputs={inputs}"
            )
        if len(inputs) < 2:
            raise ValueError(
                "`HashedCrossing` should be called on at least two inputs. "
                f"Received: inputs={inputs}"
            )
        self._check(inputs)
        shape = inputs[0].shape
        flat = [tf.reshape(x, [-1]) for x in inputs]
        num_bins = int(self.num_bins)

        def kernel(*cols):
            return cross_hash(list(cols), num_bins)

        out = tf.numpy_function(kernel, flat, tf.int64, stateful=False)
        out = tf.reshape(out, tf.shape(inputs[0]))
        out.set_shape(shape) if hasattr(out, "set_shape") else None
        out = encode_categorical(out, self.output_mode, self.num_bins, self.dtype)
        return tf.cast(out, self.dtype)

    def _check(self, inputs):
        if any(isinstance(x, (tf.RaggedTensor, tf.SparseTensor)) for x in inputs):
            raise ValueError(
                f"All `HashedCrossing` inputs should be dense tensors. Received: inputs={inputs}"
            )
        first = tuple(inputs[0].shape.as_list())
        if len(first) > 2 or (len(first) == 2 and first[-1] != 1):
            raise ValueError(
                "All `HashedCrossing` inputs should have shape `()`, `(batch_size)` or "
                f"`(batch_size, 1)`. Received: inputs={inputs}"
            )
        if not all(tuple(x.shape.as_list()) == first for x in inputs[1:]):
            raise ValueError(f"All `HashedCrossing` inputs should have equal shape. Received: inputs={inputs}")  # fmt: skip
        if not all(x.dtype.is_integer or x.dtype == tf.string for x in inputs):
            raise ValueError(
                "All `HashedCrossing` inputs should have an integer or string dtype. "
                f"Received: inputs={inputs}"
            )

    def compute_output_shape(self, input_shape):
        first = tuple(input_shape[0])
        if self.output_mode == "int":
            return first
        if first and first[-1] == 1:
            return first[:-1] + (self.num_bins,)
        return first + (self.num_bins,)

    def get_config(self):
        return {
            "num_bins": self.num_bins,
            "output_mode": self.output_mode,
            "sparse": self.sparse,
            "name": self.name,
            "dtype": self.dtype,
        }
