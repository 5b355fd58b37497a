"""The web chat: Gradio layout and adapters over the ``Engine``; no answering logic lives here.

The page streams each answer, links its ``[n]`` markers to a sources panel that shows the
cited passages with the supporting sentences highlighted, keeps the conversation for
follow-ups, exports it as Markdown, and has a Corpus tab to list, upload and remove articles.
The named endpoint ``/answer`` returns ``Answer.to_dict()`` to ``gradio_client``.

Example:
    from assistant import load_settings
    from assistant.ui import serve
    serve(load_settings(), ingest_paths=["seeds"])   # http://127.0.0.1:7860

Rendering (``render_answer_html``, ``render_panel``, ``conversation_markdown`` ...) is done by
pure functions so it can be tested without a browser; gradio is imported only inside
``build_demo`` and ``serve``. Every piece of article text is HTML-escaped: it is untrusted data.
"""

from __future__ import annotations

import html
import json
import logging
import os
import re
import shutil
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .config import BACKENDS, Settings
from .documents import Answer, Citation, Passage
from .errors import AssistantError, ConfigError
from .text import key_terms

if TYPE_CHECKING:
    import gradio as gr

    from .chain import Engine
    from .store import ArticleInfo

log = logging.getLogger(__name__)

SUPPORTED_UPLOADS = (".txt", ".md", ".html", ".htm", ".pdf", ".json", ".jsonl")
CONTEXT_CHARS = 220  # article text shown around a cited passage, each side
MAX_K = 10
TITLE = "AI startup news assistant"
EMPTY_PANEL = ('<div class="src-empty">Sources appear here: each <b>[n]</b> in an answer links to the '
               "article and passage it comes from, with the supporting sentences highlighted.</div>")

_MARKERS = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")
# A sentence ends at . ! or ? (maybe closing quotes) before whitespace and an upper-case letter
# or digit, or at a line break; "Ltd. has" and "$4.5 billion" stay whole.
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)]*\s+(?=[A-Z0-9“\"‘'(])|\n+")
_FUNDING_TITLE = re.compile(
    r"^(?:[^:]{0,30}:\s*)?(?P<name>[A-Z0-9][\w.&'’-]*(?:\s+[A-Z0-9][\w.&'’-]*){0,3})\s+"
    r"(?i:raises|raised|secures|closes|lands|gets|nabs|bags|snags|collects)\b")


# -- records --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Turn:
    """One exchange of the conversation as the page keeps it (per browser session)."""

    question: str
    answer: Answer | None = None  # None when answering failed
    error: str = ""
    # citation n -> (article text before, after) the cited passage
    contexts: dict[int, tuple[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Update:
    """What one step of ``WebApp.respond`` changes on the page; ``None`` leaves a part as it is."""

    messages: list[dict[str, str]] | None = None
    panel: str | None = None
    status: str | None = None
    turns: list[Turn] | None = None
    export: str | None = None
    warning: str = ""


# -- pure rendering -------------------------------------------------------------------------


def _esc(text: str) -> str:
    return html.escape(text or "", quote=True)


def source_id(turn: int, n: int) -> str:
    """The element id of source ``n`` of answer number ``turn`` (both from 1)."""
    return f"src-{turn}-{n}"


def safe_url(url: str) -> str:
    """``url`` when it is an http(s) address, else "" (no javascript: or data: links from articles)."""
    try:
        parts = urlsplit((url or "").strip())
    except ValueError:
        return ""
    return url.strip() if parts.scheme in ("http", "https") and parts.netloc else ""


def link_markers(text: str, citations: Sequence[Citation], turn: int = 1) -> str:
    """Escape ``text`` and turn each ``[n]`` (or ``[n, m]``) into links to the sources panel.

    Markers with no matching citation stay plain text.
    """
    known = {c.n: c for c in citations}

    def link(match: re.Match[str]) -> str:
        numbers = [int(n) for n in re.findall(r"\d+", match.group(1))]
        if not all(n in known for n in numbers):
            return match.group(0)
        links = []
        for n in numbers:
            c = known[n]
            tip = f"{c.title} ({c.date})" if c.date else c.title
            links.append(f'<a class="cite" href="#{source_id(turn, n)}" title="{_esc(tip)}">[{n}]</a>')
        return "".join(links)

    return _MARKERS.sub(link, html.escape(text or "", quote=False))


def render_answer_html(answer: Answer, turn: int = 1) -> str:
    """The chat message of an answer: escaped text with linked markers, and its notice if any."""
    body = link_markers(answer.text, answer.citations, turn)
    if answer.abstained:
        body += ('\n\n<span class="hint">' + ("The closest articles are listed under Sources."
                 if answer.suggestions else "Try rephrasing, widening the dates in Settings, or uploading "
                 "articles in the Corpus tab.") + "</span>")
    if answer.notice:
        body += f'\n\n<span class="notice">⚠ {_esc(answer.notice)}</span>'
    return body


def _sentence_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each sentence; together the spans cover ``text`` exactly."""
    spans, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        if match.end() > start:
            spans.append((start, match.end()))
            start = match.end()
    if start < len(text):
        spans.append((start, len(text)))
    return spans


def supporting(candidates: Sequence[str], sentences: Sequence[str], threshold: float = 0.4,
               extra: float = 0.25) -> set[int]:
    """Indexes of the candidates that support the answer sentences, by word overlap.

    For each answer sentence (markers ignored) the candidate sharing the largest part of its
    distinctive words is chosen when that part reaches ``threshold``; then, greedily, any
    candidate that covers at least ``extra`` of the words still uncovered (an answer sentence
    may combine two sentences of the passage).
    """
    chosen: set[int] = set()
    candidate_terms = [set(key_terms(c)) for c in candidates]
    for sentence in sentences:
        terms = set(key_terms(_MARKERS.sub(" ", sentence)))
        if not terms or not candidates:
            continue
        remaining, need = set(terms), threshold
        while remaining:
            gains = [len(remaining & ct) for ct in candidate_terms]
            best = max(range(len(gains)), key=gains.__getitem__)
            if gains[best] < 2 and gains[best] < len(terms) or gains[best] / len(terms) < need:
                break
            chosen.add(best)
            remaining -= candidate_terms[best]
            need = extra
    return chosen


def highlight(text: str, marked: set[int], spans: Sequence[tuple[int, int]]) -> str:
    """Escaped ``text`` with the sentences at the ``marked`` span indexes wrapped in ``<mark>``."""
    out = []
    for i, (start, end) in enumerate(spans):
        piece = text[start:end]
        if i in marked:
            core = piece.rstrip()
            out.append(f"<mark>{_esc(core)}</mark>{_esc(piece[len(core):])}")
        else:
            out.append(_esc(piece))
    return "".join(out)


def passage_context(article_text: str, passage: str, start: int, end: int,
                    chars: int = CONTEXT_CHARS) -> tuple[str, str]:
    """The article text just before and after a passage, cut at word boundaries.

    ``start``/``end`` are the passage's offsets; when they don't point at the passage the
    passage is searched for, and ``("", "")`` is returned when it is not in the text.
    """
    if not article_text or not passage:
        return "", ""
    if article_text[start:end] != passage:
        start = article_text.find(passage)
        if start < 0:
            return "", ""
        end = start + len(passage)
    before = article_text[max(0, start - chars):start]
    if start > chars:
        before = "…" + (before.split(" ", 1)[1] if " " in before else before)
    after = article_text[end:end + chars]
    if end + chars < len(article_text):
        after = (after.rsplit(" ", 1)[0] if " " in after else after) + "…"
    return before, after


def _meta_line(date_text: str, url: str, source: str) -> str:
    parts = [f'<span class="src-date">{_esc(date_text)}</span>'] if date_text else []
    link = safe_url(url)
    if link:
        shown = urlsplit(link).netloc + urlsplit(link).path
        shown = shown if len(shown) <= 60 else shown[:57] + "…"
        parts.append(f'<a href="{_esc(link)}" target="_blank" rel="noopener noreferrer">{_esc(shown)}</a>')
    if source and source != url:
        parts.append(f'<span class="src-ref">{_esc(source)}</span>')
    return '<div class="src-meta">' + " · ".join(parts) + "</div>"


def render_citation(c: Citation, turn: int, context: tuple[str, str] = ("", "")) -> str:
    """One source card: number, title, date, link or source, and the passage in its context."""
    spans = _sentence_spans(c.passage)
    marked = supporting([c.title] + [c.passage[s:e] for s, e in spans], c.sentences)
    title = f"<mark>{_esc(c.title)}</mark>" if 0 in marked else _esc(c.title)
    passage = highlight(c.passage, {i - 1 for i in marked if i > 0}, spans)
    before, after = context
    return (f'<div class="src" id="{source_id(turn, c.n)}">'
            f'<div class="src-head"><span class="src-n">{c.n}</span><span class="src-title">{title}</span></div>'
            f"{_meta_line(c.date, c.url, c.source)}"
            f'<div class="src-passage"><span class="ctx">{_esc(before)}</span>{passage}'
            f'<span class="ctx">{_esc(after)}</span></div></div>')


def _snippet(text: str, chars: int = 260) -> str:
    text = " ".join(text.split())
    return text if len(text) <= chars else text[:chars].rsplit(" ", 1)[0] + "…"


def render_passage_card(p: Passage, label: str = "·") -> str:
    """A retrieved passage or a suggested article: title, date, link and the start of the passage."""
    return (f'<div class="src retrieved"><div class="src-head"><span class="src-n">{_esc(label)}</span>'
            f'<span class="src-title">{_esc(p.title)}</span></div>{_meta_line(p.date, p.url, p.source)}'
            f'<div class="src-passage">{_esc(_snippet(p.text))}</div></div>')


def render_sources_html(answer: Answer, turn: int = 1, contexts: dict[int, tuple[str, str]] | None = None) -> str:
    """The sources of one answer: its citations, or the closest articles when it abstained."""
    contexts = contexts or {}
    if answer.citations:
        return "".join(render_citation(c, turn, contexts.get(c.n, ("", ""))) for c in answer.citations)
    if answer.abstained and answer.suggestions:
        return ('<div class="src-note">No article answers this. Closest articles:</div>'
                + "".join(render_passage_card(p) for p in answer.suggestions))
    if answer.abstained:
        return '<div class="src-note">No article came close to this question.</div>'
    return '<div class="src-note">This answer cites no source.</div>'


def _turn_sources(turn: Turn, number: int) -> str:
    if turn.answer is None:
        return f'<div class="src-note">Not answered: {_esc(turn.error)}</div>'
    return render_sources_html(turn.answer, number, turn.contexts)


def render_panel(turns: Sequence[Turn], retrieved: Sequence[Passage] | None = None, question: str = "") -> str:
    """The sources panel: the newest answer's sources (or the passages being used for the answer
    being written), then earlier answers' sources folded away, newest first."""
    parts = []
    if retrieved is not None:
        parts.append(f'<div class="turn current"><div class="turn-q">Reading for: {_esc(question)}</div>'
                     + ("".join(render_passage_card(p) for p in retrieved)
                        or '<div class="src-note">No passage found.</div>') + "</div>")
    for number in range(len(turns), 0, -1):
        turn = turns[number - 1]
        body = _turn_sources(turn, number)
        if retrieved is None and number == len(turns):
            parts.append(f'<div class="turn current"><div class="turn-q">Sources for: {_esc(turn.question)}</div>'
                         f"{body}</div>")
        else:
            parts.append(f'<details class="turn"><summary>Q{number}: {_esc(turn.question)}</summary>{body}</details>')
    return "".join(parts) or EMPTY_PANEL


def chat_messages(turns: Sequence[Turn]) -> list[dict[str, str]]:
    """The Chatbot value (messages format) for the finished turns."""
    messages = []
    for number, turn in enumerate(turns, 1):
        messages.append({"role": "user", "content": html.escape(turn.question, quote=False)})
        if turn.answer is not None:
            messages.append({"role": "assistant", "content": render_answer_html(turn.answer, number)})
        else:
            messages.append({"role": "assistant", "content": f'<span class="notice">⚠ {_esc(turn.error)}</span>'})
    return messages


def engine_history(turns: Sequence[Turn]) -> list[dict[str, str]]:
    """Earlier answered turns in the shape ``Engine.stream(history=...)`` takes."""
    history = []
    for turn in turns:
        if turn.answer is not None:
            history += [{"role": "user", "content": turn.question}, {"role": "assistant", "content": turn.answer.text}]
    return history


def status_line(answer: Answer) -> str:
    """One line of timings and model under the chat."""
    t = answer.timings
    if answer.abstained and not t.first_token_s:
        return f"No answer in the articles (searched in {t.retrieve_s:.2f} s)."
    return (f"Answered in {t.total_s:.1f} s (sources after {t.retrieve_s:.2f} s, first words after "
            f"{t.first_token_s:.1f} s) · model `{answer.model}`")


def conversation_markdown(turns: Sequence[Turn], title: str = TITLE) -> str:
    """The conversation as Markdown, each answer followed by its numbered sources."""
    lines = [f"# {title}: conversation", ""]
    for number, turn in enumerate(turns, 1):
        lines += [f"## Q{number}. {turn.question}", ""]
        answer = turn.answer
        if answer is None:
            lines += [f"_Not answered: {turn.error}_", ""]
            continue
        lines += [answer.text, ""]
        if answer.notice:
            lines += [f"_Note: {answer.notice}_", ""]
        if answer.citations:
            lines += ["Sources:", ""]
            for c in answer.citations:
                where = c.url or c.source
                lines.append(f"{c.n}. **{c.title}**" + (f" ({c.date})" if c.date else "")
                             + (f", {where}" if where else ""))
                lines += ["", *(f"   > {line}" if line.strip() else "   >" for line in c.passage.splitlines()), ""]
        elif answer.abstained and answer.suggestions:
            lines += ["Closest articles:", ""]
            lines += [f"- **{p.title}**" + (f" ({p.date})" if p.date else "") + (f", {p.url or p.source}")
                      for p in answer.suggestions]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def example_questions(titles: Sequence[str], limit: int = 4) -> list[str]:
    """Questions the corpus can answer, made from its funding headlines ("X Raises $N ...")."""
    questions: list[str] = []
    for title in titles:
        match = _FUNDING_TITLE.match(title.strip())
        if not match:
            continue
        name = match.group("name")
        for question in (f"How much did {name} raise?", f"Who invested in {name}?"):
            if question not in questions:
                questions.append(question)
        if len(questions) >= limit:
            break
    if not questions and titles:
        questions = [f"What does the article “{t}” report?" for t in titles[:2]]
    return questions[:limit]


def source_label(info: ArticleInfo) -> str:
    """How the corpus table shows where an article came from."""
    if info.publisher:
        return info.publisher
    link = safe_url(info.url)
    if link:
        return urlsplit(link).netloc
    return Path(info.source).name if "/" in info.source else info.source


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


# -- adapters -------------------------------------------------------------------------------


class WebApp:
    """The engines behind the page, shared by all browser sessions; one method per page action.

    Everything session-specific (the conversation, the settings panel's values) comes in
    as arguments, so one instance serves every visitor.
    """

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.settings = settings
        self.engine = engine
        self._engines: dict[str, Engine] = {settings.llm_backend: engine}
        self._lock = threading.Lock()

    @property
    def uploads_dir(self) -> Path:
        return self.settings.data_dir / "uploads"

    def backends(self) -> list[str]:
        """The backends a session may switch to: openai only when it is configured."""
        configured = (self.settings.llm_backend == "openai" or os.environ.get(self.settings.llm_api_key_env)
                      or self.settings.llm_base_url != Settings.llm_base_url)
        return [b for b in BACKENDS if b != "openai" or configured]

    def engine_for(self, backend: str) -> Engine:
        """The engine of ``backend``, built once and sharing the store and embedder."""
        from .chain import Engine

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
            return f"⚠ {_esc(str(exc))}"

    # -- chat --

    def respond(self, question: str, turns: Sequence[Turn], k: float | None = None, since: str = "",
                until: str = "", backend: str | None = None) -> Iterator[Update]:
        """Answer ``question`` as a follow-up of ``turns``: sources first, then the streamed text,
        then the verified answer replacing it."""
        from .chain import Retrieved, SecondLook

        question = (question or "").strip()
        turns = list(turns)
        if not question:
            yield Update(warning="Type a question first.")
            return
        shown = chat_messages(turns) + [{"role": "user", "content": html.escape(question, quote=False)}]
        passages: list[Passage] = []
        try:
            filters = parse_filters(since, until)
            engine = self.engine_for(backend or self.settings.llm_backend)
            yield Update(messages=shown + [{"role": "assistant", "content": "_Searching the articles…_"}],
                         status="Searching the articles…")
            streamed, final, last = "", None, 0.0
            for event in engine.stream(question, engine_history(turns), filters, int(k) if k else None):
                if isinstance(event, Retrieved):
                    passages = event.passages
                    yield Update(messages=shown + [{"role": "assistant", "content": "_Writing the answer…_"}],
                                 panel=render_panel(turns, event.passages, event.standalone_question),
                                 status=f"Found {len(event.passages)} passage(s) in {event.retrieve_s:.2f} s; "
                                        "writing the answer…")
                elif isinstance(event, str):
                    streamed += event
                    if time.monotonic() - last >= 0.08:  # fewer, larger updates: each one resends the chat
                        last = time.monotonic()
                        yield Update(messages=shown + [{"role": "assistant",
                                                        "content": html.escape(streamed, quote=False) + " ▍"}])
                elif isinstance(event, SecondLook):
                    streamed = ""
                    yield Update(messages=shown + [{"role": "assistant", "content": f"_{event.message}_"}],
                                 status=event.message)
                else:
                    final = event
            assert final is not None, "Engine.stream ended without an Answer"
            turns.append(Turn(question, final, contexts=self._contexts(final, passages)))
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
        return Update(messages=chat_messages(turns), panel=render_panel(turns), status=f"⚠ {_esc(message)}",
                      turns=turns, warning=message)

    def _contexts(self, answer: Answer, passages: Sequence[Passage]) -> dict[int, tuple[str, str]]:
        """The article text around each cited passage (the citation names its article by source)."""
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
        return self.engine.answer(question, parse_history(history_json)).to_dict()

    def export(self, turns: Sequence[Turn]) -> str:
        """Write the conversation as Markdown in Gradio's own temp dir; return the file's path."""
        from gradio.utils import get_upload_folder

        folder = Path(get_upload_folder()) / "exports" / uuid.uuid4().hex
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "conversation.md"
        path.write_text(conversation_markdown(turns), encoding="utf-8")
        return str(path)

    # -- corpus --

    def corpus_summary(self) -> str:
        articles, chunks = self.engine.store.count()
        if not articles:
            return "**The store is empty.** Upload articles below (or run `assistant ingest seeds/`)."
        return f"**{articles} article(s)**, {chunks} passages indexed."

    def articles(self, match: str = "", limit: int = 500) -> list[ArticleInfo]:
        return self.engine.store.list_articles((match or "").strip(), limit=limit)

    def example_questions(self) -> list[str]:
        return example_questions([a.title for a in self.engine.store.list_articles(limit=50)])

    def add_files(self, paths: Sequence[str], progress: Callable[[float, str], None] | None = None,
                  ) -> tuple[list[tuple[str, str]], str]:
        """Ingest uploaded files, kept under ``<data_dir>/uploads`` so they outlive Gradio's temp dir.

        Returns ``(file name, result)`` per file and the run's summary line.
        """
        from ingest import ingest

        results: dict[str, str] = {}
        copies: dict[str, str] = {}  # stored path -> name as uploaded
        self.uploads_dir.mkdir(parents=True, exist_ok=True)
        for upload in paths:
            name = _safe_name(Path(upload).name)
            if not name.lower().endswith(SUPPORTED_UPLOADS):
                results[name] = f"rejected: unsupported file type; upload {', '.join(SUPPORTED_UPLOADS)}"
                continue
            target = self.uploads_dir / name
            shutil.copyfile(upload, target)
            copies[str(target)] = name
            results[name] = "not read"
        if not copies:
            return list(results.items()), "Nothing to ingest."

        done = 0

        def on_file(path: str, outcome: str) -> None:
            nonlocal done
            done += 1
            name = copies.get(path, Path(path).name)
            results[name] = "read" if outcome == "ok" else outcome
            if progress:
                progress(0.6 * done / len(copies), f"Read {name}")

        if progress:
            progress(0.0, "Reading files…")
        report = ingest(list(copies), self.settings, store=self.engine.store, embedder=self.engine.embedder,
                        progress=False, on_file=on_file)
        if progress:
            progress(1.0, "Done")
        for stored, name in copies.items():
            if results[name] == "read":
                results[name] = "ok"
            elif not results[name].endswith("bad record(s)"):
                Path(stored).unlink(missing_ok=True)  # unreadable: don't keep it
                results[name] = f"rejected: {results[name]}"
        for where, reason in report.failed:  # bad records inside collection files
            if Path(where).name not in results:
                results[Path(where).name] = f"rejected: {reason}"
        for _, warning in report.warnings:
            log.info("ingest warning", extra={"warning": warning})
        return list(results.items()), report.summary().split("\n", 1)[0]

    def remove(self, article_id: str) -> str:
        """Delete an article (and its uploaded file when nothing else uses it); say what happened."""
        store = self.engine.store
        info = store.article_info(article_id)
        if info is None:
            raise ConfigError("choose an article to remove first")
        paths = store.article_paths(article_id)
        store.remove_article(article_id)
        for path in paths:
            if Path(path).parent == self.uploads_dir.resolve() and not store.input_keys(path):
                Path(path).unlink(missing_ok=True)
        return f"Removed “{info.title}”."


def _safe_name(name: str) -> str:
    """A file name with no directory part or odd characters."""
    name = re.sub(r"[^\w.\- ]", "_", name).strip(" .") or "upload"
    return name[:120]


# -- the page ---------------------------------------------------------------------------------

CSS = """
#sources { max-height: 78vh; overflow-y: auto; padding-right: 4px; }
#sources .src { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 8px 10px;
  margin: 0 0 10px 0; background: var(--block-background-fill); transition: box-shadow .3s, border-color .3s; }
#sources .src.active { border-color: #f59e0b; box-shadow: 0 0 0 3px rgba(245, 158, 11, .35); }
#sources .src-head { display: flex; gap: 8px; align-items: baseline; font-weight: 600; }
#sources .src-n { flex: none; min-width: 1.6em; text-align: center; border-radius: 999px; font-size: .8em;
  background: var(--color-accent-soft); color: var(--body-text-color); padding: 0 6px; }
#sources .src-meta { font-size: .82em; color: var(--body-text-color-subdued); margin: 2px 0 6px 0;
  word-break: break-all; }
#sources .src-passage { white-space: pre-wrap; font-size: .9em; line-height: 1.45; border-left: 3px solid
  var(--border-color-primary); padding-left: 8px; }
#sources .ctx { color: var(--body-text-color-subdued); }
#sources mark, #chat mark { background: #fde68a; color: #1f2937; border-radius: 2px; padding: 0 1px; }
#sources .turn-q { font-weight: 600; margin: 0 0 8px 0; }
#sources details.turn { margin: 8px 0; }
#sources details.turn summary { cursor: pointer; color: var(--body-text-color-subdued); }
#sources .src-note, #sources .src-empty { color: var(--body-text-color-subdued); margin: 4px 0 10px 0; }
#chat a.cite { text-decoration: none; font-weight: 600; font-size: .85em; vertical-align: super;
  padding: 0 1px; color: var(--color-accent); }
#chat .notice { color: #b45309; font-size: .9em; }
#chat .hint { color: var(--body-text-color-subdued); font-size: .9em; }
"""

# Clicking a [n] marker opens and highlights its source card instead of following the link.
JS = """
() => {
  document.addEventListener('click', (event) => {
    const link = event.target.closest && event.target.closest('a[href^="#src-"]');
    if (!link) return;
    const card = document.getElementById(link.getAttribute('href').slice(1));
    if (!card) return;
    event.preventDefault();
    event.stopPropagation();
    for (let node = card; node; node = node.parentElement) { if (node.tagName === 'DETAILS') node.open = true; }
    document.querySelectorAll('#sources .src.active').forEach((el) => el.classList.remove('active'));
    card.classList.add('active');
    card.scrollIntoView({behavior: 'smooth', block: 'nearest'});
  }, true);
}
"""


def build_demo(engine: Engine, settings: Settings) -> gr.Blocks:
    """The page: a Chat tab (chat, sources panel, settings, export) and a Corpus tab."""
    import gradio as gr

    app = WebApp(engine, settings)
    private = {"api_visibility": "private"}

    def outputs_of(update: Update) -> tuple[Any, ...]:
        if update.warning:
            gr.Warning(update.warning)
        skip = gr.skip()
        return (skip if update.messages is None else update.messages,
                skip if update.panel is None else update.panel,
                skip if update.status is None else update.status,
                skip if update.turns is None else update.turns,
                skip if update.export is None else gr.update(value=update.export, interactive=True))

    def respond(question: str, turns: list[Turn], k: float, since: str, until: str,
                backend: str) -> Iterator[tuple[Any, ...]]:
        for update in app.respond(question, turns, k, since, until, backend):
            yield outputs_of(update)

    def start(question: str, turns: list[Turn]) -> tuple[Any, ...]:
        question = (question or "").strip()
        if not question:
            return gr.skip(), gr.skip(), ""
        shown = chat_messages(turns) + [{"role": "user", "content": html.escape(question, quote=False)}]
        return "", shown, question

    def new_chat() -> tuple[Any, ...]:
        return [], [], EMPTY_PANEL, "", gr.update(value=None, interactive=False), ""

    def start_example(sample: Any, turns: list[Turn]) -> tuple[Any, ...]:
        return start(sample[0] if isinstance(sample, list) else str(sample), turns)

    def corpus_view(match: str) -> tuple[Any, ...]:
        infos = app.articles(match)
        questions = app.example_questions()
        rows = [[a.title, a.date, source_label(a), a.n_chunks] for a in infos]
        choices = [(f"{a.title} ({a.date})" if a.date else a.title, a.id) for a in infos]
        return (app.corpus_summary(), rows, gr.update(choices=choices, value=None),
                gr.update(samples=[[q] for q in questions], visible=bool(questions)))

    def select_row(match: str, evt: gr.SelectData) -> Any:
        row = evt.row_value or []
        for a in app.articles(match):
            if row and a.title == row[0] and a.date == row[1]:
                return gr.update(value=a.id)
        return gr.skip()

    # Annotations are strings here (PEP 563); Gradio needs the class itself to pass the event data.
    select_row.__annotations__["evt"] = gr.SelectData

    def add_files(files: list[str] | None, match: str, progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:
        if not files:
            gr.Warning("Choose one or more files to upload first.")
            return (gr.skip(),) * 5
        try:
            results, summary = app.add_files(files, lambda f, desc: progress(f, desc=desc))
        except AssistantError as exc:
            gr.Warning(str(exc))
            return (f"⚠ {_esc(str(exc))}",) + (gr.skip(),) * 4
        rejected = [name for name, result in results if result != "ok"]
        if rejected:
            gr.Warning(f"Not ingested: {', '.join(rejected)} (see the results below the upload).")
        lines = [f"**{summary}**", "", "| File | Result |", "|---|---|"]
        lines += [f"| {_esc(name)} | {_esc(result)} |" for name, result in results]
        return ("\n".join(lines), *corpus_view(match))

    def remove(article_id: str | None, match: str) -> tuple[Any, ...]:
        try:
            message = app.remove(article_id or "")
        except AssistantError as exc:
            gr.Warning(str(exc))
            return (gr.skip(),) * 5
        gr.Info(message)
        return (message, *corpus_view(match))

    def answer(question: str, history_json: str = "[]") -> dict:
        """Answer a question from the articles; history_json holds earlier turns as
        [{"role": "user"|"assistant", "content": "..."}]. Returns Answer.to_dict()."""
        try:
            return app.answer_json(question, history_json)
        except AssistantError as exc:
            raise gr.Error(str(exc)) from None

    answer.__annotations__.update(question=str, history_json=str, **{"return": dict})

    with gr.Blocks(title=TITLE, analytics_enabled=False, delete_cache=(3600, 86400)) as demo:
        gr.Markdown(f"## {TITLE}\nAsk about AI startups and their funding. Answers come only from the "
                    "articles in the corpus and cite them: click a **[n]** to see the passage.")
        turns_state = gr.State([])
        pending = gr.State("")
        with gr.Tab("Chat"):
            with gr.Row(equal_height=False):
                with gr.Column(scale=3):
                    chatbot = gr.Chatbot(label="Conversation", elem_id="chat", height=480, latex_delimiters=[],
                                         feedback_options=None, buttons=["copy"], autoscroll=True,
                                         placeholder="Ask a question below, or pick an example.")
                    with gr.Row():
                        question = gr.Textbox(show_label=False, placeholder="e.g. How much did SenseTime raise?",
                                              scale=8, elem_id="question", autofocus=True, max_length=2000)
                        ask = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="ask")
                    status = gr.Markdown("", elem_id="status")
                    examples = gr.Dataset(components=[question], samples=[], label="Examples", elem_id="examples")
                    with gr.Row():
                        new = gr.Button("New chat", size="sm", elem_id="new-chat")
                        export = gr.DownloadButton("Export as Markdown", value=None, size="sm", interactive=False,
                                                   elem_id="export")
                    with gr.Accordion("Settings (this session only)", open=False):
                        k = gr.Slider(1, MAX_K, value=min(settings.retrieval_k, MAX_K), step=1,
                                      label="Passages given to the model")
                        with gr.Row():
                            since = gr.Textbox(label="Articles since", placeholder="YYYY-MM-DD")
                            until = gr.Textbox(label="Articles until", placeholder="YYYY-MM-DD")
                        backend = gr.Radio(app.backends(), value=settings.llm_backend, label="LLM backend",
                                           info="extractive: no LLM, quotes the best-supported sentences")
                        model = gr.Markdown(app.model_markdown(settings.llm_backend))
                with gr.Column(scale=2):
                    gr.Markdown("### Sources")
                    sources = gr.HTML(EMPTY_PANEL, elem_id="sources", js_on_load=None)
        with gr.Tab("Corpus"):
            summary = gr.Markdown(app.corpus_summary())
            search = gr.Textbox(label="Search titles", placeholder="e.g. SenseTime")
            table = gr.Dataframe(headers=["Title", "Date", "Source", "Chunks"],
                                 datatype=["str", "str", "str", "number"], interactive=False, wrap=True,
                                 column_widths=["55%", "12%", "23%", "10%"], elem_id="articles")
            with gr.Row():
                chosen = gr.Dropdown(label="Article to remove (or click its row)", choices=[], scale=4,
                                     elem_id="remove-choice")
                drop = gr.Button("Remove article", variant="stop", scale=1, elem_id="remove")
            upload = gr.File(label="Upload articles (" + " ".join(SUPPORTED_UPLOADS) + ")", file_count="multiple",
                             file_types=list(SUPPORTED_UPLOADS), elem_id="upload")
            add = gr.Button("Ingest uploaded files", variant="primary", elem_id="ingest")
            results = gr.Markdown("", elem_id="ingest-results")

        # Show the question at once (unqueued), then answer in the queue: one generation at a time,
        # and the chat shows a waiting visitor their place in the queue.
        outputs = [chatbot, sources, status, turns_state, export]
        for trigger, first, inputs in ((question.submit, start, question), (ask.click, start, question),
                                       (examples.click, start_example, examples)):
            trigger(first, [inputs, turns_state], [question, chatbot, pending], queue=False, **private).then(
                respond, [pending, turns_state, k, since, until, backend], outputs, concurrency_id="engine",
                show_progress="full", show_progress_on=chatbot, **private)
        for trigger in (new.click, chatbot.clear):  # the chat's own trash button starts over too
            trigger(new_chat, None, [turns_state, chatbot, sources, status, export, question], queue=False, **private)
        backend.change(app.model_markdown, backend, model, **private)

        corpus_outputs = [summary, table, chosen, examples]
        search.change(corpus_view, search, corpus_outputs, show_progress="hidden", **private)
        table.select(select_row, search, chosen, queue=False, **private)
        add.click(add_files, [upload, search], [results, *corpus_outputs], concurrency_id="engine", **private).then(
            lambda: None, None, upload, queue=False, **private)
        drop.click(remove, [chosen, search], [results, *corpus_outputs], concurrency_id="engine", **private)
        demo.load(corpus_view, search, corpus_outputs, **private)

        gr.api(answer, api_name="answer", concurrency_id="engine")
    return demo


def serve(settings: Settings, ingest_paths: Sequence[str | Path] = ()) -> None:
    """Start the web chat: ingest ``ingest_paths`` into an empty store, load the models, launch.

    Binds ``settings.web_host:web_port`` (127.0.0.1:7860 by default); a public share link only
    with ``web_share``. Blocks until interrupted.
    """
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    from .chain import Engine

    engine = Engine.from_settings(settings)
    if ingest_paths and engine.store.count()[0] == 0:
        from ingest import ingest

        _say(f"Ingesting {', '.join(map(str, ingest_paths))} into {settings.data_dir} …")
        report = ingest(list(ingest_paths), settings, store=engine.store, embedder=engine.embedder, progress=False)
        _say(report.summary())
    _say(f"Loading the models ({engine.model_name}) …")
    started = time.perf_counter()
    engine.warm_up()
    _say(f"Models ready in {time.perf_counter() - started:.1f} s.")
    demo = build_demo(engine, settings)
    demo.queue(default_concurrency_limit=1)
    demo.launch(server_name=settings.web_host, server_port=settings.web_port, share=settings.web_share,
                show_error=False, max_file_size=int(settings.ingest_max_file_mb * 1e6), ssr_mode=False,
                mcp_server=False, enable_monitoring=False, footer_links=["api", "gradio"], css=CSS, js=JS)


def _say(message: str) -> None:
    """Startup progress on stderr (the logger is quiet by default; Gradio prints its URL there too)."""
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


__all__ = ["Turn", "WebApp", "build_demo", "conversation_markdown", "render_answer_html", "render_panel",
           "render_sources_html", "serve"]
