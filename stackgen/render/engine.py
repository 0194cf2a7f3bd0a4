"""The template engine: jinja2 in a sandbox, StrictUndefined, and every `{{ value }}`
emitted as JSON (a YAML flow scalar), so no value from the stack file can add a key,
break the document structure or run template code. Rendered text is parsed back and
checked as data before anything is written."""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

from stackgen import yamlio
from stackgen.resources import templates_dir


class RenderError(Exception):
    """A template produced something that is not the expected Kubernetes object."""


_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ud800-\udfff\U00010000-\U0010ffff]")


def _escape(match: re.Match) -> str:
    code = ord(match.group(0))
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def _as_data(value: Any) -> str:
    """JSON (a YAML flow node) with the characters YAML treats specially escaped the YAML
    way: line separators, C1 controls, BOM, and astral characters as \\UXXXXXXXX."""
    return _UNSAFE.sub(_escape, json.dumps(value, ensure_ascii=False))


@cache
def environment() -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(
        loader=FileSystemLoader(str(templates_dir())),
        undefined=StrictUndefined,
        finalize=_as_data,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    return env


def render_text(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)


def render_objects(template: str, **context: Any) -> list[dict[str, Any]]:
    """Render a template of one or more YAML documents and parse them back."""
    text = render_text(template, **context)
    try:
        docs = [d for d in yamlio.load_all(text) if d is not None]
    except yamlio.YamlError as err:
        raise RenderError(f"{template} rendered invalid YAML at line {err.line}: {err.detail}") from None
    for doc in docs:
        if not (isinstance(doc, dict) and isinstance(doc.get("metadata"), dict)
                and doc.get("apiVersion") and doc.get("kind") and doc["metadata"].get("name")):
            raise RenderError(f"{template} did not render a Kubernetes object")
    return docs
