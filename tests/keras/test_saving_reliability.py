"""Keras file loading that trusts nothing in the file (issue 12): crafted ``.weights.h5`` and
``.keras`` files (shape bombs, truncation, bit flips, missing members, deep nesting) raise a
clear error within a memory bound; loading is linear in depth and iterative; writes are
atomic and a killed writer's temporaries are removed by the next save."""

import io
import os
import random
import re
import signal
import subprocess
import sys
import textwrap
import time
import tracemalloc
import zipfile

import numpy as np
import pytest

from rill import keras
from rill.core.errors import DataLossError, NotFoundError
from rill.keras import layers
from rill.keras.saving import saving_lib

h5py = pytest.importorskip("h5py")

BOMB = 1 << 28  # elements: 1 GiB of float32 if a reader believed the file
MEMORY_BOUND = 32 << 20  # bytes of Python/NumPy allocations a rejected load may peak at
ALLOWED = (ValueError, DataLossError, NotFoundError)


def small_model(compiled=False):
    model = keras.Sequential([keras.Input((4,)), layers.Dense(3, name="d1"), layers.Dense(2)])
    if compiled:
        model.compile(optimizer="adam", loss="mse")
        x = np.ones((4, 4), "float32")
        model.fit(x, np.ones((4, 2), "float32"), epochs=1, verbose=0)
    return model


def peak_during(fn):
    """(exception raised by ``fn`` or None, peak traced bytes while it ran)."""
    tracemalloc.start()
    try:
        fn()
        error = None
    except Exception as e:  # returned to the caller, which asserts on its class
        error = e
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return error, peak


def replace_dataset(path, name, **create):
    with h5py.File(path, "r+") as f:
        del f[name]
        f.create_dataset(name, **create)


# ---------------------------------------------------------------------------- bombs
def test_weights_shape_bomb_is_rejected_before_allocating(tmp_path):
    model = small_model()
    path = str(tmp_path / "m.weights.h5")
    model.save_weights(path)
    # the dataset is declared, never written: the file stays tiny
    replace_dataset(path, "layers/dense/vars/0", shape=(BOMB,), dtype="float32")
    assert os.path.getsize(path) < 64 << 10
    error, peak = peak_during(lambda: small_model().load_weights(path))
    assert isinstance(error, ValueError), error
    msg = str(error)
    assert "kernel" in msg and "(4, 3)" in msg and f"({BOMB},)" in msg, msg
    assert path in msg
    assert peak < MEMORY_BOUND, peak


def test_weights_bomb_in_an_optimizer_group_is_checked_against_the_file_size(tmp_path):
    model = small_model(compiled=True)
    path = str(tmp_path / "m.weights.h5")
    model.save_weights(path)
    with h5py.File(path, "r") as f:
        n = len(f["optimizer/vars"])
    assert n > 1
    # the optimizer restores its own variables: only the file itself bounds what it may read
    replace_dataset(path, "optimizer/vars/1", shape=(BOMB,), dtype="float32")
    error, peak = peak_during(lambda: small_model(compiled=True).load_weights(path))
    assert isinstance(error, DataLossError), error
    assert path in str(error) and str(BOMB) in str(error)
    assert peak < MEMORY_BOUND, peak


def test_compressed_bomb_is_rejected(tmp_path):
    model = small_model(compiled=True)
    path = str(tmp_path / "m.weights.h5")
    model.save_weights(path)
    replace_dataset(
        path, "optimizer/vars/1", shape=(BOMB,), dtype="float32", chunks=(1 << 20,),
        compression="gzip",
    )  # fmt: skip
    error, peak = peak_during(lambda: small_model(compiled=True).load_weights(path))
    assert isinstance(error, ValueError) and "bomb" in str(error), error
    assert peak < MEMORY_BOUND, peak


def test_keras_archive_with_a_bomb_inside(tmp_path):
    model = small_model()
    path = str(tmp_path / "m.keras")
    model.save(path)
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    h5 = tmp_path / "w.h5"
    h5.write_bytes(members["model.weights.h5"])
    replace_dataset(str(h5), "layers/dense_1/vars/0", shape=(BOMB,), dtype="float32")
    members["model.weights.h5"] = h5.read_bytes()
    bomb = str(tmp_path / "bomb.keras")
    with zipfile.ZipFile(bomb, "w") as zf:
        for n, data in members.items():
            zf.writestr(n, data)
    assert os.path.getsize(bomb) < 64 << 10
    error, peak = peak_during(lambda: keras.models.load_model(bomb))
    assert isinstance(error, ValueError), error
    assert f"({BOMB},)" in str(error) and "(3, 2)" in str(error) and bomb in str(error)
    assert peak < MEMORY_BOUND, peak


def test_dtype_mismatch_is_named(tmp_path):
    model = small_model()
    path = str(tmp_path / "m.weights.h5")
    model.save_weights(path)
    replace_dataset(path, "layers/dense/vars/1", data=np.array([b"a", b"b", b"c"]))
    with pytest.raises(ValueError, match=r"bias.*dtype float32.*\|S1"):
        small_model().load_weights(path)


def test_truncated_dataset_storage_is_data_loss(tmp_path):
    # a dataset whose declared shape matches but whose bytes were never written
    model = small_model()
    path = str(tmp_path / "m.weights.h5")
    model.save_weights(path)
    replace_dataset(path, "layers/dense/vars/0", shape=(4, 3), dtype="float32")
    with pytest.raises(DataLossError, match=r"declares shape \(4, 3\).*stores only 0 bytes"):
        small_model().load_weights(path)


def test_valid_files_still_round_trip(tmp_path):
    model = small_model(compiled=True)
    path = str(tmp_path / "m.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    for a, b in zip(model.weights, loaded.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    x = np.arange(8, dtype="float32").reshape(2, 4)
    # reference: the same affine maps in NumPy
    w1, b1, w2, b2 = (v.numpy() for v in model.weights[:4])
    np.testing.assert_allclose(loaded.predict(x, verbose=0), (x @ w1 + b1) @ w2 + b2, rtol=1e-5)


# ------------------------------------------------------------------ truncation, bit flips
def _assert_clear_failure(fn, path):
    error, peak = peak_during(fn)
    assert peak < MEMORY_BOUND, peak
    if error is not None:
        assert isinstance(error, ALLOWED), repr(error)
        assert os.path.basename(path) in str(error) or "vars" in str(error), str(error)
    return error


def test_truncated_weights_and_archives(tmp_path):
    model = small_model(compiled=True)
    weights, archive = str(tmp_path / "m.weights.h5"), str(tmp_path / "m.keras")
    model.save_weights(weights)
    model.save(archive)
    for src in (weights, archive):
        data = open(src, "rb").read()
        for frac in (0.0, 0.1, 0.5, 0.9, 0.99):
            cut = str(tmp_path / ("cut" + os.path.basename(src)))
            with open(cut, "wb") as f:
                f.write(data[: int(len(data) * frac)])
            if src == weights:
                error = _assert_clear_failure(
                    lambda cut=cut: small_model(compiled=True).load_weights(cut), cut
                )
            else:
                error = _assert_clear_failure(lambda cut=cut: keras.models.load_model(cut), cut)
            assert error is not None, (src, frac)


def test_bit_flips(tmp_path):
    model = small_model(compiled=True)
    weights, archive = str(tmp_path / "m.weights.h5"), str(tmp_path / "m.keras")
    model.save_weights(weights)
    model.save(archive)
    rng = random.Random(12)
    detected = 0
    for src in (weights, archive):
        data = bytearray(open(src, "rb").read())
        for _ in range(12):
            flipped = bytearray(data)
            pos = rng.randrange(len(flipped))
            flipped[pos] ^= 1 << rng.randrange(8)
            bad = str(tmp_path / ("flip" + os.path.basename(src)))
            with open(bad, "wb") as f:
                f.write(flipped)
            if src == weights:
                fn = lambda bad=bad: small_model(compiled=True).load_weights(bad)  # noqa: E731
            else:
                fn = lambda bad=bad: keras.models.load_model(bad)  # noqa: E731
            detected += _assert_clear_failure(fn, bad) is not None
    assert detected > 0


def test_flipped_bit_in_archive_weights_is_data_loss(tmp_path):
    # a zip member's CRC catches a flip in the stored weights bytes
    path = str(tmp_path / "m.keras")
    small_model().save(path)
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("model.weights.h5")
    data = bytearray(open(path, "rb").read())
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[start + info.compress_size // 2] ^= 0x10
    open(path, "wb").write(data)
    with pytest.raises(DataLossError, match=re.escape(path) + ".*model.weights.h5"):
        keras.models.load_model(path)


# ----------------------------------------------------------------------- missing members
def _archive(tmp_path, members: dict) -> str:
    path = str(tmp_path / "crafted.keras")
    with zipfile.ZipFile(path, "w") as zf:
        for n, data in members.items():
            zf.writestr(n, data)
    return path


@pytest.fixture
def members(tmp_path):
    path = str(tmp_path / "m.keras")
    small_model().save(path)
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def test_missing_config(tmp_path, members):
    del members["config.json"]
    path = _archive(tmp_path, members)
    with pytest.raises(ValueError, match=re.escape(path) + ".*'config.json'"):
        keras.models.load_model(path)


def test_missing_weights(tmp_path, members):
    del members["model.weights.h5"]
    path = _archive(tmp_path, members)
    with pytest.raises(ValueError, match=re.escape(path) + ".*model.weights.h5"):
        keras.models.load_model(path)
    with pytest.raises(ValueError, match="model.weights.h5"):
        small_model().load_weights(path)


@pytest.mark.parametrize(
    "config", [b"{not json", b"\xff\xfe", b"[1, 2]", b'"a string"', b"{}"]
)  # fmt: skip
def test_malformed_config(tmp_path, members, config):
    members["config.json"] = config
    path = _archive(tmp_path, members)
    with pytest.raises(ValueError, match=re.escape(path) + ".*config.json"):
        keras.models.load_model(path)


def test_not_a_zip_and_missing_files(tmp_path):
    path = str(tmp_path / "x.keras")
    open(path, "wb").write(b"PK\x03\x04 not really a zip")
    with pytest.raises(ValueError, match="x.keras"):
        keras.models.load_model(path)
    with pytest.raises(ValueError, match="x.keras"):
        small_model().load_weights(path)
    with pytest.raises(NotFoundError, match="absent.weights.h5"):
        small_model().load_weights(str(tmp_path / "absent.weights.h5"))


def test_deeply_nested_config(tmp_path, members):
    depth = 200_000
    members["config.json"] = ("[" * depth + "]" * depth).encode()
    path = _archive(tmp_path, members)
    with pytest.raises(ValueError, match="nested too deeply"):
        keras.models.load_model(path)
    # an object nested past the recursion limit inside a valid-looking model config
    levels = 5000  # written as text: json.dumps itself would hit the recursion limit
    inner = '{"class_name": "Dense", "config": ' * levels + "{}" + "}" * levels
    members["config.json"] = (
        '{"class_name": "Sequential", "config": {"name": "s", "layers": [' + inner + "]}}"
    ).encode()
    path = _archive(tmp_path, members)
    error, peak = peak_during(lambda: keras.models.load_model(path))
    assert isinstance(error, (ValueError, TypeError)), repr(error)
    assert peak < 256 << 20


# ------------------------------------------------------------------- depth: linear, iterative
def _deep(n, functional):
    if functional:
        x = inp = keras.Input((2,))
        for _ in range(n):
            x = layers.Dense(2)(x)
        return keras.Model(inp, x)
    return keras.Sequential([keras.Input((2,))] + [layers.Dense(2) for _ in range(n)])


@pytest.mark.parametrize("functional", [False, True])
def test_load_model_calls_each_layer_a_bounded_number_of_times(tmp_path, monkeypatch, functional):
    # quadratic loading rebuilt the stack after every added layer: n(n+1)/2 layer calls
    from rill.keras.layer import Layer

    n = 60
    path = str(tmp_path / "deep.keras")
    _deep(n, functional).save(path)
    calls = []
    original = Layer.__call__

    def counting(self, *args, **kwargs):
        calls.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Layer, "__call__", counting)
    keras.models.load_model(path)
    assert len(calls) <= 3 * n, len(calls)


@pytest.mark.parametrize("functional", [False, True])
def test_model_deeper_than_the_recursion_limit(tmp_path, functional):
    n = sys.getrecursionlimit() + 200
    model = _deep(n, functional)
    path = str(tmp_path / "deep.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert len(loaded.layers) == len(model.layers)
    x = np.ones((1, 2), "float32")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_weight_walk_is_iterative():
    # nested containers deeper than the recursion limit: the walk must not recurse per level
    root = small_model()
    nest: list = []
    holder = nest
    for _ in range(sys.getrecursionlimit() + 100):
        inner: list = []
        holder.append(inner)
        holder = inner
    leaf = layers.Dense(1, name="deep_leaf")
    holder.append(leaf)
    holder.append(root.layers[0])  # reached twice: visited once, where first reached
    root.deep_nest = nest
    seen = []
    saving_lib._walk(root, "", lambda s, p: seen.append((s, p)), set())
    (leaf_path,) = [p for s, p in seen if s is leaf]
    levels = sys.getrecursionlimit() + 100
    assert leaf_path == "deep_nest/" + "/".join(["container"] * levels) + "/dense"
    assert len({id(s) for s, _ in seen}) == len(seen)
    assert [p for s, p in seen if s is root.layers[0]] == ["layers/dense"]


# ------------------------------------------------------------------------ atomic writes
def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_atomic_write_names_and_removes_stale_temporaries(tmp_path):
    path = str(tmp_path / "m.keras")
    live = f".m.keras.tmp{os.getppid()}-{'a' * 32}"  # a live writer's: kept
    stale = f".m.keras.tmp{_dead_pid()}-{'b' * 32}"
    other = f".other.keras.tmp{_dead_pid()}-{'c' * 32}"  # another target's: not ours
    for name in (live, stale, other):
        (tmp_path / name).write_bytes(b"partial")
    seen = []

    def spy(tmp):
        seen.append(os.path.basename(tmp))
        open(tmp, "wb").write(b"new")

    saving_lib._atomic_write(path, spy)
    assert re.fullmatch(rf"\.m\.keras\.tmp{os.getpid()}-[0-9a-f]{{32}}", seen[0])
    assert open(path, "rb").read() == b"new"
    assert sorted(os.listdir(tmp_path)) == sorted([live, other, "m.keras"])


def test_failed_write_keeps_the_old_file(tmp_path):
    path = str(tmp_path / "m.keras")
    open(path, "wb").write(b"old")

    def boom(tmp):
        open(tmp, "wb").write(b"half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        saving_lib._atomic_write(path, boom)
    assert open(path, "rb").read() == b"old" and os.listdir(tmp_path) == ["m.keras"]


_WRITER = textwrap.dedent(
    """
    import sys
    import numpy as np
    from rill import keras
    path, weights_only = sys.argv[1], sys.argv[2] == "1"
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(64),
                              keras.layers.Dense(2)])
    model.compile(optimizer="adam", loss="mse")
    ckpt = keras.callbacks.ModelCheckpoint(path, save_weights_only=weights_only, save_freq=1)
    x, y = np.ones((64, 4), "float32"), np.ones((64, 2), "float32")
    print("ready", flush=True)
    model.fit(x, y, batch_size=8, epochs=10_000, verbose=0, callbacks=[ckpt])
    """
)


def test_sigkill_during_model_checkpoint(tmp_path):
    env = {**os.environ, "PYTHONPATH": os.getcwd() + os.pathsep + os.environ.get("PYTHONPATH", "")}
    rng = random.Random(26)
    kills = 0
    for i in range(10):
        weights_only = i % 2 == 1
        path = str(tmp_path / ("ck.weights.h5" if weights_only else "ck.keras"))
        proc = subprocess.Popen(
            [sys.executable, "-c", _WRITER, path, "1" if weights_only else "0"],
            stdout=subprocess.PIPE, env=env,
        )  # fmt: skip
        try:
            assert proc.stdout.readline().strip() == b"ready"
            deadline = time.monotonic() + 60
            while not os.path.exists(path) and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(rng.uniform(0.0, 0.3))
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        kills += 1
        # the newest complete save is always there and loads
        if weights_only:
            model = keras.Sequential([keras.Input((4,)), layers.Dense(64), layers.Dense(2)])
            model.compile(optimizer="adam", loss="mse")
            model.load_weights(path)
        else:
            model = keras.models.load_model(path)
        assert model.layers[0].kernel.shape == (4, 64)
        # the next save removes whatever temporary the killed writer left
        if weights_only:
            model.save_weights(path)
        else:
            model.save(path)
        assert not [n for n in os.listdir(tmp_path) if ".tmp" in n], os.listdir(tmp_path)
    assert kills == 10


def test_in_memory_weights_source_is_size_checked():
    model = small_model()
    buf = io.BytesIO()
    saving_lib._write_weights(model, buf)
    with h5py.File(buf, "r+") as f:
        del f["layers/dense/vars/0"]
        f.create_dataset("layers/dense/vars/0", shape=(4, 3), dtype="float32")
    with pytest.raises(DataLossError, match="stores only 0 bytes"):
        saving_lib._read_weights(small_model(), buf, filename="mem.weights.h5")
