"""Contrast Limited Adaptive Histogram Equalization (CLAHE): each image is cut into a grid
of tiles, each tile's 256-bin histogram is clipped (the excess spread evenly over the bins)
and turned into a lookup table, and every pixel is mapped through the tables of its four
nearest tile centres, blended bilinearly so that no tile edges show."""

from __future__ import annotations

import rill as tf
from rill.keras.layers.augmentation.base import BaseImagePreprocessingLayer

__all__ = ["ContrastLimitedAdaptiveHistogramEqualization"]

_BINS = 256


def _static(dim, dynamic):
    """A dimension as a Python int where known, else the dynamic scalar."""
    return dim if dim is not None else dynamic


class ContrastLimitedAdaptiveHistogramEqualization(BaseImagePreprocessingLayer):
    """CLAHE over a ``tile_grid_size`` grid, histograms clipped at ``clip_limit`` times the
    mean bin count; pixels in ``value_range``. Deterministic: applied in inference too."""

    _USE_BASE_FACTOR = False

    def __init__(
        self,
        value_range=(0, 255),
        clip_limit=4.0,
        tile_grid_size=(8, 8),
        data_format=None,
        **kwargs,
    ):
        super().__init__(data_format=data_format, **kwargs)
        self.value_range = value_range
        self.clip_limit = clip_limit
        self.tile_grid_size = tile_grid_size

    def transform_images(self, images, transformation=None, training=True):
        """``images`` (a batch) equalized, in their own dtype (Keras ignores ``training``)."""
        first = self.data_format == "channels_first"
        if first:
            images = tf.transpose(images, [0, 2, 3, 1])
        dtype = images.dtype
        images = self._transform_value_range(images, self.value_range, (0, 255), "float32")
        out = self._transform_value_range(
            self._clahe(images), (0, 255), self.value_range, "float32"
        )
        out = tf.cast(out, dtype)
        return tf.transpose(out, [0, 3, 1, 2]) if first else out

    def _clahe(self, images):
        """Channels-last batched ``images`` on [0, 255] -> float32 CLAHE output."""
        dyn = tf.shape(images)
        b, h, w, c = (_static(d, dyn[i]) for i, d in enumerate(images.shape.as_list()))
        if not all(isinstance(d, int) for d in (h, w, c)):
            raise ValueError(
                "ContrastLimitedAdaptiveHistogramEqualization needs static height, width and "
                f"channels. Received: images.shape={images.shape}"
            )
        gh, gw = (int(g) for g in self.tile_grid_size)
        th, tw = -(-h // gh), -(-w // gw)  # tiles cover the image; the rest is mirrored
        hp, wp = th * gh, tw * gw
        if hp != h or wp != w:
            images = tf.pad(images, [[0, 0], [0, hp - h], [0, wp - w], [0, 0]], "SYMMETRIC")
        # Bin of each pixel; Keras truncates toward zero before clipping.
        pixels = tf.clip_by_value(tf.cast(images, "int32"), 0, _BINS - 1)

        # One row-wise bincount over ids (tile row, tile col, channel, bin) builds every
        # tile's histogram of every image at once.
        tile_y = (tf.range(hp, dtype="int32") // th)[:, None, None]
        tile_x = (tf.range(wp, dtype="int32") // tw)[None, :, None]
        chan = tf.range(c, dtype="int32")[None, None, :]
        within = ((tile_y * gw + tile_x) * c + chan) * _BINS  # (hp, wp, c)
        ids = tf.reshape(pixels + within[None], [-1, hp * wp * c])
        hists = tf.math.bincount(ids, minlength=gh * gw * c * _BINS, dtype="float32", axis=-1)
        hists = tf.reshape(hists, [-1, gh, gw, c, _BINS])

        area = float(th * tw)
        if self.clip_limit > 0:
            limit = tf.cast(self.clip_limit * area / _BINS, "float32")
            clipped = tf.minimum(hists, limit)
            excess = tf.reduce_sum(hists - clipped, axis=-1, keepdims=True)
            hists = clipped + excess / float(_BINS)

        cdf = tf.cumsum(hists, axis=-1)
        cdf_min = tf.reduce_min(cdf, axis=-1, keepdims=True)
        denom = area - cdf_min
        denom = tf.where(tf.equal(denom, 0.0), tf.ones_like(denom), denom)
        lut = tf.clip_by_value((cdf - cdf_min) * 255.0 / denom, 0.0, 255.0)
        # Edge tiles repeated once on each side, so every pixel has four neighbours.
        lut = tf.concat([lut[:, :1], lut, lut[:, -1:]], axis=1)
        lut = tf.concat([lut[:, :, :1], lut, lut[:, :, -1:]], axis=2)  # (b, gh+2, gw+2, c, 256)

        def neighbours(n, tile, grid):
            """Lower/upper tile-centre index (in the padded grid) and blend weight."""
            pos = (tf.range(n, dtype="float32") - tile / 2.0) / tile + 1.0
            lo = tf.floor(pos)
            weight = pos - lo
            lo_i = tf.cast(tf.clip_by_value(lo, 0.0, grid + 1.0), "int32")
            hi_i = tf.cast(tf.clip_by_value(lo + 1.0, 0.0, grid + 1.0), "int32")
            return lo_i, hi_i, weight

        y0, y1, wy = neighbours(hp, th, gh)
        x0, x1, wx = neighbours(wp, tw, gw)
        y0, y1, wy = (tf.reshape(t, [1, hp, 1, 1]) for t in (y0, y1, wy))
        x0, x1, wx = (tf.reshape(t, [1, 1, wp, 1]) for t in (x0, x1, wx))

        stride_x = c * _BINS
        stride_y = stride_x * (gw + 2)
        stride_b = stride_y * (gh + 2)
        base = (
            tf.range(b, dtype="int32")[:, None, None, None] * stride_b
            + tf.range(c, dtype="int32")[None, None, None, :] * _BINS
            + pixels
        )
        flat = tf.reshape(lut, [-1])

        def at(yi, xi):
            return tf.gather(flat, base + yi * stride_y + xi * stride_x)

        top = at(y0, x0) * (1.0 - wx) + at(y0, x1) * wx
        bottom = at(y1, x0) * (1.0 - wx) + at(y1, x1) * wx
        out = top * (1.0 - wy) + bottom * wy
        return out[:, :h, :w, :]

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "value_range": self.value_range,
            "clip_limit": self.clip_limit,
            "tile_grid_size": self.tile_grid_size,
        }
