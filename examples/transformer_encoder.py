"""A small transformer encoder (MultiHeadAttention block) learns a sequence task.

Each input is a sequence of 12 random digits (one-hot, plus a learned position
embedding); the target at every position is the largest digit seen so far (a running
maximum), which needs attention to the earlier positions: the encoder attends with a
causal mask. Two encoder blocks (attention, residual, layer norm, feed-forward) are built
with the functional API, trained with fit, checked on new sequences, saved to a .keras
file and reloaded.
"""

import os
import tempfile

import numpy as np

import rill as tf
from rill import keras

L = keras.layers
SEQ, DIGITS, DIM = 12, 10, 32
rng = np.random.default_rng(0)


def make(n):
    digits = rng.integers(0, DIGITS, (n, SEQ))
    return np.eye(DIGITS, dtype="float32")[digits], np.maximum.accumulate(digits, axis=1)


class PositionEmbedding(L.Layer):
    """Add a learned vector per position."""

    def build(self, input_shape):
        self.pos = self.add_weight(shape=(input_shape[1], input_shape[2]), name="pos",
                                   initializer="random_normal")  # fmt: skip

    def call(self, x):
        return x + self.pos


def encoder_block(x, heads=4):
    att = L.MultiHeadAttention(heads, DIM // heads)(x, x, use_causal_mask=True)
    x = L.LayerNormalization()(x + att)
    ff = L.Dense(DIM)(L.Dense(2 * DIM, activation="relu")(x))
    return L.LayerNormalization()(x + ff)


inp = keras.Input((SEQ, DIGITS))
h = PositionEmbedding()(L.Dense(DIM)(inp))
for _ in range(2):
    h = encoder_block(h)
model = keras.Model(inp, L.Dense(DIGITS)(h))
model.compile(
    optimizer=keras.optimizers.Adam(3e-3),
    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    metrics=["accuracy"],
)
tf.random.set_seed(0)
x, y = make(2000)
model.fit(x, y, batch_size=64, epochs=3, verbose=2)
xt, yt = make(500)
pred = model.predict(xt, verbose=0).argmax(-1)
acc = float((pred == yt).mean())

path = os.path.join(tempfile.mkdtemp(), "encoder.keras")
model.save(path)
again = keras.models.load_model(path, custom_objects={"PositionEmbedding": PositionEmbedding})
same = np.allclose(again.predict(xt, verbose=0), model.predict(xt, verbose=0), atol=1e-5)
print(f"running-maximum accuracy on new sequences: {acc:.3f}")
print(f"reloaded from {os.path.basename(path)}: same predictions {same}")
