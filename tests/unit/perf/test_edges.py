"""Edges of the performance model and the layout search that a user hits: MIG and
time-sliced pools, requests longer than the engine admits, settings vLLM refuses, the
autoscaler's reach, GPUs without a price."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from stackgen.catalog import gpu_ids, stack_facts
from stackgen.decide import decide
from stackgen.errors import CheckFailed
from stackgen.render import render_files
from stackgen.sizing.tables import price_table
from stackgen.spec import parse_stack
from stackgen.yamlio import load

SMALL = {"name": "small", "source": "hf://meta-llama/Llama-3.2-1B-Instruct", "kind": "llm", "maxModelLen": 4096,
         "traffic": {"peakRps": 2, "avgInputTokens": 512, "avgOutputTokens": 128}, "slo": {"p95LatencyMs": 30000}}
EIGHT_B = {"name": "chat", "source": "hf://meta-llama/Llama-3.1-8B-Instruct", "kind": "llm", "maxModelLen": 8192,
           "traffic": {"peakRps": 5, "avgInputTokens": 512, "avgOutputTokens": 256}}


def stack_of(models, pools):
    return parse_stack({"apiVersion": "stackgen.dev/v1alpha1", "kind": "Stack", "metadata": {"name": "t"},
                        "spec": {"cluster": {"provider": "generic", "nodePools": pools}, "models": models}},
                       "stackgen.yaml")


def plan_of(models, pools):
    stack = stack_of(models, pools)
    return decide(stack, stack_facts(stack, Path(".")))


def size(*args):
    return subprocess.run([sys.executable, "-m", "stackgen.cli.main", "size", *args], capture_output=True,
                          text=True, timeout=60)


def test_a_mig_slice_decodes_with_its_share_of_the_bandwidth():
    whole = plan_of([SMALL], [{"name": "a", "gpu": "a100-80gb", "nodes": 1, "gpusPerNode": 1}]).model("small")
    mig = plan_of([SMALL], [{"name": "a", "gpu": "a100-80gb", "nodes": 1, "gpusPerNode": 1,
                             "mig": "1g.10gb"}]).model("small")
    # a 1g.10gb instance has 1 of the 8 memory slices
    assert mig.performance["hbmFloorTpotMs"] == pytest.approx(8 * whole.performance["hbmFloorTpotMs"], rel=0.02)


def test_time_sliced_replicas_share_the_gpu_memory_and_render_their_share():
    pools = [{"name": "ts", "gpu": "h100-80gb", "nodes": 1, "gpusPerNode": 1, "timeSlicing": 8}]
    with pytest.raises(CheckFailed, match="slice holds one replica"):
        plan_of([EIGHT_B], pools)           # 16 GB of weights in a 10 GB share
    stack = stack_of([{**SMALL, "nodePool": "ts"}], [{**pools[0], "timeSlicing": 4}])
    plan = decide(stack, stack_facts(stack, Path(".")))
    config = load(next(t for p, t in render_files(stack, plan).items() if p.endswith("small/configmap.yaml")))
    assert load(config["data"]["engine.yaml"])["gpuMemoryUtilization"] == pytest.approx(0.9 / 4)


def test_the_autoscaler_target_stays_below_what_a_replica_admits():
    for slo in ({"ttftMs": 2000}, {"p95LatencyMs": 600000}, {}):
        model = plan_of([{**EIGHT_B, "slo": slo}], [{"name": "h", "gpu": "h100-80gb", "nodes": 2}]).model("chat")
        limit = model.performance["concurrencyLimit"]
        assert model.autoscale_concurrency <= 0.8 * limit, (slo, model.autoscale_concurrency, limit)


def test_more_load_does_not_shorten_tokens_across_the_lumpy_regime():
    previous = None
    for c in range(40, 60):
        proc = size("--model", "llama-3.1-70b", "--gpu", "h100", "--tp", "8", "--max-model-len", "32768",
                    "--input-tokens", "12000", "--output-tokens", "100", "--concurrency", str(c), "-o", "json")
        import json

        tpot = json.loads(proc.stdout)["performance"]["tpotMs"]
        if previous is not None:
            assert tpot >= previous * 0.999, c
        previous = tpot


def test_a_request_longer_than_the_engine_admits_is_refused(tmp_path):
    proc = size("--model", "llama-3.1-8b", "--gpu", "h100", "--max-model-len", "4096", "--input-tokens", "100000",
                "--output-tokens", "200", "--concurrency", "16")
    assert proc.returncode == 2 and "exceed max-model-len 4,096" in proc.stderr
    stack = tmp_path / "stackgen.yaml"
    stack.write_text("""apiVersion: stackgen.dev/v1alpha1
kind: Stack
metadata: {name: t}
spec:
  cluster: {nodePools: [{name: h, gpu: h100-80gb}]}
  models:
    - {name: chat, source: hf://meta-llama/Llama-3.1-8B-Instruct, kind: llm, maxModelLen: 4096,
       traffic: {peakRps: 1, avgInputTokens: 10000, avgOutputTokens: 256}}
""")
    plan = subprocess.run([sys.executable, "-m", "stackgen.cli.main", "plan", "-f", str(stack), "-o", "json"],
                          capture_output=True, text=True, timeout=60)
    assert plan.returncode == 2
    assert "spec.models[0].traffic.avgInputTokens" in plan.stderr and "maxModelLen 4096" in plan.stderr


def test_a_batch_budget_below_max_num_seqs_is_exit_2_as_vllm_refuses_it():
    proc = size("--model", "llama-3.1-8b", "--gpu", "h100", "--max-num-batched-tokens", "256")
    assert proc.returncode == 2 and "smaller than max-num-seqs (1024)" in proc.stderr


def test_every_catalog_gpu_has_an_example_price():
    prices = price_table()["per_gpu_hour"]
    assert [g for g in gpu_ids() if g not in prices] == []


def test_slo_unmet_names_only_the_terms_that_were_set():
    plan = plan_of([{**EIGHT_B, "slo": {"p95LatencyMs": 300}}], [{"name": "l4", "gpu": "l4-24gb", "nodes": 1}])
    (warning,) = [w for w in plan.warnings if w.code == "slo-unmet"]
    assert "None" not in warning.message and "p95 latency 300 ms" in warning.message


def test_performance_flags_on_a_non_llm_say_why_there_is_no_performance():
    proc = size("--model", "bge-base-en-v1.5", "--gpu", "l4", "--input-tokens", "100", "--output-tokens", "1",
                "--concurrency", "4")
    assert proc.returncode == 0 and "performance is predicted for LLMs only" in proc.stdout


def test_a_pool_short_of_the_peak_is_warned_about():
    busy = {**EIGHT_B, "traffic": {"peakRps": 400, "avgInputTokens": 512, "avgOutputTokens": 256}}
    plan = plan_of([busy], [{"name": "l4", "gpu": "l4-24gb", "nodes": 1, "gpusPerNode": 2}])
    (warning,) = [w for w in plan.warnings if w.code == "pool-short-of-peak"]
    model = plan.model("chat")
    assert model.replicas_max <= 2 and f"holds {model.replicas_max}" in warning.message
    calm = plan_of([EIGHT_B], [{"name": "h", "gpu": "h100-80gb", "nodes": 2}])
    assert not [w for w in calm.warnings if w.code == "pool-short-of-peak"]


def test_an_llm_on_a_stack_with_only_cpu_pools_says_to_add_a_gpu_pool():
    with pytest.raises(CheckFailed, match=r"needs a GPU, and the stack's node pools \(cpu\) have none"):
        plan_of([EIGHT_B], [{"name": "cpu", "gpu": "none", "nodes": 3}])
