"""keras.callbacks.TensorBoard: runs, tags, steps and values of a fit, as Keras 3 writes
them, read back with TensorBoard's EventAccumulator."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

import rill as tf
from tests.summary.events import accumulator, by_tag, event_files, raw_events, tensor_values

pytest.importorskip("google.protobuf")
keras = tf.keras


def _data(n=64):
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(n, 4)).astype("float32")
    y = (x.sum(1) > 2).astype("int32")
    return x, y


def _model(functional=False):
    if functional:
        inp = keras.Input((4,))
        out = keras.layers.Dense(2)(keras.layers.Dense(8, activation="relu")(inp))
        model = keras.Model(inp, out)
    else:
        model = keras.Sequential(
            [
                keras.Input((4,)),
                keras.layers.Dense(8, activation="relu", name="hidden"),
                keras.layers.Dense(2, name="logits"),
            ],
            name="seq",
        )
    model.compile(
        "adam",
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


def test_epoch_logs_histograms_images_and_graphs(tmp_path):
    x, y = _data()
    model = _model()
    cb = keras.callbacks.TensorBoard(
        str(tmp_path), histogram_freq=1, write_images=True, write_steps_per_second=True
    )
    hist = model.fit(
        x, y, batch_size=16, epochs=3, validation_split=0.25, callbacks=[cb], verbose=0
    )
    assert sorted(os.listdir(tmp_path)) == ["train", "validation"]
    train, val = accumulator(tmp_path / "train"), accumulator(tmp_path / "validation")
    tags = set(train.Tags()["tensors"])
    assert {"epoch_loss", "epoch_accuracy", "epoch_learning_rate", "epoch_steps_per_second"} <= tags
    assert {"keras", "seq/hidden/kernel/histogram", "seq/logits/bias/image"} <= tags
    for name in ("loss", "accuracy"):
        got = tensor_values(train, f"epoch_{name}")
        assert [s for s, _ in got] == [0, 1, 2]
        np.testing.assert_allclose([float(v) for _, v in got], hist.history[name], rtol=1e-6)
        got = tensor_values(val, f"epoch_{name}")
        np.testing.assert_allclose(
            [float(v) for _, v in got], hist.history[f"val_{name}"], rtol=1e-6
        )
    lr = tensor_values(train, "epoch_learning_rate")
    np.testing.assert_allclose([float(v) for _, v in lr], [0.001] * 3, rtol=1e-6)
    evals = tensor_values(val, "evaluation_loss_vs_iterations")
    assert [s for s, _ in evals] == [3, 6, 9]  # optimizer.iterations after each epoch
    assert train.SummaryMetadata("epoch_loss").plugin_data.plugin_name == "scalars"
    hist_md = train.SummaryMetadata("seq/hidden/kernel/histogram")
    assert hist_md.plugin_data.plugin_name == "histograms"
    ((step, buckets),) = tensor_values(train, "seq/hidden/kernel/histogram")[:1]
    assert step == 0 and buckets.shape == (30, 3) and buckets[:, 2].sum() == 32
    # the conceptual (layer) graph and the op graph of the train step
    ((_, config),) = tensor_values(train, "keras")
    assert json.loads(config.item())["class_name"] == "Sequential"
    from tensorboard.plugins.graph import keras_util

    layers = keras_util.keras_model_to_graph_def(json.loads(config.item()))
    assert {n.name for n in layers.node} >= {"seq/hidden", "seq/logits"}
    assert any(n.op == "MatMul" for n in train.Graph().node)


@pytest.mark.parametrize("update_freq, steps", [("batch", [1, 2, 3, 4, 5, 6]), (2, [2, 4, 6])])
def test_batch_level_logs(tmp_path, update_freq, steps):
    x, y = _data(48)
    model = _model(functional=True)
    cb = keras.callbacks.TensorBoard(str(tmp_path), update_freq=update_freq, write_graph=False)
    model.fit(x, y, batch_size=16, epochs=2, callbacks=[cb], verbose=0)
    got = by_tag(event_files(tmp_path / "train")[0])
    assert [s for s, _ in got["batch_loss"]] == steps
    assert "keras" not in got


def test_functional_models_conceptual_graph(tmp_path):
    from tensorboard.plugins.graph import keras_util

    x, y = _data(32)
    model = _model(functional=True)
    model.fit(x, y, batch_size=16, epochs=1, verbose=0,
              callbacks=[keras.callbacks.TensorBoard(str(tmp_path))])  # fmt: skip
    ((_, config),) = tensor_values(accumulator(tmp_path / "train"), "keras")
    graph = keras_util.keras_model_to_graph_def(json.loads(config.item()))
    dense = [n for n in graph.node if n.attr["keras_class"].s == b"Dense"]
    assert len(dense) == 2 and dense[1].input == [dense[0].name]
    assert dense[0].input and "input" in dense[0].input[0]


def test_summaries_inside_train_step_use_the_callbacks_writer_and_step(tmp_path):
    class Logged(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(2)

        def call(self, x):
            out = self.dense(x)
            tf.summary.histogram("outputs", out)
            return out

    x, y = _data(32)
    model = Logged()
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    cb = keras.callbacks.TensorBoard(str(tmp_path), update_freq=1)
    model.fit(x, y, batch_size=16, epochs=1, callbacks=[cb], verbose=0)
    got = by_tag(event_files(tmp_path / "train")[0])
    assert "outputs" in got and "batch_loss" in got


def test_evaluate_alone_and_eager_models(tmp_path):
    x, y = _data(32)
    model = _model()
    model.run_eagerly = True
    cb = keras.callbacks.TensorBoard(str(tmp_path / "a"), profile_batch=0, embeddings_freq=0)
    model.fit(x, y, batch_size=16, epochs=1, callbacks=[cb], verbose=0)
    files = event_files(tmp_path / "a" / "train")
    assert not any(e.WhichOneof("what") == "graph_def" for e in raw_events(files[0]))
    cb2 = keras.callbacks.TensorBoard(str(tmp_path / "b"))
    model.evaluate(x, y, callbacks=[cb2], verbose=0)
    cb2._close_writers()
    val = accumulator(tmp_path / "b" / "validation")
    assert [s for s, _ in tensor_values(val, "evaluation_loss_vs_iterations")] == [2]


def test_arguments():
    cb = keras.callbacks.TensorBoard(
        "logs", embeddings_freq=1, embeddings_metadata={"emb": "meta.tsv"}, update_freq="batch"
    )
    assert cb.update_freq == 1 and cb.embeddings_metadata == {"emb": "meta.tsv"}
    with pytest.raises(ValueError, match="update_freq"):
        keras.callbacks.TensorBoard("logs", update_freq="sometimes")
    assert keras.callbacks.TensorBoard is tf.keras.callbacks.TensorBoard


def test_embeddings_arguments(tmp_path):
    pytest.importorskip("h5py")
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 10, (16, 3)), np.zeros((16, 1), "float32")
    model = keras.Sequential(
        [keras.Input((3,), dtype="int32"), keras.layers.Embedding(10, 4, name="emb"),
         keras.layers.Flatten(), keras.layers.Dense(1)]
    )  # fmt: skip
    model.compile("sgd", "mse")
    cb = keras.callbacks.TensorBoard(
        str(tmp_path), embeddings_freq=1, embeddings_metadata={"emb": "meta.tsv"}
    )
    model.fit(x, y, epochs=1, verbose=0, callbacks=[cb])
    config = (tmp_path / "projector_config.pbtxt").read_text()
    assert 'metadata_path: "meta.tsv"' in config
    assert (tmp_path / "train" / "keras_embedding.ckpt-0.weights.h5").exists()
    bad = keras.callbacks.TensorBoard(
        str(tmp_path), embeddings_freq=1, embeddings_metadata={"x": "m"}
    )
    with pytest.raises(ValueError, match="Unrecognized `Embedding` layer names"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[bad])
