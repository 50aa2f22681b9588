"""Projective sampling of image batches whose batch size may be unknown until run time.

``keras.ops.image.affine_transform`` reshapes with the static batch size, which a
``keras.Input`` or a ``rill.function`` with a ``None`` batch does not have; this sampler
follows the same rules (TensorFlow's ``ImageProjectiveTransformV3``: fill modes, nearest
rounding half away from zero, bilinear weights) with shapes taken at run time.
"""

from __future__ import annotations

import numpy as np

import rill as tf

__all__ = ["projective_warp"]


def projective_warp(images, transforms, interpolation, fill_mode, fill_value, data_format):
    """Rank-4 ``images`` sampled through (batch, 8) projective ``transforms``."""
    from rill.keras.ops.image import _map_coordinate, _round_half_away

    first = data_format == "channels_first"
    x = tf.transpose(images, [0, 2, 3, 1]) if first else images
    _, h, w, c = x.shape.as_list()
    if h is None or w is None or c is None:
        dyn = tf.shape(x)
        h = h if h is not None else dyn[1]
        w = w if w is not None else dyn[2]
        c = c if c is not None else dyn[3]
    if not all(isinstance(d, int) for d in (h, w, c)):
        raise ValueError(
            f"Image augmentation needs static height, width and channels; got {images.shape}"
        )
    t = tf.reshape(tf.cast(transforms, "float32"), [-1, 8])
    ys, xs = np.meshgrid(np.arange(h, dtype=np.float32), np.arange(w, dtype=np.float32),
                         indexing="ij")  # fmt: skip
    xs, ys = tf.constant(xs.reshape(1, -1)), tf.constant(ys.reshape(1, -1))
    a0, a1, a2, b0, b1, b2, c0, c1 = (t[:, i : i + 1] for i in range(8))
    k = c0 * xs + c1 * ys + 1.0
    safe = tf.where(tf.equal(k, 0), tf.ones_like(k), k)
    x_in = _map_coordinate((a0 * xs + a1 * ys + a2) / safe, w, fill_mode)
    y_in = _map_coordinate((b0 * xs + b1 * ys + b2) / safe, h, fill_mode)
    work = x.dtype if x.dtype.is_floating else tf.float32
    flat = tf.reshape(tf.cast(x, work), [-1, h * w, c])
    fill = tf.cast(fill_value, work)

    def read(yy, xx):
        inside = (yy >= 0) & (yy <= h - 1) & (xx >= 0) & (xx <= w - 1)
        yi = tf.cast(tf.clip_by_value(yy, 0.0, float(h - 1)), "int32")
        xi = tf.cast(tf.clip_by_value(xx, 0.0, float(w - 1)), "int32")
        vals = tf.gather(flat, yi * w + xi, batch_dims=1)
        return tf.where(tf.expand_dims(inside, -1), vals, fill)

    if interpolation == "nearest":
        out = read(_round_half_away(y_in), _round_half_away(x_in))
    else:
        y0, x0 = tf.floor(y_in), tf.floor(x_in)
        wy1, wx1 = tf.expand_dims(y_in - y0, -1), tf.expand_dims(x_in - x0, -1)
        wy0, wx0 = 1.0 - wy1, 1.0 - wx1
        top = wx0 * read(y0, x0) + wx1 * read(y0, x0 + 1)
        bottom = wx0 * read(y0 + 1, x0) + wx1 * read(y0 + 1, x0 + 1)
        out = wy0 * top + wy1 * bottom
    out = tf.where(tf.expand_dims(tf.equal(k, 0), -1), fill, out)
    out = tf.cast(tf.reshape(out, tf.shape(x)), images.dtype)
    return tf.transpose(out, [0, 3, 1, 2]) if first else out
