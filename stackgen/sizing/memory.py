"""Memory per GPU: weights, KV cache bytes per token, profiling-run activation peak and
non-torch memory, modelled on what vLLM measures at start-up (see docs/sizing.md)."""

from __future__ import annotations

import math

from stackgen.catalog import GpuProfile, ModelFacts
from stackgen.sizing.engine import BLOCK_SIZE, DTYPE_BYTES, GiB

#: Bytes per quantized weight. int4 AWQ/GPTQ (and their Marlin kernels): 4 bits plus one
#: fp16 scale (and packed zero) per group of 128. MXFP4 (OCP microscaling, gpt-oss): 4 bits
#: plus one E8M0 scale byte per 32. NVFP4 (NVIDIA ModelOpt): 4 bits plus one FP8 scale per 16.
#: int8 W8A8 (compressed-tensors): 1 byte, per-channel scales negligible.
INT4_GROUP128 = 0.5 + 2.5 / 128
QUANT_BYTES = {"fp8": 1.0, "awq": INT4_GROUP128, "gptq": INT4_GROUP128, "awq_marlin": INT4_GROUP128,
               "gptq_marlin": INT4_GROUP128, "mxfp4": 0.5 + 1 / 32, "nvfp4": 0.5 + 1 / 16, "int8": 1.0,
               "none": None}


def weight_bytes_per_param(quantization: str, dtype: str, facts: ModelFacts) -> float:
    per = QUANT_BYTES.get(quantization)
    if per is None and quantization not in ("none",):
        bits = (facts.config.get("quantization_config") or {}).get("bits")
        per = (int(bits) / 8 + 2.5 / 128) if bits else None
    return per if per is not None else DTYPE_BYTES[dtype]


#: vLLM's MXFP4 MoE kernels pad each rank's expert intermediate size up to a multiple of 256
#: (`Mxfp4MoEMethod`: intermediate_size_per_partition_after_pad); gpt-oss-20b's 2880 becomes
#: 3072, which is the 13.47 GiB vLLM logs for it on one H100 (tests/unit/sizing).
MXFP4_PAD = 256


def marlin_fp8_scale_bytes(facts: ModelFacts, quantization: str, dtype: str, gpu: GpuProfile | None) -> float:
    """Bytes per weight of the scales vLLM makes for an FP8 checkpoint quantized in blocks
    (`weight_block_size`, e.g. Qwen's and DeepSeek's -FP8) on a GPU without FP8 compute
    (Ampere and older): the Marlin weight-only kernels take group-wise scales, so
    `prepare_fp8_layer_for_marlin` / `prepare_fp8_moe_layer_for_marlin` repeat each block's
    scale over its output channels in the model's dtype: one 16-bit scale per 128 weights."""
    if quantization != "fp8" or gpu is None or gpu.supports_fp8:
        return 0.0
    block = (facts.config.get("quantization_config") or {}).get("weight_block_size")
    if not block or len(block) != 2:
        return 0.0
    return DTYPE_BYTES[dtype] / int(block[1])


def body_bytes_per_param(facts: ModelFacts, quantization: str, dtype: str, tp: int = 1,
                         gpu: GpuProfile | None = None) -> float:
    """Mean bytes per parameter of the transformer body (all but embeddings and LM head) as
    loaded on a rank of `tp` of `gpu`. Checkpoints that quantize only the routed experts
    (gpt-oss's MXFP4: attention and router stay 16-bit, `modules_to_not_convert`) mix the two
    widths by parameter count."""
    per = weight_bytes_per_param(quantization, dtype, facts) + marlin_fp8_scale_bytes(facts, quantization, dtype, gpu)
    body = facts.num_params - facts.embedding_params
    if body <= 0 or not experts_only(facts):
        return per
    from stackgen.catalog.params import routed_expert_params

    routed = min(routed_expert_params(facts), body)
    if quantization == "mxfp4":
        inter = (facts.moe_intermediate_size or facts.intermediate_size) / max(tp, 1)
        padded = math.ceil(inter / MXFP4_PAD) * MXFP4_PAD
        per = per * padded / inter
    return (routed * per + (body - routed) * DTYPE_BYTES[dtype]) / body


def experts_only(facts: ModelFacts) -> bool:
    if not facts.num_experts:
        return False
    skipped = (facts.config.get("quantization_config") or {}).get("modules_to_not_convert") or ()
    return any("self_attn" in str(m) or "attn" in str(m) for m in skipped)


def total_weight_bytes(facts: ModelFacts, dtype: str, quantization: str, gpu: GpuProfile | None = None) -> int:
    """All weights: quantized linear layers, 16-bit embeddings and LM head."""
    body = facts.num_params - facts.embedding_params
    per = body_bytes_per_param(facts, quantization, dtype, gpu=gpu)
    return int(body * per + facts.embedding_params * DTYPE_BYTES[dtype])


def weight_bytes_per_gpu(facts: ModelFacts, dtype: str, quantization: str, tp: int, pp: int,
                         gpu: GpuProfile | None = None) -> int:
    """Weights on the busiest GPU: layers split over PP stages (first stage also holds the
    embedding, last the LM head), every tensor split over TP ranks."""
    if not facts.is_llm:
        return total_weight_bytes(facts, dtype, quantization, gpu)
    body = facts.num_params - facts.embedding_params
    per = body_bytes_per_param(facts, quantization, dtype, tp, gpu)
    layers_stage = math.ceil(facts.num_layers / pp) / facts.num_layers
    embed = facts.embedding_params * DTYPE_BYTES[dtype]
    embed_stage = embed if pp == 1 or facts.tie_word_embeddings else embed / 2
    return int((body * per * layers_stage + embed_stage) / tp)


def kv_bytes_per_token_layer(facts: ModelFacts, tp: int, kv_dtype_bytes: int) -> int:
    """KV cache bytes one token takes in one layer on one GPU.

    MLA keeps one latent vector (kv_lora_rank + qk_rope_head_dim) per token, replicated on
    every TP rank; other attention keeps K and V for the KV heads on this rank (GQA heads
    are replicated when there are fewer of them than TP ranks)."""
    if facts.uses_mla:
        return (facts.kv_lora_rank + facts.qk_rope_head_dim) * kv_dtype_bytes
    heads = max(1, facts.num_kv_heads // tp)
    return 2 * heads * facts.head_dim * kv_dtype_bytes


def kv_layers_per_gpu(facts: ModelFacts, pp: int) -> int:
    return math.ceil(facts.num_layers / pp)


def kv_bytes_per_token(facts: ModelFacts, tp: int, pp: int, kv_dtype_bytes: int) -> int:
    return kv_bytes_per_token_layer(facts, tp, kv_dtype_bytes) * kv_layers_per_gpu(facts, pp)


def kv_tokens(available: int, per_token: int) -> int:
    """Tokens the KV cache holds: whole blocks of BLOCK_SIZE tokens."""
    if available <= 0 or per_token <= 0:
        return 0
    return (available // (per_token * BLOCK_SIZE)) * BLOCK_SIZE


def blocks_per_request(facts: ModelFacts, max_len: int, in_flight: int = 0) -> float:
    """Average KV blocks one max-length request holds per layer. Sliding-window layers keep
    the window plus the tokens scheduled but not yet settled (`in_flight`: vLLM frees
    out-of-window blocks on processed tokens, so it reserves `window - 1 + in_flight` tokens
    and one block for the window's misalignment; `SlidingWindowSpec.max_admission_blocks_per_request`)."""
    full = math.ceil(max_len / BLOCK_SIZE)
    if not facts.sliding_window_layers or not facts.sliding_window:
        return full
    window = math.ceil(min(facts.sliding_window - 1 + in_flight, max_len) / BLOCK_SIZE) + 1
    sw = facts.sliding_window_layers
    return (full * (facts.num_layers - sw) + min(window, full) * sw) / facts.num_layers


#: Bytes per (sequence, vocabulary entry) live at the peak of the profiling run's dummy
#: sampler call, per vLLM accounting (`size(..., profiler)`):
#: - "v1": vLLM 0.32's default Model Runner V2 (`vllm/v1/worker/gpu/model_runner.py`
#:   `_dummy_sampler_run`): the dummy batch carries no sampling parameters, so
#:   `Sampler.apply_sampling_params` returns early and top-k/top-p are skipped; only the
#:   16-bit logits of `compute_logits` (2) exist, `gumbel_sample` keeps per-block maxima.
#: - "v1-0.25": Model Runner V2 as in vLLM 0.22-0.28 (some architectures from 0.22, every
#:   dense model from 0.25): the same sampler, but its `profile_cudagraph_memory` returned 0
#:   (the reservation came in 0.29).
#: - "v1-mrv1": the V1 model runner (`vllm/v1/worker/gpu_model_runner.py`) from vLLM 0.20,
#:   when the CUDA graph estimate started to be subtracted (MoE models until 0.29; FlashInfer
#:   top-k/top-p from 0.21 takes the same 14 bytes: fp32 logits, masked copy, softmax): the dummy metadata
#:   sets top-k/top-p and a second call with a generator takes `forward_native`: the
#:   16-bit logits (2), their fp32 copy (4; temperature and the Triton top-k/top-p work in
#:   place), the softmax probabilities (4) and the exponential noise `q` (4).
#: - "v1-0.10": V1 0.10 and 0.17-0.19 (Triton top-k/top-p), counted like "v1-mrv1" without
#:   the CUDA graph estimate (docs/sizing.md).
#: - "v1-0.11": V1 0.11-0.16, whose profiling run took PyTorch's sort path for top-k/top-p: its
#:   logs print a peak activation of 38 bytes per logit on every model (4.76 GiB for 1024 x
#:   128,256 logits on Llama-3.1-8B, 5.56 GiB for Qwen3-0.6B; llm-d's memory table).
#: - "legacy": the V0 sampler (full sort with int64 indices, cumulative sum, masks,
#:   logprobs always computed); 40 bytes reproduce the 1.26 GiB V0 logged in PR #10511.
SAMPLER_BYTES_PER_LOGIT = {"v1": 2, "v1-0.25": 2, "v1-mrv1": 14, "v1-0.10": 14, "v1-0.11": 38, "legacy": 40}
#: profilers that subtract the CUDA graph memory estimate before sizing the KV cache
CUDAGRAPH_RESERVED = ("v1", "v1-mrv1")
#: profilers of Model Runner V2 (no `rand_like` copy of the last-token states)
MODEL_RUNNER_V2 = ("v1", "v1-0.25")


def forward_peak_bytes(facts: ModelFacts, dtype: str, tp: int, tokens: int) -> int:
    """Peak of one forward pass over `tokens` tokens (`GPUModelRunner._dummy_run` with
    max_num_batched_tokens, attention skipped for lack of a KV cache, no logits): inside
    one decoder layer's MLP the residual, the layer's hidden state and the normed MLP
    input (3 x hidden, replicated on every TP rank) are live beside the gate_up
    projection output (2 x intermediate / TP) and the SiluAndMul output
    (1 x intermediate / TP); issue #10517's logged 2.1 / 3.0 GiB at 20,000 / 29,000
    tokens confirm the 3 x hidden. MoE layers hold the same per routed expert
    (top_k x moe_intermediate) plus the top_k expert outputs before they are summed."""
    b = DTYPE_BYTES[dtype]
    width = 3 * facts.hidden_size + 3 * facts.intermediate_size / tp
    if facts.num_experts:
        topk = int(facts.config.get("num_experts_per_tok") or 2)
        inter = max(facts.moe_intermediate_size or facts.intermediate_size, 1)
        width = 3 * facts.hidden_size + topk * (3 * inter / tp + facts.hidden_size)
    return int(tokens * width * b)


def sampler_peak_bytes(facts: ModelFacts, dtype: str, tokens: int, seqs: int,
                       profiler: str = "v1") -> int:
    """Peak of the sampler's dummy run over min(max_num_seqs, max_num_batched_tokens)
    sequences (`_dummy_run` returns the hidden states of the last token of each): the
    full-vocabulary logits (gathered over TP ranks) at the profiler's bytes per logit,
    beside the forward's output hidden states (tokens x hidden) that `profile_run` still
    holds and the gathered last-token states (seqs x hidden); the V1 runner also makes a
    random copy of those (`torch.rand_like`)."""
    reqs = min(seqs, tokens)
    copies = 1 if profiler in MODEL_RUNNER_V2 else 2
    hidden = (tokens + copies * reqs) * facts.hidden_size * DTYPE_BYTES[dtype]
    return int(reqs * facts.vocab_size * SAMPLER_BYTES_PER_LOGIT[profiler] + hidden)


def activation_bytes(facts: ModelFacts, dtype: str, tp: int, tokens: int, seqs: int,
                     profiler: str = "v1") -> int:
    """Transient peak of vLLM's profiling run (`memory_profiling`: torch's allocated peak
    minus what stays allocated): the larger of the forward pass and the sampler, which
    run one after the other."""
    return max(forward_peak_bytes(facts, dtype, tp, tokens),
               sampler_peak_bytes(facts, dtype, tokens, seqs, profiler))


#: CUDA context and cuBLAS workspace outside torch's allocator (logged 0.35 GiB in issue
#: #10517). Before vLLM ~0.10 the profiler measured non-torch memory from before the CUDA
#: context and NCCL existed, so these counted against the KV cache.
NON_TORCH_GIB = 0.35
NCCL_GIB = 1.9
#: vLLM 0.32 takes its start snapshot after the CUDA context and NCCL communicators exist
#: (`Worker.init_device`: "Initialize the distributed environment BEFORE taking memory
#: snapshot"), so only what appears later counts: cuBLAS/cuBLASLt workspaces, kernel
#: modules loaded by torch.compile and Triton, NCCL connections made on the first
#: collective, the sampler's Triton buffer (SMs x vocab x 4 bytes).
NON_TORCH_V1_GIB = 0.35
#: On GPUs whose nodes are NVLink/NVSwitch (SXM; the profile's `interconnect`), vLLM's
#: custom all-reduce and NCCL's P2P/NVLS buffers hold ~1.9 GiB. On PCIe cards (L4, L40S,
#: A10G, T4, desktop GPUs) custom all-reduce is off beyond 2 GPUs and logs show 0.20-0.36
#: GiB of non-torch memory in total at TP 2-8 (vLLM PR #14447, issue #13061).


def non_torch_bytes(gpu: GpuProfile, tp: int, pp: int, profiler: str = "v1") -> int:
    """Memory outside torch's allocator that vLLM's profiler charges to the model: with
    the current profiler only what appears after the start snapshot; with the legacy one
    also the CUDA context and (TP/PP > 1 on NVLink GPUs) NCCL / custom all-reduce buffers."""
    if profiler != "legacy":
        return int(NON_TORCH_V1_GIB * GiB)
    base = NON_TORCH_GIB * GiB
    nccl = NCCL_GIB * GiB if tp * pp > 1 and gpu.interconnect == "nvlink" else 0
    return int(base + nccl)


#: vLLM 0.20+ `GPUModelRunner.profile_cudagraph_memory` captures the first two graphs of
#: each mode, takes the first capture plus (graphs - 1) x the second's growth, and
#: `determine_available_memory` subtracts that estimate before sizing the KV cache
#: ("Estimated CUDA graph memory: N GiB total"). Modelled as a fixed part (the two first
#: captures: the graph pool's buffers at the largest size, driver state) plus a part per
#: graph; both FITTED on two logged estimates (Qwen2.5-7B, 54 graphs: 0.37 GiB; Qwen3-8B,
#: 86 graphs: 0.52 GiB), see docs/sizing.md.
CUDAGRAPH_BASE_GIB = 0.117
CUDAGRAPH_PER_GRAPH_GIB = 0.0047


def cudagraph_bytes(graphs: int, profiler: str = "v1") -> int:
    """CUDA graph memory vLLM reserves before sizing the KV cache: only the current
    profilers (vLLM 0.20+) do; 0.10-0.19 and older logged it but did not subtract it."""
    if profiler not in CUDAGRAPH_RESERVED or graphs <= 0:
        return 0
    return int((CUDAGRAPH_BASE_GIB + CUDAGRAPH_PER_GRAPH_GIB * graphs) * GiB)
