"""The chat page's logic: ``WebApp`` answers a question as a stream of page updates.

No answering logic lives here: ``Engine.stream`` retrieves, generates and verifies; this turns
its events into what the page shows (``Update``), keeps the conversation as ``Turn`` records,
and serves the ``/answer`` API endpoint and the Markdown export.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config import BACKENDS, Settings
from ..documents import Answer
from ..errors import AssistantError, ConfigError
from .corpus import CorpusActions
from .render import (
    Turn,
    chat_messages,
    conversation_markdown,
    esc,
    passage_context,
    render_panel,
    status_line,
    user_message,
)

if TYPE_CHECKING:
    from ..chain import Engine

log = logging.getLogger(__name__)


LOADING = "Loading the model… the first answer starts when it is ready."


@dataclass(frozen=True)
class Update:
    """What one step of ``WebApp.respond`` changes on the page; ``None`` leaves a part as it is."""

    messages: list[dict[str, str]] | None = None
    panel: str | None = None
    status: str | None = None
    turns: list[Turn] | None = None
    export: str | None = None
    warning: str = ""


def engine_history(turns: Sequence[Turn]) -> list[dict[str, str]]:
    """Earlier answered turns in the shape ``Engine.stream(history=...)`` takes."""
    history = []
    for turn in turns:
        if turn.answer is not None:
            history += [{"role": "user", "content": turn.question}, {"role": "assistant", "content": turn.answer.text}]
    return history


def parse_filters(since: str, until: str) -> dict[str, str] | None:
    """The engine's filters from the settings panel's dates; ``ConfigError`` for a bad date."""
    filters = {}
    for key, value in (("since", since), ("until", until)):
        value = (value or "").strip()
        if value:
            try:
                date.fromisoformat(value)
            except ValueError:
                raise ConfigError(f"{key.capitalize()} must be a date like 2018-05-31, not {value!r}") from None
            filters[key] = value
    if filters.get("since", "") > filters.get("until", "9999"):
        raise ConfigError("Since is after Until: no article can match")
    return filters or None


def parse_history(history_json: str) -> list[dict[str, str]]:
    """``[{"role": "user"|"assistant", "content": str}, ...]`` from JSON; ``ConfigError`` otherwise."""
    try:
        history = json.loads(history_json or "[]")
    except json.JSONDecodeError as exc:
        raise ConfigError(f"history_json is not valid JSON: {exc}") from None
    if not isinstance(history, list) or not all(
            isinstance(m, dict) and m.get("role") in ("user", "assistant") and isinstance(m.get("content"), str)
            for m in history):
        raise ConfigError('history_json must be a list of {"role": "user" or "assistant", "content": "..."}')
    return [{"role": m["role"], "content": m["content"]} for m in history]


class WebApp(CorpusActions):
    """The engines behind the page, shared by all browser sessions; one method per page action.

    Everything session-specific (the conversation, the settings panel's values) comes in
    as arguments, so one instance serves every visitor. The Corpus tab's actions come from
    ``CorpusActions``.
    """

    def __init__(self, engine: Engine, settings: Settings, loaded: threading.Event | None = None) -> None:
        """``loaded``: set once the models have loaded (``serve`` loads them after the page is up);
        until then a question is told it waits for them instead of showing nothing."""
        self.settings = settings
        self.engine = engine
        self.loaded = loaded
        self._engines: dict[str, Engine] = {settings.llm_backend: engine}
        self._lock = threading.Lock()

    def backends(self) -> list[str]:
        """The backends a session may switch to: openai only when it is configured."""
        configured = (self.settings.llm_backend == "openai" or os.environ.get(self.settings.llm_api_key_env)
                      or self.settings.llm_base_url != Settings.llm_base_url)
        return [b for b in BACKENDS if b != "openai" or configured]

    def engine_for(self, backend: str) -> Engine:
        """The engine of ``backend``, built once and sharing the store and embedder."""
        from ..chain import Engine

        if backend not in self.backends():
            raise ConfigError(f"backend {backend!r} is not available here; choose one of {', '.join(self.backends())}")
        with self._lock:
            if backend not in self._engines:
                self._engines[backend] = Engine.from_settings(self.settings.replace(llm_backend=backend),
                                                              store=self.engine.store, embedder=self.engine.embedder)
            return self._engines[backend]

    def model_markdown(self, backend: str) -> str:
        try:
            return f"Model in use: `{self.engine_for(backend).model_name}`"
        except AssistantError as exc:
            return f"⚠ {esc(str(exc))}"

    def respond(self, question: str, turns: Sequence[Turn], k: float | None = None, since: str = "",
                until: str = "", backend: str | None = None) -> Iterator[Update]:
        """Answer ``question`` as a follow-up of ``turns``: sources first, then the streamed text
        (an update per token; Gradio sends only the change), then the verified answer replacing it."""
        from ..chain import Retrieved, SecondLook

        question = (question or "").strip()
        turns = list(turns)
        if not question:
            yield Update(warning="Type a question first.")
            return
        shown = chat_messages(turns) + [user_message(question)]

        def showing(content: str) -> list[dict[str, str]]:
            return shown + [{"role": "assistant", "content": content}]

        try:
            filters = parse_filters(since, until)
            engine = self.engine_for(backend or self.settings.llm_backend)
            if self.loaded is not None and not self.loaded.is_set():
                yield Update(messages=showing(f"_{LOADING}_"), status=LOADING)
                self.loaded.wait()
            yield Update(messages=showing("_Searching the articles…_"), status="Searching the articles…")
            streamed, final = "", None
            for event in engine.stream(question, engine_history(turns), filters, int(k) if k else None):
                if isinstance(event, Retrieved):
                    yield Update(messages=showing("_Writing the answer…_"),
                                 panel=render_panel(turns, event.passages, event.standalone_question),
                                 status=f"Found {len(event.passages)} passage(s) in {event.retrieve_s:.2f} s; "
                                        "writing the answer…")
                elif isinstance(event, str):
                    streamed += event
                    yield Update(messages=showing(esc(streamed) + " ▍"))
                elif isinstance(event, SecondLook):
                    streamed = ""
                    yield Update(messages=showing(f"_{event.message}_"), status=event.message)
                else:
                    final = event
            assert final is not None, "Engine.stream ended without an Answer"
            turns.append(Turn(question, final, contexts=self._contexts(final)))
            yield Update(messages=chat_messages(turns), panel=render_panel(turns), status=status_line(final),
                         turns=turns, export=self.export(turns), warning=final.notice)
        except AssistantError as exc:
            yield self._failed(turns, question, str(exc))
        except Exception as exc:  # never a stack trace in the page; the log has it
            log.exception("answering failed", extra={"question": question})
            yield self._failed(turns, question, f"Something went wrong while answering ({type(exc).__name__}); "
                                                "the server log has the details.")

    def _failed(self, turns: list[Turn], question: str, message: str) -> Update:
        turns = [*turns, Turn(question, None, error=message)]
        return Update(messages=chat_messages(turns), panel=render_panel(turns), status=f"⚠ {esc(message)}",
                      turns=turns, warning=message)

    def _contexts(self, answer: Answer) -> dict[int, tuple[str, str]]:
        """The article text around each cited passage (the citation names its article)."""
        contexts = {}
        for c in answer.citations:
            try:
                text = self.engine.store.article_text(c.article_id)
            except Exception:  # context is a nicety: never fail an answer over it
                log.warning("no article text for context", extra={"article_id": c.article_id})
                continue
            contexts[c.n] = passage_context(text, c.passage, c.start, c.end)
        return contexts

    def answer_json(self, question: str, history_json: str = "[]") -> dict[str, Any]:
        """The ``/answer`` endpoint: ``Answer.to_dict()`` for a question and earlier turns."""
        if not (question or "").strip():
            raise ConfigError("question is empty")
        if self.loaded is not None:
            self.loaded.wait()
        return self.engine.answer(question, parse_history(history_json)).to_dict()

    def export(self, turns: Sequence[Turn]) -> str:
        """Write the conversation as Markdown in Gradio's own temp dir; return the file's path."""
        from gradio.utils import get_upload_folder

        folder = Path(get_upload_folder()) / "exports" / uuid.uuid4().hex
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "conversation.md"
        path.write_text(conversation_markdown(turns), encoding="utf-8")
        return str(path)
