"""TensorFlow's tensor bundles: the files of a checkpoint (and of a SavedModel's variables).

A bundle with prefix ``p`` is ``p.index`` plus data shards ``p.data-00000-of-00001``. The
index is a LevelDB table (``rill.train.sstable``) whose entry ``""`` holds a
``BundleHeaderProto`` (shard count, endianness, version) and whose other entries map each
tensor's key to a ``BundleEntryProto``: dtype, shape, shard, byte offset and size in that
shard, and the masked CRC32C of those bytes. Numbers are stored as their raw little-endian
bytes; a string tensor as the varint64 length of every element, the masked CRC32C of
those lengths (as uint64s), then the elements' bytes.

Writing: each file goes to a temporary name in the target directory (``.<name>.tmp<pid>-
<random>``), is fsynced, and is renamed into place, data first and index last; the index
is what makes a bundle visible. ``remove_stale_temporaries`` deletes temporaries whose
writer process is gone.

Reading checks before it allocates: every declared size against the dtype and shape and
against the shard's real length, so a small file cannot make the reader allocate much
more than its own size; then each tensor's CRC32C. Corruption raises ``DataLossError`` and
a missing file ``NotFoundError``, naming the file and the tensor.
"""

from __future__ import annotations

import os
import re
import struct
import sys
import threading
import uuid

import numpy as np

from rill.core import dtypes as _d
from rill.core.errors import DataLossError, NotFoundError, UnimplementedError
from rill.train import sstable

__all__ = [
    "write_bundle", "BundleReader", "data_path", "temp_path", "remove_stale_temporaries",
    "atomic_write", "is_bundle_index",
]  # fmt: skip

_VERSION_PRODUCER = 1  # TF's kTensorBundleVersion
_LITTLE, _BIG = 0, 1
_TMP_RE = re.compile(r"\.tmp(\d+)-[0-9a-f]{32}$")
_ACTIVE: set = set()  # temporaries being written by this process (threads included)
_ACTIVE_LOCK = threading.Lock()


def data_path(prefix: str, shard: int = 0, num_shards: int = 1) -> str:
    """The path of data shard ``shard`` of ``num_shards``."""
    return f"{prefix}.data-{shard:05d}-of-{num_shards:05d}"


def _classes() -> dict:
    from rill.core.protos import message_classes

    return message_classes()


def _crc(data) -> int:
    from rill.data.tfrecord import crc32c

    return crc32c(data)


def _mask(crc: int) -> int:
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


def _unmask(masked: int) -> int:
    rot = (masked - 0xA282EAD8) & 0xFFFFFFFF
    return ((rot >> 17) | (rot << 15)) & 0xFFFFFFFF


# --------------------------------------------------------------------------------------
# Crash-safe files
# --------------------------------------------------------------------------------------


def temp_path(path: str) -> str:
    """A fresh temporary name next to ``path`` that records this process as its owner."""
    d, base = os.path.split(path)
    return os.path.join(d, f".{base}.tmp{os.getpid()}-{uuid.uuid4().hex}")


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists (another user's) or cannot tell: leave its files alone
    return True


def remove_stale_temporaries(directory: str, stem: str) -> list:
    """Delete temporaries of files named ``stem*`` in ``directory`` left by writers that
    died (another live process's, and this process's in-flight ones, are kept); returns
    the paths removed."""
    removed = []
    try:
        names = os.listdir(directory or ".")
    except OSError:
        return removed
    for name in names:
        if not name.startswith("." + stem):
            continue
        m = _TMP_RE.search(name)
        if m is None:
            continue
        path = os.path.join(directory, name)
        pid = int(m.group(1))
        with _ACTIVE_LOCK:
            if path in _ACTIVE or (pid != os.getpid() and _pid_alive(pid)):
                continue
        try:
            os.remove(path)
            removed.append(path)
        except OSError:
            pass
    return removed


def _fsync_dir(directory: str) -> None:
    if sys.platform == "win32":
        return
    try:
        fd = os.open(directory or ".", os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class _Staged:
    """Files written under temporary names and renamed into place together, in order."""

    def __init__(self):
        self.moves: list = []

    def open(self, path: str):
        tmp = temp_path(path)
        with _ACTIVE_LOCK:
            _ACTIVE.add(tmp)
        self.moves.append((tmp, path))
        return open(tmp, "xb")

    def commit(self) -> None:
        for tmp, path in self.moves:
            os.replace(tmp, path)
        if self.moves:
            _fsync_dir(os.path.dirname(self.moves[-1][1]))
        with _ACTIVE_LOCK:
            _ACTIVE.difference_update(tmp for tmp, _ in self.moves)
        self.moves = []

    def discard(self) -> None:
        for tmp, _ in self.moves:
            try:
                os.remove(tmp)
            except OSError:
                pass
            with _ACTIVE_LOCK:
                _ACTIVE.discard(tmp)
        self.moves = []


def _sync_close(f) -> None:
    f.flush()
    os.fsync(f.fileno())
    f.close()


def atomic_write(path: str, data: bytes) -> None:
    """Write ``path`` so that it holds either its old or its new contents at every
    instant: a temporary file, fsynced, renamed into place."""
    staged = _Staged()
    try:
        f = staged.open(path)
        with f:
            f.write(data)
            _sync_close(f)
        staged.commit()
    except BaseException:
        staged.discard()
        raise


# --------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------


def _string_bytes(arr: np.ndarray) -> tuple[list, int]:
    """The chunks of a string tensor's bytes and their masked CRC32C."""
    items = [x.encode() if isinstance(x, str) else bytes(x) for x in arr.reshape(-1).tolist()]
    lengths = [len(x) for x in items]
    fixed = _fixed_lengths(lengths, "<")
    varints = b"".join(sstable._varint(n) for n in lengths)
    length_ck = struct.pack("<I", _mask(_crc(fixed)))
    body = b"".join(items)
    # the tensor's CRC covers the lengths as fixed-width integers (not as written), the
    # length checksum, then the elements
    return [varints, length_ck, body], _mask(_crc(fixed + length_ck + body))


def _fixed_lengths(lengths: list, order: str) -> bytes:
    """String lengths as TF checksums them: uint32 each, uint64 for those >= 2**32."""
    if all(n <= 0xFFFFFFFF for n in lengths):
        return np.asarray(lengths, order + "u4").tobytes()
    return b"".join(struct.pack(order + ("I" if n <= 0xFFFFFFFF else "Q"), n) for n in lengths)


def write_bundle(prefix: str, tensors) -> None:
    """Write ``tensors`` (``(key, array, DType)`` triples, written to the data file in
    this order) as the bundle ``prefix``: one data shard, then the index."""
    classes = _classes()
    entry_cls = classes["BundleEntryProto"]
    header = classes["BundleHeaderProto"](num_shards=1, endianness=_LITTLE)
    header.version.producer = _VERSION_PRODUCER
    entries = {}
    staged = _Staged()
    try:
        f = staged.open(data_path(prefix))
        with f:
            offset = 0
            for key, arr, dtype in tensors:
                if key in entries or not key:
                    raise ValueError(f"checkpoint key {key!r} is empty or used twice")
                arr = np.asarray(arr)
                if dtype.is_string:
                    chunks, crc = _string_bytes(arr)
                else:
                    raw = np.ascontiguousarray(arr, dtype.np.newbyteorder("<"))
                    chunks = [raw.reshape(-1).view(np.uint8)] if raw.size else []
                    crc = _mask(_crc(chunks[0] if chunks else b""))
                size = sum(len(c) for c in chunks)
                for c in chunks:
                    f.write(c)
                e = entry_cls(dtype=dtype.as_datatype_enum, offset=offset, size=size, crc32c=crc)
                e.shape.SetInParent()
                for n in arr.shape:
                    e.shape.dim.add(size=n)
                entries[key.encode()] = e.SerializeToString()
                offset += size
            _sync_close(f)
        items = [(b"", header.SerializeToString())] + sorted(entries.items())
        index = sstable.build_table(items)
        f = staged.open(prefix + ".index")
        with f:
            f.write(index)
            _sync_close(f)
        staged.commit()
    except BaseException:
        staged.discard()
        raise


# --------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------


def is_bundle_index(head: bytes, size: int) -> bool:
    """Whether a file of ``size`` bytes starting with ``head`` may be a bundle index
    (JSON indexes of rill's earlier format start with ``{``)."""
    return not head.lstrip().startswith(b"{") or size < 2


class _Entry:
    __slots__ = ("key", "dtype", "shape", "shard", "offset", "size", "crc")


class BundleReader:
    """Reads a bundle's index eagerly and its tensors on demand."""

    def __init__(self, prefix: str, index_bytes: bytes | None = None):
        self.prefix = prefix = os.fspath(prefix)
        index_path = prefix + ".index"
        self.index_path = index_path
        if index_bytes is None:
            try:
                with open(index_path, "rb") as f:
                    index_bytes = f.read()
            except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
                raise NotFoundError(
                    None, None, f"Failed to find any matching files for {prefix} (no {index_path})."
                ) from None
        items = sstable.read_table(index_bytes, index_path)
        classes = _classes()
        if not items or items[0][0] != b"":
            raise DataLossError(
                None, None, f"Corrupted checkpoint index {index_path}: it has no bundle header."
            )
        from google.protobuf.message import DecodeError

        header = classes["BundleHeaderProto"]()
        try:
            header.ParseFromString(items[0][1])
        except DecodeError:
            raise DataLossError(
                None, None, f"Corrupted checkpoint index {index_path}: unreadable bundle header."
            ) from None
        self.num_shards = header.num_shards
        if not 1 <= self.num_shards <= 1 << 20:
            raise DataLossError(
                None,
                None,
                f"Corrupted checkpoint index {index_path}: the header declares "
                f"{self.num_shards} data shards.",
            )
        if header.endianness not in (_LITTLE, _BIG):
            raise DataLossError(
                None,
                None,
                f"Corrupted checkpoint index {index_path}: unknown endianness {header.endianness}.",
            )
        self.big_endian = header.endianness == _BIG
        bad = list(header.version.bad_consumers)
        if _VERSION_PRODUCER in bad or header.version.min_consumer > _VERSION_PRODUCER:
            raise UnimplementedError(
                None,
                None,
                f"Checkpoint {index_path} needs a newer reader (bundle version "
                f"min_consumer {header.version.min_consumer}, bad consumers {bad}); rill "
                f"reads version {_VERSION_PRODUCER}.",
            )
        entry_cls = classes["BundleEntryProto"]
        self.entries: dict = {}
        for raw_key, value in items[1:]:
            try:
                key = raw_key.decode()
            except UnicodeDecodeError:
                key = raw_key.decode("latin-1")
            e = entry_cls()
            try:
                e.ParseFromString(value)
            except DecodeError:
                raise DataLossError(
                    None,
                    None,
                    f"Corrupted checkpoint index {index_path}: unreadable entry for tensor "
                    f"'{key}'.",
                ) from None
            self.entries[key] = self._check_entry(key, e)
        self._shard_sizes: dict = {}

    def _corrupt(self, key: str, why: str) -> DataLossError:
        return DataLossError(
            None, None, f"Corrupted checkpoint {self.prefix}, tensor '{key}': {why}."
        )

    def _check_entry(self, key: str, e) -> _Entry:
        """The entry's facts, checked for consistency without reading any data."""
        if e.slices:
            raise UnimplementedError(
                None,
                None,
                f"Checkpoint {self.prefix}: tensor '{key}' is saved in slices (a partitioned "
                "variable), which rill does not read.",
            )
        try:
            dtype = _d.as_dtype(e.dtype)
            if dtype.is_variant or dtype.name == "resource":
                raise TypeError
            np_dtype = None if dtype.is_string else dtype.np
        except (TypeError, ImportError):
            raise self._corrupt(key, f"unsupported dtype enum {e.dtype}") from None
        if e.shape.unknown_rank or any(d.size < 0 for d in e.shape.dim):
            raise self._corrupt(key, "the stored shape is not fully defined")
        shape = tuple(int(d.size) for d in e.shape.dim)
        n = 1
        for s in shape:
            n *= s
        if not 0 <= e.shard_id < self.num_shards:
            raise self._corrupt(key, f"shard {e.shard_id} of {self.num_shards}")
        if e.offset < 0 or e.size < 0:
            raise self._corrupt(key, f"negative offset {e.offset} or size {e.size}")
        if np_dtype is not None and e.size != n * np_dtype.itemsize:
            raise self._corrupt(
                key,
                f"shape {list(shape)} of {dtype.name} needs {n * np_dtype.itemsize} bytes but "
                f"the index declares {e.size}",
            )
        if np_dtype is None and (e.size < n + 4 if n else e.size not in (0, 4)):
            # each element needs at least a one-byte length, plus the length checksum
            raise self._corrupt(
                key, f"{e.size} bytes cannot hold {n} strings (shape {list(shape)})"
            )
        out = _Entry()
        out.key, out.dtype, out.shape, out.shard = key, dtype, shape, e.shard_id
        out.offset, out.size, out.crc = e.offset, e.size, e.crc32c
        return out

    # -- queries ---------------------------------------------------------------------
    def keys(self) -> list:
        return sorted(self.entries)

    def has(self, key: str) -> bool:
        return key in self.entries

    def shape(self, key: str) -> list:
        return list(self._entry(key).shape)

    def dtype(self, key: str):
        return self._entry(key).dtype

    def _entry(self, key: str) -> _Entry:
        e = self.entries.get(key)
        if e is None:
            raise NotFoundError(None, None, f"Key {key} not found in checkpoint {self.prefix}")
        return e

    def _read(self, e: _Entry) -> bytes:
        path = data_path(self.prefix, e.shard, self.num_shards)
        size = self._shard_sizes.get(path)
        if size is None:
            try:
                size = self._shard_sizes[path] = os.stat(path).st_size
            except (FileNotFoundError, NotADirectoryError):
                raise NotFoundError(
                    None,
                    None,
                    f"Checkpoint {self.prefix}: data file {path} (holding tensor '{e.key}') "
                    "is missing.",
                ) from None
        if e.offset + e.size > size:
            raise DataLossError(
                None,
                None,
                f"Corrupted checkpoint {self.prefix}, tensor '{e.key}': it declares bytes "
                f"[{e.offset}, {e.offset + e.size}) but {path} has {size} bytes (truncated?).",
            )
        with open(path, "rb") as f:
            f.seek(e.offset)
            data = f.read(e.size)
        if len(data) != e.size:
            raise DataLossError(
                None,
                None,
                f"Corrupted checkpoint {self.prefix}, tensor '{e.key}': read {len(data)} of "
                f"{e.size} bytes from {path} (truncated?).",
            )
        return data

    def get(self, key: str) -> np.ndarray:
        """The tensor stored under ``key``, its CRC32C verified."""
        e = self._entry(key)
        data = self._read(e)
        if e.dtype.is_string:
            return self._strings(e, data)
        got = _mask(_crc(data))
        if got != e.crc:
            raise self._crc_error(e, got)
        np_dtype = e.dtype.np.newbyteorder(">" if self.big_endian else "<")
        arr = np.frombuffer(data, np_dtype).astype(e.dtype.np, copy=True)
        return arr.reshape(e.shape)

    def _crc_error(self, e: _Entry, got: int) -> DataLossError:
        path = data_path(self.prefix, e.shard, self.num_shards)
        return DataLossError(
            None,
            None,
            f"Checksum does not match for tensor '{e.key}' in {path}: stored {e.crc:#010x} "
            f"vs. calculated on the restored bytes {got:#010x} (the checkpoint is corrupt, or was only partly written).",
        )

    def _strings(self, e: _Entry, data: bytes) -> np.ndarray:
        n = 1
        for s in e.shape:
            n *= s
        lengths = []
        pos = 0
        try:
            for _ in range(n):
                v, pos = sstable._read_varint(data, pos, len(data), 10)
                lengths.append(v)
        except sstable._Corrupt:
            raise self._corrupt(e.key, "the string lengths run past the tensor's bytes") from None
        fmt = ">" if self.big_endian else "<"
        fixed = _fixed_lengths(lengths, fmt)
        if pos + 4 + sum(lengths) != len(data):
            raise self._corrupt(
                e.key, f"string lengths add up to {sum(lengths)} but {len(data)} bytes are stored"
            )
        got = _mask(_crc(fixed + data[pos:]))
        if got != e.crc:
            raise self._crc_error(e, got)
        pos += 4
        out = np.empty(n, object)
        for i, ln in enumerate(lengths):
            out[i] = data[pos : pos + ln]
            pos += ln
        return out.reshape(e.shape)
