"""``keras.utils.FeatureSpace``: one object that turns a dict of structured columns
(numbers, integer and string categories) into model-ready features, by giving each column
a preprocessing layer (Normalization, Discretization, StringLookup, IntegerLookup, Hashing,
Rescaling), hashing crosses of columns together (HashedCrossing), one-hot encoding the
categorical results (CategoryEncoding) and concatenating everything (or returning a dict).

It works eagerly, on ``keras.Input`` tensors (``get_encoded_features``, to build a model)
and inside ``Dataset.map``, where the preprocessing runs as traced rill ops.
"""

from __future__ import annotations

from typing import Any

import rill as tf
from rill.core.tensor import Tensor
from rill.keras.layer import Layer
from rill.keras.naming import unique_name

__all__ = ["Cross", "Feature", "FeatureSpace"]

_FEATURE_OUTPUT_MODES = ("int", "one_hot", "float")
_CROSS_OUTPUT_MODES = ("int", "one_hot")


def _layers():
    from rill.keras import layers  # deferred: keras.layers imports keras.utils

    return layers


def _serialization():
    from rill.keras.saving import serialization_lib

    return serialization_lib


def _deserialize(config):
    """A config written by a FeatureSpace: its own classes resolve through this module's
    explicit table (Keras' own names included), everything else through the registry."""
    custom = {
        "Feature": Feature,
        "Cross": Cross,
        "FeatureSpace": FeatureSpace,
        "TFDIdentity": TFDIdentity,
        "TFDConcat": TFDConcat,
    }
    return _serialization().deserialize_keras_object(config, custom_objects=custom)


def _check_mode(mode, allowed):
    if mode not in allowed:
        raise ValueError(
            "Invalid value for argument `output_mode`. Expected one of "
            f"{{{', '.join(repr(m) for m in allowed)}}}. Received: output_mode={mode}"
        )


class Cross:
    """A crossing of several features, hashed into ``crossing_dim`` bins."""

    def __init__(self, feature_names, crossing_dim, output_mode="one_hot"):
        _check_mode(output_mode, _CROSS_OUTPUT_MODES)
        self.feature_names = tuple(feature_names)
        self.crossing_dim = crossing_dim
        self.output_mode = output_mode

    @property
    def name(self) -> str:
        """The crossed feature's name: its parts joined by ``_X_``."""
        return "_X_".join(self.feature_names)

    def get_config(self) -> dict:
        """The constructor arguments."""
        return {
            "feature_names": self.feature_names,
            "crossing_dim": self.crossing_dim,
            "output_mode": self.output_mode,
        }

    @classmethod
    def from_config(cls, config):
        """A Cross from ``get_config()``'s dict."""
        return cls(**config)


class Feature:
    """One input column: its dtype, its preprocessing layer and how it is encoded."""

    def __init__(self, dtype, preprocessor, output_mode):
        _check_mode(output_mode, _FEATURE_OUTPUT_MODES)
        self.dtype = dtype
        if isinstance(preprocessor, dict):
            preprocessor = _deserialize(preprocessor)
        self.preprocessor = preprocessor
        self.output_mode = output_mode

    def get_config(self) -> dict:
        """The dtype, the serialized preprocessor and the output mode."""
        return {
            "dtype": self.dtype,
            "preprocessor": _serialization().serialize_keras_object(self.preprocessor),
            "output_mode": self.output_mode,
        }

    @classmethod
    def from_config(cls, config):
        """A Feature from ``get_config()``'s dict."""
        return cls(**config)


class TFDIdentity(Layer):
    """The preprocessor of a plain float feature: passes its input through."""

    def call(self, x):
        return x


class TFDConcat(Layer):
    """Concatenates the encoded features along ``axis``."""

    def __init__(self, axis, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis

    def call(self, xs):
        return tf.concat(list(xs), axis=self.axis)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


def _dtype_name(x) -> str:
    d = x.dtype
    return d if isinstance(d, str) else d.name


def _auto(name, base):
    return name or unique_name(base)


class FeatureSpace(Layer):
    """Preprocesses and encodes a dict of structured features (``features``: name ->
    a Feature or a type name such as ``"float_normalized"``), with optional ``crosses``;
    output one concatenated tensor (``"concat"``) or a dict of encoded features."""

    # the feature constructors -------------------------------------------------------------
    @classmethod
    def cross(cls, feature_names, crossing_dim, output_mode="one_hot") -> Cross:
        """A hashed crossing of ``feature_names`` into ``crossing_dim`` bins."""
        return Cross(feature_names, crossing_dim, output_mode=output_mode)

    @classmethod
    def feature(cls, dtype, preprocessor, output_mode) -> Feature:
        """A feature with a custom ``preprocessor`` layer."""
        return Feature(dtype, preprocessor, output_mode)

    @classmethod
    def float(cls, name=None) -> Feature:
        """A float feature passed through as is."""
        name = _auto(name, "float")
        pre = TFDIdentity(dtype="float32", name=f"{name}_preprocessor")
        return Feature(dtype="float32", preprocessor=pre, output_mode="float")

    @classmethod
    def float_rescaled(cls, scale=1.0, offset=0.0, name=None) -> Feature:
        """A float feature mapped to ``x * scale + offset``."""
        name = _auto(name, "float_rescaled")
        pre = _layers().Rescaling(scale=scale, offset=offset, name=f"{name}_preprocessor")
        return Feature(dtype="float32", preprocessor=pre, output_mode="float")

    @classmethod
    def float_normalized(cls, name=None) -> Feature:
        """A float feature standardised with the mean and variance ``adapt`` learns."""
        name = _auto(name, "float_normalized")
        pre = _layers().Normalization(axis=-1, name=f"{name}_preprocessor")
        return Feature(dtype="float32", preprocessor=pre, output_mode="float")

    @classmethod
    def float_discretized(
        cls, num_bins, bin_boundaries=None, output_mode="one_hot", name=None
    ) -> Feature:
        """A float feature bucketed into ``num_bins`` bins (learnt by ``adapt`` unless
        ``bin_boundaries`` are given)."""
        name = _auto(name, "float_discretized")
        pre = _layers().Discretization(
            num_bins=num_bins, bin_boundaries=bin_boundaries, name=f"{name}_preprocessor"
        )
        return Feature(dtype="float32", preprocessor=pre, output_mode=output_mode)

    @classmethod
    def integer_categorical(
        cls, max_tokens=None, num_oov_indices=1, output_mode="one_hot", name=None
    ) -> Feature:
        """An integer category, indexed through a vocabulary ``adapt`` learns."""
        name = _auto(name, "integer_categorical")
        pre = _layers().IntegerLookup(
            name=f"{name}_preprocessor", max_tokens=max_tokens, num_oov_indices=num_oov_indices
        )
        return Feature(dtype="int32", preprocessor=pre, output_mode=output_mode)

    @classmethod
    def string_categorical(
        cls, max_tokens=None, num_oov_indices=1, output_mode="one_hot", name=None
    ) -> Feature:
        """A string category, indexed through a vocabulary ``adapt`` learns."""
        name = _auto(name, "string_categorical")
        pre = _layers().StringLookup(
            name=f"{name}_preprocessor", max_tokens=max_tokens, num_oov_indices=num_oov_indices
        )
        return Feature(dtype="string", preprocessor=pre, output_mode=output_mode)

    @classmethod
    def string_hashed(cls, num_bins, output_mode="one_hot", name=None) -> Feature:
        """A string category hashed into ``num_bins`` bins."""
        name = _auto(name, "string_hashed")
        pre = _layers().Hashing(name=f"{name}_preprocessor", num_bins=num_bins)
        return Feature(dtype="string", preprocessor=pre, output_mode=output_mode)

    @classmethod
    def integer_hashed(cls, num_bins, output_mode="one_hot", name=None) -> Feature:
        """An integer category hashed into ``num_bins`` bins."""
        name = _auto(name, "integer_hashed")
        pre = _layers().Hashing(name=f"{name}_preprocessor", num_bins=num_bins)
        return Feature(dtype="int32", preprocessor=pre, output_mode=output_mode)

    # construction -------------------------------------------------------------------------
    def __init__(
        self,
        features,
        output_mode="concat",
        crosses=None,
        crossing_dim=32,
        hashing_dim=32,
        num_discretization_bins=32,
        name=None,
    ):
        super().__init__(name=name)
        if not features:
            raise ValueError("The `features` argument cannot be None or empty.")
        self.crossing_dim = crossing_dim
        self.hashing_dim = hashing_dim
        self.num_discretization_bins = num_discretization_bins
        self.features = {k: self._standardize_feature(k, v) for k, v in features.items()}
        self.crosses = [self._standardize_cross(c, features) for c in crosses or ()]
        self.crosses_by_name = {c.name: c for c in self.crosses}
        _check_mode(output_mode, ("dict", "concat"))
        self.output_mode = output_mode
        layers = _layers()
        self.inputs = {
            k: layers.Input(shape=(1,), dtype=f.dtype, name=k) for k, f in self.features.items()
        }
        self.preprocessors = {k: f.preprocessor for k, f in self.features.items()}
        self.crossers = {c.name: layers.HashedCrossing(c.crossing_dim, name=c.name)
                         for c in self.crosses}  # fmt: skip
        self.encoded_features = None
        self.one_hot_encoders = {}
        self.concat = None
        self._is_adapted = False
        self._sublayers_built = False
        self._names = None  # (preprocessed, crossed) feature names, sorted, once known

    def _standardize_feature(self, name, feature):
        if isinstance(feature, Feature):
            return feature
        if isinstance(feature, dict):
            return _deserialize(feature)
        makers = {
            "float": lambda: self.float(name=name),
            "float_normalized": lambda: self.float_normalized(name=name),
            "float_rescaled": lambda: self.float_rescaled(name=name),
            "float_discretized": lambda: self.float_discretized(
                num_bins=self.num_discretization_bins, name=name
            ),
            "integer_categorical": lambda: self.integer_categorical(name=name),
            "string_categorical": lambda: self.string_categorical(name=name),
            "integer_hashed": lambda: self.integer_hashed(self.hashing_dim, name=name),
            "string_hashed": lambda: self.string_hashed(self.hashing_dim, name=name),
        }
        if isinstance(feature, str) and feature in makers:
            return makers[feature]()
        raise ValueError(f"Invalid feature type: {feature}")

    def _standardize_cross(self, cross, features):
        if isinstance(cross, dict):
            cross = _deserialize(cross)
        if isinstance(cross, Cross):
            return cross
        if not self.crossing_dim:
            raise ValueError(
                "When specifying `crosses`, the argument `crossing_dim` (dimensionality of "
                "the crossing space) should be specified as well."
            )
        unknown = [k for k in cross if k not in features]
        if unknown:
            raise ValueError(
                "All features referenced in the `crosses` argument should be present in the "
                f"`features` dict. Received unknown features: {cross}"
            )
        return Cross(cross, crossing_dim=self.crossing_dim)

    # adapting -----------------------------------------------------------------------------
    def _list_adaptable_preprocessors(self) -> list:
        layers = _layers()
        out = []
        for name, pre in self.preprocessors.items():
            # preset statistics or vocabularies leave nothing to learn
            if isinstance(pre, layers.Normalization) and pre.input_mean is not None:
                continue
            if isinstance(pre, layers.TextVectorization) and getattr(
                pre, "_has_input_vocabulary", False
            ):
                continue
            if hasattr(pre, "adapt"):
                out.append(name)
        return out

    def adapt(self, dataset) -> None:
        """Learns each adaptable preprocessor's state (vocabularies, statistics, bins) from
        ``dataset``, a Dataset of feature dicts or a dict of arrays."""
        if not isinstance(dataset, tf.data.Dataset):
            if not isinstance(dataset, dict):
                raise ValueError(
                    "`adapt()` can only be called on a tf.data.Dataset or a dict of "
                    f"arrays/lists. Received instead: {dataset} (of type {type(dataset)})"
                )
            dataset = tf.data.Dataset.from_tensor_slices(dataset)
        for name in self._list_adaptable_preprocessors():
            column = dataset.map(lambda x, name=name: x[name])
            first = next(iter(column))
            if len(first.shape) == 0:  # unbatched scalars
                column = column.batch(32)
            if len(first.shape) in (0, 1):  # a feature axis for the layers to reduce over
                column = column.map(lambda x: tf.expand_dims(x, -1))
            self.preprocessors[name].adapt(column)
        self._is_adapted = True
        self.get_encoded_features()  # builds the encoders
        self.built = True
        self._sublayers_built = True

    def _check_if_adapted(self):
        if not self._is_adapted:
            if self._list_adaptable_preprocessors():
                raise ValueError(
                    "You need to call `.adapt(dataset)` on the FeatureSpace before you can "
                    "start using it."
                )
            self._is_adapted = True

    def _check_if_built(self):
        if not self._sublayers_built:
            self._check_if_adapted()
            self.get_encoded_features()
            self._sublayers_built = True

    # the symbolic side --------------------------------------------------------------------
    def get_inputs(self) -> dict:
        """The ``keras.Input`` of each feature, by name (shape ``(None, 1)``)."""
        self._check_if_built()
        return self.inputs

    def get_encoded_features(self):
        """The encoded features of ``get_inputs()``: a KerasTensor (``"concat"``) or a dict."""
        self._check_if_adapted()
        if self.encoded_features is None:
            pre = self._preprocess_features(self.inputs)
            crossed = self._cross_features(pre)
            self.encoded_features = self._merge_features(pre, crossed)
        return self.encoded_features

    # the pipeline -------------------------------------------------------------------------
    def _preprocess_features(self, features):
        return {k: self.preprocessors[k](features[k]) for k in features}

    def _cross_features(self, features):
        return {c.name: self.crossers[c.name]([features[k] for k in c.feature_names])
                for c in self.crosses}  # fmt: skip

    def _cardinality(self, name, dtype):
        """How many one-hot slots feature ``name``'s preprocessor can output."""
        layers = _layers()
        pre = self.preprocessors.get(name) or self.crossers.get(name)
        if not dtype.startswith("int"):
            raise ValueError(
                f"Feature '{name}' has `output_mode='one_hot'`. Thus its preprocessor should "
                f"return an integer dtype. Instead it returns a {dtype} dtype."
            )
        if isinstance(pre, (layers.IntegerLookup, layers.StringLookup)):
            return pre.vocabulary_size()
        if isinstance(pre, layers.CategoryEncoding):
            return pre.num_tokens
        if isinstance(pre, (layers.Discretization, layers.HashedCrossing, layers.Hashing)):
            return pre.num_bins
        raise ValueError(
            f"Feature '{name}' has `output_mode='one_hot'`. However it isn't a standard "
            "feature and the dimensionality of its output space is not known, thus it cannot "
            "be one-hot encoded. Try using `output_mode='int'`."
        )

    def _merge_features(self, preprocessed, crossed):
        if self._names is None:
            self._names = (sorted(preprocessed), sorted(crossed))
        pre_names, cross_names = self._names
        names = pre_names + cross_names
        values = [preprocessed[k] for k in pre_names] + [crossed[k] for k in cross_names]
        if self._sublayers_built:  # encoders exist: apply them
            out = []
            for name, value in zip(names, values):
                encoder = self.one_hot_encoders.get(name)
                out.append(encoder(value) if encoder else value)
            if self.output_mode == "dict":
                return dict(zip(names, out))
            return self.concat(out)
        # first pass (on the Inputs): create the one-hot encoders and the concat layer
        specs = [self.features[k] for k in pre_names] + [
            self.crosses_by_name[k] for k in cross_names
        ]
        layers = _layers()
        out = {}
        for name, value, spec in zip(names, values, specs):
            dtype = _dtype_name(tf.nest.flatten(value)[0])
            if spec.output_mode == "one_hot":
                encoder = layers.CategoryEncoding(
                    num_tokens=self._cardinality(name, dtype), output_mode="multi_hot"
                )
                self.one_hot_encoders[name] = encoder
                value = encoder(value)
            if self.output_mode == "concat":
                dtype = _dtype_name(value)
                if dtype.startswith("int") or dtype == "string":
                    raise ValueError(
                        f"Cannot concatenate features because feature '{name}' has not been "
                        f"encoded (it has dtype {dtype}). Consider using `output_mode='dict'`."
                    )
            out[name] = value
        if self.output_mode == "dict":
            return out
        self.concat = TFDConcat(axis=-1)
        return self.concat(list(out.values()))

    # calling ------------------------------------------------------------------------------
    @staticmethod
    def _convert_input(x):
        if isinstance(x, Tensor) or type(x).__name__ in ("SparseTensor", "RaggedTensor"):
            return x
        return tf.convert_to_tensor(x)

    def __call__(self, data) -> Any:
        """Encodes a dict of feature values (scalars, a batch ``(n,)`` or ``(n, 1)``)."""
        self._check_if_built()
        if not isinstance(data, dict):
            raise ValueError(
                "A FeatureSpace can only be called with a dict. "
                f"Received: data={data} (of type {type(data)}"
            )
        data = {k: self._convert_input(v) for k, v in data.items()}
        rebatched = False
        for name, x in data.items():
            if len(x.shape) == 0:  # one example: a batch of one, removed at the end
                data[name] = tf.reshape(x, (1, 1))
                rebatched = True
            elif len(x.shape) == 1:
                data[name] = tf.expand_dims(x, -1)
        pre = self._preprocess_features(data)
        merged = self._merge_features(pre, self._cross_features(pre))
        if rebatched:
            if self.output_mode == "concat":
                if merged.shape[0] != 1:
                    raise ValueError(
                        "Expected rebatched data to have batch size 1. "
                        f"Received: shape={merged.shape}"
                    )
                return tf.squeeze(merged, axis=0)
            return {k: tf.squeeze(v, axis=0) if len(v.shape) == 2 and v.shape[0] == 1 else v
                    for k, v in merged.items()}  # fmt: skip
        return merged

    # saving -------------------------------------------------------------------------------
    def get_config(self) -> dict:
        """The features, crosses and options, serialized."""
        ser = _serialization().serialize_keras_object
        return {
            "features": ser(self.features),
            "output_mode": self.output_mode,
            "crosses": ser(self.crosses),
            "crossing_dim": self.crossing_dim,
            "hashing_dim": self.hashing_dim,
            "num_discretization_bins": self.num_discretization_bins,
        }

    @classmethod
    def from_config(cls, config):
        """A FeatureSpace from ``get_config()``'s dict (not yet adapted)."""
        return cls(**config)

    def get_build_config(self) -> dict:
        """Each preprocessor's build config, by feature name."""
        from rill.keras.saving.serialization_lib import get_build_config

        return {k: get_build_config(f.preprocessor) for k, f in self.features.items()}

    def build_from_config(self, config) -> None:
        """Builds the preprocessors from ``get_build_config()``'s dict; the loaded state
        then counts as adapted."""
        from rill.keras.saving.serialization_lib import build_from_config

        for name, sub in config.items():
            pre = self.features[name].preprocessor
            if not pre.built and sub:
                build_from_config(pre, sub)
        self._is_adapted = True

    def save(self, filepath) -> None:
        """Writes this FeatureSpace (config and adapted state) as a ``.keras`` archive;
        reload with ``keras.models.load_model``."""
        from rill.keras.saving import saving_lib

        saving_lib.save_model(self, str(filepath))

    def save_own_variables(self, store) -> None:
        """No variables of its own: the preprocessors save theirs."""

    def load_own_variables(self, store) -> None:
        """No variables of its own: the preprocessors load theirs."""
