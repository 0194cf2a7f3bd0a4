"""Triton standalone, one server per model: a model repository (config.pbtxt, model.json
for the vLLM backend) in a ConfigMap, an init step that brings the model files from the
stack's source, a Deployment (http 8000, grpc 8001, metrics 8002), Service, autoscaler on
queue time, PDB, NetworkPolicy, ServiceMonitor."""

from __future__ import annotations

import json
from typing import Any

from stackgen.catalog.servers import server
from stackgen.render import common, pods
from stackgen.render.context import ModelCtx, Rendered, content_hash
from stackgen.render.engine import render_objects

REPO = "/models"
PVC_ROOT = "/mnt/models"  # where the vLLM backend's claim is mounted (as for vLLM's own server)
MAX_BATCH = {"embedding": 64, "reranker": 64, "vision": 32, "speech": 8, "tabular": 4096,
             "other": 16, "llm": 0}
FIL_MODEL_TYPE = {"xgboost": "xgboost_json", "sklearn": "treelite_checkpoint"}
#: Backends that Triton accepts only with a platform (tritonserver rejects backend
#: "tensorflow" alone: "unexpected 'platform' and 'backend' pair"); SavedModel is TF2's format.
PLATFORM = {"tensorflow": "tensorflow_savedmodel"}
#: What the config says about inputs/outputs where the backend cannot take them from the model.
IO_NOTE = {
    "pytorch": "# the pytorch backend cannot infer inputs/outputs: declare them in an overlay "
               "of this ConfigMap",
    "python": "# the python backend takes inputs/outputs from model.py's auto_complete_config; "
              "else declare them in an overlay of this ConfigMap",
}


def _q(text: str) -> str:
    """A protobuf text-format string literal."""
    return json.dumps(str(text))


def config_pbtxt(ctx: ModelCtx) -> str:
    m = ctx.m
    lines = [f"name: {_q(m.name)}"]
    if m.backend in PLATFORM:
        lines.append(f"platform: {_q(PLATFORM[m.backend])}")
    lines.append(f"backend: {_q(m.backend)}")
    batch = MAX_BATCH.get(m.kind, 16)
    lines.append(f"max_batch_size: {batch}")
    if batch:
        lines.append("dynamic_batching { max_queue_delay_microseconds: 200 }")
    kind = "KIND_MODEL" if m.backend in ("vllm", "tensorrtllm") else (
        "KIND_GPU" if m.gpu else "KIND_CPU")
    lines.append(f"instance_group [{{ count: 1, kind: {kind} }}]")
    if m.backend == "fil":
        lines += ['parameters { key: "model_type" value: { string_value: '
                  f'{_q(FIL_MODEL_TYPE.get(m.framework or "xgboost", "xgboost_json"))} }} }}',
                  'parameters { key: "output_class" value: { string_value: "false" } }']
    if m.backend in IO_NOTE:
        lines.append(IO_NOTE[m.backend])
    return "\n".join(lines) + "\n"


def weights_path(ctx: ModelCtx) -> str:
    """Where the vLLM backend finds the weights: the claim's folder for pvc://, else the
    version folder the init step fetched them into (not a Hub id, which would have the
    server download them itself, with the Hub and a token in reach, at every start)."""
    claim = pods.pvc_source(ctx.m.source)
    if claim:
        return f"{PVC_ROOT}/{claim[0]}/{claim[1]}".rstrip("/")
    return f"{REPO}/{ctx.m.name}/1"


def model_json(ctx: ModelCtx) -> str:
    """Triton's vLLM backend: the engine arguments for the LLM (unifiedApi). The init step
    puts it in the version folder, where the backend reads it."""
    m = ctx.m
    args: dict[str, Any] = {"model": weights_path(ctx),
                            "tensor_parallel_size": m.tensor_parallel_size,
                            "gpu_memory_utilization": ctx.gpu_memory_utilization,
                            "disable_log_requests": True}
    if m.max_model_len:
        args["max_model_len"] = m.max_model_len
    if m.quantization and m.quantization != "none":
        args["quantization"] = m.quantization
    return json.dumps(args, indent=2, sort_keys=True) + "\n"


def repository_files(ctx: ModelCtx) -> dict[str, str]:
    files = {"config.pbtxt": config_pbtxt(ctx)}
    if ctx.m.backend == "vllm":
        files["model.json"] = model_json(ctx)
    return files


def _fetch_init(ctx: ModelCtx) -> list[dict[str, Any]]:
    """Copy the repository files and bring the model's files into /models/<name>/1 (a
    claim is mounted instead, so pvc:// sources are not copied)."""
    m = ctx.m
    command = ["stackgen-runtime-fetch", "--config-dir", "/etc/stackgen/repository",
               "--dest", f"{REPO}/{m.name}"]
    if not pods.pvc_source(m.source):
        command += ["--source", m.source]
    mounts = [{"name": "repository-config", "mountPath": "/etc/stackgen/repository",
               "readOnly": True},
              {"name": "model-repository", "mountPath": REPO},
              {"name": "tmp", "mountPath": "/tmp"}]
    if m.source.startswith("hf://"):
        # HF_HOME is on the cache volume: the snapshot stays there, linked from 1/
        mounts.append({"name": "model-cache", "mountPath": pods.CACHE_MOUNT})
    return [{"name": "model-repository", "image": ctx.runtime_image, "command": command,
             "env": pods.model_env(m), **({"envFrom": pods.env_from(m)} if pods.env_from(m) else {}),
             "resources": {"requests": {"cpu": "1", "memory": "2Gi"},
                           "limits": {"cpu": "2", "memory": "4Gi"}},
             "volumeMounts": mounts, "securityContext": pods.container_security()}]


def _container(ctx: ModelCtx, mounts: list[dict]) -> dict[str, Any]:
    ports = ctx.server.ports
    args = ["tritonserver", f"--model-repository={REPO}", f"--http-port={ports['http']}",
            f"--grpc-port={ports['grpc']}", f"--metrics-port={ports['metrics']}",
            "--exit-timeout-secs=30", "--log-verbose=0"]
    return {"name": "triton", "image": ctx.triton_image(ctx.m.backend),
            "imagePullPolicy": "IfNotPresent", "command": args[:1], "args": args[1:],
            "ports": [{"name": n, "containerPort": p, "protocol": "TCP"} for n, p in ports.items()],
            # the init step fetched the model: the server never talks to the Hub
            "env": pods.model_env(ctx.m, downloads=False), "resources": pods.resources(ctx.m),
            **common.probes(ctx),
            "volumeMounts": mounts, "securityContext": pods.container_security()}


def _volumes(ctx: ModelCtx, config_name: str) -> tuple[list[dict], list[dict]]:
    volumes = [{"name": "repository-config", "configMap": {"name": config_name}},
               {"name": "model-repository", "emptyDir": {}},
               {"name": "model-cache", "emptyDir": {}},
               {"name": "tmp", "emptyDir": {"sizeLimit": "2Gi"}}] + pods.shm_volume(ctx.m)
    mounts = [{"name": "model-repository", "mountPath": REPO},
              {"name": "model-cache", "mountPath": pods.CACHE_MOUNT},
              {"name": "tmp", "mountPath": "/tmp"}, {"name": "dshm", "mountPath": "/dev/shm"}]
    claim = pods.pvc_source(ctx.m.source)
    if claim:
        volumes.append({"name": "model-source", "persistentVolumeClaim": {
            "claimName": claim[0], "readOnly": True}})
        if ctx.m.backend == "vllm":
            # The version folder holds model.json, so the claim goes beside the repository.
            mounts.append({"name": "model-source", "mountPath": f"{PVC_ROOT}/{claim[0]}",
                           "readOnly": True})
        else:
            mounts.append({"name": "model-source", "mountPath": f"{REPO}/{ctx.m.name}/1",
                           "subPath": claim[1], "readOnly": True})
    return volumes, mounts


def build(ctx: ModelCtx) -> list[Rendered]:
    files = repository_files(ctx)
    config_name = f"{ctx.name}-repository"
    (config,) = render_objects("common/configmap.yaml.j2", name=config_name,
                               namespace=ctx.namespace, labels=ctx.labels("triton"), data=files)
    volumes, mounts = _volumes(ctx, config_name)
    pod = pods.pod_spec([_container(ctx, mounts)], volumes, pods.spread_placement(ctx), grace=45,
                        init=_fetch_init(ctx))
    (deployment,) = render_objects(
        "common/deployment.yaml.j2", name=ctx.name, namespace=ctx.namespace,
        labels=ctx.labels("triton"), selector=ctx.selector, replicas=max(ctx.m.replicas_min, 1),
        progress_deadline=pods.startup_budget_seconds(ctx.m) + 300,
        strategy=pods.rollout_strategy(ctx),
        pod_annotations={"stackgen.dev/config-hash": content_hash(files)}, pod=pod)
    ports = [{"name": n, "port": p, "targetPort": n, "protocol": "TCP"}
             for n, p in ctx.server.ports.items()]
    out = [Rendered(ctx.path("configmap"), config), Rendered(ctx.path("deployment"), deployment),
           common.service(ctx, "triton", ports)]
    out += common.autoscaler(ctx, "triton", "Deployment", _metric(ctx))
    out.append(common.pdb(ctx, "triton"))
    out += common.network_policy(ctx, "triton", list(ctx.server.ports.values()))
    out += common.service_monitor(ctx, "triton", "metrics")
    return out


def kserve_container(stack) -> dict[str, Any]:
    """The stackgen-triton ServingRuntime's container: tritonserver on the model repository
    KServe's storage initializer put in /mnt/models."""
    profile = server("triton")
    port = profile.kserve.port
    return {
        "name": "kserve-container", "image": stack.spec.images.triton or profile.image(None),
        "imagePullPolicy": "IfNotPresent", "command": ["tritonserver"],
        "args": ["--model-store=/mnt/models", f"--http-port={port}", "--grpc-port=9000",
                 "--allow-http=true", "--allow-grpc=true", "--exit-timeout-secs=30"],
        "ports": [{"containerPort": port, "protocol": "TCP"}],
        "resources": {"requests": {"cpu": "1", "memory": "4Gi"},
                      "limits": {"cpu": "4", "memory": "8Gi"}},
        "securityContext": pods.container_security(read_only_root=False)}


def _metric(ctx: ModelCtx) -> dict[str, Any]:
    """Queue time per request; with an SLO, a fifth of it (at most 100 ms)."""
    slo = ctx.spec.slo.tightest_ms
    return common.profile_metric(ctx, int(min(100_000, slo * 1000 * 0.2)) if slo else None)
