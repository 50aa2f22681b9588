"""``keras.legacy``: Keras 2 formats kept for reading old files (only ``saving`` remains)."""

from rill.keras.legacy import saving  # noqa: F401
