from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# --import-mode=importlib puts nothing on sys.path; the tests import lint_testutil from here
sys.path.insert(0, str(Path(__file__).parent))

REPO = Path(__file__).resolve().parents[3]
# `crds` (../shared/crds; fails under STACKGEN_REQUIRE_CRDS) comes from tests/conftest.py


@pytest.fixture
def stackgen_cli():
    """Run the real `stackgen` console entry point in a subprocess."""

    def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
        env = {**os.environ, "NO_COLOR": "1"}
        env.pop("STACKGEN_DEBUG", None)
        return subprocess.run([sys.executable, "-m", "stackgen.cli.main", *args], cwd=cwd or REPO,
                              capture_output=True, text=True, env=env, timeout=120)

    return run
