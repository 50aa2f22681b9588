"""rill's event files against TensorFlow's: the same tf.summary calls (and the same
Keras TensorBoard fit) under TensorFlow and under rill give events that match field by
field, up to wall times, the writer's name and host. Skipped without TensorFlow:

    cd /work/main && PYTHONPATH=. /work/peers/bin/python -m pytest tests/summary
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

import rill
from tests.summary.events import event_files, raw_events, tensor_util

real_tf = pytest.importorskip("tensorflow")
pytest.importorskip("google.protobuf")


def _calls(tf, logdir):
    """The same program for both: ``tf`` is TensorFlow or rill."""
    rng = np.random.default_rng(0)
    w = tf.summary.create_file_writer(logdir)
    step = tf.Variable(0, dtype=tf.int64)

    @tf.function
    def in_function(x):
        tf.summary.scalar("fn/loss", tf.reduce_sum(x * x), step=step)
        tf.summary.histogram("fn/x", x, step=step)
        step.assign_add(1)

    with w.as_default(step=3):
        tf.summary.scalar("loss", 0.5)
        tf.summary.scalar("loss", 0.25, step=4, description="the loss")
        tf.summary.scalar("int", 7, step=-2)
        tf.summary.scalar("big_step", 1.0, step=2**40)
        tf.summary.scalar("f64", np.float64(1) / 3, step=1)
        tf.summary.histogram("h", rng.normal(size=(40, 3)).astype(np.float32), step=1)
        tf.summary.histogram("h_ints", np.arange(10), step=1, buckets=4)
        tf.summary.histogram("h_single", [1.0, 1.0], step=1, buckets=5)
        tf.summary.histogram("h_empty", np.zeros(0, np.float32), step=1)
        tf.summary.histogram("h_zero_buckets", [1.0, 2.0], step=1, buckets=0)
        tf.summary.histogram("h_f64", rng.uniform(size=100), step=2, description="d")
        tf.summary.image(
            "img", rng.uniform(-0.1, 1.1, size=(2, 4, 5, 3)).astype(np.float32), step=2
        )
        tf.summary.image("img_u8", rng.integers(0, 256, size=(3, 2, 3, 1)).astype(np.uint8), step=2,
                         max_outputs=2)  # fmt: skip
        tf.summary.image("img_i32", rng.integers(0, 2**31 - 1, size=(1, 2, 2, 4)).astype(np.int32),
                         step=2)  # fmt: skip
        tf.summary.image("img_f64_rgba", rng.uniform(size=(1, 3, 3, 4)), step=2)
        tf.summary.text("txt", "hello *world*", step=2)
        tf.summary.text("txt2", tf.constant([["a", "b"], ["c", "d"]]), step=2)
        clip = np.sin(np.linspace(0, 30, 64)).reshape(2, 32, 1).astype(np.float32) * 1.2
        tf.summary.audio("aud", clip, 16000, step=2, max_outputs=1)
        tf.summary.audio("aud2", np.concatenate([clip[:1], -clip[:1]], -1), 8000, step=2)
        tf.summary.write("gen", tf.constant([1, 2, 3]), step=5)
        tf.summary.write("gen_str", tf.constant([b"x", b"yz"]), step=5)
        tf.summary.write("gen_bool", tf.constant([True, False]), step=5)
        tf.summary.write("gen_lazy", lambda: tf.constant(2.0, tf.float64), step=5)
        with tf.name_scope("scope"):
            tf.summary.scalar("scoped", 1.0, step=6)
        with tf.summary.record_if(False):
            tf.summary.scalar("never", 1.0, step=6)
        for i in range(3):
            in_function(tf.constant([float(i), 2.0]))
    w.close()


def _compare_events(ours, theirs):
    assert len(ours) == len(theirs), ([_brief(e) for e in ours], [_brief(e) for e in theirs])
    assert ours[0].file_version == theirs[0].file_version == "brain.Event:2"
    assert ours[0].wall_time == int(ours[0].wall_time)
    for a, b in zip(ours[1:], theirs[1:]):
        assert a.WhichOneof("what") == b.WhichOneof("what") == "summary"
        assert a.step == b.step
        assert len(a.summary.value) == len(b.summary.value) == 1
        va, vb = a.summary.value[0], b.summary.value[0]
        if va.metadata.plugin_data.plugin_name == "images":
            _compare_images(va, vb)
        else:  # byte for byte
            assert va.SerializeToString() == vb.SerializeToString(), (va, vb)
        # and with the event around it, up to the wall time
        a2, b2 = type(a)(), type(b)()
        a2.CopyFrom(a)
        b2.CopyFrom(b)
        a2.ClearField("wall_time")
        b2.ClearField("wall_time")
        if va.metadata.plugin_data.plugin_name != "images":
            assert a2.SerializeToString() == b2.SerializeToString()


def _brief(e):
    what = e.WhichOneof("what")
    return (e.step, e.summary.value[0].tag if what == "summary" else what)


def _compare_images(va, vb):
    """Same tag, metadata, dtype, shape, width and height; PNGs decoding to the same
    pixels (TensorFlow's libpng and rill's zlib compress differently)."""
    assert va.tag == vb.tag and va.metadata == vb.metadata
    ta, tb = tensor_util.make_ndarray(va.tensor), tensor_util.make_ndarray(vb.tensor)
    assert ta.shape == tb.shape and list(ta[:2]) == list(tb[:2])
    for pa, pb in zip(ta[2:], tb[2:]):
        np.testing.assert_array_equal(
            real_tf.io.decode_png(pa).numpy(), real_tf.io.decode_png(pb).numpy()
        )


def test_summary_calls_match_tensorflow(tmp_path):
    _calls(real_tf, str(tmp_path / "tf"))
    _calls(rill, str(tmp_path / "rill"))
    (theirs,), (ours,) = event_files(tmp_path / "tf"), event_files(tmp_path / "rill")
    # file names: events.out.tfevents.<time>.<host>.<pid>.<n>.v2 for both
    for path in (ours, theirs):
        parts = os.path.basename(path).split(".")
        assert parts[:3] == ["events", "out", "tfevents"] and parts[-1] == "v2"
        assert parts[3].isdigit() and parts[-3].isdigit() and parts[-2].isdigit()
    _compare_events(raw_events(ours), raw_events(theirs))


def _keras_model(keras):
    model = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(5, activation="relu"), keras.layers.Dense(2)]
    )
    model.compile(
        keras.optimizers.SGD(0.1),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


def _keras_fit(model, keras, logdir, **cb_args):
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(48, 4)).astype("float32")
    y = (x.sum(1) > 2).astype("int32")
    cb = keras.callbacks.TensorBoard(logdir, **cb_args)
    model.fit(x, y, batch_size=12, epochs=2, validation_split=0.25, callbacks=[cb], verbose=0,
              shuffle=False)  # fmt: skip


@pytest.mark.parametrize(
    "cb_args",
    [
        {"histogram_freq": 1, "write_images": True},
        {"update_freq": "batch", "write_steps_per_second": True},
        {"update_freq": 2},
    ],
    ids=["epoch+histograms+images", "batch+steps_per_second", "every2"],
)
def test_keras_tensorboard_callback_matches_keras(tmp_path, cb_args):
    import keras as real_keras

    theirs_model, ours_model = _keras_model(real_keras), _keras_model(rill.keras)
    ours_model.set_weights([np.asarray(w) for w in theirs_model.get_weights()])
    _keras_fit(theirs_model, real_keras, str(tmp_path / "tf"), **cb_args)
    _keras_fit(ours_model, rill.keras, str(tmp_path / "rill"), **cb_args)
    for run in ("train", "validation"):
        (theirs,), (ours,) = (
            event_files(tmp_path / "tf" / run),
            event_files(tmp_path / "rill" / run),
        )
        a = [e for e in raw_events(ours) if e.WhichOneof("what") != "graph_def"]
        b = raw_events(theirs)
        assert [_brief(e) for e in a] == [_brief(e) for e in b]
        for ea, eb in zip(a[1:], b[1:]):
            va, vb = ea.summary.value[0], eb.summary.value[0]
            assert va.metadata == vb.metadata and va.tensor.dtype == vb.tensor.dtype
            xa, xb = tensor_util.make_ndarray(va.tensor), tensor_util.make_ndarray(vb.tensor)
            assert xa.shape == xb.shape, va.tag
            if "steps_per_second" in va.tag:
                continue  # timings
            if va.tag == "keras":  # the model's config: same layer graph
                ca, cb_ = json.loads(xa.item()), json.loads(xb.item())
                assert ca["class_name"] == cb_["class_name"] == "Sequential"
                names = [layer["class_name"] for layer in ca["config"]["layers"]]
                assert names == [layer["class_name"] for layer in cb_["config"]["layers"]]
            elif va.metadata.plugin_data.plugin_name == "images":
                assert list(xa[:2]) == list(xb[:2])
                for pa, pb in zip(xa[2:], xb[2:]):
                    np.testing.assert_allclose(
                        real_tf.io.decode_png(pa).numpy(), real_tf.io.decode_png(pb).numpy(), atol=1
                    )
            elif va.metadata.plugin_data.plugin_name == "histograms":
                np.testing.assert_allclose(xa[:, :2], xb[:, :2], rtol=1e-4, atol=1e-5)
                assert abs(xa[:, 2] - xb[:, 2]).sum() <= 2  # a value on a bucket edge may move
            else:
                np.testing.assert_allclose(xa, xb, rtol=2e-4, atol=1e-6, err_msg=va.tag)
    # rill also writes the train step's op graph (Keras 3 on TF 2.21 writes none); like
    # every summary, only when the batch records (not batch 1 with update_freq=2)
    ours_train = event_files(tmp_path / "rill" / "train")[0]
    kinds = [e.WhichOneof("what") for e in raw_events(ours_train)]
    assert kinds.count("graph_def") == (0 if cb_args.get("update_freq") == 2 else 1)
