"""GPU node-pool placement of pods: nodeSelector, tolerations and affinity per provider.

Only the pod side lives here. The nodes a pool's pods land on (the sandbox's kwok nodes)
are built in stackgen.cluster.stack_nodes from the same data tables but not from this
code, so a selector that names a label the provider's nodes lack fails a test.
"""

from __future__ import annotations

from typing import Any

from stackgen.catalog import resolve_gpu
from stackgen.catalog.providers import provider_profile
from stackgen.spec.models import NodePool

#: GPU feature discovery appends this to nvidia.com/gpu.product on time-sliced GPUs (the
#: device plugin's sharing.timeSlicing without renameByDefault; k8s-device-plugin
#: internal/lm/resource.go productLabel).
SHARED_SUFFIX = "-SHARED"


def pool_taints(pool: NodePool, provider: str) -> list[dict[str, str]]:
    """The pool's taints: as described in the stack file, else the provider's GPU default."""
    if pool.taints is not None:
        return [t.model_dump(exclude_none=True) for t in pool.taints]
    return [dict(t) for t in provider_profile(provider)["defaultGpuTaints"]] if pool.is_gpu else []


def pool_selector(pool: NodePool, provider: str) -> dict[str, str]:
    """nodeSelector that picks exactly this pool's nodes. Labels given in the stack win."""
    if pool.labels:
        return dict(pool.labels)
    prof = provider_profile(provider)
    selector: dict[str, str] = {}
    if prof["poolLabel"]:
        selector[prof["poolLabel"]] = pool.name
    if pool.is_gpu:
        gpu = resolve_gpu(pool.gpu)
        if prof["selectGpuBy"] == "product":
            shared = SHARED_SUFFIX if pool.time_slicing and pool.time_slicing > 1 else ""
            selector["nvidia.com/gpu.product"] = gpu.product_label + shared
        elif prof["selectGpuBy"] == "provider":
            selector.update(gpu.provider_labels.get(provider, {}))
    return selector


def tolerations(taints: list[dict[str, str]]) -> list[dict[str, str]]:
    out = []
    for taint in taints:
        tol = {"key": taint["key"], "effect": taint.get("effect", "NoSchedule")}
        if taint.get("value") is not None:
            tol.update(operator="Equal", value=taint["value"])
        else:
            tol["operator"] = "Exists"
        out.append(tol)
    return out


def no_gpu_affinity(provider: str) -> dict[str, Any]:
    """Required node affinity that keeps a CPU-only pod off every GPU node."""
    exprs = [{"key": key, "operator": "DoesNotExist"}
             for key in provider_profile(provider)["gpuPresenceLabels"]]
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchExpressions": exprs}]}}}


def pod_placement(pool: NodePool | None, provider: str) -> dict[str, Any]:
    """nodeSelector / tolerations / affinity for a pod on `pool` (None: no pools described)."""
    if pool is None:
        return {}
    out: dict[str, Any] = {}
    selector = pool_selector(pool, provider)
    if selector:
        out["nodeSelector"] = selector
    if pool.is_gpu:
        tols = tolerations(pool_taints(pool, provider))
        if tols:
            out["tolerations"] = tols
    else:
        out["affinity"] = no_gpu_affinity(provider)
    return out
