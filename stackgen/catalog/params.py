"""Parameter counts from an HF ``config.json`` (decoder transformers, dense or MoE, MHA/GQA/MLA).

Pure functions over the config mapping; the same code serves catalog profiles and any
config.json given by path, so no model is special-cased.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def head_dim(cfg: Mapping[str, Any]) -> int:
    if cfg.get("head_dim"):
        return int(cfg["head_dim"])
    return int(cfg["hidden_size"]) // int(cfg["num_attention_heads"])


def num_experts(cfg: Mapping[str, Any]) -> int:
    for key in ("num_local_experts", "n_routed_experts", "num_experts"):
        if cfg.get(key):
            return int(cfg[key])
    return 0


def _attention_params(cfg: Mapping[str, Any]) -> int:
    h, heads = int(cfg["hidden_size"]), int(cfg["num_attention_heads"])
    if cfg.get("kv_lora_rank"):  # multi-head latent attention (DeepSeek-V2/V3)
        kvr, rope = int(cfg["kv_lora_rank"]), int(cfg["qk_rope_head_dim"])
        nope, v = int(cfg["qk_nope_head_dim"]), int(cfg["v_head_dim"])
        qr = int(cfg.get("q_lora_rank") or 0)
        q = (h * qr + qr + qr * heads * (nope + rope)) if qr else h * heads * (nope + rope)
        return q + h * (kvr + rope) + kvr + kvr * heads * (nope + v) + heads * v * h
    d = head_dim(cfg)
    kv = int(cfg.get("num_key_value_heads") or heads)
    return 2 * h * heads * d + 2 * h * kv * d


def _is_moe_layer(cfg: Mapping[str, Any], index: int) -> bool:
    if not num_experts(cfg):
        return False
    if index < int(cfg.get("first_k_dense_replace") or 0):
        return False
    if index in (cfg.get("mlp_only_layers") or ()):
        return False
    step = int(cfg.get("decoder_sparse_step") or cfg.get("moe_layer_freq") or 1)
    return (index + 1) % step == 0 if "decoder_sparse_step" in cfg else index % step == 0


def _mlp_params(cfg: Mapping[str, Any], index: int) -> int:
    h, inter = int(cfg["hidden_size"]), int(cfg.get("intermediate_size") or 4 * int(cfg["hidden_size"]))
    if not _is_moe_layer(cfg, index):
        return 3 * h * inter
    experts = num_experts(cfg)
    expert_inter = int(cfg.get("moe_intermediate_size") or inter)
    shared = int(cfg.get("n_shared_experts") or 0) * expert_inter
    shared += int(cfg.get("shared_expert_intermediate_size") or 0)
    return experts * 3 * h * expert_inter + h * experts + 3 * h * shared


def layer_params(cfg: Mapping[str, Any], index: int) -> int:
    """Parameters of decoder layer ``index`` (attention, MLP or MoE, two norms)."""
    return _attention_params(cfg) + _mlp_params(cfg, index) + 2 * int(cfg["hidden_size"])


def embedding_params(cfg: Mapping[str, Any]) -> int:
    """Input embedding plus the LM head (unless tied): the part kept 16-bit when quantized."""
    vh = int(cfg["vocab_size"]) * int(cfg["hidden_size"])
    return vh if cfg.get("tie_word_embeddings") else 2 * vh


def count_params(cfg: Mapping[str, Any]) -> int:
    layers = int(cfg["num_hidden_layers"])
    body = sum(layer_params(cfg, i) for i in range(layers))
    return body + embedding_params(cfg) + int(cfg["hidden_size"])


def routed_expert_params(facts) -> int:
    """Parameters of the routed experts in all MoE layers of a model's facts (0 for a dense
    model): experts x 3 matrices (gate, up, down) x hidden x expert intermediate size, over
    the layers that are MoE (DeepSeek's first_k_dense_replace, Qwen's mlp_only_layers and
    decoder_sparse_step are dense or skipped)."""
    experts = int(getattr(facts, "num_experts", 0) or 0)
    if not experts:
        return 0
    cfg = facts.config
    inter = facts.moe_intermediate_size or facts.intermediate_size
    dense_layers = int(cfg.get("first_k_dense_replace") or 0) + len(cfg.get("mlp_only_layers") or ())
    step = max(int(cfg.get("decoder_sparse_step") or 1), 1)
    moe_layers = max(facts.num_layers - dense_layers, 0) // step
    return moe_layers * experts * 3 * facts.hidden_size * inter
