"""Fixtures for the runtime tests (helpers live in runtime_harness.py).

Without ./.venv-runtime the end-to-end tests are skipped, unless STACKGEN_REQUIRE_RUNTIME
is set, in which case they fail.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

# --import-mode=importlib puts nothing on sys.path; the tests and the benchmark import
# the shared helpers by module name.
sys.path.insert(0, str(Path(__file__).parent))

from runtime_harness import RUNTIME_VENV, runtime_available, tiny_models_dir  # noqa: E402


def require_runtime() -> None:
    if runtime_available():
        return
    why = f"{RUNTIME_VENV} is absent: run `make runtime-venv` to create it"
    if os.environ.get("STACKGEN_REQUIRE_RUNTIME"):
        pytest.fail(f"STACKGEN_REQUIRE_RUNTIME is set but {why}")
    pytest.skip(why)


@pytest.fixture(scope="session")
def tiny_models() -> Path:
    require_runtime()
    return tiny_models_dir()
