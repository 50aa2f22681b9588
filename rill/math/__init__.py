"""``tf.math``: re-exports of the ops registered under this namespace."""

import rill.ops as _ops  # noqa: F401 - registers the ops
from rill.ops._op import populate as _populate

_populate(globals(), "math")
del _populate
from rill.math import special  # noqa: E402
