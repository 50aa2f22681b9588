"""``tf.config.experimental``: memory, determinism, precision and execution settings.

rill runs on NumPy on the CPU, so most of these are recorded and reported back rather
than acted on: NumPy kernels are deterministic and compute float32 in full precision
(no TensorFloat-32), execution is synchronous, and there is no MLIR bridge. The checks
and errors are TF's: memory growth and allocator statistics exist only for GPUs, so on the
CPU they raise the ValueErrors TF raises.
"""

from __future__ import annotations

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
from rill.core import runtime as _runtime

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


def set_memory_growth(device, enable) -> None:
    """Let a GPU's memory grow as needed. Only GPUs have it: on the CPU this raises TF's
    ValueError (loop over ``list_physical_devices("GPU")``, which is empty in rill)."""
    check_physical_device(device)
    raise ValueError(
        f"Cannot set memory growth on non-GPU and non-Pluggable devices: {device.name} is "
        f"a {device.device_type}."
    )


def get_memory_growth(device) -> bool:
    """Whether memory growth is on for a GPU. As in TF, it is only kept for GPUs: the CPU
    raises ``KeyError``."""
    check_physical_device(device)
    raise KeyError(f"{device!r}: memory growth is only kept for GPU devices, and rill has none.")


def _memory_device(device) -> str:
    """Check a device string of a memory-statistics call; initialises rill, as TF does."""
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
    if not (local and d.device_type == _runtime.CPU_TYPE and d.device_index < n_cpu):
        raise ValueError(f"No matching devices found for {device!r}")
    return device


def get_memory_info(device) -> dict:
    """``{"current": bytes, "peak": bytes}`` for a GPU. TF keeps no allocator statistics
    for the CPU, and rill has only the CPU: a CPU name raises TF's ValueError, a device
    that does not exist another."""
    _memory_device(device)
    raise ValueError(
        f"Allocator stats not available for device {device!r}: memory statistics are kept "
        f"for GPUs only."
    )


def get_memory_usage(device) -> int:
    """Deprecated in TF for ``get_memory_info(device)["current"]``; the same errors."""
    return get_memory_info(device)["current"]


def reset_memory_stats(device) -> None:
    """Reset a GPU's peak memory statistic; the CPU raises TF's ValueError."""
    _memory_device(device)
    raise ValueError(
        f"Cannot reset memory stats for device {device!r}: memory statistics are kept for "
        f"GPUs only."
    )


def get_device_details(device) -> dict:
    """Details of a physical device (a GPU's name and compute capability); ``{}`` for
    the CPU, as in TF."""
    if not isinstance(device, tuple) or not hasattr(device, "device_type"):
        raise ValueError(f"device must be a tf.config.PhysicalDevice, but got: {device}")
    check_physical_device(device)
    return {}


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
