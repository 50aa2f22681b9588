"""StringLookup and IntegerLookup: map tokens to vocabulary indices (or back, with
``invert``), with mask and out-of-vocabulary indices first, then the vocabulary; the
vocabulary is given (list, array or file) or learned by ``adapt``, most frequent first.

Indices are looked up in a ``tf.lookup.StaticHashTable`` (one primitive, so the layers
run inside ``Dataset.map`` and traced functions); out-of-vocabulary tokens spread over
``num_oov_indices`` by ``floormod`` (integers) or TF's FarmHash / keyed SipHash.
"""

from __future__ import annotations

import collections
import os

import numpy as np

import rill as tf
from rill.keras.layers.preprocessing._common import (
    PreprocessingLayer,
    batches,
    check_choice,
    encode_categorical,
    is_composite,
    to_numpy,
)

__all__ = ["IndexLookup", "IntegerLookup", "StringLookup"]

_MODES = ("int", "one_hot", "multi_hot", "count", "tf_idf")


class IndexLookup(PreprocessingLayer):
    """What StringLookup and IntegerLookup share (Keras' ``IndexLookup``)."""

    def __init__(
        self,
        max_tokens,
        num_oov_indices,
        mask_token,
        oov_token,
        vocabulary_dtype,
        vocabulary=None,
        idf_weights=None,
        invert=False,
        output_mode="int",
        sparse=False,
        pad_to_max_tokens=False,
        oov_method="floormod",
        name=None,
        salt=None,
        **kwargs,
    ):
        who = type(self).__name__
        if max_tokens is not None and max_tokens <= 1:
            raise ValueError(
                f"{who}: if set, `max_tokens` must be greater than 1. Received: "
                f"max_tokens={max_tokens}"
            )
        if pad_to_max_tokens and max_tokens is None:
            raise ValueError(
                f"{who}: if pad_to_max_tokens is True, must set `max_tokens`. Received: "
                f"max_tokens={max_tokens}"
            )
        if num_oov_indices < 0:
            raise ValueError(
                f"{who}: `num_oov_indices` must be greater than or equal to 0. Received: "
                f"num_oov_indices={num_oov_indices}"
            )
        check_choice(who, "oov_method", oov_method, ("floormod", "farmhash"))
        if salt is not None:
            if tf.as_dtype(vocabulary_dtype).is_integer and oov_method != "farmhash":
                raise ValueError(
                    "`salt` can only be used when `oov_method='farmhash'`. "
                    f"Received: oov_method={oov_method}"
                )
            if isinstance(salt, (tuple, list)) and len(salt) == 2:
                salt = list(salt)
            elif isinstance(salt, int):
                salt = [salt, salt]
            else:
                raise ValueError(
                    f"The `salt` argument for `{who}` can only be a tuple of 2 integers, "
                    f"or a single integer. Received: salt={salt}."
                )
        output_mode = {"binary": "multi_hot", "tf-idf": "tf_idf"}.get(output_mode, output_mode)
        check_choice(who, "output_mode", output_mode, _MODES)
        if invert and output_mode != "int":
            raise ValueError(
                f"{who}: `output_mode` must be `'int'` when `invert` is true. Received: "
                f"output_mode={output_mode}"
            )
        if sparse and output_mode == "int":
            raise ValueError(
                "`sparse` may only be true if `output_mode` is `'one_hot'`, `'multi_hot'`, "
                f"`'count'` or `'tf_idf'`. Received: sparse={sparse} and "
                f"output_mode={output_mode}"
            )
        if sparse:
            raise ValueError(f"{who}: `sparse=True` outputs are not supported by rill.")
        if idf_weights is not None and output_mode != "tf_idf":
            raise ValueError(
                "`idf_weights` should only be set if `output_mode` is `'tf_idf'`. Received: "
                f"idf_weights={idf_weights} and output_mode={output_mode}"
            )
        self._frozen_vocab_size = kwargs.pop("vocabulary_size", None)
        self._has_input_vocabulary = kwargs.pop("has_input_vocabulary", vocabulary is not None)
        kwargs.pop("trainable", None)
        kwargs.pop("dtype", None)
        if kwargs:
            raise ValueError(f"{who}: unrecognized keyword argument(s): {kwargs}")
        super().__init__(name=name)
        self.invert = invert
        self.max_tokens = max_tokens
        self.num_oov_indices = num_oov_indices
        self.mask_token = mask_token
        self.oov_token = oov_token
        self.output_mode = output_mode
        self.sparse = sparse
        self.pad_to_max_tokens = pad_to_max_tokens
        self.vocabulary_dtype = tf.as_dtype(vocabulary_dtype).name
        self.oov_method = oov_method
        self.salt = salt
        self.input_vocabulary = vocabulary if not isinstance(vocabulary, str) else None
        self.input_idf_weights = idf_weights
        self._is_string = self.vocabulary_dtype == "string"
        if invert:
            self._key_dtype, self._value_dtype = tf.int64, tf.as_dtype(self.vocabulary_dtype)
            self._default_value = self._encode(oov_token)
        else:
            self._key_dtype, self._value_dtype = tf.as_dtype(self.vocabulary_dtype), tf.int64
            self._default_value = self._oov_start_index() if num_oov_indices == 1 else -1
        self.idf_weights_const = None
        if output_mode == "tf_idf":
            if self._has_input_vocabulary and idf_weights is None:
                raise ValueError(
                    "When specifying the `vocabulary` argument, in TF-IDF output mode, the "
                    "`idf_weights` argument must also be provided."
                )
            if idf_weights is not None:
                self.idf_weights_const = tf.constant(np.asarray(idf_weights), tf.float32)
        self._tokens = self._as_tokens([])
        self.reset_state()
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)
        else:
            self._build_table()

    # tokens -------------------------------------------------------------------------------
    def _encode(self, token):
        """A token as the table stores it (bytes for strings, int for integers)."""
        if token is None:
            return None
        if self._is_string:
            return token.encode(self._text_encoding) if isinstance(token, str) else bytes(token)
        return int(token)

    def _decode(self, token):
        if self._is_string:
            return token.decode(self._text_encoding) if isinstance(token, bytes) else token
        return token

    _text_encoding = "utf-8"

    def _as_tokens(self, items) -> np.ndarray:
        if self._is_string:
            out = np.empty(len(items), dtype=object)
            out[:] = [self._encode(t) for t in items]
            return out
        return np.asarray([int(t) for t in items], dtype=np.int64)

    def _oov_start_index(self) -> int:
        return 1 if self.mask_token is not None and self.output_mode == "int" else 0

    def _token_start_index(self) -> int:
        return self._oov_start_index() + self.num_oov_indices

    def _build_table(self):
        start = self._token_start_index()
        ids = np.arange(start, start + len(self._tokens), dtype=np.int64)
        keys, values = (ids, self._tokens) if self.invert else (self._tokens, ids)
        init = tf.lookup.KeyValueTensorInitializer(
            tf.constant(keys, self._key_dtype), tf.constant(values, self._value_dtype)
        )
        self.lookup_table = tf.lookup.StaticHashTable(init, self._default_value)

    # vocabulary ---------------------------------------------------------------------------
    def get_vocabulary(self, include_special_tokens=True) -> list:
        """The vocabulary, index by index (mask and OOV tokens first unless excluded)."""
        specials = [self.mask_token] * self._oov_start_index() + [self.oov_token] * (
            self.num_oov_indices
        )
        tokens = [self._decode(t) for t in self._tokens.tolist()]
        vocab = specials + tokens
        return vocab if include_special_tokens else vocab[self._token_start_index() :]

    def vocabulary_size(self) -> int:
        """The number of indices: special tokens plus the vocabulary."""
        return len(self._tokens) + self._token_start_index()

    def set_vocabulary(self, vocabulary, idf_weights=None):
        """Replace the vocabulary (a list, array, tensor or the path of a one-token-per-line
        file) and, in ``tf_idf`` mode, its ``idf_weights``."""
        who = f"{type(self).__name__} {self.name!r}"
        if self.output_mode == "tf_idf":
            if idf_weights is None:
                raise ValueError("`idf_weights` must be set if output_mode is 'tf_idf'.")
        elif idf_weights is not None:
            raise ValueError(
                "`idf_weights` should only be set if output_mode is `'tf_idf'`. Received: "
                f"output_mode={self.output_mode} and idf_weights={idf_weights}"
            )
        if isinstance(vocabulary, str):
            from rill.keras.saving.serialization_lib import in_safe_mode

            if in_safe_mode():
                raise ValueError(
                    "Requested the loading of a vocabulary file outside of the model "
                    "archive, disallowed in safe mode. If you trust the source, pass "
                    "`safe_mode=False` to the loading function or call "
                    f"`keras.config.enable_unsafe_deserialization()`. Vocabulary file: "
                    f"'{vocabulary}'"
                )
            if not os.path.exists(vocabulary):
                raise ValueError(f"Vocabulary file {vocabulary} does not exist.")
            if self.output_mode == "tf_idf":
                raise ValueError(
                    "output_mode `'tf_idf'` does not support loading a vocabulary from file."
                )
            with open(vocabulary, "rb") as f:
                lines = f.read().split(b"\n")
            if lines and lines[-1] == b"":
                lines.pop()
            lines = [ln.rstrip(b"\r") for ln in lines]
            self._tokens = self._as_tokens(lines if self._is_string else [int(x) for x in lines])
            self._has_input_vocabulary = True
            self._build_table()
            self._record_vocabulary_size()
            return
        if isinstance(vocabulary, (tf.Tensor, tf.Variable)):
            vocabulary = to_numpy(vocabulary)
        items = [self._encode(t) for t in np.asarray(vocabulary, dtype=object).reshape(-1).tolist()]
        if not items:
            raise ValueError(f"Cannot set an empty vocabulary. Received: vocabulary={vocabulary}")
        oov_start, token_start = self._oov_start_index(), self._token_start_index()
        special = [self._encode(self.mask_token)] * oov_start + [
            self._encode(self.oov_token)
        ] * self.num_oov_indices
        found_special = items[:token_start] == special
        tokens = items[token_start:] if found_special else items
        repeated = [t for t, c in collections.Counter(tokens).items() if c > 1]
        if repeated:
            raise ValueError(
                f"{who}: the passed vocabulary has at least one repeated term. Please "
                f"uniquify your dataset. The repeated terms are: "
                f"{[self._decode(t) for t in repeated]}"
            )
        mask = self._encode(self.mask_token)
        if mask is not None and mask in tokens:
            raise ValueError(
                f"{who}: found reserved mask token at unexpected location in `vocabulary`. "
                "Either remove all mask and OOV tokens, or include them only at the start "
                f"of the vocabulary in precisely this order: {special}. Received: "
                f"mask_token={self.mask_token} at vocabulary index "
                f"{len(items) - 1 - items[::-1].index(mask)}"
            )
        oov = self._encode(self.oov_token)
        if oov is not None and self.invert and oov in tokens:
            raise ValueError(
                f"{who}: found reserved OOV token at unexpected location in `vocabulary`. "
                "Either remove all mask and OOV tokens, or include them only at the start "
                f"of the vocabulary in precisely this order: {special}. Received: "
                f"oov_token={self.oov_token} at vocabulary index "
                f"{len(items) - 1 - items[::-1].index(oov)}"
            )
        if self.max_tokens is not None and token_start + len(tokens) > self.max_tokens:
            raise ValueError(
                f"{who}: attempted to set a vocabulary larger than the maximum vocab size. "
                f"Received vocabulary size is {token_start + len(tokens)}; `max_tokens` is "
                f"{self.max_tokens}."
            )
        self._tokens = self._as_tokens(tokens)
        self._build_table()
        self._record_vocabulary_size()
        if self.output_mode == "tf_idf":
            w = np.asarray(to_numpy(idf_weights) if not isinstance(idf_weights, (list, tuple)) else idf_weights, dtype=np.float64)  # fmt: skip
            if len(items) != len(w):
                raise ValueError(
                    "`idf_weights` must be the same length as vocabulary. len(idf_weights) "
                    f"is {len(w)}; len(vocabulary) is {len(items)}"
                )
            if w.ndim != 1:
                raise ValueError(f"TF-IDF data must be a 1-index array. Received: {w!r}")
            front, front_value = (0, 0.0) if found_special else (token_start, np.average(w))
            back = 0
            if self.pad_to_max_tokens and self.max_tokens is not None:
                back = self.max_tokens - front - len(w)
            w = np.pad(w, (front, back), constant_values=(front_value, 0.0))
            self.idf_weights_const = tf.constant(w, tf.float32)

    def _record_vocabulary_size(self):
        if self.output_mode != "int" and not self.pad_to_max_tokens:
            new = self.vocabulary_size()
            if self._frozen_vocab_size is not None and new != self._frozen_vocab_size:
                raise RuntimeError(
                    f"When using `output_mode={self.output_mode}` and "
                    "`pad_to_max_tokens=False`, the vocabulary size cannot be changed after "
                    f"the layer is called. Old vocab size is {self._frozen_vocab_size}, new "
                    f"vocab size is {new}"
                )
        self._frozen_vocab_size = self.vocabulary_size()

    # adapt --------------------------------------------------------------------------------
    def adapt(self, data, steps=None):
        """Learn the vocabulary from ``data``: tokens by descending frequency (ties:
        the larger token first), at most ``max_tokens`` with the special ones."""
        self.reset_state()
        if isinstance(data, (list, tuple, np.ndarray, tf.Tensor)) or is_composite(data):
            if not is_composite(data):
                data = to_numpy(data)
                if data.ndim == 1:  # one token per document
                    data = data[:, None]
            self.update_state(data)
        else:
            for batch in batches(data, steps):
                self.update_state(batch)
        self.finalize_state()

    def update_state(self, data):
        """Count the tokens of one batch (rows are documents, for ``tf_idf``)."""
        if self._has_input_vocabulary:
            raise ValueError(
                f"Cannot adapt layer '{self.name}' after setting a static vocabulary via "
                "`vocabulary` argument or `set_vocabulary()` method."
            )
        rows = self._rows(data)
        for row in rows:
            self._token_counts.update(row)
        if self.output_mode == "tf_idf":
            for row in rows:
                self._document_counts.update(set(row))
            self._num_documents += len(rows)

    def _rows(self, data) -> list:
        """The documents of a batch, each a list of tokens (as the table stores them)."""
        if isinstance(data, tf.RaggedTensor):
            return [self._row_tokens(r) for r in data.to_list()]
        if isinstance(data, tf.SparseTensor):
            data = tf.sparse.to_dense(data)
        a = to_numpy(data)
        if not self._is_string:
            a = a.astype(np.int64)
        if a.ndim == 0:
            a = a[None]
        if a.ndim == 1:
            a = a[None]
        return [self._row_tokens(r) for r in a.reshape(a.shape[0], -1).tolist()]

    def _row_tokens(self, row) -> list:
        out = []
        stack = [row]
        while stack:  # ragged rows may nest: flatten in order
            x = stack.pop()
            if isinstance(x, list):
                stack.extend(reversed(x))
            else:
                out.append(self._encode(x) if self._is_string else int(x))
        return out

    def finalize_state(self):
        """Turn the counts into the vocabulary (and IDF weights)."""
        if self._has_input_vocabulary or not self._token_counts:
            self._record_vocabulary_size()
            return
        counts = self._token_counts
        for special in (self.mask_token, self.oov_token):
            if special is not None:
                counts.pop(self._encode(special), None)
        ordered = sorted(counts.items(), key=lambda kv: (kv[1], kv[0]), reverse=True)
        if self.max_tokens:
            ordered = ordered[: self.max_tokens - self._token_start_index()]
        self._tokens = self._as_tokens([t for t, _ in ordered])
        self._build_table()
        if self.output_mode == "tf_idf":
            docs = np.array([self._document_counts[t] for t, _ in ordered], np.float64)
            idf = np.log(1 + self._num_documents / (1 + docs)).astype(np.float32)
            idf = np.pad(idf, (self._token_start_index(), 0), constant_values=idf.mean())
            if self.pad_to_max_tokens and self.max_tokens is not None:
                idf = np.pad(idf, (0, self.max_tokens - idf.size))
            self.idf_weights_const = tf.constant(idf, tf.float32)
        self.reset_state()
        self._record_vocabulary_size()

    def reset_state(self):
        self._token_counts = collections.Counter()
        self._document_counts = collections.Counter()
        self._num_documents = 0

    # calling ------------------------------------------------------------------------------
    def build(self, input_shape=None):
        self.built = True

    def call(self, inputs):
        if self.output_mode != "int" and not self.pad_to_max_tokens:
            if self._frozen_vocab_size is None:
                raise RuntimeError(
                    f"When using `output_mode={self.output_mode}` and "
                    "`pad_to_max_tokens=False`, you must set the layer's vocabulary before "
                    "calling it. Either pass a `vocabulary` argument to the layer, or call "
                    "`adapt` with some sample data."
                )
        x = self._keys(inputs)
        if isinstance(x, tf.SparseTensor):
            ids = tf.SparseTensor(x.indices, self._lookup_dense(x.values), x.dense_shape)
        elif isinstance(x, tf.RaggedTensor):
            ids = x.with_flat_values(self._lookup_dense(x.flat_values))
        else:
            ids = self._lookup_dense(x)
        if self.output_mode == "int":
            return ids
        depth = self.max_tokens if self.pad_to_max_tokens else self._frozen_vocab_size
        if isinstance(ids, tf.SparseTensor):
            ids = tf.sparse.to_dense(ids, default_value=-1)
        elif isinstance(ids, tf.RaggedTensor):  # padding -1 lands in no bucket
            ids = ids.to_tensor(default_value=-1)
        mode = "count" if self.output_mode == "tf_idf" else self.output_mode
        out = encode_categorical(ids, mode, depth, tf.int64)
        if self.output_mode == "tf_idf":
            if self.idf_weights_const is None:
                raise ValueError(
                    "When `output_mode` is `'tf_idf'`, `idf_weights` must be provided."
                )
            out = tf.cast(out, tf.float32) * self.idf_weights_const
        return out

    def _keys(self, inputs):
        want = self._key_dtype
        dtype = inputs.dtype
        if dtype == want:
            return inputs
        if want == tf.string or dtype == tf.string:
            raise TypeError(
                f"{type(self).__name__} {self.name!r}: expected inputs of dtype "
                f"{want.name}, received {dtype.name}."
            )
        if isinstance(inputs, tf.SparseTensor):
            return tf.SparseTensor(inputs.indices, tf.cast(inputs.values, want), inputs.dense_shape)
        if isinstance(inputs, tf.RaggedTensor):
            return inputs.with_flat_values(tf.cast(inputs.flat_values, want))
        return tf.cast(inputs, want)

    def _lookup_dense(self, x):
        ids = self.lookup_table.lookup(x)
        if self.mask_token is not None:
            mask_key = 0 if self.invert else self._encode(self.mask_token)
            if self.invert:
                mask_value = self._encode(self.mask_token)
            else:
                mask_value = 0 if self.output_mode == "int" else np.iinfo(np.int64).max
            is_mask = tf.equal(x, tf.constant(mask_key, self._key_dtype))
            ids = tf.where(is_mask, tf.constant(mask_value, self._value_dtype), ids)
        if self.invert:
            return ids
        if self.num_oov_indices == 0:
            self._check_no_oov(x, ids)
        elif self.num_oov_indices > 1:
            if not self._is_string and self.oov_method != "farmhash":
                oov = tf.math.floormod(x, tf.constant(self.num_oov_indices, tf.int64))
            else:
                text = x if self._is_string else tf.strings.as_string(x)
                if self.salt is not None:
                    oov = tf.strings.to_hash_bucket_strong(
                        text, self.num_oov_indices, key=self.salt
                    )
                else:
                    oov = tf.strings.to_hash_bucket_fast(text, self.num_oov_indices)
            oov = oov + self._oov_start_index()
            ids = tf.where(tf.equal(ids, tf.constant(self._default_value, tf.int64)), oov, ids)
        return ids

    def _check_no_oov(self, x, ids):
        try:
            a, keys = ids.numpy(), x.numpy()
        except Exception:  # traced: no values to check
            return
        if a is None or not (a == -1).any():
            return
        found = [self._decode(k) for k in np.asarray(keys)[a == -1].tolist()]
        raise tf.errors.InvalidArgumentError(
            None,
            None,
            f"{type(self).__name__} {self.name!r}: when `num_oov_indices=0` all inputs should "
            f"be in vocabulary, found OOV values {found}, consider setting "
            "`num_oov_indices=1`.",
        )

    def compute_output_shape(self, input_shape):
        shape = tuple(tf.TensorShape(input_shape).as_list())
        if self.output_mode == "int":
            return shape
        depth = self.max_tokens if self.pad_to_max_tokens else self._frozen_vocab_size
        if self.output_mode == "one_hot":
            if len(shape) > 1 and shape[-1] == 1:
                return shape[:-1] + (depth,)
            return shape + (depth,)
        return shape[:-1] + (depth,)

    # config and saving --------------------------------------------------------------------
    def get_config(self):
        return {
            **super().get_config(),
            "invert": self.invert,
            "max_tokens": self.max_tokens,
            "num_oov_indices": self.num_oov_indices,
            "oov_token": self.oov_token,
            "mask_token": self.mask_token,
            "output_mode": self.output_mode,
            "sparse": self.sparse,
            "pad_to_max_tokens": self.pad_to_max_tokens,
            "vocabulary_dtype": self.vocabulary_dtype,
            "idf_weights": _listify(self.input_idf_weights),
            "vocabulary": _listify(self.input_vocabulary),
            "vocabulary_size": self._frozen_vocab_size,
            "oov_method": self.oov_method,
            "salt": self.salt,
        }

    def get_build_config(self):
        return {}

    def build_from_config(self, config):
        self.build(None)

    def save_own_variables(self, store):
        if self.output_mode == "tf_idf" and self.idf_weights_const is not None:
            store["idf_weights"] = self.idf_weights_const.numpy()

    def load_own_variables(self, store):
        if self.output_mode == "tf_idf" and "idf_weights" in store:
            self.idf_weights_const = tf.constant(np.asarray(store["idf_weights"]), tf.float32)

    def save_assets(self, dir_path):
        """Write an adapted vocabulary to ``dir_path/vocabulary.txt``."""
        if self.input_vocabulary is not None:
            return
        with open(os.path.join(dir_path, "vocabulary.txt"), "w") as f:
            f.write("\n".join(str(w) for w in self.get_vocabulary()))

    def load_assets(self, dir_path):
        """Read the vocabulary written by ``save_assets``."""
        if self.input_vocabulary is not None:
            return
        with open(os.path.join(dir_path, "vocabulary.txt")) as f:
            lines = f.read().splitlines()
        while lines and lines[-1] == "":
            lines.pop()
        values = lines if self._is_string else [int(x) for x in lines]
        self._has_input_vocabulary = False
        idf = self.idf_weights_const.numpy() if self.output_mode == "tf_idf" else None
        self.set_vocabulary(values, idf_weights=idf)


def _listify(x):
    if isinstance(x, (tf.Tensor, tf.Variable)):
        x = x.numpy()
    if isinstance(x, np.ndarray):
        x = x.tolist()
    return x


class StringLookup(IndexLookup):
    """Map strings to integer indices from a vocabulary (``invert``: indices to
    strings); see ``IndexLookup`` for the index layout."""

    def __init__(
        self,
        max_tokens=None,
        num_oov_indices=1,
        mask_token=None,
        oov_token="[UNK]",
        vocabulary=None,
        idf_weights=None,
        invert=False,
        output_mode="int",
        pad_to_max_tokens=False,
        sparse=False,
        encoding="utf-8",
        name=None,
        salt=None,
        **kwargs,
    ):
        self.encoding = encoding
        self._text_encoding = encoding
        super().__init__(
            max_tokens=max_tokens,
            num_oov_indices=num_oov_indices,
            mask_token=mask_token,
            oov_token=oov_token,
            vocabulary=vocabulary,
            idf_weights=idf_weights,
            invert=invert,
            output_mode=output_mode,
            pad_to_max_tokens=pad_to_max_tokens,
            sparse=sparse,
            name=name,
            salt=salt,
            vocabulary_dtype="string",
            **kwargs,
        )

    def get_config(self):
        config = super().get_config()
        del config["vocabulary_dtype"]
        return {**config, "encoding": self.encoding}


class IntegerLookup(IndexLookup):
    """Map integers to contiguous indices from a vocabulary (``invert``: back)."""

    def __init__(
        self,
        max_tokens=None,
        num_oov_indices=1,
        mask_token=None,
        oov_token=-1,
        vocabulary=None,
        vocabulary_dtype="int64",
        idf_weights=None,
        invert=False,
        output_mode="int",
        sparse=False,
        pad_to_max_tokens=False,
        oov_method="floormod",
        salt=None,
        name=None,
        **kwargs,
    ):
        if max_tokens is not None and max_tokens <= 1:
            raise ValueError(
                "If `max_tokens` is set for `IntegerLookup`, it must be greater than 1. "
                f"Received: max_tokens={max_tokens}"
            )
        if num_oov_indices < 0:
            raise ValueError(
                "The value of `num_oov_indices` argument for `IntegerLookup` must >= 0. "
                f"Received: num_oov_indices={num_oov_indices}"
            )
        if vocabulary_dtype != "int64":
            raise ValueError(
                "Only `vocabulary_dtype='int64'` is supported at this time. Received: "
                f"vocabulary_dtype={vocabulary_dtype}"
            )
        super().__init__(
            max_tokens=max_tokens,
            num_oov_indices=num_oov_indices,
            mask_token=mask_token,
            oov_token=oov_token,
            vocabulary=vocabulary,
            vocabulary_dtype=vocabulary_dtype,
            idf_weights=idf_weights,
            invert=invert,
            output_mode=output_mode,
            sparse=sparse,
            pad_to_max_tokens=pad_to_max_tokens,
            oov_method=oov_method,
            salt=salt,
            name=name,
            **kwargs,
        )

    def get_config(self):
        config = super().get_config()
        for k in ("oov_token", "mask_token"):
            if config[k] is not None:
                config[k] = int(config[k])
        if config["vocabulary"] is not None:
            config["vocabulary"] = [int(v) for v in config["vocabulary"]]
        return config
