"""Per-model sizing for `stackgen plan`: TP/PP on a node pool, replicas, cold start."""

from __future__ import annotations

import math
from dataclasses import dataclass

from stackgen.capacity import replicas_that_fit
from stackgen.catalog import GpuProfile, ModelFacts
from stackgen.engine_settings import RENDER_GPU_MEMORY_UTILIZATION
from stackgen.sizing import memory as M
from stackgen.sizing.core import SizeResult
from stackgen.sizing.engine import DEFAULT_PROFILER, EngineSettings, compute_dtype, effective_quantization, tp_choices
from stackgen.sizing.search import try_size
from stackgen.sizing.coldstart import ColdStart, cold_start
from stackgen.sizing.tables import throughput_table

#: Without maxModelLen, a model whose whole context does not fit runs with the longest
#: power-of-two length its KV cache holds, if at least this long.
MIN_CAPPED_LEN = 4096
#: Pipeline stages considered: more never shortens a request (each token crosses every
#: stage) and multiplies the pods of a replica; 8 nodes of 8 GPUs hold any open model.
MAX_PIPELINE_STAGES = 8


@dataclass(frozen=True)
class ModelSizing:
    fits: bool
    tensor_parallel_size: int
    pipeline_parallel_size: int
    gpus_per_replica: int
    replicas_min: int
    replicas_max: int
    weight_bytes: int
    cold_start_seconds: float
    max_model_len: int | None
    result: SizeResult | None
    reasons: tuple[str, ...]
    cold_start: ColdStart | None = None
    replicas_needed: int | None = None   # the peak's replicas, when the pool holds fewer


def cold_start_seconds(weight_bytes: int, source: str, kind: str) -> float:
    """A first start on a new node (sizing/coldstart.py) of a one-GPU replica."""
    return cold_start(weight_bytes, source, kind).first_seconds


def llm_cold_start(facts: ModelFacts, result: SizeResult, source: str) -> ColdStart:
    """The phases of a start of an LLM replica sized as `result`."""
    return cold_start(result.weight_bytes_total, source, "llm", weight_bytes_per_gpu=result.weight_bytes_per_gpu,
                      layers=facts.num_layers, tp=result.tensor_parallel_size, pp=result.pipeline_parallel_size,
                      moe=bool(facts.num_experts))


def replica_rps(facts: ModelFacts | None, gpu: GpuProfile | None) -> float:
    """Requests per second one replica of a non-LLM model sustains (profiles/throughput.yaml;
    LLMs get theirs from the performance model, stackgen/perf)."""
    per = throughput_table()["requests_per_s"]
    kind = facts.kind if facts else "other"
    return float(per.get(kind, per["other"])["gpu" if gpu else "cpu"])


def _replicas(rps_each: float, peak_rps: float, capacity: int, explicit: int | None) -> tuple[int, int, str | None]:
    """(min, max, note): enough replicas for the peak, headroom above it, within the pool."""
    if explicit:
        return explicit, explicit, None
    low = max(1, math.ceil(peak_rps / max(rps_each, 1e-9)))
    high = max(low, math.ceil(low * throughput_table()["headroom"]))
    if not capacity:
        return low, high, None
    note = None
    if low > capacity:
        note = (f"the pool holds {capacity} replica(s) but about {low} are needed for {peak_rps:g} rps: "
                "add nodes or GPUs")
    low = max(1, min(low, capacity))
    return low, max(low, min(high, capacity)), note


def _capped(result: SizeResult, facts: ModelFacts, gpu: GpuProfile, base: EngineSettings,
            profiler: str = DEFAULT_PROFILER) -> SizeResult | None:
    """Without maxModelLen: the longest power-of-two length the KV cache holds."""
    tokens = result.kv_cache_tokens or 0
    if tokens < MIN_CAPPED_LEN:
        return None
    length = min(1 << (tokens.bit_length() - 1), facts.max_position_embeddings or tokens)
    return try_size(facts, gpu, base.replace(tensor_parallel_size=result.tensor_parallel_size,
                                             pipeline_parallel_size=result.pipeline_parallel_size,
                                             max_model_len=length), profiler)


def layouts(facts: ModelFacts, gpus_per_node: int, nodes: int, sliced: bool = False) -> list[tuple[int, int]]:
    """(TP, PP) candidates: TP within a node first, then PP across nodes with a full node of
    TP. On MIG or time-sliced pools a replica is one slice: slices of one GPU cannot form a
    tensor-parallel group."""
    if sliced:
        return [(1, 1)]
    tps = [tp for tp in tp_choices(facts) if tp <= gpus_per_node]
    out = [(tp, 1) for tp in tps]
    if tps:
        out += [(tps[-1], pp) for pp in range(2, min(nodes, MAX_PIPELINE_STAGES) + 1) if pp <= facts.num_layers]
    return out


def fit_layout(facts: ModelFacts, gpu: GpuProfile, tp: int, pp: int, base: EngineSettings,
               profiler: str = DEFAULT_PROFILER) -> tuple[SizeResult | None, SizeResult | None, str | None]:
    """(fitting result, result tried, note) for one layout; without maxModelLen a context
    that does not fit is capped at the longest power of two the KV cache holds."""
    result = try_size(facts, gpu, base.replace(tensor_parallel_size=tp, pipeline_parallel_size=pp), profiler)
    if result is None:
        return None, None, None
    if result.fits:
        return result, result, None
    if base.max_model_len is None:
        capped = _capped(result, facts, gpu, base, profiler)
        if capped is not None and capped.fits:
            return capped, result, (f"maxModelLen set to {capped.max_model_len} (the full context "
                                    f"{facts.max_position_embeddings} does not fit); set maxModelLen to choose")
    return None, result, None


def _unknown(source: str, gpus_per_node: int, gpu: GpuProfile | None, replicas: int | None) -> ModelSizing:
    n = replicas or 1
    return ModelSizing(
        fits=True, tensor_parallel_size=1, pipeline_parallel_size=1, gpus_per_replica=1 if gpu else 0,
        replicas_min=n, replicas_max=n, weight_bytes=0,
        cold_start_seconds=cold_start_seconds(0, source, "default") + 60.0, max_model_len=None, result=None,
        reasons=(f"sizing skipped: '{source}' is not in stackgen's model catalog; add "
                 "`modelConfig: path/to/config.json` (the model's HF config) to size it; "
                 "assuming 1 GPU per replica",))


def _non_llm(facts: ModelFacts, gpu: GpuProfile | None, *, gpus_per_node: int, nodes: int, peak_rps: float,
             source: str, replicas: int | None, base: EngineSettings) -> ModelSizing:
    settings = base.replace(quantization="none", max_model_len=None)
    dt = compute_dtype(facts, gpu, settings) if gpu else "float32"
    weights = M.total_weight_bytes(facts, dt, "none")
    result = try_size(facts, gpu, settings) if gpu else None
    fits = result.fits if result else True
    capacity = replicas_that_fit(nodes, gpus_per_node, 1) if gpu else 0
    rps = replica_rps(facts, gpu)
    low, high, note = _replicas(rps, peak_rps, capacity, replicas)
    needed = math.ceil(peak_rps / max(rps, 1e-9)) if not replicas else None
    needed = needed if needed and capacity and needed > capacity else None
    reasons = [f"{facts.kind}: {facts.num_params / 1e6:,.0f}M parameters, {weights / 2**30:.2f} GiB of "
               f"weights; about {rps:g} rps per replica (profiles/throughput.yaml)"]
    reasons += [note] if note else []
    return ModelSizing(fits=fits, tensor_parallel_size=1, pipeline_parallel_size=1,
                       gpus_per_replica=1 if gpu else 0, replicas_min=low, replicas_max=high,
                       weight_bytes=weights, cold_start_seconds=cold_start_seconds(weights, source, facts.kind),
                       max_model_len=None, result=result, reasons=tuple(reasons),
                       replicas_needed=needed)


def llm_reasons(result: SizeResult) -> list[str]:
    """What the memory model found for an LLM's layout."""
    return [f"tensor parallel {result.tensor_parallel_size} x pipeline {result.pipeline_parallel_size}: "
            f"{result.weight_bytes_per_gpu / 2**30:.1f} GiB weights and "
            f"{result.kv_cache_bytes_per_gpu / 2**30:.1f} GiB KV cache per GPU, "
            f"{result.kv_cache_tokens:,} KV tokens, {result.max_concurrency:.1f} concurrent "
            f"{result.max_model_len:,}-token requests"]


def plan_model(facts: ModelFacts | None, gpu: GpuProfile | None, *, gpus_per_node: int, nodes: int,
               peak_rps: float, source: str, replicas: int | None = None,
               gpu_memory_utilization: float = RENDER_GPU_MEMORY_UTILIZATION) -> ModelSizing:
    """Size a non-LLM model of a stack on its node pool (gpu None: a CPU pool), a model
    outside the catalog, or an LLM that has no GPU. LLMs with known facts on GPU pools are
    placed by the layout search (stackgen/decide/search.py)."""
    if facts is None:
        return _unknown(source, gpus_per_node, gpu, replicas)
    if facts.is_llm:
        if gpu is not None:
            raise ValueError("LLMs on GPUs are placed by the layout search (decide/search.py)")
        return _llm_on_cpu(facts, source, replicas)
    base = EngineSettings(gpu_memory_utilization=gpu_memory_utilization)
    return _non_llm(facts, gpu, gpus_per_node=gpus_per_node, nodes=nodes, peak_rps=peak_rps,
                    source=source, replicas=replicas, base=base)


def _llm_on_cpu(facts: ModelFacts, source: str, replicas: int | None) -> ModelSizing:
    quant = effective_quantization(facts, EngineSettings())
    weights = M.total_weight_bytes(facts, "bfloat16", quant)
    n = replicas or 1
    return ModelSizing(fits=False, tensor_parallel_size=1, pipeline_parallel_size=1, gpus_per_replica=0,
                       replicas_min=n, replicas_max=n, weight_bytes=weights,
                       cold_start_seconds=cold_start_seconds(weights, source, "llm"), max_model_len=None,
                       result=None, reasons=(f"{facts.name} is an LLM ({weights / 2**30:.1f} GiB of weights) "
                                             "and needs a GPU node pool",))
