"""``tf.DeviceSpec``: a device name's parts (job, replica, task, type, index) as a value."""

from __future__ import annotations

from rill.core.runtime import parse_device
from rill.ops._op import tf_export

_FIELDS = ("job", "replica", "task", "device_type", "device_index")


@tf_export("DeviceSpec")
class DeviceSpec:
    """An immutable device specification; ``to_string`` gives TF's canonical spelling
    (``/job:J/replica:R/task:T/device:TYPE:N``, only the parts set)."""

    __slots__ = ("_job", "_replica", "_task", "_device_type", "_device_index")

    def __init__(self, job=None, replica=None, task=None, device_type=None, device_index=None):
        self._job = None if job is None else str(job)
        self._replica = None if replica is None else int(replica)
        self._task = None if task is None else int(task)
        if device_type is not None:
            device_type = str(device_type)
            device_type = (
                device_type.upper() if device_type.upper() in ("CPU", "GPU", "TPU") else device_type
            )
        self._device_type = device_type
        self._device_index = None if device_index is None else int(device_index)

    job = property(lambda self: self._job)
    replica = property(lambda self: self._replica)
    task = property(lambda self: self._task)
    device_type = property(lambda self: self._device_type)
    device_index = property(lambda self: self._device_index)

    @classmethod
    def from_string(cls, spec: str) -> DeviceSpec:
        """Parse ``spec`` ("/job:w/task:1/device:GPU:0", "/cpu:0", "GPU:1", ...)."""
        try:
            d = parse_device(spec)
        except ValueError as e:
            raise ValueError(
                f"Unknown attribute while parsing the device spec {spec!r}: {e}"
            ) from None
        return cls(d.job, d.replica, d.task, d.device_type, d.device_index)

    def parse_from_string(self, spec: str) -> DeviceSpec:
        """A new spec from ``spec`` (DeviceSpec is immutable; the receiver is unchanged)."""
        return DeviceSpec.from_string(spec)

    def to_string(self) -> str:
        out = ""
        if self._job is not None:
            out += f"/job:{self._job}"
        if self._replica is not None:
            out += f"/replica:{self._replica}"
        if self._task is not None:
            out += f"/task:{self._task}"
        if self._device_type is not None:
            idx = "*" if self._device_index is None else self._device_index
            out += f"/device:{self._device_type}:{idx}"
        return out

    def replace(self, **kwargs) -> DeviceSpec:
        """A copy with the given fields replaced."""
        unknown = set(kwargs) - set(_FIELDS)
        if unknown:
            raise TypeError(f"DeviceSpec.replace: unknown fields {sorted(unknown)}")
        values = {f: getattr(self, f) for f in _FIELDS}
        values.update(kwargs)
        return DeviceSpec(**values)

    def make_merged_spec(self, dev: DeviceSpec) -> DeviceSpec:
        """This spec with the fields ``dev`` sets taken from ``dev``."""
        return self.replace(**{f: getattr(dev, f) for f in _FIELDS if getattr(dev, f) is not None})

    def _key(self):
        return tuple(getattr(self, f) for f in _FIELDS)

    def __eq__(self, other):
        return isinstance(other, DeviceSpec) and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    def __repr__(self):
        return f"<DeviceSpec {self.to_string()!r}>"
