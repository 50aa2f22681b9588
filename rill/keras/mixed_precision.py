"""``keras.mixed_precision``: Keras 3's legacy names for dtype policies and loss scaling.

``set_global_policy("mixed_float16")`` makes new layers compute in float16 with float32
variables (``"mixed_bfloat16"``: bfloat16); ``compile`` then wraps the optimizer in a
``LossScaleOptimizer`` for float16.
"""

from __future__ import annotations

from rill.keras.dtype_policies.dtype_policy import DTypePolicy, dtype_policy, set_dtype_policy
from rill.keras.optimizers.loss_scale_optimizer import LossScaleOptimizer

__all__ = [
    "DTypePolicy", "LossScaleOptimizer", "Policy", "dtype_policy", "global_policy",
    "set_dtype_policy", "set_global_policy",
]  # fmt: skip

Policy = DTypePolicy
global_policy = dtype_policy
set_global_policy = set_dtype_policy
