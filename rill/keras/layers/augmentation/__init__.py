"""Keras image augmentation layers: geometric warps and crops, colour adjustments,
mixing (MixUp, CutMix, RandomErasing), policies (AugMix, RandAugment) and
MaxNumBoundingBoxes; random ones act in training only, seeded by ``seed``."""

from rill.keras.layers.augmentation.boxes import MaxNumBoundingBoxes
from rill.keras.layers.augmentation.clahe import ContrastLimitedAdaptiveHistogramEqualization
from rill.keras.layers.augmentation.color import (
    AutoContrast,
    Equalization,
    RandomBrightness,
    RandomColorDegeneration,
    RandomColorJitter,
    RandomContrast,
    RandomGaussianBlur,
    RandomGrayscale,
    RandomHue,
    RandomInvert,
    RandomPosterization,
    RandomSaturation,
    RandomSharpness,
    Solarization,
)
from rill.keras.layers.augmentation.elastic import RandomElasticTransform
from rill.keras.layers.augmentation.geometric import (
    RandomCrop,
    RandomFlip,
    RandomHeight,
    RandomPerspective,
    RandomRotation,
    RandomShear,
    RandomTranslation,
    RandomWidth,
    RandomZoom,
)
from rill.keras.layers.augmentation.mixing import CutMix, MixUp, RandomErasing
from rill.keras.layers.augmentation.policies import AugMix, RandAugment

__all__: list[str] = [
    "AugMix", "AutoContrast", "ContrastLimitedAdaptiveHistogramEqualization", "CutMix", "Equalization", "MaxNumBoundingBoxes", "MixUp",
    "RandAugment", "RandomBrightness", "RandomColorDegeneration", "RandomColorJitter",
    "RandomContrast", "RandomCrop", "RandomElasticTransform", "RandomErasing", "RandomFlip",
    "RandomGaussianBlur", "RandomGrayscale", "RandomHeight", "RandomHue", "RandomInvert",
    "RandomPerspective", "RandomPosterization", "RandomRotation", "RandomSaturation",
    "RandomSharpness", "RandomShear", "RandomTranslation", "RandomWidth", "RandomZoom",
    "Solarization",
]  # fmt: skip
