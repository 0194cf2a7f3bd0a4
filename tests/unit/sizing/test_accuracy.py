"""Predictions against published vLLM start-up logs (tests/sizing_cases/vllm_logs.yaml)."""

from __future__ import annotations

from pathlib import Path

from stackgen.sizing.accuracy import evaluate_file, median_abs_error, table

CASES = Path(__file__).resolve().parents[2] / "sizing_cases" / "vllm_logs.yaml"


def test_every_case_within_5_percent_and_median_within_2_percent():
    results = evaluate_file(CASES)
    print("\n" + table(results))  # shown with -s or -rA
    assert len(results) >= 5
    assert any(r.tp > 1 for r in results)
    assert all(abs(r.error) <= 0.05 for r in results), table(results)
    assert median_abs_error(results) <= 0.02, table(results)
