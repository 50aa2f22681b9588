"""keras.wrappers: Keras models inside scikit-learn (skipped without scikit-learn)."""

import numpy as np
import pytest

from rill import keras

sklearn = pytest.importorskip("sklearn")
from rill.keras.wrappers import SKLearnClassifier, SKLearnRegressor, SKLearnTransformer  # noqa: E402


def _model(X, y, hidden=8, loss="mse", activation=None):
    keras.utils.set_random_seed(0)
    m = keras.Sequential([keras.Input(X.shape[1:]), keras.layers.Dense(hidden, activation="relu"),
                          keras.layers.Dense(y.shape[1], activation=activation)])  # fmt: skip
    m.compile(optimizer=keras.optimizers.Adam(0.05), loss=loss)
    return m


def test_classifier_learns_separable_classes_and_decodes_labels():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 2)).astype("float32")
    y = np.where(X[:, 0] + X[:, 1] > 0, "pos", "neg")
    clf = SKLearnClassifier(_model, model_kwargs={"loss": "categorical_crossentropy",
                                                  "activation": "softmax"},
                            fit_kwargs={"epochs": 40, "verbose": 0})  # fmt: skip
    clf.fit(X, y)
    assert list(clf.classes_) == ["neg", "pos"]
    pred = clf.predict(X)
    assert pred.shape == (120,) and set(pred) <= {"neg", "pos"}
    assert np.mean(pred == y) > 0.9  # sklearn's score: the accuracy
    assert clf.score(X, y) == np.mean(pred == y)
    assert clf.decision_function(X[:3]).shape == (3, 2)
    assert clf.epoch_ == 40 and clf.history_.epoch == list(range(40))


def test_regressor_and_transformer():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(100, 3)).astype("float32")
    y = X @ np.array([1.0, -2.0, 0.5], "float32")
    reg = SKLearnRegressor(_model, fit_kwargs={"epochs": 60, "verbose": 0}).fit(X, y)
    pred = reg.predict(X)
    assert pred.shape == (100,)
    assert reg.score(X, y) > 0.9  # R^2
    tr = SKLearnTransformer(_model, model_kwargs={"hidden": 4},
                            fit_kwargs={"epochs": 1, "verbose": 0}).fit(X, y)  # fmt: skip
    assert tr.transform(X).shape == (100, 1)  # the raw model output


def test_errors_and_clone():
    X, y = np.zeros((4, 2), "float32"), np.array([0, 0, 0, 0])
    with pytest.raises(ValueError, match="only one class"):
        SKLearnClassifier(_model, fit_kwargs={"verbose": 0}).fit(X, y)
    with pytest.raises(ValueError, match="binary and multiclass"):
        SKLearnClassifier(_model).fit(X, np.array([0.5, 1.5, 2.5, 3.5]))

    def uncompiled(X, y):
        return keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])

    with pytest.raises(RuntimeError, match="compiled"):
        SKLearnRegressor(uncompiled).fit(X, np.arange(4.0))
    est = SKLearnRegressor(_model, model_kwargs={"hidden": 3})
    c = sklearn.base.clone(est)
    assert c.model is _model and c.model_kwargs == {"hidden": 3}
    with pytest.raises(sklearn.exceptions.NotFittedError):
        est.predict(X)
