"""``tf.summary``: summaries for TensorBoard, written to event files TensorBoard reads.

    writer = tf.summary.create_file_writer("logs/run1")
    with writer.as_default(step=0):
        tf.summary.scalar("loss", 0.25)

Then ``tensorboard --logdir logs``. Writers (``writer.py``) queue summaries for a
background thread that writes the event files (``event_file.py``); the summary ops
(``summary_ops.py``) work eagerly and inside ``rill.function`` (where they write at each
call). Writing needs the ``protobuf`` package (``pip install rill[proto]``).
"""

from rill.summary import summary_ops as _summary_ops  # noqa: F401 - registers the exports
from rill.summary import writer as _writer  # noqa: F401
from rill.summary import experimental
from rill.ops._op import populate as _populate

_populate(globals(), "summary")
del _populate
