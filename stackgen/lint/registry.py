"""The rule registry: every rule registers itself here with its metadata."""

from __future__ import annotations

from typing import Callable

from stackgen.lint.model import SEVERITIES, Rule

RULES: dict[str, Rule] = {}  # by name
BY_CODE: dict[str, Rule] = {}


def register(rule: Rule) -> Rule:
    if rule.severity not in SEVERITIES:
        raise ValueError(f"{rule.code}: bad severity {rule.severity}")
    if rule.name in RULES or rule.code in BY_CODE:
        raise ValueError(f"duplicate rule {rule.code} {rule.name}")
    RULES[rule.name] = rule
    BY_CODE[rule.code] = rule
    return rule


def rule(code: str, name: str, severity: str, *, kinds: tuple[str, ...] = ("*",),
         description: str, anti_pattern: str, best_practice: str, remediation: str,
         target: str = "pod") -> Callable:
    """Decorator: register the decorated function as the check of a new rule."""

    def wrap(fn: Callable) -> Callable:
        register(Rule(code=code, name=name, severity=severity, kinds=kinds,
                      description=description, anti_pattern=anti_pattern,
                      best_practice=best_practice, remediation=remediation,
                      target=target, check=fn))
        return fn

    return wrap


def all_rules() -> list[Rule]:
    """Every rule, sorted by code (imports the rule modules on first use)."""
    import stackgen.lint.rules  # noqa: F401  (registers the rules)

    return sorted(RULES.values(), key=lambda r: r.code)


def lookup(key: str) -> Rule | None:
    """A rule by name or code (case-insensitive code)."""
    all_rules()
    return RULES.get(key) or BY_CODE.get(key.upper())
