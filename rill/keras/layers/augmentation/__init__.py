"""Keras augmentation layers."""

__all__: list[str] = []
