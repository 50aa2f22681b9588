"""Real MPI jobs: checkpoints and summaries written by the chief only, a worker killed
mid-fit resumed from BackupAndRestore to the weights of an uninterrupted run, and TF's
multi-worker Keras tutorial running under ``mpiexec -n 2``."""

import json
import os
import time

import numpy as np
import pytest

from tests.distribute.mpi_jobs import check, require_mpi, run


@pytest.fixture(autouse=True)
def _mpi():
    require_mpi()


def _weights(npz):
    return [npz[k] for k in sorted((k for k in npz.files if k.startswith("arr_")),
                                   key=lambda k: int(k[4:]))]  # fmt: skip


def test_checkpoints_and_summaries_are_written_by_the_chief_only(tmp_path):
    check(run(2, "checkpoint_files.py", tmp_path))
    listings = [(tmp_path / f"listing.rank{r}.txt").read_text().split() for r in (0, 1)]
    for listing in listings:  # no per-rank temporaries left behind, on any rank's view
        assert not [p for p in listing if "workertemp" in p], listing
    real = {"model.keras", "ckpt/w-1.weights.h5", "ckpt/w-2.weights.h5", "ckpt/w-3.weights.h5",
            "backup/latest.weights.h5", "backup/training_metadata.json"}  # fmt: skip
    assert real <= set(listings[0])
    # the chief saved to the real paths, rank 1 only into its workertemp_1 directories
    chief = (tmp_path / "written.rank0.txt").read_text().split()
    worker = (tmp_path / "written.rank1.txt").read_text().split()
    assert "ckpt/w-3.weights.h5" in chief and all("workertemp" not in p for p in chief)
    assert len(worker) == len(chief)
    for c, w in zip(chief, worker):
        d, base = os.path.split(c)
        if base.startswith(".pending"):  # the chief's atomic backup; the worker's copy
            base = "latest.weights.h5"
        assert w == os.path.join(d, "workertemp_1", base)
    # BackupAndRestore (delete_checkpoint=False) recorded the last epoch (0-based)
    meta = json.loads((tmp_path / "backup" / "training_metadata.json").read_text())
    assert meta["epoch"] == 2
    # the last epoch's checkpoint holds the trained weights
    import rill as tf

    res = np.load(tmp_path / "result.npz")
    model = tf.keras.Sequential([tf.keras.Input((4,)), tf.keras.layers.Dense(1)])
    model.load_weights(str(tmp_path / "ckpt" / "w-3.weights.h5"))
    for got, want in zip(model.get_weights(), _weights(res)):
        np.testing.assert_array_equal(got, want)
    # one event file (the chief's), holding each epoch's loss of History
    from tests.summary.events import by_tag, event_files

    files = event_files(tmp_path / "logs")
    assert len(files) == 1 and len(event_files(tmp_path)) == 1
    steps, values = zip(*by_tag(files[0])["loss"])
    assert list(steps) == [0, 1, 2]
    np.testing.assert_allclose(np.array(values, float), res["loss"], rtol=1e-6)


def test_a_worker_killed_mid_epoch_resumes_from_the_backup(tmp_path):
    backup, timings = tmp_path / "backup", {}
    start = time.monotonic()
    check(run(2, "fault_tolerance.py", "-", tmp_path / "ref.npz", -1, timeout=120))
    timings["uninterrupted"] = time.monotonic() - start
    # 4 steps an epoch: rank 1 dies before step 10, in epoch 2 (0-based), batch 2,
    # after the backup of epoch 1
    start = time.monotonic()
    res = run(2, "fault_tolerance.py", backup, tmp_path / "killed.npz", 10, timeout=120)
    timings["killed"] = time.monotonic() - start
    assert res.returncode != 0
    assert not (tmp_path / "killed.npz").exists()
    assert json.loads((backup / "training_metadata.json").read_text())["epoch"] == 1
    start = time.monotonic()
    check(run(2, "fault_tolerance.py", backup, tmp_path / "resumed.npz", -1, timeout=120))
    timings["relaunch"] = time.monotonic() - start
    print("fault-tolerance run timings (s):", {k: round(v, 1) for k, v in timings.items()})
    ref, resumed = np.load(tmp_path / "ref.npz"), np.load(tmp_path / "resumed.npz")
    np.testing.assert_array_equal(ref["epochs"], [0, 1, 2, 3, 4])
    np.testing.assert_array_equal(resumed["epochs"], [2, 3, 4])  # resumed, not restarted
    for got, want in zip(_weights(resumed), _weights(ref)):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)
    assert not backup.exists()  # deleted once training finished
    assert sum(timings.values()) < 240


def test_the_tf_multi_worker_keras_tutorial_runs_under_mpiexec(tmp_path, monkeypatch):
    cluster = {"worker": ["localhost:12345", "localhost:23456"]}
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": cluster,
                                                "task": {"type": "worker", "index": 0}}))  # fmt: skip
    report = tmp_path / "report.npz"
    check(run(2, "keras_tutorial.py", tmp_path, 5, report, timeout=240))
    rep, other = np.load(report), np.load(str(report) + ".rank1.npz")
    assert int(rep["n"]) == 2
    for a, b in zip(_weights(rep), _weights(other)):  # the replicas stayed identical
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(rep["saved"], _weights(rep)[0])  # the chief's saved model
    assert rep["loss"].shape == (3,) and rep["loss"][-1] < rep["loss"][0]
    assert sorted(os.listdir(tmp_path)) == ["keras-model.keras", "report.npz",
                                            "report.npz.rank1.npz"]  # fmt: skip
