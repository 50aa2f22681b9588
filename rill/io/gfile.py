"""``tf.io.gfile``: TensorFlow's file API over the local file system.

Paths are local paths, optionally prefixed with ``file://`` (kept in the paths that
``glob`` and ``walk`` return, as TensorFlow does). Other schemes (``gs://``, ``s3://``,
``ram://``...) raise ``UnimplementedError``. Failures raise TensorFlow's error classes
(``NotFoundError``, ``AlreadyExistsError``, ``FailedPreconditionError``...) with its
messages.

``GFile`` opens its file lazily, as TensorFlow's does: constructing one touches nothing,
the first read opens the file for reading and the first write creates (``"w"``) or opens
for appending (``"a"``) the file for writing. Writes are buffered until ``flush``,
``close`` or the end of a ``with`` block.
"""

from __future__ import annotations

import collections
import fnmatch
import os
import posixpath
import shutil

from rill.core.errors import (
    AlreadyExistsError,
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
    UnimplementedError,
)
from rill.ops._op import tf_export

__all__ = [
    "GFile", "FileStatistics", "copy", "exists", "get_registered_schemes", "glob", "isdir",
    "join", "listdir", "makedirs", "mkdir", "remove", "rename", "rmtree", "stat", "walk",
]  # fmt: skip

_FILE = "file://"


def _fspath(path) -> str:
    """The path as a ``str`` (bytes and ``os.PathLike`` accepted, as TensorFlow's)."""
    path = os.fspath(path)
    return path.decode() if isinstance(path, bytes) else path


def _local(path) -> str:
    """The OS path for ``path`` (``file://`` stripped); other schemes are unimplemented."""
    path = _fspath(path)
    if path.startswith(_FILE):
        return path[len(_FILE) :]
    scheme, sep, _ = path.partition("://")
    if sep and scheme and "/" not in scheme:
        raise UnimplementedError(
            f"File system scheme '{scheme}' not implemented (file: '{path}'); rill's "
            f"tf.io.gfile supports local paths and file:// only"
        )
    return path


def _not_found(path) -> NotFoundError:
    return NotFoundError(None, None, f"{path}; No such file or directory")


# --------------------------------------------------------------------------------------
# GFile
# --------------------------------------------------------------------------------------

_MODES = ("r", "w", "a", "r+", "w+", "a+")


@tf_export("io.gfile.GFile")
class GFile:
    """A file: ``read``/``readline``/``readlines``/iteration/``seek``/``tell`` in read modes,
    ``write``/``flush`` in write modes; text (``str``) unless the mode has ``b``."""

    def __init__(self, name, mode: str = "r"):
        self.__name = _fspath(name)
        self.__mode = mode
        bare = mode.replace("b", "")
        if bare not in _MODES:
            raise InvalidArgumentError(
                None, None, "mode is not 'r' or 'w' or 'a' or 'r+' or 'w+' or 'a+'"
            )
        self._binary = "b" in mode
        self._readable = bare.startswith("r") or "+" in bare
        self._writable = not bare == "r"
        self._append = bare.startswith("a")
        self._reader = None
        self._writer = None

    @property
    def name(self) -> str:
        """The file's path, as given."""
        return self.__name

    @property
    def mode(self) -> str:
        """The mode the file was opened with."""
        return self.__mode

    def _read_file(self):
        if not self._readable:
            raise PermissionDeniedError(None, None, "File isn't open for reading")
        if self._reader is None:
            path = _local(self.__name)
            if os.path.isdir(path):
                raise FailedPreconditionError(None, None, f"{self.__name}; Is a directory")
            try:
                self._reader = open(path, "rb")  # noqa: SIM115 - lives as long as the GFile
            except FileNotFoundError:
                raise _not_found(self.__name) from None
        return self._reader

    def _write_file(self):
        if not self._writable:
            raise PermissionDeniedError(None, None, "File isn't open for writing")
        if self._writer is None:
            path = _local(self.__name)
            if os.path.isdir(path):
                raise FailedPreconditionError(None, None, f"{self.__name}; Is a directory")
            try:
                # created (or truncated) at the first write, as TensorFlow's writer is
                self._writer = open(path, "ab" if self._append else "wb")  # noqa: SIM115
            except FileNotFoundError:
                raise _not_found(self.__name) from None
        return self._writer

    def _out(self, data: bytes):
        return data if self._binary else data.decode("utf-8")

    def size(self) -> int:
        """The file's length in bytes."""
        return stat(self.__name).length

    def write(self, file_content) -> None:
        """Append ``file_content`` (``str`` or ``bytes``) to the file."""
        f = self._write_file()
        if isinstance(file_content, str):
            file_content = file_content.encode("utf-8")
        elif isinstance(file_content, (bytearray, memoryview)):
            file_content = bytes(file_content)
        elif not isinstance(file_content, bytes):
            raise TypeError(f"Expected binary or unicode string, got {file_content!r}")
        f.write(file_content)

    def read(self, n: int = -1):
        """Up to ``n`` bytes (all that remain when ``n`` is -1), as ``str`` or ``bytes``."""
        f = self._read_file()
        return self._out(f.read(-1 if n is None or n < 0 else n))

    def readline(self):
        """The next line, with its newline ('' / b'' at the end of the file)."""
        line = self._read_file().readline()
        # TensorFlow's line reader drops carriage returns
        return self._out(line.replace(b"\r", b""))

    def readlines(self) -> list:
        """All remaining lines."""
        return list(self)

    def seek(self, offset=None, whence: int = 0, position=None) -> None:
        """Move the read position: ``whence`` 0 from the start, 1 from here, 2 from the end
        (``position`` is TensorFlow's deprecated name for ``offset``)."""
        f = self._read_file()
        if offset is None and position is None:
            raise TypeError("seek(): offset argument required")
        if offset is not None and position is not None:
            raise TypeError("seek(): offset and position may not be set simultaneously.")
        if position is not None:
            offset = position
        if whence not in (0, 1, 2):
            raise InvalidArgumentError(
                None, None, f"Invalid whence argument: {whence}. Valid values are 0, 1, or 2."
            )
        f.seek(offset, whence)

    def tell(self) -> int:
        """The current position (bytes read, or bytes in the file while writing)."""
        if self._reader is not None or not self._writable:
            return self._read_file().tell()
        return self._write_file().tell()

    def flush(self) -> None:
        """Push buffered writes to the file."""
        if self._writer is not None:
            self._writer.flush()

    def close(self) -> None:
        """Flush and close (a later read or write reopens the file)."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    def seekable(self) -> bool:
        """True: local files support ``seek``."""
        return True

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __iter__(self):
        return self

    def __next__(self):
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    next = __next__


# --------------------------------------------------------------------------------------
# File system functions
# --------------------------------------------------------------------------------------

FileStatistics = collections.namedtuple("FileStatistics", ["length", "mtime_nsec", "is_directory"])
FileStatistics.__doc__ = "A file's ``length`` in bytes, ``mtime_nsec`` and ``is_directory``."


@tf_export("io.gfile.exists")
def exists(path) -> bool:
    """Whether a file or directory exists at ``path``."""
    return os.path.exists(_local(path))


@tf_export("io.gfile.isdir")
def isdir(path) -> bool:
    """Whether ``path`` is a directory."""
    return os.path.isdir(_local(path))


@tf_export("io.gfile.stat")
def stat(path) -> FileStatistics:
    """``FileStatistics(length, mtime_nsec, is_directory)`` of ``path``."""
    try:
        st = os.stat(_local(path))
    except FileNotFoundError:
        raise _not_found(_fspath(path)) from None
    # TensorFlow reports the modification time in whole seconds, scaled to nanoseconds
    return FileStatistics(st.st_size, int(st.st_mtime) * 1_000_000_000, os.path.isdir(_local(path)))


@tf_export("io.gfile.listdir")
def listdir(path) -> list:
    """The names of the entries of directory ``path`` (not ``.`` and ``..``), sorted."""
    local = _local(path)
    if not os.path.isdir(local):
        raise NotFoundError(None, None, f"Could not find directory {_fspath(path)}")
    return sorted(os.listdir(local))


@tf_export("io.gfile.mkdir")
def mkdir(path) -> None:
    """Create directory ``path`` (its parent must exist; an existing directory is fine)."""
    local = _local(path)
    try:
        os.mkdir(local)
    except FileExistsError:
        if not os.path.isdir(local):
            raise AlreadyExistsError(None, None, f"{_fspath(path)}; File exists") from None
    except FileNotFoundError:
        raise _not_found(_fspath(path)) from None
    except NotADirectoryError:
        raise FailedPreconditionError(
            None, None, f"{_fspath(path)}; a parent is not a directory"
        ) from None


@tf_export("io.gfile.makedirs")
def makedirs(path) -> None:
    """Create directory ``path`` and any missing parents (no error if it exists)."""
    local = _local(path)
    # find the deepest existing ancestor: it must be a directory
    probe = os.path.abspath(local)
    while not os.path.exists(probe):
        parent = os.path.dirname(probe)
        if parent == probe:
            break
        probe = parent
    if os.path.exists(probe) and not os.path.isdir(probe):
        raise FailedPreconditionError(None, None, f"{probe} is not a directory")
    os.makedirs(local, exist_ok=True)


@tf_export("io.gfile.remove")
def remove(path) -> None:
    """Delete the file at ``path``."""
    local = _local(path)
    if os.path.isdir(local):
        raise FailedPreconditionError(None, None, f"{_fspath(path)}; Is a directory")
    try:
        os.remove(local)
    except FileNotFoundError:
        raise _not_found(_fspath(path)) from None


@tf_export("io.gfile.rmtree")
def rmtree(path) -> None:
    """Delete ``path`` and everything under it (a file is simply deleted)."""
    local = _local(path)
    if not os.path.lexists(local):
        raise NotFoundError(None, None, f"{_fspath(path)} not found")
    if os.path.isdir(local) and not os.path.islink(local):
        shutil.rmtree(local)
    else:
        os.remove(local)


def _check_target(dst, overwrite):
    local = _local(dst)
    if os.path.exists(local) and not overwrite:
        raise AlreadyExistsError(None, None, "file already exists")
    return local


@tf_export("io.gfile.copy")
def copy(src, dst, overwrite: bool = False) -> None:
    """Copy file ``src`` to ``dst`` (``AlreadyExistsError`` if it exists, unless
    ``overwrite``)."""
    s = _local(src)
    d = _check_target(dst, overwrite)
    if not os.path.exists(s):
        raise _not_found(_fspath(src))
    if os.path.isdir(s):
        raise InvalidArgumentError(
            None,
            None,
            f"{_fspath(dst)}; Invalid argument (copy source {_fspath(src)} is a directory)",
        )
    # write a sibling then rename, so a crash never leaves a half-copied dst
    tmp = f"{d}.rill-copy-{os.getpid()}"
    try:
        shutil.copyfile(s, tmp)
        os.replace(tmp, d)
    except FileNotFoundError:
        raise _not_found(_fspath(dst)) from None
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


@tf_export("io.gfile.rename")
def rename(src, dst, overwrite: bool = False) -> None:
    """Rename (move) ``src`` to ``dst`` (``AlreadyExistsError`` if ``dst`` exists, unless
    ``overwrite``)."""
    s = _local(src)
    d = _check_target(dst, overwrite)
    if not os.path.lexists(s):
        raise _not_found(_fspath(src))
    try:
        os.replace(s, d)
    except FileNotFoundError:
        raise _not_found(_fspath(dst)) from None
    except IsADirectoryError:
        raise FailedPreconditionError(None, None, f"{_fspath(dst)}; Is a directory") from None


def _has_magic(part: str) -> bool:
    return any(c in part for c in "*?[")


@tf_export("io.gfile.glob")
def glob(pattern) -> list:
    """The paths matching ``pattern`` (or any of a list of patterns), sorted. ``*``, ``?``
    and ``[...]`` match within one path component, dot files included."""
    if isinstance(pattern, (list, tuple)):
        out = []
        for p in pattern:
            out.extend(glob(p))
        return out
    pattern = _fspath(pattern)
    prefix = _FILE if pattern.startswith(_FILE) else ""
    local = _local(pattern)
    if not _has_magic(local):
        return [pattern] if os.path.exists(local) else []
    parts = local.split("/")
    # start at the longest prefix without wildcards
    i = next(k for k, part in enumerate(parts) if _has_magic(part))
    bases = ["/".join(parts[:i]) if i else ""]
    if i == 1 and parts[0] == "":
        bases = ["/"]
    for part in parts[i:]:
        nxt = []
        for base in bases:
            d = base or "."
            if not _has_magic(part):
                cand = posixpath.join(base, part) if base else part
                if os.path.lexists(cand):
                    nxt.append(cand)
                continue
            if not os.path.isdir(d):
                continue
            for name in os.listdir(d):
                if fnmatch.fnmatchcase(name, part):
                    nxt.append(posixpath.join(base, name) if base else name)
        bases = nxt
    return sorted(prefix + b for b in bases)


@tf_export("io.gfile.walk")
def walk(top, topdown: bool = True, onerror=None):
    """Yield ``(dirname, subdirectory names, file names)`` for ``top`` and every directory
    under it (parents first unless ``topdown`` is False); a missing ``top`` yields nothing
    (``onerror`` gets the ``NotFoundError``)."""
    top = _fspath(top)
    try:
        names = listdir(top)
    except NotFoundError as e:
        if onerror is not None:
            onerror(e)
        return
    subdirs, files = [], []
    for n in names:
        (subdirs if isdir(join(top, n)) else files).append(n)
    here = (top, subdirs, files)
    if topdown:
        yield here
    for s in subdirs:
        yield from walk(join(top, s), topdown, onerror)
    if not topdown:
        yield here


@tf_export("io.gfile.join")
def join(path, *paths) -> str:
    """Join path components (``"/"`` joining inside a ``scheme://`` URL)."""
    path = _fspath(path)
    rest = [_fspath(p) for p in paths]
    scheme, sep, tail = path.partition("://")
    if sep and scheme and "/" not in scheme:
        return scheme + sep + posixpath.join(tail, *rest)
    return os.path.join(path, *rest)


@tf_export("io.gfile.get_registered_schemes")
def get_registered_schemes() -> list:
    """The URL schemes the file functions accept: ``""`` (plain paths) and ``"file"``."""
    return ["file", ""]
