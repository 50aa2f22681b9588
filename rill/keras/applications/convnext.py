"""``keras.applications.convnext``: ConvNeXt Tiny, Small, Base, Large and XLarge (Liu et
al., 2022), a ConvNet modernised with Transformer design choices."""

from __future__ import annotations

import numpy as np

from rill.keras import layers
from rill.keras.applications import _common as c
from rill.keras.applications.imagenet_utils import module_decode
from rill.keras.config import image_data_format
from rill.keras.layer import Layer

__all__ = ["ConvNeXtTiny", "ConvNeXtSmall", "ConvNeXtBase", "ConvNeXtLarge", "ConvNeXtXLarge",
           "preprocess_input", "decode_predictions"]  # fmt: skip

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/convnext/"
# (with top, without top) SHA-256 of the published weight files
WEIGHTS_HASHES = {
    "convnext_tiny": ("8ae6e78ce2933352b1ef4008e6dd2f17bc40771563877d156bc6426c7cf503ff",
                      "d547c096cabd03329d7be5562c5e14798aa39ed24b474157cef5e85ab9e49ef1"),
    "convnext_small": ("ce1277d8f1ee5a0ef0e171469089c18f5233860ceaf9b168049cb9263fd7483c",
                       "6fc8009faa2f00c1c1dfce59feea9b0745eb260a7dd11bee65c8e20843da6eab"),
    "convnext_base": ("52cbb006d3dadd03f6e095a8ca1aca47aecdd75acb4bc74bce1f5c695d0086e6",
                      "40a20c5548a5e9202f69735ecc06c990e6b7c9d2de39f0361e27baeb24cb7c45"),
    "convnext_large": ("070c5ed9ed289581e477741d3b34beffa920db8cf590899d6d2c67fba2a198a6",
                       "96f02b6f0753d4f543261bc9d09bed650f24dd6bc02ddde3066135b63d23a1cd"),
    "convnext_xlarge": ("c1f5ccab661354fc3a79a10fa99af82f0fbf10ec65cb894a3ae0815f17a889ee",
                        "de3f8a54174130e0cecdc71583354753d557fcf1f4487331558e2a16ba0cfe05"),
}  # fmt: skip
MODEL_CONFIGS = {
    "tiny": {"depths": [3, 3, 9, 3], "projection_dims": [96, 192, 384, 768]},
    "small": {"depths": [3, 3, 27, 3], "projection_dims": [96, 192, 384, 768]},
    "base": {"depths": [3, 3, 27, 3], "projection_dims": [128, 256, 512, 1024]},
    "large": {"depths": [3, 3, 27, 3], "projection_dims": [192, 384, 768, 1536]},
    "xlarge": {"depths": [3, 3, 27, 3], "projection_dims": [256, 512, 1024, 2048]},
}
for _cfg in MODEL_CONFIGS.values():
    _cfg["default_size"] = 224


class StochasticDepth(Layer):
    """Drops the whole residual branch per sample with probability ``drop_path_rate``
    while training (scaling the kept samples up); the identity otherwise."""

    def __init__(self, drop_path_rate, **kwargs):
        super().__init__(**kwargs)
        self.drop_path_rate = drop_path_rate

    def call(self, x, training=None):
        """Apply the per-sample drop when training."""
        if not training:
            return x
        from rill.keras import ops, random

        keep = 1 - self.drop_path_rate
        shape = (ops.shape(x)[0],) + (1,) * (len(x.shape) - 1)
        mask = ops.floor(keep + random.uniform(shape, 0, 1))
        return x / keep * mask

    def get_config(self):
        """The layer's config, with ``drop_path_rate``."""
        return {**super().get_config(), "drop_path_rate": self.drop_path_rate}


class LayerScale(Layer):
    """Multiplies its input by a learned per-channel scale ``gamma``."""

    def __init__(self, init_values, projection_dim, **kwargs):
        super().__init__(**kwargs)
        self.init_values = init_values
        self.projection_dim = projection_dim

    def build(self, _):
        """Create ``gamma``, initialised to ``init_values``."""
        from rill.keras import initializers

        self.gamma = self.add_weight(shape=(self.projection_dim,),
                                     initializer=initializers.Constant(self.init_values),
                                     trainable=True)  # fmt: skip

    def call(self, x):
        """The input scaled per channel."""
        return x * self.gamma

    def get_config(self):
        """The layer's config, with ``init_values`` and ``projection_dim``."""
        return {**super().get_config(), "init_values": self.init_values,
                "projection_dim": self.projection_dim}  # fmt: skip


def _uid_name(prefix):
    from rill.keras.backend import get_uid

    return f"{prefix}{get_uid(prefix)}"


def ConvNeXtBlock(projection_dim, drop_path_rate=0.0, layer_scale_init_value=1e-6,  # noqa: N802
                  name=None):  # fmt: skip
    """A ConvNeXt block as a function of its input: 7x7 depthwise convolution, layer
    norm, an inverted-bottleneck MLP with GELU, layer scale and the residual."""
    if name is None:
        name = _uid_name("prestem")

    def apply(inputs):
        x = layers.Conv2D(filters=projection_dim, kernel_size=7, padding="same",
                          groups=projection_dim, name=f"{name}_depthwise_conv")(inputs)  # fmt: skip
        x = layers.LayerNormalization(epsilon=1e-6, name=f"{name}_layernorm")(x)
        x = layers.Dense(4 * projection_dim, name=f"{name}_pointwise_conv_1")(x)
        x = layers.Activation("gelu", name=f"{name}_gelu")(x)
        x = layers.Dense(projection_dim, name=f"{name}_pointwise_conv_2")(x)
        if layer_scale_init_value is not None:
            x = LayerScale(layer_scale_init_value, projection_dim,
                           name=f"{name}_layer_scale")(x)  # fmt: skip
        if drop_path_rate:
            last = StochasticDepth(drop_path_rate, name=f"{name}_stochastic_depth")
        else:
            last = layers.Activation("linear", name=f"{name}_identity")
        return inputs + last(x)

    return apply


def PreStem(name=None):  # noqa: N802
    """Normalisation of [0, 255] RGB input by the ImageNet channel statistics."""
    if name is None:
        name = _uid_name("prestem")

    def apply(x):
        mean = [0.485 * 255, 0.456 * 255, 0.406 * 255]
        variance = [(0.229 * 255) ** 2, (0.224 * 255) ** 2, (0.225 * 255) ** 2]
        return layers.Normalization(mean=mean, variance=variance,
                                    name=f"{name}_prestem_normalization")(x)  # fmt: skip

    return apply


def Head(num_classes=1000, classifier_activation=None, name=None):  # noqa: N802
    """Global average pooling, layer norm and the classifier."""
    if name is None:
        from rill.keras.backend import get_uid

        name = str(get_uid("head"))

    def apply(x):
        x = layers.GlobalAveragePooling2D(name=f"{name}_head_gap")(x)
        x = layers.LayerNormalization(epsilon=1e-6, name=f"{name}_head_layernorm")(x)
        return layers.Dense(num_classes, activation=classifier_activation,
                            name=f"{name}_head_dense")(x)  # fmt: skip

    return apply


def ConvNeXt(  # noqa: N802 - Keras' name
    depths,
    projection_dims,
    drop_path_rate=0.0,
    layer_scale_init_value=1e-6,
    default_size=224,
    name="convnext",
    include_preprocessing=True,
    include_top=True,
    weights=None,
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    weights_name=None,
):
    """A ConvNeXt with ``depths`` blocks of widths ``projection_dims`` in four stages."""
    from rill.keras.models import Sequential

    if image_data_format() == "channels_first":
        raise ValueError(
            "ConvNeXt does not support the `channels_first` image data format. Switch to "
            "`channels_last` by editing your local config file at ~/.keras/keras.json"
        )
    if not c.weights_ok(weights):
        raise ValueError(
            "The `weights` argument should be either `None` (random initialization), "
            "`imagenet` (pre-training on ImageNet), or the path to the weights file to be "
            "loaded."
        )
    if weights == "imagenet" and include_top and classes != 1000:
        raise ValueError(
            'If using `weights="imagenet"` with `include_top=True`, `classes` should be '
            f"1000. Received classes={classes}"
        )
    input_shape = c.obtain_input_shape(
        input_shape, default_size, 32, image_data_format(), include_top, weights
    )
    img_input = c.image_input(input_tensor, input_shape)
    x = img_input
    if include_preprocessing and input_shape[2] == 3:
        x = PreStem(name=name)(x)
    ln = 1e-6
    stem = Sequential([
        layers.Conv2D(projection_dims[0], kernel_size=4, strides=4, name=f"{name}_stem_conv"),
        layers.LayerNormalization(epsilon=ln, name=f"{name}_stem_layernorm"),
    ], name=f"{name}_stem")  # fmt: skip
    downsample = [stem] + [
        Sequential([
            layers.LayerNormalization(epsilon=ln, name=f"{name}_downsampling_layernorm_{i}"),
            layers.Conv2D(projection_dims[i + 1], kernel_size=2, strides=2,
                          name=f"{name}_downsampling_conv_{i}"),
        ], name=f"{name}_downsampling_block_{i}")
        for i in range(3)
    ]  # fmt: skip
    rates = [float(r) for r in np.linspace(0.0, drop_path_rate, sum(depths))]
    cur = 0
    for i in range(4):
        x = downsample[i](x)
        for j in range(depths[i]):
            x = ConvNeXtBlock(projection_dim=projection_dims[i], drop_path_rate=rates[cur + j],
                              layer_scale_init_value=layer_scale_init_value,
                              name=f"{name}_stage_{i}_block_{j}")(x)  # fmt: skip
        cur += depths[i]
    if include_top:
        c.validate_activation(classifier_activation, weights)
        x = Head(num_classes=classes, classifier_activation=classifier_activation, name=name)(x)
    else:
        x = c.classifier_or_pooling(x, False, pooling, classes, None, weights, pool_names=False)
        x = layers.LayerNormalization(epsilon=ln)(x)
    if weights == "imagenet":
        expected = MODEL_CONFIGS[weights_name.split("convnext_")[-1]]
        if depths != expected["depths"] or projection_dims != expected["projection_dims"]:
            raise ValueError(
                f"Architecture configuration does not match {weights_name} variant. When "
                "using pre-trained weights, the model architecture must match the "
                f"pre-trained configuration exactly. Expected depths: {expected['depths']}, "
                f"got: {depths}. Expected projection_dims: {expected['projection_dims']}, "
                f"got: {projection_dims}."
            )
        if weights_name not in name:
            raise ValueError(
                f'Model name "{name}" does not match weights variant "{weights_name}". When '
                "using imagenet weights, model name must contain the weights variant (e.g., "
                f'"convnext_{weights_name.split("convnext_")[-1]}").'
            )

    def remote():
        file_name = weights_name + (".h5" if include_top else "_notop.h5")
        file_hash = WEIGHTS_HASHES[weights_name][0 if include_top else 1]
        return file_name, BASE_WEIGHTS_PATH + file_name, file_hash

    return c.finish_model(img_input, input_tensor, x, name, weights, remote)


def _member(size: str):
    cfg = MODEL_CONFIGS[size]

    def constructor(
        include_top=True,
        include_preprocessing=True,
        weights="imagenet",
        input_tensor=None,
        input_shape=None,
        pooling=None,
        classes=1000,
        classifier_activation="softmax",
        name=f"convnext_{size}",
    ):
        return ConvNeXt(weights_name=f"convnext_{size}", depths=cfg["depths"],
                        projection_dims=cfg["projection_dims"], drop_path_rate=0.0,
                        layer_scale_init_value=1e-6, default_size=cfg["default_size"],
                        name=name, include_top=include_top,
                        include_preprocessing=include_preprocessing, weights=weights,
                        input_tensor=input_tensor, input_shape=input_shape, pooling=pooling,
                        classes=classes, classifier_activation=classifier_activation)  # fmt: skip

    title = "XLarge" if size == "xlarge" else size.capitalize()
    doc = (
        f"ConvNeXt{title}: stages of {cfg['depths']} blocks, widths {cfg['projection_dims']}; "
        "inputs in [0, 255]."
    )
    return c.named_constructor(constructor, f"ConvNeXt{title}", doc, __name__)


ConvNeXtTiny = _member("tiny")
ConvNeXtSmall = _member("small")
ConvNeXtBase = _member("base")
ConvNeXtLarge = _member("large")
ConvNeXtXLarge = _member("xlarge")


def preprocess_input(x, data_format=None):
    """The identity: ConvNeXt normalises its input inside the network."""
    return x


decode_predictions = module_decode()
