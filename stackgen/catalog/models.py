"""The model catalog: one YAML file per model under ``profiles/models/`` holding its
``config.json`` fields; any HF ``config.json`` given by path is read the same way."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from stackgen.catalog import params as P
from stackgen.yamlio import read_data
from stackgen.resources import profiles_dir

#: (architecture name suffix, kind) in match order: the kind of a config given by path.
KIND_BY_ARCHITECTURE = (
    ("ForCausalLM", "llm"), ("LMHeadModel", "llm"), ("ForSequenceClassification", "reranker"),
    ("ForSpeechSeq2Seq", "speech"), ("WhisperForConditionalGeneration", "speech"),
    ("ForConditionalGeneration", "llm"), ("ForImageClassification", "vision"),
    ("BertModel", "embedding"), ("RobertaModel", "embedding"), ("Model", "embedding"),
)
LLM_FIELDS = ("hidden_size", "num_hidden_layers", "num_attention_heads", "vocab_size")


@dataclass(frozen=True)
class ModelFacts:
    """What sizing needs to know about a model, all taken from its config.json."""

    name: str
    hf_id: str | None
    kind: str
    num_params: int
    embedding_params: int = 0
    num_layers: int = 0
    hidden_size: int = 0
    num_attention_heads: int = 0
    num_kv_heads: int = 0
    head_dim: int = 0
    vocab_size: int = 0
    intermediate_size: int = 0
    num_experts: int = 0
    moe_intermediate_size: int = 0
    kv_lora_rank: int = 0
    qk_rope_head_dim: int = 0
    sliding_window: int | None = None
    sliding_window_layers: int = 0
    max_position_embeddings: int | None = None
    torch_dtype: str = "bfloat16"
    quantization: str | None = None
    tie_word_embeddings: bool = False
    architecture: str = ""
    aliases: tuple[str, ...] = ()
    origin: str = ""
    config: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}), compare=False)

    @property
    def is_llm(self) -> bool:
        return self.kind == "llm"

    @property
    def uses_mla(self) -> bool:
        return self.kv_lora_rank > 0


class ConfigError(ValueError):
    """A config.json lacks a field sizing needs (or describes a model stackgen cannot size);
    ``field`` names it, ``fix`` says what to do instead."""

    def __init__(self, message: str, field_name: str, fix: str = "use the model's complete HF config.json") -> None:
        super().__init__(message)
        self.field = field_name
        self.fix = fix


#: attention layer types whose cache is the paged KV cache stackgen sizes (HF `layer_types`)
ATTENTION_LAYER_TYPES = {"full_attention", "sliding_attention", "attention", "chunked_attention"}
#: config keys of hybrid models whose other layers keep a recurrent state (linear attention,
#: Mamba/SSM): Qwen3-Next's full_attention_interval, Jamba's attn_layer_period, Nemotron-H's
#: hybrid_override_pattern, Granite/Zamba's layers_block_type, the Mamba state sizes
HYBRID_KEYS = ("full_attention_interval", "attn_layer_period", "attn_layer_indices", "hybrid_override_pattern",
               "layers_block_type", "mamba_d_state", "ssm_state_size", "mamba_expand", "linear_num_key_heads")


def _hybrid(cfg: Mapping[str, Any]) -> tuple[str, str] | None:
    """(config key, what it shows) when the model is a hybrid of attention and recurrent
    layers, else None."""
    types = cfg.get("layer_types")
    if isinstance(types, list):
        other = sorted({str(t) for t in types} - ATTENTION_LAYER_TYPES)
        if other:
            return "layer_types", f"layer_types holds {', '.join(other)}"
    for key in HYBRID_KEYS:
        if cfg.get(key) not in (None, "", [], 0):
            return key, f"config.json sets {key}"
    return None


def _text_config(cfg: Mapping[str, Any]) -> Mapping[str, Any]:
    """Multimodal configs keep the language model's fields under ``text_config``."""
    if "hidden_size" not in cfg and isinstance(cfg.get("text_config"), Mapping):
        merged = dict(cfg["text_config"])
        merged.setdefault("architectures", cfg.get("architectures"))
        merged.setdefault("torch_dtype", cfg.get("torch_dtype"))
        merged.setdefault("quantization_config", cfg.get("quantization_config"))
        return merged
    return cfg


def infer_kind(cfg: Mapping[str, Any]) -> str:
    arch = (cfg.get("architectures") or [""])[0] or ""
    for suffix, kind in KIND_BY_ARCHITECTURE:
        if arch.endswith(suffix):
            return kind
    return "llm" if all(k in cfg for k in LLM_FIELDS) else "other"


def _sliding(cfg: Mapping[str, Any], layers: int) -> tuple[int | None, int]:
    window = cfg.get("sliding_window")
    if not window or cfg.get("use_sliding_window") is False:
        return None, 0
    types = cfg.get("layer_types")
    count = sum(1 for t in types if t == "sliding_attention") if types else layers
    return int(window), count


def _quantization(cfg: Mapping[str, Any]) -> str | None:
    """The checkpoint's quantization in stackgen's names: NVIDIA ModelOpt NVFP4 is nvfp4;
    llm-compressor's compressed-tensors is int8 (W8A8) or int4 (W4A16, as awq) by its weight bits."""
    qcfg = cfg.get("quantization_config") or {}
    method = str(qcfg.get("quant_method") or "").lower()
    if method in ("modelopt", "modelopt_fp4") and "fp4" in str(qcfg.get("quant_algo") or method).lower():
        return "nvfp4"
    if method == "compressed-tensors":
        bits = {int(((g or {}).get("weights") or {}).get("num_bits") or 0)
                for g in (qcfg.get("config_groups") or {}).values() if isinstance(g, Mapping)}
        if bits == {8}:
            return "int8"
        if bits == {4}:
            return "awq"
    return method or None


def _llm_fields(cfg: Mapping[str, Any]) -> dict[str, Any]:
    hybrid = _hybrid(cfg)
    if hybrid is not None:
        key, why = hybrid
        raise ConfigError(f"a hybrid model ({why}): its linear-attention or state-space layers keep a "
                          "recurrent state that vLLM pages together with the KV cache (in blocks of its own "
                          "size), which stackgen does not size yet", key,
                          fix="read the KV cache size off a vLLM start ('GPU KV cache size: N tokens'), or "
                              "size a full-attention model")
    for key in LLM_FIELDS:
        if not cfg.get(key):
            raise ConfigError(f"config.json has no '{key}' (needed to size an LLM)", key)
    layers, heads = int(cfg["num_hidden_layers"]), int(cfg["num_attention_heads"])
    window, sw_layers = _sliding(cfg, layers)
    return dict(
        embedding_params=P.embedding_params(cfg), num_layers=layers, hidden_size=int(cfg["hidden_size"]),
        num_attention_heads=heads, num_kv_heads=int(cfg.get("num_key_value_heads") or heads),
        head_dim=P.head_dim(cfg), vocab_size=int(cfg["vocab_size"]),
        intermediate_size=int(cfg.get("intermediate_size") or 4 * int(cfg["hidden_size"])),
        num_experts=P.num_experts(cfg), moe_intermediate_size=int(cfg.get("moe_intermediate_size") or 0),
        kv_lora_rank=int(cfg.get("kv_lora_rank") or 0), qk_rope_head_dim=int(cfg.get("qk_rope_head_dim") or 0),
        sliding_window=window, sliding_window_layers=sw_layers,
        tie_word_embeddings=bool(cfg.get("tie_word_embeddings")),
    )


def facts_from_config(config: Mapping[str, Any], *, name: str, hf_id: str | None = None,
                      kind: str | None = None, num_params: int | None = None,
                      aliases: tuple[str, ...] = (), origin: str = "") -> ModelFacts:
    """ModelFacts from a config.json mapping; raises ConfigError when a needed field is missing."""
    cfg = _text_config(config)
    kind = kind or infer_kind(cfg)
    extra = _llm_fields(cfg) if kind == "llm" else {}
    if num_params is None:
        if kind != "llm":
            raise ConfigError("the parameter count of a non-LLM cannot be derived from config.json; "
                              "give 'num_params'", "num_params")
        num_params = P.count_params(cfg)
    pos = cfg.get("max_position_embeddings")
    return ModelFacts(
        name=name, hf_id=hf_id, kind=kind, num_params=int(num_params),
        max_position_embeddings=int(pos) if pos else None,
        torch_dtype=str(cfg.get("torch_dtype") or "bfloat16"), quantization=_quantization(cfg),
        architecture=(cfg.get("architectures") or [""])[0] or "", aliases=tuple(aliases),
        origin=origin, config=MappingProxyType(dict(config)), **extra,
    )


@cache
def load_models() -> dict[str, ModelFacts]:
    """Every catalog model by name."""
    out = {}
    for path in sorted((profiles_dir() / "models").glob("*.yaml")):
        doc = read_data(path)
        out[doc["name"]] = facts_from_config(
            doc["config"], name=doc["name"], hf_id=doc.get("hf_id"), kind=doc.get("kind"),
            num_params=doc.get("num_params"), aliases=tuple(doc.get("aliases") or ()),
            origin=doc.get("source") or str(path))
    return out


def model_names() -> list[str]:
    return list(load_models())


@cache
def _index() -> dict[str, str]:
    index: dict[str, str] = {}
    for facts in load_models().values():
        for key in (facts.name, facts.hf_id or "", *facts.aliases):
            if key:
                index.setdefault(key.lower(), facts.name)
                index.setdefault(key.lower().rsplit("/", 1)[-1], facts.name)
    return index


def _lookup(key: str) -> ModelFacts | None:
    key = key.strip().lower().rstrip("/")
    index = _index()
    for candidate in (key, key.rsplit("/", 1)[-1]):
        if candidate in index:
            return load_models()[index[candidate]]
    return None


def _variants(name: str) -> list[str]:
    """The name and its base names with chat/instruct suffixes removed."""
    out, base = [name], name
    for suffix in ("-instruct", "-chat", "-it", "-hf", "-base"):
        if base.endswith(suffix):
            base = base[: -len(suffix)]
            out.append(base)
    return out


def _from_path(ref: str) -> ModelFacts:
    from stackgen.errors import InputError

    path = Path(ref).expanduser()
    config_path = path / "config.json" if path.is_dir() else path
    if not config_path.is_file():
        raise InputError(f"no config.json at '{config_path}'", file=str(config_path),
                         fix="pass a catalog model name, or the path of an HF config.json (or its folder)")
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise InputError(f"cannot read '{config_path}' as JSON: {err}", file=str(config_path),
                         fix="give the model's HF config.json") from None
    if not isinstance(config, dict):
        raise InputError("config.json must hold a JSON object", file=str(config_path))
    try:
        return facts_from_config(config, name=path.name if path.is_dir() else path.parent.name or path.stem,
                                 origin=str(config_path))
    except ConfigError as err:
        raise InputError(str(err), file=str(config_path), field=err.field, fix=err.fix) from None


def _looks_like_path(ref: str) -> bool:
    return ref.endswith(".json") or ref.startswith((".", "/", "~")) or Path(ref).expanduser().exists()


def resolve_model(ref: str) -> ModelFacts | None:
    """A catalog name, an HF id the catalog knows (case-insensitive), or a path to a
    config.json / a folder holding one. None when unknown; InputError for a bad path."""
    if _looks_like_path(ref):
        return _from_path(ref)
    for candidate in _variants(ref.strip().lower()):
        facts = _lookup(candidate)
        if facts is not None:
            return facts
    return None


def model_from_source(source: str) -> ModelFacts | None:
    """Facts for a stack's model source: ``hf://org/name`` (or a bare HF id) by its id;
    other schemes by the last path element (``s3://b/Llama-3.1-8B-Instruct``)."""
    ref = source.strip()
    if "://" in ref:
        scheme, rest = ref.split("://", 1)
        ref = rest if scheme == "hf" else rest.rstrip("/").rsplit("/", 1)[-1]
    if not ref:
        return None
    for candidate in _variants(ref.lower()):
        facts = _lookup(candidate)
        if facts is not None:
            return facts
    return None
