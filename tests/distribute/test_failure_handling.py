"""PreemptionCheckpointHandler, TerminationConfig and PreemptionWatcher.

In-process: the step protocol (one more step after the notice, then save and exit), the
grace period, restore on construction, and SIGTERM delivered to this process. Real jobs:
a training script (plain, and a 2-rank ``mpiexec`` job) receives SIGTERM from the test,
saves and exits with 42; a rerun restores and ends with the weights of an
uninterrupted run."""

import os
import re
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import rill as tf
from rill import errors
from rill.distribute import failure_handling as fh
from tests.distribute import mpi_jobs


class _Exit(Exception):
    """What the tests' exit_fn raises instead of ending the process."""


def _raise_exit():
    raise _Exit


def _handler(tmp_path, notice, *, grace_period=None, exit_fn=_raise_exit, v=None):
    """A local handler over a checkpoint of ``v`` whose notice is ``notice()``."""
    v = tf.Variable(0.0) if v is None else v
    ckpt = tf.train.Checkpoint(v=v)
    config = tf.distribute.experimental.TerminationConfig(
        termination_watcher_fn=notice, exit_fn=exit_fn, grace_period=grace_period
    )
    return tf.distribute.experimental.PreemptionCheckpointHandler(
        None, ckpt, str(tmp_path / "ckpt"), config
    ), v


@pytest.fixture
def fast_poll(monkeypatch):
    monkeypatch.setattr(fh, "_POLL_INTERVAL", 0.01)


def _wait_for(event_fn, timeout=10.0):
    end = time.monotonic() + timeout
    while not event_fn():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.005)


def test_termination_config_holds_its_arguments():
    def w():
        return False

    def e():
        return None

    def s():
        return None

    c = tf.distribute.experimental.TerminationConfig(w, e, 7, s)
    assert (c.termination_watcher_fn, c.exit_fn, c.grace_period, c.save_fn) == (w, e, 7, s)
    d = tf.distribute.experimental.TerminationConfig()
    assert (d.termination_watcher_fn, d.exit_fn, d.grace_period, d.save_fn) == (None,) * 4


def test_checkpoint_without_directory_and_ps_cluster_are_rejected(tmp_path):
    ckpt = tf.train.Checkpoint(v=tf.Variable(1.0))
    with pytest.raises(errors.InvalidArgumentError, match="checkpoint_dir"):
        tf.distribute.experimental.PreemptionCheckpointHandler(None, ckpt)
    ps = tf.distribute.cluster_resolver.SimpleClusterResolver(
        tf.train.ClusterSpec({"worker": ["a:1"], "ps": ["b:1"]}), task_type="worker", task_id=0
    )
    with pytest.raises(NotImplementedError, match="ParameterServerStrategy"):
        tf.distribute.experimental.PreemptionCheckpointHandler(ps, ckpt, str(tmp_path))


def test_notice_saves_after_one_more_step_then_exits(tmp_path, fast_poll):
    flag = threading.Event()
    handler, v = _handler(tmp_path, flag.is_set)
    for _ in range(3):
        handler.run(lambda: v.assign_add(1.0))
    flag.set()
    _wait_for(handler._received_own_sigterm.is_set)
    # the run seeing the notice still trains (TF agrees on "current step + 1")
    handler.run(lambda: v.assign_add(1.0))
    assert handler.total_run_calls == 4
    with pytest.raises(_Exit):
        handler.run(lambda: v.assign_add(100.0))
    assert v.numpy() == 4.0  # the step at which it saved did not run
    path = tf.train.latest_checkpoint(str(tmp_path / "ckpt"))
    assert path is not None
    assert tf.train.load_variable(path, "v/.ATTRIBUTES/VARIABLE_VALUE") == 4.0
    assert tf.train.load_variable(path, "checkpointed_runs/.ATTRIBUTES/VARIABLE_VALUE") == 4


def test_new_handler_restores_run_count_and_state(tmp_path, fast_poll):
    flag = threading.Event()
    handler, v = _handler(tmp_path, flag.is_set)
    handler.run(lambda: v.assign_add(2.0))
    flag.set()
    _wait_for(handler._received_own_sigterm.is_set)
    handler.run(lambda: v.assign_add(2.0))
    with pytest.raises(_Exit):
        handler.run(lambda: None)
    # a "restarted" job: fresh objects, same directory
    again, w = _handler(tmp_path, lambda: False, v=tf.Variable(0.0))
    assert w.numpy() == 4.0 and again.total_run_calls == 2
    assert again.run(lambda: 5) == 5 and again.total_run_calls == 3


def test_run_passes_arguments_and_returns_result(tmp_path):
    handler, _ = _handler(tmp_path, lambda: False)
    assert handler.run(lambda a, b=0: a * 10 + b, 3, b=4) == 34
    with handler.watch_preemption_scope():
        assert handler.run(lambda: "ok") == "ok"
    with pytest.raises(ValueError, match="boom"), handler.watch_preemption_scope():
        handler.run(lambda: (_ for _ in ()).throw(ValueError("boom")))
    assert handler.total_run_calls == 2  # the failed run is not counted


def test_checkpoint_manager_and_save_checkpoint_if_preempted(tmp_path, fast_poll):
    v = tf.Variable(0.0)
    manager = tf.train.CheckpointManager(tf.train.Checkpoint(v=v), str(tmp_path), max_to_keep=2)
    flag = threading.Event()
    config = tf.distribute.experimental.TerminationConfig(
        termination_watcher_fn=flag.is_set, exit_fn=_raise_exit
    )
    handler = tf.distribute.experimental.PreemptionCheckpointHandler(None, manager, None, config)
    v.assign(1.0)
    handler.save_checkpoint_if_preempted()
    flag.set()
    _wait_for(handler._received_own_sigterm.is_set)
    v.assign(2.0)
    handler.save_checkpoint_if_preempted(checkpoint_number=77)  # agrees on the next call
    v.assign(3.0)
    with pytest.raises(_Exit):
        handler.save_checkpoint_if_preempted(checkpoint_number=77)
    assert manager.latest_checkpoint.endswith("ckpt-77")
    assert tf.train.load_variable(manager.latest_checkpoint, "v/.ATTRIBUTES/VARIABLE_VALUE") == 3.0


def test_save_fn_replaces_the_managers_save(tmp_path, fast_poll):
    calls = []
    flag = threading.Event()
    config = tf.distribute.experimental.TerminationConfig(
        termination_watcher_fn=flag.is_set, exit_fn=_raise_exit, save_fn=lambda: calls.append(1)
    )
    handler = tf.distribute.experimental.PreemptionCheckpointHandler(
        None, tf.train.Checkpoint(v=tf.Variable(1.0)), str(tmp_path), config
    )
    flag.set()
    _wait_for(handler._received_own_sigterm.is_set)
    handler.run(lambda: None)
    with pytest.raises(_Exit):
        handler.run(lambda: None)
    assert calls == [1] and tf.train.latest_checkpoint(str(tmp_path)) is None


def test_grace_period_saves_twice_and_exits_before_it_ends(tmp_path, fast_poll):
    flag = threading.Event()
    grace = 0.6
    handler, v = _handler(tmp_path, flag.is_set, grace_period=grace)
    saves = []
    real_save = handler._save_checkpoint

    def record_save(*a, **k):
        saves.append((handler.total_run_calls, time.time()))
        real_save(*a, **k)

    handler._save_checkpoint = record_save
    handler.run(lambda: v.assign_add(1.0))
    flag.set()
    _wait_for(handler._received_own_sigterm.is_set)
    t0 = handler._received_own_sigterm_time
    with pytest.raises(_Exit):
        for _ in range(10_000):
            handler.run(lambda: (v.assign_add(1.0), time.sleep(0.01)))
    # first save one step after the notice; the second once the grace period less a
    # margin of 6 step times has run out (TF's rule), i.e. before the period ends
    assert len(saves) == 2
    assert saves[0][0] == 2
    assert saves[1][0] > saves[0][0] + 5
    target = handler._target_time_for_termination
    assert t0 < target < t0 + grace
    # the final save comes at the first boundary after the target (plus the step that
    # still runs), allowing for a loaded machine's slow steps
    assert target <= saves[1][1] < target + 0.5


def test_sigterm_in_this_process_is_a_notice(tmp_path):
    previous = signal.getsignal(signal.SIGTERM)
    v = tf.Variable(0.0)
    config = tf.distribute.experimental.TerminationConfig(exit_fn=_raise_exit)
    handler = tf.distribute.experimental.PreemptionCheckpointHandler(
        None, tf.train.Checkpoint(v=v), str(tmp_path), config
    )
    watcher = tf.distribute.experimental.PreemptionWatcher()
    assert watcher.preemption_message is None
    handler.run(lambda: v.assign_add(1.0))
    os.kill(os.getpid(), signal.SIGTERM)  # the process survives: the handler caught it
    _wait_for(lambda w=watcher: w.preemption_message is not None)
    assert "SIGTERM" in watcher.preemption_message
    handler.run(lambda: v.assign_add(1.0))
    with pytest.raises(_Exit):
        handler.run(lambda: v.assign_add(1.0))
    assert tf.train.load_variable(tf.train.latest_checkpoint(str(tmp_path)), "v/.ATTRIBUTES/VARIABLE_VALUE") == 2.0  # fmt: skip
    watcher.block_until_worker_exit()  # a no-op off TPU, as in TF
    del watcher, handler
    import gc

    gc.collect()
    # the last subscriber gone, the previous SIGTERM handler is back
    assert signal.getsignal(signal.SIGTERM) == previous


# --------------------------------------------------------------------------- real jobs


def _start(n, workdir, steps, sleep_s, *extra):
    cmd = [sys.executable, os.path.join(mpi_jobs.SCRIPTS, "preemption_train.py"),
           str(workdir), str(steps), str(sleep_s), *extra]  # fmt: skip
    if n > 1:
        cmd = [mpi_jobs._mpiexec(), "-n", str(n), *cmd]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=mpi_jobs._env())  # fmt: skip


def _interrupt(n, workdir, steps, after, notify):
    """Run the job; once a rank has printed step ``after``, ``notify()``; its output."""
    proc = _start(n, workdir, steps, 0.15, *(("watcher",) if notify == "file" else ()))
    lines = []
    killer = threading.Timer(150, proc.kill)
    killer.start()
    try:
        for line in proc.stdout:
            lines.append(line)
            if f"step {after}" in line:
                if notify == "file":
                    (workdir / "notice").write_text("maintenance")
                else:  # the platform preempts the last rank
                    pid = int((workdir / f"pid.rank{n - 1}").read_text())
                    os.kill(pid, signal.SIGTERM)
                after = -1
        rc = proc.wait(timeout=60)
    finally:
        killer.cancel()
    return rc, "".join(lines)


def _steps_of(out, rank):
    # the launcher may splice two ranks' lines together, so match, don't split
    return [int(m) for m in re.findall(rf"rank {rank} step (\d+)", out)]


def _weights(path):
    npz = np.load(path)
    return [npz[f"arr_{i}"] for i in range(len(npz.files))]


def _check_preempted_job(n, tmp_path, notify):
    steps = 20
    ref = tmp_path / "ref"
    ref.mkdir()
    mpi_jobs.check(mpi_jobs.run(n, "preemption_train.py", ref, steps, 0, timeout=150))
    work = tmp_path / "work"
    work.mkdir()
    rc, out = _interrupt(n, work, steps, 3, notify)
    assert rc == fh.RESTART_CODE, out
    assert not (work / "result.npz").exists()
    done = [_steps_of(out, r)[-1] for r in range(n)]
    assert len(set(done)) == 1, out  # all ranks stopped at the same step
    saved = tf.train.latest_checkpoint(str(work / "ckpt"))
    assert saved is not None, out
    step = int(tf.train.load_variable(saved, "step/.ATTRIBUTES/VARIABLE_VALUE"))
    runs = int(tf.train.load_variable(saved, "checkpointed_runs/.ATTRIBUTES/VARIABLE_VALUE"))
    assert step == runs == done[0] and 3 < step < steps, out
    assert not list(work.glob("workertemp_*"))  # non-chief copies are cleaned up
    # the restarted job resumes where it saved and ends where an uninterrupted one ends
    res = mpi_jobs.check(mpi_jobs.run(n, "preemption_train.py", work, steps, 0, timeout=150))
    for r in range(n):
        assert f"rank {r} start {step} {step}" in res.stdout, res.stdout
        assert _steps_of(res.stdout, r) == list(range(step + 1, steps + 1))
    for got, want in zip(_weights(work / "result.npz"), _weights(ref / "result.npz")):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)


def test_plain_process_sigterm_saves_exits_42_and_resumes(tmp_path):
    _check_preempted_job(1, tmp_path, "sigterm")


def test_plain_process_termination_watcher_fn(tmp_path):
    steps = 10
    rc, out = _interrupt(1, tmp_path, steps, 2, "file")
    assert rc == fh.RESTART_CODE, out
    saved = tf.train.latest_checkpoint(str(tmp_path / "ckpt"))
    assert int(tf.train.load_variable(saved, "step/.ATTRIBUTES/VARIABLE_VALUE")) == _steps_of(out, 0)[-1]  # fmt: skip


def test_mpi_job_rank_sigterm_saves_on_all_ranks_and_resumes(tmp_path):
    mpi_jobs.require_mpi()
    _check_preempted_job(2, tmp_path, "sigterm")
