"""``keras.applications.efficientnet_v2``: EfficientNetV2 B0-B3, S, M and L (Tan and Le,
2021): fused MBConv blocks early, MBConv blocks with squeeze-and-excitation later."""

from __future__ import annotations

import math

from rill.keras import layers
from rill.keras.applications import _common as c
from rill.keras.applications.efficientnet import (
    CONV_KERNEL_INITIALIZER,
    DENSE_KERNEL_INITIALIZER,
    check_weights_arg,
)
from rill.keras.applications.imagenet_utils import module_decode
from rill.keras.config import image_data_format

__all__ = [
    "EfficientNetV2B0", "EfficientNetV2B1", "EfficientNetV2B2", "EfficientNetV2B3",
    "EfficientNetV2S", "EfficientNetV2M", "EfficientNetV2L",
    "preprocess_input", "decode_predictions",
]  # fmt: skip

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/efficientnet_v2/"
# (with top, without top) MD5 of the published weight files
WEIGHTS_HASHES = {
    "b0": ("21ecbf6da12460d5c40bb2f29ceb2188", "893217f2bb855e2983157299931e43ff"),
    "b1": ("069f0534ff22adf035c89e2d9547a9dc", "0e80663031ca32d657f9caa404b6ec37"),
    "b2": ("424e49f28180edbde1e94797771950a7", "1dfe2e7a5d45b6632553a8961ea609eb"),
    "b3": ("1f1fc43bd98a6e4fd8fdfd551e02c7a0", "f6abf7b5849ac99a89b50dd3fd532856"),
    "-s": ("e1d88a8495beba45748fedd0cecbe016", "af0682fb74e8c54910f2d4393339c070"),
    "-m": ("a3bf6aa3276309f4fc6a34aa114c95cd", "1b8dc055df72dde80d614482840fe342"),
    "-l": ("27e6d408b53c7ebc868fefa357689935", "b0b66b5c863aef5b46e8608fe1711615"),
}
_KEYS = ("kernel_size", "num_repeat", "input_filters", "output_filters", "expand_ratio",
         "se_ratio", "strides", "conv_type")  # fmt: skip
# conv_type 1: fused MBConv, 0: MBConv; the B variants share one table
_B_TABLE = ((3, 1, 32, 16, 1, 0, 1, 1), (3, 2, 16, 32, 4, 0, 2, 1), (3, 2, 32, 48, 4, 0, 2, 1),
            (3, 3, 48, 96, 4, 0.25, 2, 0), (3, 5, 96, 112, 6, 0.25, 1, 0),
            (3, 8, 112, 192, 6, 0.25, 2, 0))  # fmt: skip
_TABLES = {
    "-s": ((3, 2, 24, 24, 1, 0.0, 1, 1), (3, 4, 24, 48, 4, 0.0, 2, 1),
           (3, 4, 48, 64, 4, 0, 2, 1), (3, 6, 64, 128, 4, 0.25, 2, 0),
           (3, 9, 128, 160, 6, 0.25, 1, 0), (3, 15, 160, 256, 6, 0.25, 2, 0)),
    "-m": ((3, 3, 24, 24, 1, 0, 1, 1), (3, 5, 24, 48, 4, 0, 2, 1), (3, 5, 48, 80, 4, 0, 2, 1),
           (3, 7, 80, 160, 4, 0.25, 2, 0), (3, 14, 160, 176, 6, 0.25, 1, 0),
           (3, 18, 176, 304, 6, 0.25, 2, 0), (3, 5, 304, 512, 6, 0.25, 1, 0)),
    "-l": ((3, 4, 32, 32, 1, 0, 1, 1), (3, 7, 32, 64, 4, 0, 2, 1), (3, 7, 64, 96, 4, 0, 2, 1),
           (3, 10, 96, 192, 4, 0.25, 2, 0), (3, 19, 192, 224, 6, 0.25, 1, 0),
           (3, 25, 224, 384, 6, 0.25, 2, 0), (3, 7, 384, 640, 6, 0.25, 1, 0)),
    "b0": _B_TABLE, "b1": _B_TABLE, "b2": _B_TABLE, "b3": _B_TABLE,
}  # fmt: skip
DEFAULT_BLOCKS_ARGS = {
    f"efficientnetv2-{k.lstrip('-')}": [dict(zip(_KEYS, row)) for row in table]
    for k, table in _TABLES.items()
}


def round_filters(filters, width_coefficient, min_depth, depth_divisor) -> int:
    """Channels scaled by the width coefficient, rounded to the divisor."""
    filters *= width_coefficient
    minimum = min_depth or depth_divisor
    return int(max(minimum, int(filters + depth_divisor / 2) // depth_divisor * depth_divisor))


def round_repeats(repeats, depth_coefficient) -> int:
    """Block repeats scaled by the depth coefficient, rounded up."""
    return int(math.ceil(depth_coefficient * repeats))


def _conv(filters, kernel, name, **kw):
    return layers.Conv2D(filters, kernel, padding="same",
                         kernel_initializer=CONV_KERNEL_INITIALIZER, name=name, **kw)  # fmt: skip


def _se(x, input_filters, filters, se_ratio, activation, name):
    se = layers.GlobalAveragePooling2D(name=f"{name}se_squeeze")(x)
    shape = (filters, 1, 1) if c.channel_axis() == 1 else (1, 1, filters)
    se = layers.Reshape(shape, name=f"{name}se_reshape")(se)
    se = _conv(max(1, int(input_filters * se_ratio)), 1, f"{name}se_reduce",
               activation=activation)(se)  # fmt: skip
    se = _conv(filters, 1, f"{name}se_expand", activation="sigmoid")(se)
    return layers.multiply([x, se], name=f"{name}se_excite")


def _residual(x, inputs, survival_probability, name):
    # Keras passes the "survival probability" to Dropout as its rate; kept for parity
    if survival_probability:
        x = layers.Dropout(survival_probability, noise_shape=(None, 1, 1, 1),
                           name=f"{name}drop")(x)  # fmt: skip
    return layers.add([x, inputs], name=f"{name}add")


def MBConvBlock(input_filters, output_filters, expand_ratio=1, kernel_size=3, strides=1,  # noqa: N802
                se_ratio=0.0, bn_momentum=0.9, activation="swish", survival_probability=0.8,
                name=None):  # fmt: skip
    """An MBConv block (1x1 expansion, depthwise convolution, squeeze-excite, 1x1
    projection), as a function of its input tensor."""
    if name is None:
        from rill.keras.backend import get_uid

        name = get_uid("block0")
    axis = c.channel_axis()

    def apply(inputs):
        filters = input_filters * expand_ratio
        x = inputs
        if expand_ratio != 1:
            x = _conv(filters, 1, f"{name}expand_conv", strides=1, use_bias=False)(x)
            x = layers.BatchNormalization(axis=axis, momentum=bn_momentum,
                                          name=f"{name}expand_bn")(x)  # fmt: skip
            x = layers.Activation(activation, name=f"{name}expand_activation")(x)
        x = layers.DepthwiseConv2D(kernel_size=kernel_size, strides=strides,
                                   depthwise_initializer=CONV_KERNEL_INITIALIZER,
                                   padding="same", use_bias=False, name=f"{name}dwconv2")(x)  # fmt: skip
        x = layers.BatchNormalization(axis=axis, momentum=bn_momentum, name=f"{name}bn")(x)
        x = layers.Activation(activation, name=f"{name}activation")(x)
        if 0 < se_ratio <= 1:
            x = _se(x, input_filters, filters, se_ratio, activation, name)
        x = _conv(output_filters, 1, f"{name}project_conv", strides=1, use_bias=False)(x)
        x = layers.BatchNormalization(axis=axis, momentum=bn_momentum,
                                      name=f"{name}project_bn")(x)  # fmt: skip
        if strides == 1 and input_filters == output_filters:
            x = _residual(x, inputs, survival_probability, name)
        return x

    return apply


def FusedMBConvBlock(input_filters, output_filters, expand_ratio=1, kernel_size=3,  # noqa: N802
                     strides=1, se_ratio=0.0, bn_momentum=0.9, activation="swish",
                     survival_probability=0.8, name=None):  # fmt: skip
    """A fused MBConv block (one full kxk expansion convolution in place of the 1x1
    expansion and the depthwise convolution), as a function of its input tensor."""
    if name is None:
        from rill.keras.backend import get_uid

        name = get_uid("block0")
    axis = c.channel_axis()

    def apply(inputs):
        filters = input_filters * expand_ratio
        x = inputs
        if expand_ratio != 1:
            x = _conv(filters, kernel_size, f"{name}expand_conv", strides=strides,
                      use_bias=False)(x)  # fmt: skip
            x = layers.BatchNormalization(axis=axis, momentum=bn_momentum,
                                          name=f"{name}expand_bn")(x)  # fmt: skip
            x = layers.Activation(activation=activation, name=f"{name}expand_activation")(x)
        if 0 < se_ratio <= 1:
            x = _se(x, input_filters, filters, se_ratio, activation, name)
        fused = expand_ratio == 1  # no expansion: the projection does the kxk work
        x = _conv(output_filters, kernel_size if fused else 1, f"{name}project_conv",
                  strides=strides if fused else 1, use_bias=False)(x)  # fmt: skip
        x = layers.BatchNormalization(axis=axis, momentum=bn_momentum,
                                      name=f"{name}project_bn")(x)  # fmt: skip
        if fused:
            x = layers.Activation(activation=activation, name=f"{name}project_activation")(x)
        if strides == 1 and input_filters == output_filters:
            x = _residual(x, inputs, survival_probability, name)
        return x

    return apply


def EfficientNetV2(  # noqa: N802 - Keras' name
    width_coefficient,
    depth_coefficient,
    default_size,
    dropout_rate=0.2,
    drop_connect_rate=0.2,
    depth_divisor=8,
    min_depth=8,
    bn_momentum=0.9,
    activation="swish",
    blocks_args="default",
    name="efficientnetv2",
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    include_preprocessing=True,
    weights_name=None,
):
    """An EfficientNetV2 built from ``blocks_args`` (default: the table of
    ``weights_name``'s variant)."""
    if blocks_args == "default":
        blocks_args = [dict(zip(_KEYS, row)) for row in _TABLES[weights_name]]
    check_weights_arg(weights, include_top, classes, received=True)
    input_shape = c.obtain_input_shape(
        input_shape, default_size, 32, image_data_format(), include_top, weights
    )
    img_input = c.image_input(input_tensor, input_shape)
    axis = c.channel_axis()

    def filters_of(n):
        return round_filters(n, width_coefficient, min_depth, depth_divisor)

    x = img_input
    if include_preprocessing:
        # the B variants were trained on ImageNet-normalised input, S/M/L on [-1, 1]
        if str(weights_name).startswith("b") and input_shape[axis - 1] == 3:
            x = layers.Rescaling(scale=1.0 / 255)(x)
            x = layers.Normalization(mean=[0.485, 0.456, 0.406],
                                     variance=[0.229**2, 0.224**2, 0.225**2], axis=axis)(x)  # fmt: skip
        else:
            x = layers.Rescaling(scale=1.0 / 128.0, offset=-1)(x)
    x = _conv(filters_of(blocks_args[0]["input_filters"]), 3, "stem_conv", strides=2,
              use_bias=False)(x)  # fmt: skip
    x = layers.BatchNormalization(axis=axis, momentum=bn_momentum, name="stem_bn")(x)
    x = layers.Activation(activation, name="stem_activation")(x)
    total = float(sum(a["num_repeat"] for a in blocks_args))
    b = 0
    for i, args in enumerate(blocks_args):
        if args["num_repeat"] <= 0:
            raise ValueError(
                "The number of repeats in `EfficientNetV2` must be > 0. Received: "
                f"num_repeat={args['num_repeat']}"
            )
        args = dict(args)
        args["input_filters"] = filters_of(args["input_filters"])
        args["output_filters"] = filters_of(args["output_filters"])
        make = FusedMBConvBlock if args.pop("conv_type") == 1 else MBConvBlock
        for j in range(round_repeats(args.pop("num_repeat"), depth_coefficient)):
            if j > 0:
                args["strides"] = 1
                args["input_filters"] = args["output_filters"]
            x = make(activation=activation, bn_momentum=bn_momentum,
                     survival_probability=drop_connect_rate * b / total,
                     name=f"block{i + 1}{chr(j + 97)}_", **args)(x)  # fmt: skip
            b += 1
    x = _conv(filters_of(1280), 1, "top_conv", strides=1, use_bias=False)(x)
    x = layers.BatchNormalization(axis=axis, momentum=bn_momentum, name="top_bn")(x)
    x = layers.Activation(activation=activation, name="top_activation")(x)
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        if dropout_rate > 0:
            x = layers.Dropout(dropout_rate, name="top_dropout")(x)
        c.validate_activation(classifier_activation, weights)
        x = layers.Dense(classes, activation=classifier_activation,
                         kernel_initializer=DENSE_KERNEL_INITIALIZER,
                         bias_initializer="zeros", name="predictions")(x)  # fmt: skip
    else:
        x = c.classifier_or_pooling(x, False, pooling, classes, None, weights)

    def remote():
        file_name = f"efficientnetv2-{weights_name.lstrip('-')}" + (
            ".h5" if include_top else "_notop.h5"
        )
        file_hash = WEIGHTS_HASHES[weights_name][0 if include_top else 1]
        return file_name, BASE_WEIGHTS_PATH + file_name, file_hash

    return c.finish_model(img_input, input_tensor, x, name, weights, remote)


# (width, depth, default size) of each member of the family
_FAMILY = {"b0": (1.0, 1.0, 224), "b1": (1.0, 1.1, 240), "b2": (1.1, 1.2, 260),
           "b3": (1.2, 1.4, 300), "-s": (1.0, 1.0, 384), "-m": (1.0, 1.0, 480),
           "-l": (1.0, 1.0, 480)}  # fmt: skip


def _member(key: str):
    width, depth, size = _FAMILY[key]
    suffix = key.lstrip("-")

    def constructor(
        include_top=True,
        weights="imagenet",
        input_tensor=None,
        input_shape=None,
        pooling=None,
        classes=1000,
        classifier_activation="softmax",
        include_preprocessing=True,
        name=f"efficientnetv2-{suffix}",
    ):
        return EfficientNetV2(width, depth, size, name=name, include_top=include_top,
                              weights=weights, input_tensor=input_tensor,
                              input_shape=input_shape, pooling=pooling, classes=classes,
                              classifier_activation=classifier_activation,
                              include_preprocessing=include_preprocessing,
                              weights_name=key)  # fmt: skip

    public_name = f"EfficientNetV2{suffix.upper()}"
    doc = f"{public_name}: {size}x{size} default inputs in [0, 255]."
    return c.named_constructor(constructor, public_name, doc, __name__)


EfficientNetV2B0 = _member("b0")
EfficientNetV2B1 = _member("b1")
EfficientNetV2B2 = _member("b2")
EfficientNetV2B3 = _member("b3")
EfficientNetV2S = _member("-s")
EfficientNetV2M = _member("-m")
EfficientNetV2L = _member("-l")


def preprocess_input(x, data_format=None):
    """The identity: EfficientNetV2 preprocesses its input inside the network."""
    return x


decode_predictions = module_decode()
