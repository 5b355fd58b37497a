"""Fakes for testing code that uses the assistant, without models, network or a GPU.

Like httpx's ``MockTransport``: the project's own tests use these, and so can yours::

    from assistant.testing import FakeChatModel, fake_engine

    engine = fake_engine(["seeds/"], data_dir=tmp_path, chat=FakeChatModel(replies=["Alibaba led it [1]."]))
    print(engine.answer("Who led SenseTime's round?").text)

``FakeEmbedder`` is deterministic (a hashed bag of words), so retrieval over it behaves like a
crude keyword search; answers come from whatever replies the ``FakeChatModel`` is given.
"""

from __future__ import annotations

import hashlib
import math
import re
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from .config import Settings, load_settings

if TYPE_CHECKING:
    from .chain import Engine

__all__ = ["FakeChatModel", "FakeEmbedder", "fake_engine"]


class FakeEmbedder:
    """Hashed bag of words, 64 dimensions, normalised; counts one token per word or punctuation mark."""

    name = "fake-embedder"

    def __init__(self) -> None:
        self.calls: list[list[str]] = []  # every embed_documents batch, for tests that count re-embedding

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


class FakeChatModel(GenericFakeChatModel):
    """langchain_core's fake chat model, fed from ``replies`` (the last one repeats).

    It records the messages of every call in ``received`` and raises ``ConnectionError``
    while ``fail`` is set, the way an unreachable server would, or ``error`` when given (a
    ``TimeoutError``, an ``openai.InternalServerError``, a ``TypeError``...). ``delay_s`` makes
    it wait that long before replying, like a slow server. Streaming splits a reply on
    whitespace, as ``GenericFakeChatModel`` does.
    """

    messages: Iterator[AIMessage | str] = iter(())  # unused: replies drive the model
    replies: list[str] = ["The articles don't say."]
    received: list[list[BaseMessage]] = []
    fail: bool = False
    error: BaseException | None = None
    delay_s: float = 0.0

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        self.received.append(messages)
        if self.delay_s:
            time.sleep(self.delay_s)
        if self.fail:
            raise ConnectionError("connection refused")
        if self.error is not None:
            raise self.error
        reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=reply))])


def fake_engine(paths: Sequence[str | Path] = (), *, settings: Settings | None = None,
                data_dir: str | Path | None = None, chat: BaseChatModel | None = None,
                embedder: FakeEmbedder | None = None) -> Engine:
    """An ``Engine`` over ``paths`` ingested into a store in ``data_dir`` (or ``settings.data_dir``).

    With ``chat=None`` the engine answers extractively, as it does when no LLM is configured.
    """
    from ingest import ingest

    from .chain import Engine
    from .generation import Limits
    from .store import Store

    if settings is None:
        settings = load_settings(data_dir=data_dir) if data_dir is not None else load_settings()
    elif data_dir is not None:
        settings = settings.replace(data_dir=Path(data_dir))
    embedder = embedder or FakeEmbedder()
    store = Store(settings.data_dir, embedding_model=embedder.name, embedder=embedder)
    ingest(list(paths), settings, store=store, embedder=embedder, progress=False)
    # min_similarity 0.1: hashed bags of words score lower than a real model's embeddings
    return Engine(store, embedder, chat, model_name="fake", k=settings.retrieval_k,
                  min_similarity=0.1, context_chars=settings.retrieval_context_chars,
                  limits=Limits.from_settings(settings))
