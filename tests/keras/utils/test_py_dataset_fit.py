"""fit / evaluate / predict accept a keras.utils.PyDataset (and Sequence), as Keras 3."""

import numpy as np

import rill as tf


class _Batches(tf.keras.utils.PyDataset):
    def __init__(self, x, y, batch_size, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y, self.batch_size = x, y, batch_size
        self.epochs_ended = 0

    def __len__(self):
        return -(-len(self.x) // self.batch_size)

    def __getitem__(self, i):
        s = slice(i * self.batch_size, (i + 1) * self.batch_size)
        return self.x[s], self.y[s]

    def on_epoch_end(self):
        self.epochs_ended += 1


def test_fit_on_a_py_dataset_trains_and_calls_epoch_hooks():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3)).astype(np.float32)
    y = x @ np.array([[1.0], [-2.0], [0.5]], np.float32)
    data = _Batches(x, y, 16, workers=2)
    model = tf.keras.Sequential([tf.keras.Input((3,)), tf.keras.layers.Dense(1)])
    model.compile(optimizer=tf.keras.optimizers.SGD(0.1), loss="mse")
    hist = model.fit(data, epochs=3, verbose=0)
    losses = hist.history["loss"]
    assert len(losses) == 3 and losses[-1] < losses[0]
    assert data.epochs_ended == 3
    # evaluate on the same batches equals the mean over the arrays
    got = model.evaluate(_Batches(x, y, 16), verbose=0)
    want = float(np.mean((model.predict(x, verbose=0) - y) ** 2))
    np.testing.assert_allclose(got, want, rtol=1e-5)
    assert model.predict(_Batches(x, y, 16), verbose=0).shape == (64, 1)
