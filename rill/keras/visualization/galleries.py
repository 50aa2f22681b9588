"""Image galleries with matplotlib (optional: ``pip install matplotlib``)."""

from __future__ import annotations

import functools
import math

import numpy as np

from rill.keras.visualization.drawing import (
    _data_format,
    _np,
    draw_bounding_boxes,
    draw_segmentation_masks,
)


def _pyplot(fn):
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError(
            f"The `{fn}` function requires the `matplotlib` package. Please install it with "
            f"`pip install matplotlib`."
        ) from None
    return plt


def _rescale(images, value_range):
    lo, hi = value_range
    return (images.astype("float32") - lo) / (hi - lo) * 255.0


def plot_image_gallery(images, y_true=None, y_pred=None, label_map=None, rows=None, cols=None,
                       value_range=(0, 255), scale=2, path=None, show=None, transparent=True,
                       dpi=60, legend_handles=None, data_format=None):  # fmt: skip
    """A ``rows`` x ``cols`` grid of the images (titled with their labels), shown or
    saved to ``path``."""
    plt = _pyplot("plot_image_gallery")
    if path is not None and show:
        raise ValueError("plot_gallery() expects either `path` to be set, or `show` to be true.")
    if (y_true is not None or y_pred is not None) and label_map is None:
        raise ValueError(
            "If `y_true` or `y_pred` are provided, a `label_map` must also be provided."
        )
    show = show if show is not None else path is None
    data_format = _data_format(data_format)
    images = _np(images)
    batch = images.shape[0] if images.ndim == 4 else 1
    rows = rows or int(math.ceil(math.sqrt(batch)))
    cols = cols or int(math.ceil(batch // rows))
    if images.ndim != 4:
        raise ValueError(
            "`plot_images_gallery()` requires you to batch your `np.array` samples together."
        )
    images = images[: min(rows * cols, batch)]
    if data_format == "channels_first":
        images = images.transpose(0, 2, 3, 1)
    fig, axes = plt.subplots(nrows=rows, ncols=cols, figsize=(cols * scale, rows * scale),
                             frameon=False, layout="tight", squeeze=True, sharex="row",
                             sharey="col")  # fmt: skip
    fig.subplots_adjust(wspace=0, hspace=0)
    if isinstance(axes, np.ndarray) and axes.ndim == 1:
        axes = np.expand_dims(axes, 0 if rows == 1 else -1)
    if legend_handles is not None:
        fig.legend(handles=legend_handles, loc="lower center")
    images = _rescale(images, value_range)
    y_true = None if y_true is None else _np(y_true)
    y_pred = None if y_pred is None else _np(y_pred)
    for r in range(rows):
        for c in range(cols):
            index = r * cols + c
            ax = axes[r, c] if isinstance(axes, np.ndarray) else axes
            ax.imshow(images[index].astype("uint8"))
            ax.margins(x=0, y=0)
            ax.axis("off")
            title = []
            if y_true is not None and index < len(y_true):
                title.append(f"Label: {label_map.get(y_true[index], 'Unknown')}")
            if y_pred is not None and index < len(y_pred):
                title.append(f"Pred: {label_map.get(y_pred[index], 'Unknown')}")
            if title:
                ax.set_title("  ".join(title), fontsize=8)
    if path is not None:
        plt.savefig(fname=path, pad_inches=0, bbox_inches="tight", transparent=transparent, dpi=dpi)
        plt.close()
    elif show:
        plt.show()
        plt.close()


def plot_bounding_box_gallery(images, bounding_box_format, y_true=None, y_pred=None,
                              value_range=(0, 255), true_color=(0, 188, 212),
                              pred_color=(255, 235, 59), line_thickness=2, font_scale=1.0,
                              text_thickness=None, class_mapping=None, ground_truth_mapping=None,
                              prediction_mapping=None, legend=False, legend_handles=None,
                              rows=None, cols=None, data_format=None, **kwargs):  # fmt: skip
    """A gallery of the images with their true and predicted boxes drawn on them."""
    _pyplot("plot_bounding_box_gallery")
    from matplotlib import patches

    prediction_mapping = prediction_mapping or class_mapping
    ground_truth_mapping = ground_truth_mapping or class_mapping
    data_format = _data_format(data_format)
    images = _np(images)
    if images.ndim != 4:
        raise ValueError(
            f"`images` must be batched 4D tensor. Received: images.shape={images.shape}"
        )
    if data_format == "channels_first":
        images = images.transpose(0, 2, 3, 1)
    draw = functools.partial(draw_bounding_boxes, bounding_box_format=bounding_box_format,
                             line_thickness=line_thickness, text_thickness=text_thickness,
                             font_scale=font_scale, data_format="channels_last")  # fmt: skip
    if y_true is not None:
        images = draw(images, y_true, color=true_color, class_mapping=ground_truth_mapping)
    if y_pred is not None:
        images = draw(images, y_pred, color=pred_color, class_mapping=prediction_mapping)
    if legend:
        if legend_handles:
            raise ValueError(
                "Only pass `legend` OR `legend_handles` to "
                "`keras.visualization.plot_bounding_box_gallery()`."
            )
        legend_handles = [
            patches.Patch(color=np.array(true_color) / 255.0, label="Ground Truth"),
            patches.Patch(color=np.array(pred_color) / 255.0, label="Prediction"),
        ]
    return plot_image_gallery(images, value_range=value_range, legend_handles=legend_handles,
                              rows=rows, cols=cols, data_format="channels_last", **kwargs)  # fmt: skip


def plot_segmentation_mask_gallery(images, num_classes, value_range=(0, 255), y_true=None,
                                   y_pred=None, color_mapping=None, blend=True, alpha=0.8,
                                   ignore_index=-1, data_format=None, **kwargs):  # fmt: skip
    """A gallery with one row per image: the image, then its true and predicted masks."""
    data_format = _data_format(data_format)
    images = _np(images)
    if images.ndim != 4:
        raise ValueError(
            f"`images` must be batched 4D tensor. Received: images.shape={images.shape}"
        )
    if data_format == "channels_first":
        images = images.transpose(0, 2, 3, 1)
    draw = functools.partial(draw_segmentation_masks, num_classes=num_classes,
                             color_mapping=color_mapping, alpha=alpha, ignore_index=ignore_index,
                             blend=blend, data_format="channels_last")  # fmt: skip
    drawn = []
    for masks in (y_true, y_pred):
        if masks is not None:
            m = _np(masks)
            if data_format == "channels_first":
                m = m.transpose(0, 2, 3, 1)
            drawn.append(_np(draw(images, m.astype("int32"))))
    gallery = []
    for i in range(images.shape[0]):
        gallery.append(images[i])
        gallery.extend(d[i] for d in drawn)
    return plot_image_gallery(np.stack(gallery, 0), value_range=value_range,
                              rows=images.shape[0], cols=1 + len(drawn),
                              data_format="channels_last", **kwargs)  # fmt: skip
