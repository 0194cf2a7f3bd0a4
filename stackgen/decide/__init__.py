"""Pure: Stack -> Plan. The layer framework, placement and the common-mistake warnings."""

from __future__ import annotations

from collections.abc import Mapping

from stackgen.catalog import ModelFacts
from stackgen.decide.framework import choose_orchestration, choose_serving
from stackgen.decide.placement import place
from stackgen.decide.plan import ModelPlan, Plan, PlanWarning
from stackgen.catalog.servers import server
from stackgen.decide.warnings import plan_warnings
from stackgen.spec.models import Model, ReplicaRange, Stack

__all__ = ["ModelPlan", "Plan", "PlanWarning", "decide"]


def decide(stack: Stack, facts: Mapping[str, ModelFacts | None]) -> Plan:
    """Apply the framework to a validated stack and what is known of its models (by name:
    `stackgen.catalog.stack_facts`). Pure: no file, clock, environment or network. Raises
    CheckFailed when a model fits nowhere."""
    orch = choose_orchestration(stack)
    models = tuple(_plan_model(m, stack, orch.value, facts.get(m.name)) for m in stack.spec.models)
    return Plan(
        stack=stack.name, namespace=stack.namespace, provider=stack.spec.cluster.provider,
        orchestration=orch.value, orchestration_reasons=orch.reasons, models=models,
        warnings=plan_warnings(stack, orch.value, models))


def _plan_model(model: Model, stack: Stack, orchestration: str, facts: ModelFacts | None) -> ModelPlan:
    serving = choose_serving(model, stack.spec.requirements.unified_api)
    placement = place(model, serving.framework, stack, facts)
    sizing = placement.sizing
    low, high, replica_reasons = _replicas(model, stack, orchestration, sizing)
    kserve = orchestration == "kserve"
    return ModelPlan(
        name=model.name, kind=model.kind, team=model.team, source=model.source,
        engine=serving.engine, server=serving.server, backend=serving.backend,
        framework=serving.framework,
        node_pool=placement.pool.name if placement.pool else None,
        gpu=placement.gpu.id if placement.gpu else None, gpu_resource=placement.gpu_resource,
        gpus_per_replica=sizing.gpus_per_replica if placement.gpu else 0,
        tensor_parallel_size=sizing.tensor_parallel_size,
        pipeline_parallel_size=sizing.pipeline_parallel_size,
        replicas_min=low, replicas_max=high, max_model_len=sizing.max_model_len,
        dtype=model.dtype, quantization=_quantization(model, sizing),
        cold_start_seconds=round(sizing.cold_start_seconds, 1), weight_bytes=sizing.weight_bytes,
        sizing=sizing.result.to_json() if sizing.result else None,
        runtime=_kserve_runtime(serving.server) if kserve else None,
        canary_source=model.canary.source if model.canary and kserve else None,
        canary_percent=model.canary.traffic_percent if model.canary and kserve else None,
        reasons=serving.reasons + placement.reasons + replica_reasons,
        cold_start=sizing.cold_start.to_json() if sizing.cold_start else None,
        **({"replicas_needed": getattr(sizing, "replicas_needed", None)}
           if placement.choice is None else {}),
        **_performance(model, placement))


def _quantization(model: Model, sizing) -> str | None:
    """What the engine runs: `auto` resolved by the layout search (fp8 or none)."""
    if model.quantization == "auto":
        return sizing.result.quantization if sizing.result else "none"
    return model.quantization


def _performance(model: Model, placement) -> dict:
    choice = placement.choice
    if choice is None:
        return {}
    o = choice.chosen
    from stackgen.perf import load_params

    perf = o.perf.to_json(dict(load_params().error_band))
    perf["requestRatePerReplica"] = (round(model.traffic.peak_rps / o.replicas, 3)
                                     if model.traffic.peak_rps > 0 else None)
    slo = None
    if model.slo.p95_latency_ms is not None or model.slo.ttft_ms is not None:
        slo = {"p95LatencyMs": model.slo.p95_latency_ms, "ttftMs": model.slo.ttft_ms, "met": bool(o.slo_met)}
    needed = o.needed if o.short and o.needed and o.needed > o.replicas else None
    return dict(performance=perf, slo=slo, cost_per_hour=None if o.cost is None else round(o.cost, 2),
                replicas_needed=needed,
                alternatives=tuple(a.to_json() for a in choice.alternatives),
                autoscale_concurrency=choice.autoscale_concurrency)


def _kserve_runtime(server_id: str) -> str | None:
    profile = server(server_id).kserve
    return profile.runtime if profile else None


def _replicas(model: Model, stack: Stack, orchestration: str, sizing) -> tuple[int, int, tuple[str, ...]]:
    if isinstance(model.replicas, ReplicaRange):
        return model.replicas.min, model.replicas.max, (
            f"replicas {model.replicas.min}-{model.replicas.max} set in the stack file",)
    if isinstance(model.replicas, int):
        return model.replicas, model.replicas, (f"replicas: {model.replicas} set in the stack file",)
    low, high = sizing.replicas_min, max(sizing.replicas_max, sizing.replicas_min)
    if stack.spec.requirements.scale_to_zero and orchestration == "kserve":
        return 0, max(high, 1), (f"scale-to-zero: minReplicas 0, up to {max(high, 1)} at peak",)
    return low, high, ()
