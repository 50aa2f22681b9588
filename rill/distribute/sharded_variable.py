"""``ShardedVariable``: one logical variable stored as shards along its first axis, each
on a parameter server (``ParameterServerStrategy`` with a ``variable_partitioner``)."""

from __future__ import annotations

import numpy as np

from rill.core.convert import convert_to_tensor, register_tensor_conversion_function
from rill.core.tensor_shape import TensorShape
from rill.core.variables import Variable

__all__ = ["ShardedVariable", "PSVariable", "shard_sizes"]


def shard_sizes(rows: int, num_shards: int) -> list:
    """Rows per shard: the first ``rows % num_shards`` shards take one row more."""
    base, extra = divmod(rows, num_shards)
    return [base + 1 if i < extra else base for i in range(num_shards)]


class PSVariable(Variable):
    """A variable that lives on one parameter server task (its ``device``)."""

    def __init__(self, *args, ps_device: str, **kwargs):
        super().__init__(*args, **kwargs)
        self._ps_device = ps_device

    @property
    def device(self) -> str:
        return self._ps_device


def _concat(tensors):
    import rill as tf

    return tensors[0] if len(tensors) == 1 else tf.concat(tensors, axis=0)


class ShardedVariable:
    """Shards of a variable, concatenated along axis 0 when read as a tensor."""

    def __init__(self, variables, name="ShardedVariable"):
        variables = list(variables)
        if not variables:
            raise ValueError("ShardedVariable needs at least one shard variable; got none.")
        first = variables[0]
        for v in variables[1:]:
            if v.dtype != first.dtype:
                raise ValueError(
                    f"ShardedVariable: all shards must have one dtype; got {first.dtype.name} "
                    f"and {v.dtype.name}."
                )
            if v.shape[1:] != first.shape[1:]:
                raise ValueError(
                    "ShardedVariable: shards must agree beyond axis 0; got shapes "
                    f"{first.shape} and {v.shape}."
                )
        self._variables = variables
        self._name = name
        rows = sum(int(v.shape[0]) for v in variables)
        self._shape = TensorShape([rows] + list(first.shape[1:]))

    # description -----------------------------------------------------------------------
    @property
    def variables(self) -> list:
        """The shard variables, in order along axis 0."""
        return self._variables

    @property
    def name(self) -> str:
        return self._name

    @property
    def dtype(self):
        return self._variables[0].dtype

    @property
    def shape(self) -> TensorShape:
        return self._shape

    @property
    def trainable(self) -> bool:
        return self._variables[0].trainable

    def get_shape(self) -> TensorShape:
        return self._shape

    def __len__(self):
        return int(self._shape[0])

    def __repr__(self):
        return (
            f"<ShardedVariable '{self._name}' shape={self._shape} dtype={self.dtype.name} "
            f"shards={len(self._variables)}>"
        )

    # reading ---------------------------------------------------------------------------
    def read_value(self):
        """The whole value: the shards concatenated (a read of each shard, so tapes see
        every shard variable)."""
        return _concat([v.read_value() for v in self._variables])

    value = read_value

    def numpy(self):
        return np.concatenate([np.asarray(v.numpy()) for v in self._variables], axis=0)

    def __array__(self, dtype=None, copy=None):
        out = self.numpy()
        return out.astype(dtype) if dtype is not None else out

    # writing ---------------------------------------------------------------------------
    def _split(self, value, op):
        t = convert_to_tensor(value, dtype=self.dtype)
        if not self._shape.is_compatible_with(t.shape):
            raise ValueError(
                f"ShardedVariable.{op}: value of shape {t.shape} does not match the variable's "
                f"shape {self._shape}."
            )
        import rill as tf

        sizes = [int(v.shape[0]) for v in self._variables]
        return tf.split(t, sizes, axis=0) if len(sizes) > 1 else [t]

    def _update(self, op, value, read_value):
        for var, part in zip(self._variables, self._split(value, op)):
            getattr(var, op)(part)
        return self if read_value else None

    def assign(self, value, use_locking=None, name=None, read_value=True):
        """Assign ``value``'s rows to the shards they fall in."""
        return self._update("assign", value, read_value)

    def assign_add(self, delta, use_locking=None, name=None, read_value=True):
        """Add ``delta``'s rows to the shards they fall in."""
        return self._update("assign_add", delta, read_value)

    def assign_sub(self, delta, use_locking=None, name=None, read_value=True):
        """Subtract ``delta``'s rows from the shards they fall in."""
        return self._update("assign_sub", delta, read_value)

    # tensor-like operators, on the concatenated value ---------------------------------
    def __add__(self, o):
        return self.read_value() + o

    def __radd__(self, o):
        return o + self.read_value()

    def __sub__(self, o):
        return self.read_value() - o

    def __rsub__(self, o):
        return o - self.read_value()

    def __mul__(self, o):
        return self.read_value() * o

    def __rmul__(self, o):
        return o * self.read_value()

    def __truediv__(self, o):
        return self.read_value() / o

    def __matmul__(self, o):
        return self.read_value() @ o

    def __rmatmul__(self, o):
        return o @ self.read_value()

    def __neg__(self):
        return -self.read_value()

    def __getitem__(self, key):
        return self.read_value()[key]


def _convert(value, dtype=None, name=None, as_ref=False):
    t = value.read_value()
    if dtype is not None and t.dtype != dtype:
        raise ValueError(
            f"Cannot convert a ShardedVariable of dtype {t.dtype.name} to a tensor of dtype "
            f"{dtype.name}."
        )
    return t


register_tensor_conversion_function(ShardedVariable, _convert)
