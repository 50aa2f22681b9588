"""``tf.data.experimental``: re-exports of what is registered under this namespace."""

from rill.data import service  # noqa: F401 - tf.data.experimental.service (registers exports)
from rill.ops._op import populate as _populate

_populate(globals(), "data.experimental")
del _populate
