"""Memory per GPU: weights, KV cache bytes per token, profiling-run activation peak and
non-torch memory, modelled on what vLLM measures at start-up (see docs/sizing.md)."""

from __future__ import annotations

import math

from stackgen.catalog import GpuProfile, ModelFacts
from stackgen.sizing.engine import BLOCK_SIZE, DTYPE_BYTES, GiB

#: Bytes per quantized weight: int4 plus one fp16 scale (and packed zero) per group of 128.
QUANT_BYTES = {"fp8": 1.0, "awq": 0.5 + 2.5 / 128, "gptq": 0.5 + 2.5 / 128, "none": None}


def weight_bytes_per_param(quantization: str, dtype: str, facts: ModelFacts) -> float:
    per = QUANT_BYTES.get(quantization)
    if per is None and quantization not in ("none",):
        bits = (facts.config.get("quantization_config") or {}).get("bits")
        per = (int(bits) / 8 + 2.5 / 128) if bits else None
    return per if per is not None else DTYPE_BYTES[dtype]


def total_weight_bytes(facts: ModelFacts, dtype: str, quantization: str) -> int:
    """All weights: quantized linear layers, 16-bit embeddings and LM head."""
    body = facts.num_params - facts.embedding_params
    per = weight_bytes_per_param(quantization, dtype, facts)
    return int(body * per + facts.embedding_params * DTYPE_BYTES[dtype])


def weight_bytes_per_gpu(facts: ModelFacts, dtype: str, quantization: str, tp: int, pp: int) -> int:
    """Weights on the busiest GPU: layers split over PP stages (first stage also holds the
    embedding, last the LM head), every tensor split over TP ranks."""
    if not facts.is_llm:
        return total_weight_bytes(facts, dtype, quantization)
    body = facts.num_params - facts.embedding_params
    per = weight_bytes_per_param(quantization, dtype, facts)
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


def blocks_per_request(facts: ModelFacts, max_len: int) -> float:
    """Average KV blocks one max-length request holds per layer (sliding-window layers
    keep only the window)."""
    full = math.ceil(max_len / BLOCK_SIZE)
    if not facts.sliding_window_layers or not facts.sliding_window:
        return full
    window = math.ceil(min(facts.sliding_window, max_len) / BLOCK_SIZE) + 1
    sw = facts.sliding_window_layers
    return (full * (facts.num_layers - sw) + min(window, full) * sw) / facts.num_layers


#: Bytes per (sequence, vocabulary entry) the sampler's dummy run holds at its peak:
#: fp32 logits, a sorted copy with int64 indices for top-k/top-p, and probabilities.
SAMPLER_BYTES_PER_LOGIT = 40


def activation_bytes(facts: ModelFacts, dtype: str, tp: int, tokens: int, seqs: int) -> int:
    """Peak activation of vLLM's profiling run: the larger of one forward pass over
    `tokens` tokens (max_num_batched_tokens) and the sampler over `seqs` sequences.

    The forward peak is the MLP of one layer: gate/up output (2 x intermediate), the
    activated half (1 x intermediate), both split over TP ranks, beside the hidden state,
    residual and normed input (3 x hidden, replicated)."""
    b = DTYPE_BYTES[dtype]
    inter = facts.intermediate_size
    if facts.num_experts:
        topk = int(facts.config.get("num_experts_per_tok") or 2)
        inter = max(facts.moe_intermediate_size or inter, 1) * topk
    forward = tokens * (3 * inter / tp + 3 * facts.hidden_size) * b
    sampler = seqs * facts.vocab_size * SAMPLER_BYTES_PER_LOGIT + tokens * facts.hidden_size * b
    return int(max(forward, sampler))


#: Calibrated on the published logs in tests/sizing_cases (see docs/sizing.md).
NON_TORCH_GIB = 0.35
NCCL_GIB = 1.9
#: GPUs whose multi-GPU nodes are NVLink/NVSwitch (SXM): vLLM's custom all-reduce and
#: NCCL's P2P/NVLS buffers hold ~1.9 GiB there. On PCIe cards (L4, L40S, A10G, T4,
#: desktop GPUs) custom all-reduce is off beyond 2 GPUs and logs show 0.20-0.36 GiB of
#: non-torch memory in total at TP 2-8 (vLLM PR #14447, issue #13061).
NVLINK_GPUS = ("h100-80gb", "h200-141gb", "a100-80gb", "a100-40gb")


def non_torch_bytes(gpu: GpuProfile, tp: int, pp: int) -> int:
    """CUDA context, cuBLAS workspace and (TP/PP > 1 on NVLink GPUs) NCCL / custom
    all-reduce buffers outside torch's allocator."""
    base = NON_TORCH_GIB * GiB
    nccl = NCCL_GIB * GiB if tp * pp > 1 and gpu.id in NVLINK_GPUS else 0
    return int(base + nccl)
