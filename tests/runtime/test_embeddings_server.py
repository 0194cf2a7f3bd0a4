"""End to end: stackgen-runtime serves a tiny BERT with `runner: pooling` (/v1/embeddings)."""

from __future__ import annotations

import math

import pytest
from runtime_harness import NotReady, Server, base_settings, free_port, http, start_server
from runtime_harness import write_settings

pytestmark = pytest.mark.runtime

SERVED = "tiny-embed"
HIDDEN = 128  # tinymodels.HIDDEN


@pytest.fixture(scope="module")
def embed_server(tiny_models, tmp_path_factory) -> Server:
    work = tmp_path_factory.mktemp("embed-server")
    port = free_port()
    settings = base_settings(tiny_models / "tiny-bert", SERVED, port, runner="pooling")
    try:
        server = start_server(write_settings(work / "engine.json", settings),
                              work / "server.log", SERVED, port)
    except NotReady as exc:
        pytest.fail(str(exc))
    yield server
    assert server.stop() == 0, server.log_tail()


def test_models_lists_the_embedding_model(embed_server):
    status, body = http("GET", embed_server.base + "/v1/models")
    assert status == 200, body
    assert [m["id"] for m in body["data"]] == [SERVED]


def test_embeddings_have_the_model_width(embed_server):
    texts = ["the quick brown fox", "a model server answers requests", "hello"]
    status, body = http("POST", embed_server.base + "/v1/embeddings",
                        {"model": SERVED, "input": texts})
    assert status == 200, body
    vectors = [item["embedding"] for item in sorted(body["data"], key=lambda d: d["index"])]
    assert len(vectors) == len(texts)
    assert all(len(v) == HIDDEN for v in vectors)
    assert all(math.isfinite(x) for v in vectors for x in v)
    assert vectors[0] != vectors[1], "different texts gave the same vector"
    assert body["usage"]["prompt_tokens"] > len(texts)


@pytest.mark.parametrize("path,body", [
    ("/v1/completions", {"model": SERVED, "prompt": "hi", "max_tokens": 1}),
    ("/v1/chat/completions", {"model": SERVED, "messages": [{"role": "user", "content": "hi"}]}),
])
def test_generation_is_not_served_by_a_pooling_model(embed_server, path, body):
    """vLLM 0.32 registers no generation routes for `runner: pooling`: FastAPI's plain 404."""
    status, answer = http("POST", embed_server.base + path, body)
    assert (status, answer) == (404, {"detail": "Not Found"})


def test_embeddings_for_an_unknown_model_name_are_an_openai_404(embed_server):
    status, body = http("POST", embed_server.base + "/v1/embeddings", {"model": "nope", "input": "hi"})
    assert status == 404, body
    assert body["error"]["type"] == "NotFoundError" and body["error"]["code"] == 404
    assert body["error"]["message"] == "The model `nope` does not exist."
