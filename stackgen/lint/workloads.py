"""One view of "pod templates" over every kind that runs containers.

Rules never walk a Deployment or an InferenceService themselves: they get `PodTemplate`s
(the pod spec, where it sits in the object, its containers) and `Container`s (the
container, its path, the model server it runs).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from stackgen.lint.loader import LintObject
from stackgen.lint.servers import ServerInfo, detect_server

# kind -> (label, path to the pod spec) for each pod template of the kind
POD_SPECS: dict[str, list[tuple[str, tuple]]] = {
    "Pod": [("pod", ("spec",))],
    **{k: [("pod", ("spec", "template", "spec"))] for k in (
        "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job")},
    "CronJob": [("pod", ("spec", "jobTemplate", "spec", "template", "spec"))],
    "PodTemplate": [("pod", ("template", "spec"))],
    "LeaderWorkerSet": [("leader", ("spec", "leaderWorkerTemplate", "leaderTemplate", "spec")),
                        ("worker", ("spec", "leaderWorkerTemplate", "workerTemplate", "spec"))],
    "ServingRuntime": [("runtime", ("spec",))],
    "ClusterServingRuntime": [("runtime", ("spec",))],
    "InferenceService": [("predictor", ("spec", "predictor")),
                         ("predictor-worker", ("spec", "predictor", "workerSpec")),
                         ("transformer", ("spec", "transformer")),
                         ("explainer", ("spec", "explainer"))],
    # KServe's LLMInferenceService (v1alpha1, v1alpha2): the decode (or only) workload, its
    # multi-node workers, the prefill pool of a disaggregated deployment, and the router's
    # scheduler (endpoint picker) and tokenizer; each a full PodSpec
    "LLMInferenceService": [("template", ("spec", "template")),
                            ("worker", ("spec", "worker")),
                            ("prefill", ("spec", "prefill", "template")),
                            ("prefill-worker", ("spec", "prefill", "worker")),
                            ("scheduler", ("spec", "router", "scheduler", "template")),
                            ("tokenizer", ("spec", "router", "scheduler", "tokenizer", "template"))],
}
KSERVE_KINDS = {"InferenceService", "ServingRuntime", "ClusterServingRuntime", "LLMInferenceService"}
#: the kinds pod rules look at: those of POD_SPECS but the bare PodTemplate and the legacy
#: ReplicationController
WORKLOAD_KINDS = ("Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob",
                  "LeaderWorkerSet", "InferenceService", "ServingRuntime", "ClusterServingRuntime",
                  "LLMInferenceService")
#: workloads that serve (batch Jobs never answer probes)
SERVING_KINDS = tuple(k for k in WORKLOAD_KINDS if k not in ("Job", "CronJob"))
#: workloads whose pods the manifest spells out: an LLMInferenceService's presets
#: (LLM_PRESET_MAIN) bring the vLLM command, /dev/shm and the model cache mount
SPELLED_OUT_KINDS = tuple(k for k in WORKLOAD_KINDS if k != "LLMInferenceService")
# InferenceService components may hold the server container under these keys
KSERVE_CONTAINER_KEYS = ("model", "huggingface", "sklearn", "xgboost", "tensorflow", "pytorch",
                         "triton", "onnx", "pmml", "lightgbm", "paddle")
# GPU resource -> the taint key of that vendor's GPU node pools: by convention the resource
# name (GKE's GPU pools and most self-managed clusters taint nvidia.com/gpu; vLLM's ROCm
# example tolerates amd.com/gpu; Intel and Gaudi pools likewise, where they are tainted)
GPU_TAINT_KEYS = {"nvidia.com/gpu": "nvidia.com/gpu", "amd.com/gpu": "amd.com/gpu",
                  "gpu.intel.com/i915": "gpu.intel.com/i915", "gpu.intel.com/xe": "gpu.intel.com/xe",
                  "intel.com/gpu": "intel.com/gpu", "habana.ai/gaudi": "habana.ai/gaudi"}
GPU_RESOURCES = tuple(GPU_TAINT_KEYS)
MIG_PREFIX = "nvidia.com/mig-"  # MIG slices (nvidia.com/mig-1g.10gb) sit on nvidia.com/gpu-tainted nodes
LONG_RUNNING = {"Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet",
                "ReplicationController", "LeaderWorkerSet", "LLMInferenceService"}
# Fields KServe fills in when a manifest leaves them out, so their absence proves nothing:
# an LLMInferenceService's container `main` is merged with the well-known presets
# (LLMInferenceServiceConfig kserve-config-llm-*: vLLM command, probes, /dev/shm and cache
# mounts, a restricted securityContext; the router's pods also their resources).
LLM_PRESET_MAIN = frozenset({"command", "args", "image", "env", "ports", "lifecycle", "securityContext",
                             "livenessProbe", "readinessProbe", "startupProbe", "volumeMounts"})
LLM_PRESET_EXTRA = {"scheduler": frozenset({"resources"}), "tokenizer": frozenset({"resources"})}
# an InferenceService's `model:` (or shorthand) container is merged with its ServingRuntime's
KSERVE_MODEL_INHERITS = frozenset({"securityContext"})
# a ServingRuntime has no pod securityContext: the InferenceService that uses it sets it
RUNTIME_POD_INHERITS = frozenset({"securityContext"})


def is_gpu_resource(name: str) -> bool:
    return name in GPU_TAINT_KEYS or name.startswith(MIG_PREFIX)


def gpu_taint_key(resource: str) -> str | None:
    """The node taint a pod that requests `resource` must tolerate (None: not a GPU)."""
    return "nvidia.com/gpu" if resource.startswith(MIG_PREFIX) else GPU_TAINT_KEYS.get(resource)


def as_int(value: Any) -> int | None:
    try:
        number = float(str(value).strip())
    except (TypeError, ValueError):
        return None
    return int(number) if number.is_integer() else None


def mapping(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def seq(value: Any) -> list:
    return value if isinstance(value, list) else []


@dataclass
class Container:
    data: dict
    path: tuple
    init: bool = False
    runtime: str | None = None  # the server KServe runs for a `predictor.model` (by modelFormat)
    settings: Any = None  # lint.settings.Resolution: its engine settings document, resolved
    inherits: frozenset = frozenset()  # fields KServe supplies when absent (a preset, a runtime)

    @property
    def name(self) -> str:
        return str(self.data.get("name") or "kserve-container")

    @cached_property
    def server(self) -> ServerInfo | None:
        return detect_server(self.data, self.runtime)

    def resources(self, section: str) -> dict:
        return mapping(mapping(self.data.get("resources")).get(section))

    def gpus(self) -> int:
        """GPUs the container gets: its limits (the scheduler's view), else its requests."""
        for section in ("limits", "requests"):
            total = sum(as_int(v) or 0 for k, v in self.resources(section).items()
                        if is_gpu_resource(str(k)))
            if total:
                return total
        return 0

    def given(self, name: str) -> bool:
        """Whether the container has field `name`, written out or supplied by KServe."""
        return name in self.data or name in self.inherits

    def gpu_resources(self) -> list[str]:
        """The GPU resource names the container asks for (limits, then requests)."""
        names = [str(k) for s in ("limits", "requests") for k in self.resources(s) if is_gpu_resource(str(k))]
        return list(dict.fromkeys(names))

    def security(self) -> dict:
        return mapping(self.data.get("securityContext"))

    def mounts(self) -> list[dict]:
        return [m for m in seq(self.data.get("volumeMounts")) if isinstance(m, dict)]

    def env_literals(self) -> dict[str, str]:
        return {str(e.get("name")): str(e["value"]) for e in seq(self.data.get("env"))
                if isinstance(e, dict) and "value" in e and e.get("value") is not None}


@dataclass
class PodTemplate:
    obj: LintObject
    label: str
    spec: dict
    path: tuple
    containers: list[Container] = field(default_factory=list)
    init_containers: list[Container] = field(default_factory=list)
    inherits: frozenset = frozenset()  # pod fields set elsewhere (see RUNTIME_POD_INHERITS)

    @property
    def kind(self) -> str:
        return self.obj.kind

    @property
    def kserve(self) -> bool:
        return self.kind in KSERVE_KINDS

    @property
    def long_running(self) -> bool:
        return self.kind in LONG_RUNNING or self.kserve

    def gpus(self) -> int:
        return sum(c.gpus() for c in self.containers)

    def gpu_resources(self) -> list[str]:
        return list(dict.fromkeys(name for c in self.containers if c.gpus() for name in c.gpu_resources()))

    def security(self) -> dict:
        return mapping(self.spec.get("securityContext"))

    def volumes(self) -> dict[str, dict]:
        return {str(v.get("name")): v for v in seq(self.spec.get("volumes")) if isinstance(v, dict)}

    def group_size(self) -> int:
        """Pods per replica: a LeaderWorkerSet's `size`, 1 elsewhere."""
        if self.kind != "LeaderWorkerSet":
            return 1
        lwt = mapping(mapping(self.obj.data.get("spec")).get("leaderWorkerTemplate"))
        return as_int(lwt.get("size", 1)) or 1

    def worker_gpus(self) -> int:
        """GPUs of one worker pod of the same group (LWS), else of this pod."""
        if self.kind == "LeaderWorkerSet":
            lwt = mapping(mapping(self.obj.data.get("spec")).get("leaderWorkerTemplate"))
            worker = mapping(mapping(lwt.get("workerTemplate")).get("spec"))
            return sum(c.gpus() for c in _containers(worker, ("x",)))
        return self.gpus()


def _get(data: Any, path: tuple) -> Any:
    for part in path:
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data


def _containers(spec: dict, path: tuple, key: str = "containers") -> list[Container]:
    return [Container(c, path + (key, i), init=key == "initContainers")
            for i, c in enumerate(seq(spec.get(key))) if isinstance(c, dict)]


def _kserve_runtime(component: dict, key: str) -> str | None:
    """The server a `predictor.model` runs when its engine arguments are the model's `args`
    (profiles/servers/ with engineArgs): the named runtime's, else the server KServe picks
    for the model format (its built-in runtime first)."""
    from stackgen.catalog.servers import by_kserve_format, by_kserve_runtime

    spec = component[key]
    if spec.get("image"):
        return None  # a container of its own: recognised by image and command
    fmt = mapping(spec.get("modelFormat")).get("name") if key == "model" else key
    runtime = str(spec.get("runtime") or "")
    profile = by_kserve_runtime(runtime) if runtime else None
    if profile is None and runtime and not runtime.startswith("kserve-"):
        return None  # a runtime we do not know: its container is not ours to read
    profile = profile or by_kserve_format(str(fmt))
    return profile.id if profile is not None and profile.engine_args else None


def pod_templates(obj: LintObject) -> list[PodTemplate]:
    """Every pod template of `obj` (cached on the object: many rules ask)."""
    cached = getattr(obj, "_pods", None)
    if cached is not None:
        return cached
    pods: list[PodTemplate] = []
    for label, path in POD_SPECS.get(obj.kind, ()):
        spec = _get(obj.data, path)
        if label == "leader" and spec is None:
            continue  # LWS without a leaderTemplate: leaders use the worker template
        if not isinstance(spec, dict):
            continue
        pod = PodTemplate(obj, label, spec, path, _containers(spec, path),
                          _containers(spec, path, "initContainers"))
        if obj.kind == "InferenceService":
            pod.containers.extend(Container(spec[k], path + (k,), runtime=_kserve_runtime(spec, k),
                                            inherits=KSERVE_MODEL_INHERITS)
                                  for k in KSERVE_CONTAINER_KEYS if isinstance(spec.get(k), dict))
        elif obj.kind in ("ServingRuntime", "ClusterServingRuntime"):
            pod.inherits = RUNTIME_POD_INHERITS
        elif obj.kind == "LLMInferenceService":
            for c in pod.containers + pod.init_containers:
                if c.data.get("name") == "main":
                    c.inherits = LLM_PRESET_MAIN | LLM_PRESET_EXTRA.get(label, frozenset())
        pods.append(pod)
    obj._pods = pods  # type: ignore[attr-defined]
    return pods


def release(obj: LintObject) -> None:
    """Drop the pod templates cached on `obj` (they point back at it: a reference cycle
    that would keep the object's data and parse tree alive until the next collection)."""
    obj.__dict__.pop("_pods", None)
