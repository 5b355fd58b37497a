"""Answers, citations and source cards as HTML (and the conversation as Markdown): pure functions.

Every piece of article text is HTML-escaped: it is untrusted data. The sentences highlighted
in a source card are those the verifier found supporting the answer (``Citation.support``).
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ..documents import Answer, Citation, Passage

CONTEXT_CHARS = 220  # article text shown around a cited passage, each side
TITLE = "AI startup news assistant"
EMPTY_PANEL = ('<div class="src-empty">Sources appear here: each <b>[n]</b> in an answer links to the '
               "article and passage it comes from, with the supporting sentences highlighted.</div>")

_MARKERS = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")


@dataclass(frozen=True)
class Turn:
    """One exchange of the conversation as the page keeps it (per browser session)."""

    question: str
    answer: Answer | None = None  # None when answering failed
    error: str = ""
    # citation n -> (article text before, after) the cited passage
    contexts: dict[int, tuple[str, str]] = field(default_factory=dict)


def esc(text: str) -> str:
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
            links.append(f'<a class="cite" href="#{source_id(turn, n)}" title="{esc(tip)}">[{n}]</a>')
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
        body += f'\n\n<span class="notice">⚠ {esc(answer.notice)}</span>'
    return body


def highlight(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """Escaped ``text`` with the ``(start, end)`` spans wrapped in ``<mark>`` (clipped, merged)."""
    out, at = [], 0
    for start, end in sorted(spans):
        start, end = max(start, at, 0), min(end, len(text))
        if start >= end:
            continue
        out += [esc(text[at:start]), f"<mark>{esc(text[start:end])}</mark>"]
        at = end
    out.append(esc(text[at:]))
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
    parts = [f'<span class="src-date">{esc(date_text)}</span>'] if date_text else []
    link = safe_url(url)
    if link:
        shown = urlsplit(link).netloc + urlsplit(link).path
        shown = shown if len(shown) <= 60 else shown[:57] + "…"
        parts.append(f'<a href="{esc(link)}" target="_blank" rel="noopener noreferrer">{esc(shown)}</a>')
    if source and source != url:
        parts.append(f'<span class="src-ref">{esc(source)}</span>')
    return '<div class="src-meta">' + " · ".join(parts) + "</div>"


def render_citation(c: Citation, turn: int, context: tuple[str, str] = ("", "")) -> str:
    """One source card: number, title, date, link or source, and the passage in its context, the
    sentences the verifier found supporting the answer highlighted."""
    title = f"<mark>{esc(c.title)}</mark>" if c.title_supports else esc(c.title)
    before, after = context
    return (f'<div class="src" id="{source_id(turn, c.n)}">'
            f'<div class="src-head"><span class="src-n">{c.n}</span><span class="src-title">{title}</span></div>'
            f"{_meta_line(c.date, c.url, c.source)}"
            f'<div class="src-passage"><span class="ctx">{esc(before)}</span>{highlight(c.passage, c.support)}'
            f'<span class="ctx">{esc(after)}</span></div></div>')


def _snippet(text: str, chars: int = 260) -> str:
    text = " ".join(text.split())
    return text if len(text) <= chars else text[:chars].rsplit(" ", 1)[0] + "…"


def render_passage_card(p: Passage, label: str = "·") -> str:
    """A retrieved passage or a suggested article: title, date, link and the start of the passage."""
    return (f'<div class="src retrieved"><div class="src-head"><span class="src-n">{esc(label)}</span>'
            f'<span class="src-title">{esc(p.title)}</span></div>{_meta_line(p.date, p.url, p.source)}'
            f'<div class="src-passage">{esc(_snippet(p.text))}</div></div>')


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
        return f'<div class="src-note">Not answered: {esc(turn.error)}</div>'
    return render_sources_html(turn.answer, number, turn.contexts)


def render_panel(turns: Sequence[Turn], retrieved: Sequence[Passage] | None = None, question: str = "") -> str:
    """The sources panel: the newest answer's sources (or the passages being used for the answer
    being written), then earlier answers' sources folded away, newest first."""
    parts = []
    if retrieved is not None:
        parts.append(f'<div class="turn current"><div class="turn-q">Reading for: {esc(question)}</div>'
                     + ("".join(render_passage_card(p) for p in retrieved)
                        or '<div class="src-note">No passage found.</div>') + "</div>")
    for number in range(len(turns), 0, -1):
        turn = turns[number - 1]
        body = _turn_sources(turn, number)
        if retrieved is None and number == len(turns):
            parts.append(f'<div class="turn current"><div class="turn-q">Sources for: {esc(turn.question)}</div>'
                         f"{body}</div>")
        else:
            parts.append(f'<details class="turn"><summary>Q{number}: {esc(turn.question)}</summary>{body}</details>')
    return "".join(parts) or EMPTY_PANEL


def user_message(question: str) -> dict[str, str]:
    return {"role": "user", "content": html.escape(question, quote=False)}


def chat_messages(turns: Sequence[Turn]) -> list[dict[str, str]]:
    """The Chatbot value (messages format) for the finished turns."""
    messages = []
    for number, turn in enumerate(turns, 1):
        messages.append(user_message(turn.question))
        if turn.answer is not None:
            messages.append({"role": "assistant", "content": render_answer_html(turn.answer, number)})
        else:
            messages.append({"role": "assistant", "content": f'<span class="notice">⚠ {esc(turn.error)}</span>'})
    return messages


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
