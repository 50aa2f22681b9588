"""The process's devices and the runtime settings TensorFlow keeps in its eager context.

``rill.config`` is the public face of this module; lower layers read the settings here
(``core.context.device`` the soft placement and the logical CPUs, ``rill.data`` the
inter-op thread bound, ``rill.function`` whether functions run eagerly), so the state
lives in core and upper layers change it through the functions below.

rill's physical devices are the CPU, on which eager ops and the executor run, and the
accelerators JAX finds (``rill.backend.jax_runtime``: GPUs, TPUs), on which functions
compiled with ``jit_compile`` run (JAX's default device, or the one a ``tf.device`` scope
names). "Initialised" (after which TF refuses to change the visible devices, the logical
device configuration or the thread pools) means here: the logical devices have been
used, by ``list_logical_devices``, a ``device(...)`` scope, or a memory-statistics query.
Running ops does not initialise rill: the eager hot path does no bookkeeping, so code
that configures devices after its first op works in rill where TF would raise.
"""

from __future__ import annotations

import threading
from typing import NamedTuple

from rill.backend import jax_runtime as _jax_runtime
from rill.core.errors import InvalidArgumentError, NotFoundError

__all__ = [
    "settings", "ensure_initialized", "DeviceName", "parse_device", "canonical_device",
    "check_placement", "CPU_TYPE", "accelerator_names", "push_device_scope",
    "pop_device_scope", "current_device", "visible_accelerators", "compiled_device",
    "find_accelerator",
]  # fmt: skip

CPU_TYPE = "CPU"
_LOCAL_JOB = "localhost"
# device types that may be written bare ("cpu:0", "GPU"); others need "/device:TYPE:N"
_BARE_TYPES = ("CPU", "GPU", "TPU")


class _Settings:
    """Process-wide runtime settings (TF keeps them on its eager context)."""

    __slots__ = (
        "initialized", "run_functions_eagerly", "soft_device_placement", "logical_cpus",
        "cpu_visible", "hidden_accelerators", "inter_op_threads", "intra_op_threads",
        "device_scopes",
    )  # fmt: skip

    def __init__(self):
        self.initialized = False
        self.run_functions_eagerly = False  # read by rill.function on every call
        self.soft_device_placement = True
        self.logical_cpus = 1  # logical devices the CPU is split into
        self.cpu_visible = True
        self.hidden_accelerators = frozenset()  # (type, index) hidden by set_visible_devices
        # tf.device scopes open in any thread: a compiled function's call looks for its
        # thread's scope only when some are (one attribute read on the per-call path)
        self.device_scopes = 0
        self.inter_op_threads = 0  # 0: the system picks; < 0: run in the caller's thread
        self.intra_op_threads = 0


settings = _Settings()
_init_lock = threading.Lock()


def ensure_initialized() -> None:
    """Fix the logical devices: from now on they cannot be reconfigured (as in TF)."""
    if not settings.initialized:
        with _init_lock:
            settings.initialized = True


# --------------------------------------------------------------------------------------
# Device names
# --------------------------------------------------------------------------------------


class DeviceName(NamedTuple):
    """The parts of a device specification; None where the specification leaves one open."""

    job: str | None = None
    replica: int | None = None
    task: int | None = None
    device_type: str | None = None
    device_index: int | None = None


def _int_field(spec, what, text):
    try:
        return int(text)
    except ValueError:
        raise ValueError(
            f"Invalid {what} {text!r} in device specification {spec!r}: expected an integer."
        ) from None


def parse_device(spec) -> DeviceName:
    """Parse a device specification the way ``tf.device`` reads it.

    Accepted parts, in any order and separated by ``/``: ``job:NAME``, ``replica:N``,
    ``task:N``, ``device:TYPE:N`` (any type; ``N`` may be ``*``), and the short forms
    ``CPU:N`` / ``GPU:N`` / ``TPU:N`` or a bare ``CPU`` (any letter case). So "cpu",
    "CPU:0", "/CPU:0", "/device:CPU:0" and "/job:localhost/replica:0/task:0/device:CPU:0"
    all name the CPU. ``None`` and ``""`` name no device.
    """
    if spec is None:
        return DeviceName()
    if not isinstance(spec, str):
        to_string = getattr(spec, "to_string", None)  # a DeviceSpec
        if not callable(to_string):
            raise ValueError(f"Expecting a string device name. Got {type(spec)}({spec!r})")
        spec = to_string()
    job = replica = task = dtype = index = None
    for part in spec.split("/"):
        if not part:
            continue
        fields = part.split(":")
        key, n = fields[0], len(fields)
        if key == "job" and n == 2:
            job = fields[1]
            continue
        if key in ("replica", "task") and n == 2:
            value = _int_field(spec, key, fields[1])
            if key == "replica":
                replica = value
            else:
                task = value
            continue
        if key == "device" and n == 3:
            new_type, new_index = fields[1], fields[2]
        elif key.upper() in _BARE_TYPES and n in (1, 2):
            new_type, new_index = key, (fields[1] if n == 2 else "*")
        else:
            raise ValueError(
                f"Unknown attribute {key!r} in device specification {spec!r}: expected "
                f"job:NAME, replica:N, task:N, device:TYPE:N or CPU:N / GPU:N / TPU:N."
            )
        if dtype is not None:
            raise ValueError(f"Device specification {spec!r} names more than one device type.")
        dtype = new_type.upper() if new_type.upper() in _BARE_TYPES else new_type
        index = None if new_index == "*" else _int_field(spec, "device index", new_index)
    return DeviceName(job, replica, task, dtype, index)


def canonical_device(spec) -> str:
    """The canonical spelling of a device specification: only the parts it names, as
    ``/job:J/replica:R/task:T/device:TYPE:N`` ("/cpu:0" -> "/device:CPU:0")."""
    d = parse_device(spec)
    out = []
    if d.job is not None:
        out.append(f"/job:{d.job}")
    if d.replica is not None:
        out.append(f"/replica:{d.replica}")
    if d.task is not None:
        out.append(f"/task:{d.task}")
    if d.device_type is not None:
        idx = "*" if d.device_index is None else d.device_index
        out.append(f"/device:{d.device_type}:{idx}")
    return "".join(out)


def full_device_name(d: DeviceName) -> str:
    """``d`` with the local defaults filled in (job localhost, replica 0, task 0)."""
    job = _LOCAL_JOB if d.job is None else d.job
    replica = 0 if d.replica is None else d.replica
    task = 0 if d.task is None else d.task
    name = f"/job:{job}/replica:{replica}/task:{task}"
    if d.device_type is not None:
        idx = "*" if d.device_index is None else d.device_index
        name += f"/device:{d.device_type}:{idx}"
    return name


def local_cpu_names() -> list:
    """Full names of the logical CPU devices."""
    if not settings.cpu_visible:
        return []
    base = f"/job:{_LOCAL_JOB}/replica:0/task:0/device:CPU:"
    return [base + str(i) for i in range(settings.logical_cpus)]


def visible_accelerators() -> list:
    """``[(type, index, jax Device)]`` of the accelerators ``set_visible_devices`` left
    visible, numbered per type among those (as TF numbers the devices it can use)."""
    out, counts = [], {}
    for kind, i, dev in _jax_runtime.accelerators():
        if (kind, i) not in settings.hidden_accelerators:
            out.append((kind, counts.get(kind, 0), dev))
            counts[kind] = counts.get(kind, 0) + 1
    return out


def accelerator_names() -> list:
    """Full names of the visible accelerators (``.../device:GPU:0``), in JAX's order."""
    base = f"/job:{_LOCAL_JOB}/replica:0/task:0/device:"
    return [f"{base}{kind}:{i}" for kind, i, _ in visible_accelerators()]


def find_accelerator(device_type: str, index: int | None):
    """The JAX device of visible accelerator ``device_type``:``index`` (None: the first of
    its type), or None where there is none."""
    for kind, i, dev in visible_accelerators():
        if kind == device_type and i == (index or 0):
            return dev
    return None


def compiled_device(d: DeviceName | None):
    """The JAX device a compiled function runs on in scope ``d`` (``current_device()``):
    the visible accelerator it names, JAX's CPU for a CPU, else None (JAX's default
    device: the first accelerator, or the CPU)."""
    if d is None:
        return None
    if d.device_type == CPU_TYPE:  # JAX's default already, unless it has an accelerator
        return _jax_runtime.jax_cpu_device() if _jax_runtime.accelerators() else None
    return find_accelerator(d.device_type, d.device_index)


def check_placement(spec) -> DeviceName:
    """Parse ``spec`` and check that ops can be placed there: the local job, and a CPU or
    visible accelerator that exists, or (with soft placement on) any device, which then
    falls back to the CPU, as in TF. Raises ``InvalidArgumentError`` otherwise."""
    d = parse_device(spec)
    if (d.job not in (None, _LOCAL_JOB)) or d.replica not in (None, 0) or d.task not in (None, 0):
        raise InvalidArgumentError(
            f"{full_device_name(d)} unknown device: rill runs in one local process "
            f"(/job:{_LOCAL_JOB}/replica:0/task:0)."
        )
    if d.device_type is None:
        return d
    if d.device_index is not None and d.device_index < 0:
        raise InvalidArgumentError(f"Malformed device specification {full_device_name(d)!r}.")
    available = local_cpu_names()
    if not available:
        raise NotFoundError(
            "No CPU devices are available in this process: tf.config.set_visible_devices "
            "hid the CPU."
        )
    if d.device_type == CPU_TYPE and (d.device_index is None or d.device_index < len(available)):
        return d
    if settings.soft_device_placement:
        return d  # soft placement: the ops run on the CPU
    if find_accelerator(d.device_type, d.device_index) is not None:
        return d
    accelerators = accelerator_names()
    types = sorted({CPU_TYPE} | {kind for kind, _, _ in visible_accelerators()})
    raise InvalidArgumentError(
        f"Could not satisfy device specification {full_device_name(d)!r}: soft device "
        f"placement is off (tf.config.set_soft_device_placement(False)). Supported device "
        f"types [{', '.join(types)}]. All available devices "
        f"[{', '.join(available + accelerators)}]."
    )


# The device scopes entered (``tf.device``), innermost last, per thread as in TF. A
# compiled function reads the innermost that names a device type when it is called.
_scopes = threading.local()


def push_device_scope(d: DeviceName) -> None:
    """Enter a ``tf.device`` scope (``d`` as ``check_placement`` returned it)."""
    stack = getattr(_scopes, "stack", None)
    if stack is None:
        stack = _scopes.stack = []
    stack.append(d)
    with _init_lock:
        settings.device_scopes += 1


def pop_device_scope() -> None:
    """Leave the innermost ``tf.device`` scope."""
    _scopes.stack.pop()
    with _init_lock:
        settings.device_scopes -= 1


def current_device() -> DeviceName | None:
    """The device the innermost ``tf.device`` scope that names a type selects, or None (no
    scope, or ``tf.device(None)`` inside, which clears the outer ones, as in TF)."""
    for d in reversed(getattr(_scopes, "stack", None) or ()):
        if d.device_type is not None:
            return d
        if d == _CLEARED:
            return None
    return None


_CLEARED = DeviceName()  # tf.device(None) or tf.device("")
