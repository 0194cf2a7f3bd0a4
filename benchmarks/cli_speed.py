"""Wall time of `stackgen --help` and of `stackgen plan --output json` on a generated
200-model stack (issue targets on 2 cores: < 0.3 s and < 1 s). Prints figures only."""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ruamel.yaml import YAML

KINDS = [("llm", None, "hf://meta-llama/Llama-3.1-8B-Instruct"),
         ("embedding", "onnx", "hf://BAAI/bge-base-en-v1.5"),
         ("vision", "onnx", "s3://models/resnet50"),
         ("tabular", "xgboost", "s3://models/fraud")]


def stack(models: int) -> dict:
    return {
        "apiVersion": "stackgen.dev/v1alpha1", "kind": "Stack",
        "metadata": {"name": "bench", "namespace": "bench"},
        "spec": {
            "cluster": {"provider": "gke", "nodePools": [
                {"name": "h100", "gpu": "h100-80gb", "nodes": 64, "gpusPerNode": 8},
                {"name": "l4", "gpu": "l4-24gb", "nodes": 64, "gpusPerNode": 4},
                {"name": "cpu", "gpu": "none", "nodes": 16}]},
            "models": [{"name": f"m{i}", "kind": KINDS[i % 4][0], "source": KINDS[i % 4][2],
                        **({"framework": KINDS[i % 4][1]} if KINDS[i % 4][1] else {}),
                        "team": f"team{i % 7}", "traffic": {"peakRps": 1 + i % 13}}
                       for i in range(models)],
            "requirements": {"teams": 7, "canary": True},
        },
    }


def timed(cmd: list[str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    exe = str(Path(sys.executable).with_name("stackgen"))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "stackgen.yaml"
        with path.open("w") as fh:
            YAML(typ="safe").dump(stack(200), fh)
        help_t = timed([exe, "--help"], 7)
        plan_t = timed([exe, "plan", "-f", str(path), "--output", "json"], 5)
    print(f"stackgen --help                      median {statistics.median(help_t):.3f} s  min {min(help_t):.3f} s  (target < 0.3 s)")
    print(f"stackgen plan --output json (200)    median {statistics.median(plan_t):.3f} s  min {min(plan_t):.3f} s  (target < 1 s)")


if __name__ == "__main__":
    main()
