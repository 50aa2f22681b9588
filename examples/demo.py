"""The main job: train a small Keras convnet on real data (offline), evaluate it, save it as a
``.keras`` file, load it back and check that it predicts exactly the same. The training
run is logged for TensorBoard (``keras.callbacks.TensorBoard``: loss and accuracy curves,
weight histograms, the model graph; ``tf.summary``: test images and predictions), and
the ``tensorboard --logdir ...`` command that shows them is printed at the end.

The data are the UCI handwritten digits shipped in ``examples/data`` (1,797 8x8 images,
10 classes; see its README for the source and licence).
"""

import importlib.util
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

# a small convnet: the 8x8 digits as images, convolution + batch normalization + pooling
model = keras.Sequential(
    [
        keras.Input(shape=(64,)),
        keras.layers.Reshape((8, 8, 1)),
        keras.layers.Conv2D(32, 3, padding="same", use_bias=False),
        keras.layers.BatchNormalization(),
        keras.layers.ReLU(),
        keras.layers.MaxPooling2D(2),
        keras.layers.Conv2D(64, 3, padding="same", activation="relu"),
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dropout(0.2),
        keras.layers.Dense(10, activation="softmax"),
    ],
    name="digits_cnn",
)
model.compile(
    optimizer=keras.optimizers.Adam(learning_rate=2e-3),
    loss="sparse_categorical_crossentropy",
    metrics=["accuracy"],
)
model.summary()
workdir = tempfile.mkdtemp(prefix="rill-demo-")
logdir = os.path.join(workdir, "logs")
callbacks = [keras.callbacks.EarlyStopping(patience=4, restore_best_weights=True)]
# TensorBoard event files need protobuf (pip install 'rill[proto]')
log = importlib.util.find_spec("google.protobuf") is not None
if log:
    callbacks.append(keras.callbacks.TensorBoard(logdir, histogram_freq=1))
model.fit(
    x_train,
    y_train,
    batch_size=32,
    epochs=15,
    validation_split=0.1,
    callbacks=callbacks,
)
loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
print(f"test loss {loss:.4f}, test accuracy {accuracy:.4f}")

if log:  # the test set in TensorBoard: some digits, the model's guesses, the accuracy
    guesses = np.argmax(model.predict(x_test[:8], verbose=0), axis=1)
    with tf.summary.create_file_writer(os.path.join(logdir, "test")).as_default(step=0):
        tf.summary.scalar("test_accuracy", accuracy)
        tf.summary.image("test digits", x_test[:8].reshape(-1, 8, 8, 1), max_outputs=8)
        rows = [f"| {i} | {y_test[i]} | {guesses[i]} |" for i in range(8)]
        tf.summary.text(
            "predictions", "\n".join(["| image | label | guess |", "|---|---|---|", *rows])
        )

path = os.path.join(workdir, "digits_cnn.keras")
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
if log:
    runs = sorted(
        os.path.relpath(d, logdir)
        for d, _, files in os.walk(logdir)
        if any(f.startswith("events.out.tfevents.") for f in files)
    )
    print(f"TensorBoard logs ({', '.join(runs)}) in {logdir}; to see them:")
    print(f"  tensorboard --logdir {logdir}")
else:
    print("no TensorBoard logs: writing them needs protobuf (pip install 'rill[proto]')")
