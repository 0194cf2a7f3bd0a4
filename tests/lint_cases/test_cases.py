"""One generic test for every rule: tests/lint_cases/<rule-name>.yaml holds pass and fail
manifests with the lines each finding of that rule must point at (and, optionally, words its
message or remediation must contain: `{line: 9, remediation: [amd.com/gpu]}`)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from _require import require_crds

from stackgen.lint.config import LintConfig
from stackgen.lint.engine import Options, lint_text
from stackgen.lint.registry import all_rules

HERE = Path(__file__).parent


def _cases():
    for path in sorted(HERE.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text())
        for case in doc["cases"]:
            yield pytest.param(doc["rule"], case, id=f"{doc['rule']}::{case['name']}")


def _options(case: dict) -> Options:
    opts = case.get("options") or {}
    return Options(kubernetes_version=str(opts.get("kubernetesVersion", "")),
                   crd_paths=(require_crds(),) if opts.get("crds") else (),
                   config=LintConfig(thresholds=opts.get("thresholds") or {}))


@pytest.mark.parametrize("rule_name,case", list(_cases()))
def test_rule_case(rule_name: str, case: dict) -> None:
    findings, objects = lint_text(case["manifest"], "case.yaml", _options(case))
    got = sorted(f.line for f in findings if f.name == rule_name)
    want = sorted(e["line"] for e in case["expect"])
    assert got == want, [f"{f.line}: {f.message}" for f in findings if f.name == rule_name]
    for e in case["expect"]:  # optional: words the finding's message / remediation must hold
        at = [f for f in findings if f.name == rule_name and f.line == e["line"]]
        for key, attr in (("message", "message"), ("remediation", "remediation")):
            for word in e.get(key, []):
                assert any(word in getattr(f, attr) for f in at), (key, word, [getattr(f, attr) for f in at])
    if "also_objects" in case:
        assert objects == case["also_objects"]


def test_every_rule_has_pass_and_fail_cases() -> None:
    for rule in all_rules():
        path = HERE / f"{rule.name}.yaml"
        assert path.is_file(), f"no case file for {rule.name}"
        cases = yaml.safe_load(path.read_text())["cases"]
        assert any(not c["expect"] for c in cases), f"{rule.name}: no passing case"
        assert any(c["expect"] for c in cases), f"{rule.name}: no failing case"
