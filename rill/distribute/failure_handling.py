"""Preemption handling: ``TerminationConfig``, ``PreemptionCheckpointHandler`` and
``PreemptionWatcher`` of ``tf.distribute.experimental``.

A preemption notice is ``SIGTERM`` (what schedulers such as Slurm, Kubernetes and
``docker stop`` send before killing a process), or a user ``termination_watcher_fn``
polled on a thread. The handler saves a checkpoint at a ``run()`` step boundary that all
workers agree on, then calls ``exit_fn`` (by default ``sys.exit(42)``, the restart code
TF uses off Google Cloud). TF agrees on that step through its coordination service's
key-value store; rill's workers are MPI ranks, so they agree through one small all-reduce
per ``run()`` call on the job's process group (none at all in a one-process job).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import sys
import threading
import time
import weakref

import numpy as np

from rill.core import errors
from rill.ops._op import tf_export

__all__ = ["TerminationConfig", "PreemptionCheckpointHandler", "PreemptionWatcher"]

_log = logging.getLogger("rill")

# TF's restart code for a plain (non-GCP) platform: its default exit_fn is sys.exit(42)
RESTART_CODE = 42
# the name the handler's run counter is saved under in the checkpoint (TF's, so that
# checkpoints move between the two)
_ITERATION_VARIABLE = "checkpointed_runs"
# seconds between calls of a termination_watcher_fn (TF polls once a second)
_POLL_INTERVAL = 1.0


# --------------------------------------------------------------------------- SIGTERM


class _SigtermFanout:
    """One process-wide SIGTERM handler that notifies every live subscriber (handlers and
    watchers may coexist), and restores the previous handler when the last one leaves."""

    def __init__(self):
        self._subscribers: list = []
        self._previous = None
        self._installed = False
        self._lock = threading.Lock()

    def subscribe(self, method) -> None:
        """Call the bound ``method`` on SIGTERM while its object lives."""
        with self._lock:
            if not self._installed:
                if threading.current_thread() is not threading.main_thread():
                    raise ValueError(
                        "Watching for SIGTERM needs a signal handler, which Python installs "
                        "only from the main thread: create the PreemptionCheckpointHandler "
                        "or PreemptionWatcher there, or pass a termination_watcher_fn."
                    )
                self._previous = signal.signal(signal.SIGTERM, self._on_signal)
                self._installed = True
            self._subscribers.append(weakref.WeakMethod(method))

    def unsubscribe(self, method) -> None:
        with self._lock:
            self._subscribers = [r for r in self._subscribers if r() is not None and r() != method]
            self._maybe_restore()

    def _maybe_restore(self):
        # called with the lock held
        if self._installed and not self._subscribers:
            # only from the main thread can the handler be put back; elsewhere ours stays
            # installed, with no one to notify
            if threading.current_thread() is threading.main_thread():
                if signal.getsignal(signal.SIGTERM) == self._on_signal:
                    signal.signal(signal.SIGTERM, self._previous)
                self._installed = False

    def _on_signal(self, signum, frame):
        live = [r() for r in list(self._subscribers)]
        for method in live:
            if method is not None:
                method()
        # a user's own Python handler still runs; the default action (terminate) does
        # not, since the point is to outlive the signal long enough to save
        if callable(self._previous) and self._previous not in (signal.SIG_DFL, signal.SIG_IGN):
            self._previous(signum, frame)


_SIGTERM = _SigtermFanout()


# --------------------------------------------------------------------------- config


@tf_export("distribute.experimental.TerminationConfig")
class TerminationConfig:
    """How a ``PreemptionCheckpointHandler`` learns of termination, exits, and how long it
    may keep training after the notice.

    - ``termination_watcher_fn``: a fast, non-blocking function returning True once a
      termination notice is out; polled every second on a thread. None: SIGTERM is the
      notice.
    - ``exit_fn``: called after the checkpoint is saved; None: ``sys.exit(42)``.
    - ``grace_period``: seconds between the notice and the kill; None or 0: save and exit
      at once, else keep training and save once more just before the time runs out.
    - ``save_fn``: called instead of ``CheckpointManager.save`` to write the checkpoint.
    """

    def __init__(self, termination_watcher_fn=None, exit_fn=None, grace_period=None, save_fn=None):
        self.termination_watcher_fn = termination_watcher_fn
        self.exit_fn = exit_fn
        self.grace_period = grace_period
        self.save_fn = save_fn


def _default_exit_fn():
    sys.exit(RESTART_CODE)


# --------------------------------------------------------------------------- handler


def _non_chief_checkpoint_dir(checkpoint_dir: str, task_id) -> str:
    """``<parent>/workertemp_<task>/<base>``: where a non-chief worker writes its copy."""
    parent, base = os.path.split(os.path.normpath(checkpoint_dir))
    # made by the first save, so that a job never preempted leaves nothing behind
    return os.path.join(parent, f"workertemp_{task_id}", base)


def _is_chief(resolver, group) -> bool:
    """TF's rule: the ``chief`` task if the cluster has one, else worker 0."""
    task_type = getattr(resolver, "task_type", None)
    task_id = getattr(resolver, "task_id", None)
    if task_type is None:
        return group.is_chief
    jobs = resolver.cluster_spec().jobs
    if "chief" in jobs:
        return task_type == "chief"
    return task_type == "worker" and int(task_id or 0) == 0


@tf_export("distribute.experimental.PreemptionCheckpointHandler")
class PreemptionCheckpointHandler:
    """Saves a checkpoint and exits when a worker receives a preemption notice.

    On construction it restores the latest checkpoint of its directory (so a restarted
    job resumes) and starts watching: SIGTERM, or the ``termination_watcher_fn`` of its
    ``TerminationConfig``. Wrap each training step in ``run(train_step, ...)``: after a
    notice reaches any worker, every worker trains one more step, saves at the same
    ``run()`` boundary, and calls ``exit_fn`` (default ``sys.exit(42)``). With a
    ``grace_period`` the workers save once, keep training, and save again just before the
    period ends. Under ``mpiexec`` the workers agree on the step with one all-reduce of
    two integers per ``run()`` call; the chief writes to ``checkpoint_dir``, the others to
    a ``workertemp_<task>`` directory beside it that they delete before exiting.
    """

    def __init__(
        self,
        cluster_resolver,
        checkpoint_or_checkpoint_manager,
        checkpoint_dir=None,
        termination_config=None,
    ):
        from rill.train.checkpoint import Checkpoint, CheckpointManager

        if isinstance(checkpoint_or_checkpoint_manager, Checkpoint) and not checkpoint_dir:
            raise errors.InvalidArgumentError(
                None,
                None,
                "PreemptionCheckpointHandler: when a tf.train.Checkpoint is passed, a "
                "checkpoint_dir must be passed as well (or pass a tf.train.CheckpointManager).",
            )
        if not isinstance(checkpoint_or_checkpoint_manager, (Checkpoint, CheckpointManager)):
            raise TypeError(
                "PreemptionCheckpointHandler: checkpoint_or_checkpoint_manager must be a "
                "tf.train.Checkpoint or tf.train.CheckpointManager; got "
                f"{type(checkpoint_or_checkpoint_manager).__name__}."
            )
        self._cluster_resolver = cluster_resolver
        self._termination_config = termination_config
        self._checkpoint_or_checkpoint_manager = checkpoint_or_checkpoint_manager
        self._checkpoint_dir = None if checkpoint_dir is None else os.fspath(checkpoint_dir)
        config = termination_config or TerminationConfig()
        self._termination_watcher_fn = config.termination_watcher_fn
        self._exit_fn = config.exit_fn or _default_exit_fn
        self._grace_period = config.grace_period or 0
        self._save_fn = config.save_fn

        spec = cluster_resolver.cluster_spec() if cluster_resolver is not None else None
        if spec is not None and "ps" in spec.jobs:
            raise NotImplementedError(
                "PreemptionCheckpointHandler does not support usage with "
                "tf.distribute.experimental.ParameterServerStrategy (the cluster has a 'ps' "
                "job); it handles MultiWorkerMirroredStrategy and one-worker strategies."
            )
        self._init_group(cluster_resolver, spec)
        self._make_checkpoint_managers()
        self._restore()

        self._final_checkpoint_countdown = False
        self._estimated_run_time = 0.0
        self._step_to_checkpoint = None  # the agreed run count at which to save
        self._received_own_sigterm = threading.Event()
        self._received_own_sigterm_time = None
        self._final_requested = False
        self._target_time_for_termination = None
        self._poll_thread = None
        self._poll_should_stop = threading.Event()
        self._watching_signal = False
        if self._termination_watcher_fn is not None:
            self._start_polling()
        else:
            _SIGTERM.subscribe(self._on_sigterm)
            self._watching_signal = True
        _log.info("PreemptionCheckpointHandler initialized or restored.")

    # ---------------------------------------------------------------- setup

    def _init_group(self, resolver, spec):
        from rill.distribute import collective

        if spec is None or not spec.jobs:
            # MirroredStrategy / OneDeviceStrategy: one worker, nothing to agree with
            self._local_mode = True
            self._group = collective.LocalGroup()
            self._is_chief = True
            self._task_id = 0
            return
        group = getattr(resolver, "_group", None) or collective.world()
        self._local_mode = group.size == 1
        self._group = group
        self._is_chief = _is_chief(resolver, group) if group.size > 1 else True
        task_id = getattr(resolver, "task_id", None)
        self._task_id = group.rank if task_id is None else task_id

    def _make_checkpoint_managers(self):
        from rill.train.checkpoint import CheckpointManager

        given = self._checkpoint_or_checkpoint_manager
        if isinstance(given, CheckpointManager):
            self._read_manager = given
            self._api_made_manager = False
            checkpoint = given.checkpoint
            directory = given.directory
        else:
            self._api_made_manager = True
            checkpoint = given
            directory = self._checkpoint_dir
            self._read_manager = CheckpointManager(checkpoint, directory, max_to_keep=1)
        if self._is_chief:
            self._write_manager = self._read_manager
        else:
            # a non-chief rank writes its copy apart, so that no two processes write the
            # same files of a shared directory
            self._write_manager = CheckpointManager(
                checkpoint, _non_chief_checkpoint_dir(directory, self._task_id), max_to_keep=1
            )
        self._checkpoint = checkpoint

    def _restore(self):
        from rill.core import dtypes
        from rill.core.context import init_scope
        from rill.core.variables import Variable

        existing = getattr(self._checkpoint, _ITERATION_VARIABLE, None)
        if existing is None:
            with init_scope():
                existing = Variable(
                    np.int64(0), trainable=False, name=_ITERATION_VARIABLE, dtype=dtypes.int64
                )
            setattr(self._checkpoint, _ITERATION_VARIABLE, existing)
        self._checkpointed_runs = existing
        self._read_manager.restore_or_initialize()
        self._run_counter = int(np.asarray(self._checkpointed_runs.numpy()))

    def _start_polling(self):
        self._poll_thread = threading.Thread(
            target=self._poll_termination_signal,
            name=f"WorkerTerminationSignalWatcher-{self._task_id}",
            daemon=True,
        )
        self._poll_thread.start()

    def _poll_termination_signal(self):
        while not self._poll_should_stop.is_set() and not self._final_checkpoint_countdown:
            try:
                notice = self._termination_watcher_fn()
            except Exception as e:  # a failing watcher must not end training silently
                _log.warning("termination_watcher_fn raised %r; still watching.", e)
                notice = False
            if notice:
                self._on_sigterm()
                return
            self._poll_should_stop.wait(_POLL_INTERVAL)

    def _on_sigterm(self):
        # runs inside the signal handler or on the polling thread: only set flags here
        if not self._received_own_sigterm.is_set():
            self._received_own_sigterm_time = time.time()
            self._received_own_sigterm.set()

    def _stop_watching(self):
        if self._poll_thread is not None:
            self._poll_should_stop.set()
            if self._poll_thread is not threading.current_thread():
                self._poll_thread.join()
            self._poll_thread = None
        if self._watching_signal:
            self._watching_signal = False
            _SIGTERM.unsubscribe(self._on_sigterm)

    def __del__(self):
        try:
            self._stop_watching()
        except Exception:  # interpreter shutdown: modules may be gone
            pass

    # ---------------------------------------------------------------- public

    @property
    def total_run_calls(self) -> int:
        """How many times ``run`` was called, counting the runs before a restart (the count
        is saved in the checkpoint)."""
        return self._run_counter

    def run(self, distributed_train_function, *args, **kwargs):
        """``distributed_train_function(*args, **kwargs)``, after saving a checkpoint and
        calling ``exit_fn`` if the workers agreed to save at this step."""
        self._check_preemption_and_maybe_checkpoint()
        begin = time.time()
        result = distributed_train_function(*args, **kwargs)
        elapsed = time.time() - begin
        self._run_counter += 1
        # a running mean of the step time: the grace period keeps a margin of it
        self._estimated_run_time += (elapsed - self._estimated_run_time) / self._run_counter
        return result

    def save_checkpoint_if_preempted(self, *args, **kwargs) -> None:
        """Save (passing ``args``/``kwargs`` to ``CheckpointManager.save``) and exit if a
        preemption notice has been agreed on; call it once per training step (it counts as
        one ``run``)."""
        self._check_preemption_and_maybe_checkpoint(*args, **kwargs)
        self._run_counter += 1
        self._estimated_run_time = 0.0

    @contextlib.contextmanager
    def watch_preemption_scope(self):
        """A scope for the training loop. It matters for TPUStrategy's asynchronous
        errors in TF; with rill's strategies a step's errors are raised by the step itself
        (and an uncaught one on any MPI rank aborts the job), so it only passes them on."""
        yield

    # ---------------------------------------------------------------- protocol

    def _wants_to_announce(self) -> bool:
        """Whether this worker asks the cluster to save now (its own notice, not yet
        announced; or, in a grace period, the time left is down to the margin)."""
        if not self._received_own_sigterm.is_set() or self._step_to_checkpoint is not None:
            return False
        if not self._final_checkpoint_countdown:
            return True
        if self._final_requested or self._target_time_for_termination is None:
            return False
        return time.time() > self._target_time_for_termination

    def _agree(self) -> None:
        """Every worker learns whether any of them asks to save, and at which step."""
        want = self._wants_to_announce()
        if self._local_mode:
            if want:
                self._announce(self._run_counter + 1)
            return
        buf = np.array([int(want), self._run_counter], np.int64)
        buf = self._group.allreduce(buf, "MAX")
        if buf[0] and self._step_to_checkpoint is None:
            # workers of a synchronous job are at the same step; MAX makes sure
            self._announce(int(buf[1]) + 1)

    def _announce(self, step: int) -> None:
        self._step_to_checkpoint = step
        if self._final_checkpoint_countdown:
            self._final_requested = True
        elif self._grace_period > 0 and self._received_own_sigterm.is_set():
            # save now, keep training, and save again this long before the end: a
            # margin of three times two steps' time (others may be a step behind)
            self._target_time_for_termination = (
                self._received_own_sigterm_time
                + self._grace_period
                - 3 * self._estimated_run_time * 2
            )
        _log.info(
            "PreemptionCheckpointHandler: termination notice; checkpointing after run %d.",
            step,
        )

    def _check_preemption_and_maybe_checkpoint(self, *args, **kwargs):
        self._agree()
        if self._step_to_checkpoint is None or self._step_to_checkpoint != self._run_counter:
            return
        self._save_checkpoint(*args, **kwargs)
        if self._grace_period <= 0 or self._final_checkpoint_countdown:
            self._stop_watching()
            if not self._local_mode:
                # every worker has written its copy before any of them exits
                self._group.barrier()
            if not self._is_chief:  # its copy was only a stand-in for the chief's
                shutil.rmtree(os.path.dirname(self._write_manager.directory), ignore_errors=True)
            _log.info("PreemptionCheckpointHandler: checkpoint saved. Exiting.")
            self._exit_fn()
        else:
            _log.info("PreemptionCheckpointHandler: continuing to train for the grace period.")
            self._final_checkpoint_countdown = True
            self._step_to_checkpoint = None

    def _save_checkpoint(self, *args, **kwargs):
        from rill.core.context import init_scope

        with init_scope():
            self._checkpointed_runs.assign(np.int64(self._run_counter))
        start = time.monotonic()
        if self._save_fn is not None:
            self._save_fn(*args, **kwargs)
        else:
            self._write_manager.save(*args, **kwargs)
        self._checkpoint_time = time.monotonic() - start
        _log.info("Checkpoint finished at path %s", self._write_manager.directory)


# --------------------------------------------------------------------------- watcher


@tf_export("distribute.experimental.PreemptionWatcher")
class PreemptionWatcher:
    """Records the first preemption notice this process receives.

    TF's watcher reads a preemption key from its coordination service, which exists only
    on Google's TPU clusters (elsewhere it logs a warning and never sees a notice). rill
    has no coordination service: its notice is SIGTERM, the signal schedulers send
    before they kill a process. A signal handler wakes a daemon thread, which records
    ``preemption_message``; it stays None until then.
    """

    def __init__(self):
        self._preemption_message = None
        self._notice = threading.Event()
        # the thread holds the watcher weakly, so that a dropped watcher is collected
        # (its __del__ wakes the thread to end it)
        self._thread = threading.Thread(
            target=_watch_for_notice,
            args=(weakref.ref(self), self._notice),
            name="PreemptionWatcher",
            daemon=True,
        )
        _SIGTERM.subscribe(self._on_sigterm)
        self._thread.start()

    @property
    def preemption_message(self):
        """None until a preemption notice arrives; then a message saying what it was."""
        return self._preemption_message

    def _on_sigterm(self):
        # inside the signal handler: only record the time and wake the thread
        self._notice_time = time.time()
        self._notice.set()

    def block_until_worker_exit(self) -> None:
        """Waits for preempted TPU workers to exit in TF; a no-op elsewhere, as in TF."""
        return None

    def __del__(self):
        try:
            _SIGTERM.unsubscribe(self._on_sigterm)
            self._notice.set()
        except Exception:  # interpreter shutdown: modules may be gone
            pass


def _watch_for_notice(watcher_ref, notice: threading.Event) -> None:
    """The watcher's thread: wait for the notice, then record its message."""
    notice.wait()
    watcher = watcher_ref()
    if watcher is None:  # woken by the watcher's collection, not by a notice
        return
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(watcher._notice_time))
    watcher._preemption_message = (
        f"Preemption notice: SIGTERM received by process {os.getpid()} at {stamp}."
    )
    _log.info("PreemptionWatcher: %s", watcher._preemption_message)
