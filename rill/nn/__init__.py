"""``tf.nn``: re-exports of the ops registered under this namespace."""

import rill.ops as _ops  # noqa: F401 - registers the ops
from rill.nn import ctc_decoders as _ctc_decoders  # noqa: F401 - registers the decoders
from rill.ops._op import populate as _populate

_populate(globals(), "nn")
del _populate
from rill.nn import experimental  # noqa: E402
