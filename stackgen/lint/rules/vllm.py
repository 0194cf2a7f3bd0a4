"""vLLM specifics: parallelism vs GPUs, and the VLLM_PORT service-link clash."""

from __future__ import annotations

from typing import Iterator

from stackgen.lint.model import Hit
from stackgen.lint.registry import rule
from stackgen.lint.rules._util import vllm_like, arg_path, get, servers
from stackgen.lint.workloads import SPELLED_OUT_KINDS, Container, PodTemplate, mapping



def _world(c: Container) -> int | None:
    world = c.server.world_size()
    dp = c.server.int_option("data-parallel-size-local", 0) or c.server.int_option("data-parallel-size")
    return None if world is None or dp is None else world * dp


def _available(pod: PodTemplate, c: Container) -> int:
    """GPUs the engine can use: the container's, or a whole LeaderWorkerSet group's."""
    size = pod.group_size()
    if pod.kind != "LeaderWorkerSet" or size <= 1:
        return c.gpus()
    return c.gpus() + (size - 1) * pod.worker_gpus()


@rule("SG104", "tp-exceeds-gpus", "error", kinds=SPELLED_OUT_KINDS,
      description="vLLM is asked for more GPUs (tensor x pipeline x data parallel) than its "
                  "pod (or LeaderWorkerSet group) has.",
      anti_pattern="`--tensor-parallel-size 8` with `nvidia.com/gpu: 4`: vLLM waits for GPUs "
                   "that never appear, or fails at start with a Ray placement-group error.",
      best_practice="Request TP x PP GPUs per pod; across nodes (LeaderWorkerSet) keep TP within "
                    "one pod's GPUs and use PP for the nodes.",
      remediation="Make the GPU limit equal to TP x PP (x DP), or lower the parallel sizes.")
def tp_exceeds_gpus(pod: PodTemplate, ctx: dict) -> Iterator[Hit]:
    if pod.kind == "InferenceService" and "workerSpec" in mapping(get(pod.obj.data, "spec", "predictor")):
        return  # multi-node KServe: the worker spec's GPUs are added by KServe itself
    for c in servers(pod, vllm_like()):
        world, gpus = _world(c), _available(pod, c)
        if world and world > 1 and gpus and world > gpus:
            tp = c.server.options.get("tensor-parallel-size", 1)
            where = arg_path(c, "tensor-parallel", "tensor_parallel", "-tp")
            if c.settings is not None and c.settings.source and where[-1] in ("args", "name"):
                where = c.settings.where  # the TP is in its engine settings, not its args
            yield Hit(where,
                      f"container {c.name} runs vLLM with TP={tp} (x PP x DP = {world} GPUs) but "
                      f"{'the group has' if pod.group_size() > 1 else 'has'} {gpus} GPU(s)")


@rule("SG701", "vllm-service-links", "warning",
      kinds=("Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "LeaderWorkerSet"),
      description="A vLLM pod keeps Kubernetes service links (enableServiceLinks defaults to true).",
      anti_pattern="A Service named `vllm` in the namespace makes the kubelet inject "
                   "`VLLM_PORT=tcp://10.0.0.1:8000` into every pod; vLLM reads VLLM_PORT as its "
                   "own setting and refuses to start ('VLLM_PORT ... appears to be a URI').",
      best_practice="Set `enableServiceLinks: false` on vLLM pods (nothing needs the legacy "
                    "*_SERVICE_HOST variables), and do not name a Service `vllm`.",
      remediation="Add `enableServiceLinks: false` to the pod spec.")
def vllm_service_links(pod: PodTemplate, ctx: dict) -> Iterator[Hit]:
    if pod.spec.get("enableServiceLinks") is False:
        return
    for c in servers(pod, ("vllm",)):
        where = pod.path + ("enableServiceLinks",) if "enableServiceLinks" in pod.spec else c.path + ("name",)
        yield Hit(where, f"vLLM container {c.name} runs with service links enabled")
        return




@rule("SG105", "engine-settings-invalid", "error", kinds=SPELLED_OUT_KINDS,
      description="stackgen-runtime's engine settings (the ConfigMap it mounts, or "
                  "STACKGEN_ENGINE_SETTINGS) break the engine settings contract.",
      anti_pattern="An edited engine.yaml with `tensorParallelSize: 0`, an unknown key or a "
                   "typo in a value: the pod starts, stackgen-runtime refuses the document and "
                   "exits 2, and the Deployment sits in CrashLoopBackOff.",
      best_practice="Change engine settings in the stack file and re-render, or check edits "
                    "against docs/runtime.md (the schema).",
      remediation="Fix the field the message names (docs/runtime.md lists the keys and values).")
def engine_settings_invalid(pod: PodTemplate, ctx: dict) -> Iterator[Hit]:
    return _settings_problems(pod, fatal=True)


@rule("SG106", "engine-settings-unresolved", "info", kinds=SPELLED_OUT_KINDS,
      description="stackgen-runtime's engine settings could not be found among the linted "
                  "files, so its parallelism and context length were not checked.",
      anti_pattern="Linting a Deployment without the ConfigMap it mounts: TP 8 on a 1-GPU pod "
                   "lints clean because the TP is in the ConfigMap, not on the command line.",
      best_practice="Lint the whole rendered folder (the ConfigMaps sit in models/<name>/).",
      remediation="Pass the ConfigMap's file (or its folder) to `stackgen lint` as well.")
def engine_settings_unresolved(pod: PodTemplate, ctx: dict) -> Iterator[Hit]:
    return _settings_problems(pod, fatal=False)


def _settings_problems(pod: PodTemplate, fatal: bool) -> Iterator[Hit]:
    """What lint.settings could not do with a container's engine settings: a document that
    breaks the contract (fatal) or one it could not find."""
    for c in servers(pod, vllm_like()):
        if c.settings is not None and c.settings.problem and c.settings.fatal == fatal:
            yield Hit(c.settings.where, f"container {c.name}: {c.settings.problem}")
