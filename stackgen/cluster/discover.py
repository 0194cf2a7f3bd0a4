"""Discover GPU node pools from the current kube-context (used by `stackgen init` as
defaults, never required): group nodes by their pool label and read the GPU model from
the labels the GPU operator and the cloud providers set."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from stackgen.render.names import safe_name

#: Node labels that name a node's pool, per provider.
POOL_LABELS = {
    "gke": "cloud.google.com/gke-nodepool",
    "eks": "eks.amazonaws.com/nodegroup",
    "aks": "kubernetes.azure.com/agentpool",
    "generic": "node.kubernetes.io/pool",
}


def discover_pools(kubeconfig: str | None = None, context: str | None = None,
                   timeout: float = 3.0) -> tuple[str, list[dict[str, Any]]]:
    """Return (provider, pool answers) from the cluster's nodes; ([]) when unreachable."""
    try:
        from kubernetes import client, config

        api = config.new_client_from_config(config_file=kubeconfig, context=context)
        nodes = client.CoreV1Api(api).list_node(_request_timeout=timeout).items
    except Exception:  # no kubeconfig, no cluster, no permission: discovery is optional
        return "generic", []
    return pools_from_nodes([(n.metadata.name, n.metadata.labels or {},
                              (n.status.allocatable or {}) if n.status else {}) for n in nodes])


def pools_from_nodes(nodes: list[tuple[str, dict, dict]]) -> tuple[str, list[dict[str, Any]]]:
    """Pure: (name, labels, allocatable) per node -> (provider, pool answers)."""
    provider = _provider(nodes)
    groups: dict[str, list[tuple[dict, dict]]] = defaultdict(list)
    for name, labels, allocatable in nodes:
        pool = labels.get(POOL_LABELS[provider]) or labels.get(POOL_LABELS["generic"])
        groups[pool or _fallback_pool(labels)].append((labels, allocatable))
    pools = []
    for pool, members in sorted(groups.items()):
        labels, allocatable = members[0]
        gpu = gpu_for_labels(labels)
        gpus = int(str(allocatable.get("nvidia.com/gpu", "0")) or 0)
        entry: dict[str, Any] = {"name": safe_name(pool), "gpu": gpu.id if gpu else "none",
                                 "nodes": len(members)}
        if gpu:
            entry["gpusPerNode"] = gpus or 1
        elif gpus:
            continue  # a GPU we do not know: better no default than a wrong one
        pools.append(entry)
    return provider, pools


def gpu_for_labels(labels: dict):
    """The catalog GPU a node's labels name (GPU operator product label or provider label)."""
    from stackgen.catalog import gpu_ids, resolve_gpu

    for gpu in (resolve_gpu(i) for i in gpu_ids()):
        if labels.get("nvidia.com/gpu.product") == gpu.product_label:
            return gpu
        for provider_labels in gpu.provider_labels.values():
            if provider_labels and all(labels.get(k) == v for k, v in provider_labels.items()):
                return gpu
    return None


def _provider(nodes: list[tuple[str, dict, dict]]) -> str:
    for provider in ("gke", "eks", "aks"):
        if any(POOL_LABELS[provider] in labels for _, labels, _ in nodes):
            return provider
    return "generic"


def _fallback_pool(labels: dict) -> str:
    product = labels.get("nvidia.com/gpu.product") or labels.get(
        "node.kubernetes.io/instance-type") or "cpu"
    return product.lower()

