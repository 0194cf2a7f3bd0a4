"""The decision table: the article's framework applied to stacks a platform team would
write, including the edge cases the issue names."""

from __future__ import annotations

from pathlib import Path

import pytest

from stackgen.catalog import stack_facts
from stackgen.decide import decide
from stackgen.errors import CheckFailed
from stackgen.spec import parse_stack

ROOT = Path(__file__).resolve().parents[3]


def stack(models: list[dict], pools: list[dict] | None = None, **requirements) -> dict:
    return {
        "apiVersion": "stackgen.dev/v1alpha1", "kind": "Stack",
        "metadata": {"name": "t"},
        "spec": {
            "cluster": {"provider": "generic", "nodePools": pools if pools is not None else [
                {"name": "h100", "gpu": "h100-80gb", "nodes": 2, "gpusPerNode": 8},
                {"name": "a100", "gpu": "a100-80gb", "nodes": 2, "gpusPerNode": 4},
                {"name": "t4", "gpu": "t4-16gb", "nodes": 4, "gpusPerNode": 1},
                {"name": "cpu", "gpu": "none", "nodes": 3}]},
            "models": models,
            "requirements": requirements,
        },
    }


LLM = {"name": "chat", "source": "hf://meta-llama/Llama-3.1-8B-Instruct", "kind": "llm"}
BIG = {"name": "big", "source": "hf://meta-llama/Llama-3.1-70B-Instruct", "kind": "llm"}
EMBED = {"name": "embed", "source": "hf://BAAI/bge-large-en-v1.5", "kind": "embedding",
         "framework": "onnx"}
VISION = {"name": "vision", "source": "s3://m/resnet", "kind": "vision", "framework": "onnx"}
FRAUD = {"name": "fraud", "source": "s3://m/xgb", "kind": "tabular", "framework": "xgboost"}


def plan_of(data: dict):
    stack = parse_stack(data, "stackgen.yaml")
    return decide(stack, stack_facts(stack, ROOT))


def codes(plan) -> dict[str, str]:
    return {w.code: w.severity for w in plan.warnings}


def test_llm_only_is_vllm_without_kserve() -> None:
    plan = plan_of(stack([LLM]))
    chat = plan.model("chat")
    assert plan.orchestration == "none"
    assert (chat.engine, chat.server, chat.backend) == ("vllm", "vllm", None)
    assert chat.node_pool == "h100" and chat.gpu == "h100-80gb"
    assert chat.sizing["fits"] and chat.sizing["kvCacheTokens"] > 0
    assert any("vLLM" in r for r in chat.reasons)


def test_hybrid_tiers_follow_the_article() -> None:
    plan = plan_of(stack([BIG, EMBED, VISION, FRAUD]))
    assert plan.model("big").node_pool == "h100"
    assert plan.model("big").tensor_parallel_size >= 2
    assert plan.model("embed").node_pool == "a100" and plan.model("embed").backend == "onnxruntime"
    assert plan.model("vision").node_pool == "t4"
    fraud = plan.model("fraud")
    assert fraud.node_pool == "cpu" and fraud.gpu is None and fraud.gpus_per_replica == 0
    assert fraud.backend == "fil"
    assert "triton-vllm-backend" in codes(plan)
    assert plan.orchestration == "none"


def test_unified_api_puts_llms_on_tritons_vllm_backend() -> None:
    plan = plan_of(stack([LLM, EMBED], unifiedApi=True))
    chat = plan.model("chat")
    assert (chat.engine, chat.server, chat.backend) == ("vllm", "triton", "vllm")
    assert "triton-vllm-backend" not in codes(plan)


def test_four_teams_one_model_each_get_kserve_with_our_runtimes() -> None:
    models = [dict(LLM, name=f"m{i}", team=f"team-{i}") for i in range(4)]
    plan = plan_of(stack(models))
    assert plan.orchestration == "kserve"
    assert any("4 teams" in r for r in plan.orchestration_reasons)
    assert {m.runtime for m in plan.models} == {"stackgen-vllm"}
    assert "kserve-single-model" not in codes(plan)


def test_kserve_for_a_single_model_is_flagged() -> None:
    plan = plan_of(stack([LLM], orchestration="kserve"))
    assert plan.orchestration == "kserve"
    assert codes(plan)["kserve-single-model"] == "warning"
    assert any("framework would choose none" in r for r in plan.orchestration_reasons)


def test_explicit_none_wins_over_the_framework() -> None:
    plan = plan_of(stack([dict(LLM, team="a"), dict(EMBED, team="b")], orchestration="none"))
    assert plan.orchestration == "none"
    assert any("framework would choose kserve" in r for r in plan.orchestration_reasons)


def test_triton_for_llm_only_is_flagged() -> None:
    plan = plan_of(stack([dict(LLM, engine="triton")]))
    chat = plan.model("chat")
    assert chat.server == "triton" and chat.backend == "vllm"
    assert "triton-llm-only" in codes(plan)
    assert any("framework would choose engine vllm on server vllm" in r for r in chat.reasons)


def test_kserve_default_runtime_is_flagged() -> None:
    plan = plan_of(stack([dict(LLM, engine="kserve-huggingface"), EMBED]))
    assert plan.orchestration == "kserve"
    assert plan.model("chat").runtime == "kserve-huggingfaceserver"
    assert "kserve-default-runtime" in codes(plan)


def test_scale_to_zero_with_a_tight_slo_warns() -> None:
    plan = plan_of(stack([dict(LLM, slo={"ttftMs": 300}), dict(EMBED, slo={"p95LatencyMs": 900000})],
                         scaleToZero=True))
    assert plan.orchestration == "kserve"
    chat = plan.model("chat")
    assert chat.replicas_min == 0 and chat.cold_start_seconds > 0.3
    tight = [w for w in plan.warnings if w.code == "scale-to-zero-cold-start" and w.models == ("chat",)]
    assert tight and tight[0].severity == "warning"
    loose = [w for w in plan.warnings if w.code == "scale-to-zero-cold-start" and w.models == ("embed",)]
    assert not loose  # a 15-minute SLO absorbs the cold start


def test_no_gpu_pools_assumes_a_gpu_and_says_so() -> None:
    plan = plan_of(stack([LLM, FRAUD], pools=[]))
    assert "no-node-pools" in codes(plan)
    assert plan.model("chat").gpu == "h100-80gb" and plan.model("chat").node_pool is None
    assert plan.model("fraud").gpu is None


def test_cpu_only_tabular_without_cpu_pool_takes_smallest_gpu() -> None:
    pools = [{"name": "h100", "gpu": "h100-80gb", "nodes": 1, "gpusPerNode": 8},
             {"name": "l4", "gpu": "l4-24gb", "nodes": 1, "gpusPerNode": 1}]
    plan = plan_of(stack([FRAUD], pools=pools))
    assert plan.model("fraud").node_pool == "l4"


def test_no_pool_fits_fails_clearly() -> None:
    pools = [{"name": "t4", "gpu": "t4-16gb", "nodes": 1, "gpusPerNode": 1}]
    with pytest.raises(CheckFailed, match="fits on no node pool"):
        plan_of(stack([BIG], pools=pools))


def test_explicit_pool_wins() -> None:
    plan = plan_of(stack([dict(EMBED, nodePool="h100")]))
    assert plan.model("embed").node_pool == "h100"
    assert "set in the stack file" in plan.model("embed").reasons[2]


def test_canary_without_candidate_says_what_it_implies() -> None:
    plan = plan_of(stack([LLM, EMBED], canary=True))
    assert plan.orchestration == "kserve"
    assert codes(plan)["canary-no-candidate"] == "info"


def test_mig_pool_requests_mig_resources() -> None:
    pools = [{"name": "mig", "gpu": "a100-80gb", "nodes": 1, "gpusPerNode": 7, "mig": "1g.10gb"}]
    plan = plan_of(stack([VISION], pools=pools))
    assert plan.model("vision").gpu_resource == "nvidia.com/mig-1g.10gb"


def test_plan_json_has_the_contract_keys() -> None:
    data = plan_of(stack([LLM, EMBED])).to_json()
    assert {"stack", "orchestration", "models", "warnings"} <= set(data)
    model = data["models"][0]
    assert {"name", "kind", "engine", "server", "nodePool", "gpu", "gpusPerReplica",
            "tensorParallelSize", "pipelineParallelSize", "replicas", "sizing", "reasons"} <= set(model)
    assert set(model["replicas"]) == {"min", "max"}
    assert {"code", "message", "models"} <= set(data["warnings"][0])


def test_plan_sizes_at_the_utilization_the_stack_renders():
    """The KV cache in the plan is the one vLLM will report for the rendered
    --gpu-memory-utilization, not vLLM's own default."""
    def kv(util: float | None) -> int:
        data = stack([LLM])
        if util is not None:
            data["spec"]["render"] = {"gpuMemoryUtilization": util}
        return plan_of(data).models[0].sizing["kvCacheTokens"]
    assert kv(0.5) < kv(None) < kv(0.95)


def test_decide_sizes_from_the_facts_it_is_given_not_from_disk(tmp_path, monkeypatch):
    """decide is pure over (stack, facts): the model facts come in as an argument (the CLI
    gathers them with stack_facts, which reads modelConfig files), so a plan does not
    depend on the working directory, and the same facts give the same plan."""
    from stackgen.catalog import resolve_model

    parsed = parse_stack(stack([LLM]), "stackgen.yaml")
    monkeypatch.chdir(tmp_path)  # nothing here: decide must not look
    as_8b = decide(parsed, {"chat": resolve_model("llama-3.1-8b")}).model("chat")
    as_70b = decide(parsed, {"chat": resolve_model("llama-3.1-70b")}).model("chat")
    unknown = decide(parsed, {}).model("chat")
    assert as_8b.weight_bytes < 20 * 2**30 < 100 * 2**30 < as_70b.weight_bytes
    assert as_70b.tensor_parallel_size > as_8b.tensor_parallel_size == 1
    assert unknown.sizing is None and unknown.weight_bytes == 0
    assert decide(parsed, {"chat": resolve_model("llama-3.1-8b")}).to_json() == \
        decide(parsed, stack_facts(parsed, ROOT)).to_json()


def test_kserve_huggingface_engine_gets_kserve_and_no_servingruntime():
    """An explicit engine whose server only KServe runs puts KServe on top (auto), and the
    plan names KServe's own runtime, which stackgen does not render."""
    from stackgen.render import render_files

    data = stack([{**LLM, "engine": "kserve-huggingface"}])
    parsed = parse_stack(data, "stackgen.yaml")
    plan = decide(parsed, stack_facts(parsed, ROOT))
    assert plan.orchestration == "kserve"
    assert plan.model("chat").runtime == "kserve-huggingfaceserver"
    assert "kserve-default-runtime" in codes(plan)
    files = render_files(parsed, plan)
    assert not [f for f in files if f.startswith("kserve/servingruntime")]
    assert "huggingface" in files["models/chat/inferenceservice.yaml"]


def test_a_non_llm_short_of_its_pool_at_peak_is_warned(tmp_path) -> None:
    """20,000 rps of embeddings on one L4: the plan keeps the one replica the pool holds and
    says how many the peak needs (LLMs had this warning; other models passed silently)."""
    from stackgen.catalog import stack_facts
    from stackgen.decide import decide
    from stackgen.spec import load_stack

    path = tmp_path / "stackgen.yaml"
    path.write_text("""\
apiVersion: stackgen.dev/v1alpha1
kind: Stack
metadata: {name: t}
spec:
  cluster:
    provider: generic
    nodePools: [{name: l4, gpu: l4-24gb, nodes: 1, gpusPerNode: 1}]
  models:
    - {name: embed, source: "hf://BAAI/bge-base-en-v1.5", kind: embedding, framework: onnx,
       traffic: {peakRps: 20000}}
""")
    stack = load_stack(path)
    plan = decide(stack, stack_facts(stack, tmp_path))
    (model,) = plan.models
    assert (model.replicas_min, model.replicas_max) == (1, 1)
    (warning,) = [w for w in plan.warnings if w.code == "pool-short-of-peak"]
    assert model.replicas_needed and model.replicas_needed > 1
    assert f"needs about {model.replicas_needed} replicas" in warning.message


def test_triton_under_kserve_from_the_hub_is_warned() -> None:
    """KServe hands Triton storageUri as it is: an HF repository is no model repository."""
    plan = plan_of(stack([LLM, EMBED], teams=3))
    assert plan.orchestration == "kserve"
    (warning,) = [w for w in plan.warnings if w.code == "triton-source-not-a-repository"]
    assert warning.models == ("embed",) and "config.pbtxt" in warning.message
