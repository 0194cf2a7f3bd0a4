"""What the vLLM release a user runs does at start-up (`--vllm-version`, `spec.render.vllmVersion`).

vLLM changed how it measures the memory it leaves to the KV cache, and the defaults it
starts with, several times. `CHANGES` is the table of those changes, read off each
release's own source (docs/sizing.md, "Which vLLM release"); a row holds until a later
row changes it. `release_for` turns a version, a model and a GPU into a `Release`: the
accounting (`stackgen.sizing.engine.PROFILERS`) and the defaults that release starts with.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

#: the release the reference runtime pins, and the newest whose accounting is modelled
PINNED = "0.32"
OLDEST = (0, 2)
NEWEST = (0, 32)

#: X.Y[.Z[.N]], then PEP 440 pre/post/dev segments and a +local label (vLLM's nightly and
#: vendor builds: 0.20.1rc1.dev16+g7a1eb8ac2, 0.13.0+faa43dbf.nv26.01)
_VERSION = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?(?:\.\d+)*(?:[.-]?(?:rc|post|dev|a|b)\d*)*(?:\+[\w.]+)?$")

#: Architectures Model Runner V2 runs by default before it ran every model (vLLM
#: `DEFAULT_V2_MODEL_RUNNER_ARCHITECTURES`, vllm/config/vllm.py).
_MRV2_022 = frozenset({"Qwen3ForCausalLM"})
_MRV2_023 = _MRV2_022 | {"LlamaForCausalLM", "MistralForCausalLM"}
_MRV2_024 = _MRV2_023 | {"DeepseekV2ForCausalLM", "Qwen2MoeForCausalLM", "GraniteMoeForCausalLM"}

#: (first release, what it changed). Keys:
#: - sampler / sampler_rocm: the V1 model runner's top-k/top-p in the profiling run's dummy
#:   sampler on CUDA / ROCm: "legacy" (V0 and V1 <= 0.9 accounting), "sort" (PyTorch
#:   full-vocabulary sort, profiler v1-0.11), "fused" (FlashInfer/Triton: 14 bytes per logit,
#:   v1-0.10 / v1-mrv1)
#: - utilization: vLLM's default --gpu-memory-utilization
#: - graphs_cuda / graphs_rocm: the CUDA graph estimate is subtracted before the KV cache
#: - mrv2: which models get Model Runner V2 by default: None, an architecture set (dense and
#:   unquantized only in 0.22-0.23), "dense" (every non-MoE model plus the 0.24 set), "all"
#: - mrv2_graphs: Model Runner V2 estimates its CUDA graphs (0.29; it returned 0 before)
#: - top_tier: 16384 tokens / 1024 sequences on GPUs with >= 160 GiB
#: - sm100_1024: capture sizes up to 1024 on Blackwell datacenter GPUs (compute capability 10.x)
#: - batch_graph: max_num_batched_tokens joins the capture sizes when it is below the largest
#: - tokens_from_concurrency: the logged token count is max_concurrency x max_model_len
#: - async_in_flight: a sliding window reserves the tokens of every concurrent batch (async
#:   scheduling keeps two in flight), not one max_num_batched_tokens
#: - compile_scratch: an empty torch.compile cache costs KV cache (the scratch is profiled)
CHANGES: tuple[tuple[tuple[int, int, int], dict], ...] = (
    ((0, 2, 0), dict(sampler="legacy", sampler_rocm="legacy", utilization=0.90, graphs_cuda=False, graphs_rocm=False, mrv2=None,
                     mrv2_dense_only=False, mrv2_graphs=False, top_tier=False, sm100_1024=False,
                     batch_graph=False, tokens_from_concurrency=False, async_in_flight=False,
                     compile_scratch=False)),
    # V1: start snapshot after the CUDA context and NCCL; FlashInfer top-k/top-p where it is
    # installed (the vllm-openai image), on CUDA only: ROCm takes the sort path
    ((0, 10, 0), dict(sampler="fused", sampler_rocm="sort")),
    ((0, 11, 0), dict(sampler="sort")),      # the sort path (0.11.1: FlashInfer sampler off, PR #26859)
    ((0, 17, 0), dict(sampler="fused", sampler_rocm="fused")),     # Triton top-k/top-p (PR #33538)
    ((0, 20, 0), dict(utilization=0.92, graphs_cuda=True)),   # PR #38284
    ((0, 20, 1), dict(batch_graph=True)),
    # "GPU KV cache size" = max_concurrency x max_model_len (kv_cache_utils), was
    # num_blocks // groups x block_size
    ((0, 21, 0), dict(tokens_from_concurrency=True)),
    ((0, 22, 0), dict(mrv2=_MRV2_022, mrv2_dense_only=True)),
    ((0, 23, 0), dict(mrv2=_MRV2_023)),
    ((0, 24, 0), dict(mrv2=_MRV2_024, mrv2_dense_only=False)),
    ((0, 25, 0), dict(mrv2="dense")),         # PR #44443
    ((0, 26, 0), dict(graphs_rocm=True)),
    # a cold torch.compile's scratch is charged to the profiling peak (vLLM issues #54122, #54383)
    ((0, 27, 0), dict(compile_scratch=True)),
    # sliding windows reserve every concurrent batch's tokens (VllmConfig.max_in_flight_tokens)
    ((0, 28, 0), dict(top_tier=True, sm100_1024=True, async_in_flight=True)),
    ((0, 29, 0), dict(mrv2="all", mrv2_graphs=True)),
)


#: the keys of CHANGES a Release carries as they are
FLAGS = ("top_tier", "sm100_1024", "batch_graph", "tokens_from_concurrency", "async_in_flight", "compile_scratch")


class UnsupportedVersion(ValueError):
    """A version string stackgen cannot read, or a release whose accounting it does not know."""


@dataclass(frozen=True)
class Release:
    """One vLLM release as the sizing sees it, for one model: its accounting on NVIDIA (CUDA)
    and AMD (ROCm) GPUs, and the defaults it starts with. `for_gpu` picks the platform."""

    version: str
    #: (profiler, model runner) on CUDA and on ROCm; profilers: stackgen.sizing.engine.PROFILERS,
    #: runners: "v2" (Model Runner V2), "v1" (the V1 engine's GPUModelRunner) or "v0"
    cuda: tuple[str, str]
    rocm: tuple[str, str]
    #: vLLM's default --gpu-memory-utilization
    gpu_memory_utilization: float
    #: the release's behaviours of CHANGES (keys of FLAGS)
    top_tier: bool
    sm100_1024: bool
    batch_graph: bool
    tokens_from_concurrency: bool
    async_in_flight: bool
    compile_scratch: bool
    on_rocm: bool = False

    @property
    def profiler(self) -> str:
        """The memory accounting (stackgen.sizing.engine.PROFILERS) on this release's platform."""
        return (self.rocm if self.on_rocm else self.cuda)[0]

    @property
    def model_runner(self) -> str:
        return (self.rocm if self.on_rocm else self.cuda)[1]

    def in_flight_batches(self, pp: int = 1) -> int:
        """Batches of max_num_batched_tokens a sliding window reserves room for: one before
        0.28; then `VllmConfig.max_concurrent_batches` under the default async scheduling
        (PP + 1 on Model Runner V2; 2 on the V1 runner, which runs PP > 1 synchronously)."""
        if not self.async_in_flight:
            return 1
        if self.model_runner == "v2":
            return pp + 1
        return 2 if pp <= 1 else pp

    def for_gpu(self, gpu) -> Release:
        """This release on `gpu`'s platform (AMD Instinct GPUs run ROCm)."""
        rocm = gpu is not None and is_rocm(gpu)
        return self if rocm == self.on_rocm else replace(self, on_rocm=rocm)


def is_rocm(gpu) -> bool:
    return gpu.gpu_class.startswith("cdna")


def parse(version: str) -> tuple[int, int, int]:
    m = _VERSION.match(str(version).strip())
    if not m:
        raise UnsupportedVersion(f"{version!r} is not a vLLM version: give X.Y or X.Y.Z, e.g. 0.11 or 0.25.1")
    return int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)


def _state(number: tuple[int, int, int]) -> dict:
    state: dict = {}
    for first, change in CHANGES:
        if number >= first:
            state.update(change)
    return state


def _uses_mrv2(state: dict, facts) -> bool:
    """Model Runner V2 by default for this model (vllm/config/vllm.py
    `_is_default_v2_model_runner_model`): never for pooling models before 0.29; "quantized"
    is the checkpoint's own quantization_config (ModelConfig.is_quantized), not a flag."""
    rule = state["mrv2"]
    if rule is None:
        return False
    if rule == "all":
        return True
    if facts is not None and not facts.is_llm:
        return False
    moe = bool(facts is not None and facts.num_experts)
    archs = set((facts.config.get("architectures") if facts is not None else None) or ())
    if rule == "dense":
        return not moe or bool(archs & _MRV2_024)
    quantized = bool(facts is not None and facts.config.get("quantization_config"))
    return bool(archs & rule) and not (state["mrv2_dense_only"] and (moe or quantized))


def _accounting(state: dict, number: tuple[int, int, int], facts, rocm: bool) -> tuple[str, str]:
    graphs = state["graphs_rocm"] if rocm else state["graphs_cuda"]
    sampler = state["sampler_rocm"] if rocm else state["sampler"]
    if sampler == "legacy":
        return "legacy", "v0" if number < (0, 8, 0) else "v1"
    if _uses_mrv2(state, facts):
        return ("v1" if state["mrv2_graphs"] and graphs else "v1-0.25"), "v2"
    if sampler == "sort":
        return "v1-0.11", "v1"
    return ("v1-mrv1" if graphs else "v1-0.10"), "v1"


def release_for(version: str, facts=None, gpu=None) -> Release:
    """The `Release` of vLLM `version` for model `facts` (None: a dense model) on `gpu`'s
    platform (None: NVIDIA); UnsupportedVersion outside 0.2 - 0.32."""
    number = parse(version)
    if number[:2] < OLDEST or number[:2] > NEWEST:
        raise UnsupportedVersion(f"vLLM {version} is outside the releases whose memory accounting stackgen "
                                 f"models (0.{OLDEST[1]} to {PINNED}): size with {PINNED}, or the nearest "
                                 "release you can run")
    state = _state(number)
    label = ".".join(map(str, number if number[2] else number[:2]))
    release = Release(label, _accounting(state, number, facts, False), _accounting(state, number, facts, True),
                      state["utilization"], **{flag: state[flag] for flag in FLAGS})
    return release.for_gpu(gpu)


#: the pinned release for a dense model on an NVIDIA GPU: what `size` answers without --vllm-version
PINNED_RELEASE = release_for(PINNED)
