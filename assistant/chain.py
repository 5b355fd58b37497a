"""The answer engine: condense follow-up -> retrieve -> prompt -> LLM -> parse -> verify.

The prompt, model and parser form one LCEL chain (``PROMPT | chat_model | StrOutputParser()``);
retrieval is a LangChain retriever. ``stream()`` runs the steps in order and yields as it goes:
a ``Retrieved`` event as soon as the passages are known, text deltas, then the ``Answer``.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .documents import Answer, Passage, Timings
from .errors import IndexNotFoundError
from .extractive import extractive_answer
from .prompting import DECLINE, PROMPT, fit_passages, format_sources
from .query import comparison_names, names, standalone_question
from .retrieval import HybridRetriever, keyword_overlap, mentions, missing_names
from .store import Filters
from .verify import check_answer

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from .config import Settings
    from .protocols import Embedder
    from .store import Store

log = logging.getLogger(__name__)

NOT_FOUND = "I couldn't find the answer in the articles."
_SERIES = re.compile(r"\bseries [a-h]\b", re.IGNORECASE)


@dataclass(frozen=True)
class Retrieved:
    """First event of a stream: the passages the answer will draw on."""

    standalone_question: str
    passages: list[Passage]
    retrieve_s: float


Event = Retrieved | str | Answer


class Engine:
    """Answers questions from the store.

    Example:
        engine = Engine.from_settings(load_settings())
        engine.answer("How much did SenseTime raise?").text
    """

    def __init__(self, store: Store, embedder: Embedder, chat_model: BaseChatModel | None, *, model_name: str,
                 k: int = 4, candidates: int = 40, per_article: int = 2, rrf_k: int = 60,
                 min_similarity: float = 0.35, context_chars: int = 1800, fallback_notice: str = "") -> None:
        self.store = store
        self.embedder = embedder
        self.chat_model = chat_model
        self.model_name = model_name
        self.min_similarity = min_similarity
        self.context_chars = context_chars
        self.retriever = HybridRetriever(store=store, embedder=embedder, k=k, candidates=candidates,
                                         per_article=per_article, rrf_k=rrf_k)
        self._generate = self._build_chain(chat_model)
        self._fallback_notice = fallback_notice

    @classmethod
    def from_settings(cls, settings: Settings, *, store: Store | None = None, embedder: Embedder | None = None,
                      chat_model: BaseChatModel | None | str = "auto") -> Engine:
        """Open the store and models that ``settings`` name (the LLM loads on first use)."""
        from .backends import chat_model_name, make_chat_model, make_embedder
        from .store import Store

        embedder = embedder or make_embedder(settings)
        store = store or Store(settings.data_dir, collection=settings.store_collection,
                               embedding_model=embedder.name, host=settings.store_host, port=settings.store_port,
                               embedder=embedder)
        if chat_model == "auto":
            model, name = make_chat_model(settings), chat_model_name(settings)
        else:
            model, name = chat_model, getattr(chat_model, "_llm_type", "extractive")
        notice = ""
        if settings.llm_backend == "openai":
            notice = f"The LLM server at {settings.llm_base_url} is unreachable; showing extracted sentences instead."
        return cls(store, embedder, model, model_name=name, k=settings.retrieval_k,
                   candidates=settings.retrieval_candidates,
                   per_article=settings.retrieval_per_article, rrf_k=settings.retrieval_rrf_k,
                   min_similarity=settings.retrieval_min_similarity, context_chars=settings.retrieval_context_chars,
                   fallback_notice=notice)

    @staticmethod
    def _build_chain(chat_model: BaseChatModel | None) -> Any:
        if chat_model is None:
            return None
        from langchain_core.output_parsers import StrOutputParser

        return PROMPT | chat_model | StrOutputParser()

    def warm_up(self) -> None:
        """Load the models now rather than on the first question."""
        self.embedder.embed_query("warm up")
        if self.store.count()[0]:
            self.retriever.search("warm up", k=1)  # loads the embedder, opens Chroma and SQLite pages
        load = getattr(self.chat_model, "load", None)
        if load:
            load()

    # -- public -----------------------------------------------------------------------------

    def retrieve(self, question: str, k: int | None = None, filters: Filters | dict[str, str] | None = None,
                 ) -> list[Passage]:
        """Ranked passages with metadata and scores; no LLM."""
        self._require_articles()
        return self.retriever.search(question, k=k, filters=Filters.of(filters))

    def answer(self, question: str, history: Sequence[dict[str, str]] | None = None,
               filters: Filters | dict[str, str] | None = None, k: int | None = None) -> Answer:
        """Answer ``question`` (a follow-up when ``history`` is given); see ``stream``."""
        final = None
        for event in self.stream(question, history, filters, k):
            if isinstance(event, Answer):
                final = event
        assert final is not None
        return final

    def stream(self, question: str, history: Sequence[dict[str, str]] | None = None,
               filters: Filters | dict[str, str] | None = None, k: int | None = None) -> Iterator[Event]:
        """Yield a ``Retrieved`` event, then text deltas, then the verified ``Answer``."""
        started = time.perf_counter()
        question = question.strip()
        standalone = standalone_question(question, history)
        passages = self.retrieve(standalone, k=k, filters=filters)
        retrieve_s = time.perf_counter() - started
        yield Retrieved(standalone, passages, retrieve_s)

        if self._unanswerable(standalone, passages):
            yield self._abstain(standalone, passages, Timings(retrieve_s, 0.0, time.perf_counter() - started))
            return
        context = fit_passages(standalone, focus(standalone, passages), self.context_chars)
        raw, first_token_s, notice, model = "", 0.0, "", self.model_name
        for delta, used_model, used_notice in self._generate_text(standalone, context):
            if not first_token_s:
                first_token_s = time.perf_counter() - started
            raw += delta
            model, notice = used_model, used_notice
            yield delta
        checked = check_answer(raw, context, standalone, self.store.article_text)
        timings = Timings(retrieve_s, first_token_s, time.perf_counter() - started)
        log.info("answered", extra={"question": standalone, "retrieve_s": round(retrieve_s, 3),
                                    "total_s": round(timings.total_s, 3), "removed": len(checked.removed)})
        if checked.declined and not checked.citations:
            yield self._abstain(standalone, passages, timings, model=model, notice=notice, removed=checked.removed)
            return
        # A cited decline ("the price was not disclosed [1]") keeps its words and source.
        yield Answer(text=checked.text, citations=checked.citations, abstained=checked.declined,
                     standalone_question=standalone, timings=timings, model=model, notice=notice,
                     removed=checked.removed)

    # -- steps ------------------------------------------------------------------------------

    def _require_articles(self) -> None:
        if self.store.count()[0] == 0:
            raise IndexNotFoundError(
                f'no articles in {self.store.data_dir}; run "assistant ingest seeds/" (or upload articles) first')

    def _unanswerable(self, question: str, passages: list[Passage]) -> bool:
        """Retrieval-level abstention: the companies or the round asked about are absent, or nothing is close.

        Skipping the LLM here is both faster and safer: a small model handed near-misses
        turns them into confident inventions.
        """
        if not passages:
            return True
        asked = names(question)
        if asked and len(missing_names(question, passages)) == len(asked):
            return True
        best_similarity = max(p.similarity for p in passages)
        best_overlap = max(keyword_overlap(question, p) for p in passages)
        if best_similarity < self.min_similarity and best_overlap < 0.5:
            return True
        series = _SERIES.search(question)
        return bool(series and asked and self._other_round_only(asked[0], series.group(), passages))

    def _other_round_only(self, company: str, series: str, passages: list[Passage]) -> bool:
        """The company's articles name other rounds but never the one asked about
        ("Covariant's Series D" when the articles only know its Series B)."""
        texts = [self.store.article_text(p.article_id) for p in passages
                 if company.lower() in f"{p.title} {p.text}".lower()]
        rounds = {m.lower() for text in texts for m in _SERIES.findall(text)}
        return bool(rounds) and series.lower() not in rounds

    def _generate_text(self, question: str, context: list[Passage]) -> Iterator[tuple[str, str, str]]:
        """Deltas from the LLM, or the extractive answer when there is none or it fails."""
        if self._generate is not None:
            produced = False
            try:
                for delta in self._generate.stream({"sources": format_sources(context), "question": question}):
                    produced = True
                    yield delta, self.model_name, ""
                return
            except Exception as exc:  # any transport or server error: answer without the LLM
                if produced:
                    raise
                log.warning("llm unavailable, using extractive fallback", extra={"error": str(exc)})
                yield extractive_answer(question, context), "extractive", self._fallback_notice or (
                    f"The LLM failed ({type(exc).__name__}); showing extracted sentences instead.")
                return
        yield extractive_answer(question, context), "extractive", ""

    def _abstain(self, question: str, passages: list[Passage], timings: Timings, *, model: str = "",
                 notice: str = "", removed: list[str] | None = None) -> Answer:
        seen: dict[str, Passage] = {}
        for passage in passages:
            seen.setdefault(passage.article_id, passage)
        return Answer(text=NOT_FOUND, citations=[], abstained=True, standalone_question=question, timings=timings,
                      model=model or self.model_name, suggestions=list(seen.values())[:3], notice=notice,
                      removed=removed or [])


def focus(question: str, passages: list[Passage]) -> list[Passage]:
    """Only the passages about what the question names: those naming the most of it, or for a
    comparison, those naming any of the companies compared.

    Passages about other companies are noise a small model happily answers from, and
    every one of them costs prompt-evaluation time.
    """
    asked = [name.lower() for name in names(question)]
    if not asked:
        return passages
    counts = [sum(mentions(f"{p.title} {p.text}".lower(), name) for name in asked) for p in passages]
    needed = 1 if comparison_names(question) else max(counts)
    return [p for p, count in zip(passages, counts, strict=True) if count >= needed] if needed else passages


_engines: dict[Any, Engine] = {}
_engines_lock = threading.Lock()


def default_engine(settings: Settings | None = None) -> Engine:
    """The engine for ``settings`` (loaded from the environment by default), built once."""
    from .config import load_settings

    settings = settings or load_settings()
    with _engines_lock:
        if settings not in _engines:
            _engines[settings] = Engine.from_settings(settings)
        return _engines[settings]


__all__ = ["DECLINE", "Engine", "Event", "Retrieved", "default_engine"]
