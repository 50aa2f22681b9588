"""TensorFlow's tensor bundles: the files of a checkpoint (and of a SavedModel's variables).

A bundle with prefix ``p`` is ``p.index`` plus data shards ``p.data-00000-of-00001``. The
index is a LevelDB table (``rill.train.sstable``) whose entry ``""`` holds a
``BundleHeaderProto`` (shard count, endianness, version) and whose other entries map each
tensor's key to a ``BundleEntryProto``: dtype, shape, shard, byte offset and size in that
shard, and the masked CRC32C of those bytes. Numbers are stored as their raw little-endian
bytes; a string tensor as the varint64 length of every element, the masked CRC32C of
those lengths (as uint64s), then the elements' bytes.

A tensor saved in slices (``write_sharded_bundle`` with slice specs, as a sharding policy
splits a large tensor over data files) has an index entry with its dtype, full shape and
the slices' extents; each slice is stored as a tensor of its own under the key TF derives
from the name and extents (``slice_key``), and reading assembles them.

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
    "atomic_write", "is_bundle_index", "write_sharded_bundle", "parse_slice_spec",
    "slice_spec", "slice_key",
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
# Slices (a tensor saved in parts: partitioned variables, sharding policies)
# --------------------------------------------------------------------------------------


def parse_slice_spec(spec: str) -> tuple[list, list]:
    """``(full_shape, [(start, length), ...])`` of a TF slice spec such as
    ``"6 4 0,2:-"`` (``-``: the whole dimension, as ``(0, -1)``)."""
    *full, extents = spec.split()
    full_shape = [int(n) for n in full]
    out = []
    for part in extents.split(":"):
        if part == "-":
            out.append((0, -1))
        else:
            start, length = part.split(",")
            out.append((int(start), int(length)))
    if len(out) != len(full_shape):
        raise ValueError(
            f"Slice spec {spec!r} has {len(out)} extents for a rank-{len(full_shape)} shape."
        )
    return full_shape, out


def slice_spec(full_shape, offset, shape) -> str:
    """TF's slice spec string of the part of ``full_shape`` at ``offset`` of ``shape``."""
    dims = " ".join(str(int(n)) for n in full_shape)
    return f"{dims} " + ":".join(f"{int(o)},{int(n)}" for o, n in zip(offset, shape))


def _ordered_num(n: int) -> bytes:
    """OrderedCode's increasing unsigned number: a length byte, then big-endian bytes."""
    body = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    return bytes([len(body)]) + body


def _ordered_signed(v: int) -> bytes:
    """OrderedCode's increasing signed number: the byte count in unary in the leading
    bits (ones, then the sign), then the two's-complement value."""
    x = ~v if v < 0 else v
    n = 1
    while x >= 1 << (7 * n - 1):  # n bytes hold 7n - 1 value bits besides the sign
        n += 1
    raw = bytearray((v & ((1 << (8 * n)) - 1)).to_bytes(n, "big"))
    header = ((1 << n) - 1) << (16 - n) & 0xFFFF  # n ones from the top of 2 bytes
    raw[0] ^= header >> 8
    if n > 1:
        raw[1] ^= header & 0xFF
    return bytes(raw)


def _ordered_string(s: bytes) -> bytes:
    return s.replace(b"\xff", b"\xff\x00").replace(b"\x00", b"\x00\xff") + b"\x00\x01"


def slice_key(name: str, extents) -> bytes:
    """The index key of one slice of tensor ``name`` (TF's ``EncodeTensorNameSlice``)."""
    out = [_ordered_num(0), _ordered_string(name.encode()), _ordered_num(len(extents))]
    for start, length in extents:
        out.append(_ordered_signed(start) + _ordered_signed(length))
    return b"".join(out)


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


def _tensor_bytes(arr: np.ndarray, dtype) -> tuple[list, int]:
    """The chunks a tensor is stored as and their masked CRC32C."""
    if dtype.is_string:
        return _string_bytes(arr)
    raw = np.ascontiguousarray(arr, dtype.np.newbyteorder("<"))
    chunks = [raw.reshape(-1).view(np.uint8)] if raw.size else []
    return chunks, _mask(_crc(chunks[0] if chunks else b""))


def write_bundle(prefix: str, tensors) -> None:
    """Write ``tensors`` (``(key, array, DType)`` triples, written to the data file in
    this order) as the bundle ``prefix``: one data shard, then the index."""
    write_sharded_bundle(prefix, [[(key, "", arr, dtype) for key, arr, dtype in tensors]])


def write_sharded_bundle(prefix: str, shards) -> None:
    """Write ``shards`` (each a list of ``(key, slice_spec, array, DType)``, ``slice_spec``
    ``""`` for a whole tensor) as the bundle ``prefix``: data file ``i`` of ``N`` holds
    shard ``i`` in its order; the index maps each key, and each slice, to its bytes."""
    classes = _classes()
    entry_cls = classes["BundleEntryProto"]
    num_shards = max(len(shards), 1)
    header = classes["BundleHeaderProto"](num_shards=num_shards, endianness=_LITTLE)
    header.version.producer = _VERSION_PRODUCER
    entries: dict = {}
    sliced: dict = {}  # key -> the entry that lists its slices
    staged = _Staged()
    try:
        for shard_id in range(num_shards):
            f = staged.open(data_path(prefix, shard_id, num_shards))
            with f:
                offset = 0
                for key, spec, arr, dtype in shards[shard_id] if shards else ():
                    arr = np.asarray(arr)
                    if not key or key.startswith("\x00"):
                        raise ValueError(f"checkpoint key {key!r} is empty or starts with NUL")
                    chunks, crc = _tensor_bytes(arr, dtype)
                    size = sum(len(c) for c in chunks)
                    for c in chunks:
                        f.write(c)
                    e = entry_cls(
                        dtype=dtype.as_datatype_enum,
                        shard_id=shard_id,
                        offset=offset,
                        size=size,
                        crc32c=crc,
                    )
                    e.shape.SetInParent()
                    for n in arr.shape:
                        e.shape.dim.add(size=n)
                    offset += size
                    spec = spec.strip() if spec else ""
                    if spec:
                        index_key = _add_slice(key, spec, arr, dtype, shard_id, sliced, entry_cls)
                    else:
                        index_key = key.encode()
                    if index_key in entries or (not spec and key in sliced):
                        raise ValueError(f"checkpoint key {key!r} (slice {spec!r}) is used twice")
                    entries[index_key] = e.SerializeToString()
                _sync_close(f)
        for key, e in sliced.items():
            if key.encode() in entries:
                raise ValueError(f"checkpoint key {key!r} is saved both whole and in slices")
            entries[key.encode()] = e.SerializeToString()
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


def _add_slice(key, spec, arr, dtype, shard_id, sliced, entry_cls) -> bytes:
    """Record slice ``spec`` of ``key`` in the key's full entry; its index key."""
    full_shape, extents = parse_slice_spec(spec)
    want = [n if length < 0 else length for n, (_, length) in zip(full_shape, extents)]
    if list(arr.shape) != want:
        raise ValueError(
            f"checkpoint key {key!r}: slice {spec!r} has shape {want} but its tensor has "
            f"shape {list(arr.shape)}"
        )
    full = sliced.get(key)
    if full is None:
        # the full entry names the shard of the first slice, as TF's merge leaves it
        full = sliced[key] = entry_cls(dtype=dtype.as_datatype_enum, shard_id=shard_id)
        full.shape.SetInParent()
        for n in full_shape:
            full.shape.dim.add(size=n)
    elif [d.size for d in full.shape.dim] != full_shape or full.dtype != dtype.as_datatype_enum:
        raise ValueError(f"checkpoint key {key!r}: its slices disagree on the full shape or dtype")
    s = full.slices.add()
    for start, length in extents:
        ext = s.extent.add()
        if length >= 0:  # a whole dimension is an empty extent
            ext.start, ext.length = start, length
    return slice_key(key, extents)


# --------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------


def is_bundle_index(head: bytes, size: int) -> bool:
    """Whether a file of ``size`` bytes starting with ``head`` may be a bundle index
    (JSON indexes of rill's earlier format start with ``{``)."""
    return not head.lstrip().startswith(b"{") or size < 2


class _Entry:
    __slots__ = ("key", "dtype", "shape", "shard", "offset", "size", "crc", "slices")


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
        self._slices: dict = {}  # the index entries of tensor slices, by encoded key
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
            if raw_key.startswith(b"\x00"):  # a slice's key: not a tensor of its own
                self._slices[raw_key] = self._check_entry(repr(raw_key), e)
            else:
                self.entries[key] = self._check_entry(key, e)
        self._shard_sizes: dict = {}

    def _corrupt(self, key: str, why: str) -> DataLossError:
        return DataLossError(
            None, None, f"Corrupted checkpoint {self.prefix}, tensor '{key}': {why}."
        )

    def _check_entry(self, key: str, e) -> _Entry:
        """The entry's facts, checked for consistency without reading any data."""
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
        out = _Entry()
        out.key, out.dtype, out.shape, out.shard = key, dtype, shape, e.shard_id
        out.offset, out.size, out.crc, out.slices = e.offset, e.size, e.crc32c, None
        if e.slices:
            out.slices = [self._extents(key, s, shape) for s in e.slices]
            return out
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
        return out

    def _extents(self, key: str, proto, shape: tuple) -> list:
        """A slice's ``(start, length)`` per dimension (length -1: all of it), checked
        against the tensor's shape."""
        if len(proto.extent) != len(shape):
            raise self._corrupt(key, f"a slice of rank {len(proto.extent)} of shape {list(shape)}")
        out = []
        for ext, n in zip(proto.extent, shape):
            length = ext.length if ext.HasField("length") else -1
            if length < -1 or ext.start < 0 or ext.start + max(length, 0) > n:
                raise self._corrupt(key, f"slice [{ext.start}, +{length}) of a dimension of {n}")
            out.append((ext.start, length))
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
        """The tensor stored under ``key``, its CRC32C verified (assembled from its
        slices when it was saved in parts)."""
        e = self._entry(key)
        if e.slices is not None:
            return self._assemble(e)
        return self._get(e)

    def _assemble(self, e: _Entry) -> np.ndarray:
        parts = []
        for extents in e.slices:
            part = self._slices.get(slice_key(e.key, extents))
            if part is None:
                raise self._corrupt(e.key, f"the data of its slice {extents} is missing")
            # a slice entry's shape must be what its extents say
            want = tuple(n if ln < 0 else ln for n, (_, ln) in zip(e.shape, extents))
            if part.shape != want or part.dtype != e.dtype:
                raise self._corrupt(
                    e.key, f"slice {extents} is stored as {part.dtype.name}{list(part.shape)}"
                )
            # reading first bounds the allocation below by the data files' real sizes
            parts.append((extents, self._get(part)))
        total = 1
        for n in e.shape:
            total *= n
        if sum(a.size for _, a in parts) != total:
            raise self._corrupt(e.key, f"its slices do not cover its shape {list(e.shape)}")
        out = np.empty(e.shape, object if e.dtype.is_string else e.dtype.np)
        seen = np.zeros(e.shape, bool)
        for extents, arr in parts:
            where = tuple(slice(s, None if ln < 0 else s + ln) for s, ln in extents)
            if seen[where].any():
                raise self._corrupt(e.key, f"its slices overlap at {extents}")
            seen[where] = True
            out[where] = arr
        return out

    def _get(self, e: _Entry) -> np.ndarray:
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
