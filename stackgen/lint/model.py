"""The data the linter passes around: rules, findings, objects and reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

SEVERITIES = ("info", "warning", "error")
SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}

Path = tuple  # a path into a manifest: ("spec", "template", "spec", "containers", 0)


@dataclass(frozen=True)
class Rule:
    """One check and everything a user needs to understand it."""

    code: str
    name: str
    severity: str
    kinds: tuple[str, ...]  # the kinds it looks at; ("*",) for every object
    description: str
    anti_pattern: str
    best_practice: str
    remediation: str
    target: str = "pod"  # "pod": called per pod template, "object": per object, "engine": built in
    check: Callable[..., Iterable["Hit"]] | None = None


@dataclass(frozen=True)
class Hit:
    """What a rule reports: where (a path inside the object) and what."""

    path: Path
    message: str
    remediation: str | None = None  # this finding's own fix, when more specific than the rule's


@dataclass(frozen=True)
class ObjectRef:
    api_version: str | None
    kind: str | None
    name: str | None
    namespace: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"apiVersion": self.api_version, "kind": self.kind,
                "name": self.name, "namespace": self.namespace}

    def label(self) -> str:
        """`Kind namespace/name` for text output, control characters escaped (a name from
        the linted file must not start a line of its own in the report)."""
        name = self.name or "<unnamed>"
        ns = f"{self.namespace}/" if self.namespace else ""
        return _printable(f"{self.kind or '?'} {ns}{name}")


def _printable(text: str) -> str:
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


@dataclass
class Finding:
    code: str
    name: str
    severity: str
    message: str
    remediation: str
    file: str
    line: int
    obj: ObjectRef
    source_line: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"rule": self.code, "name": self.name, "severity": self.severity,
                "message": self.message, "remediation": self.remediation,
                "file": self.file, "line": self.line, "object": self.obj.as_dict()}


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    files: int = 0
    objects: int = 0

    def count(self, severity: str) -> int:
        return sum(1 for f in self.findings if f.severity == severity)

    def summary(self) -> dict[str, int]:
        return {"files": self.files, "objects": self.objects, "errors": self.count("error"),
                "warnings": self.count("warning"), "infos": self.count("info")}

    def fails(self, fail_on: str) -> bool:
        floor = SEVERITY_RANK[fail_on]
        return any(SEVERITY_RANK[f.severity] >= floor for f in self.findings)
