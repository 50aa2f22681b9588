"""Keras 3's newer optimizers: Adafactor, Lamb, Muon and ScheduleFreeAdamW, each an
``update_step`` over rill ops (eager and traced alike)."""

from __future__ import annotations

import re

import rill as _tf
from rill.keras.optimizers._base import Optimizer
from rill.keras.optimizers._optimizers import (
    _MOMENTUM_VELOCITY,
    _c,
    _cast_args,
    _SlotOptimizer,
    _step,
)

__all__ = ["Adafactor", "Lamb", "Muon", "ScheduleFreeAdamW"]


def _rms(x):
    return _tf.sqrt(_tf.reduce_mean(_tf.square(x)))


def _label(variable):
    ref = getattr(variable, "path", None) or str(variable.name).split(":")[0]
    return ref.replace("/", "_")


class Adafactor(Optimizer):
    """Adafactor: second moments of matrices kept factored as row and column means;
    the step is relative to the variable's RMS and clipped at ``clip_threshold``."""

    def __init__(
        self,
        learning_rate=0.001,
        beta_2_decay=-0.8,
        epsilon_1=1e-30,
        epsilon_2=1e-3,
        clip_threshold=1.0,
        relative_step=True,
        **kwargs,
    ):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_2_decay = beta_2_decay
        self.epsilon_1 = epsilon_1
        self.epsilon_2 = epsilon_2
        self.clip_threshold = clip_threshold
        self.relative_step = relative_step

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self._r, self._c, self._v = [], [], []
        for var in variables:
            shape = tuple(var.shape.as_list())
            if len(shape) < 2:  # unfactored: r and c are unused scalars, as in Keras
                self._r.append(self.add_variable((), dtype=var.dtype, name=_label(var)))
                self._c.append(self.add_variable((), dtype=var.dtype, name=_label(var)))
            else:
                self._r.append(self.add_variable(shape[:-1], dtype=var.dtype, name=_label(var)))
                self._c.append(
                    self.add_variable(shape[:-2] + shape[-1:], dtype=var.dtype, name=_label(var))
                )
            self._v.append(self.add_variable_from_reference(var, "velocity"))

    def update_step(self, gradient, variable, learning_rate):
        dt, lr, g = _cast_args(variable, learning_rate, gradient)
        t = _step(self, dt)
        if not callable(self._learning_rate) and self.relative_step:
            lr = _tf.minimum(lr, 1 / _tf.sqrt(t))
        i = self._get_variable_index(variable)
        r, c, v = self._r[i], self._c[i], self._v[i]
        rho = _tf.minimum(lr, 1 / _tf.sqrt(t))
        alpha = _tf.maximum(_c(self.epsilon_2, dt), _rms(variable)) * rho
        g2 = _tf.square(g) + _c(self.epsilon_1, dt)
        beta_2 = 1 - _tf.pow(t, _c(self.beta_2_decay, dt))
        if variable.shape.rank >= 2:
            self.assign(r, beta_2 * r + (1 - beta_2) * _tf.reduce_mean(g2, axis=-1))
            self.assign(c, beta_2 * c + (1 - beta_2) * _tf.reduce_mean(g2, axis=-2))
            row = r / _tf.reduce_mean(r, axis=-1, keepdims=True)
            self.assign(v, _tf.expand_dims(row, -1) * _tf.expand_dims(c, -2))
        else:
            self.assign(v, beta_2 * v + (1 - beta_2) * g2)
        u = g / _tf.sqrt(v)
        u_hat = u / _tf.maximum(_c(1.0, dt), _rms(u) / _c(self.clip_threshold, dt))
        self.assign_sub(variable, alpha * u_hat)

    _config_keys = ("beta_2_decay", "epsilon_1", "epsilon_2", "clip_threshold", "relative_step")


class Lamb(_SlotOptimizer):
    """LAMB: Adam's bias-corrected step rescaled per variable by the trust ratio
    ``||w|| / ||step||`` (1 where either norm is 0)."""

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon

    _SLOTS = _MOMENTUM_VELOCITY

    def update_step(self, gradient, variable, learning_rate):
        dt, lr, g = _cast_args(variable, learning_rate, gradient)
        t = _step(self, dt)
        b1p = _tf.pow(_c(self.beta_1, dt), t)
        b2p = _tf.pow(_c(self.beta_2, dt), t)
        i = self._get_variable_index(variable)
        m, v = self._momentums[i], self._velocities[i]
        self.assign_add(m, (g - m) * (1 - self.beta_1))
        self.assign_add(v, (_tf.square(g) - v) * (1 - self.beta_2))
        update = (m / (1.0 - b1p)) / (_tf.sqrt(v / (1.0 - b2p)) + self.epsilon)
        w_norm = _tf.sqrt(_tf.reduce_sum(_tf.square(variable)))
        u_norm = _tf.sqrt(_tf.reduce_sum(_tf.square(update)))
        one = _c(1.0, dt)
        ratio = _tf.where(
            w_norm > 0, _tf.where(u_norm > 0, w_norm / _tf.maximum(u_norm, 1e-38), one), one
        )
        self.assign_sub(variable, ratio * lr * update)

    _config_keys = ("beta_1", "beta_2", "epsilon")


class Muon(Optimizer):
    """Muon: 2-D weights take the Newton-Schulz orthogonalised momentum (scaled by
    ``sqrt(max(rows, cols)) * rms_rate``); other variables (and embeddings, and paths
    matching ``exclude_layers``) take AdamW with ``adam_lr_ratio`` times the rate."""

    def __init__(
        self,
        learning_rate=0.001,
        adam_beta_1=0.9,
        adam_beta_2=0.999,
        adam_weight_decay=0.004,
        epsilon=1e-7,
        weight_decay=0.004,
        clipnorm=None,
        clipvalue=None,
        global_clipnorm=None,
        use_ema=False,
        ema_momentum=0.99,
        ema_overwrite_frequency=None,
        loss_scale_factor=None,
        gradient_accumulation_steps=None,
        name=None,
        exclude_layers=None,
        exclude_embeddings=True,
        muon_a=3.4445,
        muon_b=-4.7750,
        muon_c=2.0315,
        adam_lr_ratio=1,
        momentum=0.95,
        ns_steps=5,
        nesterov=True,
        rms_rate=0.2,
        **kwargs,
    ):
        super().__init__(
            learning_rate=learning_rate, weight_decay=weight_decay, clipnorm=clipnorm,
            clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema,
            ema_momentum=ema_momentum, ema_overwrite_frequency=ema_overwrite_frequency,
            loss_scale_factor=loss_scale_factor,
            gradient_accumulation_steps=gradient_accumulation_steps, name=name, **kwargs,
        )  # fmt: skip
        self.adam_beta_1 = adam_beta_1
        self.adam_beta_2 = adam_beta_2
        self.epsilon = epsilon
        self.muon_a = muon_a
        self.muon_b = muon_b
        self.muon_c = muon_c
        self.adam_lr_ratio = adam_lr_ratio
        self.momentum = momentum
        self.ns_steps = ns_steps
        self.nesterov = nesterov
        self.exclude_embeddings = exclude_embeddings
        self.exclude_layers = exclude_layers or []
        self.adam_weight_decay = adam_weight_decay
        self.rms_rate = rms_rate

    def _should_use_adamw(self, variable) -> bool:
        if variable.shape.rank != 2:
            return True
        path = getattr(variable, "path", None) or variable.name
        if self.exclude_embeddings and "embedding" in path.lower():
            return True
        return any(re.search(k, path) for k in self.exclude_layers)

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self.momentums = [None] * len(variables)
        self.adam_velocities = [None] * len(variables)
        for var in variables:
            i = self._get_variable_index(var)
            self.momentums[i] = self.add_variable_from_reference(var, "momentum")
            if self._should_use_adamw(var):
                self.adam_velocities[i] = self.add_variable_from_reference(var, "velocity")

    def update_step(self, gradient, variable, learning_rate):
        i = self._get_variable_index(variable)
        m, v = self.momentums[i], self.adam_velocities[i]
        if v is not None:
            self._adamw_update_step(gradient, variable, learning_rate * self.adam_lr_ratio, m, v)
        else:
            self._muon_update_step(gradient, variable, learning_rate, m)

    def _muon_update_step(self, gradient, variable, lr, m):
        dt = variable.dtype
        g = _c(gradient, dt)
        self.assign_add(m, g + m * (self.momentum - 1))
        g = g + self.momentum * m.read_value() if self.nesterov else m.read_value()
        update = self.zeropower_via_newtonschulz5(g, self.ns_steps)
        self.assign_sub(variable, self.lr_adjust(_c(lr, dt) * update))

    def _adamw_update_step(self, gradient, variable, learning_rate, m, v):
        dt, lr, g = _cast_args(variable, learning_rate, gradient)
        t = _step(self, dt)
        b1p = _tf.pow(_c(self.adam_beta_1, dt), t)
        b2p = _tf.pow(_c(self.adam_beta_2, dt), t)
        alpha = lr * _tf.sqrt(1 - b2p) / (1 - b1p)
        self.assign_add(m, (g - m) * (1 - self.adam_beta_1))
        self.assign_add(v, (_tf.square(g) - v) * (1 - self.adam_beta_2))
        self.assign_sub(variable, (m * alpha) / (_tf.sqrt(v) + self.epsilon))

    @staticmethod
    def transpose_last_axis(x):
        """``x`` with its last two axes swapped."""
        rank = x.shape.rank
        perm = list(range(rank))
        perm[-2], perm[-1] = perm[-1], perm[-2]
        return _tf.transpose(x, perm)

    def lr_adjust(self, x):
        """Scale a 2-D update by ``sqrt(max(rows, cols)) * rms_rate`` (Moonlight's rule,
        which lets Muon share Adam's learning rate and weight decay)."""
        if self.rms_rate is None:
            return x
        rows, cols = x.shape.as_list()[:2]
        return x * (float(max(rows, cols)) ** 0.5) * self.rms_rate

    def zeropower_via_newtonschulz5(self, x, steps: int):
        """The quintic Newton-Schulz iteration pushing ``x``'s singular values towards 1
        (an approximate orthogonalisation ``U V^T`` of ``x``)."""
        shape = x.shape.as_list()
        if len(shape) < 2:
            raise ValueError(
                "Expected gradient or momentum to have at least 2 dimensions. "
                f"Received: shape={tuple(shape)}"
            )
        a, b, c = self.muon_a, self.muon_b, self.muon_c
        tall = shape[-2] > shape[-1]
        if tall:
            x = self.transpose_last_axis(x)
        x = x / (_tf.norm(x, axis=[-2, -1], keepdims=True) + 1e-7)
        for _ in range(steps):
            xxt = _tf.matmul(x, self.transpose_last_axis(x))
            poly = b * xxt + c * _tf.matmul(xxt, xxt)
            x = a * x + _tf.matmul(poly, x)
        return self.transpose_last_axis(x) if tall else x

    def _apply_weight_decay(self, variables):
        for v in variables:
            if not self._use_weight_decay(v):
                continue
            wd = self.adam_weight_decay if self._should_use_adamw(v) else self.weight_decay
            if wd is None:
                continue
            lr = _c(self.learning_rate, v.dtype)
            v.assign(v - v * _c(wd, v.dtype) * lr)

    _config_keys = (
        "adam_beta_1", "adam_beta_2", "epsilon", "exclude_layers", "muon_a", "muon_b",
        "muon_c", "adam_lr_ratio", "momentum", "ns_steps", "nesterov", "exclude_embeddings",
        "adam_weight_decay", "rms_rate",
    )  # fmt: skip


class ScheduleFreeAdamW(_SlotOptimizer):
    """Schedule-free AdamW: the variable holds an interpolation ``y`` between the Adam
    iterate ``z`` (kept in ``momentum``) and its running average ``x``, so no learning
    rate schedule is needed (optional linear ``warmup_steps``)."""

    def __init__(
        self,
        learning_rate=0.0025,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        warmup_steps=0,
        **kwargs,
    ):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.warmup_steps = warmup_steps

    _SLOTS = _MOMENTUM_VELOCITY

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        for m, var in zip(self._momentums, variables):
            m.assign(_tf.identity(var.read_value()))  # z starts at the initial weights

    def update_step(self, gradient, variable, learning_rate):
        dt, lr, g = _cast_args(variable, learning_rate, gradient)
        t = _step(self, dt)
        beta_1 = _c(self.beta_1, dt)
        beta_2 = _c(self.beta_2, dt)
        if self.warmup_steps > 0:
            lr = lr * _tf.minimum(t / _c(self.warmup_steps, dt), 1.0)
        i = self._get_variable_index(variable)
        z, v = self._momentums[i], self._velocities[i]
        self.assign_add(v, (_tf.square(g) - v) * (1 - beta_2))
        denom = _tf.sqrt(v / (1 - _tf.pow(beta_2, t))) + _c(self.epsilon, dt)
        self.assign_sub(z, lr * g / denom)
        weight = 1.0 / t
        # Keras 3.15 keeps a reference to z (not a copy) as "z_old", so the average x is
        # recovered from the updated z; rill follows it for equal values
        x_old = (variable - (1 - beta_1) * z) / beta_1
        x_new = (1 - weight) * x_old + weight * z
        self.assign(variable, (1 - beta_1) * z + beta_1 * x_new)

    _config_keys = ("beta_1", "beta_2", "epsilon", "warmup_steps")
