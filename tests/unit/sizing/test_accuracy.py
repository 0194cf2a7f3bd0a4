"""Predictions against published vLLM start-up logs (tests/sizing_cases/vllm_logs.yaml).

Cases are grouped by the vLLM accounting that produced them (`profiler`: legacy for V0 and
V1 <= 0.9; v1 for vLLM 0.32 (Model Runner V2), the default path; v1-0.25 for Model Runner
V2 before its CUDA graph reservation; v1-mrv1 and v1-0.10 for the older V1 runner). Fitted cases are
those a calibrated constant was fitted on; held-out cases were never used for fitting.
Everything is printed (run with -s or -rA); excluded cases are printed with their reason
and not asserted."""

from __future__ import annotations

from pathlib import Path

import pytest

from stackgen.sizing.accuracy import MRV2_PROFILERS, V1_PROFILERS, counted, evaluate_file, median_abs_error, table

CASES = Path(__file__).resolve().parents[2] / "sizing_cases" / "vllm_logs.yaml"


@pytest.fixture(scope="module")
def results():
    found = evaluate_file(CASES)
    print("\n" + table(found))  # shown with -s or -rA
    return found


def test_every_scored_case_within_5_percent(results):
    scored = counted(results)
    assert len(scored) >= 5 and counted(results, "holdout")
    assert any(r.tp > 1 for r in scored) and any(r.tp > 1 for r in counted(results, "holdout"))
    assert all(r.within(0.05, 0.5) for r in scored), table(results)   # 5%, or 0.5 GiB of KV per GPU


def test_legacy_logs_median_within_2_percent(results):
    legacy = counted(results, profilers=("legacy",))
    assert median_abs_error(legacy) <= 0.02, table(results)
    assert median_abs_error(counted(results, "holdout", ("legacy",))) <= 0.02, table(results)


def test_v1_logs_are_scored_and_held_out_ones_exist(results):
    v1 = counted(results, profilers=V1_PROFILERS)
    assert len(v1) >= 4 and counted(results, "holdout", V1_PROFILERS), table(results)
    assert all(r.within(0.05, 0.5) for r in v1), table(results)


def test_model_runner_v2_logs_median_within_2_percent(results):
    """Logs of the model runner `stackgen size` models by default (vLLM 0.32's Model Runner
    V2; 0.25.1-0.28 without its CUDA graph reservation), warm compile caches."""
    default = counted(results, profilers=MRV2_PROFILERS)
    assert len(default) >= 3 and counted(results, profilers=("v1",)), table(results)
    assert median_abs_error(default) <= 0.02, table(results)


def test_v1_logs_median_within_2_percent(results):
    """Every V1 (>= 0.10) log, the older V1 runner's included."""
    assert median_abs_error(counted(results, profilers=V1_PROFILERS)) <= 0.02, table(results)


def test_excluded_cases_say_why(results):
    for r in results:
        assert r.excluded == "" or len(r.excluded) > 40, r.id
