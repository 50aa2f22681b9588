"""keras.utils.bounding_boxes: closed forms worked out here, and Keras 3 itself."""

import numpy as np
import pytest

from rill.keras.utils import bounding_boxes as bb

BOXES = np.array([[10.0, 20.0, 50.0, 80.0], [0.0, 0.0, 5.0, 5.0]], "float32")


def test_convert_format_closed_forms():
    c = np.asarray(bb.convert_format(BOXES, "xyxy", "center_xywh"))
    np.testing.assert_allclose(c[0], [30, 50, 40, 60])
    rel = np.asarray(bb.convert_format(BOXES, "xyxy", "rel_yxyx", height=100, width=200))
    np.testing.assert_allclose(rel[0], [0.2, 0.05, 0.8, 0.25])
    for fmt in bb.converters.SUPPORTED_FORMATS:
        there = bb.convert_format(BOXES, "xyxy", fmt, height=100, width=200)
        back = bb.convert_format(there, fmt, "xyxy", height=100, width=200)
        np.testing.assert_allclose(np.asarray(back), BOXES, rtol=1e-6, err_msg=fmt)
    with pytest.raises(ValueError, match="height"):
        bb.convert_format(BOXES, "xyxy", "rel_xyxy")


def test_iou_closed_form_and_masking():
    a = np.array([[0.0, 0, 2, 2]])
    b = np.array([[1.0, 1, 3, 3], [0, 0, 2, 2], [-1, -1, -1, -1]])
    got = np.asarray(bb.compute_iou(a, b, "xyxy", use_masking=True))
    np.testing.assert_allclose(got, [[1 / 7, 1.0, -1]], rtol=1e-5)


def test_crop_pad_clip():
    np.testing.assert_allclose(np.asarray(bb.crop(BOXES, 10, 5, 40, 40))[0], [5, 10, 40, 40])
    np.testing.assert_allclose(np.asarray(bb.pad(BOXES, 1, 2))[0], [12, 21, 52, 81])
    out = bb.clip_to_image_size({"boxes": BOXES - 10, "labels": np.array([3, 4])}, 30, 30)
    np.testing.assert_allclose(np.asarray(out["boxes"]), [[0, 10, 30, 30], [0, 0, 0, 0]])
    assert np.asarray(out["labels"]).tolist() == [3, -1]


def test_deltas_round_trip():
    anchors = np.array([[0.0, 0, 10, 10], [5, 5, 25, 15]], "float32")
    d = bb.encode_box_to_deltas(anchors, BOXES, "xyxy", "xyxy", variance=[0.1, 0.1, 0.2, 0.2])
    back = bb.decode_deltas_to_boxes(anchors, d, "xyxy", "xyxy", variance=[0.1, 0.1, 0.2, 0.2])
    np.testing.assert_allclose(np.asarray(back), BOXES, rtol=1e-5, atol=1e-4)


def test_matches_keras():
    keras = pytest.importorskip("keras")
    kb = keras.utils.bounding_boxes
    anchors = np.array([[0.0, 0, 10, 10], [5, 5, 25, 15]], "float32")
    pairs = [
        (bb.compute_iou(BOXES, anchors, "yxyx"), kb.compute_iou(BOXES, anchors, "yxyx")),
        (bb.compute_ciou(BOXES, anchors, "xyxy"), kb.compute_ciou(BOXES, anchors, "xyxy")),
        (
            bb.encode_box_to_deltas(anchors, BOXES, "xyxy", "xywh"),
            kb.encode_box_to_deltas(anchors, BOXES, "xyxy", "xywh"),
        ),
        (
            bb.convert_format(BOXES, "center_yxhw", "rel_xywh", 50, 70),
            kb.convert_format(BOXES, "center_yxhw", "rel_xywh", 50, 70),
        ),
    ]
    batched = BOXES[None]
    f32 = lambda v: np.array([v], "float32")  # noqa: E731
    args = (f32(30.0), f32(0.1), f32(-0.2), f32(1.2), f32(5.0), f32(-3.0), 100, 120)
    pairs.append((bb.affine_transform(batched, *args), kb.affine_transform(batched, *args)))
    for got, ref in pairs:
        np.testing.assert_allclose(np.asarray(got), np.asarray(ref), rtol=1e-5, atol=1e-4)
