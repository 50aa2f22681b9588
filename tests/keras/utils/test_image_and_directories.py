"""load_img / img_to_array / array_to_img / save_img (Pillow), smart_resize, and the
image/text/audio folder datasets, on files written here."""

import os
import wave

import numpy as np
import pytest

from rill.keras import utils

PIL = pytest.importorskip("PIL.Image")


def _png(path, array):
    PIL.fromarray(array).save(path)


def test_image_round_trip_and_layouts(tmp_path):
    img = np.random.RandomState(0).randint(0, 255, (5, 7, 3)).astype(np.uint8)
    _png(tmp_path / "a.png", img)
    x = utils.img_to_array(utils.load_img(tmp_path / "a.png"))
    assert x.dtype == np.float32 and x.shape == (5, 7, 3)
    np.testing.assert_array_equal(x, img)
    assert utils.img_to_array(img, data_format="channels_first").shape == (3, 5, 7)
    gray = utils.img_to_array(utils.load_img(str(tmp_path / "a.png"), color_mode="grayscale"))
    assert gray.shape == (5, 7, 1)
    assert utils.load_img(tmp_path / "a.png", target_size=(2, 3)).size == (3, 2)
    utils.save_img(tmp_path / "b.png", x, scale=False)
    np.testing.assert_array_equal(np.asarray(PIL.open(tmp_path / "b.png")), img)
    # scale=True stretches to the full 0-255 range first
    back = np.asarray(utils.array_to_img(np.array([[[0.0], [0.5], [1.0]]])))
    np.testing.assert_array_equal(back, [[0, 127, 255]])
    with pytest.raises(ValueError, match="rank 3"):
        utils.array_to_img(np.zeros((2, 2)))


def test_keep_aspect_ratio_crops_the_centre(tmp_path):
    img = np.zeros((4, 8, 3), np.uint8)
    img[:, 2:6] = 255  # a white centre square of 4x4
    _png(tmp_path / "c.png", img)
    out = np.asarray(utils.load_img(tmp_path / "c.png", target_size=(2, 2), keep_aspect_ratio=True))
    assert (out == 255).all()


def test_smart_resize_crops_then_resizes():
    x = np.arange(2 * 4 * 6, dtype="float32").reshape(1, 4, 6, 2)
    from rill.keras.preprocessing.image import smart_resize

    out = smart_resize(x, (4, 4), interpolation="nearest")
    # target aspect 1:1 -> the centre 4x4 window (columns 1..4), no resampling needed
    np.testing.assert_array_equal(out, x[:, :, 1:5])
    assert isinstance(out, np.ndarray)


def _classes(tmp_path, n_per_class=3):
    rng = np.random.RandomState(1)
    for name in ("cats", "dogs"):
        os.makedirs(tmp_path / name)
        for i in range(n_per_class):
            _png(tmp_path / name / f"{i}.png", rng.randint(0, 255, (6, 6, 3)).astype(np.uint8))


def test_image_dataset_from_directory_labels_and_values(tmp_path):
    _classes(tmp_path)
    ds = utils.image_dataset_from_directory(tmp_path, image_size=(6, 6), batch_size=4,
                                            shuffle=False, verbose=False)  # fmt: skip
    assert ds.class_names == ["cats", "dogs"] and len(ds.file_paths) == 6
    xs, ys = zip(*ds.as_numpy_iterator())
    x, y = np.concatenate(xs), np.concatenate(ys)
    assert x.dtype == np.float32 and x.shape == (6, 6, 6, 3) and y.tolist() == [0, 0, 0, 1, 1, 1]
    for img, path in zip(x, ds.file_paths):
        np.testing.assert_array_equal(img, np.asarray(PIL.open(path)))
    cat = utils.image_dataset_from_directory(tmp_path, image_size=(3, 3), label_mode="categorical",
                                             shuffle=False, verbose=False)  # fmt: skip
    _, y = next(iter(cat.as_numpy_iterator()))
    np.testing.assert_array_equal(y, np.eye(2, dtype="float32")[[0, 0, 0, 1, 1, 1]])
    train, val = utils.image_dataset_from_directory(
        tmp_path, image_size=(3, 3), validation_split=0.5, subset="both", seed=1, verbose=False
    )
    assert len(train.file_paths) == 3 and len(val.file_paths) == 3
    assert not set(train.file_paths) & set(val.file_paths)
    with pytest.raises(ValueError, match="seed"):
        utils.image_dataset_from_directory(tmp_path, validation_split=0.2, subset="training")


def test_image_dataset_matches_tensorflow(tmp_path):
    tf_ref = pytest.importorskip("tensorflow")
    _classes(tmp_path)
    kw = dict(image_size=(4, 5), batch_size=6, shuffle=False, verbose=False, label_mode="binary")
    rx, ry = next(iter(tf_ref.keras.utils.image_dataset_from_directory(tmp_path, **kw)))
    gx, gy = next(iter(utils.image_dataset_from_directory(tmp_path, **kw)))
    assert gx.dtype.name == rx.dtype.name and gy.dtype.name == ry.dtype.name
    np.testing.assert_allclose(gx.numpy(), rx.numpy(), atol=1e-3)
    np.testing.assert_array_equal(gy.numpy(), ry.numpy())


def test_text_dataset_from_directory(tmp_path):
    for label, texts in (("neg", ["bad", "awful film"]), ("pos", ["great"])):
        os.makedirs(tmp_path / label)
        for i, t in enumerate(texts):
            (tmp_path / label / f"{i}.txt").write_text(t)
    ds = utils.text_dataset_from_directory(tmp_path, shuffle=False, max_length=4, verbose=False)
    x, y = next(iter(ds.as_numpy_iterator()))
    assert x.tolist() == [b"bad", b"awfu", b"grea"] and y.tolist() == [0, 0, 1]
    assert ds.class_names == ["neg", "pos"]


def _wav(path, samples, width=2, rate=8000):
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(np.asarray(samples, "<i2").tobytes())


def test_audio_dataset_pads_and_scales(tmp_path):
    os.makedirs(tmp_path / "a")
    _wav(tmp_path / "a" / "0.wav", [0, 16384, -32768])
    _wav(tmp_path / "a" / "1.wav", [8192])
    ds = utils.audio_dataset_from_directory(tmp_path, shuffle=False, verbose=False)
    x, y = next(iter(ds.as_numpy_iterator()))
    # 16-bit PCM / 32768, padded with zeros to the longest clip in the batch
    np.testing.assert_array_equal(x[..., 0], [[0, 0.5, -1], [0.25, 0, 0]])
    fixed = utils.audio_dataset_from_directory(tmp_path, shuffle=False, verbose=False,
                                               output_sequence_length=2)  # fmt: skip
    x, _ = next(iter(fixed.as_numpy_iterator()))
    assert x.shape == (2, 2, 1) and x.dtype == np.float32
    with pytest.raises(ImportError, match="tensorflow_io"):
        utils.audio_dataset_from_directory(tmp_path, sampling_rate=16000)
