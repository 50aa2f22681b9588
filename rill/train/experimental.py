"""``tf.train.experimental``: re-exports of what is registered under this namespace."""

import rill.train.checkpoint as _checkpoint  # noqa: F401 - registers PythonState
from rill.ops._op import populate as _populate

_populate(globals(), "train.experimental")
del _populate
