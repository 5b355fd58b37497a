"""Sentence-aware chunking bounded in the embedding model's own tokens.

Chunks are packed from whole sentences until the token budget is reached; the last
sentences of a chunk (up to ``overlap`` tokens) open the next one. A single sentence
longer than the budget is cut at word boundaries. Every chunk records its character
offsets into the cleaned article text, so ``text[start:end]`` is exactly the passage.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence

from assistant.documents import Article, Chunk
from assistant.errors import IngestError
from assistant.text import split_sentences

TokenCounter = Callable[[Sequence[str]], list[int]]

_HEADER_CHARS = 120


def article_id(article: Article) -> str:
    """Content hash of what gets embedded: the same article under two paths is stored once."""
    digest = hashlib.sha256("\x1f".join((article.title, article.date, article.text)).encode())
    return digest.hexdigest()[:24]


def embedding_header(title: str, date: str) -> str:
    """The short header embedded with every chunk, so a passage knows its article."""
    title = title if len(title) <= _HEADER_CHARS else title[:_HEADER_CHARS].rsplit(" ", 1)[0]
    return f"{title} ({date})\n" if date else f"{title}\n"


def split_into_chunks(article: Article, count_tokens: TokenCounter, max_tokens: int, overlap: int) -> list[Chunk]:
    """Cut ``article`` into chunks whose header + text fit in ``max_tokens`` model tokens."""
    doc_id = article_id(article)
    text = article.text
    budget = max_tokens - count_tokens([embedding_header(article.title, article.date)])[0]
    if budget < 16:
        raise IngestError(f"ingest.chunk_tokens={max_tokens} leaves no room for text after the title header "
                          f"({max_tokens - budget} tokens); raise ingest.chunk_tokens")
    spans: list[tuple[int, int]] = []
    sentences = _with_closing_marks(text, split_sentences(text))
    for (start, end), tokens in zip(sentences, count_tokens([text[s:e] for s, e in sentences]), strict=True):
        spans.extend(_cut_long(text, start, end, budget, count_tokens) if tokens > budget else [(start, end)])
    sizes = count_tokens([text[s:e] for s, e in spans])

    chunks: list[Chunk] = []
    i = 0
    while i < len(spans):
        j, used = i, 0
        # Joining sentences adds roughly nothing in word pieces; keep one token of slack each.
        while j < len(spans) and used + sizes[j] + 1 <= budget:
            used += sizes[j] + 1
            j += 1
        j = max(j, i + 1)
        start, end = spans[i][0], spans[j - 1][1]
        chunks.append(Chunk(f"{doc_id}:{len(chunks)}", doc_id, len(chunks), text[start:end], start, end))
        if j >= len(spans):
            break
        # Step back over trailing sentences that fit in the overlap, but always advance.
        back, carried = j, 0
        while back - 1 > i and carried + sizes[back - 1] <= overlap:
            carried += sizes[back - 1]
            back -= 1
        i = back
    return chunks


def _with_closing_marks(text: str, sentences: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """A closing quote or bracket after a full stop (``raised."`` ``more.)``) is in no sentence of
    the splitter; it belongs to the one before, or a chunk ending there would drop it."""
    ends = [start for start, _ in sentences[1:]] + [len(text)]
    return [(start, end + len(text[end:stop].rstrip())) for (start, end), stop in zip(sentences, ends)]


def _cut_long(text: str, start: int, end: int, budget: int, count_tokens: TokenCounter) -> list[tuple[int, int]]:
    """Cut one over-long sentence at word boundaries into pieces within ``budget`` tokens."""
    words = [(m.start() + start, m.end() + start) for m in re.finditer(r"\S+", text[start:end])]
    sizes = count_tokens([text[s:e] for s, e in words])
    pieces, first, used = [], 0, 0
    for k, size in enumerate(sizes):
        if used + size > budget and k > first:
            pieces.append((words[first][0], words[k - 1][1]))
            first, used = k, 0
        used += size
    pieces.append((words[first][0], words[-1][1]))
    return pieces
