"""The `openai` backend against a real OpenAI-compatible HTTP server on loopback, and its fallback."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import SEEDS

from assistant.backends import chat_model_name, make_chat_model
from assistant.chain import Engine
from assistant.config import Settings
from assistant.store import Store
from assistant.testing import FakeEmbedder
from ingest import ingest

REPLY = ["Temasek Holdings ", "and Suning.com ", "also participated [1]."]


class _Handler(BaseHTTPRequestHandler):
    requests: list[dict] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _Handler.requests.append({"path": self.path, "auth": self.headers.get("Authorization"), **body})
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for piece in REPLY:
            chunk = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": body["model"],
                     "choices": [{"index": 0, "delta": {"role": "assistant", "content": piece}, "finish_reason": None}]}
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
        self.wfile.write(b"data: [DONE]\n\n")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    httpd.shutdown()


def _engine(settings: Settings, embedder: FakeEmbedder) -> Engine:
    store = Store(settings.data_dir, embedding_model=embedder.name, embedder=embedder)
    ingest([SEEDS], settings, store=store, embedder=embedder, progress=False)
    return Engine.from_settings(settings.replace(retrieval_min_similarity=0.0), store=store, embedder=embedder)


def test_openai_compatible_server_answers(server: str, settings: Settings, fake_embedder: FakeEmbedder,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_KEY", "sk-test")
    settings = settings.replace(llm_backend="openai", llm_base_url=server, llm_model="qwen-test",
                                llm_api_key_env="MY_KEY")
    engine = _engine(settings, fake_embedder)
    answer = engine.answer("Which investors joined SenseTime?")
    assert answer.text == "Temasek Holdings and Suning.com also participated [1]."
    assert answer.model == "openai:qwen-test" == chat_model_name(settings)
    request = _Handler.requests[-1]
    assert request["path"] == "/v1/chat/completions" and request["model"] == "qwen-test"
    assert request["stream"] is True and request["auth"] == "Bearer sk-test"
    assert request["messages"][0]["role"] == "system" and "Sources:" in request["messages"][1]["content"]


def test_unreachable_server_falls_back_to_extractive(settings: Settings, fake_embedder: FakeEmbedder,
                                                     tmp_path: Path) -> None:
    settings = settings.replace(llm_backend="openai", llm_base_url="http://127.0.0.1:9/v1", llm_timeout_s=2.0)
    engine = _engine(settings, fake_embedder)
    answer = engine.answer("Which investors joined SenseTime?")
    assert answer.model == "extractive"
    assert "127.0.0.1:9" in answer.notice and "unreachable" in answer.notice
    assert answer.citations and not answer.abstained


def test_extractive_backend_needs_no_model(settings: Settings) -> None:
    assert make_chat_model(settings.replace(llm_backend="extractive")) is None
