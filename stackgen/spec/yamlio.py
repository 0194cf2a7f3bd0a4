"""YAML reading with line numbers (ruamel.yaml round-trip) and field-path helpers."""

from __future__ import annotations

import io
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError


class YamlInputError(Exception):
    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    return yaml


def read_yaml(text: str) -> Any:
    """Parse one YAML document keeping line info; syntax errors carry their line."""
    try:
        return _yaml().load(text)
    except MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark else None
        problem = err.problem or err.context or "invalid YAML"
        raise YamlInputError(f"invalid YAML: {problem}", line) from None
    except YAMLError as err:
        raise YamlInputError(f"invalid YAML: {err}", None) from None
    except RecursionError:
        raise YamlInputError("invalid YAML: nested too deeply", None) from None


def dump_yaml(data: Any) -> str:
    buf = io.StringIO()
    yaml = _yaml()
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096
    yaml.dump(data, buf)
    return buf.getvalue()


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
