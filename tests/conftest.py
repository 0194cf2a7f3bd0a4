"""Shared by every test folder: tests/_require.py (skips that CI's flags turn into failures)
is importable as `_require`, and the `crds` fixture gives the real CRDs."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# --import-mode=importlib puts nothing on sys.path
sys.path.insert(0, str(Path(__file__).parent))

from _require import require_crds  # noqa: E402


@pytest.fixture(scope="session")
def crds() -> Path:
    """../shared/crds; skips without it, fails under STACKGEN_REQUIRE_CRDS=1 (CI)."""
    return require_crds()
