"""Real model adapters and the factories that pick them; the only place reading model names.

Heavy libraries (torch, sentence-transformers, llama.cpp, openai) are imported inside the
functions that need them, so ``import assistant`` stays fast.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import BackendError
from .models import GGUF_NAME, PACKAGED_EMBEDDER, resolve_embedding_model, set_offline

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from .config import Settings

class SentenceTransformerEmbedder:
    """A sentence-transformers model, loaded on first use; normalised vectors for cosine."""

    def __init__(self, model: str = PACKAGED_EMBEDDER, *, batch_size: int = 32, device: str = "cpu") -> None:
        self.name = model
        self.batch_size = batch_size
        self.device = device
        self._model: Any = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()

    @property
    def model(self) -> Any:
        with self._lock:
            if self._model is None:
                path = resolve_embedding_model(self.name)  # before the 7 s import: a missing package fails at once
                set_offline()
                from sentence_transformers import SentenceTransformer

                try:
                    self._model = SentenceTransformer(path, device=self.device, local_files_only=True)
                except Exception as exc:  # OSError, ValueError, hub errors: all mean "not on disk"
                    fix = (f"; reinstall it: pip install --force-reinstall {PACKAGED_EMBEDDER}"
                           if self.name == PACKAGED_EMBEDDER else "")
                    raise BackendError(f"cannot load embedding model {self.name!r} from {path}: {exc}{fix}") from exc
            return self._model

    @property
    def max_tokens(self) -> int:
        """Word pieces the model reads before it truncates, special tokens excluded."""
        return int(self.model.max_seq_length) - 2

    def _tokenize(self, texts: Sequence[str]) -> list[list[int]]:
        if self._tokenizer is None:
            if self._model is not None:
                self._tokenizer = self._model.tokenizer
            else:  # a tokenizer alone loads in a fraction of the model's time
                path = resolve_embedding_model(self.name)
                set_offline()
                from transformers import AutoTokenizer

                self._tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        return self._tokenizer(list(texts), add_special_tokens=False, truncation=False)["input_ids"]

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [len(ids) for ids in self._tokenize(texts)] if texts else []

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        vectors = self.model.encode(texts, batch_size=self.batch_size, normalize_embeddings=True,
                                    convert_to_numpy=True, show_progress_bar=False)
        return vectors.tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


def make_embedder(settings: Settings) -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(settings.embedding_model, batch_size=settings.embedding_batch_size,
                                       device=settings.embedding_device)


def make_chat_model(settings: Settings) -> BaseChatModel | None:
    """The LangChain chat model for ``llm.backend``; ``None`` for the extractive backend."""
    if settings.llm_backend == "extractive":
        return None
    if settings.llm_backend == "openai":
        try:
            from langchain_openai import ChatOpenAI
        except ImportError:
            raise BackendError("the openai backend needs langchain-openai: pip install langchain-openai") from None
        return ChatOpenAI(base_url=settings.llm_base_url, model=settings.llm_model,
                          api_key=os.environ.get(settings.llm_api_key_env) or "not-needed",
                          temperature=settings.llm_temperature, max_tokens=settings.llm_max_tokens,
                          timeout=settings.llm_timeout_s, max_retries=0, streaming=True)
    from .llamacpp import LlamaCppChat

    if settings.llm_model_path and not Path(settings.llm_model_path).is_file():
        raise BackendError(f"GGUF model {settings.llm_model_path} does not exist (llm.model_path)")
    # An empty path means the packaged model, assembled on first load rather than here.
    return LlamaCppChat(model_path=settings.llm_model_path, model_dir=str(settings.model_dir),
                        n_ctx=settings.llm_context_size,
                        n_threads=settings.llm_threads or os.cpu_count() or 2,
                        max_tokens=settings.llm_max_tokens, temperature=settings.llm_temperature)


def chat_model_name(settings: Settings) -> str:
    if settings.llm_backend == "openai":
        return f"openai:{settings.llm_model}"
    if settings.llm_backend == "extractive":
        return "extractive"
    return f"embedded:{Path(settings.llm_model_path).name if settings.llm_model_path else GGUF_NAME}"
