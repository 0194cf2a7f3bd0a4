"""Manifests in real-world styles lint without crashes, with exactly the findings we expect."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stackgen.lint.engine import Options, lint_paths

REPO = Path(__file__).resolve().parents[3]
CORPUS = REPO / "tests" / "lint_corpus"

EXPECTED = {  # file -> sorted (line, rule) pairs; anything else is a false positive
    "kserve-huggingface.yaml": [
        (10, "knative-progress-deadline"), (11, "model-cache-missing"), (12, "kserve-default-runtime"),
        (25, "gpu-missing-toleration"), (25, "gpu-node-selection-missing")],
    "lws-vllm-multinode.yaml": [
        (19, "model-cache-missing"), (19, "net-raw-not-dropped"), (19, "run-as-root"),
        (19, "vllm-service-links"), (23, "secret-literal-env"),
        (31, "gpu-missing-toleration"), (31, "gpu-node-selection-missing"),
        (55, "net-raw-not-dropped"), (55, "run-as-root"),
        (63, "gpu-missing-toleration"), (63, "gpu-node-selection-missing"), (71, "secret-literal-env")],
    "production-stack.yaml": [
        (21, "net-raw-not-dropped"), (21, "run-as-root"), (70, "net-raw-not-dropped"), (70, "run-as-root")],
    # no securityContext: the image's USER (1000) is not enforced and NET_RAW is kept
    "stackgen-runtime.yaml": [],
    "triton-helm.yaml": [(38, "net-raw-not-dropped"), (48, "missing-resources"),
                         (58, "model-server-no-startup-probe")],
    "triton-legacy-hpa.yaml": [(2, "api-removed")],
    "vllm-docs-gpu.yaml": [
        (51, "net-raw-not-dropped"), (51, "run-as-root"),
        (51, "vllm-service-links"), (52, "image-latest-tag"), (69, "gpu-missing-toleration"),
        (69, "gpu-node-selection-missing"), (79, "model-server-no-startup-probe")],
    "vllm-docs-rocm.yaml": [
        (22, "host-namespace"), (23, "host-namespace"), (29, "missing-readiness-probe"),
        (29, "vllm-service-links"), (31, "run-as-root"), (32, "seccomp-unconfined"),
        (34, "net-raw-not-dropped"), (35, "capability-added")],
}


@pytest.fixture(scope="module")
def report(crds):
    return lint_paths([CORPUS], Options(crd_paths=(crds,)), base=REPO)


def test_every_corpus_file_is_pinned() -> None:
    assert sorted(p.name for p in CORPUS.glob("*.yaml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_findings(report, name: str) -> None:
    got = sorted((f.line, f.name) for f in report.findings if f.file.endswith("/" + name))
    assert got == sorted(EXPECTED[name])


def test_multinode_lws_within_pod_gpus_is_not_tp_exceeds(report) -> None:
    lws = [f for f in report.findings if f.file.endswith("lws-vllm-multinode.yaml")]
    assert lws and not any(f.name in ("tp-exceeds-gpus", "shm-missing", "probe-port-mismatch") for f in lws)


def test_corpus_through_the_cli(stackgen_cli, crds) -> None:
    proc = stackgen_cli("lint", str(CORPUS), "--crds", str(crds), "--format", "json")
    assert proc.returncode == 1, proc.stderr  # errors: api-removed, secret-literal-env
    doc = json.loads(proc.stdout)
    assert doc["summary"]["files"] == len(EXPECTED)
    assert doc["summary"]["errors"] == 3
    assert "Traceback" not in proc.stderr
