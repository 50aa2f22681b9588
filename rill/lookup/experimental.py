"""``tf.lookup.experimental``: the mutable tables."""

import rill.data as _data  # noqa: F401 - registers the exports
from rill.ops._op import populate as _populate

_populate(globals(), "lookup.experimental")
del _populate
