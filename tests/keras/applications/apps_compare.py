"""Building an application model in Keras 3 and in rill and comparing them: parameter
count, layer names and per-layer weight shapes, and outputs once Keras' weights (saved by
Keras) are loaded into rill's model."""

from __future__ import annotations

import os

import numpy as np

# the big models take tens of seconds each in Keras; CI runs them with RILL_HEAVY_TESTS=1
HEAVY = os.environ.get("RILL_HEAVY_TESTS") == "1"


def perturb(model, seed=0):
    """Give every weight of a Keras model a random, well-scaled value (batch-norm
    variances positive) so that a mismatch in any weight shows in the outputs."""
    rng = np.random.default_rng(seed)
    for v in model.weights:
        shape = tuple(v.shape)
        if "variance" in v.path:
            value = rng.uniform(0.5, 1.5, shape)
        elif "gamma" in v.path:
            value = rng.uniform(0.8, 1.2, shape)
        elif len(shape) >= 2:  # kernels: He-style scale keeps activations bounded
            fan_in = int(np.prod(shape[:-1])) if len(shape) > 2 else shape[0]
            value = rng.normal(0.0, np.sqrt(1.0 / max(fan_in, 1)), shape)
        else:
            value = rng.normal(0.0, 0.1, shape)
        v.assign(value.astype(v.dtype))


def layer_table(model):
    """(name, [weight shapes]) of each layer, in order."""
    return [(layer.name, [tuple(w.shape) for w in layer.weights]) for layer in model.layers]


def class_table(model):
    """(class name, [weight shapes]) of each layer, in order (for models whose layers
    carry auto-generated names, which depend on what a session built before)."""
    return [
        (type(layer).__name__, [tuple(w.shape) for w in layer.weights]) for layer in model.layers
    ]
