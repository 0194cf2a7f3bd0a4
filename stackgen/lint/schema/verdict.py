"""Yes/no validators: the fast path of schema validation.

Nearly every object a CI run lints is valid, and then the error-collecting checks of
`compiler` spend most of their time building paths (`path + (key,)` for every field)
and calling one closure per keyword. A verdict is a closure `Test(value) -> bool` compiled
from the same schema with the same semantics, no paths and no error list, the common
keyword combinations fused into one closure, and `$ref`s resolved at compile time.
`Compiler.validator` runs it first and the error-collecting check only when it says no;
tests/unit/lint/test_schema.py holds both to jsonschema's verdicts.
"""

from __future__ import annotations

import re
from typing import Any, Callable

Test = Callable[[Any], bool]
_PLAIN = {"string": str, "object": dict, "array": list, "null": type(None)}
_KNOWN = {"string", "object", "array", "null", "boolean", "integer", "number"}


def _true(value: Any) -> bool:
    return True


def _false(value: Any) -> bool:
    return False


def type_test(spec: Any) -> Test | None:
    """The `type` keyword (a name or a list), as the error-collecting `_type` reads it."""
    if spec is None:
        return None
    names = [spec] if isinstance(spec, str) else list(spec)
    known = {n for n in names if n in _KNOWN}
    if not known:
        return _false
    plain = tuple(_PLAIN[n] for n in known if n in _PLAIN)
    boolean, integer, number = "boolean" in known, "integer" in known, "number" in known
    if not (boolean or integer or number):
        return lambda v: isinstance(v, plain)

    def test(v: Any) -> bool:
        if isinstance(v, bool):
            return boolean
        if isinstance(v, plain):
            return True
        if isinstance(v, int):
            return integer or number
        if isinstance(v, float):
            return number or (integer and v.is_integer())
        return False

    return test


def enum_test(values: list) -> Test:
    """Equal and of the same type as one of `values` (True is not 1)."""
    if all(isinstance(e, (str, int, float, bool, type(None))) for e in values):
        pairs = frozenset((type(e), e) for e in values)

        def test(v: Any) -> bool:
            try:
                return (type(v), v) in pairs
            except TypeError:  # an unhashable value equals no scalar
                return False

        return test
    return lambda v: any(v == e and type(v) is type(e) for e in values)


def all_of(parts: list[Test]) -> Test:
    if not parts:
        return _true
    if len(parts) == 1:
        return parts[0]
    if len(parts) == 2:
        a, b = parts
        return lambda v: a(v) and b(v)
    if len(parts) == 3:
        a, b, c = parts
        return lambda v: a(v) and b(v) and c(v)
    return lambda v: all(p(v) for p in parts)


def object_test(props: dict[str, Test], extra: Any, extra_test: Test | None,
                required: tuple, type_ok: Test | None) -> Test:
    """properties / additionalProperties / required, fused with the `type` test: a dict
    is checked field by field, anything else only against `type`."""
    dict_ok = type_ok is None or type_ok({})
    closed = extra is False

    def test(v: Any) -> bool:
        if isinstance(v, dict):
            if not dict_ok:
                return False
            for key in required:
                if key not in v:
                    return False
            for key, item in v.items():
                sub = props.get(key)
                if sub is not None:
                    if not sub(item):
                        return False
                elif closed or (extra_test is not None and not extra_test(item)):
                    return False
            return True
        return type_ok is None or type_ok(v)

    return test


def items_test(sub: Test, type_ok: Test | None) -> Test:
    list_ok = type_ok is None or type_ok([])

    def test(v: Any) -> bool:
        if isinstance(v, list):
            if not list_ok:
                return False
            for item in v:
                if not sub(item):
                    return False
            return True
        return type_ok is None or type_ok(v)

    return test


def alternatives(subs: list[Test], want: str) -> Test:
    if want == "one":
        return lambda v: sum(1 for s in subs if s(v)) == 1
    return lambda v: any(s(v) for s in subs)


def scalar_limits(s: dict) -> list[Test]:
    out: list[Test] = []
    if "pattern" in s:
        rx = re.compile(s["pattern"])
        out.append(lambda v: not isinstance(v, str) or rx.search(v) is not None)
    for word, kind, ok in (
        ("minimum", (int, float), lambda v, n: v >= n), ("maximum", (int, float), lambda v, n: v <= n),
        ("minLength", str, lambda v, n: len(v) >= n), ("maxLength", str, lambda v, n: len(v) <= n),
        ("minItems", list, lambda v, n: len(v) >= n), ("maxItems", list, lambda v, n: len(v) <= n),
    ):
        if word in s:
            out.append((lambda n, k, f: lambda v: not isinstance(v, k) or isinstance(v, bool) or f(v, n))(
                s[word], kind, ok))
    return out


class Verdicts:
    """Compiles schemas into yes/no tests (`resolve(ref)`: the schema a `$ref` names)."""

    def __init__(self, resolve: Callable[[str], dict], keep: list) -> None:
        self._resolve = resolve
        self._cache: dict[int, Test] = {}
        self._keep = keep  # shared with the Compiler: compiled schemas stay alive, ids unique

    def test(self, schema: Any) -> Test:
        if not isinstance(schema, dict):
            return _true
        key = id(schema)
        found = self._cache.get(key)
        if found is not None:
            return found
        cell: list[Test] = [_true]
        self._cache[key] = lambda v: cell[0](v)  # what a recursive $ref sees meanwhile
        self._keep.append(schema)
        cell[0] = self._build(schema)
        self._cache[key] = cell[0]
        return cell[0]

    def _build(self, s: dict) -> Test:
        parts: list[Test] = []
        if "$ref" in s:
            parts.append(self.test(self._resolve(s["$ref"])))
        type_ok = type_test(s.get("type"))
        if "enum" in s:
            parts.append(enum_test(s["enum"]))
        if "allOf" in s:
            parts.extend(self.test(sub) for sub in s["allOf"])
        for word, want in (("oneOf", "one"), ("anyOf", "any")):
            if word in s:
                parts.append(alternatives([self.test(sub) for sub in s[word]], want))
        shaped = self._shape(s, type_ok)
        parts.append(shaped if shaped is not None else type_ok or _true)
        parts.extend(scalar_limits(s))
        return all_of([p for p in parts if p is not _true])

    def _shape(self, s: dict, type_ok: Test | None) -> Test | None:
        """The object or array keywords fused with `type` (None: the schema has neither)."""
        props = s.get("properties") or {}
        extra = s.get("additionalProperties", True)
        required = tuple(s.get("required") or ())
        has_items = isinstance(s.get("items"), dict)
        if props or extra is not True or required:
            shaped = object_test({k: self.test(v) for k, v in props.items()}, extra,
                                 self.test(extra) if isinstance(extra, dict) else None, required,
                                 None if has_items else type_ok)
            return all_of([shaped, items_test(self.test(s["items"]), type_ok)]) if has_items else shaped
        if has_items:
            return items_test(self.test(s["items"]), type_ok)
        return None
