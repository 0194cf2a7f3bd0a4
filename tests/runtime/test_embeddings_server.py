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


def test_generation_is_not_served_by_a_pooling_model(embed_server):
    status, body = http("POST", embed_server.base + "/v1/completions",
                        {"model": SERVED, "prompt": "hi", "max_tokens": 1})
    assert status >= 400, body
