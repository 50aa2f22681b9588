"""``keras.applications.vgg19``: VGG19."""

from __future__ import annotations

from rill.keras.applications.imagenet_utils import module_decode, module_preprocess
from rill.keras.applications.vgg import build_vgg

__all__ = ["VGG19", "preprocess_input", "decode_predictions"]

_HASHES = ("cbe5617147190e668d6c5d5026f83318", "253f8cb515780f3b799900260a226db6")


def VGG19(  # noqa: N802
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="vgg19",
):
    """VGG19: 16 convolutions in five blocks and three Dense layers."""
    return build_vgg("vgg19", (2, 2, 4, 4, 4), _HASHES, include_top, weights, input_tensor,
                     input_shape, pooling, classes, classifier_activation, name)  # fmt: skip


preprocess_input = module_preprocess("caffe")
decode_predictions = module_decode()
