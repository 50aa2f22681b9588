"""``keras.applications.efficientnet``: EfficientNet B0-B7 (Tan and Le, 2019), MBConv
blocks with squeeze-and-excitation, scaled in width, depth and resolution."""

from __future__ import annotations

import functools
import math

from rill.keras import layers
from rill.keras.applications import _common as c
from rill.keras.applications.imagenet_utils import module_decode
from rill.keras.config import image_data_format

__all__ = [f"EfficientNetB{i}" for i in range(8)] + ["preprocess_input", "decode_predictions"]

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/keras-applications/"
# (with top, without top) MD5 of the published weight files
WEIGHTS_HASHES = {
    "b0": ("902e53a9f72be733fc0bcb005b3ebbac", "50bc09e76180e00e4465e1a485ddc09d"),
    "b1": ("1d254153d4ab51201f1646940f018540", "74c4e6b3e1f6a1eea24c589628592432"),
    "b2": ("b15cce36ff4dcbd00b6dd88e7857a6ad", "111f8e2ac8aa800a7a99e3239f7bfb39"),
    "b3": ("ffd1fdc53d0ce67064dc6a9c7960ede0", "af6d107764bb5b1abb91932881670226"),
    "b4": ("18c95ad55216b8f92d7e70b3a046e2fc", "ebc24e6d6c33eaebbd558eafbeedf1ba"),
    "b5": ("ace28f2a6363774853a83a0b21b9421a", "38879255a25d3c92d5e44e04ae6cec6f"),
    "b6": ("165f6e37dce68623721b423839de8be5", "9ecce42647a20130c1f39a5d4cb75743"),
    "b7": ("8c03f828fec3ef71311cd463b6759d99", "cbcfe4450ddf6f3ad90b1b398090fe4a"),
}
_KEYS = ("kernel_size", "repeats", "filters_in", "filters_out", "expand_ratio", "id_skip",
         "strides", "se_ratio")  # fmt: skip
DEFAULT_BLOCKS_ARGS = [
    dict(zip(_KEYS, row))
    for row in (
        (3, 1, 32, 16, 1, True, 1, 0.25),
        (3, 2, 16, 24, 6, True, 2, 0.25),
        (5, 2, 24, 40, 6, True, 2, 0.25),
        (3, 3, 40, 80, 6, True, 2, 0.25),
        (5, 3, 80, 112, 6, True, 1, 0.25),
        (5, 4, 112, 192, 6, True, 2, 0.25),
        (3, 1, 192, 320, 6, True, 1, 0.25),
    )
]
CONV_KERNEL_INITIALIZER = {
    "class_name": "VarianceScaling",
    "config": {"scale": 2.0, "mode": "fan_out", "distribution": "truncated_normal"},
}
DENSE_KERNEL_INITIALIZER = {
    "class_name": "VarianceScaling",
    "config": {"scale": 1.0 / 3.0, "mode": "fan_out", "distribution": "uniform"},
}
IMAGENET_STDDEV_RGB = [0.229, 0.224, 0.225]


def _conv(filters, kernel, name, **kw):
    return layers.Conv2D(filters, kernel, padding=kw.pop("padding", "same"),
                         kernel_initializer=CONV_KERNEL_INITIALIZER, name=name, **kw)  # fmt: skip


def block(inputs, activation="swish", drop_rate=0.0, name="", filters_in=32, filters_out=16,
          kernel_size=3, strides=1, expand_ratio=1, se_ratio=0.0, id_skip=True):  # fmt: skip
    """One MBConv block: 1x1 expansion, depthwise convolution, squeeze-and-excitation,
    1x1 projection, and a residual with stochastic depth when shapes allow."""
    bn_axis = c.channel_axis()
    filters = filters_in * expand_ratio
    x = inputs
    if expand_ratio != 1:
        x = _conv(filters, 1, f"{name}expand_conv", use_bias=False)(x)
        x = layers.BatchNormalization(axis=bn_axis, name=f"{name}expand_bn")(x)
        x = layers.Activation(activation, name=f"{name}expand_activation")(x)
    if strides == 2:
        pad = c.correct_pad(x, kernel_size)
        x = layers.ZeroPadding2D(padding=pad, name=f"{name}dwconv_pad")(x)
    x = layers.DepthwiseConv2D(kernel_size, strides=strides,
                               padding="valid" if strides == 2 else "same", use_bias=False,
                               depthwise_initializer=CONV_KERNEL_INITIALIZER,
                               name=f"{name}dwconv")(x)  # fmt: skip
    x = layers.BatchNormalization(axis=bn_axis, name=f"{name}bn")(x)
    x = layers.Activation(activation, name=f"{name}activation")(x)
    if 0 < se_ratio <= 1:
        se = layers.GlobalAveragePooling2D(name=f"{name}se_squeeze")(x)
        se_shape = (filters, 1, 1) if bn_axis == 1 else (1, 1, filters)
        se = layers.Reshape(se_shape, name=f"{name}se_reshape")(se)
        reduced = max(1, int(filters_in * se_ratio))
        se = _conv(reduced, 1, f"{name}se_reduce", activation=activation)(se)
        se = _conv(filters, 1, f"{name}se_expand", activation="sigmoid")(se)
        x = layers.multiply([x, se], name=f"{name}se_excite")
    x = _conv(filters_out, 1, f"{name}project_conv", use_bias=False)(x)
    x = layers.BatchNormalization(axis=bn_axis, name=f"{name}project_bn")(x)
    if id_skip and strides == 1 and filters_in == filters_out:
        if drop_rate > 0:
            # stochastic depth: drop the whole residual branch per sample
            x = layers.Dropout(drop_rate, noise_shape=(None, 1, 1, 1), name=f"{name}drop")(x)
        x = layers.add([x, inputs], name=f"{name}add")
    return x


def check_weights_arg(weights, include_top, classes, received=False):
    """The EfficientNets' (v1 and v2) checks of ``weights``; v2's error ends with the
    value (``received``)."""
    if not c.weights_ok(weights):
        raise ValueError(
            "The `weights` argument should be either `None` (random initialization), "
            "`imagenet` (pre-training on ImageNet), or the path to the weights file to be "
            "loaded." + (f"Received: weights={weights}" if received else "")
        )
    if weights == "imagenet" and include_top and classes != 1000:
        raise ValueError(
            'If using `weights="imagenet"` with `include_top` as true, `classes` should be 1000'
        )


def EfficientNet(  # noqa: N802 - Keras' name
    width_coefficient,
    depth_coefficient,
    default_size,
    dropout_rate=0.2,
    drop_connect_rate=0.2,
    depth_divisor=8,
    activation="swish",
    blocks_args="default",
    name="efficientnet",
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    weights_name=None,
):
    """An EfficientNet scaled by ``width_coefficient`` (channels) and
    ``depth_coefficient`` (block repeats); inputs in [0, 255]."""
    if blocks_args == "default":
        blocks_args = DEFAULT_BLOCKS_ARGS
    check_weights_arg(weights, include_top, classes)
    input_shape = c.obtain_input_shape(
        input_shape, default_size, 32, image_data_format(), include_top, weights
    )
    img_input = c.image_input(input_tensor, input_shape)
    bn_axis = c.channel_axis()

    def round_filters(filters):
        return c.make_divisible(filters * width_coefficient, depth_divisor)

    def round_repeats(repeats):
        return int(math.ceil(depth_coefficient * repeats))

    x = layers.Rescaling(1.0 / 255.0)(img_input)
    x = layers.Normalization(axis=bn_axis)(x)
    if weights == "imagenet":
        # the published weights store variances where the network wants std devs; Keras
        # compensates with this extra rescaling, which the weights rely on
        x = layers.Rescaling([1.0 / math.sqrt(s) for s in IMAGENET_STDDEV_RGB])(x)
    x = layers.ZeroPadding2D(padding=c.correct_pad(x, 3), name="stem_conv_pad")(x)
    x = _conv(round_filters(32), 3, "stem_conv", strides=2, padding="valid", use_bias=False)(x)
    x = layers.BatchNormalization(axis=bn_axis, name="stem_bn")(x)
    x = layers.Activation(activation, name="stem_activation")(x)
    total = float(sum(round_repeats(a["repeats"]) for a in blocks_args))
    b = 0
    for i, args in enumerate(blocks_args):
        if args["repeats"] <= 0:
            raise ValueError(
                "The number of repeats in `EfficientNet` must be > 0. Received: "
                f"repeats={args['repeats']}"
            )
        args = dict(args)
        args["filters_in"] = round_filters(args["filters_in"])
        args["filters_out"] = round_filters(args["filters_out"])
        for j in range(round_repeats(args.pop("repeats"))):
            if j > 0:
                args["strides"] = 1
                args["filters_in"] = args["filters_out"]
            x = block(x, activation, drop_connect_rate * b / total,
                      name=f"block{i + 1}{chr(j + 97)}_", **args)  # fmt: skip
            b += 1
    x = _conv(round_filters(1280), 1, "top_conv", use_bias=False)(x)
    x = layers.BatchNormalization(axis=bn_axis, name="top_bn")(x)
    x = layers.Activation(activation, name="top_activation")(x)
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        if dropout_rate > 0:
            x = layers.Dropout(dropout_rate, name="top_dropout")(x)
        c.validate_activation(classifier_activation, weights)
        x = layers.Dense(classes, activation=classifier_activation,
                         kernel_initializer=DENSE_KERNEL_INITIALIZER, name="predictions")(x)  # fmt: skip
    else:
        x = c.classifier_or_pooling(x, False, pooling, classes, None, weights)

    def remote():
        file_name = f"efficientnet{weights_name}" + (".h5" if include_top else "_notop.h5")
        file_hash = WEIGHTS_HASHES[weights_name][0 if include_top else 1]
        return file_name, BASE_WEIGHTS_PATH + file_name, file_hash

    return c.finish_model(img_input, input_tensor, x, name, weights, remote)


# (width, depth, default size, dropout) of each member of the family
_FAMILY = {
    "b0": (1.0, 1.0, 224, 0.2), "b1": (1.0, 1.1, 240, 0.2), "b2": (1.1, 1.2, 260, 0.3),
    "b3": (1.2, 1.4, 300, 0.3), "b4": (1.4, 1.8, 380, 0.4), "b5": (1.6, 2.2, 456, 0.4),
    "b6": (1.8, 2.6, 528, 0.5), "b7": (2.0, 3.1, 600, 0.5),
}  # fmt: skip


def _member(key: str):
    width, depth, size, dropout = _FAMILY[key]
    public_name = f"EfficientNet{key.upper()}"
    doc = f"{public_name}: width x{width}, depth x{depth}, {size}x{size} inputs in [0, 255]."
    build = functools.partial(EfficientNet, width, depth, size, dropout, weights_name=key)
    return c.family_member(build, public_name, f"efficientnet{key}", doc, __name__)


EfficientNetB0 = _member("b0")
EfficientNetB1 = _member("b1")
EfficientNetB2 = _member("b2")
EfficientNetB3 = _member("b3")
EfficientNetB4 = _member("b4")
EfficientNetB5 = _member("b5")
EfficientNetB6 = _member("b6")
EfficientNetB7 = _member("b7")


def preprocess_input(x, data_format=None):
    """The identity: EfficientNet rescales and normalises its input inside the network."""
    return x


decode_predictions = module_decode()
