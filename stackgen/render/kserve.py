"""KServe on top (layer 3): ServingRuntimes for vLLM (the reference runtime) and Triton,
and one InferenceService per model with placement, replicas, canary and deployment mode."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

from stackgen.catalog.servers import server
from stackgen.decide.plan import Plan
from stackgen.render import pods
from stackgen.render.context import ModelCtx, Rendered
from stackgen.render.engine import render_objects
from stackgen.render.names import base_labels
from stackgen.spec.models import Stack



def serving_runtimes(stack: Stack, plan: Plan, container: Callable[[str], dict]) -> list[Rendered]:
    """One ServingRuntime per server the plan uses under KServe (built-in ones, such as
    KServe's Hugging Face server, ship with KServe); `container(server_id)` is the server's
    kserve-container, from its render builder (RenderError when it has none)."""
    out = []
    labels = base_labels(stack.name, component="serving-runtime")
    for server_id in sorted({m.server for m in plan.models}):
        profile = server(server_id)
        if profile.kserve is None or profile.kserve.built_in:
            continue
        out.append(_runtime(stack, profile, labels, container(server_id)))
    return out


def _runtime(stack: Stack, profile, labels: dict, container: dict) -> Rendered:
    kserve = profile.kserve
    formats = [{"name": f.name, "version": "1", "autoSelect": f.auto_select,
                **({"priority": f.priority} if f.priority is not None else {})}
               for f in kserve.formats]
    (obj,) = render_objects("kserve/servingruntime.yaml.j2", name=kserve.runtime,
                            namespace=stack.namespace, labels=labels, formats=formats,
                            protocols=list(kserve.protocols), containers=[container], volumes=[],
                            annotations={"prometheus.kserve.io/port": str(kserve.port),
                                         "prometheus.kserve.io/path": "/metrics"})
    return Rendered(f"kserve/servingruntime-{kserve.runtime}.yaml", obj)


def _model_format(ctx: ModelCtx) -> str:
    return ctx.server.kserve_format(ctx.m.backend)


def _engine_env(ctx: ModelCtx) -> list[dict[str, str]]:
    """The same engine settings document as the standalone ConfigMap, inline: KServe's
    storage initializer puts the model in /mnt/models and the runtime listens on 8080."""
    if ctx.server.engine_args != "vllm" or ctx.server.kserve.built_in:
        return []
    from stackgen.render.vllm import engine_settings

    # the ServingRuntime passes --served-model-name {{.Name}} (KServe's convention: the
    # InferenceService's name), which the runtime applies over these settings: say the same
    settings = engine_settings(ctx, model="/mnt/models", port=ctx.server.kserve.port,
                               cache_dir="/tmp/hf", served_name=ctx.name)
    env = [{"name": "STACKGEN_ENGINE_SETTINGS", "value": json.dumps(settings, sort_keys=True)}]
    if ctx.m.gpu:
        env.append({"name": "STACKGEN_GPU", "value": ctx.m.gpu})
    return env


STORAGE_SECRET_ANNOTATION = "serving.kserve.io/storageSecretName"


def serverless(ctx: ModelCtx) -> bool:
    """KServe's Serverless (Knative) mode: what scale-to-zero and canary rollouts need.
    KServe supports `canaryTrafficPercent` in Serverless mode only; Standard mode (plain
    Deployments) would ignore it and send all traffic to the new model."""
    return bool(ctx.stack.spec.requirements.scale_to_zero or ctx.m.canary_source)


def _annotations(ctx: ModelCtx) -> dict[str, str]:
    knative = serverless(ctx)
    out = {"serving.kserve.io/deploymentMode": "Serverless" if knative else "Standard"}
    if not knative:
        # Standard mode's default autoscaler is an HPA on CPU utilisation (KServe drops
        # scaleMetric: concurrency there); the engine's own metric goes through KEDA.
        # A server without a known metric (KServe's built-in runtimes) keeps KServe's CPU HPA.
        out["serving.kserve.io/autoscalerClass"] = (
            "none" if not ctx.m.autoscales else "keda" if ctx.server.autoscaling else "hpa")
    if knative:
        deadline = pods.startup_budget_seconds(ctx.m) + 300
        out["serving.knative.dev/progress-deadline"] = f"{deadline}s"
        out["autoscaling.knative.dev/scale-down-delay"] = "15m"
    if ctx.m.canary_source:
        out["stackgen.dev/stable-source"] = ctx.m.source
    if any(src.startswith("hf://") for src in (ctx.m.source, ctx.m.canary_source or "")):
        # KServe's storage initializer downloads hf:// itself and reads HF_TOKEN only from the
        # storage secret this names (the predictor's env never reaches it)
        out[STORAGE_SECRET_ANNOTATION] = pods.HF_TOKEN_SECRET
    return out


def _concurrency_target(ctx: ModelCtx) -> int | None:
    """Requests in flight per replica: the plan's (the most that meet the SLO), else 70% of
    the whole requests the KV cache holds."""
    if ctx.m.autoscale_concurrency:
        return ctx.m.autoscale_concurrency
    sizing = ctx.m.sizing or {}
    tokens = sizing.get("kvCacheTokens")
    if ctx.m.kind != "llm" or not tokens:
        return None
    traffic = ctx.spec.traffic
    return max(1, min(256, math.floor(tokens / (traffic.avg_input_tokens + traffic.avg_output_tokens) * 0.7)))


def _keda_scaling(ctx: ModelCtx, target: int | None) -> dict[str, Any]:
    """KServe's KEDA autoscaling on the server's Prometheus metric (the same query and
    per-replica threshold as the standalone ScaledObject; KEDA divides the query's sum by the
    replica count)."""
    from stackgen.render.common import profile_metric

    vllm = ctx.server.engine_args == "vllm"
    # vLLM labels its metrics with the served name: the InferenceService's name here
    metric = profile_metric(ctx, target if vllm else None, model=ctx.name if vllm else None)
    return {"metrics": [{"type": "External", "external": {
        "metric": {"backend": "prometheus",
                   "serverAddress": ctx.stack.spec.render.prometheus_address,
                   "query": metric["query"]},
        "target": {"type": "Value", "value": str(metric["threshold"])}}}]}


def inference_service(ctx: ModelCtx) -> Rendered:
    m = ctx.m
    model: dict[str, Any] = {"modelFormat": {"name": _model_format(ctx)}, "runtime": m.runtime,
                             "storageUri": m.canary_source or m.source}
    model["env"] = [e for e in pods.model_env(m) if e["name"] in ("HF_TOKEN",)] + _engine_env(ctx)
    model["resources"] = pods.resources(m)
    if pods.shm_gib(m):   # NCCL between tensor-parallel ranks needs more than the 64 MiB default
        model["volumeMounts"] = [{"name": "dshm", "mountPath": "/dev/shm"}]
    predictor: dict[str, Any] = {"minReplicas": m.replicas_min, "maxReplicas": max(m.replicas_max, 1)}
    target = _concurrency_target(ctx)
    if serverless(ctx):
        if target:  # Knative's autoscaler counts requests in flight per pod itself
            predictor.update(scaleMetric="concurrency", scaleTarget=target)
    elif ctx.m.autoscales and ctx.server.autoscaling:
        predictor["autoScaling"] = _keda_scaling(ctx, target)
    if m.canary_percent:
        predictor["canaryTrafficPercent"] = m.canary_percent
    predictor.update(ctx.placement)
    predictor["securityContext"] = pods.pod_security()
    if pods.shm_gib(m):
        predictor["volumes"] = pods.shm_volume(m)
    predictor["model"] = model
    (obj,) = render_objects("kserve/inferenceservice.yaml.j2", name=ctx.name,
                            namespace=ctx.namespace, labels=ctx.labels(m.server),
                            annotations=_annotations(ctx), predictor=predictor)
    return Rendered(ctx.path("inferenceservice"), obj)
