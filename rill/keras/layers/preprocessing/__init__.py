"""Keras preprocessing layers: feature normalization and discretization, categorical
encoding, hashing, vocabulary lookups, text vectorization, image resizing, audio
spectrograms, plus Pipeline, ReversibleEmbedding and ``serialize`` / ``deserialize``."""

from rill.keras.layers.preprocessing.audio import MelSpectrogram, STFTSpectrogram
from rill.keras.layers.preprocessing.categorical import CategoryEncoding, Discretization
from rill.keras.layers.preprocessing.hashing import HashedCrossing, Hashing
from rill.keras.layers.preprocessing.image import CenterCrop, Rescaling, Resizing
from rill.keras.layers.preprocessing.index_lookup import IntegerLookup, StringLookup
from rill.keras.layers.preprocessing.normalization import Normalization
from rill.keras.layers.preprocessing.pipeline import Pipeline
from rill.keras.layers.preprocessing.reversible_embedding import ReversibleEmbedding
from rill.keras.layers.preprocessing.serialization import deserialize, serialize
from rill.keras.layers.preprocessing.text_vectorization import TextVectorization

__all__: list[str] = [
    "CategoryEncoding", "CenterCrop", "Discretization", "HashedCrossing", "Hashing",
    "IntegerLookup", "MelSpectrogram", "Normalization", "Pipeline", "Rescaling", "Resizing",
    "ReversibleEmbedding", "STFTSpectrogram", "StringLookup", "TextVectorization",
    "deserialize", "serialize",
]  # fmt: skip
