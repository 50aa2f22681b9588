"""``tf.types``: the abstract types rill's values and functions are instances of."""

from rill.types import experimental  # noqa: F401

__all__ = ["experimental"]
