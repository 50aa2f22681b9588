"""keras.distribution on rill's single process, against Keras 3 (TensorFlow backend)."""

import warnings

import numpy as np
import pytest

import rill as tf
from rill.keras import distribution as D


def test_list_devices_and_count():
    assert D.list_devices() == ["cpu:0"] == D.list_devices("cpu")
    assert D.list_devices("gpu") == []
    assert D.get_device_count() == 1 and D.get_device_count("gpu") == 0


def test_device_mesh_and_layout():
    mesh = D.DeviceMesh((1,), ["batch"])
    assert mesh.devices.tolist() == ["cpu:0"] and mesh.shape == (1,)
    assert repr(mesh) == "<DeviceMesh shape=(1,), axis_names=['batch']>"
    with pytest.raises(ValueError, match="same size"):
        D.DeviceMesh((1,), ["a", "b"])
    with pytest.raises(ValueError, match="number of devices"):
        D.DeviceMesh((2, 2), ["a", "b"], devices=["cpu:0"] * 3)
    mesh2 = D.DeviceMesh((2, 2), ["data", "model"], devices=[f"cpu:{i}" for i in range(4)])
    assert mesh2.devices.shape == (2, 2)
    lay = D.TensorLayout(["data", None])
    lay.device_mesh = mesh2
    with pytest.raises(ValueError, match="Cannot override"):
        lay.device_mesh = mesh2
    with pytest.raises(ValueError, match="Invalid axis names"):
        D.TensorLayout(["nope"], mesh2)


def test_layout_map_regex_lookup():
    mesh = D.DeviceMesh((2, 2), ["data", "model"], devices=[f"cpu:{i}" for i in range(4)])
    lm = D.LayoutMap(mesh)
    lm["dense.*kernel"] = (None, "model")
    lm["dense.*bias"] = ("model",)
    assert lm["dense_1/kernel"].axes == (None, "model")
    assert lm["dense_1/kernel"].device_mesh is mesh
    assert lm["conv/kernel"] is None and len(lm) == 2
    lm[".*_1/kernel"] = (None, None)
    with pytest.raises(ValueError, match="matches multiple"):
        lm["dense_1/kernel"]
    with pytest.raises(ValueError, match="already exist"):
        lm["dense.*bias"] = ("model",)
    mp = D.ModelParallel(layout_map=lm, batch_dim_name="data")
    assert mp.num_model_replicas == 2 and mp.get_data_layout((8, 3)).axes == ("data", None)
    with pytest.raises(ValueError, match="layout_map"):
        D.ModelParallel()


def test_data_parallel_scope_and_tensor():
    dp = D.DataParallel()
    assert dp.batch_dim_name == "batch" and dp.num_model_replicas == 1
    assert dp.get_data_layout((4, 5)).axes == ("batch", None)
    v = tf.keras.Variable(np.zeros((2, 3)))
    assert dp.get_variable_layout(v).axes == (None, None) and dp.get_tensor_layout("x") is None
    assert D.distribution() is None
    with dp.scope():
        assert D.distribution() is dp
    assert D.distribution() is None
    t = tf.constant([[1.0, 2.0]])
    assert D.distribute_tensor(t, D.TensorLayout(["batch", None], dp.device_mesh)) is t
    with pytest.raises(ValueError, match="rank"):
        D.distribute_tensor(t, D.TensorLayout(["batch"], dp.device_mesh))
    D.initialize()
    with pytest.raises(ValueError, match="single process"):
        D.initialize(num_processes=2, process_id=0)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        D.DataParallel(device_mesh=D.DeviceMesh((1, 1), ["a", "b"]))
    assert any("1D" in str(x.message) for x in w)


def test_matches_keras():
    k = pytest.importorskip("keras")
    KD = k.distribution
    assert D.list_devices() == KD.list_devices()
    for ours, theirs in [(D.DataParallel(), KD.DataParallel())]:
        assert repr(ours) == repr(theirs)
        assert ours.get_data_layout((3, 2)).axes == theirs.get_data_layout((3, 2)).axes
        assert ours.num_model_replicas == theirs.num_model_replicas
    assert repr(D.TensorLayout(["a", None])) == repr(KD.TensorLayout(["a", None]))
