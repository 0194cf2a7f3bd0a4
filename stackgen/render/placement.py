"""GPU node-pool placement: nodeSelector, tolerations and affinity per provider, and the
node labels/taints a pool's nodes carry (the sandbox's kwok nodes use the same table)."""

from __future__ import annotations

from functools import cache
from typing import Any

from stackgen.catalog import resolve_gpu
from stackgen.resources import profiles_dir
from stackgen.spec.models import NodePool


@cache
def provider_profile(provider: str) -> dict[str, Any]:
    from ruamel.yaml import YAML

    path = profiles_dir() / "providers" / f"{provider}.yaml"
    return YAML(typ="safe").load(path.read_text())


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
            selector["nvidia.com/gpu.product"] = gpu.product_label
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


def node_template(pool: NodePool, provider: str) -> dict[str, Any]:
    """Labels, taints and allocatable resources that nodes of this pool carry."""
    prof = provider_profile(provider)
    labels: dict[str, str] = {}
    if prof["poolLabel"]:
        labels[prof["poolLabel"]] = pool.name
    # defaults in line with cloud GPU instances: ~12 vCPUs and 128 GiB per GPU
    cpu = pool.cpu_per_node or max(32, 12 * pool.gpus)
    memory = pool.memory_gib_per_node or max(256, 128 * pool.gpus)
    allocatable: dict[str, str] = {"cpu": str(int(cpu)), "memory": f"{int(memory)}Gi",
                                   "pods": "110"}
    if pool.is_gpu:
        gpu = resolve_gpu(pool.gpu)
        labels.update(prof["gpuNodeLabels"])
        labels["nvidia.com/gpu.product"] = gpu.product_label
        labels["nvidia.com/gpu.present"] = "true"
        labels.update(gpu.provider_labels.get(provider, {}) if provider == "gke" else {})
        count = pool.gpus * (pool.time_slicing or 1)
        if pool.mig:
            allocatable[f"nvidia.com/mig-{pool.mig}"] = str(count)
        else:
            allocatable["nvidia.com/gpu"] = str(count)
    labels.update(pool.labels)
    return {"labels": labels, "taints": pool_taints(pool, provider), "allocatable": allocatable}
