"""Field-path helpers for the stack file's parsed YAML (round-trip nodes from
`stackgen.yamlio.load_roundtrip`, which keep their lines)."""

from __future__ import annotations

from typing import Any

__all__ = ["field_line", "format_path"]


def field_line(data: Any, loc: tuple) -> int | None:
    """1-based line of the deepest node along `loc` that exists in the parsed YAML."""
    line = None
    node = data
    for step in loc:
        lc = getattr(node, "lc", None)
        try:
            if isinstance(node, dict) and step in node:
                line = lc.key(step)[0] + 1 if lc is not None else line
                node = node[step]
            elif isinstance(node, list) and isinstance(step, int) and step < len(node):
                line = lc.item(step)[0] + 1 if lc is not None else line
                node = node[step]
            else:
                break
        except (KeyError, TypeError, AttributeError):
            break
    if line is None and getattr(getattr(data, "lc", None), "line", None) is not None:
        line = data.lc.line + 1
    return line


def format_path(loc: tuple) -> str:
    """('spec', 'models', 0, 'name') -> 'spec.models[0].name'."""
    out = ""
    for step in loc:
        if isinstance(step, int):
            out += f"[{step}]"
        else:
            out += ("." if out else "") + str(step)
    return out
