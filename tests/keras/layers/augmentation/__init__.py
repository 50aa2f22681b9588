"""Tests of the Keras image augmentation layers."""
