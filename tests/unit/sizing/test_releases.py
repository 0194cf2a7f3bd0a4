"""`--vllm-version` picks the memory accounting of that release: it reproduces the accounting
every published start-up log in tests/sizing_cases/vllm_logs.yaml was scored with."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from stackgen.catalog import resolve_model
from stackgen.sizing.releases import UnsupportedVersion, parse, profiler_for
from stackgen.yamlio import read_data

CASES = Path(__file__).resolve().parents[2] / "sizing_cases" / "vllm_logs.yaml"


def test_each_logged_release_maps_to_the_accounting_its_log_was_scored_with():
    checked = 0
    for case in read_data(CASES)["cases"]:
        m = re.search(r"\d+\.\d+(?:\.\d+)?", str(case.get("vllm") or ""))
        if not m:
            continue
        facts = resolve_model(case["model"])
        moe = bool(facts and facts.num_experts)
        assert profiler_for(m.group(0), moe) == case["profiler"], (case["id"], m.group(0))
        checked += 1
    assert checked >= 20


@pytest.mark.parametrize("version,expected", [("0.32.0", "v1"), ("0.29", "v1"), ("0.25.0", "v1-mrv1"),
                                              ("0.25.1", "v1-0.25"), ("0.20.2", "v1-0.10"), ("0.9.2", "legacy"),
                                              ("v0.11.0rc1", "v1-0.11"), ("0.12.0", "v1-0.10"), ("0.27.1.post1", "v1-0.25")])
def test_release_boundaries(version, expected):
    assert profiler_for(version) == expected


@pytest.mark.parametrize("version", ["0.33", "1.0", "0.1.4", "latest", "0.x", ""])
def test_unknown_or_unmodelled_releases_are_refused_with_the_range(version):
    with pytest.raises(UnsupportedVersion) as err:
        profiler_for(version)
    assert "0.32" in str(err.value) or "X.Y" in str(err.value)
    if version not in ("latest", "0.x", ""):
        assert parse(version)


def test_size_and_plan_follow_the_release_the_user_runs(tmp_path):
    import json
    import subprocess
    import sys

    def size_json(*extra):
        proc = subprocess.run([sys.executable, "-m", "stackgen.cli.main", "size", "--model", "qwen3-8b", "--gpu",
                               "a100-40gb", "--max-model-len", "8192", "--gpu-memory-utilization", "0.9", *extra,
                               "-o", "json"], capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)

    old, pinned = size_json("--vllm-version", "0.19.1"), size_json()
    assert (old["accounting"], pinned["accounting"]) == ("v1-0.10", "v1")
    assert old["kvCacheTokens"] != pinned["kvCacheTokens"]
    stack = tmp_path / "stackgen.yaml"
    stack.write_text("""apiVersion: stackgen.dev/v1alpha1
kind: Stack
metadata: {name: v}
spec:
  cluster: {nodePools: [{name: a, gpu: a100-40gb, nodes: 1, gpusPerNode: 1}]}
  models:
    - {name: chat, source: hf://Qwen/Qwen3-8B, kind: llm, maxModelLen: 8192}
  render: {vllmVersion: "0.19.1"}
""")
    proc = subprocess.run([sys.executable, "-m", "stackgen.cli.main", "plan", "-f", str(stack), "-o", "json"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["models"][0]["sizing"]["kvCacheTokens"] == old["kvCacheTokens"]
    stack.write_text(stack.read_text().replace("0.19.1", "0.40"))
    bad = subprocess.run([sys.executable, "-m", "stackgen.cli.main", "plan", "-f", str(stack)],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "spec.render.vllmVersion" in bad.stderr and "Traceback" not in bad.stderr
