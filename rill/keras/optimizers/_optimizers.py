"""The Keras 3 optimizers: SGD, Adam, AdamW, RMSprop, Adagrad, Adamax, Nadam, Adadelta,
Ftrl and Lion, each an ``update_step`` over rill ops (eager and traced alike)."""

from __future__ import annotations

import numpy as np

import rill as _tf
from rill.core.variables import writable_value
from rill.keras.optimizers._base import Optimizer

__all__ = [
    "SGD",
    "Adam",
    "AdamW",
    "RMSprop",
    "Adagrad",
    "Adamax",
    "Nadam",
    "Adadelta",
    "Ftrl",
    "Lion",
]

# Each optimizer takes its own hyperparameters; the base class's keyword arguments
# (weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
# ema_overwrite_frequency, loss_scale_factor, gradient_accumulation_steps, name) pass
# through **kwargs, and the base rejects unknown ones.


def _c(x, dtype):
    return _tf.cast(x, dtype)


def _np_value(x):
    """A learning rate or step count (variable, tensor or number) as a NumPy scalar."""
    return np.asarray(x._value if hasattr(x, "_value") else x)[()]


def _cast_args(variable, learning_rate, gradient):
    """``(dtype, learning_rate, gradient)`` of an update step, cast to the variable's dtype."""
    dt = variable.dtype
    return dt, _c(learning_rate, dt), _c(gradient, dt)


def _step(opt, dtype, offset=1):
    return _tf.cast(opt.iterations + offset, dtype)


class _SlotOptimizer(Optimizer):
    """An optimizer declaring its slots: ``_SLOTS`` maps each attribute to a slot name;
    ``build`` makes them, interleaved per variable as Keras orders them."""

    _SLOTS: dict = {}

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        made = self.add_optimizer_variables(variables, list(self._SLOTS.values()))
        for attr, slots in zip(self._SLOTS, made):
            setattr(self, attr, slots)


_MOMENTUM_VELOCITY = {"_momentums": "momentum", "_velocities": "velocity"}


class SGD(Optimizer):
    """Gradient descent with optional (Nesterov) momentum."""

    def __init__(
        self,
        learning_rate=0.01,
        momentum=0.0,
        nesterov=False,
        **kwargs,
    ):
        super().__init__(
            learning_rate=learning_rate,
            **kwargs,
        )
        if not isinstance(momentum, (int, float)) or momentum < 0 or momentum > 1:
            raise ValueError(
                f"`momentum` must be a float between [0, 1]. Received: momentum={momentum}"
            )
        self.momentum = momentum
        self.nesterov = nesterov

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self.momentums = (
            self.add_optimizer_variables(variables, "momentum") if self.momentum != 0 else []
        )

    def update_step(self, gradient, variable, learning_rate):
        dt, lr, g = _cast_args(variable, learning_rate, gradient)
        if self.momentum != 0:
            m = self.momentums[self._get_variable_index(variable)]
            mom = _c(self.momentum, dt)
            self.assign(m, m * mom - g * lr)
            if self.nesterov:
                self.assign_add(variable, m * mom - g * lr)
            else:
                self.assign_add(variable, m)
        else:
            self.assign_sub(variable, g * lr)

    def _update_arrays(self, grads, variables, learning_rate):
        """``update_step`` over every variable, on arrays in place (``Optimizer._fusable``)."""
        for g, var in zip(grads, variables):
            dt = var._value.dtype.type
            lr, g = dt(_np_value(learning_rate)), g._value
            step = np.multiply(g, lr, out=self._scratch(g))  # g * lr
            x = writable_value(var)
            if self.momentum != 0:
                mom = dt(self.momentum)
                m = writable_value(self.momentums[self._get_variable_index(var)])
                np.multiply(m, mom, out=m)
                np.subtract(m, step, out=m)  # m * mom - g * lr
                if self.nesterov:
                    nxt = np.multiply(m, mom, out=self._scratch(g, 1))
                    np.add(x, np.subtract(nxt, step, out=nxt), out=x)
                else:
                    np.add(x, m, out=x)
            else:
                np.subtract(x, step, out=x)

    _config_keys = ("momentum", "nesterov")


class Adam(_SlotOptimizer):
    """Adam (optionally AMSGrad), with Keras' bias correction folded into the step size."""

    def __init__(
        self,
        learning_rate=0.001,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-7,
        amsgrad=False,
        **kwargs,
    ):
        super().__init__(
            learning_rate=learning_rate,
            **kwargs,
        )
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.amsgrad = amsgrad

    _SLOTS = _MOMENTUM_VELOCITY

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        if self.amsgrad:
            self._velocity_hats = self.add_optimizer_variables(variables, "velocity_hat")

    def update_step(self, gradient, variable, learning_rate):
        dt, lr, g = _cast_args(variable, learning_rate, gradient)
        t = _step(self, dt)
        b1p = _tf.pow(_c(self.beta_1, dt), t)
        b2p = _tf.pow(_c(self.beta_2, dt), t)
        i = self._get_variable_index(variable)
        m, v = self._momentums[i], self._velocities[i]
        alpha = lr * _tf.sqrt(1 - b2p) / (1 - b1p)
        self.assign_add(m, (g - m) * (1 - self.beta_1))
        self.assign_add(v, (_tf.square(g) - v) * (1 - self.beta_2))
        if self.amsgrad:
            v_hat = self._velocity_hats[i]
            self.assign(v_hat, _tf.maximum(v_hat, v))
            v = v_hat
        self.assign_sub(variable, (m * alpha) / (_tf.sqrt(v) + self.epsilon))

    def _update_arrays(self, grads, variables, learning_rate):
        """``update_step`` over every variable, on arrays in place (``Optimizer._fusable``):
        the same operations in the same order and dtype, so the same values."""
        lr_value, it = _np_value(learning_rate), _np_value(self.iterations)
        for g, var in zip(grads, variables):
            dt = var._value.dtype.type
            one, lr, t = dt(1), dt(lr_value), dt(it + 1)
            # the ufunc, as tf.pow's kernel: NumPy's scalar ``**`` (the C library's powf)
            # can differ from it in the last bit (float32 0.9 ** 4 under NumPy 2.4)
            b1p, b2p = np.power(dt(self.beta_1), t), np.power(dt(self.beta_2), t)
            alpha = lr * np.sqrt(one - b2p) / (one - b1p)
            i = self._get_variable_index(var)
            g = g._value
            m = writable_value(self._momentums[i])
            v = writable_value(self._velocities[i])
            tmp = self._scratch(g)
            np.add(m, np.multiply(np.subtract(g, m, out=tmp), dt(1 - self.beta_1), out=tmp), out=m)
            np.square(g, out=tmp)
            np.add(
                v, np.multiply(np.subtract(tmp, v, out=tmp), dt(1 - self.beta_2), out=tmp), out=v
            )
            if self.amsgrad:
                v_hat = writable_value(self._velocity_hats[i])
                v = np.maximum(v_hat, v, out=v_hat)
            den = np.sqrt(v, out=self._scratch(g, 1))
            np.add(den, dt(self.epsilon), out=den)
            step = np.divide(np.multiply(m, alpha, out=tmp), den, out=tmp)
            x = writable_value(var)
            np.subtract(x, step, out=x)

    _config_keys = ("beta_1", "beta_2", "epsilon", "amsgrad")


class AdamW(Adam):
    """Adam with decoupled weight decay (``weight_decay`` defaults to 0.004)."""

    def __init__(
        self,
        learning_rate=0.001,
        weight_decay=0.004,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-7,
        amsgrad=False,
        **kwargs,
    ):
        super().__init__(
            learning_rate=learning_rate,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            amsgrad=amsgrad,
            weight_decay=weight_decay,
            **kwargs,
        )
        if self.weight_decay is None:
            raise ValueError("Argument `weight_decay` must be a float. Received: weight_decay=None")


class RMSprop(Optimizer):
    """RMSprop, optionally centered and with momentum."""

    def __init__(
        self,
        learning_rate=0.001,
        rho=0.9,
        momentum=0.0,
        epsilon=1e-7,
        centered=False,
        **kwargs,
    ):
        super().__init__(
            learning_rate=learning_rate,
            **kwargs,
        )
        self.rho = rho
        self.momentum = momentum
        self.epsilon = epsilon
        self.centered = centered

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self._velocities = self.add_optimizer_variables(variables, "velocity")
        self._momentums = (
            self.add_optimizer_variables(variables, "momentum") if self.momentum > 0 else []
        )
        self._average_gradients = (
            self.add_optimizer_variables(variables, "average_gradient") if self.centered else []
        )

    def update_step(self, gradient, variable, learning_rate):
        dt, lr, g = _cast_args(variable, learning_rate, gradient)
        i = self._get_variable_index(variable)
        vel = self._velocities[i]
        rho = self.rho
        self.assign(vel, rho * vel + (1 - rho) * _tf.square(g))
        if self.centered:
            avg = self._average_gradients[i]
            self.assign(avg, rho * avg + (1 - rho) * g)
            denominator = vel - _tf.square(avg) + self.epsilon
        else:
            denominator = vel + self.epsilon
        increment = (lr * g) / _tf.sqrt(denominator)
        if self.momentum > 0:
            mom = self._momentums[i]
            self.assign(mom, self.momentum * mom + increment)
            self.assign_sub(variable, mom)
        else:
            self.assign_sub(variable, increment)

    _config_keys = ("rho", "momentum", "epsilon", "centered")


class Adagrad(Optimizer):
    """Adagrad: per-coordinate steps scaled by the root of the summed squared gradients."""

    def __init__(
        self,
        learning_rate=0.001,
        initial_accumulator_value=0.1,
        epsilon=1e-7,
        **kwargs,
    ):
        super().__init__(
            learning_rate=learning_rate,
            **kwargs,
        )
        self.initial_accumulator_value = initial_accumulator_value
        self.epsilon = epsilon

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self._accumulators = self.add_optimizer_variables(
            variables, "accumulator", initializer=float(self.initial_accumulator_value)
        )

    def update_step(self, gradient, variable, learning_rate):
        dt, lr, g = _cast_args(variable, learning_rate, gradient)
        acc = self._accumulators[self._get_variable_index(variable)]
        self.assign_add(acc, _tf.square(g))
        self.assign_sub(variable, (lr * g) / _tf.sqrt(acc + self.epsilon))

    _config_keys = ("initial_accumulator_value", "epsilon")


class Adamax(_SlotOptimizer):
    """Adamax: Adam with the infinity norm in place of the second moment."""

    def __init__(
        self,
        learning_rate=0.001,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-7,
        **kwargs,
    ):
        super().__init__(
            learning_rate=learning_rate,
            **kwargs,
        )
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon

    _SLOTS = {"_m": "momentum", "_u": "norm"}

    def update_step(self, gradient, variable, learning_rate):
        dt, lr, g = _cast_args(variable, learning_rate, gradient)
        t = _step(self, dt)
        b1p = _tf.pow(_c(self.beta_1, dt), t)
        i = self._get_variable_index(variable)
        m, u = self._m[i], self._u[i]
        self.assign_add(m, (g - m) * (1 - self.beta_1))
        self.assign(u, _tf.maximum(self.beta_2 * u, _tf.abs(g)))
        self.assign_sub(variable, (lr * m) / ((1 - b1p) * (u + self.epsilon)))

    _config_keys = ("beta_1", "beta_2", "epsilon")


class Nadam(_SlotOptimizer):
    """Adam with Nesterov momentum and Keras' momentum-decay schedule (0.96 per step)."""

    def __init__(
        self,
        learning_rate=0.001,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-7,
        **kwargs,
    ):
        super().__init__(
            learning_rate=learning_rate,
            **kwargs,
        )
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon

    _SLOTS = _MOMENTUM_VELOCITY

    def build(self, variables):
        if self.built:
            return
        dtype = variables[0].dtype if variables else "float32"
        super().build(variables)
        self._u_product = self.add_variable((), initializer="ones", dtype=dtype, name="u_product")

    def _backend_update_step(self, grads, trainable_variables, learning_rate):
        dt = self._u_product.dtype
        decay = _tf.pow(_c(0.96, dt), _step(self, dt))
        self.assign(self._u_product, self._u_product * self.beta_1 * (1.0 - 0.5 * decay))
        super()._backend_update_step(grads, trainable_variables, learning_rate)

    def update_step(self, gradient, variable, learning_rate):
        dt, lr, g = _cast_args(variable, learning_rate, gradient)
        t = _step(self, dt)
        t_next = _step(self, dt, 2)
        decay = _c(0.96, dt)
        beta_1 = _c(self.beta_1, dt)
        beta_2 = _c(self.beta_2, dt)
        u_t = beta_1 * (1.0 - 0.5 * _tf.pow(decay, t))
        u_t_1 = beta_1 * (1.0 - 0.5 * _tf.pow(decay, t_next))
        u_product_t = _c(self._u_product, dt)
        u_product_t_1 = u_product_t * u_t_1
        b2p = _tf.pow(beta_2, t)
        i = self._get_variable_index(variable)
        m, v = self._momentums[i], self._velocities[i]
        self.assign_add(m, (g - m) * (1 - beta_1))
        self.assign_add(v, (_tf.square(g) - v) * (1 - beta_2))
        m_hat = (u_t_1 * m) / (1 - u_product_t_1) + ((1 - u_t) * g) / (1 - u_product_t)
        v_hat = v / (1 - b2p)
        self.assign_sub(variable, (m_hat * lr) / (_tf.sqrt(v_hat) + self.epsilon))

    _config_keys = ("beta_1", "beta_2", "epsilon")


class Adadelta(_SlotOptimizer):
    """Adadelta: steps scaled by the ratio of running RMS of updates and of gradients."""

    def __init__(
        self,
        learning_rate=0.001,
        rho=0.95,
        epsilon=1e-7,
        **kwargs,
    ):
        super().__init__(
            learning_rate=learning_rate,
            **kwargs,
        )
        self.rho = rho
        self.epsilon = epsilon

    _SLOTS = {
        "_accumulated_grads": "accumulated_grad",
        "_accumulated_delta_vars": "accumulated_delta_var",
    }

    def update_step(self, gradient, variable, learning_rate):
        dt, lr, g = _cast_args(variable, learning_rate, gradient)
        i = self._get_variable_index(variable)
        acc_g, acc_d = self._accumulated_grads[i], self._accumulated_delta_vars[i]
        rho = self.rho

        def rms(x):
            return _tf.sqrt(x + self.epsilon)

        self.assign(acc_g, rho * acc_g + (1 - rho) * _tf.square(g))
        delta = -((rms(acc_d) * g) / rms(acc_g))
        self.assign(acc_d, rho * acc_d + (1 - rho) * _tf.square(delta))
        self.assign_add(variable, lr * delta)

    _config_keys = ("rho", "epsilon")


class Ftrl(Optimizer):
    """FTRL-Proximal with L1, L2 and L2-shrinkage regularization."""

    def __init__(
        self,
        learning_rate=0.001,
        learning_rate_power=-0.5,
        initial_accumulator_value=0.1,
        l1_regularization_strength=0.0,
        l2_regularization_strength=0.0,
        l2_shrinkage_regularization_strength=0.0,
        beta=0.0,
        **kwargs,
    ):
        super().__init__(
            learning_rate=learning_rate,
            **kwargs,
        )
        checks = (
            ("initial_accumulator_value", initial_accumulator_value),
            ("l1_regularization_strength", l1_regularization_strength),
            ("l2_regularization_strength", l2_regularization_strength),
            ("l2_shrinkage_regularization_strength", l2_shrinkage_regularization_strength),
        )
        for arg, value in checks:
            if value < 0.0:
                raise ValueError(f"`{arg}` needs to be positive or zero. Received: {arg}={value}.")
        if learning_rate_power > 0.0:
            raise ValueError(
                "`learning_rate_power` needs to be negative or zero. Received: "
                f"learning_rate_power={learning_rate_power}."
            )
        self.learning_rate_power = learning_rate_power
        self.initial_accumulator_value = initial_accumulator_value
        self.l1_regularization_strength = l1_regularization_strength
        self.l2_regularization_strength = l2_regularization_strength
        self.l2_shrinkage_regularization_strength = l2_shrinkage_regularization_strength
        self.beta = beta

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self._accumulators, self._linears = self.add_optimizer_variables(
            variables,
            ["accumulator", "linear"],
            initializer=[float(self.initial_accumulator_value), "zeros"],
        )

    def update_step(self, gradient, variable, learning_rate):
        dt, lr, g = _cast_args(variable, learning_rate, gradient)
        i = self._get_variable_index(variable)
        accum, linear = self._accumulators[i], self._linears[i]
        lr_power = self.learning_rate_power
        l2_reg = self.l2_regularization_strength + self.beta / (2.0 * lr)
        grad_to_use = g + 2 * self.l2_shrinkage_regularization_strength * variable
        new_accum = accum + _tf.square(g)
        self.assign_add(
            linear,
            grad_to_use
            - ((_tf.pow(new_accum, -lr_power) - _tf.pow(accum, -lr_power)) / lr) * variable,
        )
        quadratic = _tf.pow(new_accum, -lr_power) / lr + 2 * l2_reg
        l1 = self.l1_regularization_strength
        linear_clipped = _tf.clip_by_value(linear, -l1, l1)
        self.assign(variable, (linear_clipped - linear) / quadratic)
        self.assign(accum, new_accum)

    _config_keys = (
        "learning_rate_power",
        "initial_accumulator_value",
        "l1_regularization_strength",
        "l2_regularization_strength",
        "l2_shrinkage_regularization_strength",
        "beta",
    )


class Lion(_SlotOptimizer):
    """Lion: the sign of an interpolated momentum as the step."""

    def __init__(
        self,
        learning_rate=0.001,
        beta_1=0.9,
        beta_2=0.99,
        **kwargs,
    ):
        super().__init__(
            learning_rate=learning_rate,
            **kwargs,
        )
        if beta_1 <= 0 or beta_1 > 1:
            raise ValueError(
                f"Argument `beta_1` must be in the [0, 1] range. Otherwise, the optimizer "
                f"degenerates to SignSGD. Received: beta_1={beta_1}."
            )
        self.beta_1 = beta_1
        self.beta_2 = beta_2

    _SLOTS = {"_momentums": "momentum"}

    def update_step(self, gradient, variable, learning_rate):
        dt, lr, g = _cast_args(variable, learning_rate, gradient)
        b1 = _c(self.beta_1, dt)
        b2 = _c(self.beta_2, dt)
        m = self._momentums[self._get_variable_index(variable)]
        self.assign_sub(variable, lr * _tf.sign(m * b1 + g * (1.0 - b1)))
        self.assign(m, m * b2 + g * (1.0 - b2))

    _config_keys = ("beta_1", "beta_2")
