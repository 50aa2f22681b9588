"""keras.visualization: boxes and masks drawn on arrays, checked pixel by pixel; the
galleries render with matplotlib (skipped without it)."""

import numpy as np
import pytest

from rill.keras import visualization as V


def _outline(h, w, x1, y1, x2, y2, t):
    """Pixels within the band of width t centred on the rectangle's edges (NumPy)."""
    yy, xx = np.mgrid[0:h, 0:w]
    lo, hi = -(t // 2), t - 1 - t // 2
    near_x = ((xx - x1 >= lo) & (xx - x1 <= hi)) | ((xx - x2 >= lo) & (xx - x2 <= hi))
    near_y = ((yy - y1 >= lo) & (yy - y1 <= hi)) | ((yy - y2 >= lo) & (yy - y2 <= hi))
    in_x = (xx >= x1 + lo) & (xx <= x2 + hi)
    in_y = (yy >= y1 + lo) & (yy <= y2 + hi)
    return (near_x & in_y) | (near_y & in_x)


@pytest.mark.parametrize("t", [1, 2, 3])
def test_draw_bounding_boxes_outlines(t):
    images = np.full((2, 12, 14, 3), 10, np.uint8)
    boxes = {
        "boxes": np.array(
            [[[2, 3, 9, 8], [0, 0, 1, 1]], [[1, 1, 12, 10], [0, 0, 0, 0]]], "float32"
        ),
        "labels": np.array([[0, -1], [2, -1]]),  # -1: padding, not drawn
    }
    out = V.draw_bounding_boxes(images, boxes, "xyxy", color=(200, 50, 0), line_thickness=t)
    assert out.dtype == np.uint8 and out.shape == images.shape
    for i, (x1, y1, x2, y2) in enumerate([(2, 3, 9, 8), (1, 1, 12, 10)]):
        mask = _outline(12, 14, x1, y1, x2, y2, t)
        np.testing.assert_array_equal(out[i][mask], np.tile([200, 50, 0], (mask.sum(), 1)))
        np.testing.assert_array_equal(out[i][~mask], 10)


def test_draw_bounding_boxes_formats_and_float_images():
    images = np.zeros((1, 10, 10, 3), np.float32) + 0.5  # [0, 1] floats are scaled to 255
    rel = {"boxes": np.array([[[0.2, 0.1, 0.8, 0.6]]], "float32"), "labels": np.array([[1]])}
    out = V.draw_bounding_boxes(images, rel, "rel_xyxy", line_thickness=1, color=(255, 255, 255))
    mask = _outline(10, 10, 2, 1, 8, 6, 1)
    assert (out[0][mask] == 255).all() and (out[0][~mask] == 127).all()
    with pytest.raises(ValueError, match="'boxes' and 'labels'"):
        V.draw_bounding_boxes(images, {"boxes": rel["boxes"]}, "xyxy")
    with pytest.raises(TypeError, match="should be a dict"):
        V.draw_bounding_boxes(images, rel["boxes"], "xyxy")
    with pytest.raises(ValueError, match="batched 4D"):
        V.draw_bounding_boxes(images[0], rel, "xyxy")


def test_draw_bounding_boxes_writes_labels():
    pytest.importorskip("PIL")
    images = np.zeros((1, 64, 64, 3), np.uint8)
    boxes = {"boxes": np.array([[[10, 40, 50, 60]]], "float32"), "labels": np.array([[1]])}
    plain = V.draw_bounding_boxes(images, boxes, "xyxy", line_thickness=1)
    named = V.draw_bounding_boxes(images, boxes, "xyxy", class_mapping={1: "cat"}, line_thickness=1)
    diff = np.argwhere((named != plain).any(-1))
    # the label is written above the box (y1 - 8 is its baseline)
    assert len(diff) > 0 and diff[:, 0].max() <= 40 - 8 and diff[:, 1].min() >= 10


def _palette(n):
    return [((i * np.array([2**25 - 1, 2**15 - 1, 2**21 - 1])) % 255) for i in range(n)]


def test_draw_segmentation_masks_blend_formula():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, (2, 5, 6, 3)).astype(np.float32)
    masks = rng.integers(-1, 3, (2, 5, 6, 1)).astype(np.int32)
    out = V.draw_segmentation_masks(images, masks, num_classes=3, alpha=0.25)
    colors = _palette(3)
    want = images.copy()
    for b in range(2):
        for y in range(5):
            for x in range(6):
                k = masks[b, y, x, 0]
                if k >= 0:
                    want[b, y, x] = images[b, y, x] * 0.75 + colors[k] * 0.25
    np.testing.assert_array_equal(out, want.astype(np.uint8))
    flat = V.draw_segmentation_masks(images, masks, num_classes=3, blend=False)
    assert flat.dtype.name == "float32"
    np.testing.assert_array_equal(
        np.asarray(flat)[masks[..., 0] == 1], np.tile(colors[1], ((masks == 1).sum(), 1))
    )
    with pytest.raises(TypeError, match="integer dtype"):
        V.draw_segmentation_masks(images, masks.astype(np.float32))


def test_draw_segmentation_masks_matches_keras():
    k = pytest.importorskip("keras")
    rng = np.random.default_rng(1)
    images = rng.integers(0, 255, (2, 4, 4, 3)).astype(np.float32)
    masks = rng.integers(-1, 4, (2, 4, 4, 1)).astype(np.int32)
    for kw in [dict(num_classes=4), dict(), dict(num_classes=4, alpha=0.3),
               dict(num_classes=2, color_mapping={0: (1, 2, 3), 1: (250, 0, 9)})]:  # fmt: skip
        want = np.asarray(k.visualization.draw_segmentation_masks(images, masks, **kw))
        np.testing.assert_array_equal(V.draw_segmentation_masks(images, masks, **kw), want)


def test_galleries_render(tmp_path):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    rng = np.random.default_rng(2)
    images = rng.integers(0, 255, (4, 16, 16, 3)).astype(np.float32)
    path = tmp_path / "g.png"
    V.plot_image_gallery(images, y_true=np.array([0, 1, 0, 1]), label_map={0: "a", 1: "b"},
                         path=str(path))  # fmt: skip
    assert path.stat().st_size > 0
    boxes = {"boxes": np.tile(np.array([[2.0, 2, 10, 10]], "float32"), (4, 1, 1)),
             "labels": np.zeros((4, 1), "int32")}  # fmt: skip
    V.plot_bounding_box_gallery(images, "xyxy", y_true=boxes, y_pred=boxes, legend=True,
                                path=str(tmp_path / "b.png"))  # fmt: skip
    masks = rng.integers(0, 3, (4, 16, 16, 1))
    V.plot_segmentation_mask_gallery(images, 3, y_true=masks, y_pred=masks,
                                     path=str(tmp_path / "s.png"))  # fmt: skip
    assert (tmp_path / "b.png").stat().st_size > 0 and (tmp_path / "s.png").stat().st_size > 0
    with pytest.raises(ValueError, match="label_map"):
        V.plot_image_gallery(images, y_true=np.array([0, 1, 0, 1]), path=str(path))
