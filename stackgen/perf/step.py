"""The time of one vLLM engine step on one replica, from the model's facts and the GPU (pure).

A step runs every running sequence's next token (decode) and a chunk of prompt tokens
(chunked prefill) through the model. Per GPU of a pipeline stage it reads the stage's
weights (for MoE only the experts the step's tokens route to) and the decoding sequences'
KV cache from HBM, performs 2 FLOPs per active parameter per token plus attention over
each token's context, and all-reduces each layer's output across the tensor-parallel
group twice. The step takes the longer of the memory and the compute time (a roofline),
plus the all-reduces and a fixed engine overhead (near the ridge, where both matter, a
smooth maximum of the two). docs/performance-model.md has the
formulas and their sources.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from stackgen.catalog import GpuProfile, ModelFacts
from stackgen.perf.params import PerfParams
from stackgen.sizing import memory as M
from stackgen.sizing.engine import DTYPE_BYTES

#: activations exchanged by the all-reduces and between pipeline stages: 16-bit
ACT_BYTES = 2


@dataclass(frozen=True)
class Replica:
    """One replica's work per token, on the busiest GPU of one pipeline stage."""

    gpu: GpuProfile
    tp: int
    pp: int
    layers: int                  # layers per stage
    hidden: int
    dense_bytes: float           # weights read by every step, per GPU of a stage
    expert_bytes: float          # one routed expert over the stage's layers, per GPU
    experts: int                 # routed experts per layer (0: dense model)
    topk: int                    # experts per token
    flops_per_token: float       # 2 x active dense parameters (attention, shared, LM head), per GPU of a stage
    expert_flops_per_token: float  # 2 x the routed experts' parameters a token uses, per GPU of a stage
    expert_slice: int            # columns of one expert's MLP on each GPU (intermediate size / TP)
    attn_flops_per_ctx: float    # attention FLOPs per token per context token, per GPU of a stage
    kv_bytes_per_token: float    # KV cache per token, per GPU of a stage
    peak_flops: float            # FLOP/s: fp8 tensor cores for fp8 weights and activations, else 16-bit
    compute_factor: float        # below 1 for weight-only int4 kernels
    max_num_batched_tokens: int
    max_num_seqs: int
    kv_cache_tokens: int | None

    @property
    def gpus(self) -> int:
        return self.tp * self.pp

    def hbm_floor_s(self) -> float:
        """The fastest a batch-1 decode step can be: the stages' weights read once at the
        GPU's peak bandwidth (every stage in turn)."""
        one_token = self.dense_bytes + min(self.experts, self.topk) * self.expert_bytes
        return self.pp * one_token / (self.gpu.bandwidth_gbs * 1e9)


def moe_split(facts: ModelFacts) -> tuple[int, int, int]:
    """(routed-expert parameters in all layers, experts per layer, experts per token); zeros
    for a dense model. Shared experts and dense layers count with the dense weights."""
    from stackgen.catalog.params import routed_expert_params

    experts = int(facts.num_experts or 0)
    if not experts:
        return 0, 0, 0
    cfg = facts.config
    topk = int(cfg.get("num_experts_per_tok") or cfg.get("experts_per_token") or cfg.get("moe_topk") or 2)
    routed = routed_expert_params(facts)
    return min(routed, max(facts.num_params - facts.embedding_params, 0)), experts, min(topk, experts)


def _peak_flops(gpu: GpuProfile, quantization: str) -> float:
    if quantization in ("fp8", "int8", "mxfp4", "nvfp4") and gpu.fp8_tflops:
        return gpu.fp8_tflops * 1e12      # w8a8 on fp8 tensor cores (Ada, Hopper and newer)
    return gpu.bf16_tflops * 1e12         # 16-bit; weight-only fp8 on Ampere runs 16-bit math


def replica(facts: ModelFacts, gpu: GpuProfile, *, tp: int, pp: int, dtype: str, quantization: str,
            kv_bytes_per_token: int, max_num_batched_tokens: int, max_num_seqs: int,
            kv_cache_tokens: int | None, params: PerfParams) -> Replica:
    """The per-token work of `facts` split over TP x PP GPUs in `dtype` / `quantization`."""
    per = M.weight_bytes_per_param(quantization, dtype, facts)
    dense_per = per if not M.experts_only(facts) else DTYPE_BYTES[dtype]   # gpt-oss: 16-bit attention
    body = max(facts.num_params - facts.embedding_params, 0)
    routed, experts, topk = moe_split(facts)
    dense = body - routed
    layers = max(facts.num_layers, 1)
    stage_layers = math.ceil(layers / pp)
    share = stage_layers / layers / tp                      # of the body, per GPU of a stage
    lm_head = facts.vocab_size * facts.hidden_size           # read once per step, on the last stage
    lm_head_bytes = lm_head * DTYPE_BYTES[dtype] / tp / pp    # spread over the stages (each in turn)
    heads = max(facts.num_attention_heads // tp, 1)
    if facts.uses_mla:   # absorbed MLA: scores over the latent and rope parts, values over the latent
        attn = 2 * heads * (2 * facts.kv_lora_rank + facts.qk_rope_head_dim) * stage_layers
    else:
        attn = 4 * heads * max(facts.head_dim, 1) * stage_layers
    int4 = quantization in ("awq", "gptq", "awq_marlin", "gptq_marlin") or (
        per < 1 and quantization not in ("fp8", "int8", "mxfp4", "nvfp4"))
    return Replica(
        gpu=gpu, tp=tp, pp=pp, layers=stage_layers, hidden=facts.hidden_size,
        dense_bytes=dense * dense_per * share + lm_head_bytes,
        expert_bytes=(routed / experts * per * share) if experts else 0.0,
        experts=experts, topk=topk,
        flops_per_token=2 * dense * share + 2 * lm_head / tp / pp,
        expert_flops_per_token=2 * (routed * topk / experts if experts else 0) * share,
        expert_slice=max((facts.moe_intermediate_size or facts.intermediate_size) // tp, 1) if experts else 0,
        attn_flops_per_ctx=attn,
        kv_bytes_per_token=kv_bytes_per_token,
        peak_flops=_peak_flops(gpu, quantization),
        compute_factor=params.int4_compute_factor if int4 else 1.0,
        max_num_batched_tokens=max_num_batched_tokens, max_num_seqs=max_num_seqs,
        kv_cache_tokens=kv_cache_tokens)


@dataclass(frozen=True)
class StepTime:
    """Seconds of one engine step over all pipeline stages, and its parts."""

    memory: float
    compute: float
    comm: float
    overhead: float
    kernels: float = 0.0         # memory and compute together (the roofline of the two)

    @property
    def total(self) -> float:
        return self.kernels + self.comm + self.overhead

    @property
    def bound(self) -> str:
        parts = {"memory-bandwidth": self.memory if self.memory >= self.compute else 0.0,
                 "compute": self.compute if self.compute > self.memory else 0.0,
                 "interconnect": self.comm, "engine-overhead": self.overhead}
        return max(parts, key=parts.__getitem__)


def step_time(r: Replica, params: PerfParams, *, decode_seqs: float, decode_context: float,
              prefill_tokens: float, prefill_context: float = 0.0) -> StepTime:
    """One step with `decode_seqs` sequences decoding at `decode_context` tokens of context
    each and `prefill_tokens` prompt tokens at `prefill_context` tokens of context on
    average. With PP > 1 the batch is split into PP micro-batches in flight, so a token
    passes PP stages, each running 1/PP of the sequences."""
    pp = r.pp
    d = decode_seqs / pp
    p = prefill_tokens / pp
    tokens = d + p
    if r.experts and tokens > 0:
        touched = r.experts * (1 - (1 - r.topk / r.experts) ** tokens)
    else:
        touched = 0.0
    kv = (d * decode_context + p) * r.kv_bytes_per_token    # read decoding contexts, write new tokens
    bandwidth = r.gpu.bandwidth_gbs * 1e9 * params.hbm_efficiency
    # routed experts are read by grouped kernels a few tokens per expert: below dense bandwidth
    memory = (r.dense_bytes + kv) / bandwidth + touched * r.expert_bytes / (bandwidth * params.moe_hbm_efficiency)
    # expert GEMMs split over TP get narrow (Qwen3-235B at TP 8: 192 columns): their
    # efficiency falls as slice / (slice + moe_slice_half)
    expert_eff = r.expert_slice / (r.expert_slice + params.moe_slice_half) if r.experts else 1.0
    flops = tokens * (r.flops_per_token + r.expert_flops_per_token / expert_eff) / r.compute_factor
    flops += (d * decode_context + p * prefill_context) * r.attn_flops_per_ctx
    compute = flops / (r.peak_flops * params.mfu_max)
    comm = 0.0
    if r.tp > 1:
        ar = params.allreduce.get(r.gpu.interconnect) or params.allreduce["pcie"]
        message = tokens * r.hidden * ACT_BYTES
        ring = 2 * (r.tp - 1) / r.tp * message / (r.gpu.interconnect_gbs * 1e9 * ar.bus_efficiency)
        comm = 2 * r.layers * (ar.latency_us * 1e-6 + ring)
    hop = 0.0
    if pp > 1:
        hop = params.inter_node_latency_us * 1e-6 + tokens * r.hidden * ACT_BYTES / (params.inter_node_gbs * 1e9)
    overhead = (params.step_overhead_ms + params.step_overhead_per_seq_us * 1e-3 * decode_seqs) * 1e-3
    kernels = pp * r.layers * params.layer_overhead_us * 1e-6 * (params.moe_layer_factor if r.experts else 1.0)
    return StepTime(memory=pp * memory, compute=pp * compute, comm=pp * comm + (pp - 1) * hop,
                    overhead=overhead + kernels, kernels=pp * _roofline(memory, compute, params.roofline_k))


def _roofline(memory: float, compute: float, k: float) -> float:
    """The step's kernel time: the larger of memory and compute time when one dominates,
    more than either near the ridge where both matter (a smooth maximum of order k)."""
    if memory <= 0 or compute <= 0:
        return max(memory, compute)
    return (memory ** k + compute ** k) ** (1 / k)
