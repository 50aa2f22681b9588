"""``tf.nn``: re-exports of the ops registered under this namespace."""

import rill.ops as _ops  # noqa: F401 - registers the ops
import rill.ops.nn_more_ops as _nn_more_ops  # noqa: F401 - sparse embeddings, pools
from rill.nn import ctc_decoders as _ctc_decoders  # noqa: F401 - registers the decoders
from rill.ops._op import populate as _populate

_populate(globals(), "nn")
del _populate
from rill.nn import experimental  # noqa: E402

# the Keras 2 cell wrappers load Keras, so only on first use
_CELL_WRAPPERS = ("RNNCellDeviceWrapper", "RNNCellDropoutWrapper", "RNNCellResidualWrapper")


def __getattr__(name):
    if name in _CELL_WRAPPERS:
        from rill.nn import rnn_cell_wrappers

        return getattr(rnn_cell_wrappers, name)
    raise AttributeError(f"module 'rill.nn' has no attribute {name!r}")
