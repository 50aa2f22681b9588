"""``keras.Model`` and ``keras.Sequential``: layers that train.

``fit`` runs ``train_step`` per batch, traced once with ``rill.function`` (unless
``run_eagerly=True`` or a layer is ``dynamic``, when arbitrary Python runs eagerly), and
reports through callbacks: History, the progress bar, and any passed in.
"""

from __future__ import annotations

import sys
import warnings

import numpy as np

import rill as tf
from rill.core import nest
from rill.core.tensor import wrap
from rill.keras import callbacks as callbacks_module
from rill.keras import metrics as metrics_module
from rill.keras import optimizers as optimizers_module
from rill.keras.layer import Layer

__all__ = ["Model", "Functional", "Sequential", "load_model"]


def _unpack(data):
    """(x, y, sample_weight) from a batch: x, (x,), (x, y) or (x, y, sample_weight)."""
    if isinstance(data, tuple):
        if len(data) == 1:
            return data[0], None, None
        if len(data) == 2:
            return data[0], data[1], None
        if len(data) == 3:
            return data
        raise ValueError(
            f"Data should be x, (x,), (x, y) or (x, y, sample_weight); got a tuple of {len(data)}."
        )
    return data, None, None


def _batch_tensors(v):
    """One batch given to ``*_on_batch`` as tensors: an array as one tensor; a list, tuple
    or dict of arrays (a model's several inputs or outputs) element by element."""
    if v is None:
        return None
    if isinstance(v, dict) or (
        isinstance(v, (list, tuple))
        and v
        and all(isinstance(e, (np.ndarray, tf.Tensor, list, tuple, dict)) for e in v)
        and not all(isinstance(e, (list, tuple)) for e in v)  # a nested Python list: one array
    ):
        return nest.map_structure(tf.convert_to_tensor, v)
    return tf.convert_to_tensor(v)


def _num_samples(x):
    leaves = nest.flatten(x)
    return int(np.shape(leaves[0])[0])


def _replicas(model):
    """rill.distribute's hooks for a model compiled under a multi-replica strategy, else
    None (rill.distribute is imported only by programs that use it)."""
    if "rill.distribute" not in sys.modules:
        return None
    from rill.distribute import keras_support

    return keras_support.replicas_of(model)


def _slice(x, idx):
    return nest.map_structure(lambda a: _take_rows(a, idx), x)


def _take_rows(a, idx):
    """Rows ``idx`` of ``a`` as a tensor. The gather makes a new array that only the batch
    holds, so a numeric one is wrapped as it is (converting would copy it again)."""
    rows = np.asarray(a).take(idx, axis=0)
    if rows.dtype.kind in "biufc":
        return wrap(rows)
    return tf.convert_to_tensor(rows)


class _Batches:
    """Iterates (x, y, sample_weight) batches from arrays, tensors or a Dataset."""

    def __init__(self, x, y=None, sample_weight=None, batch_size=None, shuffle=False, steps=None):
        from rill.data import dataset_ops
        from rill.keras.utils.py_dataset import PyDataset, PyDatasetAdapter

        if isinstance(x, PyDataset):  # also keras.utils.Sequence: batches by index, per epoch
            if y is not None:
                raise ValueError("When x is a PyDataset, y must be None (it yields (x, y)).")
            self.dataset, self.arrays = None, None
            self.generator = PyDatasetAdapter(x, shuffle=shuffle)
            self.steps = steps if steps is not None else self.generator.num_batches
            return
        self.dataset = x if isinstance(x, dataset_ops.DatasetV2) else None
        self.steps = steps
        if self.dataset is not None:
            if y is not None:
                raise ValueError("When x is a Dataset, y must be None (the Dataset yields (x, y)).")
            if steps is None:
                n = int(self.dataset.cardinality())
                self.steps = n if n >= 0 else None
            return
        if hasattr(x, "__next__"):  # a generator or iterator of batches
            self.generator = x
            self.dataset = None
            self.arrays = None
            return
        self.generator = None
        self.arrays = (
            nest.map_structure(lambda a: np.asarray(a), x),
            None if y is None else nest.map_structure(lambda a: np.asarray(a), y),
            None if sample_weight is None else np.asarray(sample_weight),
        )
        self.n = _num_samples(x)
        self.batch_size = batch_size or 32
        self.shuffle = shuffle
        if self.steps is None:
            self.steps = -(-self.n // self.batch_size)

    def __iter__(self):
        if self.dataset is not None:
            for i, batch in enumerate(self.dataset):
                if self.steps is not None and i >= self.steps:
                    return
                yield _unpack(batch) if isinstance(batch, tuple) else (batch, None, None)
            return
        if self.generator is not None:
            for i, batch in enumerate(self.generator):
                if self.steps is not None and i >= self.steps:
                    return
                yield _unpack(tuple(batch) if isinstance(batch, list) else batch)
            return
        x, y, sw = self.arrays
        order = np.random.permutation(self.n) if self.shuffle else np.arange(self.n)
        for s in range(self.steps):
            idx = order[s * self.batch_size : (s + 1) * self.batch_size]
            if idx.size == 0:
                return
            yield (
                _slice(x, idx),
                None if y is None else _slice(y, idx),
                None if sw is None else tf.convert_to_tensor(sw[idx]),
            )


class Model(Layer):
    """A layer with a training loop. Three ways to make one: ``keras.Model(inputs,
    outputs)`` (the functional API), ``Sequential``, or subclassing (layers as attributes,
    ``call``)."""

    def __new__(cls, *args, **kwargs):
        if cls is Model and (args or "inputs" in kwargs or "outputs" in kwargs):
            return super().__new__(
                Functional
            )  # Keras 3: keras.Model(inputs, outputs) is Functional
        return super().__new__(cls)

    def __init__(self, *args, **kwargs):
        inputs = kwargs.pop("inputs", args[0] if args else None)
        outputs = kwargs.pop("outputs", args[1] if len(args) > 1 else None)
        if len(args) > 2:
            raise TypeError(
                f"keras.Model takes (inputs, outputs); got {len(args)} positional arguments."
            )
        if (inputs is None) != (outputs is None):
            raise ValueError(
                "keras.Model: pass both `inputs` and `outputs` (the functional API), or neither."
            )
        super().__init__(**kwargs)
        self.optimizer = None
        self.loss = None
        self.stop_training = False
        self.history = None
        self._compiled = False
        self._run_eagerly = False
        self._fns = {}
        self._graph = None
        if inputs is not None:
            from rill.keras.functional import _Graph

            graph = _Graph(self.name, inputs, outputs)
            object.__setattr__(self, "_graph", graph)
            self._graph_layers = [lay for lay in graph.layers]  # tracked: weights, losses
            self.built = True

    # the functional graph -------------------------------------------------------------------
    def call(self, inputs, training=None, mask=None):
        if self._graph is None:
            raise NotImplementedError(
                f"Model {type(self).__name__} has no `call()`: subclasses of keras.Model "
                f"implement `call`, or pass `inputs` and `outputs` to keras.Model."
            )
        return self._graph.run(inputs, training=training, mask=mask)

    def _require_graph(self, attr):
        if self._graph is None:
            raise AttributeError(
                f"Model {self.name!r} has no `{attr}`: only functional and Sequential models "
                f"with a known input shape have one."
            )
        return self._graph

    @property
    def inputs(self) -> list:
        return list(self._require_graph("inputs").flat_inputs)

    @property
    def outputs(self) -> list:
        return list(self._require_graph("outputs").flat_outputs)

    @property
    def input(self):
        return self._require_graph("input").inputs

    @property
    def output(self):
        return self._require_graph("output").outputs

    @property
    def input_shape(self):
        return _shapes(self._require_graph("input_shape").inputs)

    @property
    def output_shape(self):
        return _shapes(self._require_graph("output_shape").outputs)

    @property
    def output_names(self):
        if self._graph is None:
            return None
        outs = self._graph.outputs
        if isinstance(outs, dict):
            return list(outs)
        return [t._keras_history[0].name for t in self._graph.flat_outputs]

    @property
    def layers(self) -> list:
        if self._graph is not None:
            return list(self._graph.layers)
        return self._sublayers()

    @property
    def operations(self) -> list:
        return list(self._graph.operations) if self._graph is not None else self.layers

    # compile ------------------------------------------------------------------------------
    def compile(
        self,
        optimizer="rmsprop",
        loss=None,
        loss_weights=None,
        metrics=None,
        weighted_metrics=None,
        run_eagerly=False,
        steps_per_execution=1,
        jit_compile="auto",
        auto_scale_loss=True,
    ):
        """Configure training: optimizer, loss and metrics (strings or objects)."""
        from rill.keras import compile_utils

        self.optimizer = optimizers_module.get(optimizer)
        if (
            auto_scale_loss
            and self.dtype_policy.name == "mixed_float16"
            and self.optimizer is not None
            and not isinstance(self.optimizer, optimizers_module.LossScaleOptimizer)
        ):  # as Keras 3: float16 gradients need dynamic loss scaling
            self.optimizer = optimizers_module.LossScaleOptimizer(
                self.optimizer, name="loss_scale_optimizer"
            )
        self.loss = loss
        self.loss_weights = loss_weights
        self._compile_loss = (
            None
            if loss is None
            else compile_utils.CompileLoss(loss, loss_weights, self.output_names)
        )
        self._loss_tracker = metrics_module.Mean(name="loss")
        self._compile_metrics = compile_utils.CompileMetrics(
            metrics, weighted_metrics, self.output_names
        )
        self._run_eagerly = bool(run_eagerly)
        self._jit_compile = _resolve_jit_compile(jit_compile, run_eagerly)
        self._compile_args = dict(
            optimizer=optimizer, loss=loss, loss_weights=loss_weights, metrics=metrics,
            weighted_metrics=weighted_metrics, run_eagerly=run_eagerly,
            steps_per_execution=steps_per_execution, jit_compile=jit_compile,
        )  # fmt: skip
        self._compiled = True
        self._fns = {}
        self._record_strategy()

    def _record_strategy(self):
        # compiled inside strategy.scope(): fit/evaluate/predict run data-parallel
        strategy = None
        if "rill.distribute" in sys.modules:
            from rill.distribute import keras_support

            strategy = keras_support.current_strategy()
        self._distribute_strategy = strategy
        if self.optimizer is not None:
            self.optimizer._distribute_strategy = strategy

    @property
    def distribute_strategy(self):
        """The ``tf.distribute`` strategy the model was compiled under (the current one
        when compiled outside any scope)."""
        strategy = getattr(self, "_distribute_strategy", None)
        if strategy is None:
            from rill.distribute import get_strategy

            strategy = get_strategy()
        return strategy

    @property
    def compiled(self) -> bool:
        return self._compiled

    @property
    def metrics(self) -> list:
        """The loss tracker, the compiled metrics (once built on the first batch), the
        per-output loss trackers, and Metric objects set as attributes of the model."""
        out = []
        if self._compiled:
            out.append(self._loss_tracker)
            out.extend(self._compile_metrics.metrics)
            if self._compile_loss is not None:
                out.extend(self._compile_loss.metrics)
        for value in self.__dict__.values():
            if isinstance(value, metrics_module.Metric) and all(value is not m for m in out):
                out.append(value)
        return out

    @property
    def metrics_names(self) -> list:
        return [m.name for m in self.metrics]

    def reset_metrics(self):
        for m in self.metrics:
            m.reset_state()

    @property
    def run_eagerly(self) -> bool:
        return self._run_eagerly or any(layer.dynamic for layer in self._flatten_layers())

    @run_eagerly.setter
    def run_eagerly(self, value):
        self._run_eagerly = bool(value)
        self._fns = {}

    # steps --------------------------------------------------------------------------------
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The compiled loss plus the losses added by the layers (regularization, add_loss)."""
        total = None
        if self._compile_loss is not None and y is not None:
            total = self._compile_loss(y, y_pred, sample_weight)
        extra = self.losses
        if extra:
            reg = tf.add_n([tf.cast(v, "float32") for v in extra])
            total = reg if total is None else total + reg
        if total is None:
            raise ValueError(
                "No loss to compute: provide `loss` to compile() (and `y` to fit), or add_loss in a layer."
            )
        return total

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        """Update the compiled metrics; return every metric's current result."""
        if y is not None:
            self._compile_metrics.update_state(y, y_pred, sample_weight)
        return self.get_metrics_result()

    def get_metrics_result(self) -> dict:
        out = {}
        for m in self.metrics:
            r = m.result()
            if isinstance(r, dict):
                out.update(r)
            else:
                out[m.name] = r
        return out

    def _update_metrics(self, loss, x, y, y_pred, sample_weight):
        # Keras 3 weighs each batch's loss by its size, so a short last batch counts less
        batch = tf.cast(tf.shape(nest.flatten(x)[0])[0], "float32")
        self._loss_tracker.update_state(loss, sample_weight=batch)
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def train_step(self, data):
        """One optimisation step on a batch; returns the metrics' current results."""
        x, y, sample_weight = _unpack(data)
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(x, y, y_pred, sample_weight)
            # loss scaling (LossScaleOptimizer, loss_scale_factor): the optimizer unscales
            scaled = self.optimizer.scale_loss(loss) if self.optimizer is not None else loss
            if getattr(self, "_distribute_strategy", None) is not None:
                from rill.distribute import keras_support

                scaled = keras_support.scale_loss(self, scaled)  # gradients are summed
        variables = self.trainable_variables
        grads = tape.gradient(scaled, variables)
        self.optimizer.apply_gradients(zip(grads, variables))
        return self._update_metrics(loss, x, y, y_pred, sample_weight)

    def test_step(self, data):
        x, y, sample_weight = _unpack(data)
        y_pred = self(x, training=False)
        loss = self.compute_loss(x, y, y_pred, sample_weight, training=False)
        return self._update_metrics(loss, x, y, y_pred, sample_weight)

    def predict_step(self, data):
        x, _, _ = _unpack(data)
        return self(x, training=False)

    def _function(self, name):
        fn = self._fns.get(name)
        if fn is None:
            step = getattr(self, name)
            jit = getattr(self, "_jit_compile", None) or None
            fn = (
                step
                if self.run_eagerly
                else tf.function(step, reduce_retracing=True, jit_compile=jit)
            )
            self._fns[name] = fn
        return fn

    @property
    def jit_compile(self) -> bool:
        """Whether the train, test and predict steps run compiled by XLA."""
        return bool(getattr(self, "_jit_compile", None))

    def _check_compiled(self, what):
        if not self._compiled:
            raise RuntimeError(f"You must call `compile()` before calling `{what}()`.")

    @staticmethod
    def _logs(results) -> dict:
        # sorted by name, as Keras' traced steps return them (tf.nest sorts dict keys)
        return {k: float(results[k]) for k in sorted(results)}

    def _pack(self, x, y, sw):
        return (x,) if y is None and sw is None else (x, y) if sw is None else (x, y, sw)

    # loops --------------------------------------------------------------------------------
    def fit(
        self,
        x=None,
        y=None,
        batch_size=None,
        epochs=1,
        verbose="auto",
        callbacks=None,
        validation_split=0.0,
        validation_data=None,
        shuffle=True,
        class_weight=None,
        sample_weight=None,
        initial_epoch=0,
        steps_per_epoch=None,
        validation_steps=None,
        validation_batch_size=None,
        validation_freq=1,
    ):
        """Train for ``epochs`` epochs; returns a ``History``."""
        self._check_compiled("fit")
        if validation_split and validation_data is None:
            cut = int(_num_samples(x) * (1 - validation_split))
            head = lambda a: np.asarray(a)[:cut]  # noqa: E731
            tail = lambda a: np.asarray(a)[cut:]  # noqa: E731
            vx, vy = nest.map_structure(tail, x), None if y is None else nest.map_structure(tail, y)
            vsw = None if sample_weight is None else tail(sample_weight)
            x, y = nest.map_structure(head, x), None if y is None else nest.map_structure(head, y)
            sample_weight = None if sample_weight is None else head(sample_weight)
            validation_data = (vx, vy, vsw)
        if class_weight is not None and y is not None:
            ya = np.asarray(y)
            sparse = ya.ndim == 1 or (ya.ndim == 2 and ya.shape[1] == 1)
            ids = ya.reshape(len(ya)) if sparse else np.argmax(ya, axis=-1)
            cw = np.array([class_weight.get(int(c), 1.0) for c in ids], np.float32)
            sample_weight = cw if sample_weight is None else np.asarray(sample_weight) * cw
        batches = _Batches(x, y, sample_weight, batch_size, shuffle, steps_per_epoch)
        replicas = _replicas(self)
        if replicas is not None:  # data-parallel: this replica's share of each batch
            batches, verbose = replicas.wrap(batches), replicas.verbose(verbose)
        self.history = callbacks_module.History()
        # History last: it sees what the other callbacks add to the logs
        cb = self._callback_list(
            list(callbacks or []) + [self.history], verbose, batches.steps, epochs
        )
        train = self._function("train_step")
        self.stop_training = False
        if not self.optimizer.built and self.trainable_variables:
            # built before the callbacks start, as Keras 3 does, so that a restore in
            # on_train_begin (BackupAndRestore) finds the slots to load into
            self.optimizer.build(self.trainable_variables)
        self._initial_epoch = None
        cb.on_train_begin()
        if self._initial_epoch is not None:  # BackupAndRestore resumes an interrupted fit
            initial_epoch = self._initial_epoch
        for epoch in range(initial_epoch, epochs):
            for m in self.metrics:
                m.reset_state()
            cb.on_epoch_begin(epoch)
            logs = {}
            for step, (bx, by, bsw) in enumerate(batches):
                cb.on_train_batch_begin(step)
                out = train(self._pack(bx, by, bsw))
                logs = self._logs(out) if replicas is None else replicas.logs(out)
                cb.on_train_batch_end(step, logs)
                if self.stop_training:
                    break
            if validation_data is not None and (epoch + 1) % validation_freq == 0:
                vx, vy, vsw = (
                    _unpack(tuple(validation_data))
                    if isinstance(validation_data, (tuple, list))
                    else (validation_data, None, None)  # a Dataset of (x, y) batches
                )
                val = self.evaluate(vx, vy, batch_size=validation_batch_size or batch_size, sample_weight=vsw,
                                    steps=validation_steps, verbose=0, return_dict=True,
                                    callbacks=list(callbacks or []))  # fmt: skip
                logs.update({f"val_{k}": v for k, v in val.items()})
            cb.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        cb.on_train_end(logs)
        return self.history

    def evaluate(
        self,
        x=None,
        y=None,
        batch_size=None,
        verbose="auto",
        sample_weight=None,
        steps=None,
        callbacks=None,
        return_dict=False,
    ):
        """The loss and metrics over the data; a list (or dict with ``return_dict``)."""
        self._check_compiled("evaluate")
        test = self._function("test_step")
        for m in self.metrics:
            m.reset_state()
        batches = _Batches(x, y, sample_weight, batch_size, False, steps)
        replicas = _replicas(self)
        if replicas is not None:
            batches, verbose = replicas.wrap(batches), replicas.verbose(verbose)
        cb = self._callback_list(callbacks, verbose, batches.steps)
        logs = {}
        cb.on_test_begin()
        for step, (bx, by, bsw) in enumerate(batches):
            cb.on_test_batch_begin(step)
            out = test(self._pack(bx, by, bsw))
            logs = self._logs(out) if replicas is None else replicas.logs(out)
            cb.on_test_batch_end(step, logs)
        cb.on_test_end(logs)
        return logs if return_dict else self._flatten_logs(logs)

    def _flatten_logs(self, logs):
        """Keras 3's list form of a step's logs: the model's metrics in order, then any
        other key a custom step returned, sorted; a single value alone."""
        if len(logs) == 1:  # the usual loss alone: no need to list the metrics
            return next(iter(logs.values()))
        names = [n for n in self.metrics_names if n in logs]
        values = [logs[n] for n in names] + [logs[k] for k in sorted(logs) if k not in names]
        return values[0] if len(values) == 1 else values

    def _callback_list(self, callbacks, verbose, steps, epochs=1):
        """The callbacks of one fit/evaluate/predict, the progress bar first (Keras' order)."""
        if isinstance(callbacks, callbacks_module.CallbackList):
            return callbacks
        verbose = 1 if verbose == "auto" else verbose
        progbar = [callbacks_module.ProgbarLogger(verbose)] if verbose else []
        params = {"epochs": epochs, "steps": steps, "verbose": verbose}
        return callbacks_module.CallbackList(progbar + list(callbacks or []), self, params)

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """Outputs for every sample, concatenated into NumPy arrays."""
        pred = self._function("predict_step")
        batches = _Batches(x, None, None, batch_size, False, steps)
        replicas = _replicas(self)
        if replicas is not None:
            batches, verbose = replicas.wrap(batches), replicas.verbose(verbose)
        cb = self._callback_list(callbacks, verbose, batches.steps)
        cb.on_predict_begin()
        outs = []
        for step, (bx, _, _) in enumerate(batches):
            cb.on_predict_batch_begin(step)
            outs.append(pred((bx,)) if replicas is None else replicas.gather(pred((bx,))))
            cb.on_predict_batch_end(step, {"outputs": outs[-1]})
        cb.on_predict_end()
        if not outs:
            raise ValueError("predict: no data.")
        return nest.map_structure(
            lambda *parts: np.concatenate([np.asarray(p) for p in parts]), *outs
        )

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        self._check_compiled("train_on_batch")
        logs = self._logs(self._function("train_step")(
            self._pack(_batch_tensors(x), _batch_tensors(y), _batch_tensors(sample_weight))))  # fmt: skip
        return logs if return_dict else self._flatten_logs(logs)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        self._check_compiled("test_on_batch")
        for m in self.metrics:
            m.reset_state()
        logs = self._logs(self._function("test_step")(
            self._pack(_batch_tensors(x), _batch_tensors(y), _batch_tensors(sample_weight))))  # fmt: skip
        return logs if return_dict else self._flatten_logs(logs)

    def predict_on_batch(self, x):
        out = self._function("predict_step")((_batch_tensors(x),))
        return nest.map_structure(np.asarray, out)

    # inspection ---------------------------------------------------------------------------
    def summary(self, line_length=None, positions=None, print_fn=None, **kwargs):
        """Print the layers, their output shapes and parameter counts, like Keras 3."""
        from rill.keras.summary import print_summary

        print_summary(self, line_length=line_length, positions=positions, print_fn=print_fn)

    # saving (rill.keras.saving) --------------------------------------------------------------
    def save(self, filepath, overwrite=True, zipped=None, **kwargs):
        """Save architecture, weights and optimizer state as a Keras 3 ``.keras`` archive."""
        from rill.keras.saving import saving_api

        saving_api.save_model(self, filepath, overwrite=overwrite, zipped=zipped, **kwargs)

    def export(self, filepath, format="tf_saved_model", verbose=None, input_signature=None,
               **kwargs):  # fmt: skip
        """Export the model for inference as a TensorFlow SavedModel (``serve`` endpoint,
        also the ``serving_default`` signature)."""
        if format != "tf_saved_model":
            raise ValueError(
                f"Unrecognized format={format!r}: rill exports format='tf_saved_model'."
            )
        from rill.keras.export.export_archive import export_saved_model

        export_saved_model(self, filepath, verbose=True if verbose is None else verbose,
                           input_signature=input_signature, **kwargs)  # fmt: skip

    def to_json(self, **kwargs) -> str:
        """The model's Keras 3 config (class, module, config) as a JSON string;
        ``kwargs`` go to ``json.dumps``."""
        import json

        from rill.keras.saving import serialization_lib

        return json.dumps(serialization_lib.serialize_keras_object(self), **kwargs)

    def save_weights(self, filepath, overwrite=True):
        """Save the weights (and optimizer state) to a ``.weights.h5`` file."""
        from rill.keras.saving import saving_api

        saving_api.save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath, skip_mismatch=False, **kwargs):
        """Load weights saved by ``save_weights`` (or from a ``.keras`` archive)."""
        from rill.keras.saving import saving_api

        saving_api.load_weights(self, filepath, skip_mismatch=skip_mismatch, **kwargs)

    def get_layer(self, name=None, index=None):
        layers = self.layers
        if index is not None:
            return layers[index]
        for layer in layers:
            if layer.name == name:
                return layer
        raise ValueError(
            f"No such layer: {name}. Existing layers are: {[layer.name for layer in layers]}."
        )


def _shapes(structure):
    return nest.map_structure(lambda t: tuple(t.shape), structure)


class Functional(Model):
    """A model defined by its inputs and outputs: ``keras.Model(inputs, outputs)``."""

    def __init__(self, inputs, outputs, name=None, trainable=True, **kwargs):
        super().__init__(inputs=inputs, outputs=outputs, name=name, trainable=trainable, **kwargs)

    def get_config(self) -> dict:
        from rill.keras.functional import graph_config

        return graph_config(self)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from rill.keras.functional import graph_from_config

        inputs, outputs, kwargs = graph_from_config(config, custom_objects)
        return cls(inputs=inputs, outputs=outputs, **kwargs)


class Sequential(Model):
    """A linear stack of layers."""

    def __init__(self, layers=None, trainable=True, name=None):
        super().__init__(trainable=trainable, name=name)
        self._stack = []
        self._input_batch_shape = None
        self._input_dtype = None
        self._input_layer = None
        for layer in layers or []:
            self.add(layer, rebuild=False)
        self._rebuild()  # once for the whole list, not once per layer

    def add(self, layer, rebuild=True):
        from rill.keras.input_layer import InputLayer, KerasTensor

        if isinstance(layer, KerasTensor):  # Sequential([keras.Input(shape), ...])
            layer = layer._keras_history[0]
        if isinstance(layer, InputLayer):
            if self._stack:
                raise ValueError("Sequential: an Input/InputLayer can only be the first layer.")
            self._input_batch_shape = layer._batch_input_shape
            self._input_dtype = layer.dtype
            self._input_layer = layer
            self.built = False
            return
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential.add: expected a keras Layer, got {type(layer).__name__}.")
        self._stack.append(layer)
        self._tracked.append(layer)
        self.built = False
        if rebuild:
            self._rebuild()

    def _rebuild(self):
        """Build as soon as the input shape is known, as Keras does."""
        self._graph = None
        if not self._stack or any(layer.dynamic for layer in self._stack):
            return
        if self._input_batch_shape or self._stack[0]._batch_input_shape:
            self.build()

    def pop(self, rebuild=True):
        layer = self._stack.pop()
        self._tracked.remove(layer)
        if rebuild:
            self._rebuild()
        return layer

    @property
    def layers(self) -> list:
        return list(self._stack)

    def build(self, input_shape=None):
        if input_shape is None:
            input_shape = self._input_batch_shape
        if input_shape is None and self._stack and self._stack[0]._batch_input_shape is not None:
            input_shape = self._stack[0]._batch_input_shape
        self.built = True
        dynamic = any(layer.dynamic for layer in self._stack)
        if input_shape is not None and not dynamic:  # dynamic layers need concrete values
            from rill.keras.functional import _Graph
            from rill.keras.input_layer import Input

            # calling the layers on an Input builds their weights and records the graph
            # (model.inputs/outputs, summary's shapes), as Keras 3 does
            layer0 = self._input_layer
            if layer0 is not None and tuple(input_shape) == tuple(layer0.batch_shape):
                x = inputs = layer0.output  # Keras 3: the model's input is the Input's tensor
            else:
                x = inputs = Input(batch_shape=tuple(input_shape), dtype=self._input_dtype)
            for layer in self._stack:
                x = layer(x)
                layer._last_output_shape = x.shape
            object.__setattr__(self, "_graph", _Graph(self.name, inputs, x))

    def call(self, inputs, training=None):
        x = inputs
        for layer in self._stack:
            x = layer(x, training=training)
            if x.shape.rank:  # for summary()
                layer._last_output_shape = (None, *x.shape.as_list()[1:])
        return x

    def get_config(self) -> dict:
        """Keras 3's layout: the InputLayer (when there is one) and each layer, serialized."""
        from rill.keras.input_layer import InputLayer
        from rill.keras.saving.serialization_lib import serialize_keras_object

        layers = list(self._stack)
        if self._input_layer is not None:
            layers.insert(0, self._input_layer)
        elif self._graph is not None:  # the input shape came from the first layer's input_shape
            spec = self._graph.flat_inputs[0]
            layers.insert(0, InputLayer(batch_shape=list(spec.shape), dtype=spec.dtype))
        config = {**Layer.get_config(self), "layers": [serialize_keras_object(x) for x in layers]}
        if self._graph is not None:
            config["build_input_shape"] = list(self._graph.flat_inputs[0].shape)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from rill.keras.saving.serialization_lib import deserialize_keras_object

        if "name" not in config or "layers" not in config:
            raise ValueError(
                "A Sequential model configuration must be a dictionary containing the 'name' "
                f"and 'layers' keys. Received: config={config}"
            )
        model = cls(name=config["name"], trainable=config.get("trainable", True))
        for layer_config in config["layers"]:
            layer = deserialize_keras_object(layer_config, custom_objects=custom_objects)
            model.add(layer, rebuild=False)  # one build for the whole stack: linear in depth
        model._rebuild()
        shape = config.get("build_input_shape")
        if model._graph is None and isinstance(shape, (list, tuple)) and shape:
            model.build(tuple(shape))
        return model


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """A model saved by ``Model.save`` (a ``.keras`` archive); see ``keras.saving.load_model``."""
    from rill.keras.saving import saving_api

    return saving_api.load_model(
        filepath, custom_objects=custom_objects, compile=compile, safe_mode=safe_mode
    )


def save_model(model, filepath, overwrite=True, zipped=None, **kwargs):
    """Save ``model`` as a Keras 3 ``.keras`` archive (``keras.saving.save_model``)."""
    from rill.keras.saving import saving_api

    saving_api.save_model(model, filepath, overwrite=overwrite, zipped=zipped, **kwargs)


def model_from_json(json_string, custom_objects=None):
    """A model (new weights) from the JSON of ``Model.to_json``; class names resolve only
    through ``custom_objects``, registered objects and rill's built-ins."""
    import json

    from rill.keras.saving import serialization_lib

    return serialization_lib.deserialize_keras_object(
        json.loads(json_string), custom_objects=custom_objects
    )


def clone_model(model, input_tensors=None, clone_function=None, call_function=None,
                recursive=False, **kwargs):  # fmt: skip
    """A copy of ``model``'s architecture with cloned layers; see ``rill.keras.cloning``."""
    from rill.keras.cloning import clone_model as _clone_model

    return _clone_model(model, input_tensors=input_tensors, clone_function=clone_function,
                        call_function=call_function, recursive=recursive, **kwargs)  # fmt: skip


def _resolve_jit_compile(jit_compile, run_eagerly):
    """compile()'s jit_compile as the steps' rill.function takes it: True, "auto" (XLA
    where the step lowers, else the executor) or False. As Keras 3 on TensorFlow, "auto"
    is off on CPU-only machines, under a distribution strategy and with run_eagerly."""
    if run_eagerly or not jit_compile:
        if jit_compile is True and run_eagerly:
            warnings.warn(
                "If `run_eagerly` is True, then `jit_compile` cannot also be True. "
                "Disabling `jit_compile`.",
                stacklevel=3,
            )
        return False
    if jit_compile == "auto":
        from rill.backend.jax_runtime import has_accelerator

        if "rill.distribute" in sys.modules:
            from rill.distribute import keras_support

            if keras_support.current_strategy() is not None:
                return False
        return "auto" if has_accelerator() else False
    return True
