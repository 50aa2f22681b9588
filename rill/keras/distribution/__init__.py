"""``keras.distribution``: device meshes, tensor layouts and distribution strategies.

Keras 3 on its TensorFlow backend keeps these as descriptions (its DTensor code is a
prototype): meshes, layouts and the global distribution are recorded and answered, and
nothing is sharded. rill does the same on its one process and its local devices. Where
Keras' TF backend has no implementation (``get_device_count``, ``initialize``,
``distribute_tensor`` raise AttributeError there), rill answers for its single process:
the device count, a no-op initialisation, and the tensor itself (one device holds it all).
"""

from __future__ import annotations

import collections.abc
import contextlib
import math
import re
import warnings

import numpy as np

DEFAULT_BATCH_DIM_NAME = "batch"
_global = {"distribution": None}

__all__ = [
    "DeviceMesh", "TensorLayout", "LayoutMap", "DataParallel", "ModelParallel",
    "distribute_tensor", "distribution", "set_distribution", "initialize", "list_devices",
    "get_device_count",
]  # fmt: skip


def list_devices(device_type=None) -> list:
    """Devices for distributed computation as ``"cpu:0"``-style strings (accelerators
    first when present, else the CPUs)."""
    from rill.config import list_logical_devices

    want = device_type.upper() if device_type else None
    devices = list_logical_devices(want)
    if want is None:
        other = [d for d in devices if d.device_type.lower() != "cpu"]
        devices = other or [d for d in devices if d.device_type.lower() == "cpu"]
    return [f"{d.device_type.lower()}:{d.name.split(':')[-1]}" for d in devices]


def get_device_count(device_type=None) -> int:
    """How many devices of ``device_type`` (default: accelerators, else CPUs) exist."""
    return len(list_devices(device_type))


def initialize(job_addresses=None, num_processes=None, process_id=None) -> None:
    """Join a multi-process job. rill runs one process, so only a one-process job (or
    no arguments) is accepted."""
    if num_processes not in (None, 1) or (process_id not in (None, 0)):
        raise ValueError(
            f"rill's Keras runs a single process; got num_processes={num_processes}, "
            f"process_id={process_id}. Use tf.distribute for multi-process training."
        )
    if job_addresses and len(str(job_addresses).split(",")) > 1:
        raise ValueError(f"rill's Keras runs a single process; got job_addresses={job_addresses!r}")


class DeviceMesh:
    """A named n-dimensional arrangement of devices (like ``jax.sharding.Mesh``)."""

    def __init__(self, shape, axis_names, devices=None):
        if not shape or not axis_names:
            raise ValueError(
                f"Shape and axis_names cannot be empty. Received: shape={shape}, "
                f"axis_names={axis_names}"
            )
        if len(shape) != len(axis_names):
            raise ValueError(
                f"Shape and axis_names should have same size. Received: shape={shape}, "
                f"axis_names={axis_names}"
            )
        devices = np.array(list_devices() if devices is None else devices)
        if math.prod(shape) != math.prod(devices.shape):
            raise ValueError(
                f"Shape does not match the number of devices. Received: shape={shape}; "
                f"devices.shape={devices.shape}"
            )
        self._shape = shape
        self._axis_names = axis_names
        self._devices = np.reshape(devices, shape)

    @property
    def shape(self):
        return self._shape

    @property
    def axis_names(self):
        return self._axis_names

    @property
    def devices(self):
        return self._devices

    def __repr__(self):
        return f"<{type(self).__name__} shape={self.shape}, axis_names={self.axis_names}>"

    __str__ = __repr__


class TensorLayout:
    """How a tensor's axes map onto a mesh's axes (None: that axis is not sharded)."""

    def __init__(self, axes, device_mesh=None):
        self._axes = tuple(axes)
        self._device_mesh = device_mesh
        self._validate_axes()

    @property
    def axes(self):
        return self._axes

    @property
    def device_mesh(self):
        return self._device_mesh

    @device_mesh.setter
    def device_mesh(self, device_mesh):
        if self._device_mesh is not None:
            raise ValueError(
                f"Cannot override device mesh value. Existing value is {self._device_mesh}"
            )
        self._device_mesh = device_mesh
        self._validate_axes()

    def _validate_axes(self):
        if self._device_mesh:
            valid = set(self._device_mesh.axis_names)
            names = set(self._axes) - {None}
            if names - valid:
                raise ValueError(
                    f"Invalid axis names for Layout. Valid axis names: {valid}, Got {names}"
                )

    def __repr__(self):
        return f"<{type(self).__name__} axes={self.axes}, device_mesh={self.device_mesh}>"

    __str__ = __repr__


class Distribution:
    """Base of the distribution strategies: a mesh, its batch axis, dataset sharding."""

    def __init__(self, device_mesh, batch_dim_name=None, auto_shard_dataset=True):
        self._device_mesh = device_mesh
        self._batch_dim_name = batch_dim_name
        self._auto_shard_dataset = auto_shard_dataset
        self._num_processes = 1  # rill's Keras runs one process
        self._process_id = 0
        self._is_multi_process = False

    @property
    def num_processes(self):
        return self._num_processes

    @property
    def num_model_replicas(self):
        raise NotImplementedError()  # abstract: each strategy says

    @property
    def data_shard_id(self):
        """Which shard of the data this process reads."""
        replicas = self.num_model_replicas
        if replicas >= self.num_processes:
            return self._process_id
        return self._process_id // (self.num_processes // replicas)

    def get_data_layout(self, data_shape):
        raise NotImplementedError()

    def get_variable_layout(self, variable):
        raise NotImplementedError()

    def get_tensor_layout(self, path):
        raise NotImplementedError()

    @contextlib.contextmanager
    def scope(self):
        """Make this the global distribution inside the ``with`` block."""
        original = distribution()
        set_distribution(self)
        try:
            yield
        finally:
            set_distribution(original)

    @property
    def device_mesh(self):
        return self._device_mesh

    @property
    def batch_dim_name(self):
        return self._batch_dim_name

    @property
    def auto_shard_dataset(self):
        return self._auto_shard_dataset

    @auto_shard_dataset.setter
    def auto_shard_dataset(self, value):
        self._auto_shard_dataset = value

    def distribute_dataset(self, dataset):
        """The dataset this process reads: unchanged in a single process."""
        return dataset

    def __repr__(self):
        return f"<{type(self).__name__} device_mesh={self.device_mesh}>"

    __str__ = __repr__


class DataParallel(Distribution):
    """Replicate variables on every device and split each batch along the mesh."""

    def __init__(self, device_mesh=None, devices=None, auto_shard_dataset=True):
        if device_mesh:
            if not isinstance(device_mesh, DeviceMesh):
                raise ValueError(
                    f"Expect `mesh` to be an instance of `DeviceMesh`. Received: "
                    f"mesh={device_mesh} (of type {type(device_mesh)})"
                )
            super().__init__(device_mesh, device_mesh.axis_names[0], auto_shard_dataset)
            if device_mesh.devices.ndim != 1:
                warnings.warn(
                    f"Expect the input mesh to be 1D, but received mesh.devices.ndim="
                    f"{device_mesh.devices.ndim}. The first axis will be used for "
                    f"data-parallel sharding.",
                    stacklevel=2,
                )
            return
        devices = np.array(devices if devices else list_devices())
        mesh = DeviceMesh(devices.shape, [DEFAULT_BATCH_DIM_NAME], devices)
        super().__init__(mesh, DEFAULT_BATCH_DIM_NAME, auto_shard_dataset)

    @property
    def num_model_replicas(self):
        return self.device_mesh.devices.size

    def get_data_layout(self, data_shape):
        spec = [None] * len(data_shape)
        spec[0] = self.batch_dim_name
        return TensorLayout(spec, self.device_mesh)

    def get_variable_layout(self, variable):
        if getattr(variable, "_layout", None) is not None:
            return variable._layout
        return TensorLayout([None] * len(variable.shape), self.device_mesh)

    def get_tensor_layout(self, path):
        return None


class ModelParallel(Distribution):
    """Shard variables by the layouts of a ``LayoutMap``; batches along its batch axis."""

    def __init__(self, *, layout_map=None, batch_dim_name=None, auto_shard_dataset=True,
                 **kwargs):  # fmt: skip
        kwargs.pop("device_mesh", None)  # accepted and ignored, as in Keras
        if layout_map is None:
            raise ValueError("You must specify a layout_map argument.")
        if not isinstance(layout_map, LayoutMap):
            raise ValueError(
                f"Argument `layout_map` must be a `LayoutMap` instance. Received: "
                f"layout_map={layout_map}"
            )
        mesh = layout_map.device_mesh
        super().__init__(mesh, batch_dim_name or mesh.axis_names[0], auto_shard_dataset)
        self._layout_map = layout_map

    @property
    def num_model_replicas(self):
        return self.device_mesh.shape[self.device_mesh.axis_names.index(self.batch_dim_name)]

    def get_data_layout(self, data_shape):
        spec = [None] * len(data_shape)
        spec[0] = self.batch_dim_name
        return TensorLayout(spec, self.device_mesh)

    def get_variable_layout(self, variable):
        if getattr(variable, "_layout", None) is not None:
            return variable._layout
        layout = self._layout_map[variable.path]
        if layout is not None:
            return layout
        return TensorLayout([None] * len(variable.shape), self.device_mesh)

    def get_tensor_layout(self, path):
        return self._layout_map[path]


class LayoutMap(collections.abc.MutableMapping):
    """Variable/tensor paths (exact, or regexes matched in full) -> ``TensorLayout``."""

    def __init__(self, device_mesh):
        self._layout_map = collections.OrderedDict()
        self._device_mesh = device_mesh

    def __getitem__(self, key):
        """The layout for ``key``: an exact entry, else the one regex matching all of it
        (several matching raise ValueError), else None."""
        if key in self._layout_map:
            return self._layout_map[key]
        matches = [p for p in self._layout_map if re.fullmatch(p, key)]
        if len(matches) > 1:
            raise ValueError(
                f"Path '{key}' matches multiple layout specification keys: {matches}. "
                f"Please make sure each tensor/variable path only matches at most one "
                f"layout specification key in the LayoutMap."
            )
        return self._layout_map[matches[0]] if matches else None

    def __setitem__(self, key, layout):
        if key in self._layout_map:
            raise ValueError(
                f"{key} already exist in the LayoutMap with value {self._layout_map[key]}. "
                f"Please make sure to not use duplicated keys."
            )
        if isinstance(layout, tuple):
            layout = TensorLayout(axes=layout, device_mesh=None)
        if not isinstance(layout, TensorLayout):
            raise ValueError(f"{layout} should be a TensorLayout type, got {type(layout)}")
        if layout.device_mesh is None and self._device_mesh is not None:
            layout.device_mesh = self._device_mesh
        self._layout_map[key] = layout

    def __delitem__(self, key):
        return self._layout_map.pop(key)

    def __len__(self):
        return len(self._layout_map)

    def __iter__(self):
        return iter(self._layout_map)

    @property
    def device_mesh(self):
        return self._device_mesh


LayoutMap.get.__doc__ = LayoutMap.__getitem__.__doc__


def distribute_tensor(tensor, layout):
    """Place ``tensor`` by ``layout``. One process holds every shard, so the tensor is
    returned as it is (symbolic Keras tensors too), once the layout is checked."""
    if not isinstance(layout, TensorLayout):
        raise ValueError(f"layout should be a TensorLayout, got {type(layout).__name__}")
    rank = len(getattr(tensor, "shape", ()))
    if len(layout.axes) != rank:
        raise ValueError(
            f"The layout's axes {layout.axes} do not match the rank {rank} of the tensor "
            f"of shape {tuple(tensor.shape)}"
        )
    return tensor


def distribution():
    """The global distribution set by ``set_distribution`` (or a ``scope``), else None."""
    return _global["distribution"]


def set_distribution(value) -> None:
    """Set the global distribution (None removes it)."""
    _global["distribution"] = value
