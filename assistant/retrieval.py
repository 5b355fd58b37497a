"""Hybrid retrieval: dense (Chroma) + keyword (SQLite FTS5 bm25) fused by reciprocal rank.

Around the fusion: one query per company for comparisons, a boost for the year a question
names, at most ``per_article`` passages from one article, and adjacent chunks of one
article merged, so a tight context covers the question instead of one paragraph four times.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from .documents import Filters, Passage
from .query import Question, read_question
from .text import count_terms, key_terms

if TYPE_CHECKING:
    from .store import Store

DATE_BOOST = 1.5  # a passage from the year or month the question names outranks one from another
NAME_BOOST = 1.0  # a passage naming every company the query names gets double weight
KEYWORD_WEIGHT = 1.0
DENSE_WEIGHT = 1.0


class HybridRetriever(BaseRetriever):
    """A LangChain retriever over the store; ``search()`` returns our ``Passage`` records.

    Example:
        retriever = HybridRetriever(store=store, embedder=embedder, k=4)
        retriever.invoke("Who led SenseTime's Series C?")  # -> list[Document]
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    store: Any
    embedder: Any
    k: int = 4
    candidates: int = 40
    per_article: int = 2
    rrf_k: int = 60

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun,
                                ) -> list[Document]:
        return [to_document(p) for p in self.search(query)]

    def search(self, question: str | Question, k: int | None = None, filters: Filters | None = None,
               ) -> list[Passage]:
        """The ``k`` best passages for ``question``, best first."""
        k = k or self.k
        store: Store = self.store
        if isinstance(question, str):
            question = read_question(question, store.lexicon())
        allowed = store.allowed_articles(filters)
        parts = [question] + [question.about(name) for name in question.members]
        queries = [part.search_text for part in parts]
        vectors = [self.embedder.embed_query(text) for text in queries]  # (a question's own encoder: backends)
        ranked = [self._fuse(part, vector, allowed, list(question.periods))
                  for part, vector in zip(parts, vectors, strict=True)]
        if question.members:
            # Round-robin over the per-company rankings so each company gets its passages.
            order = _interleave(ranked[1:] + ranked[:1])
        else:
            order = ranked[0]
        return self._select(order, k)

    def _fuse(self, query: Question, vector: list[float], allowed: list[str] | None, periods: list[str],
              ) -> list[Passage]:
        store: Store = self.store
        dense = store.search_dense(vector, self.candidates, allowed)
        keyword = store.search_keyword(query.search_text, self.candidates, allowed)
        scores: dict[str, float] = defaultdict(float)
        for weight, hits in ((DENSE_WEIGHT, dense), (KEYWORD_WEIGHT, keyword)):
            for rank, (chunk_id, _) in enumerate(hits):
                scores[chunk_id] += weight / (self.rrf_k + rank + 1)
        similarity = dict(dense)
        passages = store.passages(list(scores))
        wanted = [name.lower() for name in query.specific]
        fused = []
        for chunk_id, score in scores.items():
            passage = passages.get(chunk_id)
            if passage is None:
                continue
            if passage.date and any(passage.date.startswith(period) for period in periods):
                score *= DATE_BOOST
            if wanted:
                # Dense search blurs similar names ("Nova", "Novidea"); an exact mention settles it.
                haystack = f"{passage.title} {passage.text}".lower()
                score *= 1 + NAME_BOOST * sum(mentions(haystack, n) for n in wanted) / len(wanted)
            fused.append(replace(passage, score=score, similarity=similarity.get(chunk_id, 0.0)))
        fused.sort(key=lambda p: p.score, reverse=True)
        return fused

    def _select(self, ranked: list[Passage], k: int) -> list[Passage]:
        """Top ``k`` with at most ``per_article`` per article; neighbouring chunks merged."""
        chosen: list[Passage] = []
        per_article: dict[str, int] = defaultdict(int)
        seen: set[str] = set()
        for passage in ranked:
            if passage.chunk_id in seen or per_article[passage.article_id] >= self.per_article:
                continue
            seen.add(passage.chunk_id)
            per_article[passage.article_id] += 1
            chosen.append(passage)
            if len(chosen) >= k:
                break
        return self._merge_adjacent(chosen)

    def _merge_adjacent(self, passages: list[Passage]) -> list[Passage]:
        merged: list[Passage] = []
        for passage in passages:
            twin = next((m for m in merged if m.article_id == passage.article_id
                         and passage.start <= m.end + 1 and passage.end >= m.start - 1), None)
            if twin is None:
                merged.append(passage)
                continue
            start, end = min(twin.start, passage.start), max(twin.end, passage.end)
            text = self.store.article_text(passage.article_id)[start:end]
            merged[merged.index(twin)] = replace(twin, text=text, start=start, end=end,
                                                 similarity=max(twin.similarity, passage.similarity))
        return merged


def _interleave(rankings: list[list[Passage]]) -> list[Passage]:
    out: list[Passage] = []
    for i in range(max((len(r) for r in rankings), default=0)):
        out += [r[i] for r in rankings if i < len(r)]
    return out


def missing_names(question: Question, passages: list[Passage]) -> list[str]:
    """Specific names the question asks about that no passage mentions (a sign the answer isn't here)."""
    haystack = " ".join(f"{p.title} {p.text}" for p in passages).lower()
    return [name for name in question.specific if not mentions(haystack, name.lower())]


def mentions(haystack: str, name: str) -> bool:
    """Whether lower-cased ``haystack`` contains ``name`` as a whole word or phrase (its words may
    take a possessive: "google palm" is in "google's palm"; "&" may be written "and")."""
    words = r"(?:['’]s)?\s+".join("(?:&|and)" if w in ("&", "and") else re.escape(w) for w in name.split())
    return re.search(rf"(?<!\w){words}(?!\w)", haystack) is not None


def keyword_overlap(question: Question, passage: Passage) -> float:
    """Share of the question's distinctive terms that the passage contains."""
    terms = key_terms(question.search_text)
    if not terms:
        return 0.0
    return count_terms(terms, f"{passage.title} {passage.text}") / len(terms)


def to_document(passage: Passage) -> Document:
    """A ``Passage`` as a LangChain ``Document`` (metadata carries everything but the text)."""
    meta = {k: v for k, v in passage.__dict__.items() if k != "text"}
    return Document(page_content=passage.text, metadata=meta)
