"""The `openai` backend against a real OpenAI-compatible HTTP server on loopback, and its fallback."""

from __future__ import annotations

import json
import socket
import threading
import time
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


# -- faults over HTTP (docs/reliability.md) ---------------------------------------------------

GOOD_PIECE = "Temasek Holdings and Suning.com also participated [1]."


def _sse(content: str) -> bytes:
    chunk = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": "m",
             "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": None}]}
    return f"data: {json.dumps(chunk)}\n\n".encode()


class _FaultyHandler(BaseHTTPRequestHandler):
    """An OpenAI-compatible server misbehaving as its first path segment says: /<fault>/v1/..."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        fault = self.path.split("/")[1]
        if fault in ("error500", "error404"):
            self.send_response(int(fault[-3:]))
            self.end_headers()
            self.wfile.write(b'{"error": {"message": "model crashed"}}' if fault == "error500" else
                             b'{"error": {"message": "model \'qwen2.5\' not found"}}')
            return
        if fault == "slow":
            time.sleep(5)
        self.send_response(200)
        self.send_header("Content-Type", "text/html" if fault == "html" else "text/event-stream")
        self.end_headers()
        try:
            self._body(fault)
        except (BrokenPipeError, ConnectionResetError):  # the client hung up: as it should
            pass

    def _body(self, fault: str) -> None:
        write = self.wfile.write
        if fault == "html":
            write(b"<html><body>502 Bad Gateway</body></html>")
            return
        if fault == "badutf8":
            write(_sse("Temasek ").replace(b"Temasek", b"Tem\xff\xfeasek"))
        elif fault == "badjson":
            write(b"data: {not json\n\n")
        elif fault == "replacement":
            write(_sse("\ufffd\ufffd \ufffd\ufffd"))
        elif fault in ("stall", "endless"):
            write(_sse(GOOD_PIECE))
            self.wfile.flush()
            if fault == "stall":
                time.sleep(5)
            while fault == "endless":
                write(_sse(" Suning.com also invested $1 billion [1]."))
        elif fault == "slow":
            write(_sse(GOOD_PIECE))
        write(b"data: [DONE]\n\n")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def faulty_server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _FaultyHandler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed on leaving: nothing listens there


FAULTS = {  # fault: what the notice says
    "error500": "failed (HTTP 500)",
    "error404": "answered HTTP 404 for the model 'qwen2.5' (check llm.model and llm.base_url)",
    "empty": "returned an empty or unreadable reply",
    "html": "returned an empty or unreadable reply",
    "badutf8": "failed (UnicodeDecodeError)",
    "badjson": "failed (JSONDecodeError)",
    "replacement": "returned an empty or unreadable reply",
    "slow": "did not answer in time",
}


@pytest.mark.parametrize("fault", FAULTS)
def test_a_misbehaving_server_falls_back_to_extracted_sentences(fault: str, faulty_server: str, settings: Settings,
                                                                fake_embedder: FakeEmbedder) -> None:
    url = f"{faulty_server}/{fault}/v1"
    engine = _engine(settings.replace(llm_backend="openai", llm_base_url=url, llm_timeout_s=0.5), fake_embedder)
    started = time.monotonic()
    answer = engine.answer("Which investors joined SenseTime?")
    assert time.monotonic() - started < 4.5  # the slow server answers after 5 s
    assert answer.model == "extractive" and FAULTS[fault] in answer.notice, answer.notice
    assert url in answer.notice and answer.citations and not answer.abstained


@pytest.mark.parametrize("fault, notice", [("stall", "stopped mid-answer"), ("endless", "ran past 30 tokens")])
def test_a_server_that_stalls_or_never_stops_is_cut_and_verified(fault: str, notice: str, faulty_server: str,
                                                                 settings: Settings, fake_embedder: FakeEmbedder,
                                                                 ) -> None:
    settings = settings.replace(llm_backend="openai", llm_base_url=f"{faulty_server}/{fault}/v1", llm_timeout_s=0.5,
                                llm_max_tokens=30)
    answer = _engine(settings, fake_embedder).answer("Which investors joined SenseTime?")
    assert answer.text == GOOD_PIECE and notice in answer.notice, answer
    assert answer.model == "openai:qwen2.5"


def test_a_closed_port_falls_back_at_once(settings: Settings, fake_embedder: FakeEmbedder) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/v1"
    engine = _engine(settings.replace(llm_backend="openai", llm_base_url=url), fake_embedder)
    started = time.monotonic()
    answer = engine.answer("Which investors joined SenseTime?")
    assert time.monotonic() - started < 30  # refused, not waited on for llm.timeout_s (60 s)
    assert answer.model == "extractive" and f"The LLM server at {url} is unreachable" in answer.notice
    assert answer.citations and not answer.abstained
