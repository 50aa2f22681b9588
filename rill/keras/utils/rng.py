"""``keras.utils.set_random_seed``: one call that makes a program's randomness repeatable."""

from __future__ import annotations

import random as _py_random

import numpy as np

_state = {"seed": None}  # the seed last set, as Keras' get_random_seed reports it


def set_random_seed(seed: int) -> None:
    """Seed Python's ``random``, NumPy's global generator and rill's global seed, and drop
    Keras' global ``SeedGenerator`` so the next unseeded draw remakes it from ``random``."""
    if not isinstance(seed, int):
        raise ValueError(
            "Expected `seed` argument to be an integer. "
            f"Received: seed={seed} (of type {type(seed)})"
        )
    from rill.keras import random as keras_random
    from rill.ops import random_ops

    _state["seed"] = seed
    keras_random._global.clear()
    _py_random.seed(seed)
    np.random.seed(seed)
    random_ops.set_seed(seed)


def get_random_seed() -> int | None:
    """The seed given to ``set_random_seed``, or None if it was never called."""
    return _state["seed"]
