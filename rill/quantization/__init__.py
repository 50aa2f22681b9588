"""``tf.quantization``: re-exports of the ops registered under this namespace."""

import rill.ops.quantization_ops as _quantization_ops  # noqa: F401 - registers them
from rill.ops._op import populate as _populate

_populate(globals(), "quantization")
del _populate
