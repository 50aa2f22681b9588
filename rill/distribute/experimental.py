"""``tf.distribute.experimental``: communication options, the experimental strategies, and
the ``coordinator``, ``partitioners`` and ``rpc`` sub-namespaces."""

import types as _types

from rill.distribute import cluster_coordinator as _coordinator  # noqa: F401
from rill.distribute import experimental_lib as _lib  # noqa: F401 - register the exports
from rill.distribute import failure_handling as _failure_handling  # noqa: F401
from rill.distribute import partitioners as _partitioners  # noqa: F401
from rill.distribute import ps_strategy as _ps_strategy  # noqa: F401
from rill.distribute import rpc as _rpc  # noqa: F401
from rill.distribute import strategies as _strategies  # noqa: F401
from rill.ops._op import populate as _populate


def _namespace(leaf: str) -> _types.ModuleType:
    """A module holding the exports of ``distribute.experimental.<leaf>``."""
    from rill.ops._op import populate

    module = _types.ModuleType(f"{__name__}.{leaf}")
    populate(module.__dict__, f"distribute.experimental.{leaf}")
    return module


coordinator = _namespace("coordinator")
partitioners = _namespace("partitioners")
rpc = _namespace("rpc")
_populate(globals(), "distribute.experimental")
del _populate
