"""Fake GPU nodes for the local control plane, simulated by kwok.

A `NodePool` says how many nodes to make and what they offer: GPU product, GPUs (whole,
time-sliced or MIG-partitioned), CPU, memory, extra labels and taints. The GPU labels and
resources are those the NVIDIA device plugin and GPU feature discovery (GFD) publish on a
real node (k8s-device-plugin docs/gpu-feature-discovery/README.md, internal/lm/). Every
node carries kwok's conventions (annotation `kwok.x-k8s.io/node: fake`, label `type: kwok`)
so the kwok controller owns it; kube-scheduler then places pods on it like on any other node.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from stackgen import capacity
from stackgen.errors import InputError

if TYPE_CHECKING:
    from stackgen.cluster.kube import Kube

KWOK_ANNOTATION = "kwok.x-k8s.io/node"
POOL_LABEL = "stackgen.dev/node-pool"
GPU_RESOURCE = capacity.GPU_RESOURCE
SHARED_SUFFIX = "-SHARED"  # GFD's product label on time-sliced GPUs (internal/lm/resource.go)
_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
_NOT_READY_TAINTS = ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable")
_ALIASES = {"nodes": "count", "gpusPerNode": "gpus", "gpuProduct": "gpu_product",
            "kwokTaint": "kwok_taint", "timeSlicing": "time_slicing"}


@dataclass(frozen=True)
class NodePool:
    """`count` kwok nodes named `<name>-0`, `<name>-1`, ...

    gpu_product: the GPU model as GFD writes it (`nvidia.com/gpu.product`, e.g.
    `NVIDIA-H100-80GB-HBM3`). gpus: GPUs per node, advertised as `nvidia.com/gpu` times
    `time_slicing` (the device plugin's replicas; GFD then labels the product `...-SHARED`
    and sets `nvidia.com/gpu.replicas`). mig: MIG resources per node, e.g.
    `{"nvidia.com/mig-1g.10gb": 56}` (mixed strategy: MIG-enabled GPUs are advertised only
    as their instances, so a pool with mig advertises no `nvidia.com/gpu`). labels override
    the defaults; taints are k8s taint objects. kwok_taint adds kwok's own
    `kwok.x-k8s.io/node=fake:NoSchedule` taint (off by default: in a sandbox every node is
    fake, and rendered stacks must schedule unmodified).
    """

    name: str
    count: int = 1
    gpu_product: str | None = None
    gpus: int = 0
    time_slicing: int = 1
    mig: Mapping[str, int] = field(default_factory=dict)
    cpu: str = "32"
    memory: str = "256Gi"
    pods: int = 110
    labels: Mapping[str, str] = field(default_factory=dict)
    taints: tuple[Mapping[str, str], ...] = ()
    kwok_taint: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "taints", tuple(self.taints))
        if self.count < 0 or self.gpus < 0 or self.time_slicing < 1:
            raise InputError("count and gpus must not be negative, time_slicing at least 1",
                             field=f"nodePools.{self.name}")
        if self.mig and self.time_slicing > 1:
            raise InputError("a pool is either MIG-partitioned or time-sliced, not both",
                             field=f"nodePools.{self.name}")
        for i, taint in enumerate(self.taints):
            if "key" not in taint or taint.get("effect") not in _EFFECTS:
                raise InputError(
                    f"taint {dict(taint)} needs a key and an effect in {', '.join(_EFFECTS)}",
                    field=f"nodePools.{self.name}.taints[{i}]")


def as_pool(value: NodePool | Mapping[str, Any]) -> NodePool:
    """A NodePool from itself or a dict (snake_case or the stack file's camelCase keys)."""
    if isinstance(value, NodePool):
        return value
    data = {_ALIASES.get(k, k): v for k, v in value.items()}
    known = set(NodePool.__dataclass_fields__)
    unknown = sorted(set(data) - known)
    if unknown:
        raise InputError(f"unknown node pool keys {unknown}; expected some of {sorted(known)}",
                         field=f"nodePools.{value.get('name', '?')}")
    return NodePool(**data)


def node_labels(pool: NodePool, node: str) -> dict[str, str]:
    labels = {
        "kubernetes.io/hostname": node, "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64", "type": "kwok", POOL_LABEL: pool.name,
    }
    if pool.gpus or pool.mig:
        labels["nvidia.com/gpu.present"] = "true"
        labels["nvidia.com/gpu.count"] = str(pool.gpus)
    if pool.gpu_product:
        shared = SHARED_SUFFIX if pool.time_slicing > 1 and not pool.mig else ""
        labels["nvidia.com/gpu.product"] = pool.gpu_product + shared
    if pool.time_slicing > 1:
        labels["nvidia.com/gpu.replicas"] = str(pool.time_slicing)
    if pool.mig:
        labels["nvidia.com/mig.strategy"] = "mixed"
    for resource, count in pool.mig.items():  # e.g. nvidia.com/mig-1g.10gb.count
        labels[f"{resource}.count"] = str(count)
        if pool.gpu_product:
            labels[f"{resource}.product"] = f"{pool.gpu_product}-MIG-{resource.split('mig-', 1)[-1]}"
    labels.update(pool.labels)
    return labels


def node_resources(pool: NodePool) -> dict[str, str]:
    resources = {"cpu": pool.cpu, "memory": pool.memory, "pods": str(pool.pods),
                 "ephemeral-storage": "1Ti"}
    if pool.gpus and not pool.mig:
        resources[GPU_RESOURCE] = str(capacity.units_per_node(pool.gpus, time_slicing=pool.time_slicing))
    resources.update({name: str(n) for name, n in pool.mig.items()})
    return resources


def node_manifest(pool: NodePool, index: int) -> dict[str, Any]:
    """The Node object for node `index` of `pool` (status included: kwok keeps it)."""
    name = f"{pool.name}-{index}"
    taints = [dict(t) for t in pool.taints]
    if pool.kwok_taint:
        taints.append({"key": KWOK_ANNOTATION, "value": "fake", "effect": "NoSchedule"})
    resources = node_resources(pool)
    return {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": node_labels(pool, name),
                     "annotations": {KWOK_ANNOTATION: "fake", "node.alpha.kubernetes.io/ttl": "0"}},
        "spec": {"taints": taints} if taints else {},
        "status": {
            "capacity": resources, "allocatable": dict(resources),
            "nodeInfo": {"architecture": "amd64", "operatingSystem": "linux",
                         "kubeletVersion": "kwok", "containerRuntimeVersion": "kwok",
                         "kernelVersion": "kwok", "osImage": "kwok", "machineID": "",
                         "systemUUID": "", "bootID": "", "kubeProxyVersion": ""},
        },
    }


def create_nodes(kube: Kube, pools: Iterable[NodePool]) -> list[str]:
    """Create every pool's nodes (existing ones are left alone); returns their names."""
    names = []
    for pool in pools:
        for index in range(pool.count):
            names.append(kube.create("/api/v1/nodes", node_manifest(pool, index)))
    return names


def nodes_ready(kube: Kube, names: Iterable[str]) -> bool:
    """True when every named node is Ready and has lost its not-ready/unreachable taints."""
    found = kube.request("GET", "/api/v1/nodes", query={"labelSelector": "type=kwok"}) or {}
    items = found.get("items") or []
    by_name = {n["metadata"]["name"]: n for n in items}
    for name in names:
        node = by_name.get(name)
        if node is None:
            return False
        conditions = {c["type"]: c["status"] for c in node.get("status", {}).get("conditions", [])}
        taints = {t["key"] for t in node.get("spec", {}).get("taints", [])}
        if conditions.get("Ready") != "True" or taints & set(_NOT_READY_TAINTS):
            return False
    return True
