"""The VGG builder shared by ``vgg16`` and ``vgg19`` (Simonyan and Zisserman, 2014)."""

from __future__ import annotations

from rill.keras import layers
from rill.keras.applications import _common as c
from rill.keras.config import image_data_format

_BASE = "https://storage.googleapis.com/tensorflow/keras-applications/"


def build_vgg(arch, convs_per_block, hashes, include_top, weights, input_tensor, input_shape,
              pooling, classes, classifier_activation, name):  # fmt: skip
    """Five blocks of 3x3 ReLU convolutions (64..512 filters) each closed by a 2x2 max
    pool; the top is two 4096-unit Dense layers and the classifier."""
    c.check_weights_arg(weights, include_top, classes)
    input_shape = c.obtain_input_shape(
        input_shape, 224, 32, image_data_format(), include_top, weights
    )
    img_input = c.image_input(input_tensor, input_shape)
    x = img_input
    for b, (n, filters) in enumerate(zip(convs_per_block, (64, 128, 256, 512, 512)), 1):
        for i in range(1, n + 1):
            x = layers.Conv2D(
                filters, (3, 3), activation="relu", padding="same", name=f"block{b}_conv{i}"
            )(x)
        x = layers.MaxPooling2D((2, 2), strides=(2, 2), name=f"block{b}_pool")(x)
    if include_top:
        x = layers.Flatten(name="flatten")(x)
        x = layers.Dense(4096, activation="relu", name="fc1")(x)
        x = layers.Dense(4096, activation="relu", name="fc2")(x)
        c.validate_activation(classifier_activation, weights)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = c.classifier_or_pooling(x, False, pooling, classes, None, weights, pool_names=False)

    def remote():
        suffix = "" if include_top else "_notop"
        file_name = f"{arch}_weights_tf_dim_ordering_tf_kernels{suffix}.h5"
        return file_name, f"{_BASE}{arch}/{file_name}", hashes[0 if include_top else 1]

    return c.finish_model(img_input, input_tensor, x, name, weights, remote)
