"""``SwapEMAWeights`` (evaluate and predict with an optimizer's moving-average weights) and
``RemoteMonitor`` (POST each epoch's logs to an HTTP server, with the standard library)."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
import warnings

import numpy as np

from rill.keras.callbacks import Callback

__all__ = ["SwapEMAWeights", "RemoteMonitor"]


class SwapEMAWeights(Callback):
    """Swaps the model's weights with the optimizer's EMA weights around evaluation and
    prediction (and, with ``swap_on_epoch``, around each epoch end); needs ``use_ema``."""

    def __init__(self, swap_on_epoch: bool = False):
        super().__init__()
        self.swap_on_epoch = swap_on_epoch
        self._ema_weights_in_model = False
        self._epochs = None

    def _ema_optimizers(self):
        opt = self.model.optimizer
        opt = getattr(opt, "inner_optimizer", opt)  # a LossScaleOptimizer wraps the real one
        if hasattr(opt, "optimizers"):
            inner = [o for o in opt.optimizers if getattr(o, "use_ema", False)]
            if not inner:
                raise ValueError(
                    "SwapEMAWeights needs at least one inner optimizer with `use_ema=True`; "
                    "every inner optimizer of the MultiOptimizer has `use_ema=False`."
                )
        else:
            inner = [opt]
        for o in inner:
            if not hasattr(o, "_model_variables_moving_average"):
                raise ValueError(
                    "SwapEMAWeights must be used with `use_ema=True` on the optimizer (and "
                    f"after it is built). Received: use_ema={getattr(o, 'use_ema', None)}"
                )
        return inner

    def _swap_variables(self):
        for opt in self._ema_optimizers():
            for var, avg in zip(opt._trainable_variables, opt._model_variables_moving_average):
                current = np.array(var.numpy())
                var.assign(avg)
                avg.assign(current)

    def _finalize_ema_values(self):
        # the model now holds the EMA weights: keep the average equal to them
        for opt in self._ema_optimizers():
            for var, avg in zip(opt._trainable_variables, opt._model_variables_moving_average):
                avg.assign(var)

    def _swap_in(self):
        if not self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = True

    def _swap_out(self):
        if self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = False

    def on_train_begin(self, logs=None):
        # kept now: the validation inside fit hands the callbacks evaluate's own params
        self._epochs = self.params.get("epochs")

    def on_epoch_begin(self, epoch, logs=None):
        if self.swap_on_epoch:
            self._swap_out()

    def on_epoch_end(self, epoch, logs=None):
        if self.swap_on_epoch and not self._ema_weights_in_model:
            self._swap_in()
            epochs = self._epochs if self._epochs is not None else self.params.get("epochs", 0)
            if epoch == epochs - 1:
                self._finalize_ema_values()

    def on_test_begin(self, logs=None):
        self._swap_in()

    def on_test_end(self, logs=None):
        self._swap_out()

    def on_predict_begin(self, logs=None):
        self._swap_in()

    def on_predict_end(self, logs=None):
        # Keras 3.15 tests the flag the wrong way round here and leaves the EMA weights in
        # the model after `predict`; rill restores the training weights, as documented
        self._swap_out()


def _plain(value):
    """A log value as a JSON-ready Python number (NumPy and rill scalars included)."""
    if isinstance(value, (np.ndarray, np.generic)):
        return value.item()
    if hasattr(value, "numpy"):
        return np.asarray(value.numpy()).item()
    return value


class RemoteMonitor(Callback):
    """POSTs ``{"epoch": ..., **logs}`` to ``root + path`` at each epoch end: as a JSON
    body (``send_as_json``) or as the form field ``field`` holding the JSON string."""

    timeout = 10.0  # seconds; a monitor that does not answer must not stall training

    def __init__(self, root: str = "http://localhost:9000", path: str = "/publish/epoch/end/",
                 field: str = "data", headers: dict | None = None,
                 send_as_json: bool = False):  # fmt: skip
        super().__init__()
        self.root = root
        self.path = path
        self.field = field
        self.headers = headers
        self.send_as_json = send_as_json

    def on_epoch_end(self, epoch, logs=None):
        send = {"epoch": epoch}
        for key, value in (logs or {}).items():
            send[key] = _plain(value)
        headers = dict(self.headers or {})
        if self.send_as_json:
            body = json.dumps(send).encode("utf-8")
            headers.setdefault("Content-Type", "application/json")
        else:
            body = urllib.parse.urlencode({self.field: json.dumps(send)}).encode("utf-8")
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        request = urllib.request.Request(self.root + self.path, data=body, headers=headers,
                                         method="POST")  # fmt: skip
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                response.read()
        except urllib.error.HTTPError:
            pass  # the server was reached; like Keras, an error status is not reported
        except (urllib.error.URLError, OSError, ValueError):
            warnings.warn(f"Could not reach RemoteMonitor root server at {self.root}", stacklevel=2)
