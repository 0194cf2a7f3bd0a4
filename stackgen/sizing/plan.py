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
from stackgen.sizing.search import fit_hint, try_size
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


def cold_start_seconds(weight_bytes: int, source: str, kind: str) -> float:
    """A first start on a new node (sizing/coldstart.py) of a one-GPU replica."""
    return cold_start(weight_bytes, source, kind).first_seconds


def llm_cold_start(facts: ModelFacts, result: SizeResult, source: str) -> ColdStart:
    """The phases of a start of an LLM replica sized as `result`."""
    return cold_start(result.weight_bytes_total, source, "llm", weight_bytes_per_gpu=result.weight_bytes_per_gpu,
                      layers=facts.num_layers, tp=result.tensor_parallel_size, pp=result.pipeline_parallel_size,
                      moe=bool(facts.num_experts))


def replica_rps(facts: ModelFacts | None, gpu: GpuProfile | None, tp: int, pp: int,
                avg_in: int, avg_out: int) -> float:
    """Requests per second one replica sustains, from profiles/throughput.yaml."""
    t = throughput_table()
    kind = facts.kind if facts else "other"
    if kind != "llm":
        per = t["requests_per_s"].get(kind, t["requests_per_s"]["other"])
        return float(per["gpu" if gpu else "cpu"])
    per_gpu = t["llm_output_tokens_per_s"]
    base = per_gpu.get(gpu.id if gpu else "cpu", per_gpu["default"])
    active = facts.num_params
    if facts.num_experts:
        topk = int(facts.config.get("num_experts_per_tok") or 2)
        active = facts.num_params * min(1.0, (topk + 1) / facts.num_experts)
    gpus = tp * pp
    scale = t["reference_params"] / max(active, 1) * gpus * t["tp_efficiency"] ** math.log2(gpus)
    cost = avg_out + avg_in * t["input_token_cost"]
    return base * scale / max(cost, 1)


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


def _fit_llm(facts, gpu, gpus_per_node, nodes, base: EngineSettings, sliced: bool = False,
             profiler: str = DEFAULT_PROFILER) -> tuple[SizeResult | None, SizeResult | None, str | None]:
    """(fitting result, last tried, note) over the layouts in order."""
    last = None
    for tp, pp in layouts(facts, gpus_per_node, nodes, sliced):
        fit, tried, note = fit_layout(facts, gpu, tp, pp, base, profiler)
        last = tried or last
        if fit is not None:
            return fit, last, note
    return None, last, None


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
    rps = replica_rps(facts, gpu, 1, 1, 0, 0)
    low, high, note = _replicas(rps, peak_rps, capacity, replicas)
    reasons = [f"{facts.kind}: {facts.num_params / 1e6:,.0f}M parameters, {weights / 2**30:.2f} GiB of "
               f"weights; about {rps:g} rps per replica (profiles/throughput.yaml)"]
    reasons += [note] if note else []
    return ModelSizing(fits=fits, tensor_parallel_size=1, pipeline_parallel_size=1,
                       gpus_per_replica=1 if gpu else 0, replicas_min=low, replicas_max=high,
                       weight_bytes=weights, cold_start_seconds=cold_start_seconds(weights, source, facts.kind),
                       max_model_len=None, result=result, reasons=tuple(reasons))


def _llm_reasons(result: SizeResult, rps: float, note: str | None) -> list[str]:
    """What the memory model found (the performance model's figures come from the layout
    search, decide/search.py, when the model fits)."""
    out = [f"tensor parallel {result.tensor_parallel_size} x pipeline {result.pipeline_parallel_size}: "
           f"{result.weight_bytes_per_gpu / 2**30:.1f} GiB weights and "
           f"{result.kv_cache_bytes_per_gpu / 2**30:.1f} GiB KV cache per GPU, "
           f"{result.kv_cache_tokens:,} KV tokens, {result.max_concurrency:.1f} concurrent "
           f"{result.max_model_len:,}-token requests"]
    return out + ([note] if note else [])


def plan_model(facts: ModelFacts | None, gpu: GpuProfile | None, *, gpus_per_node: int, nodes: int,
               peak_rps: float, avg_input_tokens: int, avg_output_tokens: int, source: str,
               max_model_len: int | None = None, dtype: str | None = None, quantization: str | None = None,
               replicas: int | None = None,
               gpu_memory_utilization: float = RENDER_GPU_MEMORY_UTILIZATION, sliced: bool = False,
               profiler: str = DEFAULT_PROFILER) -> ModelSizing:
    """Size one model of a stack on its node pool (gpu None: a CPU pool), at the
    `--gpu-memory-utilization` the stack renders (the stack file's default is 0.9)."""
    base = EngineSettings(max_model_len=max_model_len, dtype=dtype or "auto", quantization=quantization or "none",
                          gpu_memory_utilization=gpu_memory_utilization)
    if facts is None:
        return _unknown(source, gpus_per_node, gpu, replicas)
    if not facts.is_llm:
        return _non_llm(facts, gpu, gpus_per_node=gpus_per_node, nodes=nodes, peak_rps=peak_rps,
                        source=source, replicas=replicas, base=base)
    if gpu is None:
        return _llm_on_cpu(facts, source, replicas)
    fit, last, note = _fit_llm(facts, gpu, gpus_per_node, nodes, base, sliced, profiler)
    chosen = fit or last
    if chosen is None:
        return _llm_on_cpu(facts, source, replicas)
    tp, pp = chosen.tensor_parallel_size, chosen.pipeline_parallel_size
    rps = replica_rps(facts, gpu, tp, pp, avg_input_tokens, avg_output_tokens)
    capacity = replicas_that_fit(nodes, gpus_per_node, 1 if sliced else tp, pods_per_replica=pp)  # a TP group per node
    low, high, cap_note = _replicas(rps, peak_rps, capacity, replicas)
    reasons = _llm_reasons(chosen, rps, note) + ([cap_note] if cap_note else [])
    if fit is None:
        hint = ("a slice holds one replica (slices form no tensor-parallel group): use a larger MIG "
                "profile, fewer time-slicing replicas or whole GPUs" if sliced
                else fit_hint(facts, gpu, base.replace(tensor_parallel_size=tp)))
        reasons.insert(0, f"{facts.name} does not fit on this pool ({nodes} x {gpus_per_node} {gpu.id}); " + hint)
    return ModelSizing(fits=fit is not None, tensor_parallel_size=tp, pipeline_parallel_size=pp,
                       gpus_per_replica=tp * pp, replicas_min=low, replicas_max=high,
                       weight_bytes=chosen.weight_bytes_total,
                       cold_start_seconds=llm_cold_start(facts, chosen, source).first_seconds,
                       max_model_len=chosen.max_model_len, result=chosen, reasons=tuple(reasons),
                       cold_start=llm_cold_start(facts, chosen, source))


def _llm_on_cpu(facts: ModelFacts, source: str, replicas: int | None) -> ModelSizing:
    quant = effective_quantization(facts, EngineSettings())
    weights = M.total_weight_bytes(facts, "bfloat16", quant)
    n = replicas or 1
    return ModelSizing(fits=False, tensor_parallel_size=1, pipeline_parallel_size=1, gpus_per_replica=0,
                       replicas_min=n, replicas_max=n, weight_bytes=weights,
                       cold_start_seconds=cold_start_seconds(weights, source, "llm"), max_model_len=None,
                       result=None, reasons=(f"{facts.name} is an LLM ({weights / 2**30:.1f} GiB of weights) "
                                             "and needs a GPU node pool",))
