"""The Plan: every decision stackgen made for a stack, each with its reasons.

Plain frozen dataclasses; `to_json()` gives the contract's `stackgen plan --output json`
document (camelCase keys) plus a few extra keys that render and docs use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Severity = Literal["warning", "info"]


@dataclass(frozen=True)
class PlanWarning:
    code: str
    message: str
    models: tuple[str, ...] = ()
    severity: Severity = "warning"

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "models": list(self.models),
                "severity": self.severity}


@dataclass(frozen=True)
class ModelPlan:
    name: str
    kind: str
    team: str
    source: str
    engine: str                 # vllm | triton | tensorrt-llm | kserve-huggingface
    server: str                 # vllm | triton | kserve-huggingface
    backend: str | None         # Triton backend (onnxruntime, pytorch, python, fil, vllm, ...)
    framework: str | None
    node_pool: str | None
    gpu: str | None             # GPU id, None on a CPU pool
    gpu_resource: str | None    # nvidia.com/gpu or nvidia.com/mig-1g.10gb
    gpus_per_replica: int
    tensor_parallel_size: int
    pipeline_parallel_size: int
    replicas_min: int
    replicas_max: int
    max_model_len: int | None
    dtype: str | None
    quantization: str | None
    cold_start_seconds: float
    weight_bytes: int
    sizing: dict[str, Any] | None
    runtime: str | None         # KServe ServingRuntime name when orchestrated by KServe
    canary_source: str | None = None
    canary_percent: int | None = None
    reasons: tuple[str, ...] = ()
    performance: dict[str, Any] | None = None   # LLMs: one replica at its share of the peak
    slo: dict[str, Any] | None = None           # {p95LatencyMs, ttftMs, met}
    cost_per_hour: float | None = None
    alternatives: tuple[dict[str, Any], ...] = ()
    autoscale_concurrency: int | None = None    # requests in flight per replica the autoscaler targets
    cold_start: dict[str, Any] | None = None    # {firstStartSeconds, warmStartSeconds, phases}
    replicas_needed: int | None = None          # replicas the peak needs when the pool holds fewer

    @property
    def multi_node(self) -> bool:
        return self.pipeline_parallel_size > 1

    @property
    def autoscales(self) -> bool:
        """The replica count varies (an autoscaler is rendered): a range, or scale-to-zero."""
        return not (self.replicas_max <= max(self.replicas_min, 1) and self.replicas_min > 0)

    def pods_on_pool(self, replicas: int) -> list[int]:
        """GPU units of each pod `replicas` replicas run (a multi-node replica is one pod per
        pipeline stage, each with its share); [] off GPUs."""
        from stackgen.capacity import units_per_pod

        if not self.gpu:
            return []
        per_pod = units_per_pod(self.gpus_per_replica, self.pipeline_parallel_size)
        return [per_pod] * self.pipeline_parallel_size * max(replicas, 1)

    @property
    def shares_model_cache(self) -> bool:
        """Several pods mount one model-cache claim (ReadWriteMany): more than one replica,
        or a multi-node group."""
        return self.replicas_max > 1 or self.multi_node

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name, "kind": self.kind, "team": self.team, "source": self.source,
            "engine": self.engine, "server": self.server, "backend": self.backend,
            "framework": self.framework, "nodePool": self.node_pool, "gpu": self.gpu,
            "gpuResource": self.gpu_resource, "gpusPerReplica": self.gpus_per_replica,
            "tensorParallelSize": self.tensor_parallel_size,
            "pipelineParallelSize": self.pipeline_parallel_size,
            "replicas": {"min": self.replicas_min, "max": self.replicas_max},
            "maxModelLen": self.max_model_len, "coldStartSeconds": self.cold_start_seconds,
            "runtime": self.runtime,
            "canary": ({"source": self.canary_source, "trafficPercent": self.canary_percent}
                       if self.canary_source else None),
            "sizing": self.sizing, "reasons": list(self.reasons),
            "quantization": self.quantization,
            "performance": self.performance, "slo": self.slo, "costPerHour": self.cost_per_hour,
            "alternatives": list(self.alternatives),
            "coldStart": self.cold_start,
            "autoscaling": ({"metric": "requests-in-flight", "targetPerReplica": self.autoscale_concurrency}
                            if self.autoscale_concurrency else None),
        }


@dataclass(frozen=True)
class Plan:
    stack: str
    namespace: str
    provider: str
    orchestration: Literal["none", "kserve"]
    orchestration_reasons: tuple[str, ...]
    models: tuple[ModelPlan, ...]
    warnings: tuple[PlanWarning, ...] = field(default_factory=tuple)

    def model(self, name: str) -> ModelPlan:
        return next(m for m in self.models if m.name == name)

    def to_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack, "namespace": self.namespace,
            "orchestration": self.orchestration,
            "orchestrationReasons": list(self.orchestration_reasons),
            "models": [m.to_json() for m in self.models],
            "warnings": [w.to_json() for w in self.warnings],
        }
