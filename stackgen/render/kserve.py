"""KServe on top (layer 3): ServingRuntimes for vLLM (the reference runtime) and Triton,
and one InferenceService per model with placement, replicas, canary and deployment mode."""

from __future__ import annotations

import json
import math
from typing import Any

from stackgen.decide.plan import Plan
from stackgen.render import pods
from stackgen.render.context import ModelCtx, Rendered
from stackgen.render.engine import render_objects
from stackgen.render.names import base_labels
from stackgen.spec.models import Stack

PORT = 8080
TRITON_FORMATS = ["triton", "onnx", "pytorch", "tensorflow", "tensorrt", "xgboost", "sklearn",
                  "python"]
FORMAT = {"onnxruntime": "onnx", "pytorch": "pytorch", "tensorflow": "tensorflow",
          "tensorrt": "tensorrt", "fil": "xgboost", "python": "python", "vllm": "triton",
          "tensorrtllm": "triton"}


def serving_runtimes(stack: Stack, plan: Plan, runtime_image: str, triton_image) -> list[Rendered]:
    used = {m.runtime for m in plan.models}
    out = []
    labels = base_labels(stack.name, component="serving-runtime")
    if "stackgen-vllm" in used:
        container = {
            "name": "kserve-container", "image": runtime_image, "imagePullPolicy": "IfNotPresent",
            "args": ["--model", "/mnt/models", "--served-model-name", "{{.Name}}",
                     "--port", str(PORT)],
            "env": [{"name": "HF_HOME", "value": "/tmp/hf"}, {"name": "HOME", "value": "/tmp"}],
            "ports": [{"containerPort": PORT, "protocol": "TCP"}],
            "resources": {"requests": {"cpu": "2", "memory": "16Gi"},
                          "limits": {"cpu": "8", "memory": "32Gi"}},
            "securityContext": pods.container_security()}
        out.append(_runtime(stack, "stackgen-vllm", labels, container,
                            [{"name": "vllm", "version": "1", "autoSelect": True, "priority": 2},
                             {"name": "huggingface", "version": "1", "autoSelect": False}],
                            ["v1", "v2"]))
    if "stackgen-triton" in used:
        container = {
            "name": "kserve-container", "image": triton_image, "imagePullPolicy": "IfNotPresent",
            "command": ["tritonserver"],
            "args": ["--model-store=/mnt/models", f"--http-port={PORT}", "--grpc-port=9000",
                     "--allow-http=true", "--allow-grpc=true", "--exit-timeout-secs=30"],
            "ports": [{"containerPort": PORT, "protocol": "TCP"}],
            "resources": {"requests": {"cpu": "1", "memory": "4Gi"},
                          "limits": {"cpu": "4", "memory": "8Gi"}},
            "securityContext": pods.container_security()}
        out.append(_runtime(stack, "stackgen-triton", labels, container,
                            [{"name": f, "version": "1", "autoSelect": True} for f in TRITON_FORMATS],
                            ["v2", "grpc-v2"]))
    return out


def _runtime(stack: Stack, name: str, labels: dict, container: dict, formats: list,
             protocols: list) -> Rendered:
    (obj,) = render_objects("kserve/servingruntime.yaml.j2", name=name, namespace=stack.namespace,
                            labels=labels, formats=formats, protocols=protocols,
                            containers=[container], volumes=[],
                            annotations={"prometheus.kserve.io/port": str(PORT),
                                         "prometheus.kserve.io/path": "/metrics"})
    return Rendered(f"kserve/servingruntime-{name}.yaml", obj)


def _model_format(ctx: ModelCtx) -> str:
    m = ctx.m
    if m.server == "vllm":
        return "vllm"
    if m.server == "kserve-huggingface":
        return "huggingface"
    return FORMAT.get(m.backend or "", "triton")


def _engine_env(ctx: ModelCtx) -> list[dict[str, str]]:
    """The same engine settings document as the standalone ConfigMap, inline: KServe's
    storage initializer puts the model in /mnt/models and the runtime listens on 8080."""
    if ctx.m.server != "vllm":
        return []
    from stackgen.render.vllm import engine_settings

    settings = engine_settings(ctx, model="/mnt/models", port=PORT, cache_dir="/tmp/hf")
    env = [{"name": "STACKGEN_ENGINE_SETTINGS", "value": json.dumps(settings, sort_keys=True)}]
    if ctx.m.gpu:
        env.append({"name": "STACKGEN_GPU", "value": ctx.m.gpu})
    return env


def _annotations(ctx: ModelCtx) -> dict[str, str]:
    serverless = ctx.stack.spec.requirements.scale_to_zero
    out = {"serving.kserve.io/deploymentMode": "Serverless" if serverless else "Standard"}
    if serverless:
        deadline = pods.startup_budget_seconds(ctx.m) + 300
        out["serving.knative.dev/progress-deadline"] = f"{deadline}s"
        out["autoscaling.knative.dev/scale-down-delay"] = "15m"
    if ctx.m.canary_source:
        out["stackgen.dev/stable-source"] = ctx.m.source
    return out


def _concurrency_target(ctx: ModelCtx) -> int | None:
    sizing = ctx.m.sizing or {}
    tokens = sizing.get("kvCacheTokens")
    if ctx.m.kind != "llm" or not tokens:
        return None
    traffic = ctx.spec.traffic
    return max(1, min(256, math.floor(tokens / (traffic.avg_input_tokens + traffic.avg_output_tokens) * 0.7)))


def inference_service(ctx: ModelCtx) -> Rendered:
    m = ctx.m
    model: dict[str, Any] = {"modelFormat": {"name": _model_format(ctx)}, "runtime": m.runtime,
                             "storageUri": m.canary_source or m.source}
    model["env"] = [e for e in pods.model_env(m) if e["name"] in ("HF_TOKEN",)] + _engine_env(ctx)
    model["resources"] = pods.resources(m)
    predictor: dict[str, Any] = {"minReplicas": m.replicas_min, "maxReplicas": max(m.replicas_max, 1)}
    target = _concurrency_target(ctx)
    if target:
        predictor.update(scaleMetric="concurrency", scaleTarget=target)
    if m.canary_percent:
        predictor["canaryTrafficPercent"] = m.canary_percent
    predictor.update(ctx.placement)
    predictor["securityContext"] = pods.pod_security()
    predictor["model"] = model
    (obj,) = render_objects("kserve/inferenceservice.yaml.j2", name=ctx.name,
                            namespace=ctx.namespace, labels=ctx.labels(m.server),
                            annotations=_annotations(ctx), predictor=predictor)
    return Rendered(ctx.path("inferenceservice"), obj)
