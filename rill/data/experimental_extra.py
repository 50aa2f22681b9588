"""The last ``tf.data.experimental`` names: ``DatasetInitializer`` (lookup-table contents
from a dataset of pairs), ``to_variant`` / ``from_variant`` (a dataset as a scalar
``tf.variant`` tensor and back), ``enable_debug_mode`` and TF 1's
``make_saveable_from_iterator``, which TF 2 cannot run eagerly either."""

from __future__ import annotations

import numpy as np

from rill.core import dtypes as _d
from rill.ops._op import tf_export

__all__ = [
    "DatasetInitializer",
    "enable_debug_mode",
    "from_variant",
    "make_saveable_from_iterator",
    "to_variant",
]

# Set by enable_debug_mode: tf.data runs user functions eagerly, one element at a time.
DEBUG_MODE = False


@tf_export("data.experimental.DatasetInitializer")
class DatasetInitializer:
    """Initialise a lookup table from a dataset whose elements are (key, value) pairs of
    scalars, e.g. ``tf.lookup.StaticHashTable(DatasetInitializer(ds), default)``."""

    def __init__(self, dataset):
        spec = dataset.element_spec
        if len(spec) != 2:  # a lone TensorSpec has no len(), as in TF
            raise TypeError("The given dataset must contain pairs.")
        for part in spec:
            shape = getattr(part, "shape", None)
            if shape is None or shape.rank != 0:
                raise ValueError(
                    f"DatasetInitializer: keys and values must be scalars, got element_spec {spec}"
                )
        self.dataset = dataset
        self._key_dtype, self._value_dtype = spec[0].dtype, spec[1].dtype

    key_dtype = property(lambda self: self._key_dtype)
    value_dtype = property(lambda self: self._value_dtype)

    def _contents(self):
        """(keys, values) as NumPy arrays, read from the whole dataset."""
        keys, values = [], []
        for k, v in self.dataset:
            keys.append(k.numpy())
            values.append(v.numpy())
        kd = object if self._key_dtype is _d.string else self._key_dtype.as_numpy_dtype
        vd = object if self._value_dtype is _d.string else self._value_dtype.as_numpy_dtype
        return np.asarray(keys, dtype=kd), np.asarray(values, dtype=vd)


@tf_export("data.experimental.to_variant")
def to_variant(dataset):
    """The dataset as a scalar ``tf.variant`` tensor (for ``from_variant``)."""
    from rill.core.tensor import wrap
    from rill.data.structure import _is_dataset

    if not _is_dataset(dataset):
        raise TypeError(f"to_variant expects a tf.data.Dataset, got {type(dataset).__name__}")
    holder = np.empty((), dtype=object)
    holder[()] = dataset
    return wrap(holder)


@tf_export("data.experimental.from_variant")
def from_variant(variant, structure):
    """The dataset a ``to_variant`` tensor holds; ``structure`` must be its element spec
    (a ``tf.TypeSpec`` structure)."""
    from rill.data import structure as _s

    value = getattr(variant, "_value", None)
    ds = value[()] if isinstance(value, np.ndarray) and value.shape == () else None
    if getattr(variant, "dtype", None) is not _d.variant or not _s._is_dataset(ds):
        raise TypeError(
            f"from_variant expects a scalar tf.variant tensor made by to_variant, got {variant!r}"
        )
    mine, theirs = _s.flatten(ds.element_spec), _s.flatten(structure)
    same = len(mine) == len(theirs) and all(
        getattr(a, "dtype", None) == getattr(b, "dtype", None)
        and (
            not hasattr(a, "shape")
            or not hasattr(b, "shape")
            or a.shape.is_compatible_with(b.shape)
        )
        for a, b in zip(mine, theirs)
    )
    if not same:
        raise TypeError(
            f"from_variant: structure {structure} does not match the dataset's element_spec "
            f"{ds.element_spec}"
        )
    return ds


@tf_export("data.experimental.enable_debug_mode")
def enable_debug_mode():
    """Debug tf.data: user functions run eagerly, element by element, in order (must be
    called in eager mode, before datasets are built)."""
    global DEBUG_MODE
    from rill.core import dispatch as _dispatch

    if _dispatch.state.graph is not None:
        raise ValueError("`enable_debug_mode() is only supported in eager mode.")
    DEBUG_MODE = True


@tf_export("data.experimental.make_saveable_from_iterator")
def make_saveable_from_iterator(iterator, external_state_policy=None):
    """TF 1's ``tf.compat.v1.Saver`` hook; in TF 2 use ``tf.train.Checkpoint(iterator=...)``
    (TF 2 fails the same way: an eager iterator has no graph resource to name)."""
    raise AttributeError(
        "make_saveable_from_iterator: Tensor.name is undefined when eager execution is "
        "enabled; it is intended for use in TF1 with tf.compat.v1.Saver. In TF2, checkpoint "
        "the iterator with tf.train.Checkpoint(iterator=iterator) instead."
    )
