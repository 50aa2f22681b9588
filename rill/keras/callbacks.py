"""``keras.callbacks``: hooks into ``fit``/``evaluate``/``predict`` (History, progress bar,
EarlyStopping, LambdaCallback, TerminateOnNaN; TensorBoard in callbacks_tensorboard)."""

from __future__ import annotations

import math
import sys
import time

import numpy as np

__all__ = [
    "Callback",
    "CallbackList",
    "History",
    "ProgbarLogger",
    "EarlyStopping",
    "LambdaCallback",
    "TerminateOnNaN",
    "LearningRateScheduler",
    "ReduceLROnPlateau",
    "CSVLogger",
]

_HOOKS = (
    "on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end",
    "on_train_batch_begin", "on_train_batch_end", "on_test_begin", "on_test_end",
    "on_test_batch_begin", "on_test_batch_end", "on_predict_begin", "on_predict_end",
    "on_predict_batch_begin", "on_predict_batch_end",
)  # fmt: skip


def _maximizes(mode: str, monitor: str) -> bool:
    """Whether ``monitor`` improves upwards: ``mode="max"``, or ``"auto"`` for accuracies,
    AUCs and F-measures (every other quantity, losses first, improves downwards)."""
    if mode == "auto":
        return "acc" in monitor or "auc" in monitor or monitor.startswith("fmeasure")
    return mode == "max"


class Callback:
    """Base class: override any of the ``on_*`` hooks; ``self.model`` is set by ``fit``."""

    def __init__(self):
        self.model = None
        self.params = {}

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params


for _hook in _HOOKS:
    setattr(Callback, _hook, lambda self, *args, **kwargs: None)


class CallbackList:
    """Calls every hook on each callback in order."""

    def __init__(self, callbacks, model, params):
        self.callbacks = list(callbacks)
        for c in self.callbacks:
            c.set_model(model)
            c.set_params(params)

    def __getattr__(self, name):
        if name not in _HOOKS:
            raise AttributeError(name)
        indexed = "batch" in name or "epoch" in name  # hook(index, logs) vs hook(logs)

        def hook(*args, logs=None):
            if len(args) > indexed:
                *args, logs = args
            for c in self.callbacks:  # Keras passes logs by keyword to batch hooks only
                if "batch" in name:
                    getattr(c, name)(*args, logs=logs)
                else:
                    getattr(c, name)(*args, logs)

        return hook


class History(Callback):
    """Records each epoch's logs in ``history`` (``fit`` returns it)."""

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []
        self.history = {}

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)


def _fmt_time(seconds: float) -> str:
    if seconds >= 3600:
        return f"{int(seconds // 3600)}:{int(seconds % 3600 // 60):02d}:{int(seconds % 60):02d}"
    if seconds >= 60:
        return f"{int(seconds // 60)}:{int(seconds % 60):02d}"
    return f"{int(round(seconds))}s"


def _fmt_step(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.0f}s/step"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/step"
    return f"{seconds * 1e6:.0f}us/step"


def _fmt_logs(logs) -> str:
    return "".join(f" - {k}: {v:.4f}" for k, v in sorted((logs or {}).items()))


class ProgbarLogger(Callback):
    """Keras' progress output: a bar with ETA and running metrics (verbose=1), or one line
    per epoch (verbose=2)."""

    def __init__(self, verbose=1, stream=None):
        super().__init__()
        self.verbose = verbose
        self.stream = stream

    def _out(self):
        return self.stream or sys.stdout

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()
        self._seen = 0
        epochs = self.params.get("epochs", 1)
        if self.verbose:
            print(f"Epoch {epoch + 1}/{epochs}", file=self._out())

    def _line(self, step, total, logs, final):
        elapsed = time.perf_counter() - self._start
        per = elapsed / max(step, 1)
        if total:
            width = 20
            done = int(width * step / total)
            bar = "\u2501" * done + "\u2500" * (width - done) if not final else "\u2501" * width
            head = f"{step}/{total} {bar} "
        else:
            head = f"{step}/Unknown "
        timing = (
            f"{_fmt_time(elapsed)} {_fmt_step(per)}"
            if final
            else f"{_fmt_time(per * (total - step)) if total else _fmt_time(elapsed)} {_fmt_step(per)}"
        )
        return head + timing + _fmt_logs(logs)

    def _interactive(self) -> bool:
        # a terminal gets a live bar; a log file or a pipe only each epoch's final line
        isatty = getattr(self._out(), "isatty", None)
        return bool(isatty and isatty())

    def _write(self, line: str, end: str = ""):
        out = self._out()
        if self._interactive():
            pad = max(0, getattr(self, "_last_len", 0) - len(line))
            out.write("\r" + line + " " * pad + end)
            self._last_len = len(line)
        elif end:
            out.write(line + end)
        out.flush()

    def on_train_batch_end(self, batch, logs=None):
        self._seen = batch + 1
        if self.verbose == 1:
            total = self.params.get("steps")
            self._write(self._line(batch + 1, total, logs, False))

    def on_epoch_end(self, epoch, logs=None):
        total = self.params.get("steps") or self._seen
        if self.verbose == 1:
            self._write(self._line(total, total, logs, True), "\n")
            self._last_len = 0
        elif self.verbose == 2:
            elapsed = time.perf_counter() - self._start
            print(
                f"{total}/{total} - {_fmt_time(elapsed)} - {_fmt_step(elapsed / max(total, 1))}"
                + _fmt_logs(logs),
                file=self._out(),
            )

    # evaluate() and predict() show the same bar, without the "Epoch" header; inside fit
    # the validation pass is silent (fit gives this logger no test hooks)
    def on_test_begin(self, logs=None):
        self._start = time.perf_counter()
        self._seen = 0

    on_predict_begin = on_test_begin
    on_test_batch_end = on_train_batch_end

    def on_predict_batch_end(self, batch, logs=None):
        self.on_train_batch_end(batch, None)

    def on_test_end(self, logs=None):
        self.on_epoch_end(0, logs)

    def on_predict_end(self, logs=None):
        self.on_epoch_end(0, None)


class EarlyStopping(Callback):
    """Stop training when ``monitor`` stops improving (optionally restoring the best weights)."""

    def __init__(
        self,
        monitor="val_loss",
        min_delta=0,
        patience=0,
        verbose=0,
        mode="auto",
        baseline=None,
        restore_best_weights=False,
        start_from_epoch=0,
    ):
        super().__init__()
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"EarlyStopping: mode must be 'auto', 'min' or 'max', got {mode!r}.")
        self.monitor = monitor
        self.patience = patience
        self.verbose = verbose
        self.baseline = baseline
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch
        self._sign = 1.0 if _maximizes(mode, monitor) else -1.0
        self.min_delta = abs(min_delta) * self._sign
        self.stopped_epoch = 0

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.best = -math.inf if self.baseline is None else self._sign * self.baseline
        self.best_weights = None
        self.best_epoch = 0
        self.stopped_epoch = 0

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is None or epoch < self.start_from_epoch:
            return
        score = self._sign * value
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()
        self.wait += 1
        if score - self.min_delta * self._sign > self.best:
            self.best = score
            self.best_epoch = epoch
            self.wait = 0
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True
            if self.restore_best_weights and self.best_weights is not None:
                self.model.set_weights(self.best_weights)


class LambdaCallback(Callback):
    """A callback from functions: ``LambdaCallback(on_epoch_end=lambda epoch, logs: ...)``."""

    def __init__(self, **hooks):
        super().__init__()
        for name, fn in hooks.items():
            if name not in _HOOKS:
                raise ValueError(
                    f"LambdaCallback: unknown hook {name!r}; valid: {', '.join(_HOOKS)}"
                )
            setattr(self, name, fn)


class TerminateOnNaN(Callback):
    """Stop training as soon as the loss becomes NaN or infinite."""

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not np.isfinite(loss):
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True


def _current_lr(model) -> float:
    return float(np.asarray(model.optimizer.learning_rate))


class LearningRateScheduler(Callback):
    """Set the learning rate at each epoch's start to ``schedule(epoch, lr)`` (or
    ``schedule(epoch)``)."""

    def __init__(self, schedule, verbose=0):
        super().__init__()
        self.schedule = schedule
        self.verbose = verbose

    def on_epoch_begin(self, epoch, logs=None):
        lr = _current_lr(self.model)
        try:
            new = self.schedule(epoch, lr)
        except TypeError:  # a one-argument schedule
            new = self.schedule(epoch)
        new = float(np.asarray(new))
        if not np.isfinite(new):
            raise ValueError(
                f"LearningRateScheduler: the schedule returned {new!r} for epoch {epoch}."
            )
        self.model.optimizer.learning_rate = new
        if self.verbose:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {new}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = _current_lr(self.model)


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` when ``monitor`` has not improved for
    ``patience`` epochs (then wait ``cooldown`` epochs), never below ``min_lr``."""

    def __init__(
        self,
        monitor="val_loss",
        factor=0.1,
        patience=10,
        verbose=0,
        mode="auto",
        min_delta=1e-4,
        cooldown=0,
        min_lr=0.0,
        **kwargs,
    ):
        super().__init__()
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau does not support a factor >= 1.0, got {factor}.")
        if mode not in ("auto", "min", "max"):
            raise ValueError(
                f"ReduceLROnPlateau: mode must be 'auto', 'min' or 'max', got {mode!r}."
            )
        self.monitor, self.factor, self.patience = monitor, float(factor), patience
        self.verbose, self.min_delta, self.cooldown, self.min_lr = (
            verbose,
            min_delta,
            cooldown,
            min_lr,
        )
        self._maximize = _maximizes(mode, monitor)

    def on_train_begin(self, logs=None):
        self.best = -math.inf if self._maximize else math.inf
        self.wait = 0
        self.cooldown_counter = 0

    def _improved(self, value) -> bool:
        if self._maximize:
            return value > self.best + self.min_delta
        return value < self.best - self.min_delta

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        logs["learning_rate"] = _current_lr(self.model)
        value = logs.get(self.monitor)
        if value is None:
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self._improved(value):
            self.best = value
            self.wait = 0
        elif self.cooldown_counter <= 0:
            self.wait += 1
            if self.wait >= self.patience:
                old = _current_lr(self.model)
                if old > self.min_lr:
                    new = max(old * self.factor, self.min_lr)
                    self.model.optimizer.learning_rate = new
                    if self.verbose:
                        print(
                            f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new}."
                        )
                    self.cooldown_counter = self.cooldown
                    self.wait = 0


class CSVLogger(Callback):
    """Write each epoch's logs as a CSV row (``epoch`` first, then the keys sorted)."""

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.filename = str(filename)
        self.sep = separator
        self.append = append
        self._keys = None

    def on_train_begin(self, logs=None):
        import os

        self._has_header = (
            self.append and os.path.exists(self.filename) and os.path.getsize(self.filename) > 0
        )
        self._file = open(self.filename, "a" if self.append else "w", encoding="utf-8")  # noqa: SIM115
        self._keys = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self._keys is None:
            self._keys = sorted(logs)
            if not self._has_header:
                self._file.write(self.sep.join(["epoch", *self._keys]) + "\n")
        row = [str(epoch)] + [repr(float(logs[k])) if k in logs else "NA" for k in self._keys]
        self._file.write(self.sep.join(row) + "\n")
        self._file.flush()

    def on_train_end(self, logs=None):
        self._file.close()


from rill.keras.callbacks_saving import BackupAndRestore, ModelCheckpoint  # noqa: E402

__all__ += ["ModelCheckpoint", "BackupAndRestore"]

from rill.keras.callbacks_tensorboard import TensorBoard  # noqa: E402

__all__ += ["TensorBoard"]

from rill.keras.callbacks_extra import RemoteMonitor, SwapEMAWeights  # noqa: E402

__all__ += ["RemoteMonitor", "SwapEMAWeights"]
