"""``tf.feature_column``: TF's (deprecated) feature columns. ``input_layer`` (TF's
``tf.compat.v1.feature_column.input_layer``) turns features into a dense tensor."""

from rill.feature_column import columns as _columns  # noqa: F401 - registers the exports
from rill.feature_column.transform import input_layer  # noqa: F401
from rill.ops._op import populate as _populate

_populate(globals(), "feature_column")
del _populate
