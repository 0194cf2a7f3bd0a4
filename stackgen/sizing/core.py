"""`size`: model facts + GPU + engine settings -> weights, KV cache, concurrency (pure)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from stackgen.catalog import GpuProfile, ModelFacts
from stackgen.sizing import memory as M
from stackgen.sizing.engine import (
    DEFAULT_PROFILER,
    DTYPE_BYTES,
    GiB,
    EngineSettings,
    batching_defaults,
    compute_dtype,
    cudagraph_capture_sizes,
    effective_quantization,
    enforce_eager,
    validate,
)
from stackgen.sizing.releases import PINNED_RELEASE, Release


@dataclass(frozen=True)
class SizeResult:
    model: str
    gpu: str
    tensor_parallel_size: int
    pipeline_parallel_size: int
    dtype: str
    quantization: str
    kv_cache_dtype: str
    gpu_memory_utilization: float
    max_model_len: int | None
    weight_bytes_total: int
    weight_bytes_per_gpu: int
    activation_bytes: int
    non_torch_bytes: int
    kv_cache_bytes_per_gpu: int
    kv_bytes_per_token: int
    kv_cache_tokens: int | None
    max_concurrency: float | None
    max_num_batched_tokens: int
    max_num_seqs: int
    fits: bool
    notes: tuple[str, ...] = ()
    #: the pool in tokens of every layer (blocks x 16 / layer groups), where
    #: kv_cache_tokens is what vLLM logs (from 0.21 max_concurrency x max_model_len); the
    #: two differ for sliding-window models. None: as kv_cache_tokens
    kv_pool_tokens: int | None = None

    @property
    def pool_tokens(self) -> int | None:
        return self.kv_pool_tokens if self.kv_pool_tokens is not None else self.kv_cache_tokens

    @property
    def gpus(self) -> int:
        return self.tensor_parallel_size * self.pipeline_parallel_size

    def to_json(self) -> dict:
        """Exactly the keys of the contract's `stackgen size --output json`."""
        return {
            "model": self.model, "gpu": self.gpu,
            "tensorParallelSize": self.tensor_parallel_size, "pipelineParallelSize": self.pipeline_parallel_size,
            "dtype": self.dtype, "quantization": self.quantization, "maxModelLen": self.max_model_len,
            "weightsGiBPerGpu": round(self.weight_bytes_per_gpu / GiB, 2),
            "kvCacheGiBPerGpu": round(self.kv_cache_bytes_per_gpu / GiB, 2),
            "kvCacheTokens": self.kv_cache_tokens,
            "maxConcurrency": None if self.max_concurrency is None else round(self.max_concurrency, 2),
            "fits": self.fits, "notes": list(self.notes),
        }


def _kv_dtype(kv_cache_dtype: str, dtype: str) -> tuple[str, int]:
    if kv_cache_dtype.startswith("fp8"):  # fp8, fp8_e4m3, fp8_e5m2: one byte per value
        return kv_cache_dtype, 1
    return dtype, DTYPE_BYTES[dtype]


def _max_len(facts: ModelFacts, s: EngineSettings) -> int | None:
    if not facts.is_llm:
        return None
    return s.max_model_len or facts.max_position_embeddings or 4096


def _fit_notes(fits: bool, tokens: int, max_len: int, available: int) -> tuple[str, ...]:
    if available <= 0:
        return ("no memory left for the KV cache after weights and activations",)
    if not fits:
        return (f"the KV cache holds {tokens:,} tokens, fewer than max-model-len {max_len:,}: "
                "vLLM refuses to start",)
    return ()


def size(facts: ModelFacts, gpu: GpuProfile, settings: EngineSettings,
         profiler: str | Release = DEFAULT_PROFILER) -> SizeResult:
    """Predict what vLLM reports at start-up for `facts` on `gpu` with `settings`, under
    the memory accounting of `profiler`: a name of engine.PROFILERS (the pinned release's
    defaults), or a `Release` (stackgen.sizing.releases: its accounting and defaults).

    Raises InputError for settings vLLM would reject."""
    if isinstance(profiler, Release):
        release = profiler.for_gpu(gpu)
        profiler = release.profiler
    else:
        release = PINNED_RELEASE
    validate(facts, gpu, settings, profiler, release)
    tp, pp = settings.tensor_parallel_size, settings.pipeline_parallel_size
    dtype = compute_dtype(facts, gpu, settings)
    quant = effective_quantization(facts, settings)
    tokens_batch, seqs = batching_defaults(gpu, settings, release)
    max_len = _max_len(facts, settings)
    weights = M.weight_bytes_per_gpu(facts, dtype, quant, tp, pp, gpu)
    act = (_llm_activation(facts, gpu, settings, dtype, profiler, release, (tokens_batch, seqs)) if facts.is_llm
           else _small_activation(facts))
    non_torch = M.non_torch_bytes(gpu, tp, pp, profiler)
    budget = int(gpu.memory_bytes * settings.gpu_memory_utilization)
    available = budget - weights - act - non_torch
    kv_name, kv_b = _kv_dtype(settings.kv_cache_dtype, dtype)
    base = dict(model=facts.name, gpu=gpu.id, tensor_parallel_size=tp, pipeline_parallel_size=pp,
                dtype=dtype, quantization=quant, kv_cache_dtype=kv_name,
                gpu_memory_utilization=settings.gpu_memory_utilization, max_model_len=max_len,
                weight_bytes_total=M.total_weight_bytes(facts, dtype, quant, gpu), weight_bytes_per_gpu=weights,
                activation_bytes=act, non_torch_bytes=non_torch, max_num_batched_tokens=tokens_batch,
                max_num_seqs=seqs)
    if not facts.is_llm:
        fits = available > 0
        notes = ("KV cache does not apply to this model kind",) + (() if fits else ("weights do not fit",))
        return SizeResult(**base, kv_cache_bytes_per_gpu=0, kv_bytes_per_token=0, kv_cache_tokens=None,
                          max_concurrency=None, fits=fits, notes=notes)
    per_token = M.kv_bytes_per_token(facts, tp, pp, kv_b)
    pool, tokens, concurrency = _kv_capacity(facts, available, per_token, max_len,
                                             tokens_batch * release.in_flight_batches(pp), release)
    fits = available > 0 and tokens >= max_len
    return SizeResult(**base, kv_cache_bytes_per_gpu=max(available, 0), kv_bytes_per_token=per_token,
                      kv_cache_tokens=tokens, max_concurrency=concurrency, fits=fits,
                      notes=_fit_notes(fits, tokens, max_len, available), kv_pool_tokens=pool)


def _kv_capacity(facts: ModelFacts, available: int, per_token: int, max_len: int, in_flight: int,
                 release: Release) -> tuple[int, int, float]:
    """(pool tokens, the token count vLLM logs, max concurrency at max_len). vLLM 0.21+ logs
    max_concurrency x max_model_len: more than the pool's blocks x 16 for a sliding-window
    model, whose windowed layers hold fewer blocks per request."""
    pool = M.kv_tokens(available, per_token)
    concurrency = (pool // 16) / M.blocks_per_request(facts, max_len, in_flight)
    return pool, int(concurrency * max_len) if release.tokens_from_concurrency else pool, concurrency


def _llm_activation(facts: ModelFacts, gpu: GpuProfile, s: EngineSettings, dtype: str,
                    profiler: str, release: Release, batching: tuple[int, int]) -> int:
    """What vLLM itself calls peak activation memory: the profiling run's transient peak
    plus (vLLM 0.20+, unless eager) the CUDA graph memory estimate it reserves before the KV
    cache; `batching` is (max_num_batched_tokens, max_num_seqs)."""
    tokens, seqs = batching
    peak = M.activation_bytes(facts, dtype, s.tensor_parallel_size, tokens, seqs, profiler)
    if enforce_eager(s):
        return peak
    return peak + M.cudagraph_bytes(sum(cudagraph_capture_sizes(gpu, s, release)), profiler)


def _small_activation(facts: ModelFacts) -> int:
    """Non-LLMs: a batch's activations are small next to the weights; take 10% of the
    weights plus a 0.5 GiB allowance for the framework's workspace."""
    return int(facts.num_params * 0.2 + 0.5 * GiB)


def with_suggestion(result: SizeResult, note: str) -> SizeResult:
    return replace(result, notes=result.notes + (note,))
