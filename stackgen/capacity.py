"""Schedulable GPUs: the one place that counts what a node pool offers and what fits on it.

A node advertises *units* of one extended resource: whole GPUs (`nvidia.com/gpu`), each
time-sliced GPU as `timeSlicing` units (the device plugin's replicas), or each MIG-partitioned
GPU as the number of instances of its profile (`nvidia.com/mig-1g.10gb`, ...). A pod asks
for some units, and the scheduler must find them all on ONE node; a multi-node replica
(pipeline parallel across nodes) is one pod per pipeline stage. So capacity is counted per
node and packed, never divided out of a pool total: 2 nodes x 6 GPUs hold two TP-4 pods,
not three.

Pure arithmetic over plain numbers, plus helpers that read a stack's node pool.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stackgen.catalog import GpuProfile
    from stackgen.spec.models import NodePool

GPU_RESOURCE = "nvidia.com/gpu"
#: NVIDIA MIG (A100/A30/H100/H200): a GPU has 7 compute slices and 8 memory slices.
MIG_COMPUTE_SLICES = 7
MIG_MEMORY_SLICES = 8


def mig_resource(profile: str) -> str:
    """The resource name the device plugin's mixed MIG strategy advertises for a profile."""
    return f"nvidia.com/mig-{profile}"


def mig_instances_per_gpu(gpu: GpuProfile, profile: str) -> int:
    """How many instances of MIG `profile` ("<g>g.<mem>gb") one GPU holds.

    A profile takes g of the 7 compute slices and mem/(memory/8) of the 8 memory slices,
    as in the NVIDIA MIG user guide's tables: on an 80 GB H100 1g.10gb x7, 1g.20gb x4,
    2g.20gb x3, 3g.40gb x2, 4g.40gb x1, 7g.80gb x1. The GPU's memory is its full-GPU
    profile's (7g.80gb) when the catalog lists one, else its catalog memory.
    """
    compute, memory_slices = mig_slices(gpu, profile)
    return max(1, min(MIG_COMPUTE_SLICES // compute, MIG_MEMORY_SLICES // memory_slices))


def mig_slices(gpu: GpuProfile, profile: str) -> tuple[int, int]:
    """(compute slices of 7, memory slices of 8) an instance of MIG `profile` takes: its
    share of the GPU's SMs and of its memory and memory bandwidth."""
    compute, memory = _parse_profile(profile)
    whole = [_parse_profile(p)[1] for p in gpu.mig_profiles if p.startswith(f"{MIG_COMPUTE_SLICES}g.")]
    total_gb = whole[0] if whole else gpu.memory_bytes / 1e9
    return compute, max(1, min(MIG_MEMORY_SLICES, round(memory * MIG_MEMORY_SLICES / total_gb)))


def _parse_profile(profile: str) -> tuple[int, float]:
    compute, _, memory = profile.partition(".")
    try:
        return int(compute.removesuffix("g")), float(memory.removesuffix("gb"))
    except ValueError:
        raise ValueError(f"MIG profile {profile!r} is not of the form <g>g.<memory>gb") from None


def units_per_node(gpus: int, *, time_slicing: int | None = None, mig_instances: int | None = None) -> int:
    """Units one node advertises: gpus x time-slicing replicas, or gpus x MIG instances."""
    if mig_instances:
        return gpus * mig_instances
    return gpus * (time_slicing or 1)


def pods_that_fit(node_units: Iterable[int], units_per_pod: int) -> int:
    """Pods of `units_per_pod` that nodes with these free units hold (a pod on one node)."""
    if units_per_pod <= 0:
        raise ValueError("a pod that asks for GPUs asks for at least 1")
    return sum(max(units, 0) // units_per_pod for units in node_units)


def replicas_that_fit(nodes: int, units_per_node: int, units_per_pod: int,
                      pods_per_replica: int = 1) -> int:
    """Replicas of a layout (pods of `units_per_pod`, `pods_per_replica` of them, e.g. one per
    pipeline stage) that `nodes` identical nodes hold."""
    pods = pods_that_fit([units_per_node] * nodes, units_per_pod)
    return pods // max(pods_per_replica, 1)


def units_per_pod(units_per_replica: int, pipeline_parallel: int = 1) -> int:
    """Units each pod of a replica asks for: a multi-node replica runs one pod per pipeline
    stage, each with its share (tensor parallel size) of the replica's GPUs."""
    return units_per_replica // max(pipeline_parallel, 1)


def unplaced(node_units: Iterable[int], pods: Iterable[int]) -> list[int]:
    """The pods (units each) that do not fit when placed largest first, each on the first
    node with room (first-fit decreasing; exact when every size divides the larger ones,
    as powers of two do)."""
    free = sorted(node_units, reverse=True)
    left = []
    for size in sorted(pods, reverse=True):
        for i, units in enumerate(free):
            if units >= size:
                free[i] -= size
                break
        else:
            left.append(size)
    return left


# -- a stack file's node pool -------------------------------------------------------------
def pool_resource(pool: NodePool) -> str | None:
    """The extended resource a pod on this pool asks for (None for a CPU pool)."""
    if not pool.is_gpu:
        return None
    return mig_resource(pool.mig) if pool.mig else GPU_RESOURCE


def pool_units_per_node(pool: NodePool) -> int:
    """Units of `pool_resource(pool)` one node of the pool advertises."""
    if not pool.is_gpu:
        return 0
    if pool.mig:
        from stackgen.catalog import resolve_gpu

        return units_per_node(pool.gpus, mig_instances=mig_instances_per_gpu(resolve_gpu(pool.gpu), pool.mig))
    return units_per_node(pool.gpus, time_slicing=pool.time_slicing)


def schedulable_gpus(pool: NodePool) -> int:
    """Units the whole pool advertises: nodes x units per node."""
    return pool.nodes * pool_units_per_node(pool)


def surge_fits(pool: NodePool, peak_pods: Iterable[int], surge_pod: int) -> bool:
    """Whether a rollout's extra pod (`surge_pod` units) still finds a node while every
    model on the pool runs its most replicas (`peak_pods`, units each): with no room, a
    `maxSurge: 1, maxUnavailable: 0` rollout waits forever for a pod that cannot schedule."""
    return not unplaced([pool_units_per_node(pool)] * pool.nodes, [*peak_pods, surge_pod])
