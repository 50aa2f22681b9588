"""``tf.distribute.experimental``: communication options, the experimental strategies."""

from rill.distribute import experimental_lib as _lib  # noqa: F401 - register the exports
from rill.distribute import strategies as _strategies  # noqa: F401
from rill.ops._op import populate as _populate

_populate(globals(), "distribute.experimental")
del _populate
