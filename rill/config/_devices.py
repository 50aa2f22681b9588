"""The devices ``tf.config`` lists and configures: the CPU, and the GPUs and TPUs that
JAX finds (``rill.backend.jax_runtime``), on which compiled functions run.

Which devices are visible, how the CPU is split into logical devices, and whether the
runtime is initialised live in ``rill.core.runtime`` (the layers below read them); this
module keeps the rest (the logical device configurations as given) and checks arguments
the way TF does. Devices are TF's namedtuples, so they compare and print as in TF.
"""

from __future__ import annotations

import collections

from rill.backend import jax_runtime as _jax_runtime
from rill.core import runtime as _runtime
from rill.core.errors import NotFoundError

__all__ = [
    "PhysicalDevice", "LogicalDevice", "LogicalDeviceConfiguration", "CPU",
    "list_physical_devices", "list_logical_devices", "get_visible_devices",
    "set_visible_devices", "get_logical_device_configuration",
    "set_logical_device_configuration", "check_physical_device", "jax_device_of",
]  # fmt: skip


class PhysicalDevice(collections.namedtuple("PhysicalDevice", ["name", "device_type"])):
    """A device of the machine, as ``tf.config.list_physical_devices`` lists it."""

    __slots__ = ()


class LogicalDevice(collections.namedtuple("LogicalDevice", ["name", "device_type"])):
    """A device ops can be placed on (``tf.device(name)``), as ``list_logical_devices``
    lists it."""

    __slots__ = ()


class LogicalDeviceConfiguration(
    collections.namedtuple(
        "LogicalDeviceConfiguration",
        ["memory_limit", "experimental_priority", "experimental_device_ordinal"],
        defaults=(None, None, None),
    )
):
    """One logical device to create from a physical one
    (``tf.config.set_logical_device_configuration``). On the CPU every field must be None:
    the CPU can be split into several logical devices, but not given memory limits."""

    __slots__ = ()


CPU = PhysicalDevice("/physical_device:CPU:0", _runtime.CPU_TYPE)


def _accelerators() -> list:
    """``[(PhysicalDevice, (type, index), jax Device)]`` for each accelerator JAX has."""
    return [
        (PhysicalDevice(f"/physical_device:{kind}:{i}", kind), (kind, i), dev)
        for kind, i, dev in _jax_runtime.accelerators()
    ]


def jax_device_of(device: PhysicalDevice):
    """The JAX device behind physical accelerator ``device`` (checked to be one)."""
    check_physical_device(device)
    return next(dev for d, _, dev in _accelerators() if d == device)


def _physical() -> list:
    return [CPU] + [d for d, _, _ in _accelerators()]


_logical_configs: dict = {}  # PhysicalDevice -> list of LogicalDeviceConfiguration


def _filter(devices, device_type):
    return [d for d in devices if device_type is None or d.device_type == device_type]


def check_physical_device(device) -> PhysicalDevice:
    """``device`` if it is one of the listed physical devices, else TF's ValueError."""
    if not (isinstance(device, tuple) and device in _physical()):
        raise ValueError(
            f"Unrecognized device: {device!r}. Pass a device from "
            f"tf.config.list_physical_devices()."
        )
    return device


def list_physical_devices(device_type=None) -> list:
    """The machine's devices, optionally of one type (``"CPU"``, ``"GPU"``; case-sensitive,
    as in TF): the CPU, then the accelerators JAX has (with ``rill[xla]`` and JAX's plugin
    for them, e.g. ``jax[cuda12]``)."""
    return _filter(_physical(), device_type)


def _visible():
    hidden = _runtime.settings.hidden_accelerators
    out = [CPU] if _runtime.settings.cpu_visible else []
    return out + [d for d, key, _ in _accelerators() if key not in hidden]


def get_visible_devices(device_type=None) -> list:
    """The physical devices the runtime may use (all of them unless
    ``set_visible_devices`` hid some)."""
    return _filter(_visible(), device_type)


def set_visible_devices(devices, device_type=None) -> None:
    """Make only ``devices`` visible: all of them (``device_type=None``), or those of one
    type, leaving the other types as they are. After rill is initialised (see
    ``rill.core.runtime``) the visible devices can no longer change: a change raises
    ``RuntimeError`` (setting the same devices again is allowed, as in TF)."""
    if isinstance(devices, PhysicalDevice):
        devices = [devices]
    devices = list(devices)
    for d in devices:
        check_physical_device(d)
        if device_type is not None and d.device_type != device_type:
            raise ValueError(f"Unrecognized device: {d!r} is not a {device_type} device.")
    if device_type is None:
        new = set(devices)
    else:
        new = {d for d in _visible() if d.device_type != device_type} | set(devices)
    if new == set(_visible()):
        return
    if _runtime.settings.initialized:
        raise RuntimeError("Visible devices cannot be modified after being initialized")
    _runtime.settings.cpu_visible = CPU in new
    _runtime.settings.hidden_accelerators = frozenset(
        key for d, key, _ in _accelerators() if d not in new
    )


def list_logical_devices(device_type=None) -> list:
    """The devices ops can be placed on: one per logical device configuration of each
    visible physical device (the CPU alone by default). Initialises rill."""
    _runtime.ensure_initialized()
    cpus = _runtime.local_cpu_names()
    if not cpus:
        raise NotFoundError(
            "No CPU devices are available in this process: the CPU was hidden with "
            "tf.config.set_visible_devices or given no logical devices."
        )
    out = [LogicalDevice(f"/device:CPU:{i}", _runtime.CPU_TYPE) for i in range(len(cpus))]
    out += [LogicalDevice(f"/device:{k}:{i}", k) for k, i, _ in _runtime.visible_accelerators()]
    return _filter(out, device_type)


def get_logical_device_configuration(device):
    """The logical device configurations set for a physical device, or None."""
    check_physical_device(device)
    configs = _logical_configs.get(device)
    return None if configs is None else list(configs)


def set_logical_device_configuration(device, logical_devices) -> None:
    """Split a physical device into logical devices, one per
    ``LogicalDeviceConfiguration``. On the CPU the configurations may set no field (TF
    raises the same ValueErrors). A change raises ``RuntimeError`` once rill is
    initialised."""
    check_physical_device(device)
    if isinstance(logical_devices, (str, bytes)) or not hasattr(logical_devices, "__iter__"):
        raise TypeError(
            f"logical_devices must be a list of tf.config.LogicalDeviceConfiguration, got "
            f"{logical_devices!r}."
        )
    configs = list(logical_devices)
    for c in configs:
        if not isinstance(c, LogicalDeviceConfiguration):
            raise TypeError(
                f"logical_devices must be a list of tf.config.LogicalDeviceConfiguration, "
                f"got an element {c!r}."
            )
        if device.device_type == _runtime.CPU_TYPE:
            for field in LogicalDeviceConfiguration._fields:
                if getattr(c, field) is not None:
                    what = "memory limit" if field == "memory_limit" else field
                    raise ValueError(
                        f"Setting {what} on CPU virtual devices is currently not supported"
                    )
    if _logical_configs.get(device) == configs:
        return
    if _runtime.settings.initialized:
        raise RuntimeError("Virtual devices cannot be modified after being initialized")
    _logical_configs[device] = configs
    if device is CPU or device == CPU:
        _runtime.settings.logical_cpus = len(configs)
