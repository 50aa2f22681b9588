"""TextVectorization: standardize strings, split them into tokens (and n-grams), and map
the tokens to indices, multi-hot / count / TF-IDF vectors with a StringLookup."""

from __future__ import annotations

import numpy as np

import rill as tf
from rill.keras.layers.preprocessing._common import PreprocessingLayer, batches, check_choice
from rill.keras.layers.preprocessing.index_lookup import StringLookup, _listify

__all__ = ["TextVectorization"]

# the ASCII punctuation Keras strips (a RE2 character class)
_PUNCTUATION = r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']'


class TextVectorization(PreprocessingLayer):
    """Strings to token indices (``int``, padded or truncated to
    ``output_sequence_length``, or ragged) or to per-string ``multi_hot`` / ``count`` /
    ``tf_idf`` vectors over a vocabulary given or learned by ``adapt``."""

    def __init__(
        self,
        max_tokens=None,
        standardize="lower_and_strip_punctuation",
        split="whitespace",
        ngrams=None,
        output_mode="int",
        output_sequence_length=None,
        pad_to_max_tokens=False,
        vocabulary=None,
        idf_weights=None,
        sparse=False,
        ragged=False,
        encoding="utf-8",
        name=None,
        **kwargs,
    ):
        who = "TextVectorization"
        check_choice(who, "standardize", standardize,
                     ("lower_and_strip_punctuation", "lower", "strip_punctuation"),
                     allow_none=True, allow_callable=True)  # fmt: skip
        check_choice(who, "split", split, ("whitespace", "character"),
                     allow_none=True, allow_callable=True)  # fmt: skip
        output_mode = {"binary": "multi_hot", "tf-idf": "tf_idf"}.get(output_mode, output_mode)
        check_choice(who, "output_mode", output_mode,
                     ("int", "one_hot", "multi_hot", "count", "tf_idf"))  # fmt: skip
        if not (
            ngrams is None
            or isinstance(ngrams, int)
            or isinstance(ngrams, tuple)
            and all(isinstance(i, int) for i in ngrams)
        ):
            raise ValueError(
                f"`ngrams` must be None, an integer, or a tuple of integers. Received: "
                f"ngrams={ngrams}"
            )
        if output_mode == "int" and not (
            output_sequence_length is None or isinstance(output_sequence_length, int)
        ):
            raise ValueError(
                "`output_sequence_length` must be either None or an integer when "
                f"`output_mode` is 'int'. Received: output_sequence_length="
                f"{output_sequence_length}"
            )
        if output_mode != "int" and output_sequence_length is not None:
            raise ValueError(
                "`output_sequence_length` must not be set if `output_mode` is not 'int'. "
                f"Received output_sequence_length={output_sequence_length}."
            )
        if ragged and output_mode != "int":
            raise ValueError(
                "`ragged` must not be true if `output_mode` is `'int'`. Received: "
                f"ragged={ragged} and output_mode={output_mode}"
            )
        self._max_tokens = max_tokens
        self._standardize = standardize
        self._split = split
        self._ngrams_arg = ngrams
        self._ngrams = tuple(range(1, ngrams + 1)) if isinstance(ngrams, int) else ngrams
        self._ragged = ragged
        self._output_mode = output_mode
        self._output_sequence_length = output_sequence_length
        self._encoding = encoding
        has_vocab = kwargs.pop("has_input_vocabulary", vocabulary is not None)
        vocabulary_size = kwargs.pop("vocabulary_size", None)
        super().__init__(name=name, **kwargs)
        self._lookup_layer = StringLookup(
            max_tokens=max_tokens,
            vocabulary=vocabulary,
            idf_weights=idf_weights,
            pad_to_max_tokens=pad_to_max_tokens,
            mask_token="",
            output_mode=output_mode,
            sparse=sparse,
            has_input_vocabulary=has_vocab,
            encoding=encoding,
            vocabulary_size=vocabulary_size,
        )

    # vocabulary ---------------------------------------------------------------------------
    def adapt(self, data, batch_size=None, steps=None):
        """Learn the vocabulary from strings (array, tensor, Dataset or iterable)."""
        self.reset_state()
        if isinstance(data, (list, tuple, np.ndarray, tf.Tensor)):
            t = (
                tf.constant(np.asarray(data, dtype=object))
                if not isinstance(data, tf.Tensor)
                else data
            )
            if t.shape.rank == 1:
                t = tf.expand_dims(t, -1)
            self.update_state(t)
        else:
            for batch in batches(data, steps):
                self.update_state(batch)
        self.finalize_state()

    def update_state(self, data):
        self._lookup_layer.update_state(self._preprocess(data))

    def finalize_state(self):
        self._lookup_layer.finalize_state()

    def reset_state(self):
        self._lookup_layer.reset_state()

    def get_vocabulary(self, include_special_tokens=True) -> list:
        """The vocabulary: ``""`` (padding), ``"[UNK]"``, then the tokens."""
        return self._lookup_layer.get_vocabulary(include_special_tokens)

    def vocabulary_size(self) -> int:
        return self._lookup_layer.vocabulary_size()

    def set_vocabulary(self, vocabulary, idf_weights=None):
        self._lookup_layer.set_vocabulary(vocabulary, idf_weights=idf_weights)

    # calling ------------------------------------------------------------------------------
    def build(self, input_shape=None):
        self.built = True

    def _preprocess(self, inputs):
        from rill.keras.layers.preprocessing._common import as_tensor

        x = as_tensor(inputs)
        if x.dtype != tf.string:
            raise TypeError(
                f"TextVectorization {self.name!r}: expected string inputs, received {x.dtype.name}."
            )
        if self._standardize in ("lower", "lower_and_strip_punctuation"):
            x = tf.strings.lower(x)
        if self._standardize in ("strip_punctuation", "lower_and_strip_punctuation"):
            x = tf.strings.regex_replace(x, _PUNCTUATION, "")
        if callable(self._standardize):
            x = self._standardize(x)
        if self._split is not None:
            if x.shape.rank is not None and x.shape.rank > 1:
                if x.shape[-1] != 1:
                    raise ValueError(
                        "When using `TextVectorization` to tokenize strings, the input rank "
                        "must be 1 or the last shape dimension must be 1. Received: "
                        f"inputs.shape={x.shape} with rank={x.shape.rank}"
                    )
                x = tf.squeeze(x, axis=-1)
            if self._split == "whitespace":
                x = tf.strings.split(x)
            elif self._split == "character":
                x = tf.strings.unicode_split(x, "UTF-8")
            else:
                x = self._split(x)
        if self._ngrams is not None:
            x = tf.strings.ngrams(x, ngram_width=self._ngrams, separator=" ")
        return x

    def call(self, inputs):
        ids = self._lookup_layer.call(self._preprocess(inputs))
        if self._output_mode != "int":
            return ids
        n = self._output_sequence_length
        if isinstance(ids, tf.RaggedTensor):
            if self._ragged:
                if n is None:
                    return ids
                return tf.ragged.map_flat_values(lambda v: v, ids[:, :n])
            shape = ids.shape.as_list()
            shape[-1] = n
            return ids.to_tensor(default_value=0, shape=shape)
        if n is not None:  # dense ids: pad the last axis with n zeros, then keep n
            rank = ids.shape.rank
            out = tf.pad(ids, [[0, 0]] * (rank - 1) + [[0, n]])[..., :n]
            return tf.ensure_shape(out, ids.shape.as_list()[:-1] + [n])
        return ids

    def compute_output_shape(self, input_shape):
        shape = tuple(tf.TensorShape(input_shape).as_list())
        if self._output_mode == "int":
            return (shape[0], self._output_sequence_length)
        if self._split is None:
            if len(shape) <= 1:
                shape = shape + (1,)
        else:
            shape = shape + (None,)
        return self._lookup_layer.compute_output_shape(shape)

    # config -------------------------------------------------------------------------------
    def get_config(self):
        from rill.keras.saving.serialization_lib import serialize_keras_object

        lookup = self._lookup_layer
        return {
            **super().get_config(),
            "max_tokens": lookup.max_tokens,
            "standardize": self._standardize
            if self._standardize is None or isinstance(self._standardize, str)
            else serialize_keras_object(self._standardize),
            "split": self._split
            if self._split is None or isinstance(self._split, str)
            else serialize_keras_object(self._split),
            "ngrams": self._ngrams_arg,
            "output_mode": self._output_mode,
            "output_sequence_length": self._output_sequence_length,
            "pad_to_max_tokens": lookup.pad_to_max_tokens,
            "sparse": lookup.sparse,
            "ragged": self._ragged,
            "vocabulary": _listify(lookup.input_vocabulary),
            "idf_weights": _listify(lookup.input_idf_weights),
            "encoding": self._encoding,
            "vocabulary_size": self.vocabulary_size(),
        }

    @classmethod
    def from_config(cls, config):
        from rill.keras.saving.serialization_lib import deserialize_keras_object

        config = dict(config)
        for key in ("standardize", "split"):
            if config.get(key) is not None and not isinstance(config[key], str):
                config[key] = deserialize_keras_object(config[key])
        if isinstance(config.get("ngrams"), list):
            config["ngrams"] = tuple(config["ngrams"])
        return cls(**config)

    def get_build_config(self):
        return {}

    def build_from_config(self, config):
        self.build(None)

    def save_own_variables(self, store):
        self._lookup_layer.save_own_variables(store)

    def load_own_variables(self, store):
        self._lookup_layer.load_own_variables(store)

    def save_assets(self, dir_path):
        self._lookup_layer.save_assets(dir_path)

    def load_assets(self, dir_path):
        self._lookup_layer.load_assets(dir_path)
