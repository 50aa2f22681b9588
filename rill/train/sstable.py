"""LevelDB-format tables (SSTables), the container of TensorFlow's checkpoint ``.index``.

A table is a run of blocks followed by a fixed-size footer::

    data block | trailer ... | metaindex block | trailer | index block | trailer | footer

A block holds key/value entries sorted by key, each key stored as the length it shares
with the previous key plus the bytes that differ (varint32 shared, varint32 unshared,
varint32 value length, key bytes, value bytes); every ``restart_interval``-th entry stores
its whole key, and the block ends with the offsets of those restart entries (fixed32 each)
and their count (fixed32). A block's trailer is one compression-type byte (0: none) and
the masked CRC32C of the block and that byte. The index block maps a key at least as large
as every key of a data block (and smaller than the next block's) to that block's handle
(varint64 offset, varint64 size); the metaindex block is empty. The 48-byte footer holds
the metaindex and index handles, zero padding, and the magic number.

Written exactly as TensorFlow's table builder writes them (uncompressed, 256 KiB blocks,
restarts every 16 entries, every entry in the index block), so the bytes match. Reading
checks every bound, varint, CRC and the key order, and raises ``DataLossError`` naming the
file for any inconsistency: a flipped bit anywhere but the footer's padding is detected.
"""

from __future__ import annotations

import struct

from rill.core.errors import DataLossError

__all__ = ["build_table", "read_table", "MAGIC", "FOOTER_SIZE"]

MAGIC = 0xDB4775248B80FB57
FOOTER_SIZE = 48  # two handles padded to 2 * 20 bytes, then the 8-byte magic number
_BLOCK_SIZE = 262144
_RESTART_INTERVAL = 16
_NO_COMPRESSION, _SNAPPY = 0, 1


def _varint(n: int) -> bytes:
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _masked_crc(data: bytes) -> int:
    from rill.data.tfrecord import masked_crc32c

    return masked_crc32c(data)


class _Block:
    """Accumulates one block's entries (LevelDB's BlockBuilder)."""

    def __init__(self, restart_interval: int):
        self.interval = restart_interval
        self.buf = bytearray()
        self.restarts = [0]
        self.count = 0  # entries since the last restart
        self.last = b""
        self.empty = True

    def add(self, key: bytes, value: bytes) -> None:
        shared = 0
        if self.count < self.interval:
            n = min(len(self.last), len(key))
            while shared < n and self.last[shared] == key[shared]:
                shared += 1
        else:
            self.restarts.append(len(self.buf))
            self.count = 0
        self.buf += _varint(shared) + _varint(len(key) - shared) + _varint(len(value))
        self.buf += key[shared:] + value
        self.last = key
        self.count += 1
        self.empty = False

    def size_estimate(self) -> int:
        return len(self.buf) + 4 * len(self.restarts) + 4

    def finish(self) -> bytes:
        return bytes(self.buf) + struct.pack(
            f"<{len(self.restarts) + 1}I", *self.restarts, len(self.restarts)
        )


def _shortest_separator(start: bytes, limit: bytes) -> bytes:
    """A short key ``k`` with ``start <= k < limit`` (LevelDB's bytewise rule)."""
    n = min(len(start), len(limit))
    i = 0
    while i < n and start[i] == limit[i]:
        i += 1
    if i < n:
        b = start[i]
        if b < 0xFF and b + 1 < limit[i]:
            return start[:i] + bytes([b + 1])
    return start


def _short_successor(key: bytes) -> bytes:
    """A short key ``>= key`` (the first byte that can be incremented, incremented)."""
    for i, b in enumerate(key):
        if b != 0xFF:
            return key[:i] + bytes([b + 1])
    return key


def build_table(items) -> bytes:
    """The bytes of a table holding ``items``, ``(key, value)`` byte pairs in strictly
    increasing key order."""
    out = bytearray()
    index = _Block(1)
    block = _Block(_RESTART_INTERVAL)
    pending = None  # handle of a flushed data block waiting for its index key

    def write_block(b: _Block) -> bytes:
        contents = b.finish()
        handle = _varint(len(out)) + _varint(len(contents))
        trailer = bytes([_NO_COMPRESSION])
        out.extend(contents + trailer + struct.pack("<I", _masked_crc(contents + trailer)))
        return handle

    last = None
    for key, value in items:
        key, value = bytes(key), bytes(value)
        if last is not None and key <= last:
            raise ValueError(f"table keys must be strictly increasing: {key!r} after {last!r}")
        if pending is not None:
            index.add(_shortest_separator(last, key), pending)
            pending = None
        block.add(key, value)
        last = key
        if block.size_estimate() >= _BLOCK_SIZE:
            pending = write_block(block)
            block = _Block(_RESTART_INTERVAL)
    if not block.empty:
        pending = write_block(block)
    if pending is not None:
        index.add(_short_successor(last), pending)
    meta_handle = write_block(_Block(_RESTART_INTERVAL))
    index_handle = write_block(index)
    footer = (meta_handle + index_handle).ljust(FOOTER_SIZE - 8, b"\0")
    out += footer + struct.pack("<II", MAGIC & 0xFFFFFFFF, MAGIC >> 32)
    return bytes(out)


# --------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------


class _Corrupt(Exception):
    pass


def _read_varint(buf, pos: int, limit: int, max_bytes: int) -> tuple[int, int]:
    result = shift = 0
    for _ in range(max_bytes):
        if pos >= limit:
            raise _Corrupt("a varint runs past the end of its block")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
    raise _Corrupt("a varint is longer than its type allows")


def _read_handle(buf, pos: int, limit: int) -> tuple[int, int, int]:
    offset, pos = _read_varint(buf, pos, limit, 10)
    size, pos = _read_varint(buf, pos, limit, 10)
    return offset, size, pos


def _block(data: bytes, offset: int, size: int, what: str) -> memoryview:
    """The verified contents of the block at ``offset`` (``size`` bytes + 5-byte trailer)."""
    end = offset + size + 5
    if end > len(data) - FOOTER_SIZE:
        raise _Corrupt(
            f"the {what} block [{offset}, {end}) lies outside the file's "
            f"{len(data) - FOOTER_SIZE} bytes of blocks (truncated file?)"
        )
    contents = memoryview(data)[offset : offset + size + 1]
    (stored,) = struct.unpack_from("<I", data, offset + size + 1)
    if _masked_crc(contents) != stored:
        raise _Corrupt(f"block checksum mismatch in the {what} block at offset {offset}")
    kind = data[offset + size]
    if kind == _SNAPPY:
        raise _Corrupt(f"the {what} block is snappy-compressed, which rill does not read")
    if kind != _NO_COMPRESSION:
        raise _Corrupt(f"the {what} block has unknown compression type {kind}")
    return contents[:size]


def _entries(block: memoryview, what: str) -> list[tuple[bytes, bytes]]:
    size = len(block)
    if size < 4:
        raise _Corrupt(f"the {what} block is too short ({size} bytes)")
    (n_restarts,) = struct.unpack_from("<I", block, size - 4)
    limit = size - 4 - 4 * n_restarts
    if n_restarts == 0 or limit < 0:
        raise _Corrupt(f"the {what} block declares {n_restarts} restart points")
    restarts = set(struct.unpack_from(f"<{n_restarts}I", block, limit))
    out = []
    key = b""
    pos = 0
    while pos < limit:
        start = pos
        shared, pos = _read_varint(block, pos, limit, 5)
        unshared, pos = _read_varint(block, pos, limit, 5)
        vlen, pos = _read_varint(block, pos, limit, 5)
        if shared > len(key) or (start in restarts and shared):
            raise _Corrupt(f"an entry of the {what} block shares more key than it can")
        if pos + unshared + vlen > limit:
            raise _Corrupt(f"an entry of the {what} block runs past its end")
        new = key[:shared] + bytes(block[pos : pos + unshared])
        pos += unshared
        if out and new <= key:
            raise _Corrupt(f"keys of the {what} block are out of order ({new!r} after {key!r})")
        key = new
        out.append((key, bytes(block[pos : pos + vlen])))
        pos += vlen
    if any(r >= limit for r in restarts if r):
        raise _Corrupt(f"the {what} block has restart points beyond its entries")
    return out


def read_table(data: bytes, name: str) -> list[tuple[bytes, bytes]]:
    """Every ``(key, value)`` of the table ``data`` (the bytes of file ``name``), in key
    order; raises ``DataLossError`` naming ``name`` when anything is inconsistent."""
    try:
        if len(data) < FOOTER_SIZE:
            raise _Corrupt(
                f"the file is {len(data)} bytes, shorter than a table's {FOOTER_SIZE}-byte footer"
            )
        lo, hi = struct.unpack_from("<II", data, len(data) - 8)
        if (hi << 32) | lo != MAGIC:
            raise _Corrupt("not an sstable (bad magic number)")
        start = len(data) - FOOTER_SIZE
        m_off, m_size, pos = _read_handle(data, start, start + 40)
        offset, size, _ = _read_handle(data, pos, start + 40)
        # the metaindex block names no filters in TF's tables; checked, then unused
        _entries(_block(data, m_off, m_size, "metaindex"), "metaindex")
        out: list = []
        for sep, handle in _entries(_block(data, offset, size, "index"), "index"):
            b_off, b_size, end = _read_handle(handle, 0, len(handle))
            if end != len(handle):
                raise _Corrupt("an index entry holds more than a block handle")
            entries = _entries(_block(data, b_off, b_size, "data"), "data")
            if entries and (entries[-1][0] > sep or (out and entries[0][0] <= out[-1][0])):
                raise _Corrupt("a data block's keys disagree with the index block")
            out.extend(entries)
        return out
    except _Corrupt as e:
        raise DataLossError(None, None, f"Corrupted checkpoint index {name}: {e}.") from None
