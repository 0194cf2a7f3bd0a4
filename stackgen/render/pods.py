"""Pod and container building blocks shared by Deployments, LeaderWorkerSets and KServe
predictors: resources, probes sized from the plan's cold start, secure defaults, volumes."""

from __future__ import annotations

import math
from typing import Any

from stackgen.capacity import units_per_pod
from stackgen.decide.plan import ModelPlan

GIB = 1024**3
HF_TOKEN_SECRET = "hf-token"
STORAGE_SECRET = "model-storage-credentials"
CACHE_MOUNT = "/models-cache"


def pod_security() -> dict[str, Any]:
    return {"runAsNonRoot": True, "runAsUser": 1000, "runAsGroup": 1000, "fsGroup": 1000,
            "seccompProfile": {"type": "RuntimeDefault"}}


def container_security(read_only_root: bool = True) -> dict[str, Any]:
    """No privileges, no capabilities, and a read-only root filesystem: every path the
    servers write (/tmp as HOME, the model cache, the repository, /dev/shm) is a volume.
    KServe's runtime containers keep a writable root (`read_only_root=False`): KServe builds
    their pods and stackgen does not own all of their mounts."""
    out: dict[str, Any] = {"allowPrivilegeEscalation": False, "privileged": False,
                           "capabilities": {"drop": ["ALL"]}}
    if read_only_root:
        out["readOnlyRootFilesystem"] = True
    return out


def weights_gib(plan: ModelPlan) -> float:
    return plan.weight_bytes / GIB


def shm_gib(plan: ModelPlan) -> int:
    """/dev/shm for NCCL between tensor-parallel ranks (vLLM) or the Python backend (Triton),
    as the server's profile says (profiles/servers/)."""
    from stackgen.catalog.servers import server

    return server(plan.server).shm_gib(plan.tensor_parallel_size, plan.backend)


def resources(plan: ModelPlan) -> dict[str, Any]:
    """Requests and limits: GPUs requested = limited; CPU and memory sized from the model."""
    # a multi-node replica is one pod per pipeline stage, each with its share of the GPUs
    gpus = units_per_pod(plan.gpus_per_replica, plan.pipeline_parallel_size) if plan.gpu_resource else 0
    per_pod_weights = weights_gib(plan) / max(plan.pipeline_parallel_size, 1)
    if plan.kind == "llm":
        # weights stream from safetensors through the page cache (reclaimable), so the
        # process needs a fraction of them resident, not a full host-side copy
        cpu = 2 + 4 * max(gpus, 1)
        memory = max(16, math.ceil(per_pod_weights * 0.25 + 12))
    else:
        cpu = 2 if gpus else 4
        memory = max(4, math.ceil(per_pod_weights * 2 + 4))
    memory += shm_gib(plan)
    requests: dict[str, Any] = {"cpu": str(cpu), "memory": f"{memory}Gi"}
    limits: dict[str, Any] = {"cpu": str(cpu * 2), "memory": f"{memory}Gi"}
    if gpus:
        requests[plan.gpu_resource] = str(gpus)
        limits[plan.gpu_resource] = str(gpus)
    return {"requests": requests, "limits": limits}


def startup_budget_seconds(plan: ModelPlan) -> int:
    """Time the startup probe allows: three times the cold-start estimate, at least 10 min."""
    return int(max(600, math.ceil(plan.cold_start_seconds * 3 / 60) * 60))


def probes(plan: ModelPlan, port: str, ready_path: str, live_path: str) -> dict[str, Any]:
    period = 10
    return {
        "startupProbe": {"httpGet": {"path": ready_path, "port": port}, "periodSeconds": period,
                         "timeoutSeconds": 5,
                         "failureThreshold": startup_budget_seconds(plan) // period},
        "readinessProbe": {"httpGet": {"path": ready_path, "port": port}, "periodSeconds": period,
                           "timeoutSeconds": 5, "failureThreshold": 3},
        "livenessProbe": {"httpGet": {"path": live_path, "port": port}, "periodSeconds": 30,
                          "timeoutSeconds": 10, "failureThreshold": 5},
    }


def model_env(plan: ModelPlan, downloads: bool | None = None) -> list[dict[str, Any]]:
    """Credentials come from Secrets (optional, so public models need none), and only to a
    container that downloads from the Hugging Face Hub (`downloads`; default: the source
    is hf://): a server that reads a laid-out repository, or weights from s3:// or a claim,
    gets no Hub token."""
    hub = plan.source.startswith("hf://") if downloads is None else downloads
    env: list[dict[str, Any]] = [{"name": "HF_HOME", "value": f"{CACHE_MOUNT}/hf"}]
    if hub:
        env.append({"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": {
            "name": HF_TOKEN_SECRET, "key": "token", "optional": True}}})
    env += [{"name": "HOME", "value": "/tmp"}, {"name": "DO_NOT_TRACK", "value": "1"}]
    return env


def env_from(plan: ModelPlan) -> list[dict[str, Any]]:
    if plan.source.startswith(("s3://", "gs://")):
        return [{"secretRef": {"name": STORAGE_SECRET, "optional": True}}]
    return []


def pvc_source(source: str) -> tuple[str, str] | None:
    """pvc://claim/sub/path -> ('claim', 'sub/path')."""
    if not source.startswith("pvc://"):
        return None
    claim, _, sub = source[len("pvc://"):].strip("/").partition("/")
    return claim, sub


def shm_volume(plan: ModelPlan) -> list[dict[str, Any]]:
    size = shm_gib(plan)
    if not size:
        return []
    return [{"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": f"{size}Gi"}}]


def pod_spec(containers: list[dict], volumes: list[dict], placement: dict[str, Any],
             grace: int = 60, init: list[dict] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "terminationGracePeriodSeconds": grace,
        "securityContext": pod_security(),
    }
    if init:
        spec["initContainers"] = init
    spec["containers"] = containers
    if volumes:
        spec["volumes"] = volumes
    spec.update(placement)
    return spec


def spread_placement(ctx: Any) -> dict[str, Any]:
    """The model's placement, plus, when it may run several replicas, a preferred pod
    anti-affinity across nodes: replicas land on different nodes where the pool has room
    (a node failure or drain takes one replica, not all), and still share a node when it
    does not (preferred, never required: several 1-GPU replicas may pack one 8-GPU node)."""
    import copy

    placement = copy.deepcopy(ctx.placement)
    if ctx.m.replicas_max <= 1:
        return placement
    placement.setdefault("affinity", {})["podAntiAffinity"] = {
        "preferredDuringSchedulingIgnoredDuringExecution": [{
            "weight": 100, "podAffinityTerm": {
                "labelSelector": {"matchLabels": dict(ctx.selector)},
                "topologyKey": "kubernetes.io/hostname"}}]}
    return placement


def rollout_strategy(ctx: Any) -> dict[str, Any]:
    """Surge one pod (no lost capacity during a rollout) when the pool has room for it at
    every model's peak replicas; else replace one pod at a time (`maxSurge: 0,
    maxUnavailable: 1`): on a full GPU pool the surge pod would stay Pending and the rollout
    would never finish."""
    from stackgen import capacity

    surge = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}
    m = ctx.m
    pool = next((p for p in ctx.stack.spec.cluster.node_pools if p.name == m.node_pool), None)
    if pool is None or not pool.is_gpu or not m.gpu:
        return surge
    peak = [units for o in ctx.plan.models if o.node_pool == pool.name
            for units in o.pods_on_pool(max(o.replicas_max, o.replicas_min))]
    if capacity.surge_fits(pool, peak, m.pods_on_pool(1)[0]):
        return surge
    return {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}}
