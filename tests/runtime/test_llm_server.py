"""End to end: stackgen-runtime serves a tiny Llama with vLLM's CPU build.

One server is shared by the module (a start costs ~60-90 s on 2 cores). The last test
sends SIGTERM during a streaming request, so it must stay last in this file.
"""

from __future__ import annotations

import json
import signal
import threading
import time
import urllib.request

import pytest

from runtime_harness import (
    NotReady,
    Server,
    rendered_settings,
    free_port,
    http,
    start_server,
    write_settings,
)

pytestmark = pytest.mark.runtime

SERVED = "tiny-chat"
STREAM_TOKENS = 3000


@pytest.fixture(scope="module")
def llm_server(tiny_models, tmp_path_factory) -> Server:
    work = tmp_path_factory.mktemp("llm-server")
    port = free_port()
    settings = rendered_settings(tiny_models / "tiny-llama", SERVED, port, work)
    # as rendered: the pod mounts the claim at /mnt/models/<claim>; here the cache folder
    assert settings["model"] == f"pvc://{tiny_models.name}/tiny-llama"
    try:
        server = start_server(write_settings(work / "engine.json", settings),
                              work / "server.log", SERVED, port,
                              extra_env={"STACKGEN_PVC_ROOT": str(tiny_models.parent)})
    except NotReady as exc:
        pytest.fail(str(exc))
    yield server
    server.stop()


def test_compile_cache_lands_on_the_model_cache_volume(llm_server):
    """torch.compile artifacts go under the model cache (the pod's volume), so the next
    pod skips the compile and, on a GPU, its scratch stays out of the KV cache budget."""
    cache = llm_server.log.parent / "cache" / "vllm"
    compiled = list(cache.glob("torch_compile_cache/**/*"))
    assert compiled, f"nothing under {cache}: " + llm_server.log_tail(20)
    assert "/.cache/vllm/torch_compile_cache" not in llm_server.log_text()


def test_health_is_ready(llm_server):
    status, _ = http("GET", llm_server.base + "/health")
    assert status == 200


def test_models_lists_the_served_name(llm_server):
    status, body = http("GET", llm_server.base + "/v1/models")
    assert status == 200, body
    assert [m["id"] for m in body["data"]] == [SERVED]


def test_completions_return_tokens(llm_server):
    status, body = http("POST", llm_server.base + "/v1/completions", {
        "model": SERVED, "prompt": "The quick brown fox", "max_tokens": 8,
        "ignore_eos": True, "temperature": 0,
    })
    assert status == 200, body
    assert body["usage"]["completion_tokens"] == 8
    assert body["choices"][0]["finish_reason"] == "length"
    assert isinstance(body["choices"][0]["text"], str)


def test_chat_completions_return_tokens(llm_server):
    status, body = http("POST", llm_server.base + "/v1/chat/completions", {
        "model": SERVED, "messages": [{"role": "user", "content": "Hello, how are you?"}],
        "max_tokens": 6, "ignore_eos": True,
    })
    assert status == 200, body
    assert body["choices"][0]["message"]["role"] == "assistant"
    assert body["usage"]["completion_tokens"] == 6
    # The chat template wrapped the message, so the prompt is longer than the text alone.
    assert body["usage"]["prompt_tokens"] > 6


def test_unknown_model_name_is_rejected(llm_server):
    status, body = http("POST", llm_server.base + "/v1/completions",
                        {"model": "not-served", "prompt": "hi", "max_tokens": 1})
    assert status == 404, body


def test_metrics_expose_the_autoscaler_metric(llm_server):
    status, text = http("GET", llm_server.base + "/metrics")
    assert status == 200
    # the rendered HPA/KEDA scale on requests in flight per replica (profiles/servers/vllm.yaml)
    assert f'vllm:num_requests_running{{engine="0",model_name="{SERVED}"}}' in text
    assert f'vllm:num_requests_waiting{{engine="0",model_name="{SERVED}"}}' in text


def test_runtime_logs_are_json_lines_with_decisions(llm_server):
    events = []
    for line in llm_server.log_text().splitlines():
        if line.startswith('{"ts"'):
            record = json.loads(line)
            assert record["logger"] == "stackgen-runtime"
            events.append(record["event"])
    for expected in ("settings.loaded", "devices.detected", "model.resolved", "engine.start"):
        assert expected in events


def _stream(base: str, first_chunk: threading.Event, result: dict) -> None:
    req = urllib.request.Request(
        base + "/v1/completions", method="POST", headers={"Content-Type": "application/json"},
        data=json.dumps({"model": SERVED, "prompt": "Hello", "max_tokens": STREAM_TOKENS,
                         "ignore_eos": True, "stream": True,
                         "stream_options": {"include_usage": True}}).encode())
    chunks, finish = 0, None
    try:
        with urllib.request.urlopen(req, timeout=120) as resp:
            for raw in resp:
                line = raw.decode().strip()
                if not line.startswith("data: ") or line == "data: [DONE]":
                    result["done"] = result.get("done", False) or line == "data: [DONE]"
                    continue
                event = json.loads(line[6:])
                if event.get("usage"):
                    result["tokens"] = event["usage"]["completion_tokens"]
                if not event["choices"]:
                    continue
                choice = event["choices"][0]
                chunks += 1
                result["chunks"] = chunks
                finish = choice.get("finish_reason") or finish
                first_chunk.set()
    except Exception as exc:  # noqa: BLE001 - reported by the test
        result["error"] = repr(exc)
    result.update(chunks=chunks, finish=finish)
    first_chunk.set()


def test_sigterm_drains_a_streaming_request_then_exits_0(llm_server):
    first_chunk, result = threading.Event(), {}
    reader = threading.Thread(target=_stream, args=(llm_server.base, first_chunk, result))
    reader.start()
    assert first_chunk.wait(60), "no streamed chunk within 60 s"
    signalled_at = time.monotonic()
    llm_server.proc.send_signal(signal.SIGTERM)
    streamed_before_signal = result.get("chunks", 0)
    time.sleep(0.5)
    # Draining: the HTTP server stays up for the stream, and vLLM 0.32 refuses a new request
    # with this 500 (its engine client no longer takes work), not a 503.
    status, body = http("POST", llm_server.base + "/v1/completions",
                        {"model": SERVED, "prompt": "late", "max_tokens": 1}, timeout=5)
    assert (status, body) == (500, {"error": {
        "message": "cannot schedule new futures after shutdown", "type": "InternalServerError",
        "param": None, "code": 500}}), (status, body)
    reader.join(timeout=90)
    assert result.get("error") is None, result
    # The signal came mid-stream, and the stream still ran to its full length.
    assert streamed_before_signal < STREAM_TOKENS // 2, streamed_before_signal
    # (vLLM may merge several tokens into one chunk, so the usage figure counts them.)
    assert result.get("tokens") == STREAM_TOKENS and result["finish"] == "length", result
    assert result.get("done"), result
    code = llm_server.proc.wait(timeout=60)
    assert code == 0, llm_server.log_tail()
    assert time.monotonic() - signalled_at < 45
    assert '"event": "shutdown.requested"' in llm_server.log_text()
