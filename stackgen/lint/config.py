"""`.stackgen-lint.yaml`: which rules run, at what severity, with which thresholds.

```yaml
kubernetesVersion: "1.31"        # target version for schemas and api-removed
crds: [../crds]                  # files or folders, relative to this file
failOn: error                    # error | warning | info
rules:
  exclude: [image-latest-tag]    # names or codes
  include: []                    # if given, only these run
  severity: {missing-resources: error}
thresholds:
  startupBudgetSeconds: 900
ignorePaths: ["charts/**"]       # globs, relative to the current directory
```
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stackgen.errors import InputError
from stackgen.lint.model import SEVERITIES

CONFIG_NAME = ".stackgen-lint.yaml"
TOP_KEYS = {"kubernetesVersion", "crds", "failOn", "rules", "thresholds", "ignorePaths"}
RULE_KEYS = {"include", "exclude", "severity"}
THRESHOLDS = {"startupBudgetSeconds": int}


@dataclass
class LintConfig:
    source: str | None = None
    kubernetes_version: str | None = None
    crds: list[Path] = field(default_factory=list)
    fail_on: str | None = None
    include: set[str] | None = None  # rule names
    exclude: set[str] = field(default_factory=set)
    severity: dict[str, str] = field(default_factory=dict)  # rule name -> severity
    thresholds: dict[str, Any] = field(default_factory=dict)
    ignore_paths: list[str] = field(default_factory=list)


def find_config(explicit: Path | None, cwd: Path) -> LintConfig:
    """The config given with --config, else ./.stackgen-lint.yaml, else the defaults."""
    if explicit is not None:
        if not explicit.is_file():
            raise InputError("config file does not exist", file=str(explicit), field="--config",
                             fix="pass the path of a .stackgen-lint.yaml file")
        return load_config(explicit)
    found = cwd / CONFIG_NAME
    return load_config(found) if found.is_file() else LintConfig()


def load_config(path: Path) -> LintConfig:
    from stackgen import yamlio

    try:
        data = yamlio.read(path) or {}
    except yamlio.YamlError as err:
        raise InputError(f"cannot read lint config: {err.message}", file=str(path), line=err.line,
                         fix="write valid YAML (see docs/lint.md)") from None
    return _parse(data, path)


def _fail(path: Path, fieldname: str, message: str, fix: str) -> InputError:
    return InputError(message, file=str(path), field=fieldname, fix=fix)


def _parse(data: Any, path: Path) -> LintConfig:
    if not isinstance(data, dict):
        raise _fail(path, "(top level)", "expected a mapping", "see docs/lint.md for the keys")
    unknown = sorted(set(data) - TOP_KEYS)
    if unknown:
        raise _fail(path, unknown[0], "unknown key", f"use one of {sorted(TOP_KEYS)}")
    cfg = LintConfig(source=str(path))
    if "kubernetesVersion" in data:
        cfg.kubernetes_version = str(data["kubernetesVersion"])
    cfg.crds = [(path.parent / p) for p in _strings(data, "crds", path)]
    for i, crd in enumerate(cfg.crds):
        if not crd.exists():
            raise _fail(path, f"crds[{i}]", f"{crd} does not exist",
                        "give CRD files or folders relative to this config file")
    cfg.ignore_paths = _strings(data, "ignorePaths", path)
    if "failOn" in data:
        cfg.fail_on = _severity(data["failOn"], path, "failOn")
    _parse_rules(data.get("rules") or {}, path, cfg)
    _parse_thresholds(data.get("thresholds") or {}, path, cfg)
    return cfg


def _strings(data: dict, key: str, path: Path) -> list[str]:
    value = data.get(key) or []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail(path, key, "expected a list of strings", f"write `{key}: [a, b]`")
    return value


def _severity(value: Any, path: Path, fieldname: str) -> str:
    if value not in SEVERITIES:
        raise _fail(path, fieldname, f"{value!r} is not a severity",
                    "use error, warning or info")
    return value


def _rule_name(key: Any, path: Path, fieldname: str) -> str:
    from stackgen.lint.registry import lookup

    found = lookup(str(key))
    if found is None:
        raise _fail(path, fieldname, f"unknown rule {key!r}",
                    "use a rule name or code from docs/lint-rules.md")
    return found.name


def _parse_rules(rules: Any, path: Path, cfg: LintConfig) -> None:
    if not isinstance(rules, dict):
        raise _fail(path, "rules", "expected a mapping", "use include/exclude/severity keys")
    unknown = sorted(set(rules) - RULE_KEYS)
    if unknown:
        raise _fail(path, f"rules.{unknown[0]}", "unknown key", f"use one of {sorted(RULE_KEYS)}")
    if "include" in rules:
        cfg.include = {_rule_name(k, path, "rules.include") for k in _strings(rules, "include", path)}
    cfg.exclude = {_rule_name(k, path, "rules.exclude") for k in _strings(rules, "exclude", path)}
    severity = rules.get("severity") or {}
    if not isinstance(severity, dict):
        raise _fail(path, "rules.severity", "expected a mapping of rule to severity",
                    "write `severity: {image-latest-tag: error}`")
    for key, value in severity.items():
        name = _rule_name(key, path, f"rules.severity.{key}")
        cfg.severity[name] = _severity(value, path, f"rules.severity.{key}")


def _parse_thresholds(thresholds: Any, path: Path, cfg: LintConfig) -> None:
    if not isinstance(thresholds, dict):
        raise _fail(path, "thresholds", "expected a mapping", f"use keys {sorted(THRESHOLDS)}")
    for key, value in thresholds.items():
        if key not in THRESHOLDS:
            raise _fail(path, f"thresholds.{key}", "unknown threshold", f"use one of {sorted(THRESHOLDS)}")
        if not isinstance(value, THRESHOLDS[key]) or isinstance(value, bool) or value < 0:
            raise _fail(path, f"thresholds.{key}", f"{value!r} is not a non-negative whole number",
                        f"write e.g. `{key}: 900`")
        cfg.thresholds[key] = value
