"""``keras.applications.resnet_v2``: the pre-activation ResNets (He et al., 2016)."""

from __future__ import annotations

from rill.keras.applications.imagenet_utils import module_decode, module_preprocess
from rill.keras.applications.resnet import family_member

__all__ = ["ResNet50V2", "ResNet101V2", "ResNet152V2", "preprocess_input", "decode_predictions"]


ResNet50V2 = family_member((3, 4, 6, 3), "ResNet50V2", "resnet50v2", True, __name__)
ResNet101V2 = family_member((3, 4, 23, 3), "ResNet101V2", "resnet101v2", True, __name__)
ResNet152V2 = family_member((3, 8, 36, 3), "ResNet152V2", "resnet152v2", True, __name__)


preprocess_input = module_preprocess("tf")
decode_predictions = module_decode()
