"""Ingest articles into the store: load -> clean -> chunk -> embed -> Chroma + keyword index.

Example:
    from assistant import load_settings
    from ingest import ingest
    report = ingest([Path("seeds")], load_settings())
    print(report.summary())
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.documents import Article, Chunk
from assistant.errors import AssistantError, BackendError, IngestError, StoreLockedError

from .chunk import article_id, embedding_header, split_into_chunks
from .load import Loaded, find_files
from .parallel import Failed

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

    from assistant.config import Settings
    from assistant.protocols import Embedder
    from assistant.store import Store

__all__ = ["IngestReport", "ingest", "store_lock", "writing"]

log = logging.getLogger(__name__)
# Articles embedded and committed together: large enough to fill embedding batches,
# small enough that a killed run loses little work.
GROUP_CHUNKS = 256


@dataclass
class IngestReport:
    """What one ingest run did, article by article."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    duplicates: list[str] = field(default_factory=list)
    removed: int = 0
    chunks: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (where, reason)
    warnings: list[tuple[str, str]] = field(default_factory=list)
    recovered: int = 0

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        lines = [f"added {len(self.added)}, updated {len(self.updated)}, unchanged {self.unchanged}, "
                 f"duplicates {len(self.duplicates)}, removed {self.removed}, failed {len(self.failed)} "
                 f"({self.chunks} chunks embedded)"]
        if self.recovered:
            lines.append(f"finished {self.recovered} article(s) left half-written by an interrupted run")
        lines += [f"  warning: {_one_line(where)}: {reason}" for where, reason in self.warnings]
        lines += [f"  failed: {_one_line(where)}: {reason}" for where, reason in self.failed]
        return "\n".join(lines)


def _one_line(where: str) -> str:
    """A file name as one line of the summary: a newline in it is shown as \\n."""
    return where.replace("\n", "\\n").replace("\r", "\\r")


def store_lock(settings: Settings):
    """The one-writer-at-a-time lock of a data dir."""
    from filelock import FileLock

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return FileLock(settings.data_dir / "ingest.lock", timeout=0)


_held = threading.local()  # the data dirs whose writer lock this thread holds


@contextmanager
def writing(settings: Settings) -> Iterator[None]:
    """Hold the data dir's writer lock meanwhile; ``StoreLockedError`` when another process or
    thread holds it. Nested use in the thread that holds it goes through (an upload holds it while
    it copies files, then ingests them)."""
    from filelock import Timeout

    key = str(settings.data_dir.resolve())
    held = _held.__dict__.setdefault("dirs", set())
    if key in held:
        yield
        return
    lock = store_lock(settings)
    try:
        lock.acquire()
    except Timeout:
        raise StoreLockedError(
            f"another ingest is writing to {settings.data_dir} (lock {lock.lock_file}); wait for it to finish"
        ) from None
    held.add(key)
    try:
        yield
    finally:
        held.discard(key)
        lock.release()


def ingest(
    inputs: Sequence[Path | str],
    settings: Settings,
    *,
    prune: bool = False,
    store: Store | None = None,
    embedder: Embedder | None = None,
    progress: bool | None = None,
    on_file: Callable[[str, str], None] | None = None,
    follow_links: bool = False,
) -> IngestReport:
    """Ingest files and directories; idempotent.

    Args:
        inputs: files (.txt .md .html .pdf .json .jsonl) and directories to walk.
        settings: where the store lives and how to chunk and embed.
        prune: also remove articles whose files no longer exist.
        store, embedder: reuse open ones (the web app does); opened from settings otherwise.
        progress: show a progress bar (default: when stderr is a terminal).
        on_file: called with (file, "ok" or an error) after each file is read.
        follow_links: follow symbolic links inside a directory that point outside it.

    Raises:
        StoreLockedError: another ingest is writing to the same data dir.
        StoreCorruptError: the store is damaged beyond repair (the message says what to run).
        BackendError: Chroma or SQLite failed to write, a full disk among others; the store stays
            consistent and a re-run finishes the work.
    """
    with writing(settings):
        return _ingest(inputs, settings, prune, store, embedder, progress, on_file, follow_links)


def _ingest(inputs: Sequence[Path | str], settings: Settings, prune: bool, store: Store | None,
            embedder: Embedder | None, progress: bool | None, on_file: Callable[[str, str], None] | None,
            follow_links: bool = False) -> IngestReport:
    from assistant.backends import make_embedder
    from assistant.store import Store

    embedder = embedder or make_embedder(settings)
    if store is not None:
        return _run(inputs, settings, prune, store, embedder, progress, on_file, follow_links)
    # Opened here, with the writer lock held: a damaged file may be salvaged (``storecheck``).
    store = Store.from_settings(settings, embedder=embedder, repair=True)
    try:
        return _run(inputs, settings, prune, store, embedder, progress, on_file, follow_links)
    finally:
        store.close()


def _run(inputs: Sequence[Path | str], settings: Settings, prune: bool, store: Store, embedder: Embedder,
         progress: bool | None, on_file: Callable[[str, str], None] | None, follow_links: bool) -> IngestReport:
    report = IngestReport()
    _recover(store, embedder, report)
    pool = None
    try:
        if settings.ingest_workers > 1:
            from . import parallel

            pool = parallel.start(embedder, settings.ingest_workers, settings.ingest_chunk_tokens,
                                  settings.ingest_overlap_tokens)
        return _read_and_store(inputs, settings, prune, store, embedder, progress, on_file, follow_links, report,
                               pool)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
        with suppress(AssistantError):  # (a failed write is the error to report; the next run checks)
            store.finish_writing()  # (not reached when killed: the next run checks Chroma first)


def _read_and_store(inputs: Sequence[Path | str], settings: Settings, prune: bool, store: Store,
                    embedder: Embedder, progress: bool | None, on_file: Callable[[str, str], None] | None,
                    follow_links: bool, report: IngestReport, pool: ProcessPoolExecutor | None = None,
                    ) -> IngestReport:

    files, missing = find_files([Path(p) for p in inputs], follow_links=follow_links)
    report.failed += [(str(p), reason) for p, reason in missing]
    articles: list[Article] = []
    read_paths: set[str] = set()
    for path, loaded in _loaded(files, int(settings.ingest_max_file_mb * 1e6), pool):
        if not isinstance(loaded, Loaded):  # one file never aborts the rest; a reader's own exception is a bug
            reason = _unexpected(loaded) if loaded.unexpected else loaded.reason
            report.failed.append((str(path), reason))
            if on_file:
                on_file(str(path), reason)
            continue
        read_paths.add(str(path.resolve()))
        articles += loaded.articles
        report.failed += [(e.ref, e.reason) for e in loaded.errors]
        report.warnings += [(str(path), w) for w in loaded.warnings]
        if on_file:
            on_file(str(path), "ok" if not loaded.errors else f"{len(loaded.errors)} bad record(s)")

    todo, aliases = _plan(articles, store, report)
    _embed_and_store(todo, aliases, store, embedder, settings, report, progress, pool)

    # Records gone from a file that was read again, and with --prune files gone from disk.
    seen = {a.key for a in articles}
    stale = [key for path in read_paths for key, _ in store.input_keys(path) if key not in seen]
    if prune:
        stale += [key for key, path in store.input_keys() if not Path(path).exists()]
    report.removed = store.remove_inputs(stale)
    log.info("ingest finished", extra={"added": len(report.added), "failed": len(report.failed)})
    return report


def _recover(store: Store, embedder: Embedder, report: IngestReport) -> None:
    """Finish what a killed run left. A local Chroma index that a kill left unreadable (or crashing
    whoever opens it: ``Store.start_writing`` checks in a subprocess) is rebuilt from the manifest."""
    damaged = store.start_writing()
    if damaged is None:
        try:
            report.recovered = store.recover()
        except BackendError as exc:
            if store.host:
                raise  # a Chroma server's trouble is its own
            damaged = str(exc)
    if damaged is not None:
        chunks = _rebuild_vectors(store, embedder)
        report.warnings.append((str(store.data_dir / "chroma"), f"the vector index could not be read ({damaged}); "
                                f"rebuilt from the stored chunks ({chunks} re-embedded)"))
        report.recovered = store.recover()


def _rebuild_vectors(store: Store, embedder: Embedder) -> int:
    from assistant.storecheck import stored_articles

    log.warning("rebuilding the vector index from the manifest")
    store.reset_vectors()
    group: list[tuple[Article, list[Chunk]]] = []
    done = 0
    for item in [*stored_articles(store.db), None]:
        if item is not None:
            group.append(item)
        if group and (item is None or sum(len(chunks) for _, chunks in group) >= GROUP_CHUNKS):
            texts = [embedding_header(a.title, a.date) + c.text for a, chunks in group for c in chunks]
            store.upsert_vectors(group, embedder.embed_documents(texts))
            done, group = done + len(texts), []
    return done


def _loaded(files: list[Path], max_bytes: int, pool: ProcessPoolExecutor | None,
            ) -> Iterator[tuple[Path, Loaded | Failed]]:
    """Each file with what it yielded, in order; read by the workers when there are any."""
    from .parallel import load, ordered

    if pool is None:
        yield from ((path, load(path, max_bytes)) for path in files)
    else:
        yield from zip(files, ordered(pool, load, ((path, max_bytes) for path in files), 8), strict=True)


def _unexpected(failed: Failed) -> str:
    log.error("reading a file failed unexpectedly:\n%s", failed.detail)
    return f"could not read ({failed.reason}); this is a bug, please report it"


def _plan(articles: list[Article], store: Store, report: IngestReport,
          ) -> tuple[list[Article], list[tuple[str, str, str]]]:
    """Split articles into those to embed and inputs that only need pointing at a stored one."""
    todo: list[Article] = []
    aliases: list[tuple[str, str, str]] = []
    planned: set[str] = set()
    for article in articles:
        doc_id = article_id(article)
        previous = store.input_article(article.key)
        if previous == doc_id:
            report.unchanged += 1
        elif doc_id in planned or store.has_article(doc_id):
            aliases.append((article.key, doc_id, article.path))
            report.duplicates.append(article.ref)
        else:
            planned.add(doc_id)
            todo.append(article)
            (report.updated if previous else report.added).append(article.ref)
    return todo, aliases


def _embed_and_store(todo: list[Article], aliases: list[tuple[str, str, str]], store: Store,
                     embedder: Embedder, settings: Settings, report: IngestReport, progress: bool | None,
                     pool: ProcessPoolExecutor | None = None) -> None:
    from tqdm import tqdm

    show = sys.stderr.isatty() if progress is None else progress
    bar = tqdm(total=len(todo), unit="article", desc="ingest", disable=not show or not todo, file=sys.stderr)
    group: list[tuple[Article, list[Chunk]]] = []
    vectors: list[list[float]] | None = None if pool is None else []
    size = 0
    for article, chunks, own in _chunked(todo, embedder, settings, pool):
        if isinstance(chunks, str):  # (a title too long for a small ingest.chunk_tokens)
            report.failed.append((article.ref, chunks))
            for planned in (report.added, report.updated):
                if article.ref in planned:
                    planned.remove(article.ref)
            continue
        group.append((article, chunks))
        if vectors is not None:
            vectors += own
        size += len(chunks)
        if size >= GROUP_CHUNKS:
            _store_group(group, store, embedder, report, vectors=vectors)
            bar.update(len(group))
            group, size, vectors = [], 0, None if vectors is None else []
    _store_group(group, store, embedder, report, aliases, vectors=vectors)
    bar.update(len(group))
    bar.close()


def _chunked(todo: list[Article], embedder: Embedder, settings: Settings, pool: ProcessPoolExecutor | None,
             ) -> Iterator[tuple[Article, list[Chunk] | str, list[list[float]]]]:
    """Each article with its chunks (or why it has none) and, from the workers, their vectors; the
    parent embeds by group itself when there are no workers."""
    if pool is None:
        for article in todo:
            try:
                yield article, split_into_chunks(article, embedder.count_tokens, settings.ingest_chunk_tokens,
                                                 settings.ingest_overlap_tokens), []
            except IngestError as exc:
                yield article, str(exc), []
        return
    from .parallel import ARTICLES_PER_TASK, chunk_and_embed, ordered

    tasks = ((todo[i:i + ARTICLES_PER_TASK],) for i in range(0, len(todo), ARTICLES_PER_TASK))
    for results in ordered(pool, chunk_and_embed, tasks, 2 * settings.ingest_workers):
        yield from results


def _store_group(group: list[tuple[Article, list[Chunk]]], store: Store, embedder: Embedder,
                 report: IngestReport, aliases: Sequence[tuple[str, str, str]] = (),
                 vectors: list[list[float]] | None = None) -> None:
    texts = [embedding_header(a.title, a.date) + c.text for a, chunks in group for c in chunks]
    if vectors is None:
        vectors = embedder.embed_documents(texts)
    inputs = [(a.key, chunks[0].article_id, a.path) for a, chunks in group] + list(aliases)
    store.add(group, vectors, inputs)
    report.chunks += len(texts)
