"""``tf.graph_util``: ``import_graph_def``."""

from rill.saved_model.import_graph import import_graph_def  # noqa: F401
