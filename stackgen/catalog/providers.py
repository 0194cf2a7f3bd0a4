"""Cluster providers' node conventions: one YAML file per provider under ``profiles/providers/``.

Each says which label names a node's pool (`poolLabel`), how a GPU pool is selected
(`selectGpuBy`: product | provider | pool), which labels mark a GPU node
(`gpuPresenceLabels`), the labels the provider puts on every GPU node (`gpuNodeLabels`)
and the taints GPU pools carry by default (`defaultGpuTaints`). Render reads it to place
pods; the sandbox reads it to build nodes like the provider's.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from stackgen.yamlio import read_data as read_yaml
from stackgen.resources import profiles_dir

#: key -> type every provider file must give.
FIELDS: dict[str, type | tuple[type, ...]] = {
    "id": str, "poolLabel": (str, type(None)), "selectGpuBy": str, "gpuPresenceLabels": list,
    "gpuNodeLabels": dict, "defaultGpuTaints": list,
}
#: optional keys, with their default.
OPTIONAL: dict[str, tuple[type | tuple[type, ...], Any]] = {
    "rwxStorageClass": ((str, type(None)), None),  # a ReadWriteMany class every cluster has
}
SELECT_GPU_BY = ("product", "provider", "pool")


@cache
def _load() -> dict[str, dict[str, Any]]:
    found = {}
    for path in sorted((profiles_dir() / "providers").glob("*.yaml")):
        doc = read_yaml(path) or {}
        for key, kind in FIELDS.items():
            if not isinstance(doc.get(key, ...), kind):
                raise ValueError(f"{path}: {key} is missing or not a {kind}")
        for key, (kind, default) in OPTIONAL.items():
            doc.setdefault(key, default)
            if not isinstance(doc[key], kind):
                raise ValueError(f"{path}: {key} is not a {kind}")
        if doc["selectGpuBy"] not in SELECT_GPU_BY:
            raise ValueError(f"{path}: selectGpuBy must be one of {', '.join(SELECT_GPU_BY)}")
        found[doc["id"]] = doc
    return found


def provider_ids() -> list[str]:
    return list(_load())


def provider_profile(provider: str) -> dict[str, Any]:
    """A provider's conventions (a fresh copy); LookupError if no file describes it."""
    profiles = _load()
    if provider not in profiles:
        raise LookupError(f"unknown provider {provider!r}; known: {', '.join(profiles)}")
    return copy.deepcopy(profiles[provider])
