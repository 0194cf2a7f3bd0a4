"""Quantization formats a user runs: the bytes each weight takes, checkpoints that keep
attention in 16 bits (gpt-oss), the names vLLM's --quantization takes, and checkpoint
configs that say which format they are."""

from __future__ import annotations

import pytest

from stackgen.catalog import resolve_gpu, resolve_model
from stackgen.catalog.models import _quantization
from stackgen.engine_settings import settings_from, vllm_flags
from stackgen.sizing import size
from stackgen.sizing.engine import GiB

BITS = {"none": 16, "fp8": 8, "int8": 8, "nvfp4": 4 + 8 / 16, "mxfp4": 4 + 8 / 32, "awq": 4 + 20 / 128,
        "awq_marlin": 4 + 20 / 128, "gptq": 4 + 20 / 128, "gptq_marlin": 4 + 20 / 128}


@pytest.mark.parametrize("quant", sorted(BITS))
def test_weights_take_their_format_s_bits_and_embeddings_stay_16_bit(quant):
    facts = resolve_model("llama-3.1-8b")
    result = size(facts, resolve_gpu("h100"), settings_from(max_model_len=8192, quantization=quant))
    body = facts.num_params - facts.embedding_params
    expected = body * BITS[quant] / 8 + facts.embedding_params * 2
    assert result.weight_bytes_per_gpu == pytest.approx(expected, rel=1e-6)
    assert result.fits


def test_gpt_oss_keeps_attention_in_bf16_and_matches_the_logged_weights():
    """vLLM 0.11 on one H100: "Model loading took 13.47 GiB" (tests/sizing_cases/startup_timings.yaml)."""
    facts = resolve_model("openai/gpt-oss-20b")
    assert facts.quantization == "mxfp4"
    result = size(facts, resolve_gpu("h100"), settings_from(max_model_len=8192))
    assert result.quantization == "mxfp4"
    assert result.weight_bytes_per_gpu / GiB == pytest.approx(13.47, rel=0.01)
    everything_mxfp4 = (facts.num_params - facts.embedding_params) * (4.25 / 8) + facts.embedding_params * 2
    assert result.weight_bytes_per_gpu > everything_mxfp4 * 1.05     # attention is not 4-bit


@pytest.mark.parametrize("ours,vllm", [("nvfp4", "modelopt_fp4"), ("int8", "compressed-tensors"),
                                       ("mxfp4", "mxfp4"), ("awq_marlin", "awq_marlin")])
def test_the_runtime_passes_vllm_s_name_for_each_format(ours, vllm):
    args = vllm_flags(settings_from(quantization=ours))
    assert args[args.index("--quantization") + 1] == vllm


@pytest.mark.parametrize("qcfg,expected", [
    ({"quant_method": "modelopt", "quant_algo": "NVFP4"}, "nvfp4"),
    ({"quant_method": "compressed-tensors", "config_groups": {"group_0": {"weights": {"num_bits": 8}}}}, "int8"),
    ({"quant_method": "compressed-tensors", "config_groups": {"group_0": {"weights": {"num_bits": 4}}}}, "awq"),
    ({"quant_method": "mxfp4"}, "mxfp4"), ({"quant_method": "fp8"}, "fp8"), ({}, None)])
def test_a_checkpoint_config_names_its_format(qcfg, expected):
    assert _quantization({"quantization_config": qcfg}) == expected


def test_block_fp8_checkpoints_on_gpus_without_fp8_carry_marlin_s_group_scales():
    """vLLM runs a block-quantized FP8 checkpoint on Ampere through the Marlin weight-only
    kernels, which repeat each 128 x 128 block's scale over its output channels in 16 bits:
    one 2-byte scale per 128 weights more than on a GPU with FP8 compute. Qwen3-Coder-30B-A3B
    -FP8 logs 29.54 GiB of weights on an A100-40GB (vLLM 0.19.1)."""
    facts = resolve_model("Qwen/Qwen3-Coder-30B-A3B-Instruct-FP8")
    assert facts is not None and facts.quantization == "fp8"
    settings = settings_from(max_model_len=32768, gpu_memory_utilization=0.9)
    ampere = size(facts, resolve_gpu("a100-40gb"), settings)
    hopper = size(facts, resolve_gpu("h100"), settings)
    body = facts.num_params - facts.embedding_params
    assert ampere.weight_bytes_per_gpu - hopper.weight_bytes_per_gpu == pytest.approx(body * 2 / 128, rel=0.01)
    assert abs(ampere.weight_bytes_per_gpu / GiB - 29.54) < 0.15
    # online FP8 of a 16-bit checkpoint quantizes per tensor: no group scales
    bf16 = resolve_model("qwen3-coder-30b-a3b")
    online = [size(bf16, resolve_gpu(gpu), settings.replace(quantization="fp8")).weight_bytes_per_gpu
              for gpu in ("a100-40gb", "h100")]
    assert online[0] == online[1]
