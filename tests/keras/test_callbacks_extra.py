"""SwapEMAWeights (evaluation with the optimizer's moving averages) and RemoteMonitor
(POSTs to a real http.server on loopback, each request bounded in time)."""

import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer

import numpy as np
import pytest

import rill as tf

keras = tf.keras
rng = np.random.default_rng(1)
X = rng.normal(size=(32, 3)).astype(np.float32)
Y = (X @ np.array([[1.0], [-2.0], [0.5]], np.float32)).astype(np.float32)


def _model(use_ema=True):
    inp = keras.Input((3,))
    m = keras.Model(inp, keras.layers.Dense(1)(inp))
    m.compile(optimizer=keras.optimizers.SGD(0.05, use_ema=use_ema, ema_momentum=0.5),
              loss="mse")  # fmt: skip
    return m


class _Recorder(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.seen = []

    def on_test_batch_begin(self, batch, logs=None):
        self.seen.append([w.copy() for w in self.model.get_weights()])


def test_swap_ema_weights_around_evaluate():
    m = _model()
    m.fit(X, Y, epochs=2, batch_size=8, verbose=0)
    trained = [w.copy() for w in m.get_weights()]
    ema = [np.array(v.numpy()) for v in m.optimizer._model_variables_moving_average]
    assert not all(np.allclose(a, b) for a, b in zip(trained, ema))
    rec = _Recorder()
    m.evaluate(X, Y, batch_size=32, verbose=0, callbacks=[keras.callbacks.SwapEMAWeights(), rec])
    for got, want in zip(rec.seen[0], ema):  # evaluated with the averages
        np.testing.assert_allclose(got, want, rtol=1e-6)
    for got, want in zip(m.get_weights(), trained):  # and the training weights restored
        np.testing.assert_allclose(got, want, rtol=1e-6)
    # the loss reported is the loss of the EMA weights
    m2 = _model(use_ema=False)
    m2.set_weights(ema)
    assert m.evaluate(X, Y, verbose=0, callbacks=[keras.callbacks.SwapEMAWeights()]) == (
        pytest.approx(m2.evaluate(X, Y, verbose=0), rel=1e-5)
    )


def test_swap_on_epoch_leaves_the_averages_in_the_model_after_fit():
    m = _model()
    m.fit(X, Y, epochs=3, batch_size=8, verbose=0, validation_data=(X, Y),
          callbacks=[keras.callbacks.SwapEMAWeights(swap_on_epoch=True)])  # fmt: skip
    ema = [np.array(v.numpy()) for v in m.optimizer._model_variables_moving_average]
    for got, want in zip(m.get_weights(), ema):
        np.testing.assert_allclose(got, want, rtol=1e-6)


def test_swap_ema_weights_needs_use_ema():
    m = _model(use_ema=False)
    m.fit(X, Y, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="use_ema"):
        m.evaluate(X, Y, verbose=0, callbacks=[keras.callbacks.SwapEMAWeights()])


class _Handler(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        self.received.append((self.path, self.headers.get("Content-Type"),
                              self.headers.get("X-Token"), body))  # fmt: skip
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = HTTPServer(("127.0.0.1", 0), _Handler)
    httpd.timeout = 5
    _Handler.received = []
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", _Handler.received
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


def test_remote_monitor_posts_form_data(server):
    root, received = server
    cb = keras.callbacks.RemoteMonitor(root=root, path="/epoch/", headers={"X-Token": "t"})
    cb.timeout = 5.0
    m = _model(use_ema=False)
    hist = m.fit(X, Y, epochs=2, batch_size=16, verbose=0, callbacks=[cb])
    assert len(received) == 2
    for epoch, (path, ctype, token, body) in enumerate(received):
        assert path == "/epoch/" and token == "t" and ctype == "application/x-www-form-urlencoded"
        sent = json.loads(urllib.parse.parse_qs(body)["data"][0])
        assert sent["epoch"] == epoch
        assert sent["loss"] == pytest.approx(hist.history["loss"][epoch])


def test_remote_monitor_posts_json(server):
    root, received = server
    cb = keras.callbacks.RemoteMonitor(root=root, send_as_json=True)
    cb.timeout = 5.0
    cb.on_epoch_end(4, {"loss": np.float32(0.25), "acc": np.array(0.5)})
    path, ctype, _, body = received[0]
    assert path == "/publish/epoch/end/" and ctype == "application/json"
    assert json.loads(body) == {"epoch": 4, "loss": 0.25, "acc": 0.5}


def test_remote_monitor_warns_when_unreachable():
    import socket

    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cb = keras.callbacks.RemoteMonitor(root=f"http://127.0.0.1:{port}")
    cb.timeout = 2.0
    with pytest.warns(UserWarning, match="Could not reach RemoteMonitor"):
        cb.on_epoch_end(0, {"loss": 1.0})
