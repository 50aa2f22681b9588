"""``keras.layers``: the Layer base and the core layers."""

from rill.keras.input_layer import InputLayer
from rill.keras.layer import Layer
from rill.keras.layers.core import (
    Activation,
    Add,
    Concatenate,
    Dense,
    Dropout,
    Flatten,
    Lambda,
    Multiply,
    Reshape,
)
from rill.keras.layers.merging import Average, Maximum, Minimum, Subtract
