"""Simulated nodes for a stack's node pools, built like the provider's real nodes.

The labels, taints and resources come from the data tables only: the provider's
conventions (profiles/providers/*.yaml: poolLabel, gpuNodeLabels, defaultGpuTaints), the
GPU catalog (the GPU feature discovery product label and each provider's labels) and the
device plugin's resources (stackgen.capacity). Never from render's placement code: a
sandbox whose nodes were built by the code that writes pod selectors would schedule a
wrong selector just as happily as a right one. Real nodes carry every label that applies,
not only the ones a selector needs, and so do these.
"""

from __future__ import annotations

from stackgen import capacity
from stackgen.catalog import resolve_gpu
from stackgen.catalog.providers import provider_profile
from stackgen.cluster.kwok_nodes import NodePool as KwokPool
from stackgen.spec.models import NodePool, Stack

#: Cloud GPU instances have about this much per GPU (a p5.48xlarge: 192 vCPUs and 2 TiB
#: for 8 H100s; an a3-highgpu-8g: 208 vCPUs and 1.8 TiB); CPU nodes get the floor.
CPU_PER_GPU, MEMORY_GIB_PER_GPU = 12, 128
MIN_CPU, MIN_MEMORY_GIB = 32, 256


def node_labels(pool: NodePool, provider: str) -> dict[str, str]:
    """The provider's labels on a node of `pool` (the GPU feature discovery labels are
    added by kwok_nodes), then the pool's own labels, which win."""
    prof = provider_profile(provider)
    labels: dict[str, str] = {}
    if prof["poolLabel"]:
        labels[prof["poolLabel"]] = pool.name
    if pool.is_gpu:
        labels.update(prof["gpuNodeLabels"])
        labels.update(resolve_gpu(pool.gpu).provider_labels.get(provider, {}))
    labels.update(pool.labels)
    return labels


def node_taints(pool: NodePool, provider: str) -> list[dict[str, str]]:
    """The taints the stack file gives, else the provider's default on GPU pools."""
    if pool.taints is not None:
        return [t.model_dump(exclude_none=True) for t in pool.taints]
    return [dict(t) for t in provider_profile(provider)["defaultGpuTaints"]] if pool.is_gpu else []


def kwok_pool(pool: NodePool, provider: str) -> KwokPool:
    gpu = resolve_gpu(pool.gpu) if pool.is_gpu else None
    cpu = pool.cpu_per_node or max(MIN_CPU, CPU_PER_GPU * pool.gpus)
    memory = pool.memory_gib_per_node or max(MIN_MEMORY_GIB, MEMORY_GIB_PER_GPU * pool.gpus)
    mig = {capacity.mig_resource(pool.mig): capacity.pool_units_per_node(pool)} if gpu and pool.mig else {}
    return KwokPool(
        name=pool.name, count=pool.nodes, gpu_product=gpu.product_label if gpu else None,
        gpus=pool.gpus, time_slicing=pool.time_slicing or 1, mig=mig, cpu=str(int(cpu)),
        memory=f"{int(memory)}Gi", labels=node_labels(pool, provider),
        taints=tuple(node_taints(pool, provider)))


def kwok_pools(stack: Stack) -> list[KwokPool]:
    return [kwok_pool(p, stack.spec.cluster.provider) for p in stack.spec.cluster.node_pools]


def storage_classes(stack: Stack) -> set[str | None]:
    """The storage classes the stack's claims may name, from the data tables (the stack
    file's spec.render.storageClass, else the provider's ReadWriteMany class), plus None
    for the cluster's default: the sandbox serves volumes for each."""
    from stackgen.catalog.providers import provider_profile

    named = stack.spec.render.storage_class
    rwx = provider_profile(stack.spec.cluster.provider)["rwxStorageClass"]
    return {None, named} if named else {None, rwx}


def sandbox_volumes(count: int = 16, size_gi: int = 4096,
                    storage_class: str | None = None) -> list[dict]:
    """Pre-provisioned PersistentVolumes (both access modes; of `storage_class`, or of no
    class) so that the rendered model-cache claims bind through the real PV controller, as a
    provisioner would."""
    prefix = f"stackgen-sandbox-{storage_class}-pv" if storage_class else "stackgen-sandbox-pv"
    return [{"apiVersion": "v1", "kind": "PersistentVolume",
             "metadata": {"name": f"{prefix}-{i:02d}",
                          "labels": {"app.kubernetes.io/managed-by": "stackgen-sandbox"}},
             "spec": {"capacity": {"storage": f"{size_gi}Gi"},
                      "accessModes": ["ReadWriteOnce", "ReadWriteMany"],
                      "persistentVolumeReclaimPolicy": "Delete",
                      **({"storageClassName": storage_class} if storage_class else {}),
                      "hostPath": {"path": f"/var/lib/{prefix}-{i:02d}"}}}
            for i in range(count)]


def add_sandbox_volumes(kubeconfig: str, count: int = 16,
                        classes: set[str | None] | frozenset = frozenset({None})) -> None:
    from stackgen.cluster.kube import APPLY_PATCH, Kube

    kube = Kube(kubeconfig)
    for storage_class in sorted(classes, key=lambda c: c or ""):
        for pv in sandbox_volumes(count, storage_class=storage_class):
            kube.request("PATCH", f"/api/v1/persistentvolumes/{pv['metadata']['name']}", pv,
                         {"fieldManager": "stackgen-sandbox", "force": "true"}, APPLY_PATCH)
