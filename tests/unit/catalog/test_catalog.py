"""The GPU and model catalogs: contract ids, aliases, config-derived facts."""

from __future__ import annotations

import json

import pytest

from stackgen.catalog import gpu_ids, load_models, model_from_source, resolve_gpu, resolve_model
from stackgen.errors import InputError

CONTRACT = ["h100-80gb", "h200-141gb", "a100-80gb", "a100-40gb", "l40s-48gb", "l4-24gb", "a10g-24gb", "t4-16gb"]


def test_contract_gpu_ids_come_first_in_order():
    assert gpu_ids()[: len(CONTRACT)] == CONTRACT


@pytest.mark.parametrize("name", ["H100", "h100", "h100-80gb", "NVIDIA-H100-80GB-HBM3"])
def test_gpu_aliases_resolve_case_insensitively(name):
    assert resolve_gpu(name).id == "h100-80gb"


def test_gpu_memory_is_the_cuda_runtime_total_not_the_marketing_number():
    assert resolve_gpu("h100-80gb").memory_bytes == 85_031_714_816
    assert resolve_gpu("h100-80gb").memory_gib == 79.19
    assert resolve_gpu("h200").memory_gib < 143771 / 1024  # below nvidia-smi's total


def test_unknown_gpu_lists_the_known_ones():
    with pytest.raises(LookupError, match="unknown GPU 'b300'; known: h100-80gb"):
        resolve_gpu("b300")


@pytest.mark.parametrize("name,billions", [
    ("llama-3.1-8b", 8.03), ("llama-3.1-70b", 70.55), ("llama-3.1-405b", 405.85), ("llama-3.2-1b", 1.24),
    ("qwen2.5-7b", 7.62), ("mixtral-8x7b", 46.70), ("deepseek-v3", 671.03), ("gemma-2-9b", 9.24),
])
def test_parameter_counts_from_config_match_the_model_cards(name, billions):
    assert resolve_model(name).num_params / 1e9 == pytest.approx(billions, abs=0.01)


def test_every_catalog_model_has_kind_and_params():
    for facts in load_models().values():
        assert facts.kind in {"llm", "embedding", "reranker", "vision", "speech", "tabular", "other"}
        assert facts.num_params > 0


def test_hf_ids_and_instruct_variants_resolve():
    assert resolve_model("META-LLAMA/Llama-3.1-8B-Instruct").name == "llama-3.1-8b"
    assert model_from_source("hf://meta-llama/Llama-3.1-8B-Instruct").name == "llama-3.1-8b"
    assert model_from_source("hf://Qwen/Qwen2.5-7B-Instruct").name == "qwen2.5-7b"
    assert model_from_source("s3://bucket/models/Llama-3.3-70B-Instruct").name == "llama-3.3-70b"
    assert model_from_source("hf://nobody/unknown-model") is None


def test_mla_and_sliding_window_facts_come_from_config():
    ds = resolve_model("deepseek-v3")
    assert ds.uses_mla and ds.kv_lora_rank == 512 and ds.quantization == "fp8"
    assert resolve_model("gemma-2-9b").sliding_window == 4096


def test_a_config_json_by_path_gives_the_same_facts_as_the_catalog(tmp_path):
    facts = resolve_model("llama-3.1-8b")
    (tmp_path / "config.json").write_text(json.dumps(dict(facts.config)))
    by_path = resolve_model(str(tmp_path))
    assert by_path.num_params == facts.num_params
    assert by_path.num_kv_heads == facts.num_kv_heads and by_path.kind == "llm"


def test_config_without_needed_fields_names_the_field(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"architectures": ["LlamaForCausalLM"], "hidden_size": 4096}))
    with pytest.raises(InputError) as err:
        resolve_model(str(path))
    assert err.value.field == "num_hidden_layers" and str(path) in err.value.render()


def test_missing_path_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="no config.json"):
        resolve_model(str(tmp_path / "nope" / "config.json"))
