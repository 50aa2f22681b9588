"""``tf.debugging``: re-exports of the ops registered under this namespace."""

import rill.debugging.check_numerics as _check_numerics  # noqa: F401 - registers them
import rill.ops as _ops  # noqa: F401 - registers the ops
from rill.ops._op import populate as _populate

_populate(globals(), "debugging")
del _populate
