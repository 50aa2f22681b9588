"""End to end: the real TensorBoard server, started on a loopback port against a logdir
rill wrote, returns rill's scalars, histograms, images, text, audio and graphs through
its HTTP data API.

Set RILL_TENSORBOARD_REPORT=<file> to save what the server returned (as JSON)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import numpy as np
import pytest

import rill as tf

pytest.importorskip("google.protobuf")
pytest.importorskip("tensorboard")

STARTUP_S = 90


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write_logs(logdir: str) -> dict:
    """A small run of everything TensorBoard shows; returns what was written."""
    rng = np.random.default_rng(0)
    losses = [1.0 / (i + 1) for i in range(5)]
    image = rng.uniform(size=(1, 4, 6, 3)).astype(np.float32)
    weights = rng.normal(size=1000)

    @tf.function
    def step_fn(x):
        return tf.nn.relu(tf.matmul(x, x)) + 1.0

    w = tf.summary.create_file_writer(os.path.join(logdir, "train"))
    with w.as_default():
        for i, loss in enumerate(losses):
            tf.summary.scalar("loss", loss, step=i)
        tf.summary.histogram("weights", weights, step=0)
        tf.summary.image("sample", image, step=0)
        tf.summary.text("notes", "rill **wrote** this", step=0)
        tf.summary.audio("beep", np.sin(np.arange(800) / 5.0).reshape(1, 800, 1), 8000, step=0)
        tf.summary.graph(step_fn.get_concrete_function(tf.ones((2, 2))).graph)
        tf.summary.trace_on()
        step_fn(tf.ones((2, 2)))
        tf.summary.trace_export("step_trace", step=0)
    w.close()

    x = rng.uniform(size=(32, 4)).astype("float32")
    y = (x.sum(1) > 2).astype("int32")
    model = tf.keras.Sequential([tf.keras.Input((4,)), tf.keras.layers.Dense(2)])
    model.compile("sgd", tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    cb = tf.keras.callbacks.TensorBoard(os.path.join(logdir, "fit"))
    hist = model.fit(x, y, batch_size=8, epochs=2, validation_split=0.25, callbacks=[cb], verbose=0)
    return {"losses": losses, "weights": weights, "image": image, "history": hist.history}


class _Server:
    def __init__(self, logdir):
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        cmd = [sys.executable, "-m", "tensorboard.main", "--logdir", logdir, "--host",
               "127.0.0.1", "--port", str(self.port), "--reload_interval", "1"]  # fmt: skip
        self.proc = subprocess.Popen(
            cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )

    def get(self, path, **params):
        url = self.base + path + ("?" + urllib.parse.urlencode(params) if params else "")
        with urllib.request.urlopen(url, timeout=10) as r:
            body = r.read()
            return json.loads(body) if r.headers.get_content_type() == "application/json" else body

    def wait_for(self, check, what):
        deadline = time.monotonic() + STARTUP_S
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"tensorboard exited: {self.proc.stderr.read()[-2000:]}")
            try:
                got = check()
                if got:
                    return got
            except (urllib.error.URLError, ConnectionError, OSError) as e:
                last = e
            time.sleep(0.25)
        raise TimeoutError(f"tensorboard did not serve {what} within {STARTUP_S}s ({last})")

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=15)
        self.proc.stderr.close()


def test_tensorboard_serves_rills_logs(tmp_path):
    logdir = str(tmp_path)
    written = _write_logs(logdir)
    server = _Server(logdir)
    report = {}
    try:
        runs = server.wait_for(
            lambda: (r := server.get("/data/runs")) and {"train", "fit/train"} <= set(r) and r,
            "the runs",
        )
        report["runs"] = sorted(runs)
        assert {"train", "fit/train", "fit/validation"} <= set(runs)

        tags = server.wait_for(
            lambda: (t := server.get("/data/plugin/scalars/tags")).get("fit/validation") and t,
            "the scalar tags",
        )
        report["scalar_tags"] = {run: sorted(t) for run, t in sorted(tags.items())}
        assert "loss" in tags["train"]
        assert {"epoch_loss", "epoch_learning_rate"} <= set(tags["fit/train"])
        assert {"epoch_loss", "evaluation_loss_vs_iterations"} <= set(tags["fit/validation"])

        scalars = server.get("/data/plugin/scalars/scalars", run="train", tag="loss")
        report["scalars train/loss [wall_time, step, value]"] = scalars
        assert [s for _, s, _ in scalars] == list(range(5))
        np.testing.assert_allclose([v for _, _, v in scalars], written["losses"], rtol=1e-6)
        walls = [wt for wt, _, _ in scalars]
        assert walls == sorted(walls)
        epoch_loss = server.get("/data/plugin/scalars/scalars", run="fit/train", tag="epoch_loss")
        report["scalars fit/train/epoch_loss"] = epoch_loss
        np.testing.assert_allclose(
            [v for *_, v in epoch_loss], written["history"]["loss"], rtol=1e-6
        )
        val = server.get("/data/plugin/scalars/scalars", run="fit/validation", tag="epoch_loss")
        np.testing.assert_allclose([v for *_, v in val], written["history"]["val_loss"], rtol=1e-6)
        evals = server.get(
            "/data/plugin/scalars/scalars",
            run="fit/validation",
            tag="evaluation_loss_vs_iterations",
        )
        report["scalars fit/validation/evaluation_loss_vs_iterations"] = evals
        assert [s for _, s, _ in evals] == [3, 6]

        hist = server.get("/data/plugin/histograms/histograms", run="train", tag="weights")
        ((_, step, buckets),) = hist
        report["histograms train/weights (first 3 buckets, count total)"] = [
            buckets[:3], sum(c for _, _, c in buckets)
        ]  # fmt: skip
        assert step == 0 and len(buckets) == 30
        assert sum(c for _, _, c in buckets) == 1000
        assert buckets[0][0] == pytest.approx(written["weights"].min())
        assert buckets[-1][1] == pytest.approx(written["weights"].max())

        images = server.get("/data/plugin/images/images", run="train", tag="sample", sample=0)
        ((entry),) = images
        png = server.get("/data/plugin/images/individualImage?" + entry["query"])
        report["images train/sample"] = {
            "entries": images, "png_bytes": len(png), "png_signature": png[:8].hex()
        }  # fmt: skip
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and entry["step"] == 0

        text = server.get("/data/plugin/text/text", run="train", tag="notes")
        report["text train/notes"] = text
        assert text[0]["step"] == 0 and "<strong>wrote</strong>" in text[0]["text"]

        audio = server.get("/data/plugin/audio/audio", run="train", tag="beep", sample=0)
        wav = server.get("/data/plugin/audio/individualAudio?" + audio[0]["query"])
        report["audio train/beep"] = {"entries": audio, "wav_header": wav[:12].decode("latin1")}
        assert wav[:4] == b"RIFF" and wav[8:12] == b"WAVE"

        info = server.get("/data/plugin/graphs/info")
        report["graphs info"] = info
        assert info["train"]["run_graph"] is True
        assert info["train"]["tags"]["step_trace"]["op_graph"] is True
        assert info["fit/train"]["tags"]["keras"]["conceptual_graph"] is True
        assert info["fit/train"]["run_graph"] is True
        graph = server.get("/data/plugin/graphs/graph", run="train").decode()
        report["graphs train run graph (pbtxt, first 400 chars)"] = graph[:400]
        assert 'op: "MatMul"' in graph and 'op: "Relu"' in graph
        trace = server.get("/data/plugin/graphs/graph", run="train", tag="step_trace").decode()
        assert 'op: "MatMul"' in trace
        keras_graph = server.get(
            "/data/plugin/graphs/graph", run="fit/train", tag="keras", conceptual="true"
        ).decode()
        report["graphs fit/train keras conceptual graph (pbtxt)"] = keras_graph
        assert "dense" in keras_graph
    finally:
        server.stop()
        out = os.environ.get("RILL_TENSORBOARD_REPORT")
        if out:
            with open(out, "w") as f:
                json.dump(report, f, indent=1, default=str)
