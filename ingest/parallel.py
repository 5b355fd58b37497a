"""Worker processes for ``assistant ingest --workers N``: read, chunk and embed off the writer.

Loading, cleaning, chunking and embedding are pure functions of a file or an article, so N
worker processes do them, each with its own copy of the embedder on ``cores // N`` threads (one
thread per process does not wait on a core that another process holds, which two torch threads
in one process do on a busy machine). The parent keeps the one thing that is not pure: it writes
the store, in the order of the input, through the same journal (``Store.add``) as a one-process
run, so a run killed at any point recovers the same way and ``--workers 2`` builds the same store
as ``--workers 1``.

Workers are spawned, not forked: a fork of a process that already runs torch threads (the web
app's) can deadlock.
"""

from __future__ import annotations

import multiprocessing
import os
import traceback
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.documents import Article, Chunk
from assistant.errors import IngestError

from .chunk import embedding_header, split_into_chunks
from .load import Loaded, load_file

if TYPE_CHECKING:
    from assistant.protocols import Embedder

# Articles per task: a few embedding batches' worth of chunks, so each task amortises its
# round trip and the parent can write while the workers embed the next ones.
ARTICLES_PER_TASK = 16

_worker: dict[str, Any] = {}  # this worker process's embedder and chunk sizes


@dataclass(frozen=True)
class Failed:
    """A file a worker could not read: the reason, and for an unexpected exception its traceback."""

    reason: str
    unexpected: bool = False
    detail: str = ""


def start(embedder: Embedder, workers: int, chunk_tokens: int, overlap_tokens: int) -> ProcessPoolExecutor:
    threads = max(1, (os.cpu_count() or 1) // workers)
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"), initializer=_init,
                               initargs=(embedder, threads, chunk_tokens, overlap_tokens))


def _init(embedder: Embedder, threads: int, chunk_tokens: int, overlap_tokens: int) -> None:
    use_threads = getattr(embedder, "use_threads", None)
    if use_threads:
        use_threads(threads)
    _worker.update(embedder=embedder, chunk_tokens=chunk_tokens, overlap_tokens=overlap_tokens)


def load(path: Path, max_bytes: int) -> Loaded | Failed:
    """``load_file`` in a worker; a failure comes back as a value (any exception may not pickle)."""
    try:
        return load_file(path, max_bytes)
    except IngestError as exc:
        return Failed(str(exc))
    except Exception as exc:  # a reader's own bug: reported by the parent as such
        return Failed(f"{type(exc).__name__}: {str(exc)[:200]}", unexpected=True, detail=traceback.format_exc())


def chunk_and_embed(articles: Sequence[Article]) -> list[tuple[Article, list[Chunk] | str, list[list[float]]]]:
    """Each article with its chunks (or why it cannot be chunked) and their vectors."""
    embedder: Embedder = _worker["embedder"]
    out: list[tuple[Article, list[Chunk] | str, list[list[float]]]] = []
    texts: list[str] = []
    for article in articles:
        try:
            chunks: list[Chunk] | str = split_into_chunks(article, embedder.count_tokens, _worker["chunk_tokens"],
                                                          _worker["overlap_tokens"])
        except IngestError as exc:
            chunks = str(exc)
        out.append((article, chunks, []))
        if not isinstance(chunks, str):
            texts += [embedding_header(article.title, article.date) + c.text for c in chunks]
    vectors = iter(embedder.embed_documents(texts) if texts else [])
    for _, chunks, own in out:
        if not isinstance(chunks, str):
            own += [next(vectors) for _ in chunks]
    return out


def ordered(pool: ProcessPoolExecutor, fn: Any, tasks: Iterable[tuple[Any, ...]], window: int) -> Iterator[Any]:
    """``fn(*task)`` for every task on the pool, results in task order, at most ``window`` tasks in
    flight (so vectors do not pile up in memory ahead of the writer)."""
    pending: list[Future[Any]] = []
    for task in tasks:
        pending.append(pool.submit(fn, *task))
        if len(pending) >= window:
            yield pending.pop(0).result()
    for future in pending:
        yield future.result()
