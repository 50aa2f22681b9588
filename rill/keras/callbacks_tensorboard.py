"""``keras.callbacks.TensorBoard``: training logs for TensorBoard, as Keras 3 writes them.

Runs go to ``log_dir/train`` and ``log_dir/validation``. Each epoch writes its metrics as
``epoch_<name>`` (step: the epoch), the optimizer's ``epoch_learning_rate`` and, with
``write_steps_per_second``, ``epoch_steps_per_second``; each validation pass writes
``evaluation_<name>_vs_iterations`` (step: ``optimizer.iterations``). With
``update_freq="batch"`` or an integer ``n``, every ``n``-th batch writes
``batch_<name>`` (step: the batch count over the whole fit) and is the default writer and
step of summaries written inside ``train_step``. ``histogram_freq`` writes weight
histograms (and, with ``write_images``, weights as images) every that many epochs.
``write_graph`` writes the model's layer graph (tag ``keras``, for Sequential and
functional models) and the graph of the traced train step.
"""

from __future__ import annotations

import json
import os
import time
import warnings

import numpy as np

from rill.keras.callbacks import Callback

__all__ = ["TensorBoard"]


def _summary():
    import rill.summary

    return rill.summary


class TensorBoard(Callback):
    """Write TensorBoard logs of ``fit`` / ``evaluate``: metrics per epoch (or every
    ``update_freq`` batches), weight histograms every ``histogram_freq`` epochs (as
    images too with ``write_images``), the model graph (``write_graph``) and the steps
    per second (``write_steps_per_second``). ``profile_batch`` and the embeddings
    arguments are accepted; rill has no profiler, and embeddings are saved as weights."""

    def __init__(
        self,
        log_dir="logs",
        histogram_freq=0,
        write_graph=True,
        write_images=False,
        write_steps_per_second=False,
        update_freq="epoch",
        profile_batch=0,
        embeddings_freq=0,
        embeddings_metadata=None,
    ):
        super().__init__()
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = histogram_freq
        self.write_graph = write_graph
        self.write_images = write_images
        self.write_steps_per_second = write_steps_per_second
        self.update_freq = 1 if update_freq == "batch" else update_freq
        if self.update_freq != "epoch" and not (
            isinstance(self.update_freq, int) and self.update_freq > 0
        ):
            raise ValueError(
                f"TensorBoard: update_freq must be 'epoch', 'batch' or a positive integer, "
                f"got {update_freq!r}"
            )
        self.embeddings_freq = embeddings_freq
        self.embeddings_metadata = embeddings_metadata
        self.profile_batch = profile_batch
        if profile_batch:
            warnings.warn(
                "TensorBoard(profile_batch=...): rill has no profiler; no profile is written",
                stacklevel=2,
            )
        self._writers: dict = {}
        self._pushed: list = []
        self._global_train_batch = 0
        self._global_test_batch = 0
        self._previous_epoch_iterations = 0.0
        self._epoch_start_time = 0.0
        self._batch_start_time = 0.0
        self._should_write_train_graph = False
        self._graphs = None
        self._in_fit = False  # between on_train_begin and on_train_end

    # model and writers ------------------------------------------------------------------
    def set_model(self, model):
        """Called by fit / evaluate: (re)opens the writers and writes the model graph."""
        same = self._in_fit and getattr(self, "_model", None) is model
        super().set_model(model)
        self._model = model
        if same:  # fit's validation pass: the writers of the fit go on
            return
        self._log_write_dir = self.log_dir
        self._train_dir = os.path.join(self._log_write_dir, "train")
        self._val_dir = os.path.join(self._log_write_dir, "validation")
        self._writers = {}
        self._should_write_train_graph = False
        if self.write_graph:
            self._write_keras_model_summary()
            self._should_write_train_graph = True
        if self.embeddings_freq:
            self._configure_embeddings()

    @property
    def _train_writer(self):
        if "train" not in self._writers:
            self._writers["train"] = _summary().create_file_writer(self._train_dir)
        return self._writers["train"]

    @property
    def _val_writer(self):
        if "val" not in self._writers:
            self._writers["val"] = _summary().create_file_writer(self._val_dir)
        return self._writers["val"]

    def _push_writer(self, writer, step):
        """Make ``writer`` the default (with ``step``) for summaries written in the train
        or test step, recording every ``update_freq``-th batch."""
        if self.update_freq == "epoch":
            return
        freq = self.update_freq
        contexts = (writer.as_default(step), _summary().record_if(lambda: step % freq == 0))
        self._pushed.append(contexts)
        contexts[0].__enter__()
        contexts[1].__enter__()

    def _pop_writer(self):
        if self.update_freq == "epoch" or not self._pushed:
            return
        contexts = self._pushed.pop()
        contexts[1].__exit__(None, None, None)
        contexts[0].__exit__(None, None, None)

    def _close_writers(self):
        for writer in self._writers.values():
            writer.close()

    # the model graph --------------------------------------------------------------------
    def _write_keras_model_summary(self):
        """The model's configuration as JSON (tag ``keras``): the layer graph
        TensorBoard draws as the "conceptual graph"."""
        model = self.model
        if type(model).__name__ not in ("Functional", "Sequential"):
            return
        try:
            from rill.keras.saving import serialization_lib

            config = json.dumps(serialization_lib.serialize_keras_object(model))
        except Exception as e:  # noqa: BLE001 - as Keras: a model that does not serialise
            warnings.warn(f"Model failed to serialize as JSON. Ignoring... {e}", stacklevel=3)
            return
        summary = _summary()
        metadata = _keras_model_metadata()
        with self._train_writer.as_default():
            with summary.experimental.summary_scope("keras", "graph_keras_model") as (tag, _):
                summary.write(tag=tag, tensor=config, step=0, metadata=metadata)

    def _write_train_graph(self):
        graphs, self._graphs = self._graphs, None
        from rill.tracing.polymorphic import stop_collecting_graphs

        stop_collecting_graphs(graphs)
        if not graphs:  # run_eagerly: no graph
            return
        graph = max(graphs, key=lambda g: len(g.ops))  # the train step, not a data map
        with self._train_writer.as_default():
            _summary().graph(graph)

    def _configure_embeddings(self):
        """Keras writes a projector config here; rill saves the embeddings' weights
        (``_log_embeddings``) and writes the same config file."""
        lines = []
        meta = self.embeddings_metadata
        unused = set(meta) if isinstance(meta, dict) else set()
        for layer in self.model.layers:
            if type(layer).__name__ == "Embedding":
                lines.append("embeddings {")
                lines.append(
                    '  tensor_name: "layer_with_weights-0/embeddings/.ATTRIBUTES/VARIABLE_VALUE"'
                )
                if isinstance(meta, str):
                    lines.append(f'  metadata_path: "{meta}"')
                elif isinstance(meta, dict) and layer.name in meta:
                    lines.append(f'  metadata_path: "{meta[layer.name]}"')
                    unused.discard(layer.name)
                lines.append("}")
        if unused:
            raise ValueError(
                f"Unrecognized `Embedding` layer names passed to `keras.callbacks.TensorBoard` "
                f"`embeddings_metadata` argument: {sorted(unused)}"
            )
        os.makedirs(self._log_write_dir, exist_ok=True)
        with open(os.path.join(self._log_write_dir, "projector_config.pbtxt"), "w") as f:
            f.write("\n".join(lines) + ("\n" if lines else ""))

    # hooks ------------------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        self._in_fit = True
        self._global_train_batch = 0
        self._previous_epoch_iterations = 0.0
        self._push_writer(self._train_writer, self._global_train_batch)

    def on_train_end(self, logs=None):
        self._in_fit = False
        self._pop_writer()
        if self._graphs is not None:
            from rill.tracing.polymorphic import stop_collecting_graphs

            stop_collecting_graphs(self._graphs)
            self._graphs = None
        self._close_writers()

    def on_test_begin(self, logs=None):
        self._push_writer(self._val_writer, self._global_test_batch)

    def on_test_end(self, logs=None):
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is not None and hasattr(optimizer, "iterations"):
            summary = _summary()
            with self._val_writer.as_default():
                for name, value in (logs or {}).items():
                    summary.scalar(
                        f"evaluation_{name}_vs_iterations", value, step=optimizer.iterations
                    )
        self._pop_writer()

    def on_train_batch_begin(self, batch, logs=None):
        self._global_train_batch += 1
        if self.update_freq != "epoch":
            self._pop_writer()
            self._push_writer(self._train_writer, self._global_train_batch)
        if self.write_steps_per_second:
            self._batch_start_time = time.time()
        if self._should_write_train_graph and self._graphs is None:
            from rill.tracing.polymorphic import start_collecting_graphs

            self._graphs = start_collecting_graphs()

    def on_train_batch_end(self, batch, logs=None):
        if self._should_write_train_graph:
            self._should_write_train_graph = False
            self._write_train_graph()
        summary = _summary()
        if self.write_steps_per_second:
            elapsed = time.time() - self._batch_start_time
            summary.scalar(
                "batch_steps_per_second",
                1.0 / elapsed if elapsed > 0 else 0.0,
                step=self._global_train_batch,
            )
        if isinstance(logs, dict):  # (written only if a default writer is set)
            for name, value in logs.items():
                summary.scalar(f"batch_{name}", value, step=self._global_train_batch)

    def on_test_batch_begin(self, batch, logs=None):
        self._global_test_batch += 1
        if self.update_freq != "epoch":
            self._pop_writer()
            self._push_writer(self._val_writer, self._global_test_batch)

    def on_epoch_begin(self, epoch, logs=None):
        if self.write_steps_per_second:
            self._previous_epoch_iterations = float(np.asarray(self.model.optimizer.iterations))
            self._epoch_start_time = time.time()

    def on_epoch_end(self, epoch, logs=None):
        self._log_epoch_metrics(epoch, logs)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._log_weights(epoch)
        if self.embeddings_freq and epoch % self.embeddings_freq == 0:
            self._log_embeddings(epoch)

    # what each epoch writes ------------------------------------------------------------
    def _collect_learning_rate(self, logs):
        optimizer = getattr(self.model, "optimizer", None)
        optimizer = getattr(optimizer, "inner_optimizer", optimizer)
        if hasattr(optimizer, "optimizers"):
            for opt in optimizer.optimizers:
                logs[f"learning_rate_{opt.name}"] = float(np.asarray(opt.learning_rate))
        elif optimizer is not None and hasattr(optimizer, "learning_rate"):
            logs["learning_rate"] = float(np.asarray(optimizer.learning_rate))
        return logs

    def _compute_steps_per_second(self):
        iterations = float(np.asarray(self.model.optimizer.iterations))
        elapsed = np.float32(time.time() - self._epoch_start_time)
        return float(np.float32(iterations - self._previous_epoch_iterations) / elapsed)

    def _log_epoch_metrics(self, epoch, logs):
        if not logs:
            return
        train_logs = {k: v for k, v in logs.items() if not k.startswith("val_")}
        val_logs = {k: v for k, v in logs.items() if k.startswith("val_")}
        train_logs = self._collect_learning_rate(train_logs)
        if self.write_steps_per_second:
            train_logs["steps_per_second"] = self._compute_steps_per_second()
        summary = _summary()
        if train_logs:
            with self._train_writer.as_default():
                for name, value in train_logs.items():
                    summary.scalar(f"epoch_{name}", value, step=epoch)
        if val_logs:
            with self._val_writer.as_default():
                for name, value in val_logs.items():
                    summary.scalar(f"epoch_{name[4:]}", value, step=epoch)

    def _log_weights(self, epoch):
        summary = _summary()
        with self._train_writer.as_default():
            for layer in self.model.layers:
                for weight in layer.weights:
                    path = _weight_path(self.model, layer, weight).replace(":", "_")
                    summary.histogram(f"{path}/histogram", weight, step=epoch)
                    if self.write_images:
                        self._log_weight_as_image(weight, f"{path}/image", epoch)
            self._train_writer.flush()

    def _log_weight_as_image(self, weight, name, epoch):
        w = np.squeeze(np.asarray(weight))
        if w.ndim == 1:  # a bias
            w = w.reshape(1, w.shape[0], 1, 1)
        elif w.ndim == 2:  # a dense kernel, wider than tall
            if w.shape[0] > w.shape[1]:
                w = w.T
            w = w.reshape(1, w.shape[0], w.shape[1], 1)
        elif w.ndim == 3:  # a conv kernel (channels last): one image per output channel
            w = np.transpose(w, (2, 0, 1))
            w = w.reshape(w.shape[0], w.shape[1], w.shape[2], 1)
        if w.ndim == 4 and w.shape[-1] in (1, 3, 4):
            _summary().image(name, w, step=epoch)

    def _log_embeddings(self, epoch):
        path = os.path.join(
            self._log_write_dir, "train", f"keras_embedding.ckpt-{epoch}.weights.h5"
        )
        self.model.save_weights(path)


def _keras_model_metadata():
    from rill.summary.encoding import summary_metadata

    return summary_metadata("graph_keras_model", b"1")


def _weight_path(model, layer, weight) -> str:
    """Keras 3's ``weight.path``: ``<layer>/<weight>``, under the model's name for a
    Sequential or subclassed model (whose layers are built inside it)."""
    # (computed here, not read from ``weight.path``: rill's paths omit the enclosing
    # model's scope that Keras 3 adds when a model builds its layers)
    name = str(getattr(weight, "name", "weight")).split(":")[0]
    if "/" not in name:
        name = f"{layer.name}/{name}"
    if type(model).__name__ != "Functional":
        name = f"{model.name}/{name}"
    return name
