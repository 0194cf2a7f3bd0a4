"""Print stackgen's predicted KV cache tokens against published vLLM start-up logs.

Run: .venv/bin/python benchmarks/sizing_accuracy.py [CASES.yaml]
"""

from __future__ import annotations

import sys
from pathlib import Path

from stackgen.sizing.accuracy import evaluate_file, table

DEFAULT = Path(__file__).resolve().parent.parent / "tests" / "sizing_cases" / "vllm_logs.yaml"


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    results = evaluate_file(path)
    print(table(results))
    for r in results:
        print(f"  {r.id}: {r.source}")


if __name__ == "__main__":
    main()
