"""The performance model obeys the physics a user can check on a napkin: no decode step is
faster than reading the weights from HBM, more load never makes a token faster, more GPUs
per replica make a single request faster, fewer bytes per weight make it faster, and the
engine never runs more requests than its KV cache and max-num-seqs admit."""

from __future__ import annotations

import pytest

from stackgen.catalog import load_gpus, resolve_gpu, resolve_model
from stackgen.engine_settings import settings_from
from stackgen.perf import Workload, load_params, predict, replica_for
from stackgen.sizing import size, tp_choices

PARAMS = load_params()
LLMS = ["llama-3.1-8b", "qwen3-32b", "llama-3.1-70b", "mixtral-8x7b", "qwen3-235b-a22b"]


def replica(model: str, gpu: str, tp: int = 1, pp: int = 1, **settings):
    facts, g = resolve_model(model), resolve_gpu(gpu)
    result = size(facts, g, settings_from(tensor_parallel_size=tp, pipeline_parallel_size=pp,
                                          max_model_len=8192, **settings))
    return result, replica_for(facts, g, result, PARAMS)


def fitting_layouts():
    for model in LLMS:
        facts = resolve_model(model)
        for gpu in load_gpus().values():
            for tp in (t for t in tp_choices(facts, 8) if t in (1, 2, 4, 8)):
                result, rep = replica(model, gpu.id, tp)
                if result.fits:
                    yield model, gpu.id, tp, result, rep
                    break   # the smallest TP that fits, and the next ones below
            for tp in (t for t in tp_choices(facts, 8) if t in (4, 8)):
                result, rep = replica(model, gpu.id, tp)
                if result.fits:
                    yield model, gpu.id, tp, result, rep


@pytest.mark.parametrize("concurrency", [1, 16, 256])
def test_no_token_is_faster_than_reading_the_weights_from_hbm(concurrency):
    seen = 0
    for model, gpu, tp, result, rep in fitting_layouts():
        perf = predict(rep, PARAMS, Workload(1024, 256, concurrency=concurrency))
        floor = result.weight_bytes_per_gpu / (resolve_gpu(gpu).bandwidth_gbs * 1e9)
        if not resolve_model(model).num_experts:   # MoE: a token reads only its experts
            # every weight on the GPU but the input embedding (a lookup of one row per token)
            assert 0.9 * floor < perf.hbm_floor_s <= floor * 1.001, (model, gpu, tp)
        assert perf.tpot_s > perf.hbm_floor_s, (model, gpu, tp, concurrency)
        seen += 1
    assert seen > 20


def test_the_issue_example_a_70b_at_tp2_cannot_decode_256_tokens_in_4_s():
    result, rep = replica("llama-3.1-70b", "h100-80gb", tp=2)
    assert rep.hbm_floor_s() * 1e3 == pytest.approx(66e9 * 2 / 2 / 3.35e12 * 1e3, rel=0.08)  # ~21 ms
    perf = predict(rep, PARAMS, Workload(512, 256, concurrency=1))
    assert perf.e2e_s > 255 * rep.hbm_floor_s() > 4.0


def test_more_load_never_makes_a_token_faster_and_throughput_grows_to_the_limit():
    _, rep = replica("llama-3.1-8b", "h100-80gb")
    previous = None
    for c in (1, 2, 4, 8, 16, 32, 64, 128, 256, 512):
        perf = predict(rep, PARAMS, Workload(1024, 256, concurrency=c))
        if previous is not None:
            assert perf.tpot_s >= previous.tpot_s * 0.999, c
            assert perf.ttft_s >= previous.ttft_s * 0.999, c
            assert perf.output_tokens_per_s >= previous.output_tokens_per_s, c
        previous = perf
    assert previous.output_tokens_per_s > 20 * predict(rep, PARAMS, Workload(1024, 256, concurrency=1)).output_tokens_per_s


def test_more_gpus_per_replica_make_one_request_faster():
    tpots = [predict(replica("llama-3.1-70b", "h100-80gb", tp)[1], PARAMS,
                     Workload(512, 256, concurrency=1)).tpot_s for tp in (2, 4, 8)]
    assert tpots[0] > tpots[1] > tpots[2]
    assert tpots[0] / tpots[2] < 4    # all-reduce and fixed costs: less than linear


def test_pipeline_stages_do_not_make_one_request_faster():
    one = predict(replica("llama-3.1-70b", "h100-80gb", 8)[1], PARAMS, Workload(512, 256, concurrency=1))
    two = predict(replica("llama-3.1-70b", "h100-80gb", 8, 2)[1], PARAMS, Workload(512, 256, concurrency=1))
    assert two.tpot_s > one.tpot_s


def test_fp8_weights_decode_faster_than_bf16_and_an_int4_checkpoint_faster_still():
    w = Workload(512, 256, concurrency=1)
    bf16 = predict(replica("llama-3.1-8b", "l40s-48gb")[1], PARAMS, w).tpot_s
    fp8 = predict(replica("llama-3.1-8b", "l40s-48gb", quantization="fp8")[1], PARAMS, w).tpot_s
    awq = predict(replica("llama-3.1-8b", "l40s-48gb", quantization="awq")[1], PARAMS, w).tpot_s
    assert bf16 > fp8 > awq
    assert bf16 / fp8 > 1.5


def test_moe_reads_only_the_routed_experts_at_batch_one_and_all_of_them_at_large_batch():
    result, rep = replica("mixtral-8x7b", "h100-80gb", 2)
    dense_floor = result.weight_bytes_per_gpu / (3350e9)
    assert rep.hbm_floor_s() < 0.45 * dense_floor          # 2 of 8 experts (~13B of 47B active)
    from stackgen.perf import step_time
    small = step_time(rep, PARAMS, decode_seqs=1, decode_context=512, prefill_tokens=0).memory
    large = step_time(rep, PARAMS, decode_seqs=64, decode_context=512, prefill_tokens=0).memory
    assert large > 2.5 * small


def test_concurrency_is_capped_by_the_kv_cache_and_the_rest_queues():
    result, rep = replica("llama-3.1-70b", "h100-80gb", 2)
    perf = predict(rep, PARAMS, Workload(1024, 1024, concurrency=500))
    assert perf.saturated and perf.limited_by == "kv-cache" and perf.bound == "kv-cache"
    assert perf.concurrency == perf.limit == result.kv_cache_tokens // 2048
    at_limit = predict(rep, PARAMS, Workload(1024, 1024, concurrency=perf.limit))
    assert perf.ttft_s > at_limit.ttft_s + 10          # the queue in front of the engine
    assert perf.output_tokens_per_s == pytest.approx(at_limit.output_tokens_per_s)


def test_a_poisson_rate_keeps_little_s_law_and_saturates_beyond_the_engine():
    _, rep = replica("llama-3.1-8b", "h100-80gb")
    perf = predict(rep, PARAMS, Workload(512, 256, request_rate=4))
    assert not perf.saturated
    assert perf.requests_per_s == 4
    assert perf.concurrency == pytest.approx(4 * perf.e2e_s, rel=0.05)
    most = predict(rep, PARAMS, Workload(512, 256, concurrency=rep.max_num_seqs)).requests_per_s
    over = predict(rep, PARAMS, Workload(512, 256, request_rate=most * 2))
    assert over.saturated and over.requests_per_s < most * 1.01


def test_p95_is_not_below_the_mean_and_equals_it_for_one_request_at_a_time():
    _, rep = replica("llama-3.1-8b", "h100-80gb")
    alone = predict(rep, PARAMS, Workload(512, 256, concurrency=1))
    busy = predict(rep, PARAMS, Workload(512, 256, concurrency=64))
    assert alone.p95_e2e_s == pytest.approx(alone.e2e_s, rel=0.01)
    assert busy.p95_e2e_s > busy.e2e_s and busy.p95_ttft_s > busy.ttft_s
