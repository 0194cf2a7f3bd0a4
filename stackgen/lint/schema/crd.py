"""CustomResourceDefinitions -> strict JSON schemas (like kubeconform's openapi2jsonschema).

Every object schema that lists `properties` gets `additionalProperties: false` unless it
says `x-kubernetes-preserve-unknown-fields: true`; `x-kubernetes-int-or-string` becomes
"string or integer"; `nullable: true` adds "null" to the type.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stackgen import yamlio
from stackgen.errors import InputError
from stackgen.lint.schema.compiler import Check, Compiler

_DROP = {"description", "default", "example", "externalDocs", "nullable", "format",
         "x-kubernetes-preserve-unknown-fields", "x-kubernetes-int-or-string",
         "x-kubernetes-embedded-resource", "x-kubernetes-validations", "x-kubernetes-list-type",
         "x-kubernetes-list-map-keys", "x-kubernetes-map-type"}


def to_json_schema(s: Any) -> Any:
    """Convert one openAPIV3Schema (recursively) to a strict JSON schema."""
    if not isinstance(s, dict):
        return s
    if s.get("x-kubernetes-int-or-string"):
        alts = [{"type": "string"}, {"type": "integer"}] + ([{"type": "null"}] if s.get("nullable") else [])
        return {"anyOf": alts}
    out = {k: v for k, v in s.items() if k not in _DROP}
    if "type" in out and s.get("nullable"):
        out["type"] = [out["type"], "null"]
    if "properties" in out:
        out["properties"] = {k: to_json_schema(v) for k, v in out["properties"].items()}
    if isinstance(out.get("additionalProperties"), dict):
        out["additionalProperties"] = to_json_schema(out["additionalProperties"])
    if isinstance(out.get("items"), dict):
        out["items"] = to_json_schema(out["items"])
    for word in ("allOf", "anyOf", "oneOf"):
        if word in out:
            out[word] = [to_json_schema(sub) for sub in out[word]]
    if s.get("x-kubernetes-embedded-resource"):
        out.setdefault("properties", {})  # embedded objects are checked on their own
        out["additionalProperties"] = True
    elif ("properties" in out and "additionalProperties" not in out
            and not s.get("x-kubernetes-preserve-unknown-fields")):
        out["additionalProperties"] = False
    return out


_OBJECT_ROOT = {"apiVersion": {"type": "string"}, "kind": {"type": "string"},
                "metadata": {"type": "object"}}


@dataclass
class CrdSchemas:
    """Compiled validators for the custom resources of the CRDs given."""

    schemas: dict[tuple[str, str], dict] = field(default_factory=dict)  # (apiVersion, kind)
    _compiled: dict[tuple[str, str], Check] = field(default_factory=dict)
    _compiler: Compiler = field(default_factory=lambda: Compiler(lambda ref: {}))

    def add(self, crd: dict) -> None:
        spec = crd.get("spec") or {}
        group, kind = spec.get("group"), (spec.get("names") or {}).get("kind")
        for version in spec.get("versions") or []:
            raw = ((version.get("schema") or {}).get("openAPIV3Schema")) or {"type": "object"}
            schema = to_json_schema(raw)
            schema.setdefault("properties", {})
            for key, sub in _OBJECT_ROOT.items():
                schema["properties"].setdefault(key, sub)
            self.schemas[(f"{group}/{version.get('name')}", kind)] = schema

    def validator(self, api_version: str, kind: str) -> Check | None:
        key = (api_version, kind)
        if key not in self.schemas:
            return None
        if key not in self._compiled:
            self._compiled[key] = self._compiler.validator(self.schemas[key])
        return self._compiled[key]

    def kinds(self) -> set[str]:
        return {kind for _, kind in self.schemas}


def load_crds(paths: list[Path]) -> CrdSchemas:
    """Read CRD files and folders (YAML or JSON); a bad path is an input error."""
    out = CrdSchemas()
    for path in paths:
        if not path.exists():
            raise InputError(f"CRD path {path} does not exist", field="--crds",
                             fix="pass a CRD YAML file or a folder of them")
        files = sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml", ".json")) \
            if path.is_dir() else [path]
        for file in files:
            for doc in _read(file):
                if isinstance(doc, dict) and doc.get("kind") == "CustomResourceDefinition":
                    out.add(doc)
    return out


def _read(file: Path) -> list:
    try:
        return yamlio.read_all(file)
    except yamlio.YamlError as err:
        raise InputError(f"cannot read CRD file: {err.message}", file=str(file), line=err.line,
                         field="--crds", fix="pass valid CustomResourceDefinition YAML") from None
