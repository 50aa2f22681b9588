"""``tf.train``: re-exports of what is registered under this namespace."""

import rill.data as _data  # noqa: F401 - registers the train exports
import rill.train.checkpoint_view as _checkpoint_view  # noqa: F401 - before train.experimental
import rill.train.checkpoint as _checkpoint  # noqa: F401 - registers Checkpoint & co.
from rill.train import checkpoint_utils, cluster, coordinator, moving_averages  # noqa: F401
from rill.ops._op import populate as _populate

_populate(globals(), "train")
del _populate
