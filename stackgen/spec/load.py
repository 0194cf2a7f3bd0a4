"""Load a stack file: YAML with line numbers -> validated `Stack`, or InputErrors naming
file, line, field path and fix for every problem found."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from stackgen.errors import InputError, InputErrors
from stackgen.spec.checks import cross_checks
from stackgen.spec.models import Stack
from stackgen.spec.yamlio import field_line, format_path
from stackgen.yamlio import YamlError, read_roundtrip

MAX_BYTES = 16 * 1024 * 1024


def load_stack(path: str | Path) -> Stack:
    """Read and validate a stack file; raise InputErrors listing every problem."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"stack file not found: {path}", file=str(path),
                         fix="run `stackgen init` to write one, or pass -f PATH")
    try:  # a regular UTF-8 file of at most MAX_BYTES, aliases bounded (yamlio)
        data = read_roundtrip(path, max_bytes=MAX_BYTES)
    except YamlError as err:
        raise err.input_error("fix the YAML at that line (UTF-8 text; split a stack file "
                              "larger than 16 MiB into several stacks)", file=str(path)) from None
    return parse_stack(data, str(path))


def parse_stack(data: Any, file: str) -> Stack:
    """Validate already-parsed YAML (ruamel round-trip nodes keep the line numbers)."""
    if not isinstance(data, dict):
        raise InputError("the stack file must be a YAML mapping with apiVersion, kind, "
                         "metadata and spec", file=file, line=1,
                         fix="start from `stackgen init` or examples/llm-only/stackgen.yaml")
    try:
        stack = Stack.model_validate(data)
    except ValidationError as err:
        raise InputErrors([_to_input_error(e, data, file) for e in err.errors()]) from None
    problems = cross_checks(stack, base_dir=Path(file).resolve().parent)
    if problems:
        raise InputErrors([
            InputError(p.message, file=file, line=field_line(data, p.loc),
                       field=format_path(p.loc), fix=p.fix) for p in problems])
    return stack


def _to_input_error(err: dict, data: Any, file: str) -> InputError:
    loc = tuple(err["loc"])
    real = _real_loc(data, loc)
    kind = err["type"]
    message = err["msg"]
    fix = None
    if kind == "extra_forbidden":
        allowed = _allowed_keys(real[:-1])
        message = f"unknown key {real[-1]!r}"
        fix = f"remove it or fix its spelling; allowed keys here: {', '.join(allowed)}"
    elif kind == "missing":
        message = f"required key {real[-1]!r} is missing"
        fix = f"add `{real[-1]}:` here (see docs/stack-file.md)"
    elif message.startswith("Value error, "):
        message = message[len("Value error, "):]
    elif kind in {"literal_error", "enum"}:
        fix = "use one of the values listed"
    if kind not in ("extra_forbidden", "missing") and not isinstance(err.get("input"), (dict, list)) \
            and "input" in err and repr(err["input"])[:20] not in message:
        message = f"{message} (got {_short(err['input'])})"
    return InputError(message, file=file, line=field_line(data, real), field=format_path(real),
                      fix=fix)


def _real_loc(data: Any, loc: tuple) -> tuple:
    """Drop pydantic's union-member tags (e.g. 'int', 'ReplicaRange') from a location."""
    out: list = []
    node = data
    for step in loc:
        if isinstance(node, dict) and step in node:
            node = node[step]
            out.append(step)
        elif isinstance(node, list) and isinstance(step, int) and step < len(node):
            node = node[step]
            out.append(step)
        elif isinstance(node, dict) and isinstance(step, str) and not step[:1].isupper() \
                and step not in {"int", "float", "str", "bool", "list", "dict", "none"}:
            out.append(step)  # a missing key: keep it so the message names it
            node = None
    return tuple(out)


def _allowed_keys(loc: tuple) -> list[str]:
    model: type[BaseModel] | None = Stack
    for step in loc:
        if model is None or isinstance(step, int):
            continue
        field = next((f for n, f in model.model_fields.items()
                      if (f.alias or n) == step), None)
        model = _model_of(field.annotation) if field else None
    if model is None:
        return []
    return [f.alias or n for n, f in model.model_fields.items()]


def _model_of(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _model_of(arg)
        if found:
            return found
    return None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
