"""`stackgen plan` counts a pool's room per node: replicas are capped at what the
scheduler can place, and the pool-over-capacity warning fires when the minimum replicas'
pods do not all fit, even when the pool's GPU total looks large enough."""

from __future__ import annotations

from pathlib import Path

from stackgen.catalog import stack_facts
from stackgen.decide import decide
from stackgen.spec import parse_stack

ROOT = Path(__file__).resolve().parents[3]
BIG = {"name": "big", "source": "hf://meta-llama/Llama-3.1-70B-Instruct", "kind": "llm"}
VISION = {"name": "vision", "source": "s3://m/resnet", "kind": "vision", "framework": "onnx"}


def plan_of(models: list[dict], pools: list[dict]):
    data = {"apiVersion": "stackgen.dev/v1alpha1", "kind": "Stack", "metadata": {"name": "t"},
            "spec": {"cluster": {"provider": "generic", "nodePools": pools}, "models": models}}
    stack = parse_stack(data, "stackgen.yaml")
    return decide(stack, stack_facts(stack, ROOT))


def over_capacity(plan) -> list[str]:
    return [w.message for w in plan.warnings if w.code == "pool-over-capacity"]


SIX_L40S = [{"name": "l40s", "gpu": "l40s-48gb", "nodes": 2, "gpusPerNode": 6}]


def test_tp4_on_two_six_gpu_nodes_is_capped_at_two_replicas():
    plan = plan_of([{**BIG, "traffic": {"peakRps": 500}}], SIX_L40S)
    model = plan.model("big")
    assert model.tensor_parallel_size == 4  # 70B bf16 needs 4 x 48 GB
    assert model.replicas_max == 2  # 12 GPUs, but one 4-GPU pod per 6-GPU node
    assert any("the pool holds 2 replica(s)" in r for r in model.reasons)


def test_three_tp4_replicas_on_twelve_gpus_are_flagged_although_the_total_matches():
    plan = plan_of([{**BIG, "replicas": 3}], SIX_L40S)
    (message,) = over_capacity(plan)
    assert message.startswith("node pool l40s has 12 GPUs (2 node(s) x 6) but 1 of the 3 pods")
    assert over_capacity(plan_of([{**BIG, "replicas": 2}], SIX_L40S)) == []


def test_more_gpus_than_the_pool_has_are_flagged():
    plan = plan_of([{**BIG, "replicas": 4}], SIX_L40S)
    assert over_capacity(plan) == [
        "node pool l40s has 12 GPUs but the minimum replicas of its models need 16; add nodes "
        "or lower replicas"]


def test_mig_and_time_slicing_count_their_units():
    mig = [{"name": "mig", "gpu": "a100-80gb", "nodes": 1, "gpusPerNode": 2, "mig": "1g.10gb"}]
    assert over_capacity(plan_of([{**VISION, "replicas": 14}], mig)) == []  # 2 GPUs x 7
    (message,) = over_capacity(plan_of([{**VISION, "replicas": 15}], mig))
    assert "has 14 MIG 1g.10gb instances" in message
    sliced = [{"name": "t4", "gpu": "t4-16gb", "nodes": 1, "gpusPerNode": 1, "timeSlicing": 4}]
    assert over_capacity(plan_of([{**VISION, "replicas": 4}], sliced)) == []
    assert "has 4 time-sliced GPU replicas" in over_capacity(plan_of([{**VISION, "replicas": 5}], sliced))[0]
