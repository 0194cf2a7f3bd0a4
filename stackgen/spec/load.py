"""Load a stack file: YAML with line numbers -> validated `Stack`, or InputErrors naming
file, line, field path and fix for every problem found."""

from __future__ import annotations

import re
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
    if path.is_dir():
        hint = " (it holds a stackgen.yaml: pass -f that file)" if (path / "stackgen.yaml").is_file() else ""
        raise InputError(f"a folder, not a stack file{hint}", file=str(path),
                         fix="pass -f PATH of the stack file (stackgen.yaml)")
    if not path.exists():
        raise InputError("stack file not found", file=str(path),
                         fix="run `stackgen init` to write one, or pass -f PATH")
    if not path.is_file():
        raise InputError("not a regular file (a FIFO or device is never read)", file=str(path),
                         fix="pass -f PATH of the stack file (stackgen.yaml)")
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
        raise InputErrors(_merge_union_errors(
            [_to_input_error(e, data, file) for e in _relevant(err.errors(), data)])) from None
    problems = cross_checks(stack, base_dir=Path(file).resolve().parent)
    if problems:
        raise InputErrors([
            InputError(p.message, file=file, line=field_line(data, p.loc),
                       field=format_path(p.loc), fix=p.fix) for p in problems])
    return stack


_SCALAR_TYPES = {"int_type", "int_parsing", "int_from_float", "float_type", "float_parsing",
                 "string_type", "bool_type", "bool_parsing", "literal_error", "enum"}
_CONTAINER_TYPES = {"dict_type", "model_type", "model_attributes_type", "list_type"}


def _relevant(errors: list[dict], data: Any) -> list[dict]:
    """For a value that may be one of several forms (replicas: 2 or {min, max}), pydantic
    reports why it is none of them; keep the reasons about the form the input has (a
    mapping: the mapping's problems, not "should be an integer"), all of them otherwise."""
    locs = [_real_loc(data, tuple(err["loc"])) for err in errors]

    def other_form_explains(i: int) -> bool:
        return any(j != i and locs[j][:len(locs[i])] == locs[i] for j in range(len(errors)))

    kept = [err for i, err in enumerate(errors)
            if not (err["type"] in _SCALAR_TYPES and isinstance(err.get("input"), dict)
                    and other_form_explains(i))]
    return kept or errors


def _merge_union_errors(errors: list[InputError]) -> list[InputError]:
    """One error per field: the forms a union field accepts, joined with "or"."""
    merged: dict[tuple, InputError] = {}
    for err in errors:
        key = (err.field, err.line)
        if key in merged and merged[key].message != err.message:
            first = merged[key]
            first.message = f"{first.message}; or {err.message[:1].lower()}{err.message[1:]}"
            first.args = (first.message,)
        else:
            merged.setdefault(key, err)
    return list(merged.values())


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
    message = re.sub(r" or instance of [A-Za-z_]+", "", message)  # pydantic's class names
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
                and step not in {"int", "float", "str", "bool", "list", "dict", "none"} \
                and not re.search(r"[\[\](),-]", step):  # constrained-int, function-after[...]
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
