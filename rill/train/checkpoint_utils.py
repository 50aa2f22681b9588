"""``tf.train.CheckpointOptions`` and ``tf.train.checkpoints_iterator``.

rill's checkpoints are written synchronously by the host, so some options are recorded
for code that inspects them: an I/O device has no meaning on NumPy, and ``enable_async``
saves still complete before ``save`` returns. A sharding callback (``ShardByTaskPolicy``,
``MaxShardSizePolicy``) splits the data over files as TF does.
``experimental_write_callbacks`` are callables that ``Checkpoint.save`` callers may run
after writing.
"""

from __future__ import annotations

import time

from rill.ops._op import tf_export
from rill.train.checkpoint import latest_checkpoint
from rill.train.checkpoint_view import ShardingCallback

__all__ = ["CheckpointOptions", "checkpoints_iterator"]


@tf_export("train.CheckpointOptions")
class CheckpointOptions:
    """Options for saving and restoring checkpoints (``Checkpoint.save(...,
    options=...)``)."""

    __slots__ = (
        "experimental_io_device",
        "experimental_enable_async_checkpoint",
        "experimental_write_callbacks",
        "enable_async",
        "experimental_sharding_callback",
        "experimental_skip_slot_variables",
    )

    def __init__(
        self,
        experimental_io_device=None,
        experimental_enable_async_checkpoint: bool = False,
        experimental_write_callbacks=None,
        enable_async: bool = False,
        experimental_skip_slot_variables: bool = False,
        experimental_sharding_callback=None,
    ):
        self.experimental_io_device = experimental_io_device
        # the two async flags are aliases (the experimental one is deprecated)
        both = bool(experimental_enable_async_checkpoint or enable_async)
        self.experimental_enable_async_checkpoint = both
        self.enable_async = both
        self.experimental_write_callbacks = (
            list(experimental_write_callbacks) if experimental_write_callbacks is not None else None
        )
        self.experimental_skip_slot_variables = bool(experimental_skip_slot_variables)
        if experimental_sharding_callback is not None:
            if not isinstance(experimental_sharding_callback, ShardingCallback):
                raise ValueError(
                    f"CheckpointOptions: experimental_sharding_callback must be a "
                    f"tf.train.experimental.ShardingCallback (such as ShardByTaskPolicy or "
                    f"MaxShardSizePolicy), got {type(experimental_sharding_callback).__name__}."
                )
        self.experimental_sharding_callback = experimental_sharding_callback

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={getattr(self, k)!r}" for k in self.__slots__)
        return f"CheckpointOptions({fields})"


def _wait_for_new(checkpoint_dir, last, seconds_to_sleep: float, timeout):
    """The newest checkpoint if it differs from ``last``, polling until ``timeout``
    seconds pass (None then)."""
    stop_time = None if timeout is None else time.monotonic() + timeout
    while True:
        path = latest_checkpoint(checkpoint_dir)
        if path is not None and path != last:
            return path
        if stop_time is not None and time.monotonic() + seconds_to_sleep > stop_time:
            return None
        time.sleep(seconds_to_sleep)


@tf_export("train.checkpoints_iterator")
def checkpoints_iterator(
    checkpoint_dir, min_interval_secs: float = 0, timeout=None, timeout_fn=None
):
    """Yield each new checkpoint path of ``checkpoint_dir`` as it appears, at most one per
    ``min_interval_secs``; after ``timeout`` seconds without one, stop, unless
    ``timeout_fn`` is given and returns False (then keep waiting)."""
    last = None
    while True:
        path = _wait_for_new(checkpoint_dir, last, min(1.0, timeout) if timeout else 1.0, timeout)
        if path is None:
            if timeout_fn is None or timeout_fn():
                return
            continue
        start = time.monotonic()
        last = path
        yield path
        remaining = min_interval_secs - (time.monotonic() - start)
        if remaining > 0:
            time.sleep(remaining)
