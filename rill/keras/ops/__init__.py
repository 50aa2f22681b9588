"""``tf.keras.ops``: Keras 3's backend-agnostic ops, on rill.

The flat namespace holds every op; ``numpy``, ``nn``, ``linalg`` and ``image`` are Keras'
sub-namespaces (``core`` and ``math`` hold the rest, as in Keras' sources). Each op
follows Keras' dtype promotion (``int32 + float32`` is ``float32``, Python scalars are
weak), works on eager tensors and inside ``rill.function``, and called on KerasTensors
(``keras.Input``) becomes a node of the functional graph.
"""

from rill.keras.ops import core, image, linalg, math, nn, numpy
from rill.keras.ops.core import *  # noqa: F403
from rill.keras.ops.einops import rearrange
from rill.keras.ops.linalg import *  # noqa: F403
from rill.keras.ops.math import *  # noqa: F403
from rill.keras.ops.nn import *  # noqa: F403
from rill.keras.ops.numpy import *  # noqa: F403

__all__ = sorted(
    {"image", "linalg", "nn", "numpy", "rearrange"}
    | set(core.__all__) | set(linalg.__all__) | set(math.__all__) | set(nn.__all__)
    | set(numpy.__all__)
)  # fmt: skip
