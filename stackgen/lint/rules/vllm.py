"""vLLM specifics: parallelism vs GPUs, and the VLLM_PORT service-link clash."""

from __future__ import annotations

from typing import Iterator

from stackgen.lint.model import Hit
from stackgen.lint.registry import rule
from stackgen.lint.rules._util import VLLM_LIKE, arg_path, get, servers
from stackgen.lint.workloads import Container, PodTemplate, mapping

KINDS = ("Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob",
         "LeaderWorkerSet", "InferenceService", "ServingRuntime", "ClusterServingRuntime")


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


@rule("SG104", "tp-exceeds-gpus", "error", kinds=KINDS,
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
    for c in servers(pod, VLLM_LIKE):
        world, gpus = _world(c), _available(pod, c)
        if world and world > 1 and gpus and world > gpus:
            tp = c.server.options.get("tensor-parallel-size", 1)
            yield Hit(arg_path(c, "tensor-parallel", "tensor_parallel", "-tp"),
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


