"""TensorFlow's checkpoint format: rill writes and reads tensor bundles (LevelDB-table
``.index`` + data shard + object graph) interchangeably with TF, and refuses corrupt or
hostile files with ``DataLossError`` / ``NotFoundError`` before allocating."""

import os
import shutil
import struct
import sys
import tracemalloc

import numpy as np
import pytest

import rill as tf
from rill.core import dtypes as _d
from rill.core.protos import message_classes
from rill.train import sstable, tensor_bundle
from rill.train.checkpoint import _GRAPH_KEY

pytest.importorskip("google.protobuf")

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "fixtures")
sys.path.insert(0, FIXTURES)
from make_tf_checkpoints import build, values  # noqa: E402

sys.path.remove(FIXTURES)


def _ref_crc32c(data: bytes) -> int:
    """Bitwise CRC32C (Castagnoli, reflected 0x82F63B78), independent of rill's tables."""
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def _ref_mask(c: int) -> int:
    return ((((c >> 15) | (c << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


def _copy_fixture(tmp_path, name="ckpt-2"):
    d = tmp_path / "fx"
    shutil.copytree(os.path.join(FIXTURES, "tf_module"), d)
    return str(d / name)


def _fresh_dst():
    ck = build(tf)
    for v in [ck.m.v, ck.m.l[0], ck.m.sub.w, ck.m.flags, ck.m.h, ck.x]:
        v.assign(tf.zeros_like(v))
    ck.m.l[1]["a"].assign([b"", b"", b""])
    return ck


def _read_all(prefix):
    r = tf.train.load_checkpoint(prefix)
    return {k: r.get_tensor(k) for k in r.get_variable_to_shape_map()}


# --------------------------------------------------------------------------------------
# TF-written fixtures (no TF needed)
# --------------------------------------------------------------------------------------


def test_reads_tf_written_fixture_values_dtypes_shapes():
    prefix = os.path.join(FIXTURES, "tf_module", "ckpt-2")
    reader = tf.train.load_checkpoint(prefix)
    shapes = reader.get_variable_to_shape_map()
    dtypes = reader.get_variable_to_dtype_map()
    for key, want in values().items():
        got = reader.get_tensor(key)
        want = np.asarray(want)
        assert shapes[key] == list(want.shape), key
        if want.dtype == object:
            assert dtypes[key] == tf.string
            assert list(np.asarray(got).reshape(-1)) == list(want.reshape(-1))
        else:
            assert dtypes[key] == tf.as_dtype(want.dtype)
            np.testing.assert_array_equal(got, want)
            assert np.asarray(got).dtype == want.dtype
    assert reader.get_tensor("save_counter/.ATTRIBUTES/VARIABLE_VALUE") == 2
    assert tf.train.load_variable(prefix, "x/.ATTRIBUTES/VARIABLE_VALUE") == 5


def test_restores_tf_fixture_into_objects_and_consumes_everything():
    prefix = os.path.join(FIXTURES, "tf_module", "ckpt-2")
    dst = _fresh_dst()
    dst.restore(prefix).assert_consumed()
    v = values()
    np.testing.assert_array_equal(dst.m.v.numpy(), v["m/v/.ATTRIBUTES/VARIABLE_VALUE"])
    assert list(dst.m.l[1]["a"].numpy()) == list(v["m/l/1/a/.ATTRIBUTES/VARIABLE_VALUE"])
    np.testing.assert_array_equal(dst.m.h.numpy(), v["m/h/.ATTRIBUTES/VARIABLE_VALUE"])
    assert int(dst.save_counter.numpy()) == 2


def test_fixture_directory_is_found_by_latest_checkpoint_and_list_variables(tmp_path):
    d = os.path.dirname(_copy_fixture(tmp_path))
    assert tf.train.latest_checkpoint(d) == os.path.join(d, "ckpt-2")
    keys = [k for k, _ in tf.train.list_variables(d)]
    assert keys == sorted([*values(), "save_counter/.ATTRIBUTES/VARIABLE_VALUE", _GRAPH_KEY])
    assert next(tf.train.checkpoints_iterator(d, timeout=0.1)) == os.path.join(d, "ckpt-2")


def test_rill_entries_equal_the_tf_fixture_entries(tmp_path):
    """Same objects, same values: every entry has the same dtype, shape, size and CRC."""
    tf_prefix = os.path.join(FIXTURES, "tf_module", "ckpt-1")
    ck = build(tf)
    ours = ck.save(str(tmp_path / "ckpt"))
    # TF orders the root's children (m, x, save_counter) and writes them in that order; the
    # object graph proto differs only in node numbering, so compare the variable tensors
    theirs_r = tensor_bundle.BundleReader(tf_prefix)
    ours_r = tensor_bundle.BundleReader(ours)
    assert ours_r.keys() == theirs_r.keys()
    for k in ours_r.keys():
        a, b = ours_r.entries[k], theirs_r.entries[k]
        assert (a.dtype, a.shape, a.size, a.crc) == (b.dtype, b.shape, b.size, b.crc), k


# --------------------------------------------------------------------------------------
# The table and the bundle encoding, against independent formulas
# --------------------------------------------------------------------------------------


def test_table_layout_matches_leveldb_rules():
    items = [(b"", b"h"), (b"ab", b"1"), (b"abc", b"22")]
    data = sstable.build_table(items)
    # footer: magic number in the last 8 bytes
    assert struct.unpack("<Q", data[-8:])[0] == 0xDB4775248B80FB57
    # first data block: three entries, prefix-compressed: "abc" shares 2 bytes with "ab"
    block = b"\x00\x00\x01h" + b"\x00\x02\x01ab1" + b"\x02\x01\x02c22"
    block += struct.pack("<II", 0, 1)  # one restart point at 0
    assert data[: len(block)] == block
    assert data[len(block)] == 0  # uncompressed
    crc = struct.unpack("<I", data[len(block) + 1 : len(block) + 5])[0]
    assert crc == _ref_mask(_ref_crc32c(block + b"\x00"))
    assert sstable.read_table(data, "t") == items


def test_table_many_blocks_round_trip():
    items = [(f"key/{i:06d}".encode(), os.urandom(i % 700)) for i in range(3000)]
    data = sstable.build_table(items)
    assert len(data) > 3 * 262144  # several data blocks, restarts every 16 entries
    assert sstable.read_table(data, "t") == items


def test_string_tensor_crc_follows_tf_layout(tmp_path):
    """Lengths as varints, masked CRC of the lengths as uint32s, then the bytes; the entry's
    CRC covers the uint32 lengths, that checksum and the bytes."""
    prefix = str(tmp_path / "s")
    strings = [b"ab", b"", b"xyz"]
    tensor_bundle.write_bundle(prefix, [("k", np.array(strings, object), _d.string)])
    raw = open(prefix + ".data-00000-of-00001", "rb").read()
    lengths32 = struct.pack("<3I", 2, 0, 3)
    ck = struct.pack("<I", _ref_mask(_ref_crc32c(lengths32)))
    assert raw == b"\x02\x00\x03" + ck + b"abxyz"
    e = tensor_bundle.BundleReader(prefix).entries["k"]
    assert e.crc == _ref_mask(_ref_crc32c(lengths32 + ck + b"abxyz"))
    assert e.size == len(raw) and e.offset == 0


@pytest.mark.parametrize(
    "arr",
    [
        np.arange(12, dtype=np.float32).reshape(3, 4),
        np.array([1 + 2j, -3j], np.complex64),
        np.array([True, False, True]),
        np.array([[-(2**63), 2**63 - 1]], np.int64),
        np.zeros((0, 3), np.float64),
        np.uint8(200),
    ],
)
def test_numeric_tensor_bytes_are_little_endian_raw(tmp_path, arr):
    prefix = str(tmp_path / "n")
    tensor_bundle.write_bundle(prefix, [("k", arr, _d.as_dtype(arr.dtype))])
    raw = open(prefix + ".data-00000-of-00001", "rb").read()
    assert raw == arr.astype(arr.dtype.newbyteorder("<")).tobytes()
    r = tensor_bundle.BundleReader(prefix)
    assert r.entries["k"].crc == _ref_mask(_ref_crc32c(raw))
    got = r.get("k")
    assert got.dtype == arr.dtype and got.shape == arr.shape
    np.testing.assert_array_equal(got, arr)


def test_object_graph_names_children_values_and_slots(tmp_path):
    opt = tf.keras.optimizers.Adam(0.1)
    w = tf.Variable([1.0, 2.0])
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(w * w)
    opt.apply_gradients([(tape.gradient(loss, w), w)])
    prefix = tf.train.Checkpoint(w=w, opt=opt).write(str(tmp_path / "g"))
    graph = message_classes()["TrackableObjectGraph"]()
    graph.ParseFromString(tf.train.load_variable(prefix, _GRAPH_KEY))
    root = graph.nodes[0]
    kids = {c.local_name: c.node_id for c in root.children}
    assert set(kids) == {"w", "opt"}
    wnode = graph.nodes[kids["w"]]
    assert [a.checkpoint_key for a in wnode.attributes] == ["w/.ATTRIBUTES/VARIABLE_VALUE"]
    onode = graph.nodes[kids["opt"]]
    slots = {s.slot_name: s for s in onode.slot_variables}
    assert set(slots) >= {"m", "v"} or set(slots) >= {"momentum", "velocity"}
    for s in slots.values():
        assert s.original_variable_node_id == kids["w"]
        key = graph.nodes[s.slot_variable_node_id].attributes[0].checkpoint_key
        assert (
            key.startswith("w/.OPTIMIZER_SLOT/opt/")
            and key in tf.train.load_checkpoint(prefix).get_variable_to_shape_map()
        )
    assert all(n.has_checkpoint_values.value for n in graph.nodes)


# --------------------------------------------------------------------------------------
# Corruption: DataLossError naming the file and the tensor; never a silent wrong value
# --------------------------------------------------------------------------------------


def _flip(path, pos, bit):
    b = bytearray(open(path, "rb").read())
    b[pos] ^= 1 << bit
    open(path, "wb").write(bytes(b))


def test_every_bit_flip_in_index_blocks_is_detected(tmp_path):
    prefix = _copy_fixture(tmp_path)
    index = prefix + ".index"
    clean = open(index, "rb").read()
    blocks_end = len(clean) - sstable.FOOTER_SIZE
    want = _read_all(prefix)
    detected = silent_same = 0
    for pos in range(len(clean)):
        open(index, "wb").write(clean)
        _flip(index, pos, pos % 8)
        try:
            got = _read_all(prefix)
        except tf.errors.DataLossError as e:
            assert index in str(e) or prefix in str(e)
            detected += 1
            continue
        # only the footer may take a flip unnoticed (its padding and the unused metaindex
        # handle), and then the values must be exactly the original ones
        assert pos >= blocks_end, f"undetected flip at byte {pos} of {blocks_end}"
        assert got.keys() == want.keys()
        for k in want:
            np.testing.assert_array_equal(got[k], want[k])
        silent_same += 1
    assert detected >= blocks_end


def test_every_byte_flip_in_data_names_the_tensor(tmp_path):
    prefix = _copy_fixture(tmp_path)
    data = prefix + ".data-00000-of-00001"
    clean = open(data, "rb").read()
    r = tensor_bundle.BundleReader(prefix)
    owner = {}
    for k, e in r.entries.items():
        for p in range(e.offset, e.offset + e.size):
            owner[p] = k
    assert len(owner) == len(clean)
    for pos in range(0, len(clean), 3):
        open(data, "wb").write(clean)
        _flip(data, pos, (pos * 5) % 8)
        key = owner[pos]
        with pytest.raises(tf.errors.DataLossError, match=key.replace(".", r"\.")):
            tensor_bundle.BundleReader(prefix).get(key)


def test_restore_from_bit_flipped_data_raises_and_keeps_values(tmp_path):
    prefix = _copy_fixture(tmp_path)
    data = prefix + ".data-00000-of-00001"
    e = tensor_bundle.BundleReader(prefix).entries["m/v/.ATTRIBUTES/VARIABLE_VALUE"]
    _flip(data, e.offset + 5, 3)
    dst = _fresh_dst()
    with pytest.raises(tf.errors.DataLossError, match=r"m/v/\.ATTRIBUTES.*data-00000-of-00001"):
        dst.restore(prefix)
    assert not dst.m.v.numpy().any()


@pytest.mark.parametrize("keep", [0, 1, 100, 300, -1])
def test_truncated_data_raises_data_loss(tmp_path, keep):
    prefix = _copy_fixture(tmp_path)
    data = prefix + ".data-00000-of-00001"
    raw = open(data, "rb").read()
    open(data, "wb").write(raw[: keep if keep >= 0 else len(raw) - 1])
    with pytest.raises(tf.errors.DataLossError, match="truncated"):
        _read_all(prefix)


@pytest.mark.parametrize("keep", [0, 10, 47, 200, -1])
def test_truncated_index_raises_data_loss(tmp_path, keep):
    prefix = _copy_fixture(tmp_path)
    index = prefix + ".index"
    raw = open(index, "rb").read()
    open(index, "wb").write(raw[: keep if keep >= 0 else len(raw) - 1])
    with pytest.raises(tf.errors.DataLossError, match=r"ckpt-2\.index"):
        tf.train.load_checkpoint(prefix)


def test_bad_magic_and_garbage_index(tmp_path):
    prefix = _copy_fixture(tmp_path)
    index = prefix + ".index"
    raw = bytearray(open(index, "rb").read())
    raw[-1] ^= 0xFF
    open(index, "wb").write(bytes(raw))
    with pytest.raises(tf.errors.DataLossError, match="bad magic number"):
        tf.train.load_checkpoint(prefix)
    open(index, "wb").write(b"{not json")
    with pytest.raises(tf.errors.DataLossError, match="neither a TensorFlow nor a rill"):
        tf.train.load_checkpoint(prefix)


def test_missing_files_raise_not_found(tmp_path):
    prefix = _copy_fixture(tmp_path)
    os.remove(prefix + ".data-00000-of-00001")
    with pytest.raises(tf.errors.NotFoundError, match="data-00000-of-00001"):
        tf.train.load_variable(prefix, "x/.ATTRIBUTES/VARIABLE_VALUE")
    with pytest.raises(tf.errors.NotFoundError, match="nothing-here"):
        tf.train.load_checkpoint(str(tmp_path / "nothing-here"))
    with pytest.raises(tf.errors.NotFoundError, match="no-such-key"):
        tf.train.load_checkpoint(_copy_fixture(tmp_path / "b")).get_tensor("no-such-key")


def _write_index(prefix, entries: dict):
    """An index whose entries are ``{key: dict(BundleEntryProto fields, shape=[...])}``."""
    cls = message_classes()
    header = cls["BundleHeaderProto"](num_shards=1)
    header.version.producer = 1
    items = [(b"", header.SerializeToString())]
    for key, f in sorted(entries.items()):
        f = dict(f)
        shape = f.pop("shape")
        e = cls["BundleEntryProto"](**f)
        for n in shape:
            e.shape.dim.add(size=n)
        items.append((key.encode(), e.SerializeToString()))
    open(prefix + ".index", "wb").write(sstable.build_table(items))


def test_shape_bomb_is_refused_before_allocating(tmp_path):
    """A 1 KB data file whose index declares a 4 GiB float32 tensor."""
    prefix = str(tmp_path / "bomb")
    open(prefix + ".data-00000-of-00001", "wb").write(b"\0" * 1024)
    key = "v/.ATTRIBUTES/VARIABLE_VALUE"
    _write_index(prefix, {key: dict(dtype=1, shape=[1 << 30], offset=0, size=4 << 30)})
    tracemalloc.start()
    try:
        with pytest.raises(tf.errors.DataLossError, match=r"\[0, 4294967296\).*1024 bytes"):
            tf.train.load_variable(prefix, key)
        # restoring into a variable checks the declared shape against it first
        with pytest.raises(ValueError, match=r"\(1073741824,\).*shape \(2,\)"):
            tf.train.Checkpoint(v=tf.Variable([1.0, 2.0])).read(prefix)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20


@pytest.mark.parametrize(
    "fields, match",
    [
        (dict(dtype=1, shape=[4], offset=0, size=8), "needs 16 bytes"),
        (dict(dtype=1, shape=[-1], offset=0, size=4), "not fully defined"),
        (dict(dtype=7, shape=[1 << 40], offset=0, size=64), "cannot hold"),
        (dict(dtype=1, shape=[1], offset=0, size=4, shard_id=3), "shard 3 of 1"),
        (dict(dtype=1, shape=[1], offset=-4, size=4), "negative offset"),
        (dict(dtype=20, shape=[1], offset=0, size=4), "unsupported dtype"),
        (dict(dtype=1, shape=[2], offset=60, size=8), "truncated"),
    ],
)
def test_inconsistent_entries_are_refused(tmp_path, fields, match):
    prefix = str(tmp_path / "bad")
    open(prefix + ".data-00000-of-00001", "wb").write(b"\0" * 64)
    _write_index(prefix, {"t": fields})
    with pytest.raises(tf.errors.DataLossError, match=match):
        tf.train.load_checkpoint(prefix).get_tensor("t")


def test_legacy_rill_format_is_still_read(tmp_path):
    """rill's earlier checkpoints: a JSON index and an .npz sharing a token."""
    import json

    prefix = str(tmp_path / "old")
    np.savez(prefix + ".data-00000-of-00001", __token__=np.array("tok"), t0=np.array([1.5, 2.5]))
    os.replace(prefix + ".data-00000-of-00001.npz", prefix + ".data-00000-of-00001")
    index = {
        "format": "rill.checkpoint",
        "version": 1,
        "token": "tok",
        "tensors": {
            "v/.ATTRIBUTES/VARIABLE_VALUE": {"entry": "t0", "dtype": "float64", "shape": [2]}
        },
        "object_graph": [],
    }
    open(prefix + ".index", "w").write(json.dumps(index))
    v = tf.Variable([0.0, 0.0], dtype=tf.float64)
    tf.train.Checkpoint(v=v).read(prefix).assert_consumed()
    np.testing.assert_array_equal(v.numpy(), [1.5, 2.5])
    open(prefix + ".data-00000-of-00001", "wb").write(b"PK\x03\x04garbage")
    with pytest.raises(tf.errors.DataLossError, match="corrupt"):
        tf.train.Checkpoint(v=v).read(prefix)


# --------------------------------------------------------------------------------------
# Against TensorFlow itself
# --------------------------------------------------------------------------------------


def test_tf_reads_rill_checkpoints_both_apis(tmp_path):
    tft = pytest.importorskip("tensorflow")
    prefix = build(tf).save(str(tmp_path / "r"))
    reader = tft.train.load_checkpoint(prefix)
    for key, want in values().items():
        got = reader.get_tensor(key)
        if np.asarray(want).dtype == object:
            assert list(np.asarray(got).reshape(-1)) == list(want.reshape(-1))
        else:
            np.testing.assert_array_equal(got, want)
            assert np.asarray(got).dtype == np.asarray(want).dtype
    dst = build(tft)
    for v in [dst.m.v, dst.m.l[0], dst.m.sub.w, dst.m.h, dst.x]:
        v.assign(tft.zeros_like(v))
    dst.restore(prefix).assert_consumed()
    np.testing.assert_array_equal(dst.m.v.numpy(), values()["m/v/.ATTRIBUTES/VARIABLE_VALUE"])
    assert int(dst.x.numpy()) == 5 and int(dst.save_counter.numpy()) == 1
    # Checkpoint.read of a write() (no save counter)
    p2 = tf.train.Checkpoint(w=tf.Variable([3.0, 4.0])).write(str(tmp_path / "w"))
    w = tft.Variable([0.0, 0.0])
    tft.train.Checkpoint(w=w).read(p2).assert_consumed()
    np.testing.assert_array_equal(w.numpy(), [3.0, 4.0])


def test_index_bytes_equal_tf_for_many_variables(tmp_path):
    """An index of several 256 KiB data blocks: TF and rill read each other's entries."""
    tft = pytest.importorskip("tensorflow")

    def run(lib, prefix):
        vs = {
            f"variable_with_a_rather_long_name_{i:05d}": lib.Variable(float(i)) for i in range(7000)
        }
        vs["s"] = lib.Variable([b"ab", b"c"])
        return lib.train.Checkpoint(**vs).write(prefix)

    ours, theirs = run(tf, str(tmp_path / "a")), run(tft, str(tmp_path / "b"))
    a = tensor_bundle.BundleReader(ours)
    b = tensor_bundle.BundleReader(theirs)
    assert len(open(theirs + ".index", "rb").read()) > 262144
    assert a.keys() == b.keys()
    for k in a.keys():
        if k != _GRAPH_KEY:
            ea, eb = a.entries[k], b.entries[k]
            assert (ea.dtype, ea.shape, ea.size, ea.crc) == (eb.dtype, eb.shape, eb.size, eb.crc)
            np.testing.assert_array_equal(a.get(k), b.get(k))
    got = tft.train.load_checkpoint(ours)
    assert (
        got.get_tensor("variable_with_a_rather_long_name_03999/.ATTRIBUTES/VARIABLE_VALUE") == 3999
    )
    assert sorted(got.get_variable_to_shape_map()) == a.keys()
    mine = tf.train.load_checkpoint(theirs)
    assert (
        mine.get_tensor("variable_with_a_rather_long_name_02500/.ATTRIBUTES/VARIABLE_VALUE") == 2500
    )


def test_tf_rejects_what_rill_rejects_for_corrupt_data(tmp_path):
    tft = pytest.importorskip("tensorflow")
    prefix = _copy_fixture(tmp_path)
    e = tensor_bundle.BundleReader(prefix).entries["m/v/.ATTRIBUTES/VARIABLE_VALUE"]
    _flip(prefix + ".data-00000-of-00001", e.offset + 1, 0)
    # TF's reader raises a RuntimeError here (its error translator does not map this
    # message); rill raises the DataLossError the condition calls for
    with pytest.raises(Exception, match="Checksum does not match"):
        tft.train.load_checkpoint(prefix).get_tensor("m/v/.ATTRIBUTES/VARIABLE_VALUE")
    with pytest.raises(tf.errors.DataLossError, match="Checksum does not match"):
        tf.train.load_checkpoint(prefix).get_tensor("m/v/.ATTRIBUTES/VARIABLE_VALUE")
