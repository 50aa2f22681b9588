"""``keras.applications.inception_v3``: Inception v3 (Szegedy et al., 2015)."""

from __future__ import annotations

from rill.keras import layers
from rill.keras.applications import _common as c
from rill.keras.applications.imagenet_utils import module_decode, module_preprocess
from rill.keras.config import image_data_format

__all__ = ["InceptionV3", "preprocess_input", "decode_predictions"]

_BASE = "https://storage.googleapis.com/tensorflow/keras-applications/inception_v3/"
_HASHES = ("9a0d58056eeedaa3f26cb7ebd46da564", "bcbd6486424b2319ff4ef7d526e38f63")


def conv2d_bn(x, filters, num_row, num_col, padding="same", strides=(1, 1), name=None):
    """Convolution without bias, batch norm without scale, and ReLU."""
    axis = 1 if image_data_format() == "channels_first" else 3
    x = layers.Conv2D(filters, (num_row, num_col), strides=strides, padding=padding,
                      use_bias=False, name=None if name is None else f"{name}_conv")(x)  # fmt: skip
    x = layers.BatchNormalization(axis=axis, scale=False,
                                  name=None if name is None else f"{name}_bn")(x)  # fmt: skip
    return layers.Activation("relu", name=name)(x)


def _avg_branch(x, filters):
    y = layers.AveragePooling2D((3, 3), strides=(1, 1), padding="same")(x)
    return conv2d_bn(y, filters, 1, 1)


def _chain(x, specs):
    # consecutive conv2d_bn layers: (filters, rows, cols[, strides, padding])
    for spec in specs:
        filters, rows, cols, *rest = spec
        strides, padding = rest if rest else ((1, 1), "same")
        x = conv2d_bn(x, filters, rows, cols, padding=padding, strides=strides)
    return x


def _block_a(x, pool_filters, name, axis):
    # 35x35 module: 1x1, 5x5 and double-3x3 towers and an average-pool projection
    b1 = conv2d_bn(x, 64, 1, 1)
    b5 = _chain(x, ((48, 1, 1), (64, 5, 5)))
    b3 = _chain(x, ((64, 1, 1), (96, 3, 3), (96, 3, 3)))
    return layers.concatenate([b1, b5, b3, _avg_branch(x, pool_filters)], axis=axis, name=name)


def _block_c(x, mid, name, axis):
    # 17x17 module: factorised 7x7 towers (1x7 then 7x1) of width ``mid``
    b1 = conv2d_bn(x, 192, 1, 1)
    b7 = _chain(x, ((mid, 1, 1), (mid, 1, 7), (192, 7, 1)))
    b7d = _chain(x, ((mid, 1, 1), (mid, 7, 1), (mid, 1, 7), (mid, 7, 1), (192, 1, 7)))
    return layers.concatenate([b1, b7, b7d, _avg_branch(x, 192)], axis=axis, name=name)


def InceptionV3(  # noqa: N802
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="inception_v3",
):
    """Inception v3; 299x299 default input, at least 75x75."""
    c.check_weights_arg(weights, include_top, classes)
    input_shape = c.obtain_input_shape(
        input_shape, 299, 75, image_data_format(), include_top, weights
    )
    img_input = c.image_input(input_tensor, input_shape)
    axis = 1 if image_data_format() == "channels_first" else 3
    valid2 = ((2, 2), "valid")
    x = _chain(img_input, ((32, 3, 3, *valid2), (32, 3, 3, (1, 1), "valid"), (64, 3, 3)))
    x = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    x = _chain(x, ((80, 1, 1, (1, 1), "valid"), (192, 3, 3, (1, 1), "valid")))
    x = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    x = _block_a(x, 32, "mixed0", axis)
    x = _block_a(x, 64, "mixed1", axis)
    x = _block_a(x, 64, "mixed2", axis)
    # reduction to 17x17
    b3 = conv2d_bn(x, 384, 3, 3, strides=(2, 2), padding="valid")
    b3d = _chain(x, ((64, 1, 1), (96, 3, 3), (96, 3, 3, *valid2)))
    pool = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    x = layers.concatenate([b3, b3d, pool], axis=axis, name="mixed3")
    x = _block_c(x, 128, "mixed4", axis)
    x = _block_c(x, 160, "mixed5", axis)
    x = _block_c(x, 160, "mixed6", axis)
    x = _block_c(x, 192, "mixed7", axis)
    # reduction to 8x8
    b3 = _chain(x, ((192, 1, 1), (320, 3, 3, *valid2)))
    b7 = _chain(x, ((192, 1, 1), (192, 1, 7), (192, 7, 1), (192, 3, 3, *valid2)))
    pool = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    x = layers.concatenate([b3, b7, pool], axis=axis, name="mixed8")
    for i in range(2):
        b1 = conv2d_bn(x, 320, 1, 1)
        b3 = conv2d_bn(x, 384, 1, 1)
        b3 = layers.concatenate([conv2d_bn(b3, 384, 1, 3), conv2d_bn(b3, 384, 3, 1)],
                                axis=axis, name=f"mixed9_{i}")  # fmt: skip
        b3d = _chain(x, ((448, 1, 1), (384, 3, 3)))
        b3d = layers.concatenate([conv2d_bn(b3d, 384, 1, 3), conv2d_bn(b3d, 384, 3, 1)],
                                 axis=axis)  # fmt: skip
        x = layers.concatenate([b1, b3, b3d, _avg_branch(x, 192)], axis=axis,
                               name=f"mixed{9 + i}")  # fmt: skip
    x = c.classifier_or_pooling(x, include_top, pooling, classes, classifier_activation, weights,
                                pool_names=False)  # fmt: skip

    def remote():
        suffix = "" if include_top else "_notop"
        file_name = f"inception_v3_weights_tf_dim_ordering_tf_kernels{suffix}.h5"
        return file_name, _BASE + file_name, _HASHES[0 if include_top else 1]

    return c.finish_model(img_input, input_tensor, x, name, weights, remote)


preprocess_input = module_preprocess("tf")
decode_predictions = module_decode()
