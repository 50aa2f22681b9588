"""keras.legacy.saving: Keras 2's class_name/config format, against Keras 3's own output."""

import pytest

from rill import keras
from rill.keras.legacy import saving


def test_same_functions_as_utils_legacy():
    assert saving.serialize_keras_object is keras.utils.legacy.serialize_keras_object
    assert saving.deserialize_keras_object is keras.utils.legacy.deserialize_keras_object


def test_round_trip_of_a_layer():
    layer = keras.layers.Dense(3, activation="relu", name="d")
    cfg = saving.serialize_keras_object(layer)
    assert cfg["class_name"] == "Dense" and cfg["config"]["units"] == 3
    back = saving.deserialize_keras_object(cfg, module_objects={"Dense": keras.layers.Dense})
    assert isinstance(back, keras.layers.Dense) and back.units == 3 and back.name == "d"


def test_matches_keras_output():
    k = pytest.importorskip("keras")
    got = saving.serialize_keras_object(keras.initializers.GlorotUniform(seed=3))
    want = k.legacy.saving.serialize_keras_object(k.initializers.GlorotUniform(seed=3))
    assert got == want
    with pytest.raises(ValueError, match="Unknown object"):
        saving.deserialize_keras_object("NoSuchThing", module_objects={})
