"""The main job: train a Keras model on real data (offline), evaluate it, save it as a
``.keras`` file, load it back and check that it predicts exactly the same.

The data are the UCI handwritten digits shipped in ``examples/data`` (1,797 8x8 images,
10 classes; see its README for the source and licence).
"""

import os
import sys
import tempfile

import numpy as np

import rill as tf
from rill import keras

sys.path.insert(0, os.path.dirname(__file__))
from _data import digits  # noqa: E402

tf.random.set_seed(0)
np.random.seed(0)
(x_train, y_train), (x_test, y_test) = digits()
print(f"digits: {len(x_train)} training and {len(x_test)} test images of 8x8 pixels, 10 classes")

model = keras.Sequential(
    [
        keras.Input(shape=(64,)),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dropout(0.2),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ],
    name="digits_mlp",
)
model.compile(
    optimizer=keras.optimizers.Adam(learning_rate=2e-3),
    loss="sparse_categorical_crossentropy",
    metrics=["accuracy"],
)
model.summary()
model.fit(
    x_train,
    y_train,
    batch_size=32,
    epochs=15,
    validation_split=0.1,
    callbacks=[keras.callbacks.EarlyStopping(patience=4, restore_best_weights=True)],
)
loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
print(f"test loss {loss:.4f}, test accuracy {accuracy:.4f}")

path = os.path.join(tempfile.mkdtemp(prefix="rill-demo-"), "digits_mlp.keras")
model.save(path)
restored = keras.models.load_model(path)
before = model.predict(x_test, verbose=0)
after = restored.predict(x_test, verbose=0)
same = np.array_equal(before, after)
print(
    f"saved to {path} ({os.path.getsize(path):,} bytes); reloaded model predicts identically: {same}"
)
if not same:
    sys.exit("the reloaded model's predictions differ from the original's")
