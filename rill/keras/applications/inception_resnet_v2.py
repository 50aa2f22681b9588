"""``keras.applications.inception_resnet_v2``: Inception-ResNet v2 (Szegedy et al., 2016),
Inception modules whose outputs are scaled and added back to their inputs."""

from __future__ import annotations

from rill.keras import layers
from rill.keras.applications import _common as c
from rill.keras.applications.imagenet_utils import module_decode, module_preprocess
from rill.keras.config import image_data_format
from rill.keras.layer import Layer

__all__ = ["InceptionResNetV2", "preprocess_input", "decode_predictions"]

BASE_WEIGHT_URL = (
    "https://storage.googleapis.com/tensorflow/keras-applications/inception_resnet_v2/"
)
_HASHES = ("e693bd0210a403b3192acc6073ad2e96", "d19885ff4a710c122648d3b5c3b684e4")


def conv2d_bn(x, filters, kernel_size, strides=1, padding="same", activation="relu",
              use_bias=False, name=None):  # fmt: skip
    """Convolution, then (without bias) batch norm without scale, then the activation."""
    x = layers.Conv2D(filters, kernel_size, strides=strides, padding=padding,
                      use_bias=use_bias, name=name)(x)  # fmt: skip
    if not use_bias:
        x = layers.BatchNormalization(axis=c.channel_axis(), scale=False,
                                      name=None if name is None else f"{name}_bn")(x)  # fmt: skip
    if activation is not None:
        x = layers.Activation(activation, name=None if name is None else f"{name}_ac")(x)
    return x


class CustomScaleLayer(Layer):
    """``inputs[0] + inputs[1] * scale``: the scaled residual addition."""

    def __init__(self, scale, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale

    def get_config(self):
        """The layer's config, with ``scale``."""
        return {**super().get_config(), "scale": self.scale}

    def call(self, inputs):
        """The residual plus the scaled branch."""
        return inputs[0] + inputs[1] * self.scale


# the towers of each block type: lists of (filters, kernel) convolutions
_TOWERS = {
    "block35": (((32, 1),), ((32, 1), (32, 3)), ((32, 1), (48, 3), (64, 3))),
    "block17": (((192, 1),), ((128, 1), (160, [1, 7]), (192, [7, 1]))),
    "block8": (((192, 1),), ((192, 1), (224, [1, 3]), (256, [3, 1]))),
}


def inception_resnet_block(x, scale, block_type, block_idx, activation="relu"):
    """One Inception-ResNet block of ``block_type`` 'block35', 'block17' or 'block8'."""
    if block_type not in _TOWERS:
        raise ValueError(
            "Unknown Inception-ResNet block type. Expects 'block35', 'block17' or 'block8', "
            f"but got: {block_type}"
        )
    branches = []
    for tower in _TOWERS[block_type]:
        y = x
        for filters, kernel in tower:
            y = conv2d_bn(y, filters, kernel)
        branches.append(y)
    block_name = f"{block_type}_{block_idx}"
    axis = c.channel_axis()
    mixed = layers.Concatenate(axis=axis, name=f"{block_name}_mixed")(branches)
    up = conv2d_bn(mixed, x.shape[axis], 1, activation=None, use_bias=True,
                   name=f"{block_name}_conv")  # fmt: skip
    x = CustomScaleLayer(scale)([x, up])
    if activation is not None:
        x = layers.Activation(activation, name=f"{block_name}_ac")(x)
    return x


def InceptionResNetV2(  # noqa: N802
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="inception_resnet_v2",
):
    """Inception-ResNet v2; 299x299 default input, at least 75x75."""
    c.check_weights_arg(weights, include_top, classes)
    input_shape = c.obtain_input_shape(
        input_shape, 299, 75, image_data_format(), include_top, weights
    )
    img_input = c.image_input(input_tensor, input_shape)
    axis = c.channel_axis()
    x = conv2d_bn(img_input, 32, 3, strides=2, padding="valid")
    x = conv2d_bn(x, 32, 3, padding="valid")
    x = conv2d_bn(x, 64, 3)
    x = layers.MaxPooling2D(3, strides=2)(x)
    x = conv2d_bn(x, 80, 1, padding="valid")
    x = conv2d_bn(x, 192, 3, padding="valid")
    x = layers.MaxPooling2D(3, strides=2)(x)
    # mixed 5b: the Inception-A stem block
    b0 = conv2d_bn(x, 96, 1)
    b1 = conv2d_bn(conv2d_bn(x, 48, 1), 64, 5)
    b2 = conv2d_bn(conv2d_bn(conv2d_bn(x, 64, 1), 96, 3), 96, 3)
    bp = conv2d_bn(layers.AveragePooling2D(3, strides=1, padding="same")(x), 64, 1)
    x = layers.Concatenate(axis=axis, name="mixed_5b")([b0, b1, b2, bp])
    for i in range(1, 11):
        x = inception_resnet_block(x, scale=0.17, block_type="block35", block_idx=i)
    # mixed 6a: reduction to 17x17
    b0 = conv2d_bn(x, 384, 3, strides=2, padding="valid")
    b1 = conv2d_bn(conv2d_bn(conv2d_bn(x, 256, 1), 256, 3), 384, 3, strides=2, padding="valid")
    bp = layers.MaxPooling2D(3, strides=2, padding="valid")(x)
    x = layers.Concatenate(axis=axis, name="mixed_6a")([b0, b1, bp])
    for i in range(1, 21):
        x = inception_resnet_block(x, scale=0.1, block_type="block17", block_idx=i)
    # mixed 7a: reduction to 8x8
    b0 = conv2d_bn(conv2d_bn(x, 256, 1), 384, 3, strides=2, padding="valid")
    b1 = conv2d_bn(conv2d_bn(x, 256, 1), 288, 3, strides=2, padding="valid")
    b2 = conv2d_bn(conv2d_bn(conv2d_bn(x, 256, 1), 288, 3), 320, 3, strides=2, padding="valid")
    bp = layers.MaxPooling2D(3, strides=2, padding="valid")(x)
    x = layers.Concatenate(axis=axis, name="mixed_7a")([b0, b1, b2, bp])
    for i in range(1, 10):
        x = inception_resnet_block(x, scale=0.2, block_type="block8", block_idx=i)
    x = inception_resnet_block(x, scale=1.0, activation=None, block_type="block8", block_idx=10)
    x = conv2d_bn(x, 1536, 1, name="conv_7b")
    x = c.classifier_or_pooling(x, include_top, pooling, classes, classifier_activation, weights,
                                pool_names=False)  # fmt: skip

    def remote():
        suffix = "" if include_top else "_notop"
        file_name = f"inception_resnet_v2_weights_tf_dim_ordering_tf_kernels{suffix}.h5"
        return file_name, BASE_WEIGHT_URL + file_name, _HASHES[0 if include_top else 1]

    return c.finish_model(img_input, input_tensor, x, name, weights, remote)


preprocess_input = module_preprocess("tf")
decode_predictions = module_decode()
