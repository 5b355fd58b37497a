"""The embedded LLM: a LangChain chat model over llama.cpp, one generation at a time.

llama-cpp-python keeps the KV cache of the previous prompt and re-evaluates only what
differs, so the fixed system prompt is evaluated once per process, not once per question. Its
state after the system prompt (``cache_prefix``) is also saved next to the model
(``<state_dir>/<gguf>.prefix-<key>.kv``, ~8 MB), so a fresh process loads it instead of spending
seconds evaluating ~280 tokens again before its first answer.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import PrivateAttr

from .errors import BackendError

log = logging.getLogger(__name__)
_ROLES = {"system": "system", "human": "user", "ai": "assistant"}


class LlamaCppChat(BaseChatModel):
    """Chat completions from a local GGUF through llama.cpp's own chat template."""

    model_path: str = ""  # empty: the packaged GGUF, assembled into model_dir on first load
    model_dir: str = ""
    n_ctx: int = 4096
    n_threads: int = 2
    max_tokens: int = 200
    temperature: float = 0.0
    cache_prefix: str = ""  # the system prompt every chat starts with: its evaluated state is kept on disk
    state_dir: str = ""  # where that state is kept ("" = model_dir)

    _llama: Any = PrivateAttr(default=None)
    # One generation at a time: a second caller waits its turn (two would halve both on 2 cores).
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)
    _load_lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "llama-cpp"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_path": self.model_path, "n_ctx": self.n_ctx}

    def load(self) -> Any:
        """The llama.cpp model, loaded once."""
        with self._load_lock:
            if self._llama is None:
                try:
                    from llama_cpp import Llama
                except ImportError:
                    raise BackendError('the embedded LLM needs llama-cpp-python: pip install -e ".[local]"') from None
                model_path = self.model_path
                if not model_path:
                    from .models import assemble_gguf

                    model_path = str(assemble_gguf(Path(self.model_dir)))
                try:
                    llama = Llama(model_path=model_path, n_ctx=self.n_ctx, n_threads=self.n_threads,
                                  n_threads_batch=self.n_threads, n_batch=512, verbose=False)
                except (ValueError, RuntimeError, OSError) as exc:
                    raise BackendError(f"cannot load GGUF model {model_path}: {exc}") from exc
                # Free it before interpreter teardown, when llama.cpp's own finaliser fails noisily.
                atexit.register(self._close_when_idle)
                if self.cache_prefix:
                    self._start_from_prefix(llama, Path(model_path))
                self._llama = llama
            return self._llama

    def _start_from_prefix(self, llama: Any, model_path: Path) -> None:
        """Load the saved state after the system prompt, or compute and save it. Either way the first
        question re-evaluates only what follows the longest prefix it shares with that state."""
        from llama_cpp import LlamaState, __version__

        st = model_path.stat()
        key = hashlib.sha256(json.dumps([model_path.name, st.st_size, st.st_mtime_ns, self.n_ctx, __version__,
                                         self.cache_prefix]).encode()).hexdigest()[:16]
        path = Path(self.state_dir or self.model_dir or model_path.parent) / f"{model_path.name}.prefix-{key}.kv"
        try:
            with path.open("rb") as f:
                header = json.loads(f.readline())
                data = f.read()
            ids = llama.input_ids.copy()
            ids[:] = 0
            ids[:header["n_tokens"]] = header["input_ids"]
            scores = llama.scores[:1].copy()  # (broadcast to the restored rows; the next decode rewrites them)
            scores[:] = 0
            llama.load_state(LlamaState(input_ids=ids, scores=scores, n_tokens=header["n_tokens"], llama_state=data,
                                        llama_state_size=len(data), seed=header["seed"]))
            return
        except FileNotFoundError:
            pass
        except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
            log.warning("ignoring the saved prompt state %s: %s", path, exc)
            llama.reset()
            path.unlink(missing_ok=True)
        try:
            llama.create_chat_completion(messages=[{"role": "system", "content": self.cache_prefix},
                                                   {"role": "user", "content": "."}], max_tokens=1)
            state = llama.save_state()
            path.parent.mkdir(parents=True, exist_ok=True)  # a new data dir has no models/ folder yet
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            with tmp.open("wb") as f:
                f.write(json.dumps({"n_tokens": state.n_tokens, "seed": state.seed,
                                    "input_ids": state.input_ids[:state.n_tokens].tolist()}).encode() + b"\n")
                f.write(state.llama_state)
            os.replace(tmp, path)
        except (OSError, ValueError, RuntimeError) as exc:  # a read-only folder: computed again next start
            log.warning("cannot save the prompt state to %s: %s", path, exc)

    def _close_when_idle(self) -> None:
        """Free the model at exit once no generation uses it: one abandoned after a timeout may be
        finishing its token in a daemon thread, and freeing the model under it crashes the process."""
        if self._lock.acquire(timeout=120):
            self._llama.close()

    def count_tokens(self, text: str) -> int:
        """Tokens ``text`` takes in the model's own tokenizer (loads the model)."""
        return len(self.load().tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        llama = self.load()
        payload = [{"role": _ROLES.get(m.type, "user"), "content": str(m.content)} for m in messages]
        with self._lock:
            try:
                stream = iter(llama.create_chat_completion(
                    messages=payload, stream=True, stop=stop, max_tokens=kwargs.get("max_tokens", self.max_tokens),
                    temperature=kwargs.get("temperature", self.temperature), top_p=1.0, repeat_penalty=1.05))
            except (RuntimeError, ValueError) as exc:  # a prompt over the window, a failed decode
                raise BackendError(f"llama.cpp failed: {exc}") from exc
            while True:
                try:
                    part = next(stream)
                except StopIteration:
                    break
                except (RuntimeError, ValueError) as exc:
                    raise BackendError(f"llama.cpp failed: {exc}") from exc
                delta = part["choices"][0]["delta"].get("content")
                if not delta:
                    continue
                chunk = ChatGenerationChunk(message=AIMessageChunk(content=delta))
                if run_manager:
                    run_manager.on_llm_new_token(delta, chunk=chunk)
                yield chunk

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        text = "".join(str(c.message.content) for c in self._stream(messages, stop, run_manager, **kwargs))
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])
