"""One reply of the LLM, with its faults handled (docs/reliability.md).

- **Bounded waits.** The model streams in a worker thread; the first token, and each next
  one, must come within ``llm.timeout_s``, the whole reply within ``llm.total_timeout_s``.
- **Bounded length.** A reply longer than ``llm.max_tokens`` tokens' worth of characters (a
  server ignoring the limit, a model that never stops) is cut at its last full sentence.
- **Garbage.** Control characters and U+FFFD are dropped; an empty or letterless reply counts
  as no reply. Images, links and URLs never reach the stream (``sanitize.strip_links``).
- **A prompt that fits.** Prompt and reply fit ``llm.context_size``: measured with the model's
  own tokenizer when it has one (``count_tokens``, as llama.cpp's adapter does), otherwise
  estimated at 2 UTF-8 bytes a token (English, Chinese, Arabic, Russian and emoji text all
  take 4 or more with Qwen2.5's tokenizer). The sources are trimmed until it fits.
- **Fallback only for faults of the model's side.** Transport and server errors (and a
  timeout, or a garbage reply) before any text answer with extracted sentences and a notice;
  after some text, the reply is cut there. Any other exception is a bug and propagates.
"""

from __future__ import annotations

import json
import logging
import queue
import re
import sys
import threading
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from .documents import Passage
from .errors import BackendError, ModelNotServedError
from .extractive import extractive_answer
from .prompting import PROMPT, SYSTEM_PROMPT, fit_passages, format_sources, neutralize
from .query import Question
from .sanitize import clean_text, open_link_start, strip_links
from .text import MARKERS, split_sentences
from .verify import Checked, check_answer, supporting_sentences

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from .config import Settings

log = logging.getLogger(__name__)

CHARS_PER_TOKEN_CAP = 8  # a reply is cut at max_tokens * this many characters
BYTES_PER_TOKEN = 2  # the estimate where the model's tokenizer is unknown
TEMPLATE_TOKENS = 32  # the chat template's role markers around the two messages
# What langchain-core raises when a model's stream ended without a single chunk.
_NO_CHUNKS = "No generation chunks were returned"
_SENTENCE_END = re.compile(r"[.!?][\"'”’)]*(?:\s*\[\d+(?:\s*[,;]\s*\d+)*\])*(?=\s|$)")


class LLMTimeout(TimeoutError):
    """The model sent no token within the bound, or its reply ran past the total bound."""


def fallback_errors() -> tuple[type[BaseException], ...]:
    """The faults that send a question to the extractive fallback: transport and server errors,
    and undecodable replies. Evaluated when an exception is raised, so the HTTP libraries are
    only consulted when loaded (an openai error can't be raised without openai imported)."""
    kinds: list[type[BaseException]] = [OSError, BackendError, UnicodeDecodeError, json.JSONDecodeError]
    httpx = sys.modules.get("httpx")
    if httpx is not None:
        kinds.append(httpx.HTTPError)
    openai = sys.modules.get("openai")
    if openai is not None:  # APITimeoutError is an APIConnectionError; InternalServerError an APIStatusError
        kinds += [openai.APIConnectionError, openai.APIStatusError, openai.APIResponseValidationError]
    return tuple(kinds)


@dataclass(frozen=True)
class Limits:
    """The bounds on one reply, from the ``llm`` settings."""

    context_size: int = 4096
    max_tokens: int = 200
    timeout_s: float = 60.0
    total_timeout_s: float = 120.0
    server: str = ""  # the OpenAI-compatible server's address, named in notices

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(context_size=settings.llm_context_size, max_tokens=settings.llm_max_tokens,
                   timeout_s=settings.llm_timeout_s, total_timeout_s=settings.llm_total_timeout_s,
                   server=settings.llm_base_url if settings.llm_backend == "openai" else "")

    @property
    def max_chars(self) -> int:
        return self.max_tokens * CHARS_PER_TOKEN_CAP


@dataclass(frozen=True)
class Reply:
    """What one call wrote, cleaned, and the passages it was written from (numbered as in the prompt)."""

    text: str
    model: str
    context: list[Passage]
    notice: str = ""
    recited: tuple[str, ...] = ()  # sentences dropped for repeating the system prompt


@dataclass
class Turn:
    """The LLM calls of one answer: when its first token came, and the failure that sends the
    rest of the answer (a second pass, the other members) straight to the fallback."""

    started: float
    first_token_s: float = 0.0
    failure: str = ""

    def token(self) -> None:
        if not self.first_token_s:
            self.first_token_s = time.perf_counter() - self.started


class Writer:
    """Writes replies with ``chat_model`` (``None``: the extractive backend) within ``limits``."""

    def __init__(self, chat_model: BaseChatModel | None, model_name: str, limits: Limits = Limits()) -> None:
        self.chat_model = chat_model
        self.model_name = model_name
        self.limits = limits
        counter = getattr(chat_model, "count_tokens", None)
        self._count: Callable[[str], int] = counter if callable(counter) else estimate_tokens

    def write(self, question: Question, context: list[Passage], turn: Turn) -> Generator[str, None, Reply]:
        """Yield the reply's visible text as it streams; return the whole ``Reply``."""
        if self.chat_model is None or turn.failure:
            return (yield from self._extract(question, context, turn.failure))
        allowed = [p.url for p in context if p.url]
        guard = _LinkGuard(allowed)
        raw, notice = "", ""
        try:
            load = getattr(self.chat_model, "load", None)
            if callable(load):
                load()  # loading (or assembling) the model is not part of the reply's wait
            context, asked = self.fit(question, context)
            with closing(self._bounded({"sources": format_sources(context), "question": asked})) as deltas:
                for delta in deltas:
                    raw += delta
                    if len(raw) > self.limits.max_chars:  # cut mid-word: the word goes too
                        raw = re.sub(r"\S*$", "", raw[:self.limits.max_chars])
                        notice = f"The model's reply ran past {self.limits.max_tokens} tokens and was cut."
                        break
                    shown = guard.feed(delta)
                    if shown:
                        turn.token()
                        yield shown
        except fallback_errors() as exc:
            if not readable(clean_text(raw)):
                turn.failure = self._notice(exc)
                log.warning("llm failed, using extractive fallback", extra={"error": f"{type(exc).__name__}: {exc}"})
                return (yield from self._extract(question, context, turn.failure))
            notice = f"{self._where()} stopped mid-answer ({type(exc).__name__}); the answer was cut there."
            turn.failure = self._notice(exc)
            log.warning("llm stopped mid-answer", extra={"error": f"{type(exc).__name__}: {exc}"})
        tail = guard.flush()
        if tail:
            turn.token()
            yield tail
        text = strip_links(clean_text(raw), allowed)
        if notice:
            text = last_full_sentence(text)
        text, recited = drop_recited(text, context)
        if not readable(text):
            return (yield from self._extract(question, context, notice or (
                f"{self._where()} returned an empty or unreadable reply; showing extracted sentences instead.")))
        return Reply(text, self.model_name, context, notice, recited)

    def fit(self, question: Question, context: Sequence[Passage]) -> tuple[list[Passage], str]:
        """The passages and question text that leave ``max_tokens`` of the context window free."""
        room = self.limits.context_size - self.limits.max_tokens - TEMPLATE_TOKENS - self._count(SYSTEM_PROMPT)
        text = question.search_text
        if self._count(text) + 16 > room:  # only when the window is tiny: the question itself is cut
            if room < 48:
                raise BackendError(f"llm.context_size {self.limits.context_size} leaves no room for the prompt "
                                   f"and a {self.limits.max_tokens}-token reply")
            text = self._shrink(text, room - 32)
        room -= self._count(f"Sources:\n\n\nQuestion: {text}\nAnswer:")
        passages = list(context)
        budget = sum(len(p.text) for p in passages)
        for _ in range(8):
            need = self._count(format_sources(passages)) if passages else 0
            if need <= room:
                return passages, text
            budget = int(budget * room / need * 0.9)
            passages = fit_passages(question, passages, budget) if budget >= 100 else []
        return [], text

    def _shrink(self, text: str, tokens: int) -> str:
        while text and self._count(text) > tokens:
            text = text[:int(len(text) * tokens / self._count(text) * 0.9)]
        return text

    def _bounded(self, inputs: dict[str, str]) -> Iterator[str]:
        """The model's deltas for ``PROMPT`` filled with ``inputs``, read from a worker thread so
        that every wait is bounded. Leaving early (a timeout, a cut, the caller closing the
        stream) tells the worker to stop, and it closes the model's stream.

        The model is streamed directly rather than as ``PROMPT | model | StrOutputParser()``:
        closing an LCEL sequence's stream drains what is upstream of its last step (for tracing),
        which for a model that never stops never ends."""
        box: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=64)  # a model never runs far ahead
        stop = threading.Event()
        model, messages = self.chat_model, PROMPT.invoke(inputs).to_messages()
        assert model is not None

        def put(item: tuple[bool, Any]) -> bool:
            while not stop.is_set():
                try:
                    box.put(item, timeout=0.1)
                    return True
                except queue.Full:
                    continue
            return False

        def work() -> None:
            try:
                stream = model.stream(messages)
                try:
                    for chunk in stream:
                        if not put((True, str(chunk.text))):
                            break
                finally:
                    stream.close()
            except ValueError as exc:  # an empty stream is an empty reply, not an error
                put((False, None if str(exc) == _NO_CHUNKS else exc))
                return
            except BaseException as exc:  # handed to the caller's thread, which decides
                put((False, exc))
                return
            put((False, None))

        threading.Thread(target=work, name="llm-reply", daemon=True).start()
        deadline = time.monotonic() + self.limits.total_timeout_s
        try:
            while True:
                left = deadline - time.monotonic()
                try:
                    if left <= 0:
                        raise queue.Empty
                    ok, value = box.get(timeout=min(self.limits.timeout_s, left))
                except queue.Empty:
                    raise LLMTimeout(f"no token within {self.limits.timeout_s:g} s" if left > self.limits.timeout_s
                                     else f"the reply took over {self.limits.total_timeout_s:g} s") from None
                if ok:
                    yield value
                elif value is None:
                    return
                else:
                    raise value
        finally:
            stop.set()

    def _extract(self, question: Question, context: list[Passage], notice: str) -> Generator[str, None, Reply]:
        allowed = [p.url for p in context if p.url]
        text = strip_links(clean_text(extractive_answer(question, as_shown(context))), allowed)
        if text:
            yield text
        return Reply(text, "extractive", context, notice)

    def _where(self) -> str:
        return f"The LLM server at {self.limits.server}" if self.limits.server else "The LLM"

    def _notice(self, exc: BaseException) -> str:
        name = type(exc).__name__
        if isinstance(exc, TimeoutError) or "Timeout" in name:
            return f"{self._where()} did not answer in time ({exc}); showing extracted sentences instead."
        if isinstance(exc, ConnectionError) or "Connect" in name:
            return f"{self._where()} is unreachable ({name}); showing extracted sentences instead."
        if isinstance(exc, ModelNotServedError):
            return f"{str(exc)[:1].upper()}{str(exc)[1:]}; showing extracted sentences instead."
        status = getattr(exc, "status_code", None)
        if status == 404:  # vLLM, Ollama and OpenAI answer an unknown model so
            return (f"{self._where()} answered HTTP 404 for the model {self.model_name.removeprefix('openai:')!r} "
                    "(check llm.model and llm.base_url); showing extracted sentences instead.")
        return f"{self._where()} failed ({f'HTTP {status}' if status else name}); showing extracted sentences instead."


def as_shown(passages: Sequence[Passage]) -> list[Passage]:
    """The passages as the model is shown them: instruction-like sentences and links blanked."""
    return [replace(p, text=neutralize(p.text)) for p in passages]


def check_reply(reply: Reply, question: Question, article_text: Callable[[str], str] | None = None) -> Checked:
    """``verify.check_answer`` against the passages as the model saw them (a blanked injection
    supports nothing, not even a model that repeats it), with the citations pointing into the
    passages as stored."""
    shown = as_shown(reply.context)
    checked = check_answer(reply.text, shown, question, article_text)
    checked = replace(checked, removed=[*reply.recited, *checked.removed])
    if all(a.text == b.text for a, b in zip(shown, reply.context, strict=True)):
        return checked
    stored = {(p.article_id, p.start): p for p in reply.context}
    citations = []
    for citation in checked.citations:
        passage = stored[(citation.article_id, citation.start)]
        support, title_supports = supporting_sentences(passage, citation.sentences)
        citations.append(replace(citation, passage=passage.text, end=passage.end, support=support,
                                 title_supports=title_supports))
    return replace(checked, citations=citations)


_RECITAL_WORDS = 6  # this many words in a row of the system prompt is a recital


def _grams(text: str) -> set[str]:
    words = re.findall(r"\w+", text.lower())
    return {" ".join(words[i:i + _RECITAL_WORDS]) for i in range(len(words) - _RECITAL_WORDS + 1)}


_PROMPT_GRAMS = _grams(SYSTEM_PROMPT)


def drop_recited(text: str, context: Sequence[Passage]) -> tuple[str, tuple[str, ...]]:
    """``text`` without the sentences repeating the system prompt (six words in a row of it that
    the sources don't also hold): a reply talked into revealing its instructions."""
    spans = split_sentences(text)
    recited = [(s, e) for s, e in spans if _grams(text[s:e]) & _PROMPT_GRAMS]
    if not recited:
        return text, ()
    sources = _grams(" ".join(f"{p.title} {p.text}" for p in context))
    recited = [(s, e) for s, e in recited if (_grams(text[s:e]) & _PROMPT_GRAMS) - sources]
    kept = " ".join(text[s:e] for s, e in spans if (s, e) not in recited)
    return kept, tuple(text[s:e] for s, e in recited)


def readable(text: str) -> bool:
    """Whether a reply says anything: a letter or a digit outside its ``[n]`` markers. A bare
    "2015 [3]" answers "what year?"; "[1] [2]." says nothing."""
    return bool(re.search(r"[^\W_]", MARKERS.sub("", text)))


def estimate_tokens(text: str) -> int:
    """A cautious token count where the model's tokenizer is unknown."""
    return len(text.encode("utf-8")) // BYTES_PER_TOKEN + 1


def last_full_sentence(text: str) -> str:
    """``text`` up to the end of its last finished sentence (with its markers); "" if none."""
    ends = list(_SENTENCE_END.finditer(text))
    return text[:ends[-1].end()].rstrip() if ends else ""


class _LinkGuard:
    """Lets a streaming reply through as it comes, cleaned, holding back what may still become a
    link (``sanitize.open_link_start``) and showing it only once it is known and stripped."""

    def __init__(self, allowed: Sequence[str]) -> None:
        self.allowed = allowed
        self.raw = ""
        self.shown = ""

    def feed(self, delta: str) -> str:
        self.raw += delta
        return self._show(strip_links(clean_text(self.raw[:open_link_start(self.raw)]), self.allowed))

    def flush(self) -> str:
        return self._show(strip_links(clean_text(self.raw), self.allowed))

    def _show(self, safe: str) -> str:
        if len(safe) <= len(self.shown) or not safe.startswith(self.shown):
            return ""  # stripping rewrote what was shown: the final answer will replace it
        new, self.shown = safe[len(self.shown):], safe
        return new
