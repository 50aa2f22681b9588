"""``tf.experimental.numpy``: NumPy's API on rill tensors (``import rill.experimental.numpy
as tnp``).

Functions take array-likes and tensors and return rill Tensors (``tnp.ndarray`` is
``Tensor``), promoting dtypes NumPy's way; they are written over rill's public ops, so
gradients, ``GradientTape`` and ``rill.function`` work through them.
"""

import math as _math

from rill.core.tensor import Tensor as ndarray
from rill.experimental.numpy import _array, _behavior, _dtypes, _elementwise, _reduce  # noqa: F401
from rill.experimental.numpy import random  # noqa: F401
from rill.ops._op import populate as _populate
from rill.ops._op import tf_export as _tf_export

_tf_export("experimental.numpy.ndarray")(ndarray)
e = _math.e
pi = _math.pi
inf = float("inf")
newaxis = None

_populate(globals(), "experimental.numpy")
del _populate, _tf_export
