"""``keras.applications.vgg16``: VGG16."""

from __future__ import annotations

from rill.keras.applications.imagenet_utils import module_decode, module_preprocess
from rill.keras.applications.vgg import build_vgg

__all__ = ["VGG16", "preprocess_input", "decode_predictions"]

_HASHES = ("64373286793e3c8b2b4e3219cbf3544b", "6d6bbae143d832006294945121d1f1fc")


def VGG16(  # noqa: N802
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="vgg16",
):
    """VGG16: 13 convolutions in five blocks and three Dense layers."""
    return build_vgg("vgg16", (2, 2, 3, 3, 3), _HASHES, include_top, weights, input_tensor,
                     input_shape, pooling, classes, classifier_activation, name)  # fmt: skip


preprocess_input = module_preprocess("caffe")
decode_predictions = module_decode()
