"""GPU tier per model: which node pool, which GPU, how many per replica.

Each kind prefers a tier (tables.TIER); the first pool in that order where the sizing
core says the model fits wins. An explicit `nodePool` is the only candidate.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from stackgen.catalog import GpuProfile, ModelFacts, resolve_gpu
from stackgen.decide import search
from stackgen.decide.tables import CPU_FRAMEWORKS, TIER
from stackgen.errors import CheckFailed
from stackgen.sizing import EngineSettings, ModelSizing, fit_hint, llm_cold_start, llm_reasons, plan_model
from stackgen.spec.models import Model, NodePool, ReplicaRange, Stack

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
    choice: search.Choice | None = None      # LLMs: the layout search, its runner-ups and the SLO


def pool_gpu(pool: NodePool) -> GpuProfile | None:
    """The GPU a pod on this pool gets: the catalog GPU, its MIG slice, or its share of a
    time-sliced GPU (time-slicing isolates no memory: each of the replicas that share a GPU
    may use 1/timeSlicing of it, and render budgets vLLM's memory fraction accordingly)."""
    if not pool.is_gpu:
        return None
    gpu = resolve_gpu(pool.gpu)
    if pool.time_slicing and not pool.mig:
        memory = gpu.memory_bytes // pool.time_slicing
        return dataclasses.replace(gpu, memory_bytes=memory, memory_gib=round(memory / GIB, 2), mig_profiles=())
    if not pool.mig:
        return gpu
    slice_gb = int(pool.mig.split(".")[1].removesuffix("gb"))
    memory = min(gpu.memory_bytes, int(slice_gb * 1e9 * 0.93))
    return dataclasses.replace(gpu, id=f"{gpu.id}-mig-{pool.mig}", memory_bytes=memory,
                               memory_gib=round(memory / GIB, 2), mig_profiles=())


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
    """Non-LLMs, models outside the catalog and LLMs without a GPU (LLMs with known facts on
    GPUs are placed by the layout search, `_place_llm`)."""
    gpus_per_node = pool.gpus if pool else (8 if gpu else 0)
    return plan_model(
        facts, gpu, gpus_per_node=gpus_per_node, nodes=pool.nodes if pool else 1,
        peak_rps=model.traffic.peak_rps, source=model.source,
        replicas=model.replicas if isinstance(model.replicas, int) else None, gpu_memory_utilization=util)


def place(model: Model, framework: str | None, stack: Stack, facts: ModelFacts | None) -> Placement:
    """Choose the node pool for a model; CheckFailed when no pool can hold it."""
    pools = stack.spec.cluster.node_pools
    if not pools:
        return _place_without_pools(model, framework, facts, stack.spec.render.gpu_memory_utilization, stack)
    tier = _tier(model, framework)
    candidates = [stack.pool(model.node_pool)] if model.node_pool else ordered_pools(stack, tier)
    if model.is_llm:
        candidates = [p for p in candidates if p.is_gpu] or candidates
    if not candidates:
        names = ", ".join(p.name for p in pools)
        raise CheckFailed(f"model {model.name!r} is {'an LLM' if model.is_llm else 'a ' + model.kind + ' model'} "
                          f"that needs a GPU, and the stack's node pools ({names}) have none. Add a GPU pool "
                          "(spec.cluster.nodePools[].gpu, e.g. h100-80gb or l4-24gb)")
    if model.is_llm and facts is not None and facts.is_llm and all(p.is_gpu for p in candidates):
        found = _place_llm(model, stack, facts, [(p, pool_gpu(p), p.gpus, p.nodes) for p in candidates],
                           "no node pool")
        head = _pool_reasons(model, found.pool, found.gpu, tier, found.sizing)[0]
        if model.slo.tightest_ms is not None and not model.node_pool:
            head = (f"{found.pool.name} ({found.gpu.id}, {found.gpu.memory_gib:g} GiB): the SLO and the "
                    f"price decide among every pool, TP and PP that fits ({found.choice.compared} "
                    "layouts compared)")
        return dataclasses.replace(found, reasons=(head, *found.reasons))
    tried = []
    for pool in candidates:
        gpu = pool_gpu(pool)
        sizing = _size_on(model, facts, pool, gpu, stack.spec.render.gpu_memory_utilization)
        if sizing.fits:
            return Placement(pool, gpu, gpu_resource(pool), sizing,
                             _pool_reasons(model, pool, gpu, tier, sizing))
        tried.append(f"{pool.name} ({f'{gpu.id}, {gpu.memory_gib:g} GiB a pod' if gpu else 'CPU'}): "
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


def accounting(stack: Stack, facts: ModelFacts | None):
    """The vLLM release the stack runs (`spec.render.vllmVersion`) for this model: its
    memory accounting and defaults (stackgen.sizing.releases.Release)."""
    from stackgen.sizing.releases import release_for

    return release_for(stack.spec.render.vllm_version, facts)


def _explicit_replicas(model: Model) -> int | None:
    """Replicas the stack file fixes, as the search judges them: the most the stack allows
    at peak (a range's max; `replicas: 0`, a model kept off, is judged as one replica)."""
    if isinstance(model.replicas, ReplicaRange):
        return max(model.replicas.max, 1)
    if isinstance(model.replicas, int):
        return max(model.replicas, 1)
    return None


def _place_llm(model: Model, stack: Stack, facts: ModelFacts,
               pools: list[tuple[NodePool | None, GpuProfile, int, int]], where: str) -> Placement:
    """The layout search over (pool, GPU, GPUs per node, nodes); CheckFailed naming each
    pool's misses when no layout fits anywhere."""
    util = stack.spec.render.gpu_memory_utilization
    params = search.load_params()
    profiler = accounting(stack, facts)
    per_pool, tried = [], []
    for pool, gpu, per_node, nodes in pools:
        found, misses = search.candidate_layouts(model, facts, pool, gpu, gpus_per_node=per_node, nodes=nodes,
                                                 util=util, provider=stack.spec.cluster.provider, params=params,
                                                 profiler=profiler)
        per_pool.append(found)
        tried.append(f"{pool.name if pool else gpu.id} ({gpu.id}, {gpu.memory_gib:g} GiB a pod): "
                     + "; ".join([*misses[-2:], _fit_hint(model, facts, pool, gpu, util, profiler)]))
    if not any(per_pool):
        raise CheckFailed(f"model {model.name!r} fits on {where}. Tried: " + " | ".join(tried)
                          + ". Add a pool with larger GPUs or more GPUs per node, set quantization "
                            "(fp8/awq, or auto), or lower maxModelLen.")
    choice = search.choose(model, per_pool, params, _explicit_replicas(model))
    o = choice.chosen
    lay, result = o.layout, o.layout.result
    high = o.replicas if _explicit_replicas(model) else min(lay.capacity, max(o.replicas, math.ceil(o.replicas * search.headroom())))
    reasons = [*llm_reasons(result), *choice.reasons, *([lay.note] if lay.note else [])]
    start = llm_cold_start(facts, result, model.source)
    sizing = ModelSizing(
        fits=True, tensor_parallel_size=lay.tp, pipeline_parallel_size=lay.pp, gpus_per_replica=lay.gpus,
        replicas_min=o.replicas, replicas_max=high, weight_bytes=result.weight_bytes_total,
        cold_start_seconds=start.first_seconds, max_model_len=result.max_model_len, result=result,
        reasons=tuple(reasons), cold_start=start)
    pool = lay.pool
    return Placement(pool, lay.gpu, gpu_resource(pool) if pool else "nvidia.com/gpu", sizing,
                     sizing.reasons, choice)


def _fit_hint(model: Model, facts: ModelFacts, pool: NodePool | None, gpu: GpuProfile, util: float,
              profiler: str) -> str:
    if pool is not None and (pool.mig or pool.time_slicing):
        return ("a slice holds one replica (slices form no tensor-parallel group): use a larger MIG "
                "profile, fewer time-slicing replicas or whole GPUs")
    base = EngineSettings(max_model_len=model.max_model_len, dtype=model.dtype or "auto",
                          quantization="none" if model.quantization in (None, "auto") else model.quantization,
                          gpu_memory_utilization=util)
    return fit_hint(facts, gpu, base, profiler)


def _place_without_pools(model: Model, framework: str | None, facts: ModelFacts | None,
                         util: float, stack: Stack | None = None) -> Placement:
    if _tier(model, framework) == "cpu":
        sizing = _size_on(model, facts, None, None, util)
        return Placement(None, None, None, sizing, (
            "no node pools described: runs on CPU nodes", *sizing.reasons))
    gpu = resolve_gpu(ASSUMED_GPU)
    if stack is not None and model.is_llm and facts is not None and facts.is_llm:
        found = _place_llm(model, stack, facts, [(None, gpu, 8, 1)],
                           f"no layout of 8x {gpu.id} (assumed, since no node pools are described)")
        return dataclasses.replace(found, gpu_resource="nvidia.com/gpu", reasons=(
            f"no node pools described: sized for {gpu.id}; add spec.cluster.nodePools to place "
            "it on a specific pool", *found.reasons))
    sizing = _size_on(model, facts, None, gpu, util)
    if not sizing.fits:
        raise CheckFailed(f"model {model.name!r} does not fit on 8x {gpu.id} (assumed, since "
                          "no node pools are described): " + "; ".join(sizing.reasons[-2:]))
    return Placement(None, gpu, "nvidia.com/gpu", sizing, (
        f"no node pools described: sized for {gpu.id}; add spec.cluster.nodePools to place "
        "it on a specific pool", *sizing.reasons))
