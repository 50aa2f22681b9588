"""Non-max suppression, drawing boxes, distorted crops and region proposals against
straightforward Python references (one box at a time, as the algorithms are defined)."""

import numpy as np
import pytest

import rill as tf

RNG = np.random.default_rng(1)


def rand_boxes(n, flip=False):
    corner = RNG.uniform(0, 10, (n, 2))
    boxes = np.concatenate([corner, corner + RNG.uniform(0.1, 3, (n, 2))], 1).astype(np.float32)
    return boxes[:, [2, 1, 0, 3]] if flip else boxes


def iou(a, b):
    ay0, ay1, ax0, ax1 = min(a[0], a[2]), max(a[0], a[2]), min(a[1], a[3]), max(a[1], a[3])
    by0, by1, bx0, bx1 = min(b[0], b[2]), max(b[0], b[2]), min(b[1], b[3]), max(b[1], b[3])
    aa, ab = (ay1 - ay0) * (ax1 - ax0), (by1 - by0) * (bx1 - bx0)
    if aa <= 0 or ab <= 0:
        return 0.0
    inter = max(min(ay1, by1) - max(ay0, by0), 0) * max(min(ax1, bx1) - max(ax0, bx0), 0)
    return inter / (aa + ab - inter)


def greedy_ref(boxes, scores, m, thr, score_thr):
    order = sorted(
        (i for i in range(len(scores)) if scores[i] > score_thr), key=lambda i: (-scores[i], i)
    )
    kept = []
    for i in order:
        if len(kept) == m:
            break
        if all(iou(boxes[i], boxes[k]) <= thr for k in kept):
            kept.append(i)
    return kept


def soft_ref(boxes, scores, m, score_thr, sigma):
    """Soft-NMS with lazy rescoring (TF's priority queue): a candidate popped with a score
    that changed when rescored waits again."""
    key = {i: float(scores[i]) for i in range(len(scores)) if scores[i] > score_thr}
    seen = dict.fromkeys(key, 0)
    sel, vals = [], []
    while len(sel) < m and key:
        j = max(key, key=lambda i: (key[i], -i))
        s = np.float32(key[j])
        dropped = False
        for k in sel[seen[j] :]:
            s = np.float32(
                s
                * np.float32(
                    np.exp(np.float32(-0.5 / sigma) * np.float32(iou(boxes[j], boxes[k])) ** 2)
                )
            )
            if s <= score_thr:
                dropped = True
                break
        seen[j] = len(sel)
        if dropped:
            del key[j]
        elif s == np.float32(key[j]):
            sel.append(j)
            vals.append(s)
            del key[j]
        else:
            key[j] = s
    return sel, vals


@pytest.mark.parametrize("trial", range(12))
def test_non_max_suppression_matches_greedy_reference(trial):
    n = int(RNG.integers(1, 80))
    boxes, scores = rand_boxes(n, flip=trial % 3 == 0), RNG.random(n).astype(np.float32)
    m, thr = int(RNG.integers(0, n + 3)), float(RNG.choice([0.0, 0.3, 0.5, 0.9]))
    st = float(RNG.choice([-np.inf, 0.4]))
    got = tf.image.non_max_suppression(boxes, scores, m, thr, st)
    assert got.dtype == tf.int32
    assert got.numpy().tolist() == greedy_ref(boxes, scores, m, thr, st)
    idx, vals = tf.image.non_max_suppression_with_scores(boxes, scores, m, thr, st)
    assert idx.numpy().tolist() == greedy_ref(boxes, scores, m, thr, st)
    np.testing.assert_array_equal(vals.numpy(), scores[idx.numpy()])


@pytest.mark.parametrize("trial", range(8))
@pytest.mark.parametrize("negate", [False, True])
def test_soft_nms_matches_lazy_reference(trial, negate):
    n = int(RNG.integers(1, 40))
    boxes, scores = rand_boxes(n), RNG.random(n).astype(np.float32)
    scores = -scores if negate else scores
    sigma, st = float(RNG.choice([0.3, 1.0])), float(RNG.choice([-np.inf, 0.2]))
    idx, vals = tf.image.non_max_suppression_with_scores(
        boxes, scores, n, 0.5, st, soft_nms_sigma=sigma
    )
    want_idx, want_vals = soft_ref(boxes, scores, n, st, sigma)
    assert idx.numpy().tolist() == want_idx
    np.testing.assert_allclose(vals.numpy(), want_vals, rtol=1e-5)


def test_suppression_needs_iou_above_the_threshold():
    boxes = np.array([[0, 0, 1, 1], [0, 0.5, 1, 1.5]], np.float32)  # IoU exactly 1/3
    assert tf.image.non_max_suppression(boxes, [0.9, 0.8], 10, 1 / 3).numpy().tolist() == [0, 1]
    assert tf.image.non_max_suppression(boxes, [0.9, 0.8], 10, 0.333).numpy().tolist() == [0]
    # equal scores: the lower index first
    assert tf.image.non_max_suppression(rand_boxes(4) * 0, [0.5] * 4, 4, 0.5).numpy().tolist() == [
        0,
        1,
        2,
        3,
    ]


def test_nms_with_overlaps_reads_candidate_rows():
    ov = RNG.random((6, 6)).astype(np.float32)
    scores = RNG.random(6).astype(np.float32)
    order = np.argsort(-scores, kind="stable")
    kept = []
    for i in order:
        if all(ov[i, k] <= 0.6 for k in kept):
            kept.append(int(i))
    assert tf.image.non_max_suppression_overlaps(ov, scores, 6, 0.6).numpy().tolist() == kept


def test_padded_nms_pads_and_counts():
    boxes, scores = rand_boxes(30), RNG.random(30).astype(np.float32)
    want = greedy_ref(boxes, scores, 8, 0.5, -np.inf)  # IoU == threshold never occurs here
    idx, n = tf.image.non_max_suppression_padded(boxes, scores, 8, 0.5, pad_to_max_output_size=True)
    assert idx.shape == (8,) and int(n) == len(want)
    assert idx.numpy()[: len(want)].tolist() == want and not idx.numpy()[len(want) :].any()
    idx, n = tf.image.non_max_suppression_padded(boxes, scores, 8, 0.5)
    assert idx.numpy().tolist() == want
    batched = np.stack([boxes, boxes[::-1]]).reshape(2, 1, 30, 4)
    idx, n = tf.image.non_max_suppression_padded(batched, np.stack([scores, scores]).reshape(2, 1, 30), 5, 0.5,
                                                 pad_to_max_output_size=True)  # fmt: skip
    assert idx.shape == (2, 1, 5) and n.shape == (2, 1)
    with pytest.raises(ValueError, match="must be True for batched input"):
        tf.image.non_max_suppression_padded(
            batched, np.stack([scores, scores]).reshape(2, 1, 30), 5
        )


def test_combined_nms_matches_reference():
    b, n, k = 2, 25, 3
    boxes = np.stack([rand_boxes(n) / 13 for _ in range(b)])[:, :, None, :]
    scores = RNG.random((b, n, k)).astype(np.float32)
    nb, ns, nc, valid = tf.image.combined_non_max_suppression(boxes, scores, 4, 7, 0.5, 0.2)
    assert nb.shape == (2, 7, 4) and nc.dtype == tf.float32 and valid.dtype == tf.int32
    for i in range(b):
        cands = []
        for c in range(k):
            for j in greedy_ref(boxes[i, :, 0], scores[i, :, c], 4, 0.5, 0.2):
                cands.append((-scores[i, j, c], c, j))
        cands = sorted(cands)[:7]
        assert int(valid[i]) == len(cands)
        np.testing.assert_allclose(ns.numpy()[i, : len(cands)], [-s for s, _, _ in cands])
        np.testing.assert_array_equal(nc.numpy()[i, : len(cands)], [c for _, c, _ in cands])
        np.testing.assert_allclose(
            nb.numpy()[i, : len(cands)], np.clip([boxes[i, j, 0] for _, _, j in cands], 0, 1)
        )
        assert not ns.numpy()[i, len(cands) :].any()


def test_nms_errors_name_the_op():
    boxes, scores = rand_boxes(4), RNG.random(4).astype(np.float32)
    with pytest.raises(tf.errors.InvalidArgumentError, match="NonMaxSuppressionV3.*4 columns"):
        tf.image.non_max_suppression(boxes[:, :3], scores, 3)
    with pytest.raises(tf.errors.InvalidArgumentError, match="scores has incompatible shape"):
        tf.image.non_max_suppression(boxes, scores[:3], 3)
    with pytest.raises(tf.errors.InvalidArgumentError, match="output size must be non-negative"):
        tf.image.non_max_suppression(boxes, scores, -1)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"iou_threshold must be in \[0, 1\]"):
        tf.image.non_max_suppression(boxes, scores, 3, 1.5)
    with pytest.raises(tf.errors.InvalidArgumentError, match="soft_nms_sigma must be >= 0"):
        tf.image.non_max_suppression_with_scores(boxes, scores, 3, soft_nms_sigma=-1.0)
    with pytest.raises(tf.errors.InvalidArgumentError, match="max_total_size must be > 0"):
        tf.image.combined_non_max_suppression(boxes[None, :, None], scores[None, :, None], 2, 0)


def draw_ref(images, boxes, colors):
    out = images.copy()
    n, h, w, depth = images.shape
    for b in range(n):
        for i, box in enumerate(boxes[b]):
            r0, c0, r1, c1 = (
                int(np.float32(v) * np.float32(s - 1)) for v, s in zip(box, (h, w, h, w))
            )
            if r0 > r1 or c0 > c1 or r0 >= h or r1 < 0 or c0 >= w or c1 < 0:
                continue
            color = colors[i % len(colors)][:depth]
            rows, cols = (
                range(max(r0, 0), min(r1, h - 1) + 1),
                range(max(c0, 0), min(c1, w - 1) + 1),
            )
            for r in (r0, r1):
                if 0 <= r < h:
                    out[b, r, cols.start : cols.stop] = color
            for c in (c0, c1):
                if 0 <= c < w:
                    out[b, rows.start : rows.stop, c] = color
    return out


@pytest.mark.parametrize("depth", [1, 3, 4])
def test_draw_bounding_boxes_matches_reference(depth):
    images = RNG.random((2, 9, 11, depth)).astype(np.float32)
    boxes = RNG.uniform(-0.3, 1.3, (2, 6, 4)).astype(np.float32)
    colors = RNG.random((4, 4)).astype(np.float32)
    np.testing.assert_array_equal(
        tf.image.draw_bounding_boxes(images, boxes, colors).numpy(), draw_ref(images, boxes, colors)
    )
    default = (
        np.array([[1, 1, 0, 1], [0, 0, 1, 1], [1, 0, 0, 1]], np.float32)
        if depth > 1
        else np.ones((1, 4))
    )
    got = tf.image.draw_bounding_boxes(images, boxes[:, :3], None).numpy()
    np.testing.assert_array_equal(got, draw_ref(images, boxes[:, :3], default))


def test_draw_bounding_boxes_errors():
    with pytest.raises(tf.errors.InvalidArgumentError, match="Channel depth should be either 1"):
        tf.image.draw_bounding_boxes(np.zeros((1, 4, 4, 2), np.float32), np.zeros((1, 1, 4)), None)
    with pytest.raises(tf.errors.InvalidArgumentError, match="The batch sizes should be the same"):
        tf.image.draw_bounding_boxes(np.zeros((2, 4, 4, 3), np.float32), np.zeros((1, 1, 4)), None)


@pytest.mark.parametrize("cover", [0.1, 0.6])
def test_sample_distorted_bounding_box_respects_its_constraints(cover):
    box = np.array([[[0.1, 0.2, 0.5, 0.9]]], np.float32)
    for seed in range(20):
        begin, size, bb = tf.image.stateless_sample_distorted_bounding_box(
            [100, 200, 3], box, seed=[seed, 1], min_object_covered=cover, area_range=(0.1, 1.0),
            aspect_ratio_range=(0.5, 2.0),
        )  # fmt: skip
        (y, x, z), (h, w, c) = begin.numpy(), size.numpy()
        assert z == 0 and c == -1 and 0 <= y and y + h <= 100 and 0 <= x and x + w <= 200
        if (h, w) != (100, 200):  # not the whole-image fallback
            assert 0.1 * 20000 <= h * w <= 20000
            assert 0.5 - 1 / h <= w / h <= 2.0 + 1 / h
            inter = max(0, min(y + h, 50) - max(y, 10)) * max(0, min(x + w, 180) - max(x, 40))
            assert inter / (40 * 140) >= cover - 1e-6
        np.testing.assert_allclose(
            bb.numpy(), [[[y / 100, x / 200, (y + h) / 100, (x + w) / 200]]], rtol=1e-6
        )
    a = tf.image.stateless_sample_distorted_bounding_box([100, 200, 3], box, seed=[3, 4])
    b = tf.image.stateless_sample_distorted_bounding_box([100, 200, 3], box, seed=[3, 4])
    assert all(np.array_equal(p.numpy(), q.numpy()) for p, q in zip(a, b))
    begin, size, _ = tf.image.sample_distorted_bounding_box([100, 200, 3], box, seed=7)
    assert begin.dtype == tf.int32 and size.shape == (3,)


def test_sample_distorted_bounding_box_needs_boxes_or_the_whole_image():
    empty = np.zeros((1, 0, 4), np.float32)
    with pytest.raises(tf.errors.InvalidArgumentError, match="No bounding boxes provided"):
        tf.image.stateless_sample_distorted_bounding_box([10, 10, 1], empty, seed=[1, 2])
    begin, size, _ = tf.image.stateless_sample_distorted_bounding_box(
        [10, 10, 1], empty, seed=[1, 2], use_image_if_no_bounding_boxes=True
    )
    assert size.numpy()[2] == -1


def proposals_ref(scores, deltas, info, anchors, thr, pre, min_size, post):
    n, h, w, a = scores.shape
    out_boxes, out_scores = np.zeros((n, post, 4), np.float32), np.zeros((n, post), np.float32)
    anc = anchors.reshape(-1, 4)
    clip = np.log(1000 / 16)
    for b in range(n):
        s = scores[b].reshape(-1)
        d = deltas[b].reshape(-1, 4)
        order = sorted(range(len(s)), key=lambda i: (-s[i], i))[:pre]
        cand = []
        for i in order:
            y1, x1, y2, x2 = anc[i]
            ah, aw = y2 - y1, x2 - x1
            cy, cx = y1 + 0.5 * ah + d[i, 0] * ah, x1 + 0.5 * aw + d[i, 1] * aw
            ph, pw = ah * np.exp(min(d[i, 2], clip)), aw * np.exp(min(d[i, 3], clip))
            box = [np.clip(cy - ph / 2, 0, info[b, 0]), np.clip(cx - pw / 2, 0, info[b, 1]),
                   np.clip(cy + ph / 2, 0, info[b, 0]), np.clip(cx + pw / 2, 0, info[b, 1])]  # fmt: skip
            if min(box[2] - box[0], box[3] - box[1]) >= min_size * info[b, 2]:
                cand.append((box, s[i]))
        kept = []
        for box, sc in cand:
            if len(kept) < post and all(iou(box, k) <= thr for k, _ in kept):
                kept.append((box, sc))
        for j, (box, sc) in enumerate(kept):
            out_boxes[b, j], out_scores[b, j] = box, sc
    return out_boxes, out_scores


def test_generate_bounding_box_proposals_matches_reference():
    h, w, a = 4, 5, 3
    scores = RNG.random((2, h, w, a)).astype(np.float32)
    deltas = RNG.normal(0, 0.2, (2, h, w, 4 * a)).astype(np.float32)
    info = np.array([[40, 50, 1, 0, 0], [30, 30, 2, 0, 0]], np.float32)
    base = RNG.uniform(0, 30, (h, w, a, 2))
    anchors = np.concatenate([base, base + RNG.uniform(4, 20, (h, w, a, 2))], -1).astype(np.float32)
    rois, probs = tf.image.generate_bounding_box_proposals(
        scores, deltas, info, anchors.reshape(h, w, 4 * a), nms_threshold=0.5, pre_nms_topn=40,
        min_size=3, post_nms_topn=10,
    )  # fmt: skip
    want_boxes, want_scores = proposals_ref(scores, deltas, info, anchors, 0.5, 40, 3, 10)
    np.testing.assert_allclose(rois.numpy(), want_boxes, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(probs.numpy(), want_scores)
