"""Compile a JSON schema (the subset Kubernetes and CRD schemas use) into Python closures.

jsonschema re-walks the schema for every document (~4 ms for a Deployment); a compiled
validator walks only the document, which is what makes schema-only linting fast. Supported
keywords: type, enum, properties, additionalProperties, required, items, $ref, oneOf,
anyOf, allOf, pattern, minimum/maximum, minLength/maxLength, minItems/maxItems.
Annotations (description, format, x-kubernetes-*) are ignored. tests/unit/lint checks the
verdicts against jsonschema itself.
"""

from __future__ import annotations

import re
from typing import Any, Callable

from stackgen.lint.schema.verdict import Verdicts

Errors = list  # of (path tuple, message)
Check = Callable[[Any, tuple, Errors], None]

_TYPES: dict[str, Callable[[Any], bool]] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool)
    or isinstance(v, float) and v.is_integer(),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def _ok(value: Any, path: tuple, errors: Errors) -> None:
    return None


def describe(value: Any) -> str:
    for name in ("null", "boolean", "integer", "number", "string", "array", "object"):
        if _TYPES[name](value):
            return name
    return type(value).__name__


class Compiler:
    """Compiles schemas; `resolve(ref)` returns the schema a `$ref` points at."""

    def __init__(self, resolve: Callable[[str], dict]) -> None:
        self._resolve = resolve
        self._cache: dict[int, Check] = {}
        self._keep: list = []  # keeps compiled schemas alive so ids stay unique
        self._verdicts = Verdicts(resolve, self._keep)

    def validator(self, schema: Any) -> Check:
        """The check of a whole object: the yes/no verdict first (schema.verdict), and the
        error-collecting check only for an object that fails it."""
        test, full = self._verdicts.test(schema), self.compile(schema)

        def check(value: Any, path: tuple, errors: Errors) -> None:
            if not test(value):
                full(value, path, errors)

        return check

    def compile(self, schema: Any) -> Check:
        if not isinstance(schema, dict):
            return _ok
        key = id(schema)
        if key in self._cache:
            return self._cache[key]
        cell: list[Check] = [_ok]
        self._cache[key] = lambda v, p, e: cell[0](v, p, e)  # for recursive $refs
        self._keep.append(schema)
        checks = [c for c in self._checks(schema) if c is not None]
        cell[0] = _chain(checks)
        self._cache[key] = cell[0]
        return cell[0]

    def _checks(self, s: dict) -> list[Check | None]:
        checks: list[Check | None] = []
        if "$ref" in s:
            checks.append(self._ref(s["$ref"]))
        checks.append(_type(s.get("type")))
        if "enum" in s:
            checks.append(_enum(s["enum"]))
        checks.extend(self._combinators(s))
        checks.append(self._object(s))
        if isinstance(s.get("items"), dict):
            checks.append(self._items(self.compile(s["items"])))
        checks.extend(_scalar_limits(s))
        return checks

    def _ref(self, ref: str) -> Check:
        target: list[Check] = []

        def check(value: Any, path: tuple, errors: Errors) -> None:
            if not target:
                target.append(self.compile(self._resolve(ref)))
            target[0](value, path, errors)

        return check

    def _combinators(self, s: dict) -> list[Check]:
        out: list[Check] = []
        if "allOf" in s:
            out.extend(self.compile(sub) for sub in s["allOf"])
        for word, want in (("oneOf", "one"), ("anyOf", "any")):
            if word in s:
                out.append(_alternatives([self.compile(sub) for sub in s[word]], want, s[word]))
        return out

    def _object(self, s: dict) -> Check | None:
        props = {k: self.compile(v) for k, v in (s.get("properties") or {}).items()}
        extra = s.get("additionalProperties", True)
        extra_check = self.compile(extra) if isinstance(extra, dict) else None
        required = tuple(s.get("required") or ())
        if not props and extra is True and not required:
            return None

        def check(value: Any, path: tuple, errors: Errors) -> None:
            if not isinstance(value, dict):
                return
            for key in required:
                if key not in value:
                    errors.append((path, f"missing required field '{key}'"))
            for key, item in value.items():
                sub = props.get(key)
                if sub is not None:
                    sub(item, path + (key,), errors)
                elif extra is False:
                    errors.append((path + (key,), f"unknown field '{key}'"))
                elif extra_check is not None:
                    extra_check(item, path + (key,), errors)

        return check

    @staticmethod
    def _items(sub: Check) -> Check:
        def check(value: Any, path: tuple, errors: Errors) -> None:
            if isinstance(value, list):
                for i, item in enumerate(value):
                    sub(item, path + (i,), errors)

        return check


def _chain(checks: list[Check]) -> Check:
    if not checks:
        return _ok
    if len(checks) == 1:
        return checks[0]

    def check(value: Any, path: tuple, errors: Errors) -> None:
        for c in checks:
            c(value, path, errors)

    return check


def _type(spec: Any) -> Check | None:
    if spec is None:
        return None
    names = [spec] if isinstance(spec, str) else list(spec)
    tests = [_TYPES[n] for n in names if n in _TYPES]
    want = " or ".join(names)

    def check(value: Any, path: tuple, errors: Errors) -> None:
        for t in tests:
            if t(value):
                return
        errors.append((path, f"expected {want}, got {describe(value)} {_short(value)}"))

    return check


def _enum(values: list) -> Check:
    def check(value: Any, path: tuple, errors: Errors) -> None:
        if not any(value == v and type(value) is type(v) for v in values):
            errors.append((path, f"{_short(value)} is not one of {values}"))

    return check


def _alternatives(subs: list[Check], want: str, raw: list) -> Check:
    def check(value: Any, path: tuple, errors: Errors) -> None:
        passed = 0
        for sub in subs:
            trial: Errors = []
            sub(value, path, trial)
            passed += not trial
        if (want == "one" and passed != 1) or (want == "any" and passed == 0):
            kinds = [s.get("type") for s in raw if isinstance(s, dict) and "type" in s]
            hint = f" (expected one of {kinds})" if kinds else ""
            errors.append((path, f"{_short(value)} does not match the schema{hint}"))

    return check


def _scalar_limits(s: dict) -> list[Check]:
    out: list[Check] = []
    if "pattern" in s:
        rx = re.compile(s["pattern"])
        out.append(_guard(str, lambda v: rx.search(v) is not None, f"does not match pattern {s['pattern']!r}"))
    for word, test, text in (
        ("minimum", lambda v, n: v >= n, "is less than the minimum {}"),
        ("maximum", lambda v, n: v <= n, "is greater than the maximum {}"),
        ("minLength", lambda v, n: len(v) >= n, "is shorter than {} characters"),
        ("maxLength", lambda v, n: len(v) <= n, "is longer than {} characters"),
        ("minItems", lambda v, n: len(v) >= n, "has fewer than {} items"),
        ("maxItems", lambda v, n: len(v) <= n, "has more than {} items"),
    ):
        if word in s:
            kind = {"min": (int, float), "max": (int, float)}.get(word[:3]) if "Length" not in word and "Items" not in word else (str if "Length" in word else list)
            out.append(_guard(kind, (lambda n, t: lambda v: t(v, n))(s[word], test), text.format(s[word])))
    return out


def _guard(kind: Any, test: Callable[[Any], bool], text: str) -> Check:
    def check(value: Any, path: tuple, errors: Errors) -> None:
        if isinstance(value, kind) and not isinstance(value, bool) and not test(value):
            errors.append((path, f"{_short(value)} {text}"))

    return check


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
