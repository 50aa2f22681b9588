"""``keras.wrappers``: Keras models as scikit-learn estimators (needs scikit-learn)."""

from rill.keras.wrappers.sklearn_wrapper import (
    SKLearnClassifier,
    SKLearnRegressor,
    SKLearnTransformer,
)

__all__ = ["SKLearnClassifier", "SKLearnRegressor", "SKLearnTransformer"]
