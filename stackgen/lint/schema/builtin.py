"""Schemas of the built-in kinds, from kubernetes-validate's bundled strict schemas.

Each version's `_definitions.json` is read once; each (version, apiVersion, kind)
validator is compiled once and cached for the life of the process.
"""

from __future__ import annotations

import importlib.util
import json
import re
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Callable

from stackgen.lint.schema.compiler import Check, Compiler

_VERSION_DIR = re.compile(r"^v(\d+)\.(\d+)\.\d+-local-strict$")


@cache
def _schema_root() -> Path:
    """kubernetes-validate's schema folder, found without importing the package (its
    __init__ imports jsonschema: ~50 ms of every `stackgen lint` start)."""
    spec = importlib.util.find_spec("kubernetes_validate")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        if (Path(folder) / "kubernetes-json-schema").is_dir():
            return Path(folder) / "kubernetes-json-schema"
    return Path(str(resources.files("kubernetes_validate") / "kubernetes-json-schema"))


@cache
def bundled_versions() -> tuple[str, ...]:
    """The Kubernetes minor versions kubernetes-validate ships schemas for, oldest first."""
    found = []
    for entry in _schema_root().iterdir():
        m = _VERSION_DIR.match(entry.name)
        if m:
            found.append((int(m.group(1)), int(m.group(2))))
    return tuple(f"{a}.{b}" for a, b in sorted(found))


@cache
def parse_version(text: str) -> tuple[int, int] | None:
    m = re.fullmatch(r"v?(\d+)\.(\d+)(?:\.\d+)?", str(text).strip())
    return (int(m.group(1)), int(m.group(2))) if m else None


def schema_version(target: str) -> str | None:
    """The newest bundled version not newer than `target` (None if older than all)."""
    want = parse_version(target)
    chosen = None
    for version in bundled_versions():
        if parse_version(version) <= want:
            chosen = version
    return chosen


def is_builtin_group(api_version: str) -> bool:
    group = api_version.rpartition("/")[0]
    return group == "" or "." not in group or group.endswith(".k8s.io")


class BuiltinSchemas:
    """Compiled validators for one Kubernetes version."""

    def __init__(self, version: str) -> None:
        self.version = version
        self._dir = _schema_root() / f"v{version}.0-local-strict"
        self._defs: dict | None = None
        self._compiler = Compiler(self._resolve)
        self._validators: dict[tuple[str, str], Check | None] = {}

    def _resolve(self, ref: str) -> dict:
        if self._defs is None:
            self._defs = json.loads((self._dir / "_definitions.json").read_text())
        name = ref.rpartition("/")[2]
        return self._defs["$defs"][name]

    def validator(self, api_version: str, kind: str) -> Check | None:
        key = (api_version, kind)
        if key not in self._validators:
            self._validators[key] = self._load(api_version, kind)
        return self._validators[key]

    def _load(self, api_version: str, kind: str) -> Check | None:
        if not is_builtin_group(api_version) or not re.fullmatch(r"[A-Za-z0-9]+", kind):
            return None
        group, _, version = api_version.rpartition("/")
        prefix = group.split(".")[0] + "-" if group else ""
        path = self._dir / f"{kind.lower()}-{prefix}{version}.json"
        if not path.is_file():
            return None
        schema = json.loads(path.read_text())
        if schema.get("x-kubernetes-group-version-kind") and not any(
                g.get("kind") == kind for g in schema["x-kubernetes-group-version-kind"]):
            return None
        return self._compiler.validator(schema)


@cache
def builtin_schemas(version: str) -> BuiltinSchemas:
    return BuiltinSchemas(version)


Validator = Callable
