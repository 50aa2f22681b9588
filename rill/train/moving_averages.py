"""``tf.train.ExponentialMovingAverage``: shadow copies of variables that track their
exponential moving average.

``apply(var_list)`` creates, the first time it sees a variable, a non-trainable shadow
variable named ``<var>/<name>`` initialised to the variable's value, then moves every
shadow towards its variable: ``shadow -= (1 - decay) * (shadow - var)``. With
``num_updates`` the decay used is ``min(decay, (1 + num_updates) / (10 + num_updates))``,
so early averages follow the variables faster. Shadows are created in an ``init_scope``
(eagerly, even when ``apply`` runs inside a ``rill.function``) and updated with
``assign_sub``, so the update traces. As in TensorFlow 2, only variables are accepted, and
``zero_debias`` (which TensorFlow applies to the zero-initialised averages of plain
tensors) has no effect on them.
"""

from __future__ import annotations

from rill.core import dtypes as _d
from rill.core.context import init_scope
from rill.core.variables import Variable, is_variable
from rill.ops._op import convert_to_tensor, tf_export

__all__ = ["ExponentialMovingAverage"]


def _op_name(var) -> str:
    """The variable's name without the ``:0`` output suffix."""
    name = var.name
    return name[: name.rindex(":")] if ":" in name else name


@tf_export("train.ExponentialMovingAverage")
class ExponentialMovingAverage:
    """Maintains exponential moving averages of variables (``apply`` to update, ``average``
    to read a variable's shadow)."""

    def __init__(
        self,
        decay,
        num_updates=None,
        zero_debias: bool = False,
        name: str = "ExponentialMovingAverage",
    ):
        self._decay = decay
        self._num_updates = num_updates
        self._zero_debias = zero_debias
        self._name = name
        self._averages = {}  # id(var) -> (var, shadow)

    @property
    def name(self) -> str:
        """The name used as the shadow variables' suffix."""
        return self._name

    def _effective_decay(self):
        from rill.ops import array_ops, math_ops

        decay = convert_to_tensor(self._decay, dtype=_d.float32)
        if self._num_updates is None:
            return decay
        n = array_ops.cast(convert_to_tensor(self._num_updates), _d.float32)
        return math_ops.minimum(decay, (1.0 + n) / (10.0 + n))

    def apply(self, var_list=None):
        """Create shadows for new variables of ``var_list``, then update every shadow of
        ``var_list`` towards its variable."""
        from rill.ops import array_ops

        var_list = list(var_list or [])
        for var in var_list:
            if not is_variable(var):
                raise TypeError(
                    "tf.train.ExponentialMovingAverage does not support non-Variable tensors "
                    "when eager execution is enabled."
                )
            if not var.dtype.is_floating:
                raise TypeError(f"The variables must be half, float, or double: {var.name}")
        for var in var_list:
            if id(var) in self._averages:
                continue
            with init_scope():
                shadow = Variable(
                    var.read_value(), trainable=False, name=self.average_name(var), dtype=var.dtype
                )
            self._averages[id(var)] = (var, shadow)
        decay = self._effective_decay()
        for var in var_list:
            shadow = self._averages[id(var)][1]
            rate = array_ops.cast(1.0 - decay, var.dtype)
            shadow.assign_sub(rate * (shadow.read_value() - var.read_value()))
        return None

    def average(self, var):
        """The shadow variable of ``var``, or None if ``apply`` has not seen it."""
        entry = self._averages.get(id(var))
        return entry[1] if entry is not None and entry[0] is var else None

    def average_name(self, var) -> str:
        """The name of ``var``'s shadow: ``<var name>/<self.name>``."""
        return f"{_op_name(var)}/{self._name}"

    def variables_to_restore(self, moving_avg_variables=None) -> dict:
        """``{shadow name: variable}`` for the averaged variables (to restore averages into
        the variables themselves with a name-based saver)."""
        if moving_avg_variables is None:
            chosen = [v for v, _ in self._averages.values()]
        else:
            chosen = list(moving_avg_variables)
        out = {}
        for v in chosen:
            out[self.average_name(v)] = v
        return out
