"""``keras.applications.xception``: Xception (Chollet, 2017), depthwise separable
convolutions with residual connections."""

from __future__ import annotations

from rill.keras import layers
from rill.keras.applications import _common as c
from rill.keras.applications.imagenet_utils import module_decode, module_preprocess
from rill.keras.config import image_data_format

__all__ = ["Xception", "preprocess_input", "decode_predictions"]

_BASE = "https://storage.googleapis.com/tensorflow/keras-applications/xception/"
_HASHES = ("0a58e3b7378bc2990ea3b43d5981f1f6", "b0042744bf5b25fce3cb969f33bebb97")


def _sep(x, filters, name, axis, act_first, act_name=None):
    # an optional ReLU, a 3x3 separable convolution, and its batch norm
    if act_first:
        x = layers.Activation("relu", name=act_name or f"{name}_act")(x)
    x = layers.SeparableConv2D(filters, (3, 3), padding="same", use_bias=False, name=name)(x)
    return layers.BatchNormalization(axis=axis, name=f"{name}_bn")(x)


def _down_block(x, block, filters, axis, first_act=True):
    # two separable convolutions and a strided max pool, plus a strided 1x1 projection
    residual = layers.Conv2D(filters[1], (1, 1), strides=(2, 2), padding="same",
                             use_bias=False)(x)  # fmt: skip
    residual = layers.BatchNormalization(axis=axis)(residual)
    x = _sep(x, filters[0], f"block{block}_sepconv1", axis, first_act)
    x = _sep(x, filters[1], f"block{block}_sepconv2", axis, True)
    x = layers.MaxPooling2D((3, 3), strides=(2, 2), padding="same", name=f"block{block}_pool")(x)
    return layers.add([x, residual])


def Xception(  # noqa: N802
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="xception",
):
    """Xception: entry, middle (8 residual blocks) and exit flows; 299x299 default input,
    at least 71x71."""
    c.check_weights_arg(weights, include_top, classes)
    input_shape = c.obtain_input_shape(
        input_shape, 299, 71, image_data_format(), include_top, weights
    )
    img_input = c.image_input(input_tensor, input_shape)
    axis = 1 if image_data_format() == "channels_first" else -1
    x = layers.Conv2D(32, (3, 3), strides=(2, 2), use_bias=False, name="block1_conv1")(img_input)
    x = layers.BatchNormalization(axis=axis, name="block1_conv1_bn")(x)
    x = layers.Activation("relu", name="block1_conv1_act")(x)
    x = layers.Conv2D(64, (3, 3), use_bias=False, name="block1_conv2")(x)
    x = layers.BatchNormalization(axis=axis, name="block1_conv2_bn")(x)
    x = layers.Activation("relu", name="block1_conv2_act")(x)
    # block 2 follows the stem's ReLU directly; its second ReLU is named after sepconv2
    residual = layers.Conv2D(128, (1, 1), strides=(2, 2), padding="same", use_bias=False)(x)
    residual = layers.BatchNormalization(axis=axis)(residual)
    x = _sep(x, 128, "block2_sepconv1", axis, False)
    x = _sep(x, 128, "block2_sepconv2", axis, True, act_name="block2_sepconv2_act")
    x = layers.MaxPooling2D((3, 3), strides=(2, 2), padding="same", name="block2_pool")(x)
    x = layers.add([x, residual])
    x = _down_block(x, 3, (256, 256), axis)
    x = _down_block(x, 4, (728, 728), axis)
    for i in range(5, 13):
        residual = x
        for j in (1, 2, 3):
            x = _sep(x, 728, f"block{i}_sepconv{j}", axis, True)
        x = layers.add([x, residual])
    x = _down_block(x, 13, (728, 1024), axis)
    x = layers.SeparableConv2D(1536, (3, 3), padding="same", use_bias=False,
                               name="block14_sepconv1")(x)  # fmt: skip
    x = layers.BatchNormalization(axis=axis, name="block14_sepconv1_bn")(x)
    x = layers.Activation("relu", name="block14_sepconv1_act")(x)
    x = layers.SeparableConv2D(2048, (3, 3), padding="same", use_bias=False,
                               name="block14_sepconv2")(x)  # fmt: skip
    x = layers.BatchNormalization(axis=axis, name="block14_sepconv2_bn")(x)
    x = layers.Activation("relu", name="block14_sepconv2_act")(x)
    x = c.classifier_or_pooling(x, include_top, pooling, classes, classifier_activation, weights,
                                pool_names=False)  # fmt: skip

    def remote():
        suffix = "" if include_top else "_notop"
        file_name = f"xception_weights_tf_dim_ordering_tf_kernels{suffix}.h5"
        return file_name, _BASE + file_name, _HASHES[0 if include_top else 1]

    return c.finish_model(img_input, input_tensor, x, name, weights, remote)


preprocess_input = module_preprocess("tf")
decode_predictions = module_decode()
