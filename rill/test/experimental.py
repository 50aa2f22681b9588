"""``tf.test.experimental``."""

__all__ = ["sync_devices"]


def sync_devices() -> None:
    """Wait until every device has finished its queued work. rill runs every op
    synchronously on the CPU, so there is never anything to wait for."""
    return None
