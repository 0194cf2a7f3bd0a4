"""Sizing math: properties vLLM's own numbers obey, errors for settings vLLM rejects."""

from __future__ import annotations


import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stackgen.catalog import resolve_gpu, resolve_model
from stackgen.errors import InputError
from stackgen.sizing import EngineSettings, plan_model, size

LLAMA8 = resolve_model("llama-3.1-8b")
H100 = resolve_gpu("h100-80gb")


def test_llama_8b_kv_bytes_per_token_is_128_kib():
    result = size(LLAMA8, H100, EngineSettings(max_model_len=8192))
    assert result.kv_bytes_per_token == 2 * 32 * 8 * 128 * 2
    assert result.fits and result.kv_cache_tokens % 16 == 0


def test_mla_keeps_one_latent_per_token_replicated_over_tp():
    ds = resolve_model("deepseek-v3")
    result = size(ds, resolve_gpu("h200"), EngineSettings(tensor_parallel_size=8, max_model_len=32768))
    assert result.kv_bytes_per_token == (512 + 64) * 61 * 2


def test_fp8_kv_cache_doubles_the_tokens():
    base = size(LLAMA8, H100, EngineSettings(max_model_len=8192))
    fp8 = size(LLAMA8, H100, EngineSettings(max_model_len=8192, kv_cache_dtype="fp8"))
    assert fp8.kv_bytes_per_token * 2 == base.kv_bytes_per_token
    assert fp8.kv_cache_tokens == pytest.approx(2 * base.kv_cache_tokens, rel=0.001)


def test_tp2_halves_weights_per_gpu():
    one = size(LLAMA8, H100, EngineSettings(max_model_len=8192))
    two = size(LLAMA8, H100, EngineSettings(tensor_parallel_size=2, max_model_len=8192))
    assert two.weight_bytes_per_gpu == pytest.approx(one.weight_bytes_per_gpu / 2, rel=0.001)


def test_quantization_shrinks_weights_but_keeps_embeddings_16_bit():
    bf16 = size(LLAMA8, H100, EngineSettings(max_model_len=8192)).weight_bytes_total
    awq = size(LLAMA8, H100, EngineSettings(max_model_len=8192, quantization="awq")).weight_bytes_total
    embed = LLAMA8.embedding_params * 2
    assert embed < awq < bf16 / 2.5


@settings(max_examples=30, deadline=None)
@given(st.integers(min_value=512, max_value=65536), st.integers(min_value=512, max_value=65536))
def test_concurrency_falls_as_max_model_len_rises(a, b):
    short, long = sorted((a, b))
    c_short = size(LLAMA8, H100, EngineSettings(max_model_len=short)).max_concurrency
    c_long = size(LLAMA8, H100, EngineSettings(max_model_len=long)).max_concurrency
    assert c_long <= c_short


@settings(max_examples=30, deadline=None)
@given(st.floats(min_value=0.3, max_value=1.0), st.floats(min_value=0.3, max_value=1.0))
def test_kv_tokens_rise_with_utilization(a, b):
    low, high = sorted((a, b))
    t_low = size(LLAMA8, H100, EngineSettings(gpu_memory_utilization=low, max_model_len=4096)).kv_cache_tokens
    t_high = size(LLAMA8, H100, EngineSettings(gpu_memory_utilization=high, max_model_len=4096)).kv_cache_tokens
    assert t_low <= t_high


def test_70b_on_one_h100_does_not_fit_and_json_has_the_contract_keys():
    result = size(resolve_model("llama-3.1-70b"), H100, EngineSettings(max_model_len=8192))
    assert not result.fits
    assert list(result.to_json()) == [
        "model", "gpu", "tensorParallelSize", "pipelineParallelSize", "dtype", "quantization",
        "maxModelLen", "weightsGiBPerGpu", "kvCacheGiBPerGpu", "kvCacheTokens", "maxConcurrency",
        "fits", "notes"]


@pytest.mark.parametrize("settings_kwargs,field", [
    ({"tensor_parallel_size": 3}, "tp"),
    ({"max_model_len": 10**7}, "max-model-len"),
])
def test_settings_vllm_rejects_for_this_model_are_input_errors(settings_kwargs, field):
    with pytest.raises(InputError) as err:
        size(LLAMA8, H100, EngineSettings(**settings_kwargs))
    assert err.value.field == field


@pytest.mark.parametrize("settings_kwargs,field", [
    ({"gpu_memory_utilization": 0.0}, "gpuMemoryUtilization"),
    ({"gpu_memory_utilization": 1.2}, "gpuMemoryUtilization"),
    ({"dtype": "int8"}, "dtype"),
    ({"tensor_parallel_size": 0}, "tensorParallelSize"),
])
def test_settings_outside_the_contract_are_refused_where_they_are_made(settings_kwargs, field):
    """The same contract render, runtime, lint and sizing share refuses these for any model."""
    from stackgen.engine_settings import SettingsError, settings_from

    with pytest.raises(SettingsError) as err:
        settings_from(**settings_kwargs)
    assert err.value.fields == [field]


def test_bfloat16_on_t4_is_rejected_and_auto_falls_back_to_float16():
    t4 = resolve_gpu("t4")
    with pytest.raises(InputError):
        size(resolve_model("llama-3.2-1b"), t4, EngineSettings(dtype="bfloat16", max_model_len=4096))
    assert size(resolve_model("llama-3.2-1b"), t4, EngineSettings(max_model_len=4096)).dtype == "float16"


def plan_on(model: dict, pools: list[dict]):
    """One model planned by the real path (decide: the layout search for LLMs)."""
    from pathlib import Path

    from stackgen.catalog import stack_facts
    from stackgen.decide import decide
    from stackgen.spec import parse_stack

    stack = parse_stack({"apiVersion": "stackgen.dev/v1alpha1", "kind": "Stack", "metadata": {"name": "t"},
                         "spec": {"cluster": {"provider": "generic", "nodePools": pools},
                                  "models": [{"name": "m", "kind": "llm", **model}]}}, "stackgen.yaml")
    return decide(stack, stack_facts(stack, Path("."))).model("m")


def test_plan_picks_the_smallest_tp_that_fits():
    """The layout the plan holds to (an SLO only a single request alone meets): the smallest
    tensor-parallel group whose memory fits, since any wider one costs more."""
    plan = plan_on({"source": "hf://meta-llama/Llama-3.1-70B-Instruct", "maxModelLen": 8192,
                    "traffic": {"peakRps": 0.01, "avgInputTokens": 512, "avgOutputTokens": 256},
                    "slo": {"p95LatencyMs": 600000}}, [{"name": "h", "gpu": "h100-80gb", "nodes": 1}])
    tp = plan.tensor_parallel_size
    assert plan.slo["met"] and tp in (2, 4, 8) and plan.gpus_per_replica == tp
    smaller = size(resolve_model("llama-3.1-70b"), H100, EngineSettings(tensor_parallel_size=tp // 2,
                                                                       max_model_len=8192,
                                                                       gpu_memory_utilization=0.9))
    assert not smaller.fits


def test_plan_uses_pipeline_parallel_across_nodes_for_405b():
    plan = plan_on({"source": "hf://meta-llama/Llama-3.1-405B-Instruct", "maxModelLen": 8192,
                    "traffic": {"peakRps": 1, "avgInputTokens": 512, "avgOutputTokens": 256}},
                   [{"name": "h", "gpu": "h100-80gb", "nodes": 2}])
    assert (plan.tensor_parallel_size, plan.pipeline_parallel_size) == (8, 2)


def test_plan_replicas_grow_with_request_rate():
    kw = dict(source="hf://meta-llama/Llama-3.1-8B-Instruct", maxModelLen=8192)
    pools = [{"name": "h", "gpu": "h100-80gb", "nodes": 4}]
    low = plan_on({**kw, "traffic": {"peakRps": 1, "avgInputTokens": 512, "avgOutputTokens": 256}}, pools)
    high = plan_on({**kw, "traffic": {"peakRps": 200, "avgInputTokens": 512, "avgOutputTokens": 256}}, pools)
    assert high.replicas_min > low.replicas_min >= 1 and high.replicas_max >= high.replicas_min


def test_plan_unknown_model_is_skipped_with_a_fix():
    sizing = plan_model(None, H100, gpus_per_node=8, nodes=1, peak_rps=1, source="hf://org/mystery")
    assert sizing.result is None and "modelConfig" in sizing.reasons[0]


def test_plan_cpu_pool_embedding_and_cold_start_by_scheme():
    facts = resolve_model("all-minilm-l6-v2")
    kw = dict(gpus_per_node=0, nodes=2, peak_rps=10)
    pvc = plan_model(facts, None, source="pvc://models/minilm", **kw)
    hf = plan_model(facts, None, source="hf://sentence-transformers/all-MiniLM-L6-v2", **kw)
    assert pvc.fits and pvc.gpus_per_replica == 0 and pvc.cold_start_seconds < hf.cold_start_seconds


def test_plan_llm_on_cpu_pool_does_not_fit():
    sizing = plan_model(LLAMA8, None, gpus_per_node=0, nodes=1, peak_rps=1, source="hf://x")
    assert not sizing.fits and "GPU" in sizing.reasons[0]


def test_70b_tp2_on_h100_fits_with_vllm_032_profiler_not_with_the_legacy_one():
    """vLLM 0.32 (Model Runner V2, utilization 0.92 by default): the profiling run's
    sampler holds only the 16-bit logits (2 bytes x 1024 x 128,256), so the forward pass
    at 8192 tokens (~0.9 GiB) is the peak; no CUDA context or NCCL is charged; ~0.6 GiB is
    reserved for 102 CUDA graphs: about 5 GiB of KV cache remain. The V1 runner's sampler
    (14 bytes per logit) leaves less, and the legacy (V0) accounting at 0.9 none."""
    s = EngineSettings(tensor_parallel_size=2, max_model_len=8192)
    now = size(resolve_model("llama-3.1-70b"), H100, s)
    assert now.gpu_memory_utilization == 0.92
    assert now.fits and 4.5 * 2**30 < now.kv_cache_bytes_per_gpu < 6 * 2**30
    assert now.max_num_seqs == 1024 and now.activation_bytes < 2 * 2**30
    mrv1 = size(resolve_model("llama-3.1-70b"), H100, s, "v1-mrv1")
    assert mrv1.kv_cache_bytes_per_gpu < now.kv_cache_bytes_per_gpu - 0.5 * 2**30
    legacy = size(resolve_model("llama-3.1-70b"), H100, s.replace(gpu_memory_utilization=0.9), "legacy")
    assert not legacy.fits


def test_unknown_profiler_is_rejected():
    with pytest.raises(InputError):
        size(LLAMA8, H100, EngineSettings(), "v2")


def test_cuda_graph_counts_are_the_ones_vllm_logs():
    """"Profiling CUDA graph memory: PIECEWISE=51 (largest=512), FULL=35 (largest=256)" with
    256 sequences; "PIECEWISE=35 (largest=256), FULL=19 (largest=128)" with 128."""
    from stackgen.sizing.engine import cudagraph_capture_sizes

    l40s = resolve_gpu("l40s-48gb")
    assert cudagraph_capture_sizes(l40s, EngineSettings()) == (51, 35)
    assert cudagraph_capture_sizes(l40s, EngineSettings(max_num_seqs=128)) == (35, 19)
    assert cudagraph_capture_sizes(H100, EngineSettings()) == (51, 51)


def test_v1_reserves_cuda_graph_memory_and_v1_010_does_not():
    """0.21+ subtracts the CUDA graph estimate; 0.10-0.20 (same V1 runner sampler) did not."""
    s = EngineSettings(max_model_len=8192)
    now = size(LLAMA8, H100, s, "v1-mrv1")
    older = size(LLAMA8, H100, s, "v1-0.10")
    reserved = older.kv_cache_bytes_per_gpu - now.kv_cache_bytes_per_gpu
    assert 0.4 * 2**30 < reserved < 0.8 * 2**30
    assert older.kv_cache_tokens > now.kv_cache_tokens
