"""Simulated nodes for a stack's node pools: the same labels, taints and GPU resources
that render's placement selects, so a sandbox schedules rendered stacks unmodified."""

from __future__ import annotations

from stackgen.cluster.kwok_nodes import NodePool as KwokPool
from stackgen.render.placement import node_template
from stackgen.spec.models import Stack


def kwok_pools(stack: Stack) -> list[KwokPool]:
    provider = stack.spec.cluster.provider
    pools = []
    for pool in stack.spec.cluster.node_pools:
        tpl = node_template(pool, provider)
        alloc = tpl["allocatable"]
        mig = {k: int(v) for k, v in alloc.items() if k.startswith("nvidia.com/mig-")}
        pools.append(KwokPool(
            name=pool.name, count=pool.nodes,
            gpu_product=tpl["labels"].get("nvidia.com/gpu.product"),
            gpus=int(alloc.get("nvidia.com/gpu", 0)), mig=mig, cpu=alloc["cpu"],
            memory=alloc["memory"], labels=tpl["labels"], taints=tuple(tpl["taints"])))
    return pools


def sandbox_volumes(count: int = 16, size_gi: int = 4096) -> list[dict]:
    """Pre-provisioned PersistentVolumes (no class, both access modes) so that the rendered
    model-cache claims bind through the real PV controller, as a provisioner would."""
    return [{"apiVersion": "v1", "kind": "PersistentVolume",
             "metadata": {"name": f"stackgen-sandbox-pv-{i:02d}",
                          "labels": {"app.kubernetes.io/managed-by": "stackgen-sandbox"}},
             "spec": {"capacity": {"storage": f"{size_gi}Gi"},
                      "accessModes": ["ReadWriteOnce", "ReadWriteMany"],
                      "persistentVolumeReclaimPolicy": "Delete",
                      "hostPath": {"path": f"/var/lib/stackgen-sandbox/pv-{i:02d}"}}}
            for i in range(count)]


def add_sandbox_volumes(kubeconfig: str, count: int = 16) -> None:
    from stackgen.cluster.kube import Kube

    kube = Kube(kubeconfig)
    for pv in sandbox_volumes(count):
        kube.request("PATCH", f"/api/v1/persistentvolumes/{pv['metadata']['name']}", pv,
                     {"fieldManager": "stackgen-sandbox", "force": "true"},
                     "application/apply-patch+yaml")
