"""``tf.random``: re-exports of the ops registered under this namespace."""

import rill.ops as _ops  # noqa: F401 - registers the ops
import rill.ops.nn_more_ops as _nn_more_ops  # noqa: F401 - index_shuffle & co.
from rill.ops._op import populate as _populate

_populate(globals(), "random")
del _populate
from rill.random import experimental  # noqa: E402
