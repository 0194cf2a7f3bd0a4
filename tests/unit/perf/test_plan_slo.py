"""`stackgen plan` meets each LLM's SLO at the least cost, on stacks where the answer follows
from arithmetic: a decode step cannot beat the HBM floor, so a 70B model at TP 2 cannot
emit 256 tokens in 4 s; an 8B model with a loose SLO belongs on the cheap GPUs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stackgen.catalog import stack_facts
from stackgen.decide import decide
from stackgen.perf import Workload, load_params, predict
from stackgen.render import render_files
from stackgen.spec import parse_stack
from stackgen.yamlio import load

H100 = [{"name": "h100", "gpu": "h100-80gb", "nodes": 2, "gpusPerNode": 8}]
L4 = [{"name": "l4", "gpu": "l4-24gb", "nodes": 4, "gpusPerNode": 4}]
BIG = {"name": "chat", "source": "hf://meta-llama/Llama-3.1-70B-Instruct", "kind": "llm", "maxModelLen": 8192,
       "traffic": {"peakRps": 1, "avgInputTokens": 512, "avgOutputTokens": 256}, "slo": {"p95LatencyMs": 4000}}
SMALL = {"name": "small", "source": "hf://meta-llama/Llama-3.1-8B-Instruct", "kind": "llm", "maxModelLen": 8192,
         "traffic": {"peakRps": 2, "avgInputTokens": 512, "avgOutputTokens": 256}}


def stack_of(models, pools, **render):
    data = {"apiVersion": "stackgen.dev/v1alpha1", "kind": "Stack", "metadata": {"name": "t"},
            "spec": {"cluster": {"provider": "generic", "nodePools": pools}, "models": models}}
    if render:
        data["spec"]["render"] = render
    return parse_stack(data, "stackgen.yaml")


def plan_of(models, pools):
    stack = stack_of(models, pools)
    return decide(stack, stack_facts(stack, Path(".")))


def test_a_70b_with_a_4s_p95_for_256_tokens_is_not_planned_on_tp2():
    model = plan_of([BIG], H100).model("chat")
    assert model.tensor_parallel_size >= 4 and model.slo["met"] is True
    assert model.performance["p95LatencyMs"] <= 4000
    tp2 = next(a for a in model.alternatives if a["tensorParallelSize"] == 2)
    assert tp2["sloMet"] is False and "HBM floor" in tp2["why"]
    # the plan JSON carries what the contract's consumers read
    data = json.loads(json.dumps(model.to_json()))
    assert {"performance", "slo", "costPerHour", "alternatives", "coldStart", "autoscaling"} <= set(data)
    assert set(tp2) >= {"nodePool", "gpu", "tensorParallelSize", "pipelineParallelSize", "replicas", "gpus",
                        "costPerHour", "ttftMs", "p95LatencyMs", "sloMet", "why"}


def test_the_cheapest_layout_that_meets_the_slo_wins():
    loose = plan_of([{**SMALL, "slo": {"p95LatencyMs": 20000}}], H100 + L4).model("small")
    assert loose.node_pool == "l4" and loose.slo["met"]
    tight = plan_of([{**SMALL, "slo": {"p95LatencyMs": 2500}}], H100 + L4).model("small")
    assert tight.node_pool == "h100" and tight.slo["met"]
    assert loose.cost_per_hour < tight.cost_per_hour
    # nothing that meets the SLO is cheaper than what was chosen
    for alt in tight.alternatives:
        if alt["sloMet"] and alt["costPerHour"] is not None:
            assert alt["costPerHour"] >= tight.cost_per_hour


def test_quantization_auto_lets_the_plan_choose_fp8_and_the_render_runs_it():
    stack = stack_of([{**BIG, "quantization": "auto"}], H100)
    plan = decide(stack, stack_facts(stack, Path(".")))
    model = plan.model("chat")
    bf16 = plan_of([BIG], H100).model("chat")
    assert model.quantization == "fp8" and model.slo["met"]
    assert model.cost_per_hour < bf16.cost_per_hour
    files = render_files(stack, plan)
    config = load(next(t for p, t in files.items() if p.endswith("chat/configmap.yaml")))
    assert load(config["data"]["engine.yaml"])["quantization"] == "fp8"


def test_no_layout_meets_an_impossible_slo_the_warning_names_the_closest():
    plan = plan_of([{**BIG, "slo": {"p95LatencyMs": 500}}], H100)
    model = plan.model("chat")
    assert model.slo["met"] is False
    (warning,) = [w for w in plan.warnings if w.code == "slo-unmet"]
    assert warning.models == ("chat",)
    assert f"TP {model.tensor_parallel_size}" in warning.message and "500" in warning.message
    # the closest is the fastest single request: the widest tensor-parallel group
    assert model.tensor_parallel_size == 8


def test_without_an_slo_tp_is_chosen_for_throughput_per_gpu_not_the_smallest_that_fits():
    model = plan_of([{**BIG, "slo": {}}], H100).model("chat")
    assert model.slo is None and model.tensor_parallel_size > 2      # TP 2 fits, but its KV cache is small
    chosen_per_gpu = None
    for alt in model.alternatives:
        if alt["pipelineParallelSize"] == 1:
            assert "per GPU" in alt["why"]
            chosen_per_gpu = chosen_per_gpu or float(alt["why"].split("against ")[1].split(" ")[0].replace(",", ""))
            assert alt["outputTokensPerSPerGpu"] <= chosen_per_gpu


def test_the_autoscaler_targets_the_most_requests_in_flight_that_meet_the_slo():
    stack = stack_of([{**SMALL, "slo": {"p95LatencyMs": 6000}}], H100)
    plan = decide(stack, stack_facts(stack, Path(".")))
    model = plan.model("small")
    target = model.autoscale_concurrency
    hpa = load(next(t for p, t in render_files(stack, plan).items() if p.endswith("small/hpa.yaml")))
    metric = hpa["spec"]["metrics"][0]["pods"]
    assert metric["metric"]["name"] == "vllm_num_requests_running"
    assert metric["target"]["averageValue"] == str(target)
    from stackgen.catalog import resolve_gpu, resolve_model
    from stackgen.engine_settings import settings_from
    from stackgen.perf import replica_for
    from stackgen.sizing import size

    facts, gpu = resolve_model("llama-3.1-8b"), resolve_gpu("h100-80gb")
    rep = replica_for(facts, gpu, size(facts, gpu, settings_from(max_model_len=8192, gpu_memory_utilization=0.9)))
    params = load_params()
    at = predict(rep, params, Workload(512, 256, concurrency=target))
    above = predict(rep, params, Workload(512, 256, concurrency=target + 1))
    assert at.p95_e2e_s * 1e3 <= 6000 < above.p95_e2e_s * 1e3


def test_mig_slices_run_one_replica_each_and_count_as_slices():
    mig = [{"name": "mig", "gpu": "a100-80gb", "nodes": 1, "gpusPerNode": 8, "mig": "3g.40gb"}]
    model = plan_of([{**SMALL, "traffic": {"peakRps": 30, "avgInputTokens": 512, "avgOutputTokens": 256}}],
                    mig).model("small")
    assert model.tensor_parallel_size == 1 and model.gpu_resource == "nvidia.com/mig-3g.40gb"
    assert model.replicas_max > 8     # 16 slices on 8 GPUs


@pytest.mark.parametrize("slo", [{"p95LatencyMs": 4000}, {}])
def test_the_text_plan_shows_the_runner_up_layouts(slo, tmp_path, capsys):
    from stackgen.cli.render_plan import print_plan

    print_plan(plan_of([{**BIG, "slo": slo}], H100))
    out = capsys.readouterr().out
    assert "Runner-up layouts" in out and "Performance at peak" in out
