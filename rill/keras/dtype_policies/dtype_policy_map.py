"""``DTypePolicyMap``: dtype policies keyed by layer path (exact, or a regular expression),
with a default for the paths it does not name."""

from __future__ import annotations

import re
from collections.abc import MutableMapping

from rill.keras.dtype_policies.dtype_policy import DTypePolicy

__all__ = ["DTypePolicyMap"]


class DTypePolicyMap(DTypePolicy, MutableMapping):
    """A mapping from layer paths (or ``re.fullmatch`` patterns) to ``DTypePolicy``; it
    acts as ``default_policy`` (the global policy when ``None``) where used as a policy."""

    def __init__(self, default_policy=None, policy_map=None):
        if isinstance(default_policy, DTypePolicyMap):
            raise ValueError("`default_policy` cannot be a `DTypePolicyMap`.")
        if policy_map is not None and not isinstance(policy_map, dict):
            raise TypeError(
                "If specified, `policy_map` must be a dict. Received: "
                f"policy_map={policy_map} of type {type(policy_map)}"
            )
        from rill.keras import dtype_policies

        self._default_policy_arg = default_policy
        self._default_policy = dtype_policies.get(default_policy)
        self._policy_map = policy_map or {}
        self._quantization_mode = None

    @property
    def name(self) -> str:
        return f"map_{self.default_policy._name}"

    @property
    def default_policy(self) -> DTypePolicy:
        """The policy for paths the map does not name."""
        from rill.keras import dtype_policies

        return dtype_policies.get(self._default_policy)

    @property
    def variable_dtype(self) -> str:
        return self.default_policy.variable_dtype

    @property
    def compute_dtype(self) -> str:
        return self.default_policy.compute_dtype

    @property
    def quantization_mode(self):
        return self.default_policy.quantization_mode

    def __getitem__(self, key) -> DTypePolicy:
        """The policy for ``key``: an exact key first, else the one pattern that fully
        matches it (more than one is an error), else the default policy."""
        if key in self._policy_map:
            return self._policy_map[key]
        matches = [p for p in self._policy_map if re.fullmatch(p, key)]
        if len(matches) > 1:
            raise ValueError(
                f"Path '{key}' matches multiple dtype policy specification keys: {matches}. "
                "Please make sure each path only matches at most one dtype policy "
                "specification key in the DTypePolicyMap."
            )
        if matches:
            return self._policy_map[matches[0]]
        return self.default_policy

    def __setitem__(self, key, policy):
        if key in self._policy_map:
            raise ValueError(
                f"{key} already exist in the DTypePolicyMap with value "
                f"{self._policy_map[key]}. Please make sure to not use duplicated keys."
            )
        from rill.keras import dtype_policies

        try:
            policy = dtype_policies.get(policy)
        except Exception:
            raise ValueError(
                "Cannot interpret the assigned value by `keras.dtype_policies.get`. "
                f"Received: {policy} of type {type(policy)}"
            ) from None
        self._policy_map[key] = policy

    def __delitem__(self, key):
        return self._policy_map.pop(key)

    def __contains__(self, key) -> bool:
        return key in self._policy_map

    def __len__(self) -> int:
        return len(self._policy_map)

    def __iter__(self):
        return iter(self._policy_map)

    __eq__ = object.__eq__
    __hash__ = object.__hash__

    def get_config(self) -> dict:
        from rill.keras import dtype_policies

        return {
            "default_policy": self._default_policy_arg,
            "policy_map": {k: dtype_policies.serialize(v) for k, v in self._policy_map.items()},
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from rill.keras import dtype_policies

        config = dict(config)
        config["policy_map"] = {
            k: dtype_policies.deserialize(v, custom_objects)
            for k, v in (config.get("policy_map") or {}).items()
        }
        return cls(**config)

    def __repr__(self):
        default = self._default_policy.name if self._default_policy is not None else None
        mapping = [(k, v.name) for k, v in self._policy_map.items()]
        return f"<DTypePolicyMap at {hex(id(self))} default_policy={default}, mapping={mapping}>"
