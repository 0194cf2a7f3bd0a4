"""Accuracy of stackgen's performance model against published vLLM serving results.

    .venv/bin/python benchmarks/perf_accuracy.py            # every scored case, errors per split
    .venv/bin/python benchmarks/perf_accuracy.py --fit      # fit profiles/perf.yaml's factors on
                                                            # the `split: fit` cases; prints them

The fit is a coordinate search on the fit cases only (never the holdout ones); copy what it
prints into profiles/perf.yaml by hand and say so in the commit.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from stackgen.perf import load_params  # noqa: E402
from stackgen.perf.accuracy import evaluate_all, loss, report  # noqa: E402

CASES = ROOT / "tests" / "perf_cases" / "vllm_bench.yaml"
#: factor -> (low, high): the fit's search range
FITTED = {"hbm_efficiency": (0.5, 0.95), "mfu_max": (0.3, 0.8), "roofline_k": (1.5, 8.0),
          "step_overhead_ms": (0.2, 6.0), "step_overhead_per_seq_us": (0.0, 40.0),
          "layer_overhead_us": (0.0, 60.0), "moe_layer_factor": (1.0, 10.0), "moe_slice_half": (0.0, 2048.0),
          "moe_hbm_efficiency": (0.2, 1.0), "request_overhead_ms": (1.0, 60.0), "lump_sync": (0.0, 1.0),
          "allreduce.nvlink.latency_us": (2.0, 60.0)}


def fit(cases: Path) -> dict[str, float]:
    params = load_params()
    best = loss(evaluate_all(cases, params, "fit")[0])
    for _ in range(4):
        for name, (low, high) in FITTED.items():
            for k in range(21):
                value = low + (high - low) * k / 20
                trial = _with(params, name, value)
                score = loss(evaluate_all(cases, trial, "fit")[0])
                if score < best - 1e-9:
                    best, params = score, trial
    print(f"fit loss (mean squared log error): {best:.4f}")
    return {name: round(_get(params, name), 3) for name in FITTED}


def _get(params, name: str) -> float:
    if name.startswith("allreduce."):
        _, kind, field = name.split(".")
        return getattr(params.allreduce[kind], field)
    return getattr(params, name)


def _with(params, name: str, value: float):
    """params with one factor changed (`allreduce.<kind>.<field>` for the all-reduce table)."""
    if name.startswith("allreduce."):
        import dataclasses
        from types import MappingProxyType

        _, kind, field = name.split(".")
        table = dict(params.allreduce)
        table[kind] = dataclasses.replace(table[kind], **{field: value})
        return params.replace(allreduce=MappingProxyType(table))
    return params.replace(**{name: value})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fit", action="store_true")
    parser.add_argument("--cases", type=Path, default=CASES)
    args = parser.parse_args()
    if args.fit:
        for name, value in fit(args.cases).items():
            print(f"{name}: {value}")
        return
    results, failed = evaluate_all(args.cases)
    print(report(results, failed))


if __name__ == "__main__":
    main()
