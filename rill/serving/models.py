"""The models a server holds: numbered version directories under a base path, loaded with
``tf.saved_model.load``, picked up while running and unloaded per a version policy."""

from __future__ import annotations

import os
import threading

import numpy as np

__all__ = ["ServedModel", "ModelRegistry", "ServingError"]


class ServingError(Exception):
    """A request error with TF Serving's HTTP status (400 invalid, 404 not found, ...)."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


class _Version:
    def __init__(self, version: int, path: str):
        from rill.saved_model import load

        self.version = version
        self.path = path
        self.loaded = load(path)
        self.signatures = dict(self.loaded.signatures)
        self.lock = threading.Lock()  # one run of this version's functions at a time


class ServedModel:
    """One model: its base path and the versions currently loaded."""

    def __init__(self, name: str, base_path: str, policy: str = "latest", num_versions=1,
                 specific=(), labels=None):  # fmt: skip
        self.name = name
        self.base_path = os.path.abspath(base_path)
        self.policy = policy
        self.num_versions = num_versions
        self.specific = set(int(v) for v in specific)
        self.labels = dict(labels or {})
        self.versions: dict = {}  # version -> _Version
        self.failed: dict = {}  # version -> error message (not retried)
        self._lock = threading.Lock()

    def _on_disk(self) -> list:
        try:
            entries = os.listdir(self.base_path)
        except OSError:
            return []
        found = []
        for e in entries:
            if e.isdigit() and os.path.isfile(os.path.join(self.base_path, e, "saved_model.pb")):
                found.append(int(e))
        return sorted(found)

    def _wanted(self, on_disk: list) -> list:
        if self.policy == "all":
            return on_disk
        if self.policy == "specific":
            return [v for v in on_disk if v in self.specific]
        return on_disk[-self.num_versions :] if on_disk else []

    def refresh(self) -> None:
        """Load the versions the policy wants (newest first) and unload the others; a new
        version is in place before an old one goes, so requests never find none."""
        wanted = self._wanted(self._on_disk())
        for v in sorted(wanted, reverse=True):
            if v in self.versions or v in self.failed:
                continue
            try:
                loaded = _Version(v, os.path.join(self.base_path, str(v)))
            except Exception as e:  # a broken version must not stop the server
                self.failed[v] = f"{type(e).__name__}: {e}"
                continue
            with self._lock:
                self.versions[v] = loaded
        with self._lock:
            for v in list(self.versions):
                if v not in wanted:
                    del self.versions[v]

    def get(self, version=None, label=None) -> _Version:
        with self._lock:
            if label is not None:
                if label not in self.labels:
                    raise ServingError(f"Unrecognized servable version label: {label}", 400)
                version = self.labels[label]
            if version is None:
                if not self.versions:
                    raise ServingError(f"Servable not found for request: Latest({self.name})", 404)
                return self.versions[max(self.versions)]
            v = self.versions.get(int(version))
            if v is None:
                raise ServingError(
                    f"Servable not found for request: Specific({self.name}, {version})", 404
                )
            return v

    def status(self, version=None) -> list:
        with self._lock:
            versions = sorted(self.versions, reverse=True)
            failed = dict(self.failed)
        if version is not None:
            version = int(version)
            if version not in versions and version not in failed:
                raise ServingError(f"Could not find version {version} of model {self.name}", 404)
            versions = [v for v in versions if v == version]
            failed = {k: e for k, e in failed.items() if k == version}
        out = [
            {"version": str(v), "state": "AVAILABLE",
             "status": {"error_code": "OK", "error_message": ""}}
            for v in versions
        ]  # fmt: skip
        out += [
            {"version": str(v), "state": "END",
             "status": {"error_code": "UNKNOWN", "error_message": e}}
            for v, e in sorted(failed.items(), reverse=True)
        ]  # fmt: skip
        return out


class ModelRegistry:
    """The served models by name, and the thread that polls their base paths."""

    def __init__(self, models, poll_seconds: float = 1.0):
        self.models = {m.name: m for m in models}
        self.poll_seconds = poll_seconds
        self._stop = threading.Event()
        self._thread = None
        for m in self.models.values():
            m.refresh()

    def get(self, name: str) -> ServedModel:
        m = self.models.get(name)
        if m is None:
            raise ServingError(f"Servable not found for request: Latest({name})", 404)
        return m

    def start_polling(self) -> None:
        if self.poll_seconds <= 0 or self._thread is not None:
            return

        def loop():
            while not self._stop.wait(self.poll_seconds):
                for m in list(self.models.values()):
                    m.refresh()

        self._thread = threading.Thread(target=loop, name="rill-serving-poll", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()


def signature_specs(version: _Version, signature_name: str):
    """(function, {input name: TensorSpec}, method name) of a signature."""
    fn = version.signatures.get(signature_name)
    if fn is None:
        raise ServingError(f'Serving signature key "{signature_name}" not found.', 400)
    specs = fn.structured_input_signature[1] or {}
    return fn, dict(specs)


def run_signature(version: _Version, fn, inputs: dict) -> dict:
    """Run a signature on NumPy inputs; returns NumPy outputs."""
    with version.lock:
        outs = fn(**inputs)
    if not isinstance(outs, dict):
        outs = {"output_0": outs}
    return {k: np.asarray(v.numpy()) for k, v in outs.items()}
