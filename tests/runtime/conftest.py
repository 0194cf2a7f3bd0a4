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


@pytest.fixture(scope="session")
def triton_env() -> Path:
    """The venv `make runtime-venv` puts in ./.venv-runtime/triton: a real tritonserver
    (bin/tritonserver) and the Python its python backend stub uses (numpy<2)."""
    import os

    env = Path(os.environ.get("STACKGEN_TRITON_ENV", RUNTIME_VENV / "triton"))
    present = (env / "bin" / "tritonserver").exists() and (env / "bin" / "python3").exists()
    require(present, f"no tritonserver in {env}", flag="STACKGEN_REQUIRE_RUNTIME",
            fix="run `make runtime-venv` (it installs nvidia-pytriton's tritonserver there)")
    return env
