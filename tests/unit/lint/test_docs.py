"""docs/lint-rules.md is generated from the registry and must be up to date."""

from __future__ import annotations

from pathlib import Path

from stackgen.lint.docs import render
from stackgen.lint.registry import all_rules

DOC = Path(__file__).resolve().parents[3] / "docs" / "lint-rules.md"

REQUIRED = {"schema-invalid", "api-removed", "yaml-syntax", "gpu-request-limit-mismatch",
            "gpu-missing-toleration", "gpu-node-selection-missing", "tp-exceeds-gpus",
            "shm-missing", "shm-size-limit-missing", "model-server-no-startup-probe",
            "startup-budget-too-short", "missing-readiness-probe", "probe-path-mismatch",
            "probe-port-mismatch", "secret-literal-env", "image-latest-tag", "host-namespace",
            "missing-resources", "model-cache-missing", "knative-progress-deadline",
            "kserve-default-runtime", "vllm-service-links", "capability-added",
            "net-raw-not-dropped", "seccomp-unconfined", "run-as-root"}


def test_rules_page_is_up_to_date() -> None:
    assert DOC.read_text() == render(), "run: python -m stackgen.lint.docs > docs/lint-rules.md"


def test_every_required_rule_exists_with_full_metadata() -> None:
    rules = {r.name: r for r in all_rules()}
    assert REQUIRED <= set(rules)
    for rule in rules.values():
        assert rule.code.startswith("SG") and rule.name == rule.name.lower()
        assert all([rule.description, rule.anti_pattern, rule.best_practice, rule.remediation])
        assert f"## {rule.code} {rule.name}" in DOC.read_text()
