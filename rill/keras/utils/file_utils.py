"""``keras.utils.get_file``: fetch a file once into Keras' cache (``~/.keras/datasets`` by
default, shared with Keras itself), check its hash, unpack tar/zip archives."""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile

from rill.keras.utils.io import print_msg


def keras_home() -> str:
    """Keras' home folder: ``$KERAS_HOME``, else ``~/.keras`` (``/tmp/.keras`` when the
    home directory cannot be written)."""
    if "KERAS_HOME" in os.environ:
        return os.environ["KERAS_HOME"]
    base = os.path.expanduser("~")
    return os.path.join(base if os.access(base, os.W_OK) else "/tmp", ".keras")


def _hasher(algorithm, file_hash=None):
    # "auto" tells the two apart by length: 64 hex digits are SHA-256, anything else MD5
    if algorithm == "sha256" or (algorithm == "auto" and file_hash and len(file_hash) == 64):
        return hashlib.sha256()
    if algorithm not in ("md5", "auto"):
        raise ValueError(
            f"get_file: unknown hash_algorithm {algorithm!r}; expected 'md5', 'sha256' or 'auto'."
        )
    return hashlib.md5()


def hash_file(fpath, algorithm="sha256", chunk_size=65535) -> str:
    """The hex digest of the file at ``fpath``."""
    hasher = _hasher(algorithm) if isinstance(algorithm, str) else algorithm
    with open(fpath, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_size), b""):
            hasher.update(chunk)
    return hasher.hexdigest()


def validate_file(fpath, file_hash, algorithm="auto", chunk_size=65535) -> bool:
    """Whether the file's MD5 or SHA-256 digest is ``file_hash``."""
    return hash_file(fpath, _hasher(algorithm, file_hash), chunk_size) == str(file_hash)


def _inside(base: str, target: str) -> bool:
    base = os.path.realpath(base)
    return os.path.commonpath([base, os.path.realpath(target)]) == base


def extract_archive(file_path, path=".", archive_format="auto") -> bool:
    """Unpack a tar (plain, gz, bz2, xz) or zip archive into ``path``; False if the file is
    none of the formats asked for. Members that would land outside ``path`` (absolute
    paths, ``..``, links pointing out) are skipped."""
    if archive_format is None:
        return False
    formats = ["tar", "zip"] if archive_format == "auto" else archive_format
    for fmt in [formats] if isinstance(formats, str) else formats:
        if fmt == "tar" and tarfile.is_tarfile(file_path):
            with tarfile.open(file_path) as archive:
                members = [
                    m
                    for m in archive.getmembers()
                    if _inside(path, os.path.join(path, m.name))
                    and not ((m.issym() or m.islnk()) and not _inside(
                        path, os.path.join(path, os.path.dirname(m.name), m.linkname)))
                ]  # fmt: skip
                _extract_or_clean(archive.extractall, path, members)
            return True
        if fmt == "zip" and zipfile.is_zipfile(file_path):
            with zipfile.ZipFile(file_path) as archive:
                members = [
                    m for m in archive.infolist() if _inside(path, os.path.join(path, m.filename))
                ]
                _extract_or_clean(archive.extractall, path, members)
            return True
        if fmt not in ("tar", "zip"):
            raise ValueError(
                f"extract_archive: unknown archive_format {fmt!r}; expected 'tar', 'zip', "
                "'auto' or None."
            )
    return False


def _extract_or_clean(extract, path, members):
    try:
        extract(path, members=members)
    except (tarfile.TarError, zipfile.BadZipFile, RuntimeError, KeyboardInterrupt):
        # a half-written extraction would later pass for a complete one
        if os.path.isfile(path):
            os.remove(path)
        elif os.path.isdir(path):
            shutil.rmtree(path)
        raise


def _download(origin: str, target: str) -> None:
    from rill.keras.utils.progbar import Progbar

    bar = []

    def report(blocks, block_size, total):
        if not bar:
            bar.append(Progbar(total if total > 0 else None))
        done = blocks * block_size
        bar[0].update(min(done, total) if total > 0 else done)

    try:
        try:
            urllib.request.urlretrieve(origin, target, report)
        except urllib.error.HTTPError as e:
            raise Exception(f"URL fetch failure on {origin}: {e.code} -- {e.msg}") from e
        except urllib.error.URLError as e:
            raise Exception(f"URL fetch failure on {origin}: {e.errno} -- {e.reason}") from e
    except (Exception, KeyboardInterrupt):
        if os.path.exists(target):
            os.remove(target)
        raise


def get_file(
    fname=None,
    origin=None,
    untar=False,
    md5_hash=None,
    file_hash=None,
    cache_subdir="datasets",
    hash_algorithm="auto",
    extract=False,
    archive_format="auto",
    cache_dir=None,
    force_download=False,
) -> str:
    """Download ``origin`` into ``cache_dir/cache_subdir/fname`` unless it is already there
    (with the right hash, when ``file_hash`` is given); return its path, or with
    ``extract`` the folder it was unpacked into. ``file://`` origins work too."""
    if origin is None:
        raise ValueError('Please specify the "origin" argument (URL of the file to download).')
    if md5_hash is not None and file_hash is None:
        file_hash, hash_algorithm = md5_hash, "md5"
    base = os.path.expanduser(cache_dir if cache_dir is not None else keras_home())
    if not os.access(base, os.W_OK) and not (not os.path.exists(base) and _creatable(base)):
        base = os.path.join("/tmp" if os.path.isdir("/tmp") else tempfile.gettempdir(), ".keras")
    datadir = os.path.join(base, cache_subdir)
    os.makedirs(datadir, exist_ok=True)
    given = os.fspath(fname) if fname is not None else None
    fname = given
    if not fname:
        fname = os.path.basename(urllib.parse.urlsplit(origin).path)
        if not fname:
            raise ValueError(
                f"Can't parse the file name from the origin provided: '{origin}'. "
                "Please specify the `fname` argument."
            )
    elif os.sep in fname:
        raise ValueError(
            "Paths are no longer accepted as the `fname` argument. To specify the file's "
            f"parent directory, use the `cache_dir` argument. Received: fname={fname}"
        )
    extraction_dir = None
    if extract or untar:
        # Keras 3's layout: "name.tar.gz" -> archive kept as is, unpacked to
        # "name_extracted"; a name without a dot is the folder, the archive "name_archive"
        if given and "." in fname:
            target = os.path.join(datadir, fname)
            extraction_dir = os.path.join(datadir, fname[: fname.find(".")] + "_extracted")
        else:
            extraction_dir = os.path.join(datadir, fname)
            target = os.path.join(datadir, f"{fname}_archive")
    else:
        target = os.path.join(datadir, fname)
    download = force_download or not os.path.exists(target)
    if (
        not download
        and file_hash is not None
        and not validate_file(target, file_hash, hash_algorithm)
    ):
        print_msg(
            f"A local file was found, but it seems to be incomplete or outdated because the "
            f"{hash_algorithm} file hash does not match the original value of {file_hash} so "
            "we will re-download the data."
        )
        download = True
    if download:
        print_msg(f"Downloading data from {origin}")
        _download(origin, target)
        if file_hash is not None and not validate_file(target, file_hash, hash_algorithm):
            raise ValueError(
                f"Incomplete or corrupted file detected. The {hash_algorithm} file hash does "
                f"not match the provided value of {file_hash}."
            )
    if extraction_dir is None:
        return target
    if download or not os.path.exists(extraction_dir):
        if not extract_archive(target, extraction_dir, "tar" if untar else archive_format):
            import warnings

            warnings.warn("Could not extract archive.", stacklevel=2)
    return extraction_dir


def _creatable(path: str) -> bool:
    parent = os.path.dirname(os.path.abspath(path)) or "."
    while not os.path.exists(parent):
        parent = os.path.dirname(parent)
    return os.access(parent, os.W_OK)
