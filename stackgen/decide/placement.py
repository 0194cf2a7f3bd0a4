"""GPU tier per model: which node pool, which GPU, how many per replica.

Each kind prefers a tier (tables.TIER); the first pool in that order where the sizing
core says the model fits wins. An explicit `nodePool` is the only candidate.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from stackgen.catalog import GpuProfile, ModelFacts, resolve_gpu
from stackgen.decide.tables import CPU_FRAMEWORKS, TIER
from stackgen.errors import CheckFailed
from stackgen.sizing import ModelSizing, plan_model
from stackgen.spec.models import Model, NodePool, Stack

#: GPU assumed when the stack describes no node pools at all.
ASSUMED_GPU = "h100-80gb"
GIB = 1024**3


@dataclass(frozen=True)
class Placement:
    pool: NodePool | None
    gpu: GpuProfile | None
    gpu_resource: str | None
    sizing: ModelSizing
    reasons: tuple[str, ...]


def pool_gpu(pool: NodePool) -> GpuProfile | None:
    """The GPU a pod on this pool gets: the catalog GPU, or its MIG slice."""
    if not pool.is_gpu:
        return None
    gpu = resolve_gpu(pool.gpu)
    if not pool.mig:
        return gpu
    slice_gb = int(pool.mig.split(".")[1].removesuffix("gb"))
    memory = min(gpu.memory_bytes, int(slice_gb * 1e9 * 0.93))
    return dataclasses.replace(gpu, id=f"{gpu.id}-mig-{pool.mig}", memory_bytes=memory,
                               memory_gib=round(memory / GIB, 2))


def gpu_resource(pool: NodePool | None) -> str | None:
    if pool is None or not pool.is_gpu:
        return None
    return f"nvidia.com/mig-{pool.mig}" if pool.mig else "nvidia.com/gpu"


def _tier(model: Model, framework: str | None) -> str:
    if framework in CPU_FRAMEWORKS:
        return "cpu"
    tier = TIER[model.kind]
    return "smallest" if tier == "cpu" else tier


def ordered_pools(stack: Stack, tier: str) -> list[NodePool]:
    pools = stack.spec.cluster.node_pools
    gpu = sorted((p for p in pools if p.is_gpu), key=lambda p: (pool_gpu(p).memory_bytes, p.name))
    cpu = [p for p in pools if not p.is_gpu]
    if tier == "largest":
        return gpu[::-1]
    if tier == "smallest":
        return gpu
    if tier == "cpu":
        return cpu + gpu
    middle = (len(gpu) - 1) / 2  # middle tier first, then outward, smaller before larger
    return sorted(gpu, key=lambda p: (abs(gpu.index(p) - middle), gpu.index(p)))


def _size_on(model: Model, facts: ModelFacts | None, pool: NodePool | None,
             gpu: GpuProfile | None, util: float) -> ModelSizing:
    gpus_per_node = pool.gpus if pool else (8 if gpu else 0)
    return plan_model(
        facts, gpu, gpus_per_node=gpus_per_node, nodes=pool.nodes if pool else 1,
        peak_rps=model.traffic.peak_rps, avg_input_tokens=model.traffic.avg_input_tokens,
        avg_output_tokens=model.traffic.avg_output_tokens, source=model.source,
        max_model_len=model.max_model_len, dtype=model.dtype, quantization=model.quantization,
        replicas=model.replicas if isinstance(model.replicas, int) else None,
        gpu_memory_utilization=util)


def place(model: Model, framework: str | None, stack: Stack, facts: ModelFacts | None) -> Placement:
    """Choose the node pool for a model; CheckFailed when no pool can hold it."""
    pools = stack.spec.cluster.node_pools
    if not pools:
        return _place_without_pools(model, framework, facts, stack.spec.render.gpu_memory_utilization)
    tier = _tier(model, framework)
    candidates = [stack.pool(model.node_pool)] if model.node_pool else ordered_pools(stack, tier)
    if model.is_llm:
        candidates = [p for p in candidates if p.is_gpu] or candidates
    tried = []
    for pool in candidates:
        gpu = pool_gpu(pool)
        sizing = _size_on(model, facts, pool, gpu, stack.spec.render.gpu_memory_utilization)
        if sizing.fits:
            return Placement(pool, gpu, gpu_resource(pool), sizing,
                             _pool_reasons(model, pool, gpu, tier, sizing))
        tried.append(f"{pool.name} ({gpu.id if gpu else 'CPU'}): "
                     + ("; ".join(sizing.reasons[-2:]) or "does not fit"))
    raise CheckFailed(
        f"model {model.name!r} fits on no node pool. Tried: " + " | ".join(tried)
        + ". Add a pool with larger GPUs or more GPUs per node, set quantization (fp8/awq), "
          "or lower maxModelLen.")


def _pool_reasons(model: Model, pool: NodePool, gpu: GpuProfile | None, tier: str,
                  sizing: ModelSizing) -> tuple[str, ...]:
    if model.node_pool:
        head = f"node pool {pool.name} was set in the stack file"
    elif gpu is None:
        head = f"{pool.name}: a CPU pool, since a {model.kind} model on {model.framework or 'its framework'} needs no GPU"
    else:
        what = {"largest": "LLMs go to the largest-memory GPUs that fit",
                "middle": f"{model.kind} models go to the middle GPU tier",
                "smallest": f"{model.kind} models go to the smallest GPUs that fit",
                "cpu": "no CPU pool; the smallest GPUs that fit"}[tier]
        head = f"{pool.name} ({gpu.id}, {gpu.memory_gib:g} GiB): {what}"
    return (head, *sizing.reasons)


def _place_without_pools(model: Model, framework: str | None, facts: ModelFacts | None,
                         util: float) -> Placement:
    if _tier(model, framework) == "cpu":
        sizing = _size_on(model, facts, None, None, util)
        return Placement(None, None, None, sizing, (
            "no node pools described: runs on CPU nodes", *sizing.reasons))
    gpu = resolve_gpu(ASSUMED_GPU)
    sizing = _size_on(model, facts, None, gpu, util)
    if not sizing.fits:
        raise CheckFailed(f"model {model.name!r} does not fit on 8x {gpu.id} (assumed, since "
                          "no node pools are described): " + "; ".join(sizing.reasons[-2:]))
    return Placement(None, gpu, "nvidia.com/gpu", sizing, (
        f"no node pools described: sized for {gpu.id}; add spec.cluster.nodePools to place "
        "it on a specific pool", *sizing.reasons))
