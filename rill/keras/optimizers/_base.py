"""The ``Optimizer`` base class: state, clipping, weight decay, EMA, accumulation, config.

Every per-step computation is written with rill ops and ``Variable.assign*``, so
``apply_gradients`` runs eagerly and inside a traced ``rill.function`` training step
(slot variables are then created on the first trace, which ``rill.function`` allows).
"""

from __future__ import annotations

import re
import sys
import warnings

import numpy as np

import rill as _tf
from rill.core import dispatch as _dispatch
from rill.core.convert import convert_to_tensor
from rill.core.tensor import EagerTensor, Tensor
from rill.core.variables import Variable
from rill.keras.optimizers import schedules as _schedules
from rill.keras.variables import Variable as KerasVariable
from rill.keras.variables import get_stateless_scope

__all__ = ["Optimizer"]

_name_counts: dict[str, int] = {}


def _snake(name):
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def _auto_name(cls_name):
    base = _snake(cls_name)
    n = _name_counts.get(base, 0)
    _name_counts[base] = n + 1
    return base if n == 0 else f"{base}_{n}"


def _dense(g):
    """A dense tensor for a gradient (IndexedSlices are summed into their dense shape)."""
    if isinstance(g, _tf.IndexedSlices):
        return _tf.scatter_nd(_tf.expand_dims(g.indices, -1), g.values, g.dense_shape)
    if isinstance(g, Variable):
        return g.read_value()
    return g if isinstance(g, Tensor) else convert_to_tensor(g)


def _sparse_or_dense(g):
    """An IndexedSlices gradient as it is, anything else as a dense tensor."""
    return g if isinstance(g, _tf.IndexedSlices) else _dense(g)


def _values(g):
    """The values of a gradient: an IndexedSlices' rows, or the tensor itself."""
    return g.values if isinstance(g, _tf.IndexedSlices) else g


def _map_values(g, fn):
    """``fn`` applied to a gradient's values, keeping an IndexedSlices sparse."""
    if isinstance(g, _tf.IndexedSlices):
        return _tf.IndexedSlices(fn(g.values), g.indices, g.dense_shape)
    return fn(g)


_PLAIN_VARIABLES = (Variable, KerasVariable)
_FUSED_DTYPES = (np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64))
_HOOKS = ("update_step", "assign", "assign_add", "assign_sub")
_fuses_cache: dict = {}


def _defining(cls, name):
    return next((k for k in cls.__mro__ if name in k.__dict__), None)


def _fuses(cls) -> bool:
    """Whether ``cls`` has a fused update matching its ``update_step`` and hooks."""
    ok = _fuses_cache.get(cls)
    if ok is None:
        owner = _defining(cls, "_update_arrays")
        ok = (
            owner is not None
            and owner is not Optimizer
            and _defining(cls, "update_step") is owner
            and all(_defining(cls, h) is Optimizer for h in _HOOKS[1:])
        )
        _fuses_cache[cls] = ok
    return ok


def _var_label(v):
    return getattr(v, "path", None) or v.name


class Optimizer:
    """Base class of the Keras 3 optimizers.

    Subclasses implement ``build(var_list)`` (calling ``super().build``, then creating their
    slots with ``add_variable_from_reference``) and ``update_step(gradient, variable,
    learning_rate)``, and extend ``get_config``.
    """

    _config_keys: tuple = ()  # a subclass's own constructor arguments, for get_config

    def __init__(self, *args, **kwargs):
        # Keras 3's signature is (*args, **kwargs): the arguments are _init's
        self._init(*args, **kwargs)

    def _init(
        self,
        learning_rate,
        weight_decay=None,
        clipnorm=None,
        clipvalue=None,
        global_clipnorm=None,
        use_ema=False,
        ema_momentum=0.99,
        ema_overwrite_frequency=None,
        loss_scale_factor=None,
        gradient_accumulation_steps=None,
        name=None,
        **kwargs,
    ):
        if kwargs.pop("decay", None) is not None:
            warnings.warn(
                "Argument `decay` is no longer supported and will be ignored.", stacklevel=2
            )
        if kwargs:
            raise ValueError(f"Argument(s) not recognized: {kwargs}")
        self.name = name if name is not None else _auto_name(type(self).__name__)
        self.weight_decay = weight_decay
        self.clipnorm = clipnorm
        self.global_clipnorm = global_clipnorm
        self.clipvalue = clipvalue
        self.use_ema = use_ema
        self.loss_scale_factor = loss_scale_factor
        self.gradient_accumulation_steps = gradient_accumulation_steps
        if gradient_accumulation_steps and not gradient_accumulation_steps >= 2:
            raise ValueError(
                "`gradient_accumulation_steps` must be an integer >= 2. "
                f"Received: gradient_accumulation_steps={gradient_accumulation_steps}"
            )
        if use_ema:
            if ema_momentum > 1 or ema_momentum < 0:
                raise ValueError(
                    f"`ema_momentum` must be in the range [0, 1]. Received: ema_momentum={ema_momentum}"
                )
            if ema_overwrite_frequency and (
                not isinstance(ema_overwrite_frequency, int) or ema_overwrite_frequency < 1
            ):
                raise ValueError(
                    "`ema_overwrite_frequency` must be an integer >= 1 or None. "
                    f"Received: ema_overwrite_frequency={ema_overwrite_frequency}"
                )
        self.ema_momentum = ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        if sum(a is not None for a in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError(
                "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. "
                f"Received: clipnorm={clipnorm}, clipvalue={clipvalue}, "
                f"global_clipnorm={global_clipnorm}"
            )
        self.built = False
        self._variables = []
        self._trainable_variables = []
        self._trainable_variables_indices = {}
        self._iterations = self._make_variable(np.zeros((), np.int64), "iteration", shape=())
        self._learning_rate = self._make_lr(learning_rate)

    # variables --------------------------------------------------------------------------
    def _make_variable(self, value, name, shape=None):
        value = np.asarray(value)
        v = Variable(lambda: value, trainable=False, name=f"{self.name}/{name}")
        v.path = f"{self.name}/{name}"
        self._variables.append(v)
        return v

    def _make_lr(self, learning_rate):
        if isinstance(learning_rate, _schedules.LearningRateSchedule):
            return learning_rate
        if callable(learning_rate) and not isinstance(learning_rate, (Variable, Tensor)):
            return learning_rate
        try:
            value = float(learning_rate)
        except (TypeError, ValueError):
            raise ValueError(
                "Argument `learning_rate` should be float, or an instance of "
                "LearningRateSchedule, or a callable (that takes in the current iteration "
                f"value and returns the corresponding learning rate value). Received instead: "
                f"learning_rate={learning_rate!r}"
            ) from None
        return self._make_variable(np.float32(value), "learning_rate")

    def add_variable(self, shape, initializer="zeros", dtype=None, aggregation="none", name=None):
        """A non-trainable optimizer variable of ``shape`` filled by ``initializer``
        ("zeros", "ones", a number, or a callable ``(shape, dtype) -> array``)."""
        dt = np.dtype(_tf.as_dtype(dtype or "float32").as_numpy_dtype)
        shape = tuple(int(d) for d in shape)
        if isinstance(initializer, str):
            if initializer not in ("zeros", "ones"):
                raise ValueError(
                    f"Unknown optimizer variable initializer '{initializer}'; use 'zeros', "
                    "'ones', a number or a callable (shape, dtype) -> array."
                )
            value = (np.zeros if initializer == "zeros" else np.ones)(shape, dt)
        elif callable(initializer):
            value = np.asarray(initializer(shape, dt), dtype=dt)
        else:
            value = np.full(shape, initializer, dt)
        return self._make_variable(value, name or "variable")

    def add_variable_from_reference(self, reference_variable, name=None, initializer="zeros"):
        """A slot with the shape and dtype of ``reference_variable``, named like Keras:
        ``{optimizer}/{variable}_{name}``."""
        name = name or "var"
        ref = getattr(reference_variable, "path", None)
        if ref is not None:
            label = ref.replace("/", "_")
        else:
            label = str(reference_variable.name).replace("/", "_").replace(":", "_")
        return self.add_variable(
            reference_variable.shape,
            initializer=initializer,
            dtype=reference_variable.dtype,
            name=f"{label}_{name}",
        )

    def add_optimizer_variables(self, trainable_variables, name, initializer="zeros"):
        """Slots for each variable; with a list of names, interleaved per variable and
        returned as a tuple of lists (one per name)."""
        names = [name] if isinstance(name, str) else list(name)
        inits = (
            initializer if isinstance(initializer, (list, tuple)) else [initializer] * len(names)
        )
        out = tuple([] for _ in names)
        for v in trainable_variables:
            for i, (n, init) in enumerate(zip(names, inits)):
                out[i].append(self.add_variable_from_reference(v, name=n, initializer=init))
        return out[0] if isinstance(name, str) else out

    def build(self, variables):
        """Record the variables this optimizer updates and create the base slots."""
        variables = list(variables)
        pending = self.__dict__.get("_deferred_restore")
        if pending is not None:  # restored from a checkpoint before the first build:
            pending.attach(self, variables)  # slots made from here on take their values
        if self.use_ema:
            self._model_variables_moving_average = self.add_optimizer_variables(
                variables, "average"
            )
        if self.gradient_accumulation_steps:
            self._accumulated_gradients = []
        for i, v in enumerate(variables):
            self._trainable_variables_indices[id(v)] = i
            if self.gradient_accumulation_steps:
                self._accumulated_gradients.append(
                    self.add_variable_from_reference(v, name="gradient_accumulator")
                )
        self._trainable_variables = variables[:]
        self.built = True

    @property
    def variables(self):
        return self._variables[:]

    def _get_variable_index(self, variable):
        return self._trainable_variables_indices[id(variable)]

    @property
    def iterations(self):
        if self.gradient_accumulation_steps:
            return _tf.math.floordiv(self._iterations, self.gradient_accumulation_steps)
        return self._iterations

    @property
    def learning_rate(self):
        return self._get_current_learning_rate()

    @learning_rate.setter
    def learning_rate(self, learning_rate):
        if isinstance(learning_rate, _schedules.LearningRateSchedule) or (
            callable(learning_rate) and not isinstance(learning_rate, (Variable, Tensor))
        ):
            self._learning_rate = learning_rate
            return
        if not isinstance(self._learning_rate, Variable):
            if isinstance(self._learning_rate, _schedules.LearningRateSchedule):
                raise TypeError(
                    "This optimizer was created with a `LearningRateSchedule` object as its "
                    "`learning_rate` constructor argument, hence its learning rate is not "
                    "settable. Create the optimizer with a float `learning_rate` instead."
                )
            self._learning_rate = self._make_lr(learning_rate)
            return
        self._learning_rate.assign(_tf.cast(learning_rate, self._learning_rate.dtype))

    def _get_current_learning_rate(self):
        lr = self._learning_rate
        if isinstance(lr, _schedules.LearningRateSchedule):
            return lr(self._iterations)
        if isinstance(lr, Variable):
            return lr
        if callable(lr):
            return lr()
        return lr

    def set_weights(self, weights):
        if not self.built:
            raise ValueError(
                "You are calling `set_weights()` on an optimizer that has not yet been built. "
                "Call `optimizer.build(trainable_variables)` first."
            )
        for v, w in zip(self._variables, weights):
            if tuple(v.shape) != tuple(np.shape(w)):
                raise ValueError(
                    f"Optimizer variable '{v.name}' has shape {tuple(v.shape)} not compatible "
                    f"with the provided weight shape {tuple(np.shape(w))}."
                )
            v.assign(np.asarray(w, dtype=v.dtype.as_numpy_dtype))

    def get_weights(self):
        return [v.numpy() for v in self._variables]

    def save_own_variables(self, store):
        for i, v in enumerate(self.variables):
            store[str(i)] = v.numpy()

    def load_own_variables(self, store):
        if len(store.keys()) != len(self.variables):
            warnings.warn(
                f"Skipping variable loading for optimizer '{self.name}', because it has "
                f"{len(self.variables)} variables whereas the saved optimizer has "
                f"{len(store.keys())} variables.",
                stacklevel=2,
            )
            return
        for i, v in enumerate(self.variables):
            v.assign(np.asarray(store[str(i)], dtype=v.dtype.as_numpy_dtype))

    def scale_loss(self, loss):
        """``loss`` times ``loss_scale_factor`` (unchanged without one); a train step
        differentiates the scaled loss and ``apply`` divides the gradients back."""
        if self.loss_scale_factor is not None:
            return loss * self.loss_scale_factor
        return loss

    # Keras' hooks for subclasses --------------------------------------------------------
    def assign(self, variable, value):
        variable.assign(value)

    def assign_add(self, variable, value):
        variable.assign_add(value)

    def assign_sub(self, variable, value):
        variable.assign_sub(value)

    def update_step(self, gradient, variable, learning_rate):
        raise NotImplementedError(
            f"Optimizer '{type(self).__name__}' must implement "
            "`update_step(gradient, variable, learning_rate)`."
        )

    # applying -----------------------------------------------------------------------------
    def apply_gradients(self, grads_and_vars):
        """Apply ``(gradient, variable)`` pairs; returns ``iterations``."""
        pairs = list(grads_and_vars)
        if not pairs:
            return self._iterations
        grads, variables = zip(*pairs)
        self.apply(grads, variables)
        return self._iterations

    def apply(self, grads, trainable_variables=None):
        """Update ``trainable_variables`` (or the variables the optimizer was built with)
        from ``grads``, one-to-one."""
        grads = list(grads)
        if not grads:
            return
        if trainable_variables is None:
            if not self.built:
                raise ValueError(
                    "When passing `grads` without `variables`, the optimizer must already be "
                    "built on a list of variables. Call `optimizer.build(trainable_variables)` "
                    "first."
                )
            if len(grads) != len(self._trainable_variables_indices):
                raise ValueError(
                    "When passing `grads` as a list of gradient tensors, the gradients must "
                    f"match the optimizer's variables one-to-one. Received {len(grads)} "
                    f"gradients, but the optimizer is tracking {len(self._trainable_variables)} "
                    "trainable variables."
                )
            trainable_variables = self._trainable_variables
        else:
            trainable_variables = list(trainable_variables)
            if len(grads) != len(trainable_variables):
                raise ValueError(
                    f"Got {len(grads)} gradients for {len(trainable_variables)} variables; "
                    "they must match one-to-one."
                )
            if not self.built:
                self.build(trainable_variables)
                self.built = True
            self._check_variables_are_known(trainable_variables)

        grads, trainable_variables = self._filter_empty_gradients(grads, trainable_variables)
        grads, trainable_variables = self._apply_sparse(grads, trainable_variables)
        if not grads:  # every gradient was applied sparsely
            self._iterations.assign_add(1)
            return
        # IndexedSlices stay sparse up to clipping: clipnorm/global_clipnorm clip their
        # values (as tf.clip_by_norm does), then every gradient is made dense
        grads = [_sparse_or_dense(g) for g in grads]
        if "rill.distribute" in sys.modules:  # under a strategy: sum over the replicas
            from rill.distribute import keras_support

            grads = [_dense(g) for g in grads]
            grads = keras_support.aggregate_gradients(self, grads, trainable_variables)
        scale = self.loss_scale_factor
        if scale is not None:
            grads = [_map_values(g, lambda v: v / scale) for g in grads]
        self._backend_apply_gradients(grads, trainable_variables)
        for v in trainable_variables:
            if getattr(v, "constraint", None) is not None:
                v.assign(v.constraint(v))
        self._iterations.assign_add(1)

    def _apply_sparse(self, grads, variables):
        """Apply ``IndexedSlices`` gradients to the rows they name, where the update is
        row-local: plain SGD (no momentum, clipping, weight decay, EMA, accumulation or loss
        scaling), as Keras' TF backend scatters them. Returns the other pairs."""
        from rill.keras.optimizers._optimizers import SGD

        if (
            type(self) is not SGD
            or self.momentum != 0
            or self.clipnorm or self.clipvalue or self.global_clipnorm
            or self.weight_decay or self.use_ema or self.gradient_accumulation_steps
            or self.loss_scale_factor is not None
            or "rill.distribute" in sys.modules
            or not any(isinstance(g, _tf.IndexedSlices) for g in grads)
        ):  # fmt: skip
            return grads, variables
        lr = self.learning_rate
        kept_g, kept_v = [], []
        for g, v in zip(grads, variables):
            if not isinstance(g, _tf.IndexedSlices):
                kept_g.append(g)
                kept_v.append(v)
                continue
            step = g.values * _tf.cast(lr, g.values.dtype)
            v.scatter_sub(_tf.IndexedSlices(step, g.indices, g.dense_shape))
            if getattr(v, "constraint", None) is not None:
                v.assign(v.constraint(v))
        return kept_g, kept_v

    def minimize(self, loss, var_list, tape=None):
        """Compute the gradients of ``loss`` (a tensor recorded on ``tape``, or a callable
        taking no arguments) with respect to ``var_list`` and apply them."""
        if callable(var_list) and not isinstance(var_list, Variable):
            var_list = var_list()
        var_list = list(_tf.nest.flatten(var_list))
        if callable(loss) and not isinstance(loss, Tensor):
            with _tf.GradientTape() as tape:
                tape.watch(var_list)
                loss_value = loss()
        else:
            if tape is None:
                raise ValueError(
                    "`tape` is required when a `Tensor` loss is passed to `minimize`; pass "
                    "the GradientTape that recorded it, or pass the loss as a callable."
                )
            loss_value = loss
        grads = tape.gradient(loss_value, var_list)
        return self.apply_gradients(zip(grads, var_list))

    def _check_variables_are_known(self, variables):
        for v in variables:
            if id(v) not in self._trainable_variables_indices:
                raise ValueError(
                    f"Unknown variable: {v!r}. This optimizer can only be called for the "
                    "variables it was originally built with. When working with a new set of "
                    "variables, you should recreate a new optimizer instance."
                )

    def _filter_empty_gradients(self, grads, variables):
        kept_g, kept_v, missing = [], [], []
        for g, v in zip(grads, variables):
            if g is None:
                missing.append(_var_label(v))
            else:
                kept_g.append(g)
                kept_v.append(v)
        if not kept_g:
            raise ValueError("No gradients provided for any variable.")
        if missing:
            warnings.warn(
                f"Gradients do not exist for variables {missing} when minimizing the loss. "
                "If using `model.compile()`, did you forget to provide a `loss` argument?",
                stacklevel=3,
            )
        return kept_g, kept_v

    def _backend_apply_gradients(self, grads, trainable_variables):
        if self.gradient_accumulation_steps:
            self._accumulate_and_maybe_update(grads, trainable_variables)
        else:
            grads = [_dense(g) for g in self._clip_gradients(grads)]
            self._apply_weight_decay(trainable_variables)
            self._backend_update_step(grads, trainable_variables, self.learning_rate)

        if self.use_ema:
            self._update_model_variables_moving_average(self._trainable_variables)
            if self.ema_overwrite_frequency:
                overwrite = _tf.equal((self.iterations + 1) % self.ema_overwrite_frequency, 0)
                for v, avg in zip(self._trainable_variables, self._model_variables_moving_average):
                    v.assign(_tf.where(overwrite, _tf.cast(avg, v.dtype), v.read_value()))

    def _accumulate_and_maybe_update(self, grads, trainable_variables):
        """Every ``gradient_accumulation_steps``-th call, update with the mean of the
        accumulated gradients; otherwise only add to the accumulators.

        Eagerly this is a Python branch. When traced, the update runs every step and its
        writes are then kept or rolled back with ``where`` (no side effects inside a
        ``cond`` branch), which gives the same values."""
        grads = [_dense(g) for g in grads]
        steps = self.gradient_accumulation_steps
        is_update = _tf.equal((self._iterations + 1) % steps, 0)
        acc = [
            self._accumulated_gradients[self._get_variable_index(v)] for v in trainable_variables
        ]
        summed = [_tf.cast(g, a.dtype) + a.read_value() for g, a in zip(grads, acc)]

        def update():
            gs = [s / steps for s in summed]
            gs = self._clip_gradients(gs)
            self._apply_weight_decay(trainable_variables)
            self._backend_update_step(gs, trainable_variables, self.learning_rate)

        if _tf.executing_eagerly():
            if bool(is_update.numpy()):
                update()
                for a in self._accumulated_gradients:
                    a.assign(_tf.zeros(a.shape, dtype=a.dtype))
            else:
                for a, s in zip(acc, summed):
                    a.assign(s)
            return
        acc_ids = {id(a) for a in self._accumulated_gradients}
        state = [v for v in self._variables if v is not self._iterations and id(v) not in acc_ids]
        state += [v for v in trainable_variables if all(v is not s for s in state)]
        before = [v.read_value() for v in state]
        update()
        for v, old in zip(state, before):
            v.assign(_tf.where(is_update, v.read_value(), old))
        for a, s in zip(acc, summed):
            a.assign(_tf.where(is_update, _tf.zeros_like(s), s))
        used = {id(a) for a in acc}
        for a in self._accumulated_gradients:  # accumulators of variables without a gradient
            if id(a) not in used:
                a.assign(_tf.where(is_update, _tf.zeros_like(a.read_value()), a.read_value()))

    def _backend_update_step(self, grads, trainable_variables, learning_rate):
        if self._fusable(grads, trainable_variables):
            self._update_arrays(grads, trainable_variables, learning_rate)
            return
        for g, v in zip(grads, trainable_variables):
            self.update_step(g, v, learning_rate)

    # the fused eager update ---------------------------------------------------------------
    # ``update_step`` is written with rill ops so that it traces; eagerly that costs a
    # dispatch and a fresh array per op and per variable. A subclass may also define
    # ``_update_arrays(grads, variables, learning_rate)``: the same arithmetic, in the same
    # order (so the same values, bit for bit), on the arrays themselves, written in place
    # into scratch buffers and into arrays no one else holds (``writable_value``), as
    # PyTorch's foreach optimizers do. It runs only when nothing could observe the
    # difference: no trace, tape, profiler or numerics check active, no stateless scope,
    # plain variables with dense gradients of their own dtype, and ``update_step`` and the
    # ``assign*`` hooks not overridden below the class that fuses them.
    _update_arrays = None

    def _fusable(self, grads, variables) -> bool:
        if _dispatch._slow or not _fuses(type(self)) or get_stateless_scope() is not None:
            return False
        for g, v in zip(grads, variables):
            if (
                type(g) is not EagerTensor
                or type(v) not in _PLAIN_VARIABLES
                or g._dtype is not v._dtype
                or v._value.dtype not in _FUSED_DTYPES
                or g._value.shape != v._value.shape
            ):
                return False
        return True

    def _scratch(self, like, k=0):
        """A scratch array shaped like ``like``: a view of the ``k``-th flat buffer, grown
        to the largest variable, so a fused update allocates nothing per step."""
        bufs = self.__dict__.setdefault("_scratch_buffers", {})
        key = (k, like.dtype)
        buf = bufs.get(key)
        if buf is None or buf.size < like.size:
            buf = bufs[key] = np.empty(like.size, like.dtype)
        return buf[: like.size].reshape(like.shape)

    def _clip_gradients(self, grads):
        if self.clipnorm and self.clipnorm > 0:
            return [_tf.clip_by_norm(g, self.clipnorm) for g in grads]
        if self.global_clipnorm and self.global_clipnorm > 0:
            sq = [_tf.reduce_sum(_tf.square(_values(g))) for g in grads]
            norm = _tf.sqrt(_tf.reduce_sum(_tf.stack(sq)))
            c = self.global_clipnorm
            scale = c * _tf.minimum(1.0 / norm, 1.0 / c)
            scale = scale + (norm - norm)  # nan for a non-finite norm, like Keras
            return [_map_values(g, lambda v: v * _tf.cast(scale, v.dtype)) for g in grads]
        if self.clipvalue and self.clipvalue > 0:
            c = self.clipvalue
            return [_map_values(g, lambda v: _tf.clip_by_value(v, -c, c)) for g in grads]
        return grads

    # weight decay ----------------------------------------------------------------------
    def exclude_from_weight_decay(self, var_list=None, var_names=None):
        """Exempt variables (by object, or by name substrings/regexes) from weight decay;
        call before the optimizer is built."""
        if self.built:
            raise ValueError(
                "`exclude_from_weight_decay()` can only be configured before the optimizer "
                "is built."
            )
        self._exclude_from_weight_decay = {id(v) for v in (var_list or [])}
        self._exclude_from_weight_decay_pattern = "|".join(set(var_names)) if var_names else None

    def _use_weight_decay(self, variable):
        if id(variable) in getattr(self, "_exclude_from_weight_decay", set()):
            return False
        pattern = getattr(self, "_exclude_from_weight_decay_pattern", None)
        if pattern is not None and re.search(pattern, variable.name) is not None:
            return False
        return True

    def _apply_weight_decay(self, variables):
        if self.weight_decay is None:
            return
        for v in variables:
            if self._use_weight_decay(v):
                lr = _tf.cast(self.learning_rate, v.dtype)
                wd = _tf.cast(self.weight_decay, v.dtype)
                v.assign_sub(v * wd * lr)

    # moving average ---------------------------------------------------------------------
    def _update_model_variables_moving_average(self, trainable_variables):
        for v, avg in zip(trainable_variables, self._model_variables_moving_average):
            not_first = _tf.not_equal(self.iterations, 0)
            momentum = _tf.cast(not_first, v.dtype) * self.ema_momentum
            avg.assign(momentum * avg + (1 - momentum) * v)

    def _overwrite_model_variables_with_average_value(self, trainable_variables):
        if len(trainable_variables) != len(self._model_variables_moving_average):
            raise ValueError(
                f"The length of model variables ({len(trainable_variables)}) to override does "
                "not match the length of model variables stored in the optimizer "
                f"({len(self._model_variables_moving_average)})."
            )
        for v, avg in zip(trainable_variables, self._model_variables_moving_average):
            v.assign(avg)

    def finalize_variable_values(self, var_list):
        """With ``use_ema``, overwrite ``var_list`` with their moving averages."""
        if self.use_ema:
            self._overwrite_model_variables_with_average_value(var_list)

    # config -----------------------------------------------------------------------------
    def get_config(self):
        lr = self._learning_rate
        if isinstance(lr, _schedules.LearningRateSchedule):
            lr = _schedules.serialize(lr)
        elif isinstance(lr, Variable):
            lr = float(lr.numpy())
        config = {
            "name": self.name,
            "learning_rate": lr,
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "global_clipnorm": self.global_clipnorm,
            "clipvalue": self.clipvalue,
            "use_ema": self.use_ema,
            "ema_momentum": self.ema_momentum,
            "ema_overwrite_frequency": self.ema_overwrite_frequency,
            "loss_scale_factor": self.loss_scale_factor,
            "gradient_accumulation_steps": self.gradient_accumulation_steps,
        }
        config.update({k: getattr(self, k) for k in self._config_keys})
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = _schedules.deserialize(
                config["learning_rate"], custom_objects=custom_objects
            )
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r}>"
