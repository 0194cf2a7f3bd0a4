"""Cold start phases against the timings printed in published vLLM start-up logs
(tests/sizing_cases/startup_timings.yaml), and the plan's use of them."""

from __future__ import annotations

import re
import statistics
from pathlib import Path

import pytest

from stackgen.catalog import resolve_model
from stackgen.sizing.coldstart import cold_start
from stackgen.yamlio import read_data

CASES = Path(__file__).resolve().parents[2] / "sizing_cases" / "startup_timings.yaml"
#: names in the logs whose architecture the catalog has under another name
SAME_ARCHITECTURE = {"meta-llama/Meta-Llama-3-70B": "llama-3.1-70b", "Qwen/Qwen3-235B-A22B": "qwen3-235b-a22b",
                     "meta-llama/Meta-Llama-3-8B": "llama-3.1-8b"}


def logged():
    for case in read_data(CASES)["cases"]:
        name = str(case.get("model") or "").split(" ")[0]
        facts = resolve_model(SAME_ARCHITECTURE.get(name, name))
        if facts is None or case.get("compile_cache") not in ("cold", "warm"):
            continue
        predicted = cold_start(int(facts.num_params * 2), "hf://x", "llm", layers=facts.num_layers,
                               tp=case.get("tp") or 1, moe=bool(facts.num_experts))
        yield case, (predicted.first if case["compile_cache"] == "cold" else predicted.warm)


def _release(case) -> tuple[int, int] | None:
    import re

    m = re.match(r"(\d+)\.(\d+)", str(case.get("vllm") or ""))
    return (int(m.group(1)), int(m.group(2))) if m else None


def test_cold_torch_compile_matches_the_logs():
    ratios = [p["torchCompile"] / c["seconds"]["compile"] for c, p in logged()
              if c["compile_cache"] == "cold" and (c.get("seconds") or {}).get("compile")]
    assert len(ratios) >= 5
    assert 0.75 <= statistics.median(ratios) <= 1.33, ratios
    assert all(0.4 <= r <= 2.5 for r in ratios), ratios


def test_warm_compile_from_the_aot_cache_is_seconds_as_on_vllm_019_and_later():
    warm = [(c, p) for c, p in logged() if c["compile_cache"] == "warm" and (_release(c) or (0, 0)) >= (0, 19)
            and (c.get("seconds") or {}).get("compile")]
    assert len(warm) >= 2
    low = min(c["seconds"]["compile"] for c, _ in warm)
    high = max(c["seconds"]["compile"] for c, _ in warm)
    assert all(low <= p["torchCompile"] <= high for _, p in warm), warm


def test_cuda_graph_capture_matches_the_logs():
    # TP across nodes (Ray over the network: the "-2nodes"/"-4nodes" logs) is a layout stackgen
    # never plans, and captures graphs 2-10x slower
    ratios = [p["cudaGraphs"] / c["seconds"]["cuda_graphs"] for c, p in logged()
              if (c.get("seconds") or {}).get("cuda_graphs") and not re.search(r"-\d+nodes", c["id"])]
    assert len(ratios) >= 8
    assert 0.8 <= statistics.median(ratios) <= 1.25, ratios
    assert all(0.5 <= r <= 2.0 for r in ratios), ratios


def test_a_first_start_costs_more_than_a_warm_one_and_a_pvc_source_downloads_nothing():
    hf = cold_start(int(140e9), "hf://meta-llama/Llama-3.1-70B", "llm", weight_bytes_per_gpu=int(35e9),
                    layers=80, tp=4)
    pvc = cold_start(int(140e9), "pvc://models/llama", "llm", weight_bytes_per_gpu=int(35e9), layers=80, tp=4)
    assert hf.first_seconds > hf.warm_seconds + hf.first["download"]
    assert hf.first["download"] == pytest.approx(140 / 0.5)
    assert pvc.first["download"] == 0 and hf.warm["download"] == 0
    assert hf.first["torchCompile"] > 10 * hf.warm["torchCompile"]
