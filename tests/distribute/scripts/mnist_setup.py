"""The TF tutorial's ``mnist_setup`` module with MNIST replaced by a small synthetic set of
28x28 "digits" (a fixed pattern per class plus noise), so the tutorial runs offline."""

import numpy as np

import rill as tf


def mnist_dataset(batch_size):
    rng = np.random.default_rng(0)
    patterns = rng.uniform(0, 255, size=(10, 28, 28))
    y_train = rng.integers(0, 10, size=512)
    x_train = np.clip(patterns[y_train] + rng.normal(0, 40, size=(512, 28, 28)), 0, 255)
    x_train = x_train.astype(np.uint8) / np.float32(255)
    y_train = y_train.astype(np.int64)
    train_dataset = (
        tf.data.Dataset.from_tensor_slices((x_train, y_train))
        .shuffle(60000)
        .repeat()
        .batch(batch_size)
    )
    return train_dataset


def build_and_compile_cnn_model():
    model = tf.keras.Sequential(
        [
            tf.keras.layers.InputLayer(input_shape=(28, 28)),
            tf.keras.layers.Reshape(target_shape=(28, 28, 1)),
            tf.keras.layers.Conv2D(32, 3, activation="relu"),
            tf.keras.layers.Flatten(),
            tf.keras.layers.Dense(128, activation="relu"),
            tf.keras.layers.Dense(10),
        ]
    )
    model.compile(
        loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        optimizer=tf.keras.optimizers.SGD(learning_rate=0.001),
        metrics=["accuracy"],
    )
    return model
