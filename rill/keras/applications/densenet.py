"""``keras.applications.densenet``: DenseNet121/169/201 (Huang et al., 2017), each layer
concatenating its new features onto everything before it in the block."""

from __future__ import annotations

import functools

from rill.keras import layers
from rill.keras.applications import _common as c
from rill.keras.applications.imagenet_utils import module_decode, module_preprocess
from rill.keras.config import image_data_format

__all__ = ["DenseNet121", "DenseNet169", "DenseNet201", "preprocess_input",
           "decode_predictions"]  # fmt: skip

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/densenet/"
# blocks per stage -> (architecture, hash with top, hash without top)
_WEIGHTS = {
    (6, 12, 24, 16): ("densenet121", "9d60b8095a5708f2dcce2bca79d332c7",
                      "30ee3e1110167f948a6b9946edeeb738"),
    (6, 12, 32, 32): ("densenet169", "d699b8f76981ab1b30698df4c175e90b",
                      "b8c4d4c20dd625c148057b9ff1c1176b"),
    (6, 12, 48, 32): ("densenet201", "1ceb130c1ea1b78c3bf6114dbdfd8807",
                      "c13680b51ded0fb44dff2d8f86ac8bb1"),
}  # fmt: skip
_EPS = 1.001e-5


def _bn(name):
    return layers.BatchNormalization(axis=c.channel_axis(), epsilon=_EPS, name=name)


def dense_block(x, blocks, name):
    """``blocks`` conv blocks, each adding 32 feature maps."""
    for i in range(blocks):
        x = conv_block(x, 32, name=f"{name}_block{i + 1}")
    return x


def transition_block(x, reduction, name):
    """Batch norm, ReLU, a 1x1 convolution shrinking the channels by ``reduction``, and
    2x2 average pooling."""
    axis = c.channel_axis()
    x = _bn(f"{name}_bn")(x)
    x = layers.Activation("relu", name=f"{name}_relu")(x)
    x = layers.Conv2D(int(x.shape[axis] * reduction), 1, use_bias=False, name=f"{name}_conv")(x)
    return layers.AveragePooling2D(2, strides=2, name=f"{name}_pool")(x)


def conv_block(x, growth_rate, name):
    """A bottleneck (1x1 then 3x3 convolution) whose ``growth_rate`` outputs are
    concatenated onto its input."""
    y = _bn(f"{name}_0_bn")(x)
    y = layers.Activation("relu", name=f"{name}_0_relu")(y)
    y = layers.Conv2D(4 * growth_rate, 1, use_bias=False, name=f"{name}_1_conv")(y)
    y = _bn(f"{name}_1_bn")(y)
    y = layers.Activation("relu", name=f"{name}_1_relu")(y)
    y = layers.Conv2D(growth_rate, 3, padding="same", use_bias=False, name=f"{name}_2_conv")(y)
    return layers.Concatenate(axis=c.channel_axis(), name=f"{name}_concat")([x, y])


def DenseNet(  # noqa: N802 - Keras' name
    blocks,
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="densenet",
):
    """A DenseNet with ``blocks`` conv blocks in each of its four dense blocks."""
    if image_data_format() == "channels_first":
        raise ValueError(
            "DenseNet does not support the `channels_first` image data format. Switch to "
            "`channels_last` by editing your local config file at ~/.keras/keras.json"
        )
    c.check_weights_arg(weights, include_top, classes)
    input_shape = c.obtain_input_shape(
        input_shape, 224, 32, image_data_format(), include_top, weights
    )
    img_input = c.image_input(input_tensor, input_shape)
    x = layers.ZeroPadding2D(padding=((3, 3), (3, 3)))(img_input)
    x = layers.Conv2D(64, 7, strides=2, use_bias=False, name="conv1_conv")(x)
    x = _bn("conv1_bn")(x)
    x = layers.Activation("relu", name="conv1_relu")(x)
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)))(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1")(x)
    for stage, n in enumerate(blocks, 2):
        x = dense_block(x, n, name=f"conv{stage}")
        if stage < 5:
            x = transition_block(x, 0.5, name=f"pool{stage}")
    x = _bn("bn")(x)
    x = layers.Activation("relu", name="relu")(x)
    x = c.classifier_or_pooling(x, include_top, pooling, classes, classifier_activation, weights)

    def remote():
        known = _WEIGHTS.get(tuple(blocks))
        if known is None:
            raise ValueError("weights_path undefined")
        arch, with_top, no_top = known
        suffix = "" if include_top else "_notop"
        file_name = f"{arch}_weights_tf_dim_ordering_tf_kernels{suffix}.h5"
        return file_name, BASE_WEIGHTS_PATH + file_name, with_top if include_top else no_top

    return c.finish_model(img_input, input_tensor, x, name, weights, remote)


def _member(blocks, public_name):
    sizes = ", ".join(str(n) for n in blocks[:-1])
    doc = f"{public_name}: dense blocks of {sizes} and {blocks[-1]} layers."
    build = functools.partial(DenseNet, blocks)
    return c.family_member(build, public_name, public_name.lower(), doc, __name__)


DenseNet121 = _member([6, 12, 24, 16], "DenseNet121")
DenseNet169 = _member([6, 12, 32, 32], "DenseNet169")
DenseNet201 = _member([6, 12, 48, 32], "DenseNet201")

preprocess_input = module_preprocess("torch")
decode_predictions = module_decode()
