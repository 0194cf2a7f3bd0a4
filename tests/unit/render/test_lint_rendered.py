"""Rendered examples pass stackgen's own CI gate with no errors (schemas, CRDs, GPU rules)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("example", ["llm-only", "hybrid", "platform"])
def test_rendered_examples_lint_clean(example: str, crds: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "stackgen.cli.main", "lint", str(ROOT / "tests/golden" / example),
         "--crds", str(crds), "-o", "json", "--fail-on", "error"],
        capture_output=True, text=True)
    report = json.loads(proc.stdout)
    errors = [f for f in report["findings"] if f["severity"] == "error"]
    assert proc.returncode == 0 and not errors, errors
    assert report["summary"]["objects"] >= 7
