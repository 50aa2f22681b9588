"""get_file with file:// origins: caching, hash checks (MD5 and SHA-256 computed here with
hashlib), tar and zip extraction, and the unsafe-member filter."""

import hashlib
import io
import os
import tarfile
import zipfile

import pytest

from rill.keras.utils import get_file
from rill.keras.utils.file_utils import extract_archive, validate_file


def _origin(path):
    return "file://" + os.path.abspath(path)


def test_downloads_once_then_uses_the_cache(tmp_path):
    src = tmp_path / "data.bin"
    src.write_bytes(b"hello")
    cache = tmp_path / "cache"
    path = get_file("data.bin", _origin(src), cache_dir=str(cache))
    assert path == str(cache / "datasets" / "data.bin")
    assert open(path, "rb").read() == b"hello"
    src.write_bytes(b"changed")  # the cached copy is used: no second download
    assert open(get_file("data.bin", _origin(src), cache_dir=str(cache)), "rb").read() == b"hello"
    forced = get_file("data.bin", _origin(src), cache_dir=str(cache), force_download=True)
    assert open(forced, "rb").read() == b"changed"


def test_name_defaults_to_the_origin_basename_and_subdir(tmp_path):
    src = tmp_path / "thing.txt"
    src.write_text("x")
    path = get_file(origin=_origin(src), cache_dir=str(tmp_path / "c"), cache_subdir="sub")
    assert path == str(tmp_path / "c" / "sub" / "thing.txt")
    with pytest.raises(ValueError, match="origin"):
        get_file("a")
    with pytest.raises(ValueError, match="cache_dir"):
        get_file("a/b", _origin(src), cache_dir=str(tmp_path))


def test_hashes_are_checked(tmp_path):
    src = tmp_path / "f.bin"
    src.write_bytes(b"payload")
    md5 = hashlib.md5(b"payload").hexdigest()
    sha = hashlib.sha256(b"payload").hexdigest()
    cache = str(tmp_path / "c")
    path = get_file("f.bin", _origin(src), md5_hash=md5, cache_dir=cache)
    assert validate_file(path, sha) and validate_file(path, md5)
    assert get_file("f.bin", _origin(src), file_hash=sha, cache_dir=cache) == path
    with pytest.raises(ValueError, match="corrupted"):
        get_file("g.bin", _origin(src), file_hash="0" * 64, cache_dir=cache)
    # a stale cached file (wrong hash) is downloaded again
    with open(path, "wb") as f:
        f.write(b"stale")
    assert (
        open(get_file("f.bin", _origin(src), file_hash=sha, cache_dir=cache), "rb").read()
        == b"payload"
    )


def _tar(path, members):
    with tarfile.open(path, "w:gz") as t:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))


def test_extracts_tar_and_zip(tmp_path):
    _tar(tmp_path / "arch.tar.gz", {"pkg/a.txt": b"A"})
    with zipfile.ZipFile(tmp_path / "z.zip", "w") as z:
        z.writestr("inner/b.txt", "B")
    cache = str(tmp_path / "c")
    out = get_file("arch.tar.gz", _origin(tmp_path / "arch.tar.gz"), extract=True, cache_dir=cache)
    assert out == os.path.join(cache, "datasets", "arch_extracted")
    assert open(os.path.join(out, "pkg", "a.txt")).read() == "A"
    out = get_file("zipped", _origin(tmp_path / "z.zip"), extract=True, cache_dir=cache)
    assert out == os.path.join(cache, "datasets", "zipped")
    assert os.path.exists(os.path.join(cache, "datasets", "zipped_archive"))
    assert open(os.path.join(out, "inner", "b.txt")).read() == "B"
    out = get_file("t", _origin(tmp_path / "arch.tar.gz"), untar=True, cache_dir=cache)
    assert open(os.path.join(out, "pkg", "a.txt")).read() == "A"


def test_unsafe_members_are_skipped(tmp_path):
    _tar(tmp_path / "evil.tar.gz", {"../escape.txt": b"x", "ok.txt": b"y"})
    dest = tmp_path / "dest"
    assert extract_archive(str(tmp_path / "evil.tar.gz"), str(dest))
    assert (dest / "ok.txt").exists() and not (tmp_path / "escape.txt").exists()
    (tmp_path / "plain.txt").write_text("not an archive")
    assert not extract_archive(str(tmp_path / "plain.txt"), str(dest))
