"""ImageDataGenerator, its iterators and the NumPy transforms: closed forms (flips, a
90-degree rotation, shifts, standardisation) and Keras 3's legacy functions."""

import os

import numpy as np
import pytest

from rill.keras.preprocessing import image

pytest.importorskip("scipy")


def test_affine_closed_forms():
    x = np.arange(25, dtype="float32").reshape(5, 5, 1)
    rot = image.apply_affine_transform(x, theta=90, row_axis=0, col_axis=1, channel_axis=2,
                                       order=0)  # fmt: skip
    assert sorted(rot.ravel()) == sorted(x.ravel())  # a quarter turn permutes pixels
    assert rot[..., 0].tolist() in (np.rot90(x[..., 0]).tolist(), np.rot90(x[..., 0], -1).tolist())
    shifted = image.apply_affine_transform(x, tx=1, row_axis=0, col_axis=1, channel_axis=2,
                                           order=0, fill_mode="constant", cval=-1)  # fmt: skip
    # Keras documents tx as the width shift: output column c <- input column c + 1
    np.testing.assert_array_equal(shifted[:, :4, 0], x[:, 1:, 0])
    assert (shifted[:, 4] == -1).all()
    np.testing.assert_array_equal(image.apply_affine_transform(x, row_axis=0, col_axis=1,
                                                               channel_axis=2), x)  # fmt: skip


def test_channel_shift_clips_to_range():
    x = np.array([[[0.0, 10.0]], [[5.0, 2.0]]])
    out = image.apply_channel_shift(x, 4, channel_axis=2)
    np.testing.assert_array_equal(out, np.clip(x + 4, 0, 10))


def test_flow_standardizes_and_batches():
    x = np.random.RandomState(0).rand(10, 4, 4, 3).astype("float32")
    y = np.arange(10)
    gen = image.ImageDataGenerator(featurewise_center=True, featurewise_std_normalization=True)
    gen.fit(x)
    np.testing.assert_allclose(gen.mean.ravel(), x.mean(axis=(0, 1, 2)), rtol=1e-5)
    it = gen.flow(x, y, batch_size=4, shuffle=False)
    assert len(it) == 3
    bx, by = it[0]
    expect = (x[:4] - x.mean((0, 1, 2))) / (x.std((0, 1, 2)) + 1e-6)
    np.testing.assert_allclose(bx, expect, rtol=1e-4, atol=1e-5)
    assert by.tolist() == [0, 1, 2, 3] and it[2][0].shape == (2, 4, 4, 3)
    flipped = image.ImageDataGenerator(horizontal_flip=True, rescale=2.0)
    out = flipped.apply_transform(x[0], {"flip_horizontal": True})
    np.testing.assert_array_equal(out, x[0][:, ::-1])
    assert flipped.standardize(x[0].copy()) == pytest.approx(x[0] * 2)


def test_seeded_flow_repeats():
    x = np.random.RandomState(1).rand(6, 8, 8, 1).astype("float32")
    gen = image.ImageDataGenerator(rotation_range=30, width_shift_range=0.2, zoom_range=0.2)
    a = next(gen.flow(x, batch_size=3, seed=5))
    b = next(gen.flow(x, batch_size=3, seed=5))
    np.testing.assert_array_equal(a, b)


def test_flow_from_directory(tmp_path):
    PIL = pytest.importorskip("PIL.Image")
    for k, name in enumerate(("a", "b")):
        os.makedirs(tmp_path / name)
        for i in range(2):
            PIL.fromarray(np.full((3, 3, 3), 10 * (k + i), np.uint8)).save(
                tmp_path / name / f"{i}.png"
            )
    it = image.ImageDataGenerator().flow_from_directory(tmp_path, target_size=(3, 3),
                                                        batch_size=4, shuffle=False)  # fmt: skip
    x, y = it[0]
    assert it.class_indices == {"a": 0, "b": 1} and x.shape == (4, 3, 3, 3)
    np.testing.assert_array_equal(y, np.eye(2)[[0, 0, 1, 1]])
    np.testing.assert_array_equal(x[:, 0, 0, 0], [0, 10, 10, 20])


def test_transforms_match_keras():
    tf_ref = pytest.importorskip("tensorflow")
    kimg = tf_ref.keras.preprocessing.image  # Keras 3's legacy module, as tf.keras exports it
    x = np.random.RandomState(2).rand(6, 7, 3).astype("float32")
    kw = dict(theta=17, tx=1.5, ty=-0.5, shear=8, zx=1.1, zy=0.9, row_axis=0, col_axis=1,
              channel_axis=2)  # fmt: skip
    np.testing.assert_allclose(image.apply_affine_transform(x, **kw),
                               kimg.apply_affine_transform(x, **kw), rtol=1e-5)  # fmt: skip
    np.testing.assert_allclose(image.apply_channel_shift(x, 0.3, 2),
                               kimg.apply_channel_shift(x, 0.3, 2))  # fmt: skip
    gen_r = image.ImageDataGenerator(rotation_range=20, height_shift_range=[1, 2])
    gen_k = kimg.ImageDataGenerator(rotation_range=20, height_shift_range=[1, 2])
    assert gen_r.get_random_transform(x.shape, seed=3) == gen_k.get_random_transform(
        x.shape, seed=3
    )
