"""Discover GPU node pools from the current kube-context (used by `stackgen init` as
defaults, never required): group nodes by their pool label and read the GPU model from
the labels the GPU operator and the cloud providers set."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from stackgen.catalog.providers import provider_ids, provider_profile
from stackgen.cluster.kube import ClusterError, Kube
from stackgen.errors import InputError
from stackgen.render.names import safe_name

#: Pool label of clusters whose provider has none (a common convention, not a standard).
GENERIC_POOL_LABEL = "node.kubernetes.io/pool"
SHARED_SUFFIX = "-SHARED"  # GPU feature discovery's product label on time-sliced GPUs


def pool_labels() -> dict[str, str]:
    """The label that names a node's pool, per provider (profiles/providers/*.yaml)."""
    labels = {p: provider_profile(p)["poolLabel"] for p in provider_ids()}
    return {p: label or GENERIC_POOL_LABEL for p, label in labels.items()}


def discover_pools(kubeconfig: str | None = None, context: str | None = None,
                   timeout: float = 3.0) -> tuple[str, list[dict[str, Any]]]:
    """Return (provider, pool answers) from the cluster's nodes; ("generic", []) when there
    is no kubeconfig, no cluster or no permission to list nodes: discovery is optional."""
    try:
        kube = Kube(kubeconfig, context, attempts=2, timeout=timeout)
        found = kube.request("GET", "/api/v1/nodes") or {}
    except (InputError, ClusterError):
        return "generic", []
    nodes = []
    for node in found.get("items") or []:
        meta, status = node.get("metadata") or {}, node.get("status") or {}
        nodes.append((meta.get("name", ""), meta.get("labels") or {}, status.get("allocatable") or {}))
    return pools_from_nodes(nodes)


def pools_from_nodes(nodes: list[tuple[str, dict, dict]]) -> tuple[str, list[dict[str, Any]]]:
    """Pure: (name, labels, allocatable) per node -> (provider, pool answers)."""
    provider, by_provider = _provider(nodes), pool_labels()
    groups: dict[str, list[tuple[dict, dict]]] = defaultdict(list)
    for name, labels, allocatable in nodes:
        pool = labels.get(by_provider[provider]) or labels.get(GENERIC_POOL_LABEL)
        groups[pool or _fallback_pool(labels)].append((labels, allocatable))
    pools = []
    for pool, members in sorted(groups.items()):
        labels, allocatable = members[0]
        gpu = gpu_for_labels(labels)
        gpus = _gpus_per_node(labels, allocatable)
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

    product = str(labels.get("nvidia.com/gpu.product", "")).removesuffix(SHARED_SUFFIX)
    for gpu in (resolve_gpu(i) for i in gpu_ids()):
        if product == gpu.product_label:
            return gpu
        for provider_labels in gpu.provider_labels.values():
            if provider_labels and all(labels.get(k) == v for k, v in provider_labels.items()):
                return gpu
    return None


def _gpus_per_node(labels: dict, allocatable: dict) -> int:
    """Physical GPUs: GFD's count label, else the advertised nvidia.com/gpu divided by the
    time-slicing replicas (a time-sliced node advertises GPUs x replicas)."""
    try:
        if labels.get("nvidia.com/gpu.count"):
            return int(labels["nvidia.com/gpu.count"])
        replicas = max(int(labels.get("nvidia.com/gpu.replicas") or 1), 1)
        return int(str(allocatable.get("nvidia.com/gpu", "0")) or 0) // replicas
    except ValueError:  # a label someone set by hand: no default rather than a wrong one
        return 0


#: When nodes carry several providers' pool labels, the first of these wins.
PREFERENCE = ("gke", "eks", "aks")


def _provider(nodes: list[tuple[str, dict, dict]]) -> str:
    by_provider = pool_labels()
    others = sorted(p for p in provider_ids() if p not in PREFERENCE and p != "generic")
    for provider in (*[p for p in PREFERENCE if p in by_provider], *others):
        if any(by_provider[provider] in labels for _, labels, _ in nodes):
            return provider
    return "generic"


def _fallback_pool(labels: dict) -> str:
    product = labels.get("nvidia.com/gpu.product") or labels.get(
        "node.kubernetes.io/instance-type") or "cpu"
    return product.lower()

