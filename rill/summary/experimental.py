"""``tf.summary.experimental``: the default step (``get_step`` / ``set_step``),
``summary_scope`` for custom summary ops, and ``write_raw_pb``."""

from rill.ops._op import populate as _populate
from rill.summary import summary_ops as _summary_ops  # noqa: F401 - registers the exports
from rill.summary import writer as _writer  # noqa: F401

_populate(globals(), "summary.experimental")
del _populate
