"""``keras.optimizers.legacy``: Keras 2's optimizers are gone in Keras 3; these names
exist so old code fails with a clear message when it builds one, as in Keras 3."""

from __future__ import annotations

__all__ = ["Adagrad", "Adam", "Ftrl", "Optimizer", "RMSprop", "SGD"]


class LegacyOptimizerWarning:
    """Raises ``ImportError`` on construction: Keras 3 (and rill) has no legacy optimizers."""

    def __init__(self, *args, **kwargs):
        raise ImportError(
            "`keras.optimizers.legacy` is not supported in Keras 3, and rill implements "
            "Keras 3 only. Use the optimizers of `keras.optimizers` instead (for example "
            "`tf.keras.optimizers.Adam`); they take the same main arguments."
        )


Adagrad = Adam = Ftrl = Optimizer = RMSprop = SGD = LegacyOptimizerWarning
