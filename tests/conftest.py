"""Shared fakes and fixtures: deterministic embedder and chat model, real-model fixtures (slow)."""

from __future__ import annotations

import hashlib
import math
import re
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

from assistant.config import Settings, load_settings

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "seeds"
SEED = SEEDS / "000_6892b4931faf7592.txt"
SEED_TITLE = "SenseTime Raises $620 Million, Its Second Funding Round In Two Months"
VB_CORPUS = REPO.parent / "shared" / "corpora" / "vb-startup-funding" / "articles.jsonl"


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test gets its own data dir and no ASSISTANT_* settings from the outside."""
    import os

    for var in list(os.environ):
        if var.startswith("ASSISTANT_"):
            monkeypatch.delenv(var)
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


class FakeEmbedder:
    """Hashed bag of words, 64 dimensions, normalised; counts one token per word piece of \\w+."""

    name = "fake-embedder"

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def _vector(self, text: str) -> list[float]:
        vec = [0.0] * 64
        for word in re.findall(r"\w+", text.lower()):
            vec[int(hashlib.md5(word.encode()).hexdigest(), 16) % 64] += 1.0
        norm = math.sqrt(sum(v * v for v in vec)) or 1.0
        return [v / norm for v in vec]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.calls.append(list(texts))
        return [self._vector(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vector(text)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [len(re.findall(r"\w+|[^\w\s]", t)) for t in texts]


class FakeChatModel(BaseChatModel):
    """Replies from a queue (the last one repeats) and records the messages it received."""

    replies: list[str] = ["The articles don't say."]
    received: list[list[BaseMessage]] = []
    fail: bool = False

    @property
    def _llm_type(self) -> str:
        return "fake"

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        self.received.append(messages)
        if self.fail:
            raise ConnectionError("connection refused")
        reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        for piece in re.findall(r"\S+\s*", reply):
            yield ChatGenerationChunk(message=AIMessageChunk(content=piece))

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        text = "".join(str(c.message.content) for c in self._stream(messages, stop, run_manager))
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(data_dir=tmp_path / "data")


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


def make_fake_engine(settings: Settings, embedder: FakeEmbedder, chat: BaseChatModel | None, paths: list[Path]) -> Any:
    from assistant.chain import Engine
    from assistant.store import Store
    from ingest import ingest

    store = Store(settings.data_dir, embedding_model=embedder.name, embedder=embedder)
    ingest(paths, settings, store=store, embedder=embedder, progress=False)
    return Engine(store, embedder, chat, model_name="fake", k=settings.retrieval_k,
                  min_similarity=0.1, context_chars=settings.retrieval_context_chars)


# -- real models (slow) ---------------------------------------------------------------------


@pytest.fixture(scope="session")
def real_embedder() -> Any:
    from assistant.backends import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder()


@pytest.fixture(scope="session")
def seed_data_dir(tmp_path_factory: pytest.TempPathFactory, real_embedder: Any) -> Path:
    """A data dir with the seed article ingested by the real model into real Chroma."""
    from ingest import ingest

    data = tmp_path_factory.mktemp("seed-store")
    report = ingest([SEEDS], load_settings(data_dir=data, env={}), embedder=real_embedder, progress=False)
    assert report.ok, report.summary()
    return data


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One assembled GGUF shared by every slow test (assembling copies 1.1 GB)."""
    from assistant.backends import assemble_gguf

    cache = REPO / "data" / "models"
    return assemble_gguf(cache).parent


@pytest.fixture(scope="session")
def real_engine(seed_data_dir: Path, real_embedder: Any, model_dir: Path, tmp_path_factory: pytest.TempPathFactory,
                ) -> Any:
    """The embedded LLM over a copy of the seed store (so tests may add articles to it)."""
    from assistant.chain import Engine

    data = tmp_path_factory.mktemp("engine-store") / "data"
    shutil.copytree(seed_data_dir, data)
    model = model_dir / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
    settings = load_settings(data_dir=data, env={}, llm_model_path=str(model))
    return Engine.from_settings(settings, embedder=real_embedder)
