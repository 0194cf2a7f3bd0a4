"""vLLM standalone (layer 1-2 without orchestration): ConfigMap of engine settings, model
cache PVC, Deployment (or a multi-node LeaderWorkerSet), Service, autoscaler, PDB,
NetworkPolicy, ServiceMonitor. The container is the reference runtime (stackgen-runtime)."""

from __future__ import annotations

import math
from typing import Any

from stackgen.render import common, pods
from stackgen.catalog.servers import server
from stackgen.render.context import RUNTIME_IMAGE, ModelCtx, Rendered, content_hash
from stackgen.render.engine import render_objects
from stackgen.engine_settings import EngineSettings

CONFIG_DIR = "/etc/stackgen"


def engine_settings(ctx: ModelCtx, *, model: str | None = None, port: int | None = None,
                    served_name: str | None = None,
                    cache_dir: str = f"{pods.CACHE_MOUNT}/hf") -> dict[str, Any]:
    """The settings document stackgen-runtime reads (docs/runtime.md)."""
    m = ctx.m
    port = port or ctx.server.http_port
    settings = EngineSettings(
        model=model or m.source, served_model_name=served_name or m.name,
        runner="generate" if m.kind == "llm" else "pooling",
        device="cuda" if m.gpu else "auto",
        tensor_parallel_size=m.tensor_parallel_size, pipeline_parallel_size=m.pipeline_parallel_size,
        nodes=m.pipeline_parallel_size if m.multi_node else 1,
        max_model_len=m.max_model_len,
        gpu_memory_utilization=ctx.gpu_memory_utilization,
        dtype=m.dtype or "auto", quantization=m.quantization or "none", port=port,
        model_cache_dir=cache_dir, shutdown_grace_period_seconds=30,
        extra_args=["--distributed-executor-backend", "ray"] if m.multi_node else [])
    return settings.to_document()


def cache_size_gib(ctx: ModelCtx) -> int:
    return int(math.ceil(pods.weights_gib(ctx.m) * 1.25 + 10))


def _volumes(ctx: ModelCtx, config_name: str) -> tuple[list[dict], list[dict]]:
    volumes = [{"name": "engine-config", "configMap": {"name": config_name}},
               {"name": "model-cache", "persistentVolumeClaim": {"claimName": f"{ctx.name}-cache"}},
               {"name": "tmp", "emptyDir": {"sizeLimit": "4Gi"}}]
    mounts = [{"name": "engine-config", "mountPath": CONFIG_DIR, "readOnly": True},
              {"name": "model-cache", "mountPath": pods.CACHE_MOUNT},
              {"name": "tmp", "mountPath": "/tmp"}]
    volumes += pods.shm_volume(ctx.m)
    if pods.shm_gib(ctx.m):
        mounts.append({"name": "dshm", "mountPath": "/dev/shm"})
    claim = pods.pvc_source(ctx.m.source)
    if claim:
        volumes.append({"name": "model-source", "persistentVolumeClaim": {
            "claimName": claim[0], "readOnly": True}})
        mounts.append({"name": "model-source", "mountPath": f"/mnt/models/{claim[0]}",
                       "readOnly": True})
    return volumes, mounts


def container(ctx: ModelCtx, mounts: list[dict], command: list[str] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"name": "vllm", "image": ctx.runtime_image,
                           "imagePullPolicy": "IfNotPresent"}
    if command:
        out["command"] = command
    else:
        out["args"] = ["--config", f"{CONFIG_DIR}/engine.yaml"]
    out.update({
        "ports": [{"name": "http", "containerPort": ctx.server.http_port, "protocol": "TCP"}],
        "env": pods.model_env(ctx.m) + ([{"name": "STACKGEN_GPU", "value": ctx.m.gpu}] if ctx.m.gpu else []),
        **({"envFrom": pods.env_from(ctx.m)} if pods.env_from(ctx.m) else {}),
        "resources": pods.resources(ctx.m),
        **common.probes(ctx),
        "volumeMounts": mounts,
        "securityContext": pods.container_security(),
    })
    return out


def build(ctx: ModelCtx) -> list[Rendered]:
    settings = engine_settings(ctx)
    config_name = f"{ctx.name}-engine"
    (config,) = render_objects("common/configmap.yaml.j2", name=config_name,
                               namespace=ctx.namespace, labels=ctx.labels("vllm"),
                               data={"engine.yaml": _yaml(settings)})
    out = [Rendered(ctx.path("configmap"), config),
           common.pvc(ctx, "vllm", f"{ctx.name}-cache", cache_size_gib(ctx),
                      shared=ctx.m.shares_model_cache)]
    volumes, mounts = _volumes(ctx, config_name)
    annotations = {"stackgen.dev/config-hash": content_hash(settings)}
    if ctx.m.multi_node:
        out += _leader_worker_set(ctx, volumes, mounts, annotations)
        kind = "LeaderWorkerSet"
    else:
        pod = pods.pod_spec([container(ctx, mounts)], volumes, pods.spread_placement(ctx))
        (deployment,) = render_objects(
            "common/deployment.yaml.j2", name=ctx.name, namespace=ctx.namespace,
            labels=ctx.labels("vllm"), selector=ctx.selector, replicas=max(ctx.m.replicas_min, 1),
            progress_deadline=pods.startup_budget_seconds(ctx.m) + 300,
            strategy=pods.rollout_strategy(ctx),
            pod_annotations=annotations, pod=pod)
        out.append(Rendered(ctx.path("deployment"), deployment))
        kind = "Deployment"
    port = ctx.server.http_port
    out.append(common.service(ctx, "vllm", [{"name": "http", "port": port,
                                               "targetPort": "http", "protocol": "TCP"}],
                              selector=_leader_selector(ctx) if ctx.m.multi_node else None))
    out += common.autoscaler(ctx, "vllm", kind, common.profile_metric(ctx, ctx.m.autoscale_concurrency))
    out.append(common.pdb(ctx, "vllm"))
    out += common.network_policy(ctx, "vllm", [port])
    out += common.service_monitor(ctx, "vllm", "http")
    return out


def _leader_selector(ctx: ModelCtx) -> dict[str, str]:
    return {**ctx.selector, "leaderworkerset.sigs.k8s.io/worker-index": "0"}


def _leader_worker_set(ctx: ModelCtx, volumes, mounts, annotations) -> list[Rendered]:
    """Multi-node: tensor parallel inside a node, pipeline parallel across nodes (Ray)."""
    leader_cmd = ["sh", "-c", "ray start --head --port=6379 --disable-usage-stats && "
                  f"exec stackgen-runtime --config {CONFIG_DIR}/engine.yaml"]
    worker_cmd = ["sh", "-c", "exec ray start --address=${LWS_LEADER_ADDRESS}:6379 "
                  "--block --disable-usage-stats"]
    leader = pods.pod_spec([container(ctx, mounts, leader_cmd)], volumes, ctx.placement)
    worker_container = container(ctx, mounts, worker_cmd)
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        worker_container.pop(probe)
    worker_container.pop("ports")
    worker_container["readinessProbe"] = {  # ready once its raylet joined the leader's cluster
        "exec": {"command": ["sh", "-c", "ray health-check --address ${LWS_LEADER_ADDRESS}:6379"]},
        "periodSeconds": 15, "timeoutSeconds": 10, "failureThreshold": 4}
    worker = pods.pod_spec([worker_container], volumes, ctx.placement)
    (lws,) = render_objects(
        "vllm/leaderworkerset.yaml.j2", name=ctx.name, namespace=ctx.namespace,
        labels=ctx.labels("vllm"), replicas=max(ctx.m.replicas_min, 1),
        size=ctx.m.pipeline_parallel_size, pod_annotations=annotations,
        leader=leader, worker=worker)
    return [Rendered(ctx.path("leaderworkerset"), lws)]


def kserve_container(stack) -> dict[str, Any]:
    """The stackgen-vllm ServingRuntime's container: the reference runtime on the model
    KServe's storage initializer put in /mnt/models; each InferenceService passes its
    engine settings inline (STACKGEN_ENGINE_SETTINGS)."""
    port = server("vllm").kserve.port
    return {
        "name": "kserve-container", "image": stack.spec.images.runtime or RUNTIME_IMAGE,
        "imagePullPolicy": "IfNotPresent",
        "args": ["--model", "/mnt/models", "--served-model-name", "{{.Name}}", "--port", str(port)],
        "env": [{"name": "HF_HOME", "value": "/tmp/hf"}, {"name": "HOME", "value": "/tmp"}],
        "ports": [{"containerPort": port, "protocol": "TCP"}],
        "resources": {"requests": {"cpu": "2", "memory": "16Gi"},
                      "limits": {"cpu": "8", "memory": "32Gi"}},
        "securityContext": pods.container_security(read_only_root=False)}


def _yaml(data: dict) -> str:
    from stackgen.yamlio import dump

    return dump(data)
