"""Plain records passed between ingest, retrieval, generation and the adapters."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .errors import ConfigError


@dataclass(frozen=True)
class Article:
    """One cleaned article, ready to be chunked."""

    key: str  # identity of the input: absolute file path, plus "#<record id>" in a collection
    ref: str  # shown as the citation's source: the file's path, or the record's id
    title: str
    text: str  # cleaned body; chunk offsets point into this
    date: str = ""  # ISO YYYY-MM-DD, or "" when unknown
    url: str = ""
    publisher: str = ""
    path: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Chunk:
    """A passage of an article as stored: ``article.text[start:end] == text``."""

    id: str
    article_id: str
    index: int
    text: str
    start: int
    end: int


def vector_metadata(article: Article, chunk: Chunk) -> dict[str, str | int]:
    """What a chunk's vector carries in Chroma (filters and other tools read it there)."""
    return {"article_id": chunk.article_id, "chunk_index": chunk.index, "start": chunk.start, "end": chunk.end,
            "title": article.title, "date": article.date, "date_int": int(article.date.replace("-", "") or 0),
            "url": article.url, "source": article.ref, "publisher": article.publisher, "path": article.path}


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk (or run of adjacent chunks) with its article's metadata."""

    chunk_id: str
    article_id: str
    text: str
    start: int
    end: int
    title: str
    date: str
    url: str
    source: str  # the article's ref: file path or collection record id
    publisher: str
    score: float  # fused rank score (higher is better)
    similarity: float = 0.0  # best cosine similarity to the question, 0 when unknown
    chunk_index: int = 0


@dataclass(frozen=True)
class Citation:
    """A numbered source that a ``[n]`` marker in the answer points at."""

    n: int
    title: str
    date: str
    url: str
    source: str
    passage: str
    start: int
    end: int
    score: float
    sentences: tuple[str, ...] = ()  # answer sentences supported by this passage
    article_id: str = ""  # the stored article (Store.article_text gives the text around the passage)
    # Where the passage states those sentences' facts, as the verifier found them: (start, end)
    # of each supporting sentence, offsets into ``passage``; and whether the title states some.
    support: tuple[tuple[int, int], ...] = ()
    title_supports: bool = False


@dataclass(frozen=True)
class Timings:
    retrieve_s: float = 0.0
    first_token_s: float = 0.0
    total_s: float = 0.0


@dataclass(frozen=True)
class Answer:
    """What ``answer()`` returns."""

    text: str
    citations: list[Citation]
    abstained: bool
    standalone_question: str
    timings: Timings = field(default_factory=Timings)
    model: str = ""
    suggestions: list[Passage] = field(default_factory=list)  # closest articles when abstaining
    notice: str = ""  # e.g. the LLM was unreachable and the extractive fallback answered
    removed: list[str] = field(default_factory=list)  # sentences dropped as unsupported

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of ``assistant ask --json``."""
        return {
            "answer": self.text,
            "abstained": self.abstained,
            "citations": [
                {"n": c.n, "title": c.title, "date": c.date, "url": c.url, "source": c.source,
                 "passage": c.passage, "start": c.start, "end": c.end,
                 "support": [list(span) for span in c.support]}  # the sentences that back it, in passage
                for c in self.citations
            ],
            "standalone_question": self.standalone_question,
            "timings": {"retrieve_s": self.timings.retrieve_s, "first_token_s": self.timings.first_token_s,
                        "total_s": self.timings.total_s},
            "model": self.model,
            "notice": self.notice,
            "suggestions": [{"title": p.title, "date": p.date, "url": p.url, "source": p.source}
                            for p in self.suggestions],
        }


@dataclass(frozen=True)
class Filters:
    """Restrict retrieval to a date range and/or articles whose title or source matches."""

    since: str = ""  # YYYY-MM-DD, inclusive
    until: str = ""  # YYYY-MM-DD, inclusive
    match: str = ""  # case-insensitive substring of title, source, publisher or url

    @classmethod
    def of(cls, value: Filters | dict[str, str] | None) -> Filters | None:
        if value is None or isinstance(value, Filters):
            return value or None
        unknown = set(value) - {"since", "until", "match"}
        if unknown:
            raise ConfigError(f"unknown filter(s) {sorted(unknown)}; use since, until, match")
        return cls(**{k: str(v or "") for k, v in value.items()}) or None

    def __bool__(self) -> bool:
        return bool(self.since or self.until or self.match)


@dataclass(frozen=True)
class ArticleInfo:
    id: str
    title: str
    date: str
    url: str
    publisher: str
    source: str
    n_chunks: int
