"""``pack_x_y_sample_weight`` / ``unpack_x_y_sample_weight``: the ``(x, y, sw)`` batch
convention of ``fit``, for custom ``train_step``s."""

from __future__ import annotations


def unpack_x_y_sample_weight(data):
    """``x``, ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)`` -> ``(x, y, sample_weight)``
    with None for what is absent."""
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return (data, None, None)
    if len(data) in (1, 2, 3):
        return tuple(data) + (None,) * (3 - len(data))
    raise ValueError(
        "Data is expected to be in format `x`, `(x,)`, `(x, y)`, or `(x, y, sample_weight)`, "
        f"found: {data}"
    )


def pack_x_y_sample_weight(x, y=None, sample_weight=None):
    """The tuple ``fit`` expects: ``x`` alone (``(x,)`` when ``x`` is a list or tuple, so it
    is not mistaken for ``(x, y)``), ``(x, y)`` or ``(x, y, sample_weight)``."""
    if y is None:
        return (x,) if isinstance(x, (tuple, list)) else x
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)
