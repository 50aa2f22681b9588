"""``keras.export``: ``ExportArchive``, a SavedModel of chosen endpoints of Keras objects."""

from rill.keras.export.export_archive import ExportArchive, export_saved_model

__all__ = ["ExportArchive"]
