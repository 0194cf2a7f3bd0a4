"""GPU scheduling: requests vs limits, tolerations, node selection."""

from __future__ import annotations

from typing import Iterator

from stackgen.lint.model import Hit
from stackgen.lint.registry import rule
from stackgen.lint.workloads import (GPU_TAINT_KEYS, WORKLOAD_KINDS, PodTemplate, as_int, gpu_taint_key,
                                     is_gpu_resource, mapping, seq)

VENDOR_TAINTS = frozenset(GPU_TAINT_KEYS.values())


@rule("SG101", "gpu-request-limit-mismatch", "error", kinds=WORKLOAD_KINDS,
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


def _tolerates(pod: PodTemplate, taint: str) -> bool:
    """Whether a toleration of `pod` lets it onto nodes tainted `taint` (a GPU vendor's key)."""
    for tol in seq(pod.spec.get("tolerations")):
        tol = mapping(tol)
        key = str(tol.get("key") or "")
        if not key and tol.get("operator") == "Exists":
            return True  # tolerates every taint
        if key == taint:
            return True
        # a vendor-neutral GPU taint: AKS's sku=gpu, GKE's cloud.google.com/gke-accelerator...
        mentions = f"{key}={tol.get('value') or ''}".lower()
        if key not in VENDOR_TAINTS and ("gpu" in mentions or "accelerator" in mentions):
            return True
    return False


def _toleration_fix(taints: list[str]) -> str:
    items = ", ".join(f"{{key: {t}, operator: Exists, effect: NoSchedule}}" for t in taints)
    return f"Add `tolerations: [{items}]` to the pod spec (the taint of its GPU node pool)."


@rule("SG102", "gpu-missing-toleration", "warning", kinds=WORKLOAD_KINDS,
      description="A pod that uses GPUs has no toleration for the taint of the GPU nodes it needs.",
      anti_pattern="GPU node pools are tainted with the GPU resource's name (e.g. "
                   "`nvidia.com/gpu=present:NoSchedule` on GKE, AKS and most self-managed "
                   "clusters, `amd.com/gpu` on AMD pools); a GPU pod without a matching "
                   "toleration stays Pending with 'untolerated taint' (an `nvidia.com/gpu` "
                   "toleration does not let an `amd.com/gpu` pod onto AMD nodes).",
      best_practice="Tolerate the GPU taint of your node pools explicitly, even where an "
                    "admission plugin may add it for you.",
      remediation="Add a toleration for the taint of the GPU resource the pod requests, e.g. "
                  "`tolerations: [{key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}]` "
                  "for nvidia.com/gpu and MIG slices (amd.com/gpu, gpu.intel.com/i915, "
                  "habana.ai/gaudi for those); each finding names its key.")
def gpu_missing_toleration(pod: PodTemplate, ctx: dict) -> Iterator[Hit]:
    gpus = pod.gpus()
    if not gpus:
        return
    resources = pod.gpu_resources()
    taints = list(dict.fromkeys(t for t in map(gpu_taint_key, resources) if t))
    missing = [t for t in taints if not _tolerates(pod, t)]
    if missing:
        where = pod.path + ("tolerations",) if "tolerations" in pod.spec else _gpu_path(pod)
        yield Hit(where, f"{pod.label} uses {gpus} GPU(s) ({', '.join(resources)}) but tolerates "
                         f"no {' or '.join(missing)} taint", _toleration_fix(missing))


def _gpu_path(pod: PodTemplate) -> tuple:
    for c in pod.containers:
        if c.gpus():
            section = "limits" if c.resources("limits") else "requests"
            name = next((k for k in c.resources(section) if is_gpu_resource(str(k))), None)
            return c.path + ("resources", section, name) if name else c.path
    return pod.path


@rule("SG103", "gpu-node-selection-missing", "warning", kinds=WORKLOAD_KINDS,
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
