"""What vLLM derives from the engine settings (:mod:`stackgen.engine_settings`, the one
contract): dtype, quantization, batching and CUDA graph defaults (V1 engine, `vllm serve`).

Every number here is vLLM's own default; the source lines are cited in docs/sizing.md.
"""

from __future__ import annotations

from stackgen.catalog import GpuProfile, ModelFacts
from stackgen.engine_settings import VLLM_GPU_MEMORY_UTILIZATION, EngineSettings
from stackgen.errors import InputError
from stackgen.sizing.releases import PINNED_RELEASE, Release

__all__ = ["EngineSettings", "VLLM_GPU_MEMORY_UTILIZATION", "validate"]

GiB = 1 << 30
PROFILERS = ("v1", "v1-0.25", "v1-mrv1", "v1-0.11", "v1-0.10", "legacy")
#: The vLLM memory accounting the default path models: the pinned vLLM 0.32 (Model Runner V2:
#: CUDA graph memory reserved before the KV cache, no sampling parameters in the profiling
#: run). Others: "v1-0.25" (Model Runner V2 in 0.22-0.28: no CUDA graph reservation),
#: "v1-mrv1" (0.20+ with the V1 model runner), "v1-0.10" (V1 0.10 and 0.17-0.19: no CUDA
#: graph reservation), "v1-0.11" (0.11-0.16: the sort-path sampler profiling), "legacy" (V0
#: and V1 <= 0.9); which release gets which: stackgen.sizing.releases, docs/sizing.md
DEFAULT_PROFILER = "v1"
#: vLLM's KV cache block size (tokens per block) on CUDA.
BLOCK_SIZE = 16
DTYPE_BYTES = {"bfloat16": 2, "float16": 2, "float32": 4}


def _bad(field: str, message: str, fix: str) -> InputError:
    return InputError(message, field=field, fix=fix)


def validate(facts: ModelFacts, gpu: GpuProfile | None, s: EngineSettings,
             profiler: str = DEFAULT_PROFILER, release: Release = PINNED_RELEASE) -> None:
    """Reject settings vLLM itself would reject for this model and GPU, with the flag to
    change (the contract's own types and ranges are checked when the settings are made)."""
    if profiler not in PROFILERS:
        raise _bad("profiler", f"'{profiler}' is not a known vLLM accounting",
                   f"use one of: {', '.join(PROFILERS)}")
    if facts.is_llm:
        _check_llm(facts, gpu, s, release)


def _check_llm(facts: ModelFacts, gpu: GpuProfile | None, s: EngineSettings, release: Release) -> None:
    tp = s.tensor_parallel_size
    if facts.num_attention_heads % tp:
        raise _bad("tp", f"{facts.name} has {facts.num_attention_heads} attention heads, which "
                   f"tensor parallel size {tp} does not divide",
                   f"use a divisor of {facts.num_attention_heads}: {', '.join(map(str, tp_choices(facts)))}")
    if s.pipeline_parallel_size > facts.num_layers:
        raise _bad("pp", f"pipeline parallel size {s.pipeline_parallel_size} exceeds the "
                   f"{facts.num_layers} layers of {facts.name}", "use fewer pipeline stages")
    limit = facts.max_position_embeddings
    if s.max_model_len and limit and s.max_model_len > limit:
        raise _bad("max-model-len", f"{s.max_model_len} exceeds the model's max_position_embeddings ({limit})",
                   f"pass --max-model-len {limit} or less")
    if gpu is not None:
        tokens, seqs = batching_defaults(gpu, s, release)
        if tokens < seqs:   # vLLM's SchedulerConfig refuses it
            which = "max-num-batched-tokens" if s.max_num_batched_tokens else "max-num-seqs"
            raise _bad(which, f"max-num-batched-tokens ({tokens}) is smaller than max-num-seqs ({seqs}): "
                       "vLLM refuses to start", f"raise --max-num-batched-tokens to {seqs} or more, or lower "
                       "--max-num-seqs")
    if gpu is not None and s.dtype == "bfloat16" and not gpu.supports_bf16:
        raise _bad("dtype", f"{gpu.id} (compute capability {gpu.compute_capability}) has no bfloat16",
                   "pass --dtype float16")


def tp_choices(facts: ModelFacts, limit: int = 64) -> list[int]:
    """Tensor parallel sizes vLLM accepts for the model: divisors of the attention heads."""
    heads = max(facts.num_attention_heads, 1)
    return [n for n in range(1, min(heads, limit) + 1) if heads % n == 0]


def compute_dtype(facts: ModelFacts, gpu: GpuProfile | None, s: EngineSettings) -> str:
    """The dtype vLLM runs in: `auto` takes the config's, float32 becomes 16-bit, and
    bfloat16 falls back to float16 on GPUs older than Ampere."""
    if s.dtype != "auto":
        return s.dtype
    dtype = facts.torch_dtype if facts.torch_dtype in DTYPE_BYTES else "bfloat16"
    if dtype == "float32":
        dtype = "bfloat16"
    if dtype == "bfloat16" and gpu is not None and not gpu.supports_bf16:
        dtype = "float16"
    return dtype


def effective_quantization(facts: ModelFacts, s: EngineSettings) -> str:
    """The flag wins; otherwise the checkpoint's own quantization_config."""
    if s.quantization != "none":
        return s.quantization
    return facts.quantization or "none"


def enforce_eager(s: EngineSettings) -> bool:
    """`--enforce-eager` among the engine's extra arguments: vLLM then neither compiles
    (CompilationMode.NONE) nor captures CUDA graphs (CUDAGraphMode.NONE), so no graph
    estimate is subtracted and no compile scratch is charged (vllm/config/vllm.py)."""
    for arg in s.extra_args:
        name, _, value = arg.partition("=")
        if name == "--enforce-eager" and value.lower() not in ("false", "0", "no"):
            return True
    return False


def large_gpu(gpu: GpuProfile) -> bool:
    """vLLM's `EngineArgs.get_batch_defaults` test: >= 70 GiB of device memory and not an A100."""
    return gpu.memory_bytes >= 70 * GiB and "a100" not in gpu.name.lower()


def batching_defaults(gpu: GpuProfile, s: EngineSettings | None = None,
                      release: Release = PINNED_RELEASE) -> tuple[int, int]:
    """(max_num_batched_tokens, max_num_seqs): the settings' values, else what `vllm serve`
    (OPENAI_API_SERVER usage context) picks for this GPU: 8192 / 1024 from 70 GiB except
    A100s, 2048 / 256 otherwise, and since vLLM 0.28 16384 / 1024 from 160 GiB (B200,
    MI300X class) under `release` (stackgen.sizing.releases)."""
    if gpu.memory_bytes >= 160 * GiB and release.top_tier:
        tokens, seqs = 16384, 1024
    else:
        tokens, seqs = (8192, 1024) if large_gpu(gpu) else (2048, 256)
    if s is not None:
        tokens = s.max_num_batched_tokens or tokens
        seqs = s.max_num_seqs or seqs
    return tokens, seqs


def cudagraph_capture_sizes(gpu: GpuProfile, s: EngineSettings | None = None,
                            release: Release = PINNED_RELEASE) -> tuple[int, int]:
    """(PIECEWISE graphs, FULL decode graphs) vLLM captures by default
    (`VllmConfig._set_cudagraph_sizes`, cudagraph_mode FULL_AND_PIECEWISE): sizes 1, 2, 4,
    then every 8 below 256, then every 16, up to min(2 x max_num_seqs, 512,
    max_num_batched_tokens) (1024 on Blackwell datacenter GPUs since vLLM 0.28), plus
    max_num_batched_tokens itself when it is smaller (0.20.1+); FULL decode graphs for the
    sizes up to max_num_seqs. `release` as for `batching_defaults`."""
    tokens, seqs = batching_defaults(gpu, s, release)
    blackwell = gpu.compute_capability.split(".")[0] == "10" and not gpu.gpu_class.startswith("cdna")
    ceiling = 1024 if blackwell and release.sm100_1024 else 512
    top = min(2 * seqs, ceiling, tokens)
    sizes = {n for n in (1, 2, 4) if n <= top} | set(range(8, min(top + 1, 256), 8))
    sizes |= set(range(256, top + 1, 16))
    if tokens <= top and release.batch_graph:
        sizes.add(tokens)
    return len(sizes), sum(1 for n in sizes if n <= seqs)
