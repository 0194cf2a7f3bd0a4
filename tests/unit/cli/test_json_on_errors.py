"""`-o json` prints exactly one JSON document on stdout on every exit (the contract), the
error's exit code, message, file, line, field and fix when the command fails; the human
message stays on stderr."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

STACK_SHORT_POOL = """apiVersion: stackgen.dev/v1alpha1
kind: Stack
metadata: {name: t}
spec:
  cluster: {nodePools: [{name: t4, gpu: t4-16gb, nodes: 1, gpusPerNode: 1}]}
  models:
    - {name: chat, source: hf://meta-llama/Llama-3.1-70B-Instruct, kind: llm, maxModelLen: 8192}
"""


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "stackgen.cli.main", *args], capture_output=True, text=True,
                          timeout=60)


@pytest.mark.parametrize("args,code,field", [
    (["plan", "-f", "/no/such/stackgen.yaml", "-o", "json"], 2, None),
    (["size", "--model", "llama-3.1-8b", "--gpu", "b300", "-o", "json"], 2, "--gpu"),
    (["size", "--model", "llama-3.1-8b", "--gpu", "h100", "--input-tokens", "8", "-o", "json"], 2, "--output-tokens"),
])
def test_bad_input_prints_one_error_document(args, code, field):
    proc = cli(*args)
    assert proc.returncode == code
    doc = json.loads(proc.stdout)            # exactly one document, nothing else on stdout
    assert doc["error"]["exitCode"] == code and doc["error"]["field"] == field
    assert doc["error"]["message"] and proc.stderr.startswith("error:")


def test_a_model_that_fits_nowhere_is_exit_1_with_one_document(tmp_path):
    stack = tmp_path / "stackgen.yaml"
    stack.write_text(STACK_SHORT_POOL)
    proc = cli("plan", "-f", str(stack), "-o", "json")
    assert proc.returncode == 1
    assert "fits on no node pool" in json.loads(proc.stdout)["error"]["message"]


def test_size_that_does_not_fit_prints_its_result_not_a_second_document():
    proc = cli("size", "--model", "llama-3.1-70b", "--gpu", "h100", "--max-model-len", "8192", "-o", "json")
    assert proc.returncode == 1
    doc = json.loads(proc.stdout)
    assert doc["fits"] is False and "error" not in doc


def test_the_cluster_s_own_namespaces_are_refused(tmp_path):
    stack = tmp_path / "stackgen.yaml"
    stack.write_text(STACK_SHORT_POOL.replace("metadata: {name: t}", "metadata: {name: t, namespace: kube-system}"))
    proc = cli("plan", "-f", str(stack), "-o", "json")
    assert proc.returncode == 2
    error = json.loads(proc.stdout)["error"]
    assert error["field"] == "metadata.namespace" and error["line"] == 3 and "kube-system" in error["message"]


@pytest.mark.parametrize("taint,field", [('{key: "nvidia.com/gpu", value: "a b"}', "value"),
                                         ('{key: "bad key!", value: "x"}', "key")])
def test_taints_are_checked_as_kubernetes_checks_them(tmp_path, taint, field):
    stack = tmp_path / "stackgen.yaml"
    stack.write_text(STACK_SHORT_POOL.replace("gpusPerNode: 1}", f"gpusPerNode: 1, taints: [{taint}]}}"))
    proc = cli("plan", "-f", str(stack), "-o", "json")
    assert proc.returncode == 2, proc.stdout
    assert json.loads(proc.stdout)["error"]["field"].endswith(f"taints[0].{field}")
