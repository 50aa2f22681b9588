"""``tf.lookup``: re-exports of what is registered under this namespace."""

import rill.data as _data  # noqa: F401 - registers the lookup exports
from rill.ops._op import populate as _populate

_populate(globals(), "lookup")
del _populate
from rill.lookup import experimental  # noqa: E402
