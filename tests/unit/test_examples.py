"""The bundled examples: each stack file plans to the stack the framework promises."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def plan(example: str) -> dict:
    proc = subprocess.run([sys.executable, "-m", "stackgen.cli.main", "plan", "-f",
                           str(EXAMPLES / example / "stackgen.yaml"), "--output", "json"],
                          capture_output=True, text=True, check=True)
    return json.loads(proc.stdout)


def by_name(data: dict) -> dict[str, dict]:
    return {m["name"]: m for m in data["models"]}


def test_llm_only() -> None:
    data = plan("llm-only")
    chat = by_name(data)["llama-chat"]
    assert data["orchestration"] == "none"
    assert (chat["engine"], chat["server"], chat["nodePool"]) == ("vllm", "vllm", "h100-pool")
    assert chat["sizing"]["fits"] is True
    assert not [w for w in data["warnings"] if w["severity"] == "warning"]


def test_hybrid() -> None:
    data = plan("hybrid")
    models = by_name(data)
    assert data["orchestration"] == "none"
    assert models["chat"]["server"] == "vllm" and models["chat"]["nodePool"] == "h100"
    assert models["chat"]["tensorParallelSize"] >= 2  # 70B in bf16 does not fit one H100
    assert (models["embed"]["server"], models["embed"]["nodePool"]) == ("triton", "a100")
    assert models["vision"]["nodePool"] == "t4"
    assert (models["fraud"]["nodePool"], models["fraud"]["gpu"]) == ("cpu", None)


def test_platform() -> None:
    data = plan("platform")
    models = by_name(data)
    assert data["orchestration"] == "kserve"
    assert models["assistant"]["runtime"] == "stackgen-vllm"
    assert models["embedder"]["runtime"] == "stackgen-triton"
    assert models["assistant"]["canary"] == {"source": "hf://Qwen/Qwen3-32B", "trafficPercent": 10}
    assert all(m["replicas"]["min"] == 0 for m in data["models"])
    assert "scale-to-zero-cold-start" in {w["code"] for w in data["warnings"]}


def test_hybrid_stack_file_is_what_init_writes_from_its_answers(tmp_path: Path) -> None:
    out = tmp_path / "stackgen.yaml"
    subprocess.run([sys.executable, "-m", "stackgen.cli.main", "init", "--non-interactive",
                    "--answers", str(EXAMPLES / "hybrid/answers.yaml"), "-o", str(out)],
                   capture_output=True, text=True, check=True)
    assert out.read_text() == (EXAMPLES / "hybrid/stackgen.yaml").read_text()
