"""The callbacks that write files: ``ModelCheckpoint`` and ``BackupAndRestore``.

Both save through ``rill.keras.saving``, which writes to a temporary file in the target
directory and renames it into place, so a crash mid-save leaves the previous file whole.
"""

from __future__ import annotations

import json
import math
import os
import sys
import warnings

from rill.keras.callbacks import Callback, _maximizes

__all__ = ["ModelCheckpoint", "BackupAndRestore"]


class _Periodic(Callback):
    """Calls ``_save(epoch, batch, logs)`` at each epoch's end (``save_freq="epoch"``; batch
    None) or every ``save_freq`` training batches."""

    def __init__(self, save_freq):
        super().__init__()
        if save_freq != "epoch" and not (isinstance(save_freq, int) and save_freq > 0):
            raise ValueError(
                f"Invalid value for argument `save_freq`: {save_freq!r} (use 'epoch' or a "
                "positive number of batches)."
            )
        self.save_freq = save_freq
        self._batches_seen = 0
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq != "epoch":
            self._batches_seen += 1
            if self._batches_seen % self.save_freq == 0:
                self._save(self._epoch, batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save(epoch, None, logs)

    def _save(self, epoch, batch, logs):
        raise NotImplementedError


class ModelCheckpoint(_Periodic):
    """Save the model (``.keras``) or its weights (``.weights.h5``) every epoch or every
    ``save_freq`` batches, optionally only when ``monitor`` improves. ``filepath`` may hold
    format fields filled from the epoch and the logs, e.g. ``"m-{epoch:02d}-{val_loss:.2f}.keras"``.
    """

    def __init__(
        self,
        filepath,
        monitor="val_loss",
        verbose=0,
        save_best_only=False,
        save_weights_only=False,
        mode="auto",
        save_freq="epoch",
        initial_value_threshold=None,
    ):
        super().__init__(save_freq)
        filepath = os.fspath(filepath)
        if save_weights_only and not filepath.endswith(".weights.h5"):
            raise ValueError(
                "When using `save_weights_only=True` in `ModelCheckpoint`, the filepath provided "
                f"must end in `.weights.h5` (Keras weights format). Received: filepath={filepath}"
            )
        if not save_weights_only and not filepath.endswith(".keras"):
            raise ValueError(
                "The filepath provided must end in `.keras` (Keras model format). Received: "
                f"filepath={filepath}"
            )
        if mode not in ("auto", "min", "max"):
            warnings.warn(
                f"ModelCheckpoint mode {mode!r} is unknown, fallback to auto mode.", stacklevel=2
            )
            mode = "auto"
        self.filepath = filepath
        self.monitor = monitor
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self._maximize = maximize = _maximizes(mode, monitor)
        if initial_value_threshold is not None:
            self.best = float(initial_value_threshold)
        else:
            self.best = -math.inf if maximize else math.inf

    def _better(self, value) -> bool:
        return value > self.best if self._maximize else value < self.best

    def _path(self, epoch, batch, logs) -> str:
        fields = dict(logs or {})
        fields["epoch"] = epoch + 1
        if batch is not None:
            fields["batch"] = batch + 1
        try:
            return self.filepath.format(**fields)
        except KeyError as e:
            raise KeyError(
                f"ModelCheckpoint: failed to format filepath {self.filepath!r}: no {e} in the "
                f"epoch's logs (available: {sorted(fields)})."
            ) from e

    def _save(self, epoch, batch, logs):
        logs = logs or {}
        path = self._path(epoch, batch, logs)
        if self.save_best_only:
            value = logs.get(self.monitor)
            if value is None:
                warnings.warn(
                    f"Can save best model only with {self.monitor} available, skipping; the "
                    f"logs have {sorted(logs)}.",
                    stacklevel=2,
                )
                return
            if not self._better(value):
                if self.verbose:
                    print(
                        f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {self.best:.5f}"
                    )
                return
            if self.verbose:
                print(
                    f"\nEpoch {epoch + 1}: {self.monitor} improved from {self.best:.5f} to "
                    f"{value:.5f}, saving model to {path}"
                )
            self.best = float(value)
        elif self.verbose:
            print(f"\nEpoch {epoch + 1}: saving model to {path}")
        # under several replicas only the chief writes `path`; the others a temporary copy
        group = _worker_group(self.model)
        real_dir, path = os.path.dirname(path), _ks().write_filepath(path, group) if group else path
        directory = os.path.dirname(path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(path, overwrite=True)
        else:
            self.model.save(path, overwrite=True)
        if group is not None:
            _ks().remove_temp_dirpath(real_dir, group)


class BackupAndRestore(_Periodic):
    """Back up the model, its optimizer and the epoch reached to ``backup_dir`` so that a
    ``fit`` interrupted (killed, crashed) resumes where it stopped when run again with this
    callback. The backup is deleted when training finishes (``delete_checkpoint``)."""

    def __init__(
        self, backup_dir, save_freq="epoch", double_checkpoint=False, delete_checkpoint=True
    ):
        if not backup_dir:
            raise ValueError("BackupAndRestore: empty `backup_dir` argument passed.")
        super().__init__(save_freq)
        self.backup_dir = os.fspath(backup_dir)
        self.double_checkpoint = double_checkpoint
        self.delete_checkpoint = delete_checkpoint
        self._weights_path = os.path.join(self.backup_dir, "latest.weights.h5")
        self._meta_path = os.path.join(self.backup_dir, "training_metadata.json")
        self._prev_weights_path = self._weights_path + ".bkp"
        self._prev_meta_path = self._meta_path + ".bkp"

    def on_train_begin(self, logs=None):
        group = _worker_group(self.model)
        slot, epoch = -1, -1
        if group is None or group.is_chief:  # only the chief tidies the directory
            slot, epoch = self._restore()
        if group is not None:
            # every rank resumes from the chief's backup, at the chief's epoch (the fit
            # then starts from the chief's weights on every rank anyway)
            slot, epoch = _ks().broadcast_ints(group, (slot, epoch))
            if not group.is_chief and slot >= 0:
                self.model.load_weights((self._weights_path, self._prev_weights_path)[slot])
        if slot >= 0:
            self.model._initial_epoch = epoch + 1

    def _restore(self):
        """Load the newest valid backup: ``(slot, epoch)`` with slot 0 for the latest
        weights file and 1 for the previous one, or ``(-1, -1)`` when there is none."""
        _remove_temporaries(self.backup_dir)
        for weights, meta in self._valid_pairs():
            try:
                with open(meta) as f:
                    state = json.load(f)
                self.model.load_weights(weights)
            except (OSError, ValueError, KeyError) as e:  # damaged: try the previous one
                warnings.warn(f"BackupAndRestore: could not restore {weights}: {e}", stacklevel=2)
                continue
            self._promote(weights, meta)
            return int(weights == self._prev_weights_path), int(state["epoch"])
        return -1, -1

    # A save is crash-consistent at every instant: the new weights and metadata are
    # written under pending names, the metadata recording the weights file's size and
    # CRC32, and only then renamed over the latest pair. Restoring takes the newest
    # (weights, metadata) pair whose recorded fingerprint matches, wherever a crash left
    # it, and finishes the interrupted renames.
    def _pending(self):
        return (
            os.path.join(self.backup_dir, ".pending.weights.h5"),
            os.path.join(self.backup_dir, ".pending_metadata.json"),
        )

    def _valid_pairs(self) -> list:
        pw, pm = self._pending()
        slots = [
            (self._weights_path, self._meta_path),
            (pw, pm),
            (self._prev_weights_path, self._prev_meta_path),
        ]
        found = []
        for _, meta in slots:
            try:
                with open(meta) as f:
                    state = json.load(f)
                key = (int(state["epoch"]), -1 if state.get("batch") is None else state["batch"])
            except (OSError, ValueError, KeyError, TypeError):
                continue
            for weights, _ in slots:
                same_slot = weights == slots[[m for _, m in slots].index(meta)][0]
                if "weights_crc32" not in state and not same_slot:
                    continue  # metadata of an earlier rill: paired by name only
                if "weights_crc32" in state and _fingerprint(weights) != (
                    state.get("weights_size"),
                    state["weights_crc32"],
                ):
                    continue
                if os.path.exists(weights):
                    found.append((key, weights, meta))
                    break
        found.sort(key=lambda t: t[0], reverse=True)
        return [(w, m) for _, w, m in found]

    def _promote(self, weights, meta) -> None:
        """Finish an interrupted save: move a pending pair to the latest names."""
        if weights != self._weights_path and weights == self._pending()[0]:
            os.replace(weights, self._weights_path)
        if meta != self._meta_path and meta == self._pending()[1]:
            os.replace(meta, self._meta_path)

    def _save(self, epoch, batch, logs):
        if batch is not None:  # an epoch cut short restarts from its beginning
            epoch -= 1
        group = _worker_group(self.model)
        if group is not None and not group.is_chief:
            # a non-chief rank writes its copy into workertemp_<task>, then deletes it:
            # the chief's backup is the one every rank restores from
            temp = _ks().write_dirpath(self.backup_dir, group)
            os.makedirs(temp, exist_ok=True)
            self.model.save_weights(os.path.join(temp, "latest.weights.h5"), overwrite=True)
            _write_json(
                os.path.join(temp, "training_metadata.json"), {"epoch": epoch, "batch": batch}
            )
            _ks().remove_temp_dirpath(self.backup_dir, group)
            return
        os.makedirs(self.backup_dir, exist_ok=True)
        _remove_temporaries(self.backup_dir)
        pw, pm = self._pending()
        self.model.save_weights(pw, overwrite=True)  # atomic
        size, crc = _fingerprint(pw)
        _write_json(
            pm, {"epoch": epoch, "batch": batch, "weights_size": size, "weights_crc32": crc}
        )
        if self.double_checkpoint and os.path.exists(self._weights_path):
            os.replace(self._weights_path, self._prev_weights_path)
            if os.path.exists(self._meta_path):
                os.replace(self._meta_path, self._prev_meta_path)
        os.replace(pw, self._weights_path)
        os.replace(pm, self._meta_path)

    def on_train_end(self, logs=None):
        group = _worker_group(self.model)
        if group is not None:
            _ks().remove_temp_dirpath(self.backup_dir, group)
            group.barrier()  # the chief deletes the backup once every rank is done with it
            if not group.is_chief:
                return
        if not self.delete_checkpoint:
            return
        for p in (
            self._weights_path,
            self._meta_path,
            self._prev_weights_path,
            self._prev_meta_path,
            *self._pending(),
        ):
            if os.path.exists(p):
                os.remove(p)
        try:
            os.rmdir(self.backup_dir)
        except OSError:
            pass  # not empty: it holds other files


def _worker_group(model):
    """The process group of a model trained under a multi-replica strategy, else None."""
    if "rill.distribute" not in sys.modules:  # no strategy was ever made: one process
        return None
    return _ks().worker_group(model)


def _ks():
    from rill.distribute import keras_support

    return keras_support


def _fingerprint(path: str):
    """``(size, CRC32)`` of a file's bytes, or None when it cannot be read."""
    import zlib

    crc, size = 0, 0
    try:
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                crc = zlib.crc32(chunk, crc)
                size += len(chunk)
    except OSError:
        return None
    return size, crc


def _write_json(path: str, obj) -> None:
    """Write ``path`` through a fsynced temporary file renamed into place."""
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _remove_temporaries(directory: str) -> None:
    """Delete temporary files a killed save left in the backup directory (the directory
    belongs to the callback; saves there run one at a time)."""
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        if name.endswith(".tmp"):
            try:
                os.remove(os.path.join(directory, name))
            except OSError:
                pass
