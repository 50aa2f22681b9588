"""``tf.train.Checkpoint``, ``CheckpointManager`` and the checkpoint readers."""

import importlib.util
import os

import numpy as np
import pytest

import rill as tf
from rill.train import checkpoint as ckpt_mod

HAS_TF = importlib.util.find_spec("tensorflow") is not None
X = np.random.RandomState(0).randn(16, 4).astype(np.float32)
Y = np.random.RandomState(1).randn(16, 1).astype(np.float32)


class Net(tf.Module):
    def __init__(self, seed=0):
        super().__init__()
        rs = np.random.RandomState(seed)
        self.w = tf.Variable(rs.randn(4, 3).astype(np.float32))
        self.b = tf.Variable(np.zeros(3, np.float32))
        self.head = [tf.Variable(rs.randn(3, 1).astype(np.float32))]

    def __call__(self, x):
        return tf.matmul(tf.nn.relu(tf.matmul(x, self.w) + self.b), self.head[0])


def _train(model, opt, steps, variables=None):
    for _ in range(steps):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(model(X) - Y))
        vs = variables() if variables else model.trainable_variables
        opt.apply_gradients(zip(tape.gradient(loss, vs), vs))


def _keys(path):
    return [k for k, _ in tf.train.list_variables(path)]


# --------------------------------------------------------------------------------------
# Round trips
# --------------------------------------------------------------------------------------


def test_values_round_trip_exactly_and_keep_identity(tmp_path):
    vals = {
        "f32": np.random.RandomState(0).randn(3, 2).astype(np.float32),
        "f64": np.array([np.pi, -0.0, np.inf]),
        "i64": np.array([2**62, -1], np.int64),
        "flag": np.array([True, False]),
        "scalar": np.float32(1.5),
    }
    src = {k: tf.Variable(v) for k, v in vals.items()}
    src["s"] = tf.Variable([b"a\x00b", b"", "\u00e9".encode()])
    path = tf.train.Checkpoint(**src).write(str(tmp_path / "rt"))
    dst = {k: tf.Variable(tf.zeros_like(v)) for k, v in src.items() if k != "s"}
    dst["s"] = tf.Variable([b"", b"", b""])
    ids = {k: id(v) for k, v in dst.items()}
    tf.train.Checkpoint(**dst).read(path).assert_consumed()
    for k, v in vals.items():
        np.testing.assert_array_equal(dst[k].numpy(), v)
        assert dst[k].numpy().dtype == np.asarray(v).dtype
    assert list(dst["s"].numpy()) == [b"a\x00b", b"", "\u00e9".encode()]
    assert {k: id(v) for k, v in dst.items()} == ids


def test_files_are_a_tensorflow_tensor_bundle(tmp_path):
    pytest.importorskip("google.protobuf")
    from rill.train.tensor_bundle import BundleReader

    path = tf.train.Checkpoint(v=tf.Variable([1.0, 2.0])).write(str(tmp_path / "f"))
    assert sorted(os.listdir(tmp_path)) == ["f.data-00000-of-00001", "f.index"]
    reader = BundleReader(path)
    assert "v/.ATTRIBUTES/VARIABLE_VALUE" in reader.keys()
    np.testing.assert_array_equal(reader.get("v/.ATTRIBUTES/VARIABLE_VALUE"), [1.0, 2.0])


def test_keys_for_modules_and_containers(tmp_path):
    class M(tf.Module):
        def __init__(self):
            super().__init__()
            self.v = tf.Variable(1.0)
            self.l = [tf.Variable(2.0), {"a": tf.Variable(3.0)}]
            self.sub = tf.Module(name="inner")
            self.sub.w = tf.Variable([1.0, 2.0])
            self.note = "not state"

    path = tf.train.Checkpoint(m=M(), x=tf.Variable(5)).write(str(tmp_path / "m"))
    assert tf.train.list_variables(path) == [
        ("_CHECKPOINTABLE_OBJECT_GRAPH", []),
        ("m/l/0/.ATTRIBUTES/VARIABLE_VALUE", []),
        ("m/l/1/a/.ATTRIBUTES/VARIABLE_VALUE", []),
        ("m/sub/w/.ATTRIBUTES/VARIABLE_VALUE", [2]),
        ("m/v/.ATTRIBUTES/VARIABLE_VALUE", []),
        ("x/.ATTRIBUTES/VARIABLE_VALUE", []),
    ]


def test_shared_variable_saved_once_and_restored_everywhere(tmp_path):
    v = tf.Variable(3.0)
    m = tf.Module()
    m.a, m.b = v, [v]
    path = tf.train.Checkpoint(m=m).write(str(tmp_path / "s"))
    assert _keys(path) == ["_CHECKPOINTABLE_OBJECT_GRAPH", "m/a/.ATTRIBUTES/VARIABLE_VALUE"]
    m2 = tf.Module()
    m2.a = m2_v = tf.Variable(0.0)
    m2.b = [m2_v]
    tf.train.Checkpoint(m=m2).read(path).assert_consumed()
    assert m2.b[0].numpy() == 3.0


def test_root_nested_checkpoint_and_late_attributes(tmp_path):
    net = Net()
    inner = tf.train.Checkpoint(net=net)
    outer = tf.train.Checkpoint(inner=inner)
    outer.extra = tf.Variable(7.0)  # attributes set later are tracked too
    path = outer.write(str(tmp_path / "n"))
    assert "inner/net/w/.ATTRIBUTES/VARIABLE_VALUE" in _keys(path)
    assert "extra/.ATTRIBUTES/VARIABLE_VALUE" in _keys(path)
    rooted = tf.train.Checkpoint(root=net).write(str(tmp_path / "r"))
    assert "w/.ATTRIBUTES/VARIABLE_VALUE" in _keys(rooted)
    net2 = Net(seed=5)
    tf.train.Checkpoint(root=net2).read(rooted).assert_consumed()
    np.testing.assert_array_equal(net2.w.numpy(), net.w.numpy())


def test_save_counts_and_writes_state_file(tmp_path):
    v = tf.Variable(1.0)
    ck = tf.train.Checkpoint(v=v)
    prefix = str(tmp_path / "ck")
    assert ck.save(prefix) == prefix + "-1"
    v.assign(2.0)
    assert ck.save(prefix) == prefix + "-2"
    assert ck.save_counter.numpy() == 2
    assert (tmp_path / "checkpoint").read_text() == (
        'model_checkpoint_path: "ck-2"\nall_model_checkpoint_paths: "ck-2"\n'
    )
    assert tf.train.latest_checkpoint(str(tmp_path)) == prefix + "-2"
    ck2 = tf.train.Checkpoint(v=tf.Variable(0.0))
    ck2.restore(prefix + "-1").assert_consumed()
    assert ck2.v.numpy() == 1.0 and ck2.save_counter.numpy() == 1


def test_write_and_read_do_not_create_save_counter(tmp_path):
    path = tf.train.Checkpoint(v=tf.Variable(1.0)).write(str(tmp_path / "w"))
    assert "save_counter/.ATTRIBUTES/VARIABLE_VALUE" not in _keys(path)
    c = tf.train.Checkpoint(v=tf.Variable(2.0))
    c.read(path).assert_consumed()
    assert c._save_counter is None
    # restore creates the counter (as TF does), which a written checkpoint lacks
    status = tf.train.Checkpoint(v=tf.Variable(2.0)).restore(path)
    with pytest.raises(AssertionError, match="save_counter"):
        status.assert_consumed()
    status.assert_nontrivial_match()


def test_shape_mismatch_raises(tmp_path):
    path = tf.train.Checkpoint(v=tf.Variable(1.0)).write(str(tmp_path / "x"))
    with pytest.raises(ValueError, match="incompatible tensor with shape"):
        tf.train.Checkpoint(v=tf.Variable([1.0, 2.0])).read(path)


def test_non_trackable_argument_raises():
    with pytest.raises(ValueError, match="trackable"):
        tf.train.Checkpoint(a=1)
    with pytest.raises(ValueError, match="trackable"):
        tf.train.Checkpoint(1)


# --------------------------------------------------------------------------------------
# Status objects
# --------------------------------------------------------------------------------------


def test_restore_none_is_initialization_only():
    status = tf.train.Checkpoint(v=tf.Variable(1.0)).restore(None)
    for name in ("assert_consumed", "assert_existing_objects_matched", "assert_nontrivial_match"):
        with pytest.raises(AssertionError, match="No checkpoint specified"):
            getattr(status, name)()
    assert status.expect_partial() is status
    with pytest.raises(AssertionError):
        status.run_restore_ops()


def test_unmatched_objects_and_values_are_named(tmp_path):
    path = tf.train.Checkpoint(v=tf.Variable(1.0), w=tf.Variable(2.0)).write(str(tmp_path / "c"))
    status = tf.train.Checkpoint(v=tf.Variable(0.0), u=tf.Variable(3.0)).read(path)
    with pytest.raises(AssertionError, match=r"not bound to checkpointed values.*at u/"):
        status.assert_consumed()
    with pytest.raises(AssertionError, match="at u/"):
        status.assert_existing_objects_matched()
    assert status.assert_nontrivial_match() is status
    assert status.expect_partial() is status
    assert status.run_restore_ops() is None

    status = tf.train.Checkpoint(v=tf.Variable(0.0)).read(path)
    status.assert_existing_objects_matched()
    with pytest.raises(AssertionError, match=r"w/\.ATTRIBUTES/VARIABLE_VALUE"):
        status.assert_consumed()

    status = tf.train.Checkpoint(zz=tf.Variable(0.0)).read(path)
    with pytest.raises(AssertionError, match="Nothing except the root object matched"):
        status.assert_nontrivial_match()


def test_missing_checkpoint_raises_not_found(tmp_path):
    with pytest.raises(tf.errors.NotFoundError, match="checkpoint suffix"):
        tf.train.Checkpoint(v=tf.Variable(1.0)).restore(str(tmp_path / "nope"))


# --------------------------------------------------------------------------------------
# Deferred restoration
# --------------------------------------------------------------------------------------


def test_deferred_restore_into_unbuilt_layer(tmp_path):
    layer = tf.keras.layers.Dense(3)
    layer(X)
    path = tf.train.Checkpoint(layer=layer).write(str(tmp_path / "d"))
    assert "layer/kernel/.ATTRIBUTES/VARIABLE_VALUE" in _keys(path)
    fresh = tf.keras.layers.Dense(3)
    status = tf.train.Checkpoint(layer=fresh).read(path)
    with pytest.raises(AssertionError, match="layer/kernel"):
        status.assert_consumed()
    fresh(X)  # build: the kept values land in the new variables
    status.assert_consumed()
    np.testing.assert_array_equal(fresh.kernel.numpy(), layer.kernel.numpy())
    np.testing.assert_array_equal(fresh(X).numpy(), layer(X).numpy())


def test_deferred_restore_into_unbuilt_sequential(tmp_path):
    model = _sequential()
    model(X)
    path = tf.train.Checkpoint(model=model).write(str(tmp_path / "s"))
    fresh = _sequential()
    status = tf.train.Checkpoint(model=fresh).read(path)
    fresh(X)
    status.assert_consumed()
    np.testing.assert_array_equal(fresh(X).numpy(), model(X).numpy())


def _sequential():
    return tf.keras.Sequential(
        [tf.keras.layers.Dense(5, activation="relu"), tf.keras.layers.Dense(1)]
    )


OPTIMIZERS = {
    "adam": lambda: tf.keras.optimizers.Adam(0.01),
    "sgd_momentum": lambda: tf.keras.optimizers.SGD(0.05, momentum=0.9, nesterov=True),
    "nadam": lambda: tf.keras.optimizers.Nadam(0.01),
    "rmsprop_ema": lambda: tf.keras.optimizers.RMSprop(0.01, use_ema=True),
    "adam_accumulate": lambda: tf.keras.optimizers.Adam(0.01, gradient_accumulation_steps=2),
}


@pytest.mark.parametrize("make_opt", OPTIMIZERS.values(), ids=OPTIMIZERS.keys())
def test_training_resumes_exactly_module(tmp_path, make_opt):
    net, opt = Net(), make_opt()
    _train(net, opt, 3)
    path = tf.train.Checkpoint(model=net, optimizer=opt).save(str(tmp_path / "ck"))
    _train(net, opt, 5)
    reference = [v.numpy() for v in net.variables]

    net2, opt2 = Net(seed=9), make_opt()  # optimizer unbuilt: its slots are deferred
    status = tf.train.Checkpoint(model=net2, optimizer=opt2).restore(path)
    assert opt2._iterations.numpy() == 3
    _train(net2, opt2, 5)
    status.assert_consumed()
    for a, b in zip(reference, [v.numpy() for v in net2.variables]):
        np.testing.assert_array_equal(a, b)
    assert "add_variable" not in vars(opt2)  # the restore hooks are gone once used


def test_training_resumes_exactly_keras_fit(tmp_path):
    def make():
        m = _sequential()
        m.compile(optimizer=tf.keras.optimizers.Adam(0.01), loss="mse")
        return m

    model = make()
    model.fit(X, Y, epochs=2, batch_size=4, shuffle=False, verbose=0)
    ck = tf.train.Checkpoint(model=model, optimizer=model.optimizer)
    path = ck.write(str(tmp_path / "k"))
    keys = _keys(path)
    assert "model/_stack/0/kernel/.ATTRIBUTES/VARIABLE_VALUE" in keys
    assert (
        "model/_stack/0/kernel/.OPTIMIZER_SLOT/optimizer/momentum/.ATTRIBUTES/VARIABLE_VALUE"
        in keys
    )
    model.fit(X, Y, epochs=2, batch_size=4, shuffle=False, verbose=0)

    fresh = make()
    fresh(X)  # built model, unbuilt optimizer (built inside the traced train step)
    status = tf.train.Checkpoint(model=fresh, optimizer=fresh.optimizer).read(path)
    fresh.fit(X, Y, epochs=2, batch_size=4, shuffle=False, verbose=0)
    status.assert_consumed()
    for a, b in zip(model.get_weights(), fresh.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_restore_into_built_optimizer(tmp_path):
    net, opt = Net(), tf.keras.optimizers.Adam(0.01)
    _train(net, opt, 2)
    path = tf.train.Checkpoint(model=net, optimizer=opt).write(str(tmp_path / "b"))
    _train(net, opt, 3)
    reference = [v.numpy() for v in net.variables]
    net2, opt2 = Net(seed=3), tf.keras.optimizers.Adam(0.01)
    _train(net2, opt2, 1)  # built, with different slot values
    tf.train.Checkpoint(model=net2, optimizer=opt2).read(path).assert_consumed()
    _train(net2, opt2, 3)
    for a, b in zip(reference, [v.numpy() for v in net2.variables]):
        np.testing.assert_array_equal(a, b)


def test_slots_follow_their_variable_by_path(tmp_path):
    # the restoring program lists its variables in a different order
    net, opt = Net(), tf.keras.optimizers.Adam(0.01)
    _train(net, opt, 2)
    path = tf.train.Checkpoint(model=net, optimizer=opt).write(str(tmp_path / "p"))
    _train(net, opt, 2)
    reference = [v.numpy() for v in net.variables]
    net2, opt2 = Net(), tf.keras.optimizers.Adam(0.01)
    status = tf.train.Checkpoint(model=net2, optimizer=opt2).read(path)
    _train(net2, opt2, 2, variables=lambda: list(reversed(net2.trainable_variables)))
    status.assert_consumed()
    for a, b in zip(reference, [v.numpy() for v in net2.variables]):
        np.testing.assert_array_equal(a, b)


# --------------------------------------------------------------------------------------
# CheckpointManager
# --------------------------------------------------------------------------------------


def test_manager_numbering_and_max_to_keep(tmp_path):
    v = tf.Variable(0.0)
    ck = tf.train.Checkpoint(v=v)
    d = str(tmp_path / "m")
    mgr = tf.train.CheckpointManager(ck, d, max_to_keep=2)
    assert mgr.latest_checkpoint is None and mgr.checkpoints == [] and mgr.directory == d
    paths = []
    for i in range(4):
        v.assign(float(i))
        paths.append(mgr.save())
    assert paths == [f"{d}/ckpt-{i}" for i in (1, 2, 3, 4)]
    assert mgr.save(checkpoint_number=10) == f"{d}/ckpt-10"
    assert ck.save_counter.numpy() == 5
    assert mgr.checkpoints == [f"{d}/ckpt-4", f"{d}/ckpt-10"]
    assert sorted(os.listdir(d)) == [
        "checkpoint",
        "ckpt-10.data-00000-of-00001",
        "ckpt-10.index",
        "ckpt-4.data-00000-of-00001",
        "ckpt-4.index",
    ]
    lines = (tmp_path / "m" / "checkpoint").read_text().splitlines()
    assert lines[:3] == [
        'model_checkpoint_path: "ckpt-10"',
        'all_model_checkpoint_paths: "ckpt-4"',
        'all_model_checkpoint_paths: "ckpt-10"',
    ]
    assert [ln.split(":")[0] for ln in lines[3:]] == [
        "all_model_checkpoint_timestamps",
        "all_model_checkpoint_timestamps",
        "last_preserved_timestamp",
    ]
    assert tf.train.latest_checkpoint(d) == f"{d}/ckpt-10"
    state = tf.train.get_checkpoint_state(d)
    assert state.model_checkpoint_path == f"{d}/ckpt-10"
    assert list(state.all_model_checkpoint_paths) == [f"{d}/ckpt-4", f"{d}/ckpt-10"]

    again = tf.train.CheckpointManager(tf.train.Checkpoint(v=tf.Variable(1.0)), d, max_to_keep=2)
    assert again.checkpoints == mgr.checkpoints and again.latest_checkpoint == f"{d}/ckpt-10"


def test_manager_restore_or_initialize(tmp_path):
    calls = []
    v = tf.Variable(1.0)
    mgr = tf.train.CheckpointManager(
        tf.train.Checkpoint(v=v), str(tmp_path), max_to_keep=1, init_fn=lambda: calls.append(1)
    )
    assert mgr.restore_or_initialize() is None and calls == [1]
    path = mgr.save()
    v.assign(5.0)
    w = tf.Variable(0.0)
    mgr2 = tf.train.CheckpointManager(tf.train.Checkpoint(v=w), str(tmp_path), max_to_keep=1)
    assert mgr2.restore_or_initialize() == path and w.numpy() == 1.0


def test_manager_interval_and_keep_every_n_hours(tmp_path, monkeypatch):
    step = tf.Variable(0, dtype=tf.int64)
    mgr = tf.train.CheckpointManager(
        tf.train.Checkpoint(v=tf.Variable(1.0)),
        str(tmp_path / "i"),
        max_to_keep=None,
        step_counter=step,
        checkpoint_interval=3,
    )
    out = []
    for _ in range(8):
        out.append(mgr.save())
        step.assign_add(1)
    names = [None if p is None else os.path.basename(p) for p in out]
    assert names == ["ckpt-1", None, None, "ckpt-2", None, None, "ckpt-3", None]
    assert mgr.checkpoint_interval == 3
    assert os.path.basename(mgr.save(check_interval=False)) == "ckpt-4"

    clock = [1000.0]
    monkeypatch.setattr(ckpt_mod.time, "time", lambda: clock[0])
    keep = tf.train.CheckpointManager(
        tf.train.Checkpoint(v=tf.Variable(1.0)),
        str(tmp_path / "k"),
        max_to_keep=1,
        keep_checkpoint_every_n_hours=1,
    )
    for t in (1000.0, 2000.0, 5000.0, 5100.0):  # ckpt-1: too soon; ckpt-2: an hour later
        clock[0] = t
        keep.save()
    files = sorted(f for f in os.listdir(tmp_path / "k") if f.endswith(".index"))
    assert files == ["ckpt-3.index", "ckpt-4.index"]
    assert [os.path.basename(p) for p in keep.checkpoints] == ["ckpt-4"]


def test_manager_argument_errors(tmp_path):
    ck = tf.train.Checkpoint(v=tf.Variable(1.0))
    for bad in (0, -1):
        with pytest.raises(ValueError, match="positive integer"):
            tf.train.CheckpointManager(ck, str(tmp_path), max_to_keep=bad)
    with pytest.raises(ValueError, match="step_counter"):
        tf.train.CheckpointManager(ck, str(tmp_path), max_to_keep=1, checkpoint_interval=3)


# --------------------------------------------------------------------------------------
# Readers
# --------------------------------------------------------------------------------------


def test_readers(tmp_path):
    v = tf.Variable([[1.0, 2.0]], dtype=tf.float64)
    path = tf.train.Checkpoint(v=v, n=tf.Variable(3)).save(str(tmp_path / "r"))
    key = "v/.ATTRIBUTES/VARIABLE_VALUE"
    reader = tf.train.load_checkpoint(str(tmp_path))  # a directory means its latest
    assert reader.has_tensor(key) and not reader.has_tensor("nope")
    np.testing.assert_array_equal(reader.get_tensor(key), [[1.0, 2.0]])
    assert reader.get_variable_to_shape_map()[key] == [1, 2]
    dtypes = reader.get_variable_to_dtype_map()
    assert dtypes[key] is tf.float64 and dtypes["_CHECKPOINTABLE_OBJECT_GRAPH"] is tf.string
    assert reader.get_tensor("n/.ATTRIBUTES/VARIABLE_VALUE") == 3
    assert isinstance(reader.get_tensor("_CHECKPOINTABLE_OBJECT_GRAPH"), bytes)
    with pytest.raises(tf.errors.NotFoundError, match="Key nope not found in checkpoint"):
        reader.get_tensor("nope")
    np.testing.assert_array_equal(tf.train.load_variable(path, key + ":0"), [[1.0, 2.0]])
    assert dict(tf.train.list_variables(path))["save_counter/.ATTRIBUTES/VARIABLE_VALUE"] == []


def test_reader_errors(tmp_path):
    with pytest.raises(tf.errors.NotFoundError, match="Failed to find any matching files"):
        tf.train.list_variables(str(tmp_path / "nope"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="Couldn't find 'checkpoint' file"):
        tf.train.list_variables(str(tmp_path / "empty"))
    assert tf.train.latest_checkpoint(str(tmp_path / "empty")) is None
    assert tf.train.get_checkpoint_state(str(tmp_path / "missing")) is None
    (tmp_path / "bad.index").write_text("not json")
    with pytest.raises(tf.errors.DataLossError):
        tf.train.load_checkpoint(str(tmp_path / "bad"))


def test_latest_checkpoint_ignores_deleted_files(tmp_path):
    path = tf.train.Checkpoint(v=tf.Variable(1.0)).save(str(tmp_path / "c"))
    os.remove(path + ".index")
    assert tf.train.latest_checkpoint(str(tmp_path)) is None


# --------------------------------------------------------------------------------------
# Atomicity
# --------------------------------------------------------------------------------------


class Crash(Exception):
    pass


def _crash_on_nth_replace(monkeypatch, n):
    real = os.replace
    count = [0]

    def replace(src, dst):
        count[0] += 1
        if count[0] == n:
            raise Crash(dst)
        real(src, dst)

    monkeypatch.setattr(ckpt_mod.os, "replace", replace)


def test_crash_before_index_leaves_no_checkpoint(tmp_path, monkeypatch):
    v = tf.Variable(1.0)
    mgr = tf.train.CheckpointManager(tf.train.Checkpoint(v=v), str(tmp_path), max_to_keep=3)
    first = mgr.save()
    _crash_on_nth_replace(monkeypatch, 2)  # data file moved in, then crash before the index
    with pytest.raises(Crash):
        mgr.save()
    monkeypatch.undo()
    assert tf.train.latest_checkpoint(str(tmp_path)) == first
    assert not [f for f in os.listdir(tmp_path) if f.endswith(".tmp")]
    assert not (tmp_path / "ckpt-2.index").exists()
    w = tf.Variable(0.0)
    tf.train.Checkpoint(v=w).restore(tf.train.latest_checkpoint(str(tmp_path)))
    assert w.numpy() == 1.0


def test_crash_while_overwriting_is_detected_not_mixed(tmp_path, monkeypatch):
    prefix = str(tmp_path / "o")
    tf.train.Checkpoint(v=tf.Variable(1.0)).write(prefix)
    _crash_on_nth_replace(monkeypatch, 2)
    with pytest.raises(Crash):
        tf.train.Checkpoint(v=tf.Variable(2.0)).write(prefix)
    monkeypatch.undo()
    with pytest.raises(tf.errors.DataLossError, match="only partly written"):
        tf.train.Checkpoint(v=tf.Variable(0.0)).read(prefix)


# --------------------------------------------------------------------------------------
# Against TensorFlow
# --------------------------------------------------------------------------------------


@pytest.mark.skipif(not HAS_TF, reason="TensorFlow not installed")
def test_manager_paths_and_state_file_match_tensorflow(tmp_path):
    import tensorflow

    def run(lib, d):
        ck = lib.train.Checkpoint(v=lib.Variable(1.0))
        mgr = lib.train.CheckpointManager(ck, d, max_to_keep=2)
        paths = [mgr.save() for _ in range(3)] + [mgr.save(checkpoint_number=10), mgr.save()]
        state = open(os.path.join(d, "checkpoint")).read().splitlines()
        fields = [ln.split(":")[0] for ln in state]
        strings = [ln for ln in state if '"' in ln]
        files = sorted(os.listdir(d))
        own = ck.save(os.path.join(d, "own"))
        return (
            [os.path.relpath(p, d) for p in paths],
            [os.path.relpath(p, d) for p in mgr.checkpoints],
            fields,
            strings,
            files,
            os.path.relpath(own, d),
            open(os.path.join(d, "checkpoint")).read(),
            os.path.relpath(lib.train.latest_checkpoint(d), d),
        )

    ours = run(tf, str(tmp_path / "rill"))
    theirs = run(tensorflow, str(tmp_path / "tf"))
    assert ours == theirs


@pytest.mark.skipif(not HAS_TF, reason="TensorFlow not installed")
def test_module_keys_match_tensorflow(tmp_path):
    import tensorflow

    def keys(lib, prefix):
        m = lib.Module()
        m.v = lib.Variable(1.0)
        m.l = [lib.Variable(2.0), {"a": lib.Variable(3.0)}]
        m.sub = lib.Module(name="inner")
        m.sub.w = lib.Variable([1.0, 2.0])
        ck = lib.train.Checkpoint(m=m, x=lib.Variable(5))
        return sorted(lib.train.list_variables(ck.save(prefix)))

    ours = keys(tf, str(tmp_path / "a"))
    theirs = keys(tensorflow, str(tmp_path / "b"))
    assert [(k, list(s)) for k, s in ours] == [(k, list(s)) for k, s in theirs]
