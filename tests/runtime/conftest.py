"""Fixtures for the runtime tests (helpers live in runtime_harness.py).

Without ./.venv-runtime the tests that need it are skipped, unless STACKGEN_REQUIRE_RUNTIME
is set (CI), in which case they fail (tests/_require.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# --import-mode=importlib puts nothing on sys.path; the tests and the benchmark import
# the shared helpers by module name.
sys.path.insert(0, str(Path(__file__).parent))

from _require import require  # noqa: E402
from runtime_harness import RUNTIME_VENV, runtime_available, tiny_models_dir  # noqa: E402


def require_runtime() -> None:
    require(runtime_available(), f"{RUNTIME_VENV} is absent", flag="STACKGEN_REQUIRE_RUNTIME",
            fix="run `make runtime-venv` to create it")


@pytest.fixture
def runtime_venv() -> Path:
    """./.venv-runtime (vLLM's CPU build, huggingface_hub): skips without it, fails in CI."""
    require_runtime()
    return RUNTIME_VENV


@pytest.fixture(scope="session")
def tiny_models() -> Path:
    require_runtime()
    return tiny_models_dir()
