"""``tf.profiler``: only its ``experimental`` API exists in TF 2 (see rill.profiler.experimental)."""

from rill.profiler import experimental  # noqa: F401
