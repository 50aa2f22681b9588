"""``keras.visualization``: draw boxes and masks on image arrays; plot image galleries
(the ``plot_*`` functions need matplotlib)."""

from rill.keras.visualization.drawing import draw_bounding_boxes, draw_segmentation_masks
from rill.keras.visualization.galleries import (
    plot_bounding_box_gallery,
    plot_image_gallery,
    plot_segmentation_mask_gallery,
)

__all__ = [
    "draw_bounding_boxes", "draw_segmentation_masks", "plot_bounding_box_gallery",
    "plot_image_gallery", "plot_segmentation_mask_gallery",
]  # fmt: skip
