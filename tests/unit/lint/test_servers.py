"""vLLM / Triton recognition and argument parsing, the way the servers read their args."""

from __future__ import annotations

import pytest

from stackgen.lint.servers import detect_server, parse_options

VLLM = "vllm/vllm-openai:v0.10.1"


@pytest.mark.parametrize("container,tp,pp", [
    ({"image": VLLM, "args": ["--model", "m/x", "--tensor-parallel-size", "8"]}, 8, 1),
    ({"image": VLLM, "args": ["--model=m/x", "--tensor_parallel_size=8"]}, 8, 1),
    ({"image": VLLM, "args": ["--model", "m/x", "-tp", "4", "-pp", "2"]}, 4, 2),
    ({"image": "x:1", "command": ["sh", "-c", "pip install a && exec vllm serve m/x -tp 2 --port 9000"]}, 2, 1),
    ({"image": "x:1", "command": ["/bin/bash", "-c"],
      "args": ["set -e\nray start --head;\npython3 -m vllm.entrypoints.openai.api_server --model m/x \\\n  --pipeline_parallel_size 2 --tensor-parallel-size 8"]}, 8, 2),
    ({"image": "x:1", "command": ["vllm", "serve", "m/x", "--trust-remote-code", "--tensor-parallel-size", "2"]}, 2, 1),
    ({"image": "x:1", "command": ["vllm", "serve", "--trust-remote-code", "m/x", "-tp=2"]}, 2, 1),
    ({"image": "ghcr.io/a/stackgen-runtime:1", "args": ["--config", "/e.yaml", "--", "-tp", "4"]}, 4, 1),
    ({"image": "x:1", "env": [{"name": "TP", "value": "8"}],
      "args": ["python", "-m", "vllm.entrypoints.openai.api_server", "--tensor-parallel-size", "$(TP)"]}, 8, 1),
])
def test_vllm_parallel_sizes(container: dict, tp: int, pp: int) -> None:
    server = detect_server(container)
    assert server is not None and server.kind == "vllm"
    assert (server.int_option("tensor-parallel-size"), server.int_option("pipeline-parallel-size")) == (tp, pp)


def test_positional_model_after_store_true_flag() -> None:
    server = detect_server({"command": ["vllm", "serve", "--trust-remote-code", "Qwen/Qwen2.5-7B"]})
    assert server.model == "Qwen/Qwen2.5-7B"


@pytest.mark.parametrize("container,kind,port", [
    ({"image": "nvcr.io/nvidia/tritonserver:24.08-vllm-python-py3", "args": ["tritonserver", "--model-repository=/m"]}, "triton", 8000),
    ({"image": "nvcr.io/nvidia/tritonserver:24.08-py3", "command": ["bash", "-c", "X=1 bin/tritonserver --http-port=9000"]}, "triton", 9000),
    ({"image": "kserve/huggingfaceserver:v0.15.2", "args": ["--model_name=x"]}, "kserve-huggingface", 8080),
    ({"image": "registry.local:5000/team/stackgen-runtime:0.1", "args": ["--port", "7000"]}, "vllm", 7000),
    ({"image": "lmcache/vllm-openai:2025-05-27-v1", "command": ["/opt/venv/bin/vllm", "serve", "m/x"]}, "vllm", 8000),
])
def test_server_kind_and_port(container: dict, kind: str, port: int) -> None:
    server = detect_server(container)
    assert (server.kind, server.port) == (kind, port)


@pytest.mark.parametrize("container", [
    {"image": "nginx:1.27"},
    {"image": VLLM, "command": ["sh", "-c", "ray start --block --address=$(LWS_LEADER_ADDRESS):6379"]},
    {"image": "lmcache/lmstack-router:v0.1.6", "args": ["--port", "8000"]},
])
def test_not_a_model_server(container: dict) -> None:
    assert detect_server(container) is None


def test_unparseable_tp_is_unknown_not_guessed() -> None:
    server = detect_server({"image": VLLM, "args": ["--tensor-parallel-size", "${TP}"]})
    assert server.int_option("tensor-parallel-size") is None and server.world_size() is None


def test_negative_numbers_are_values() -> None:
    options, _ = parse_options(["--seed", "-1", "--enforce-eager"])
    assert options == {"seed": "-1", "enforce-eager": True}
