"""Classify variable-length token sequences with Embedding(mask_zero=True) + LSTM.

The data is generated here: sequences of 4 to 24 tokens from a vocabulary of 30, where
tokens 1-9 are "positive", 10-19 "negative" and 20-29 neutral; the label says whether
positive tokens outnumber negative ones. Batches are zero-padded to their own longest
sequence (``padded_batch``), and the embedding's mask (id 0 is padding) tells the LSTM to
skip the padding: its state at the end of a padded sequence is the state at the end of
the real one. One traced training step serves every padded length (``fit`` traces with
``reduce_retracing``; the LSTM's time loop is one graph loop).
"""

import numpy as np

import rill as tf
from rill import keras

VOCAB, N_TRAIN, N_TEST = 30, 1500, 500
rng = np.random.default_rng(0)


def make_sequences(n):
    seqs, labels = [], []
    for _ in range(n):
        length = rng.integers(4, 25)
        seq = rng.integers(1, VOCAB, length)
        pos, neg = np.sum(seq < 10), np.sum((seq >= 10) & (seq < 20))
        if pos == neg:  # no ties: flip one neutral or the last token
            seq[-1] = 1
            pos += 1
        seqs.append(seq.astype("int32"))
        labels.append(int(pos > neg))
    return seqs, np.array(labels, "int32")


def dataset(seqs, labels, shuffle):
    ds = tf.data.Dataset.from_generator(
        lambda: zip(seqs, labels),
        output_signature=(tf.TensorSpec([None], tf.int32), tf.TensorSpec([], tf.int32)),
    )
    if shuffle:
        ds = ds.shuffle(len(seqs), seed=0)
    return ds.padded_batch(64)  # each batch padded (with id 0) to its longest sequence


class Classifier(keras.Model):
    """Embedding -> LSTM (told where the padding is) -> Dense."""

    def __init__(self):
        super().__init__()
        self.embed = keras.layers.Embedding(VOCAB, 16, mask_zero=True)
        self.lstm = keras.layers.LSTM(32)
        self.head = keras.layers.Dense(2)

    def call(self, ids, training=None):
        x = self.embed(ids)
        return self.head(self.lstm(x, mask=self.embed.compute_mask(ids), training=training))


train_x, train_y = make_sequences(N_TRAIN)
test_x, test_y = make_sequences(N_TEST)
tf.random.set_seed(0)
model = Classifier()
model.compile(
    optimizer=keras.optimizers.Adam(0.01),
    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    metrics=["accuracy"],
)
model.fit(dataset(train_x, train_y, True), epochs=4, verbose=2)
loss, acc = model.evaluate(dataset(test_x, test_y, False), verbose=0)

# padding changes nothing: a sequence alone and padded in a batch get the same logits
one = test_x[0][None]
padded = np.zeros((1, 30), "int32")
padded[0, : len(test_x[0])] = test_x[0]
same = np.allclose(model(one).numpy(), model(padded).numpy(), atol=1e-5)
lengths = sorted({len(s) for s in train_x})
print(f"sequence lengths {lengths[0]}..{lengths[-1]}; test accuracy {acc:.3f}")
traces = model._fns["train_step"].experimental_get_tracing_count()
print(f"padding ignored: {same}; training step traced {traces} time(s)")
