"""A store holds the vectors of one embedding model: another model, or the same name giving vectors of
another size, is a clear error, never a silent mix. And a Chroma server's token reaches the server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import SEED, SEEDS

from assistant.chain import Engine
from assistant.config import Settings
from assistant.errors import BackendError, ConfigError
from assistant.store import Store
from assistant.testing import FakeEmbedder
from ingest import ingest


class _Smaller(FakeEmbedder):
    """The same model name, vectors of another size: a server now running another model under it."""

    def _vector(self, text: str) -> list[float]:
        return super()._vector(text)[:32]


class _Renamed(FakeEmbedder):
    name = "another-model"


@pytest.fixture
def built(settings: Settings) -> Settings:
    assert ingest([SEEDS], settings, embedder=FakeEmbedder(), progress=False).ok
    return settings


def test_the_store_records_its_model_and_dimension(built: Settings) -> None:
    store = Store(built.data_dir)
    assert dict(store.db.execute("SELECT key, value FROM meta WHERE key LIKE 'embedding%'")) == {
        "embedding_model": "fake-embedder", "embedding_dimension": "64"}
    recorded = {"embedding_model": "fake-embedder", "embedding_dimension": "64"}
    assert recorded.items() <= store.collection.metadata.items()  # the collection records them too


def test_another_model_is_refused(built: Settings) -> None:
    with pytest.raises(ConfigError, match="built with embedding model 'fake-embedder', not 'another-model'"):
        ingest([SEEDS], built, embedder=_Renamed(), progress=False)
    with pytest.raises(ConfigError, match="built with embedding model 'fake-embedder', not 'another-model'"):
        Engine.from_settings(built.replace(llm_backend="extractive"), embedder=_Renamed())


def test_vectors_of_another_size_are_refused(built: Settings, tmp_path: Path) -> None:
    other = tmp_path / "other.txt"
    other.write_text(SEED.read_text().replace("SenseTime", "SenseThyme"))
    with pytest.raises(ConfigError, match="holds 64-dimensional vectors of 'fake-embedder', but the embedder gave "
                                          "32-dimensional ones"):
        ingest([other], built, embedder=_Smaller(), progress=False)
    engine = Engine.from_settings(built.replace(llm_backend="extractive"), embedder=_Smaller())
    with pytest.raises(ConfigError, match="64-dimensional"):
        engine.answer("How much did SenseTime raise?")
    # Nothing of the refused ingest was kept, and the store still answers with its own model.
    engine = Engine.from_settings(built.replace(llm_backend="extractive", retrieval_min_similarity=0.0),
                                  embedder=FakeEmbedder())
    assert engine.store.count()[0] == 1 and engine.store.collection.count() == engine.store.count()[1]
    assert engine.answer("How much did SenseTime raise?").citations


class _Identity(BaseHTTPRequestHandler):
    """A Chroma server that refuses every request, recording their headers."""

    seen: list[dict[str, str]] = []

    def do_GET(self) -> None:
        _Identity.seen.append(dict(self.headers))
        body = json.dumps({"error": "Unauthorized", "message": "bad token"}).encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def refusing_server() -> Iterator[int]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Identity)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield httpd.server_address[1]
    httpd.shutdown()


def test_the_token_from_its_environment_variable_reaches_the_chroma_server(
        refusing_server: int, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_CHROMA_TOKEN", "s3cret")
    settings = settings.replace(store_host="127.0.0.1", store_port=refusing_server,
                                store_auth_token_env="MY_CHROMA_TOKEN")
    store = Store.from_settings(settings, embedder=FakeEmbedder())
    with pytest.raises(BackendError, match=f"cannot open the Chroma server at 127.0.0.1:{refusing_server}"):
        store.collection  # noqa: B018
    headers = _Identity.seen[-1]
    assert headers["Authorization"] == "Bearer s3cret" and headers["X-Chroma-Token"] == "s3cret"


def test_a_secret_in_place_of_its_variable_name_is_refused(settings: Settings) -> None:
    for key in ("store_auth_token_env", "embedding_api_key_env", "llm_api_key_env"):
        with pytest.raises(ConfigError, match="must be the name of an environment variable") as caught:
            settings.replace(**{key: "sk-abc/def+ghi="})
        assert "sk-abc" not in str(caught.value)
