"""Answers questions about AI startups from news articles, with citations.

Example:
    from assistant import answer, facts
    a = answer("How much did SenseTime raise?")
    print(a.text)                      # "... $600 million ... [1]"
    for c in a.citations:
        print(c.n, c.title, c.date, c.url)
    for fact in facts(company="SenseTime", kind="round"):
        print(fact.to_dict())          # what `assistant facts --json` prints

Nothing heavy is imported here: models load on the first question and are reused.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from .config import Settings, load_settings
from .documents import Answer, Citation, Passage, Timings
from .errors import (
    AssistantError,
    BackendError,
    ConfigError,
    IndexNotFoundError,
    IngestError,
    ModelAssemblyError,
    StoreLockedError,
)

if TYPE_CHECKING:
    from .chain import Event
    from .documents import Filters
    from .facttable import Fact

__all__ = [
    "Answer",
    "AssistantError",
    "BackendError",
    "Citation",
    "ConfigError",
    "IndexNotFoundError",
    "IngestError",
    "ModelAssemblyError",
    "Passage",
    "Settings",
    "StoreLockedError",
    "Timings",
    "answer",
    "facts",
    "load_settings",
    "retrieve",
    "stream_answer",
]


def answer(question: str, history: Sequence[dict[str, str]] | None = None,
           filters: Filters | dict[str, str] | None = None, *, k: int | None = None,
           settings: Settings | None = None) -> Answer:
    """Answer a question from the ingested articles.

    Args:
        question: the question; a follow-up when ``history`` is given.
        history: earlier turns as ``{"role": "user" | "assistant", "content": str}``.
        filters: ``{"since": "YYYY-MM-DD", "until": "YYYY-MM-DD", "match": "title or source text"}``.
        k: passages to give the model (``retrieval.k`` by default).
        settings: defaults to ``load_settings()`` (environment and ``ASSISTANT_CONFIG``).

    Returns:
        An ``Answer`` whose ``text`` carries ``[n]`` markers matching ``citations``;
        ``abstained`` is True when the articles don't hold the answer.
    """
    from .chain import default_engine

    return default_engine(settings).answer(question, history, filters, k)


def stream_answer(question: str, history: Sequence[dict[str, str]] | None = None,
                  filters: Filters | dict[str, str] | None = None, *, k: int | None = None,
                  settings: Settings | None = None) -> Iterator[Event]:
    """Like ``answer`` but yields as it goes: a ``Retrieved`` event with the passages,
    then text deltas (``str``), then the final ``Answer``."""
    from .chain import default_engine

    yield from default_engine(settings).stream(question, history, filters, k)


def retrieve(question: str, k: int = 8, filters: Filters | dict[str, str] | None = None, *,
             settings: Settings | None = None) -> list[Passage]:
    """Ranked passages for ``question`` with their article metadata and scores (no LLM)."""
    from .chain import default_engine

    return default_engine(settings).retrieve(question, k=k, filters=filters)


def facts(company: str = "", *, investor: str = "", kind: str = "", since: str = "", until: str = "",
          min_amount: float | None = None, about: str = "", all_mentions: bool = False, order: str = "date",
          limit: int = 0, settings: Settings | None = None) -> list[Fact]:
    """The table of funding rounds, acquisitions, IPOs, layoffs and funding totals read from the articles at ingest.

    Args:
        company: a company raising, listing or laying off, an acquirer or a target ("SenseTime").
        investor: a lead or other investor of a round.
        kind: "round", "acquisition", "ipo", "layoff" or "total" (what a company has raised in all); empty for all.
        since, until: inclusive date prefixes, "2021" or "2021-03" or "2021-03-15".
        min_amount: at least this amount (in the event's currency).
        about: words the article must have ("robotics").
        all_mentions: also earlier rounds and deals an article mentions in passing.
        order: "date" (oldest first) or "amount" (largest first); ``limit``: at most this many.

    Returns:
        ``Fact``s; ``fact.to_dict()`` is the record `assistant facts --json` prints, each field
        with the span it was read from, the sources, and the figures they disagree on.
    """
    from .facttable import FactQuery, find_facts
    from .store import Store

    settings = settings or load_settings()
    store = Store(settings.data_dir, collection=settings.store_collection)
    try:
        query = FactQuery(company=company, investor=investor, kind=kind, since=since, until=until,
                          min_amount=min_amount, topic=about, subject_only=not all_mentions)
        return find_facts(store, query, order=order, limit=limit)
    finally:
        store.close()
