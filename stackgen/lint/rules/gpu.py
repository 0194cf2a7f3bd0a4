"""GPU scheduling: requests vs limits, tolerations, node selection."""

from __future__ import annotations

from typing import Iterator

from stackgen.lint.model import Hit
from stackgen.lint.registry import rule
from stackgen.lint.workloads import PodTemplate, as_int, is_gpu_resource, mapping, seq

POD_KINDS = ("Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob",
             "LeaderWorkerSet", "InferenceService", "ServingRuntime", "ClusterServingRuntime")


@rule("SG101", "gpu-request-limit-mismatch", "error", kinds=POD_KINDS,
      description="A GPU resource is requested without an equal limit.",
      anti_pattern="`requests: {nvidia.com/gpu: 1}` with no limit, or a limit of 2 with a "
                   "request of 1: extended resources cannot be overcommitted, so the API "
                   "server rejects the pod (or the controller never creates it).",
      best_practice="Set GPUs in `limits` (requests default to limits), as a whole number.",
      remediation="Put the same whole number of GPUs in resources.limits (and requests, if set).")
def gpu_request_limit_mismatch(pod: PodTemplate, ctx: dict) -> Iterator[Hit]:
    for c in pod.containers + pod.init_containers:
        requests, limits = c.resources("requests"), c.resources("limits")
        for name in [k for k in {**requests, **limits} if is_gpu_resource(str(k))]:
            section = "requests" if name in requests else "limits"
            path = c.path + ("resources", section, name)
            value = requests.get(name, limits.get(name))
            if as_int(value) is None:
                yield Hit(path, f"container {c.name}: {name} is {value!r}; GPUs come in whole numbers")
            elif name not in limits:
                yield Hit(path, f"container {c.name} requests {value} {name} but sets no limit; "
                                "extended resources need a limit equal to the request")
            elif name in requests and as_int(requests[name]) != as_int(limits[name]):
                yield Hit(path, f"container {c.name} requests {requests[name]} {name} but its "
                                f"limit is {limits[name]}; they must be equal")


def _tolerates_gpu(pod: PodTemplate) -> bool:
    for tol in seq(pod.spec.get("tolerations")):
        tol = mapping(tol)
        key = str(tol.get("key") or "")
        # nvidia.com/gpu, amd.com/gpu, AKS's sku=gpu, GKE's cloud.google.com/gke-accelerator...
        mentions = f"{key}={tol.get('value') or ''}".lower()
        if (not key and tol.get("operator") == "Exists") or "gpu" in mentions or "accelerator" in mentions:
            return True
    return False


@rule("SG102", "gpu-missing-toleration", "warning", kinds=POD_KINDS,
      description="A pod that uses GPUs has no toleration for the GPU node taint.",
      anti_pattern="GPU node pools are tainted (e.g. `nvidia.com/gpu=present:NoSchedule` on "
                   "GKE, AKS and most self-managed clusters); a GPU pod without a matching "
                   "toleration stays Pending with 'untolerated taint'.",
      best_practice="Tolerate the GPU taint of your node pools explicitly, even where an "
                    "admission plugin may add it for you.",
      remediation="Add `tolerations: [{key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}]` "
                  "to the pod spec.")
def gpu_missing_toleration(pod: PodTemplate, ctx: dict) -> Iterator[Hit]:
    gpus = pod.gpus()
    if gpus and not _tolerates_gpu(pod):
        where = pod.path + ("tolerations",) if "tolerations" in pod.spec else _gpu_path(pod)
        yield Hit(where, f"{pod.label} uses {gpus} GPU(s) but tolerates no GPU taint")


def _gpu_path(pod: PodTemplate) -> tuple:
    for c in pod.containers:
        if c.gpus():
            section = "limits" if c.resources("limits") else "requests"
            name = next((k for k in c.resources(section) if is_gpu_resource(str(k))), None)
            return c.path + ("resources", section, name) if name else c.path
    return pod.path


@rule("SG103", "gpu-node-selection-missing", "warning", kinds=POD_KINDS,
      description="A pod that uses GPUs does not say which GPU nodes it needs.",
      anti_pattern="No nodeSelector or node affinity: the pod lands on whichever GPU node "
                   "has room, e.g. a 24 GB L4 instead of the 80 GB H100 the model was sized "
                   "for, and fails with CUDA out of memory.",
      best_practice="Select the GPU type with a node label (`nvidia.com/gpu.product`, "
                    "`cloud.google.com/gke-accelerator`, `node.kubernetes.io/instance-type`).",
      remediation="Add a nodeSelector (or required node affinity) on the GPU model label of your nodes.")
def gpu_node_selection_missing(pod: PodTemplate, ctx: dict) -> Iterator[Hit]:
    gpus = pod.gpus()
    if not gpus:
        return
    affinity = mapping(mapping(pod.spec.get("affinity")).get("nodeAffinity"))
    if mapping(pod.spec.get("nodeSelector")) or affinity:
        return
    yield Hit(_gpu_path(pod), f"{pod.label} uses {gpus} GPU(s) but has no nodeSelector or node affinity")
