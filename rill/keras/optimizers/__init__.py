"""``keras.optimizers``: Keras 3's optimizers over rill Variables, plus ``get``,
``serialize`` and ``deserialize`` (class names resolve only through this module's table)."""

from __future__ import annotations

from rill.keras.optimizers import legacy, schedules
from rill.keras.optimizers._base import Optimizer
from rill.keras.optimizers._more import Adafactor, Lamb, Muon, ScheduleFreeAdamW
from rill.keras.optimizers._optimizers import (
    SGD,
    Adadelta,
    Adagrad,
    Adam,
    Adamax,
    AdamW,
    Ftrl,
    Lion,
    Nadam,
    RMSprop,
)
from rill.keras.optimizers.loss_scale_optimizer import LossScaleOptimizer
from rill.keras.optimizers.multi_optimizer import MultiOptimizer, OptimizerMap
from rill.keras.optimizers.schedules import LearningRateSchedule

__all__ = [
    "Optimizer",
    "SGD",
    "Adam",
    "AdamW",
    "RMSprop",
    "Adagrad",
    "Adamax",
    "Nadam",
    "Adadelta",
    "Ftrl",
    "Lion",
    "Adafactor",
    "Lamb",
    "Muon",
    "ScheduleFreeAdamW",
    "LossScaleOptimizer",
    "MultiOptimizer",
    "OptimizerMap",
    "LearningRateSchedule",
    "legacy",
    "schedules",
    "get",
    "serialize",
    "deserialize",
]

_CLASSES = (SGD, Adam, AdamW, RMSprop, Adagrad, Adamax, Nadam, Adadelta, Ftrl, Lion, Adafactor,
            Lamb, Muon, ScheduleFreeAdamW, LossScaleOptimizer, MultiOptimizer)  # fmt: skip
_TABLE = {c.__name__: c for c in _CLASSES}
_TABLE.update({c.__name__.lower(): c for c in _CLASSES})


# the names `get` / `deserialize` resolve: class names, and their lowercase forms
_OBJECTS = _TABLE


def serialize(optimizer):
    """``{"module", "class_name", "config", "registered_name"}`` for an optimizer."""
    from rill.keras.saving import serialization_lib

    if not isinstance(optimizer, Optimizer):
        raise TypeError(
            f"serialize() expects an Optimizer instance. Received: {optimizer!r} of type "
            f"{type(optimizer).__name__}."
        )
    return serialization_lib.serialize_keras_object(optimizer)


def deserialize(config, custom_objects=None):
    """Rebuild an optimizer from ``serialize``'s dict (or ``{"class_name", "config"}``);
    class names resolve only through this module's table and custom/registered objects."""
    from rill.keras.saving import serialization_lib

    if isinstance(config, Optimizer):
        return config
    if isinstance(config, str):
        config = config if config in _TABLE else config.lower()
    return serialization_lib.deserialize_catalog(config, _TABLE, "optimizer", custom_objects)


def get(identifier):
    """An optimizer from None, a name ("adam", "SGD", ...), a config dict or an instance."""
    from rill.keras.saving import serialization_lib

    if isinstance(identifier, str) and identifier not in _TABLE:
        identifier = identifier.lower()  # names are case-insensitive
    return serialization_lib.get_catalog(
        identifier, _TABLE, "optimizer", instance_types=(Optimizer,)
    )
