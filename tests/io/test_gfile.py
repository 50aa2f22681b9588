"""tf.io.gfile against the OS (files written and read with Python's own ``open``) and,
where TensorFlow is installed, against tf.io.gfile itself."""

import os

import pytest

import rill as tf

g = tf.io.gfile
E = tf.errors


def _write(path, data: bytes):
    with open(path, "wb") as f:
        f.write(data)


def _read(path) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def test_gfile_write_then_os_reads(tmp_path):
    p = str(tmp_path / "a.txt")
    with g.GFile(p, "w") as f:
        f.write("hello\n")
        f.write(b"bytes\n")
        assert f.tell() == len(b"hello\nbytes\n")
    assert _read(p) == b"hello\nbytes\n"
    with g.GFile(p, "a") as f:
        f.write("more")
    assert _read(p) == b"hello\nbytes\nmore"


def test_gfile_write_is_lazy_and_buffered(tmp_path):
    p = str(tmp_path / "a")
    _write(p, b"old")
    f = g.GFile(p, "w")
    assert _read(p) == b"old"  # nothing happens before the first write
    f.write("x")
    f.flush()
    assert _read(p) == b"x"
    f.close()


def test_gfile_read_modes(tmp_path):
    p = str(tmp_path / "a.txt")
    _write(p, b"hello\nwor\r\nld\n")
    with g.GFile(p) as f:
        assert f.read(3) == "hel" and f.tell() == 3
        assert f.readline() == "lo\n"
        assert f.readlines() == ["wor\n", "ld\n"]  # the line reader drops '\r'
        assert f.readline() == ""
        f.seek(0)
        assert list(f) == ["hello\n", "wor\n", "ld\n"]
        f.seek(-3, 2)
        assert f.read() == "ld\n"
        f.seek(offset=1)
        f.seek(1, 1)
        assert f.tell() == 2
    with g.GFile(p, "rb") as f:
        assert f.read(4) == b"hell" and f.size() == len(_read(p))


def test_gfile_errors(tmp_path):
    p = str(tmp_path / "a")
    f = g.GFile(str(tmp_path / "missing"))  # lazy: no error yet
    with pytest.raises(E.NotFoundError, match="No such file or directory"):
        f.read()
    with pytest.raises(E.InvalidArgumentError, match="mode is not"):
        g.GFile(p, "x")
    _write(p, b"a")
    with pytest.raises(E.PermissionDeniedError, match="open for writing"):
        g.GFile(p, "r").write("a")
    with pytest.raises(E.PermissionDeniedError, match="open for reading"):
        g.GFile(p, "w").read()
    with pytest.raises(E.FailedPreconditionError, match="Is a directory"):
        g.GFile(str(tmp_path)).read()
    with pytest.raises(TypeError, match="binary or unicode"):
        g.GFile(p, "w").write(3)
    with pytest.raises(E.InvalidArgumentError, match="whence"):
        g.GFile(p).seek(0, 5)
    with pytest.raises(E.NotFoundError):
        g.GFile(str(tmp_path / "no" / "dir"), "w").write("a")


def test_file_prefix_and_schemes(tmp_path):
    p = str(tmp_path / "a.txt")
    _write(p, b"z")
    assert g.exists("file://" + p)
    assert g.GFile("file://" + p).read() == "z"
    assert g.glob("file://" + str(tmp_path) + "/*.txt") == ["file://" + p]
    with pytest.raises(E.UnimplementedError, match="gs"):
        g.exists("gs://bucket/x")
    assert set(g.get_registered_schemes()) >= {"", "file"}


def test_stat_exists_isdir(tmp_path):
    p = str(tmp_path / "a")
    _write(p, b"12345")
    st = g.stat(p)
    assert st.length == 5 and not st.is_directory
    assert st.mtime_nsec == int(os.stat(p).st_mtime) * 10**9
    assert g.stat(str(tmp_path)).is_directory
    with pytest.raises(E.NotFoundError):
        g.stat(str(tmp_path / "zz"))
    assert g.exists(p) and not g.exists(p + "z")
    assert g.isdir(str(tmp_path)) and not g.isdir(p) and not g.isdir(p + "z")


def test_directories(tmp_path):
    d = str(tmp_path)
    g.makedirs(d + "/x/y/z")
    g.makedirs(d + "/x/y/z")  # exists: fine
    g.mkdir(d + "/x")  # exists: fine, as TensorFlow 2.21
    assert os.path.isdir(d + "/x/y/z")
    with pytest.raises(E.NotFoundError):
        g.mkdir(d + "/q/r")
    _write(d + "/f", b"")
    with pytest.raises(E.FailedPreconditionError, match="not a directory"):
        g.makedirs(d + "/f/sub")
    assert g.listdir(d) == sorted(os.listdir(d))
    with pytest.raises(E.NotFoundError, match="Could not find directory"):
        g.listdir(d + "/zz")
    with pytest.raises(E.NotFoundError):
        g.listdir(d + "/f")
    assert list(g.walk(d)) == [
        (d, ["x"], ["f"]),
        (d + "/x", ["y"], []),
        (d + "/x/y", ["z"], []),
        (d + "/x/y/z", [], []),
    ]
    assert [t for t, _, _ in g.walk(d, topdown=False)] == [d + "/x/y/z", d + "/x/y", d + "/x", d]
    seen = []
    assert list(g.walk(d + "/zz", onerror=seen.append)) == []
    assert isinstance(seen[0], E.NotFoundError)
    with pytest.raises(E.FailedPreconditionError, match="Is a directory"):
        g.remove(d + "/x")
    g.rmtree(d + "/x")
    assert not os.path.exists(d + "/x")
    with pytest.raises(E.NotFoundError):
        g.rmtree(d + "/x")
    g.rmtree(d + "/f")  # a file is simply deleted
    assert not os.path.exists(d + "/f")


def test_copy_rename_remove(tmp_path):
    d = str(tmp_path)
    _write(d + "/a", b"A")
    _write(d + "/b", b"B")
    with pytest.raises(E.AlreadyExistsError):
        g.copy(d + "/a", d + "/b")
    g.copy(d + "/a", d + "/b", overwrite=True)
    assert _read(d + "/b") == b"A"
    g.copy(d + "/a", d + "/c")
    assert _read(d + "/c") == b"A"
    with pytest.raises(E.NotFoundError):
        g.copy(d + "/zz", d + "/q")
    with pytest.raises(E.AlreadyExistsError):
        g.rename(d + "/a", d + "/b")
    _write(d + "/a", b"new")
    g.rename(d + "/a", d + "/b", overwrite=True)
    assert _read(d + "/b") == b"new" and not os.path.exists(d + "/a")
    with pytest.raises(E.NotFoundError):
        g.rename(d + "/zz", d + "/q")
    g.remove(d + "/c")
    assert not os.path.exists(d + "/c")
    with pytest.raises(E.NotFoundError):
        g.remove(d + "/c")
    assert sorted(os.listdir(d)) == ["b"]


def test_glob_and_join(tmp_path):
    d = str(tmp_path)
    for n in ("a.txt", "b.txt", ".h.txt", "c.csv"):
        _write(os.path.join(d, n), b"")
    os.mkdir(d + "/sub")
    _write(d + "/sub/e.txt", b"")
    assert g.glob(d + "/*.txt") == sorted(os.path.join(d, n) for n in ("a.txt", "b.txt", ".h.txt"))
    assert g.glob(d + "/*/*.txt") == [d + "/sub/e.txt"]
    assert g.glob(d + "/[ab].txt") == [d + "/a.txt", d + "/b.txt"]
    assert g.glob(d + "/c.csv") == [d + "/c.csv"] and g.glob(d + "/nope") == []
    assert g.glob(d + "/zz/*") == []
    assert g.glob([d + "/c.csv", d + "/sub"]) == [d + "/c.csv", d + "/sub"]
    assert g.join("a", "b", "c") == os.path.join("a", "b", "c")
    assert g.join("file://a", "b") == "file://a/b"


def test_against_tensorflow(tmp_path):
    """The same calls on TensorFlow's gfile give the same results and error classes."""
    tf_real = pytest.importorskip("tensorflow")
    results = {}
    for name, lib, errs in (("tf", tf_real.io.gfile, tf_real.errors), ("rill", g, E)):
        d = str(tmp_path / name)
        os.mkdir(d)
        out = []
        with lib.GFile(d + "/a", "w") as f:
            f.write("x\ny\r\n")
        with lib.GFile(d + "/a") as f:
            out.append((f.readline(), f.tell(), f.readlines()))
        lib.makedirs(d + "/s/t")
        # TensorFlow lists in directory order, rill sorted: compare as sorted lists
        out.append(sorted(lib.listdir(d)))
        out.append(
            sorted((os.path.relpath(t, d), sorted(s), sorted(fs)) for t, s, fs in lib.walk(d))
        )
        out.append(sorted(os.path.relpath(p, d) for p in lib.glob(d + "/*")))
        out.append(lib.stat(d + "/a").length)
        for fn in (
            lambda lib=lib, d=d: lib.copy(d + "/a", d + "/a"),
            lambda lib=lib, d=d: lib.remove(d + "/s"),
            lambda lib=lib, d=d: lib.listdir(d + "/zz"),
            lambda lib=lib, d=d: lib.GFile(d + "/a", "w").read(),
        ):
            try:
                fn()
                out.append(None)
            except errs.OpError as e:
                out.append(type(e).__name__)
        results[name] = out
    assert results["rill"] == results["tf"]
