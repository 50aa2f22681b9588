"""``tf.config``: the devices rill runs on and the runtime's settings.

rill's physical devices are the CPU (``PhysicalDevice(name='/physical_device:CPU:0',
device_type='CPU')``), on which eager ops run, and the GPUs and TPUs JAX has (with
``rill[xla]`` and JAX's plugin, e.g. ``jax[cuda12]``), on which functions compiled with
``jit_compile`` run: by default, or where a ``tf.device`` scope names one. The CPU can be
split into logical devices (``set_logical_device_configuration``), which ``tf.device``
then accepts by name; their ops run on the one CPU. Device configuration is fixed once
rill is initialised: by ``list_logical_devices``, a ``tf.device`` scope or a memory
statistics query (``rill.core.runtime`` says why running ops does not count).
"""

from rill.config import experimental, optimizer, threading
from rill.config._devices import (
    LogicalDevice,
    LogicalDeviceConfiguration,
    PhysicalDevice,
    get_logical_device_configuration,
    get_visible_devices,
    list_logical_devices,
    list_physical_devices,
    set_logical_device_configuration,
    set_visible_devices,
)
from rill.core import runtime as _runtime
from rill.core.errors import UnimplementedError as _Unimplemented

__all__ = [
    "LogicalDevice", "LogicalDeviceConfiguration", "PhysicalDevice", "experimental",
    "experimental_connect_to_cluster", "experimental_connect_to_host",
    "experimental_functions_run_eagerly", "experimental_run_functions_eagerly",
    "functions_run_eagerly", "get_logical_device_configuration",
    "get_soft_device_placement", "get_visible_devices", "list_logical_devices",
    "list_physical_devices", "optimizer", "run_functions_eagerly",
    "set_logical_device_configuration", "set_soft_device_placement",
    "set_visible_devices", "threading",
]  # fmt: skip


def run_functions_eagerly(run_eagerly) -> None:
    """Run the Python of every ``rill.function`` on each call instead of its traced
    graph (for debugging: prints, breakpoints, NumPy calls run every time). Concrete
    functions (``get_concrete_function``) and ``tf.data`` functions are still traced."""
    _runtime.settings.run_functions_eagerly = bool(run_eagerly)


def functions_run_eagerly() -> bool:
    """Whether ``run_functions_eagerly(True)`` is in force."""
    return _runtime.settings.run_functions_eagerly


def experimental_run_functions_eagerly(run_eagerly) -> None:
    """Deprecated in TF for ``run_functions_eagerly``; the same."""
    run_functions_eagerly(run_eagerly)


def experimental_functions_run_eagerly() -> bool:
    """Deprecated in TF for ``functions_run_eagerly``; the same."""
    return functions_run_eagerly()


def set_soft_device_placement(enabled) -> None:
    """With soft placement on (the default), ``tf.device`` with a device that does not
    exist (a GPU, CPU:7) places the ops on the CPU; off, entering such a scope raises
    ``InvalidArgumentError``."""
    _runtime.settings.soft_device_placement = bool(enabled)


def get_soft_device_placement() -> bool:
    return _runtime.settings.soft_device_placement


def _no_cluster(what):
    raise _Unimplemented(
        f"tf.config.{what}: rill runs in one local process and cannot connect to remote "
        f"TensorFlow servers (out of scope)."
    )


def experimental_connect_to_cluster(
    cluster_spec_or_resolver,
    job_name="localhost",
    task_index=0,
    protocol=None,
    make_master_device_default=True,
    cluster_device_filters=None,
):
    """Not supported: rill has no remote execution. Raises ``UnimplementedError`` (a
    ``NotImplementedError``)."""
    _no_cluster("experimental_connect_to_cluster")


def experimental_connect_to_host(remote_host=None, job_name="worker"):
    """Not supported: rill has no remote execution. Raises ``UnimplementedError`` (a
    ``NotImplementedError``)."""
    _no_cluster("experimental_connect_to_host")
