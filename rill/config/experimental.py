"""``tf.config.experimental``: memory, determinism, precision and execution settings.

rill's eager ops run on NumPy on the CPU, so most of these are recorded and reported back
rather than acted on: NumPy kernels are deterministic and compute float32 in full
precision (no TensorFloat-32), execution is synchronous, and there is no MLIR bridge. The
checks and errors are TF's: memory growth and allocator statistics exist only for GPUs
(those JAX has, where compiled functions run), so on the CPU they raise the ValueErrors
TF raises.
"""

from __future__ import annotations

import os
import warnings

from rill.config._devices import (
    LogicalDeviceConfiguration,
    check_physical_device,
    get_logical_device_configuration,
    get_visible_devices,
    list_logical_devices,
    list_physical_devices,
    set_logical_device_configuration,
    set_visible_devices,
)
from rill.config._devices import jax_device_of as _jax_device_of
from rill.core import runtime as _runtime
from rill.core.errors import UnimplementedError

__all__ = [
    "ClusterDeviceFilters", "VirtualDeviceConfiguration", "disable_mlir_bridge",
    "enable_mlir_bridge", "enable_op_determinism", "enable_tensor_float_32_execution",
    "get_device_details", "get_device_policy", "get_memory_growth", "get_memory_info",
    "get_memory_usage", "get_synchronous_execution", "get_virtual_device_configuration",
    "get_visible_devices", "list_logical_devices", "list_physical_devices",
    "reset_memory_stats", "set_device_policy", "set_memory_growth",
    "set_synchronous_execution", "set_virtual_device_configuration", "set_visible_devices",
    "tensor_float_32_execution_enabled",
]  # fmt: skip

VirtualDeviceConfiguration = LogicalDeviceConfiguration
get_virtual_device_configuration = get_logical_device_configuration
set_virtual_device_configuration = set_logical_device_configuration

_DEVICE_POLICIES = ("silent", "warn", "explicit", "silent_for_int32")


class _Flags:
    def __init__(self):
        self.op_determinism = False
        self.tensor_float_32 = True
        self.synchronous = True
        self.device_policy = "silent"
        self.mlir_bridge = None  # None: TF's default choice


_flags = _Flags()


# --------------------------------------------------------------------------------------
# memory
# --------------------------------------------------------------------------------------


_memory_growth: dict = {}  # accelerator PhysicalDevice -> bool


def set_memory_growth(device, enable) -> None:
    """Let a GPU's memory grow as needed. Only accelerators have it: on the CPU this
    raises TF's ValueError, and after rill is initialised a change raises RuntimeError, as
    in TF. JAX decides how its GPU memory grows before the first device is listed
    (``XLA_PYTHON_CLIENT_PREALLOCATE=false`` in the environment is JAX's way to grow it),
    so rill records the choice and says so in a warning when it differs from JAX's."""
    check_physical_device(device)
    if device.device_type == _runtime.CPU_TYPE:
        raise ValueError(
            f"Cannot set memory growth on non-GPU and non-Pluggable devices: {device.name} is "
            f"a {device.device_type}."
        )
    enable = bool(enable)
    if _memory_growth.get(device, False) == enable:
        return
    if _runtime.settings.initialized:
        raise RuntimeError("Physical devices cannot be modified after being initialized")
    jax_grows = os.environ.get("XLA_PYTHON_CLIENT_PREALLOCATE", "true").lower() == "false"
    if enable != jax_grows:
        warnings.warn(
            f"set_memory_growth({device.name}, {enable}): JAX fixed how it allocates GPU "
            f"memory when it started (XLA_PYTHON_CLIENT_PREALLOCATE="
            f"{'false' if jax_grows else 'true'}); set that variable before importing rill "
            f"to change it.",
            stacklevel=2,
        )
    _memory_growth[device] = enable


def get_memory_growth(device) -> bool:
    """Whether memory growth is on for a GPU. As in TF, it is only kept for accelerators:
    the CPU raises ``KeyError``."""
    check_physical_device(device)
    if device.device_type == _runtime.CPU_TYPE:
        raise KeyError(f"{device!r}: memory growth is only kept for GPU devices.")
    return _memory_growth.get(device, False)


def _memory_device(device):
    """The JAX device of an accelerator named by a memory-statistics call's device string
    (None for a CPU); initialises rill, as TF does."""
    if not isinstance(device, str):
        raise TypeError(f"device must be a device name string like 'GPU:0', got {device!r}.")
    try:
        d = _runtime.parse_device(device)
    except ValueError:
        d = None
    if d is None or d.device_type is None or d.device_index is None:
        raise ValueError(
            f"Failed parsing device name: {device!r}. A device name needs at least a device "
            f'type and an index, like "GPU:0".'
        )
    _runtime.ensure_initialized()
    local = d.job in (None, "localhost") and d.replica in (None, 0) and d.task in (None, 0)
    n_cpu = len(_runtime.local_cpu_names())
    if local and d.device_type == _runtime.CPU_TYPE and d.device_index < n_cpu:
        return None
    dev = _runtime.find_accelerator(d.device_type, d.device_index) if local else None
    if dev is None:
        raise ValueError(f"No matching devices found for {device!r}")
    return dev


def _memory_stats(device) -> dict:
    """JAX's allocator statistics of the accelerator ``device`` names; TF's ValueError for
    the CPU, whose allocator keeps none."""
    dev = _memory_device(device)
    stats = dev.memory_stats() if dev is not None else None
    if not stats:
        raise ValueError(
            f"Allocator stats not available for device {device!r}: memory statistics are "
            f"kept for GPUs only."
        )
    return stats


def get_memory_info(device) -> dict:
    """``{"current": bytes, "peak": bytes}`` of a GPU's memory in use, from JAX's
    allocator. TF keeps no allocator statistics for the CPU: a CPU name raises TF's
    ValueError, a device that does not exist another."""
    stats = _memory_stats(device)
    return {"current": stats.get("bytes_in_use", 0), "peak": stats.get("peak_bytes_in_use", 0)}


def get_memory_usage(device) -> int:
    """Deprecated in TF for ``get_memory_info(device)["current"]``; the same errors."""
    return get_memory_info(device)["current"]


def reset_memory_stats(device) -> None:
    """Reset a GPU's peak memory statistic; the CPU raises TF's ValueError. JAX's
    allocator keeps its peak since the process started and has no reset, so on a GPU this
    raises ``UnimplementedError`` rather than report a peak from before the reset."""
    _memory_stats(device)
    raise UnimplementedError(
        None,
        None,
        f"reset_memory_stats({device!r}): JAX's allocator keeps its peak since the process "
        f"started and cannot reset it; compare get_memory_info()['current'] readings instead.",
    )


def get_device_details(device) -> dict:
    """Details of a physical device: a GPU's ``device_name`` and ``compute_capability``
    (as JAX reports them); ``{}`` for the CPU, as in TF."""
    if not isinstance(device, tuple) or not hasattr(device, "device_type"):
        raise ValueError(f"device must be a tf.config.PhysicalDevice, but got: {device}")
    check_physical_device(device)
    if device.device_type == _runtime.CPU_TYPE:
        return {}
    dev = _jax_device_of(device)
    details = {"device_name": dev.device_kind}
    cc = getattr(dev, "compute_capability", None)
    if cc:
        details["compute_capability"] = tuple(int(p) for p in str(cc).split(".")[:2])
    return details


# --------------------------------------------------------------------------------------
# execution settings
# --------------------------------------------------------------------------------------


def enable_op_determinism() -> None:
    """Ask for deterministic ops. rill's NumPy kernels already are deterministic (the
    same inputs give the same outputs); the request is recorded."""
    _flags.op_determinism = True


def enable_tensor_float_32_execution(enabled) -> None:
    """Allow TensorFloat-32 matmuls and convolutions on GPUs that have it. rill computes
    float32 in full precision on the CPU either way; the setting is recorded."""
    _flags.tensor_float_32 = bool(enabled)


def tensor_float_32_execution_enabled() -> bool:
    """Whether TensorFloat-32 is allowed (True by default, as in TF)."""
    return _flags.tensor_float_32


def set_device_policy(device_policy) -> None:
    """How ops treat inputs on another device: ``"silent"`` (the default, also for
    None), ``"warn"``, ``"explicit"`` or ``"silent_for_int32"``. rill has one device, so
    no copy ever happens; the policy is recorded."""
    if device_policy is None:
        device_policy = "silent"
    if device_policy not in _DEVICE_POLICIES:
        raise ValueError(
            f"Invalid argument `device_policy`: {device_policy!r}. Valid policies are "
            f"{', '.join(map(repr, _DEVICE_POLICIES))} and None."
        )
    _flags.device_policy = device_policy


def get_device_policy() -> str:
    return _flags.device_policy


def set_synchronous_execution(enable) -> None:
    """Whether ops finish before they return. rill always runs synchronously; recorded."""
    _flags.synchronous = bool(enable)


def get_synchronous_execution() -> bool:
    return _flags.synchronous


def enable_mlir_bridge() -> None:
    """TF's MLIR graph bridge; rill has none (recorded, no effect)."""
    _flags.mlir_bridge = True


def disable_mlir_bridge() -> None:
    """TF's MLIR graph bridge; rill has none (recorded, no effect)."""
    _flags.mlir_bridge = False


class ClusterDeviceFilters:
    """Device filters for the tasks of a cluster, for
    ``tf.config.experimental_connect_to_cluster`` (which rill does not support: one local
    process). The filters are recorded."""

    def __init__(self):
        self._device_filters: dict = {}

    def set_device_filters(self, job_name, task_index, device_filters) -> None:
        """Filter the devices task ``task_index`` of job ``job_name`` can see."""
        if not isinstance(job_name, str):
            raise TypeError(f"job_name must be a string, got {job_name!r}.")
        if not isinstance(task_index, int) or isinstance(task_index, bool):
            raise TypeError(f"task_index must be an int, got {task_index!r}.")
        if isinstance(device_filters, str):
            raise TypeError("device_filters must be a list of device filter strings.")
        filters = [str(f) for f in device_filters]
        self._device_filters.setdefault(job_name, {})[task_index] = filters
