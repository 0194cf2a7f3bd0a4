"""Output formats of `stackgen lint`: each takes a Report and returns text."""

from __future__ import annotations

from importlib import import_module

from stackgen.lint.model import Report

# format -> (module, function); imported on use so `stackgen --help` stays fast
FORMATS = {
    "text": ("stackgen.lint.formats.text", "render_text"),
    "json": ("stackgen.lint.formats.machine", "render_json"),
    "sarif": ("stackgen.lint.formats.sarif", "render_sarif"),
    "junit": ("stackgen.lint.formats.machine", "render_junit"),
    "github": ("stackgen.lint.formats.machine", "render_github"),
}


def render(report: Report, fmt: str, *, color: bool = False) -> str:
    module, name = FORMATS[fmt]
    fn = getattr(import_module(module), name)
    return fn(report, color=color) if fmt == "text" else fn(report)
