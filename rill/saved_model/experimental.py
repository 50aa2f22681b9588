"""``tf.saved_model.experimental``: fingerprints and variable policies."""

from __future__ import annotations

import enum
import os


class VariablePolicy(enum.Enum):
    """How variables are placed on devices when saving (rill has one device)."""

    NONE = None
    SAVE_VARIABLE_DEVICES = "save_variable_devices"
    EXPAND_DISTRIBUTED_VARIABLES = "expand_distributed_variables"


class Fingerprint:
    """The hashes of a SavedModel's ``fingerprint.pb``."""

    def __init__(
        self,
        saved_model_checksum=None,
        graph_def_program_hash=None,
        signature_def_hash=None,
        saved_object_graph_hash=None,
        checkpoint_hash=None,
        version=None,
    ):
        self.saved_model_checksum = saved_model_checksum
        self.graph_def_program_hash = graph_def_program_hash
        self.signature_def_hash = signature_def_hash
        self.saved_object_graph_hash = saved_object_graph_hash
        self.checkpoint_hash = checkpoint_hash
        self.version = version

    def singleprint(self) -> str:
        """The four hashes that identify the model, joined with '/'."""
        return "/".join(
            str(x)
            for x in (
                self.graph_def_program_hash,
                self.signature_def_hash,
                self.saved_object_graph_hash,
                self.checkpoint_hash,
            )
        )

    def __eq__(self, other):
        return isinstance(other, Fingerprint) and vars(self) == vars(other)

    def __repr__(self):
        return (
            f"SavedModel Fingerprint\n  saved_model_checksum: {self.saved_model_checksum}\n"
            f"  graph_def_program_hash: {self.graph_def_program_hash}\n"
            f"  signature_def_hash: {self.signature_def_hash}\n"
            f"  saved_object_graph_hash: {self.saved_object_graph_hash}\n"
            f"  checkpoint_hash: {self.checkpoint_hash}"
        )


class TrackableResource:
    """Base class of resources a SavedModel tracks (tables and the like)."""

    def __init__(self, device=""):
        self._device = device
        self._resource_handle = None

    @property
    def resource_handle(self):
        if self._resource_handle is None:
            self._resource_handle = self._create_resource()
        return self._resource_handle

    def _create_resource(self):
        raise NotImplementedError("subclasses of TrackableResource define _create_resource")


def read_fingerprint(export_dir) -> Fingerprint:
    """The fingerprint of the SavedModel at ``export_dir`` (``fingerprint.pb``)."""
    from rill.core.errors import NotFoundError
    from rill.saved_model.protos import classes

    path = os.path.join(os.fspath(export_dir), "fingerprint.pb")
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise NotFoundError(None, None, f"Could not find fingerprint file at {path}") from None
    fp = classes()["FingerprintDef"]()
    fp.ParseFromString(data)
    return Fingerprint(
        fp.saved_model_checksum,
        fp.graph_def_program_hash,
        fp.signature_def_hash,
        fp.saved_object_graph_hash,
        fp.checkpoint_hash,
        fp.version.producer,
    )
