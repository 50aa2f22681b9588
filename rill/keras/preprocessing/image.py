"""``keras.preprocessing.image``: the legacy image pipeline (``ImageDataGenerator`` and its
iterators, NumPy transforms) and the image-file helpers of ``keras.utils``."""

from rill.keras.preprocessing.image_iterators import (
    DataFrameIterator,
    DirectoryIterator,
    ImageDataGenerator,
    Iterator,
    NumpyArrayIterator,
)
from rill.keras.preprocessing.image_transforms import (
    apply_affine_transform,
    apply_brightness_shift,
    apply_channel_shift,
    random_brightness,
    random_channel_shift,
    random_rotation,
    random_shear,
    random_shift,
    random_zoom,
)
from rill.keras.utils.image_utils import (
    array_to_img,
    img_to_array,
    load_img,
    save_img,
    smart_resize,
)

__all__ = [
    "DataFrameIterator", "DirectoryIterator", "ImageDataGenerator", "Iterator",
    "NumpyArrayIterator", "apply_affine_transform", "apply_brightness_shift",
    "apply_channel_shift", "array_to_img", "img_to_array", "load_img", "random_brightness",
    "random_channel_shift", "random_rotation", "random_shear", "random_shift", "random_zoom",
    "save_img", "smart_resize",
]  # fmt: skip
