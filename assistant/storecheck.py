"""The store's SQLite file: its schema, the checks made when it opens, its repairs, and failed writes.

A store that was killed, ran out of disk, or had its file deleted, truncated or damaged must
never answer from half an index. ``Store`` opens the file and asks ``inspect`` what it needs:

- **new**: no tables (the file was deleted, or truncated to nothing). If Chroma still holds
  vectors they are orphans: ``recover()`` (the next ingest) deletes them. Until then the store
  is empty and a question is told to ingest first.
- **reindex**: the keyword index or the names table is missing, or the FTS5 rows are out of step
  with the chunks. Both are rebuilt from the chunk and article text the manifest holds (no
  re-embedding), the way an older store is upgraded.
- **damaged**: SQLite reports damaged pages (``PRAGMA quick_check``: a truncated file, bad
  bytes). A reader raises ``StoreCorruptError``; an ingest copies the manifest (articles,
  inputs, chunks) into a new file with ``salvage``, keeps the damaged one beside it, and
  rebuilds the rest. When the manifest itself cannot be read, or a manifest table is missing,
  the error says to delete the data dir and ingest again.

It also holds the SQL half of the store's journal (deleting an article's rows) and the repairs
an ingest runs: ``sweep`` (Chroma and the manifest disagree) and ``stored_articles`` (what
re-embedding a lost vector index needs).

This module never imports sqlite3 (only ``store`` opens the database): it runs SQL on the
connection it is handed and reads SQLite's error codes off the exceptions.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .documents import Article, Chunk
from .entities import core_name, extract_names, normal
from .errors import AssistantError, BackendError, ConfigError, StoreCorruptError
from .event_reader import extract_events
from .events import event_columns
from .text import index_text

log = logging.getLogger(__name__)

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
CREATE TABLE IF NOT EXISTS pending(article_id TEXT PRIMARY KEY);
"""
# What is derived from the manifest, so it can always be rebuilt: the keyword index (stems) and
# the name lexicon (per article, each name with how often it is written as a name and in lower case).
DERIVED_SCHEMA = (
    'CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(body, tokenize="unicode61 remove_diacritics 2")',
    "CREATE VIRTUAL TABLE IF NOT EXISTS chunks_vocab USING fts5vocab(chunks_fts, 'row')",
    "CREATE TABLE IF NOT EXISTS names(article_id TEXT NOT NULL, name TEXT NOT NULL, norm TEXT NOT NULL, "
    "n INTEGER NOT NULL, lower INTEGER NOT NULL, PRIMARY KEY(article_id, norm))",
    "CREATE INDEX IF NOT EXISTS names_norm ON names(norm)",
    # Startup events (``events``): the columns the fact queries filter on, the whole event with
    # its spans as JSON, and one row per company or investor it names (for "both" and "who" queries).
    "CREATE TABLE IF NOT EXISTS events(rowid INTEGER PRIMARY KEY, article_id TEXT NOT NULL, kind TEXT NOT NULL, "
    "subject INTEGER NOT NULL, company TEXT NOT NULL, company_key TEXT NOT NULL, amount REAL, currency TEXT, "
    "round TEXT, date TEXT NOT NULL, data TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS events_company ON events(company_key, kind)",
    "CREATE INDEX IF NOT EXISTS events_article ON events(article_id)",
    "CREATE TABLE IF NOT EXISTS event_parties(event INTEGER NOT NULL, role TEXT NOT NULL, name TEXT NOT NULL, "
    "key TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS event_parties_key ON event_parties(key, role)",
)
DROP_DERIVED = ("DROP TABLE IF EXISTS chunks_vocab", "DROP TABLE IF EXISTS chunks_fts", "DROP TABLE IF EXISTS names",
                "DROP TABLE IF EXISTS event_parties", "DROP TABLE IF EXISTS events")
# Bumped when what the keyword index or the name lexicon store changes; older stores are rebuilt
# from their own article text on open (no re-embedding).
ANALYSIS_VERSION = "86"

NEW, OK, REINDEX, DAMAGED = "new", "ok", "reindex", "damaged"
_ESSENTIAL = ("articles", "chunks")  # without these nothing can be rebuilt
_COPIED = ("meta", "articles", "inputs", "chunks", "pending")  # what a salvage keeps
_SQLITE_CORRUPT, _SQLITE_FULL, _SQLITE_NOTADB = 11, 13, 26


def inspect(db: Any, data_dir: Path) -> tuple[str, str]:
    """What the just-opened file needs: ``(NEW | OK | REINDEX | DAMAGED, why)``.

    Raises:
        StoreCorruptError: a manifest table is missing (nothing to rebuild from).
    """
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if not tables:
        return NEW, ""
    if missing := [table for table in _ESSENTIAL if table not in tables]:
        raise StoreCorruptError(unrecoverable(data_dir, f"its {' and '.join(missing)} table is missing"))
    try:
        problem = db.execute("PRAGMA quick_check(1)").fetchone()[0]
    except Exception as exc:  # sqlite3.DatabaseError: some damage is raised rather than reported
        if not is_corruption(exc):
            raise
        problem = str(exc)
    if problem != "ok":
        return DAMAGED, " ".join(problem.replace("*** in database main ***", "").split())
    if missing := [table for table in ("chunks_fts", "chunks_vocab", "names", "events", "event_parties")
                   if table not in tables]:
        return REINDEX, f"the {', '.join(missing)} table is missing"
    chunks = db.execute("SELECT count(*), coalesce(max(rowid), 0) FROM chunks").fetchone()
    indexed = db.execute("SELECT count(*), coalesce(max(rowid), 0) FROM chunks_fts").fetchone()
    if tuple(chunks) != tuple(indexed):
        return REINDEX, f"the keyword index has {indexed[0]} rows for {chunks[0]} chunks"
    return OK, ""


# -- which vectors the store holds ------------------------------------------------------------------
# Vectors of two models (or of one name served by two models) in one index give wrong neighbours
# without any error, so the manifest's meta table records the model, the dimension of its vectors
# (at the first write) and an id of the store; the Chroma collection records the same in its metadata.

_IDENTITY = ("embedding_model", "embedding_dimension", "store_id")


def identity(db: Any) -> dict[str, str]:
    """What the manifest records of its vectors: model, dimension, store id (those known yet)."""
    marks = ",".join("?" * len(_IDENTITY))
    return dict(db.execute(f"SELECT key, value FROM meta WHERE key IN ({marks})", _IDENTITY).fetchall())


def check_embedding(db: Any, data_dir: Path, model: str = "", dimension: int = 0, record: bool = True) -> bool:
    """Refuse vectors of another ``model`` or ``dimension`` than the store was built with (a ``ConfigError``
    saying what to do); with ``record``, note those not yet known. Returns whether anything was noted."""
    known = identity(db)
    if "store_id" not in known and record:
        db.execute("INSERT OR IGNORE INTO meta VALUES('store_id', ?)", (os.urandom(8).hex(),))
    built = known.get("embedding_model", "")
    if model and built and built != model:
        raise ConfigError(f"the store in {data_dir} was built with embedding model {built!r}, not {model!r}; use "
                          "another data dir (--data-dir) or delete this one and re-ingest")
    size = known.get("embedding_dimension", "")
    if dimension and size and int(size) != dimension:
        raise ConfigError(f"the store in {data_dir} holds {size}-dimensional vectors of {built or 'its model'!r}, "
                          f"but the embedder gave {dimension}-dimensional ones (another model behind the same name?); "
                          "point embedding.* back at the model the store was built with, or use another data dir "
                          "and re-ingest")
    new = [(k, v) for k, v in (("embedding_model", model), ("embedding_dimension", str(dimension or "")))
           if v and k not in known]
    if record and new:
        db.executemany("INSERT OR IGNORE INTO meta VALUES(?, ?)", new)
    return bool(record and new)


def check_collection(db: Any, metadata: dict[str, Any] | None, name: str, where: str, server: bool,
                     ) -> dict[str, Any] | None:
    """Compare what the Chroma collection records with the manifest; a ``ConfigError`` on a mismatch.
    Returns the collection's metadata with what it lacks added, or None when it lacks nothing.

    On a server the store id is compared too: two data dirs sharing a collection would each see the
    other's vectors as orphans and delete them (``sweep``)."""
    ours = identity(db)
    if not server:
        ours.pop("store_id", None)  # (a local collection lives inside its data dir)
    theirs = {k: str(v) for k, v in (metadata or {}).items()}
    fix = ("give this data dir its own store.collection, or delete that collection if the data dir that built it "
           "is gone")
    for key, what in (("embedding_model", "vectors of embedding model"), ("embedding_dimension", "vectors of size"),
                      ("store_id", "the vectors of another data dir: store id")):
        if key in ours and key in theirs and theirs[key] != ours[key]:
            raise ConfigError(f"the collection {name!r} on {where} holds {what} {theirs[key]!r}, but the store in "
                              f"this data dir has {ours[key]!r}; {fix}")
    missing = {k: v for k, v in ours.items() if k not in theirs}
    kept = {k: v for k, v in (metadata or {}).items() if not k.startswith("hnsw:")}  # (Chroma refuses to modify them)
    return {**kept, **missing} if missing else None


def salvage(path: Path, data_dir: Path, connect: Callable[[Path], Any]) -> Path:
    """Copy the manifest tables of the damaged file at ``path`` into a new file that takes its place;
    the damaged one (and its WAL) is kept beside it, under the name returned.

    Raises:
        StoreCorruptError: the manifest itself cannot be read back.
    """
    fresh_path = path.with_name(path.name + ".salvage")
    fresh_path.unlink(missing_ok=True)
    fresh = connect(fresh_path)  # (not in WAL mode: one file to move)
    try:
        fresh.executescript(SCHEMA)
        fresh.execute("ATTACH DATABASE ? AS damaged", (str(path),))
        present = {row[0] for row in fresh.execute("SELECT name FROM damaged.sqlite_master WHERE type='table'")}
        fresh.execute("BEGIN IMMEDIATE")
        for table in _COPIED:
            if table in present:
                fresh.execute(f"INSERT OR IGNORE INTO main.{table} SELECT * FROM damaged.{table}")
        fresh.execute("DELETE FROM meta WHERE key='analysis'")  # rebuild the keyword index and names
        fresh.execute("COMMIT")
    except Exception as exc:  # sqlite3.DatabaseError from a damaged page of the manifest
        fresh.close()
        fresh_path.unlink(missing_ok=True)
        raise StoreCorruptError(unrecoverable(data_dir, f"its articles cannot be read back: {exc}")) from exc
    fresh.close()
    kept = path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{path}{suffix}").exists():
            os.replace(f"{path}{suffix}", f"{kept}{suffix}")
    os.replace(fresh_path, path)
    return kept


def rebuild_derived(db: Any, why: str = "") -> None:
    """Inside a transaction: (re)build the keyword index and the name lexicon from the articles and
    chunks the manifest holds (a new store, an older version's, or one found missing or out of step)."""
    if why:
        log.warning("rebuilding the keyword index and names", extra={"why": why})
    for statement in (*DROP_DERIVED, *DERIVED_SCHEMA):  # their columns may have changed too
        db.execute(statement)
    for article_id, title, date, text in db.execute("SELECT id, title, date, text FROM articles").fetchall():
        chunks = db.execute("SELECT rowid, text FROM chunks WHERE article_id=?", (article_id,))
        index_article(db, article_id, title, text, chunks.fetchall(), date)
    db.execute("INSERT OR REPLACE INTO meta VALUES('analysis', ?)", (ANALYSIS_VERSION,))


def index_article(db: Any, article_id: str, title: str, text: str, chunks: Iterable[tuple[int, str]],
                  date: str = "") -> None:
    """Keyword rows (stemmed, title included), lexicon names and startup events of one article."""
    db.executemany("INSERT INTO chunks_fts(rowid, body) VALUES(?, ?)",
                   [(rowid, index_text(f"{title}\n{chunk}")) for rowid, chunk in chunks])
    names = extract_names(title, text)
    db.executemany("INSERT OR REPLACE INTO names VALUES(?,?,?,?,?)",
                   [(article_id, name, normal(name), n, lower) for name, (n, lower) in names.items()])
    for event in extract_events(title, text, date):
        row = event_columns(event)
        rowid = db.execute("INSERT INTO events(article_id, kind, subject, company, company_key, amount, currency, "
                           "round, date, data) VALUES(?,?,?,?,?,?,?,?,?,?)", (article_id, *row)).lastrowid
        db.executemany("INSERT INTO event_parties VALUES(?,?,?,?)",
                       [(rowid, role, name, core_name(name)) for role, name in event.parties()])


def drop_unreferenced(db: Any, article_ids: Iterable[str]) -> list[str]:
    """Inside a transaction: delete the articles no input points at, journaling them in ``pending``
    (``Store`` deletes their vectors next, then the journal entries)."""
    orphans = [a for a in article_ids if db.execute("SELECT 1 FROM inputs WHERE article_id=?", (a,)).fetchone() is None]
    for article_id in orphans:
        db.execute("DELETE FROM articles WHERE id=?", (article_id,))
        db.execute("INSERT OR IGNORE INTO pending VALUES(?)", (article_id,))
    delete_chunk_rows(db, orphans)
    return orphans


def delete_chunk_rows(db: Any, article_ids: Sequence[str]) -> None:
    """Inside a transaction: the chunks of these articles, their keyword rows, names and events."""
    for article_id in article_ids:
        db.execute("DELETE FROM chunks_fts WHERE rowid IN (SELECT rowid FROM chunks WHERE article_id=?)", (article_id,))
        db.execute("DELETE FROM chunks WHERE article_id=?", (article_id,))
        db.execute("DELETE FROM names WHERE article_id=?", (article_id,))
        db.execute("DELETE FROM event_parties WHERE event IN (SELECT rowid FROM events WHERE article_id=?)",
                   (article_id,))
        db.execute("DELETE FROM events WHERE article_id=?", (article_id,))


def begin_writing(db: Any) -> bool:
    """Inside a transaction: note a writer at work; whether the last one never finished (or left its
    journal unfinished): a kill may have cut Chroma short while it wrote its files."""
    interrupted = db.execute("SELECT 1 FROM meta WHERE key='writing' UNION ALL SELECT 1 FROM pending").fetchone()
    db.execute("INSERT OR REPLACE INTO meta VALUES('writing', ?)", (str(os.getpid()),))
    return interrupted is not None


def end_writing(db: Any) -> None:
    db.execute("DELETE FROM meta WHERE key='writing'")


def writer_died(db: Any) -> bool:
    """Whether a writer never finished and is no longer running (killed): its Chroma files may crash
    whoever opens them, so a reader checks them in a subprocess first."""
    row = db.execute("SELECT value FROM meta WHERE key='writing'").fetchone()
    if row is None or os.environ.get(_PROBING):
        return False
    try:
        os.kill(int(row[0]), 0)
    except (ValueError, ProcessLookupError):
        return True
    except PermissionError:
        pass  # alive, another user's
    return False


# Opens the collection and reads it the way answering does (a vector search), in a process of its own.
_PROBE = """
import sys
from assistant.store import Store
collection = Store(sys.argv[1], collection=sys.argv[2]).collection
got = collection.get(limit=1, include=["embeddings"])
if len(got["ids"]):
    collection.query(query_embeddings=[list(got["embeddings"][0])], n_results=1)
collection.count()
"""


_PROBING = "STARTUP_NEWS_ASSISTANT_PROBING"  # set in the subprocess: it must not check itself


def probe_vectors(data_dir: Path, collection: str) -> str | None:
    """Why the local Chroma index cannot be read (an error, or a crash), or None when it can."""
    done = subprocess.run([sys.executable, "-c", _PROBE, str(data_dir), collection], capture_output=True,
                          text=True, timeout=900, env={**os.environ, _PROBING: "1"})
    if done.returncode == 0:
        return None
    if done.returncode < 0:
        return f"Chroma crashed opening it (signal {-done.returncode})"
    lines = done.stderr.strip().splitlines()
    return lines[-1][:300] if lines else f"exit status {done.returncode}"


def stored_articles(db: Any) -> Iterator[tuple[Article, list[Chunk]]]:
    """Every stored article with its chunks, as they were added: what re-embedding them needs."""
    rows = db.execute("SELECT id, title, date, url, publisher, source, path, extra, text FROM articles "
                      "ORDER BY rowid").fetchall()
    for article_id, title, date, url, publisher, source, path, extra, text in rows:
        chunks = [Chunk(*row) for row in db.execute('SELECT id, article_id, idx, text, start, "end" FROM chunks '
                                                    "WHERE article_id=? ORDER BY idx", (article_id,))]
        yield Article(key="", ref=source, title=title, text=text, date=date, url=url, publisher=publisher,
                      path=path, extra=json.loads(extra)), chunks


def unrecoverable(data_dir: Path, why: str) -> str:
    return (f"the store in {data_dir} is damaged beyond repair ({why}). Delete that folder and ingest your "
            f"articles again: assistant ingest <files or folders> --data-dir {data_dir}")


def repaired_by_ingest(data_dir: Path, why: str) -> str:
    return (f"the store's index in {data_dir} is damaged ({why}); nothing is answered from it. An ingest "
            f"repairs it from what survives: assistant ingest <files or folders> --data-dir {data_dir}")


def vectors_left(chroma_dir: Path) -> bool:
    """Whether a local Chroma folder holds anything (vectors a new SQLite file knows nothing of)."""
    return chroma_dir.is_dir() and any(chroma_dir.iterdir())


def is_corruption(exc: BaseException) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    return code in (_SQLITE_CORRUPT, _SQLITE_NOTADB) or "malformed" in str(exc) or "not a database" in str(exc)


def is_disk_full(exc: BaseException | None) -> bool:
    """An exception, or one it was raised from, that says the disk (or a quota) is full."""
    seen = set()
    while exc is not None and id(exc) not in seen:  # (a re-raised exception can chain to itself)
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        text = str(exc).lower()
        if getattr(exc, "sqlite_errorcode", None) == _SQLITE_FULL or "disk is full" in text or "no space left" in text:
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def failure(exc: BaseException, what: str, opening: Path | None = None) -> AssistantError:
    """A failed read or write as one clear error; a full disk is named as such. Damage met while
    ``opening`` the store in that folder, before anything could be read, is beyond repair."""
    if is_corruption(exc) and opening:
        return StoreCorruptError(unrecoverable(opening, str(exc)))
    if is_corruption(exc):
        return StoreCorruptError(f"{what} failed: the file is damaged ({exc}); run an ingest to repair it")
    if is_disk_full(exc):
        return BackendError(f"the disk is full: {what} failed ({exc}). Free some space and run the ingest "
                            "again: it finishes what was half-written, and the store stays as it was meanwhile")
    return BackendError(f"{what} failed: {type(exc).__name__}: {exc}")


@contextmanager
def chroma_errors(what: str) -> Iterator[None]:
    """Chroma raises many unrelated types (its own, OSError, ValueError, Rust panics): one error instead."""
    try:
        yield
    except AssistantError:
        raise
    except Exception as exc:
        name = type(exc).__name__
        if isinstance(exc, ConnectionError) or any(word in name for word in ("Connect", "RemoteProtocol", "Timeout")):
            raise BackendError(f"{what} failed: {name}: {exc}; is the server running? The store stays consistent: "
                               "run the ingest again once it is, and it finishes what was half-written") from exc
        raise failure(exc, what) from exc


def sweep(store: Any) -> tuple[int, int]:
    """Make Chroma and the manifest agree: delete vectors of no stored chunk, and forget articles
    with a chunk that has no vector (their inputs too, so the next ingest embeds them again).
    Returns (vectors deleted, articles forgotten)."""
    db = store.db
    with chroma_errors("listing the vectors in Chroma"):
        stored = set(store.collection.get(include=[])["ids"])
    known = {row[0] for row in db.execute("SELECT id FROM chunks")}
    orphans = sorted(stored - known)
    for i in range(0, len(orphans), 4000):
        with chroma_errors("deleting orphaned vectors from Chroma"):
            store.collection.delete(ids=orphans[i:i + 4000])
    lacking = sorted({cid.split(":")[0] for cid in known - stored})
    if lacking:
        store.forget_articles(lacking)
    if orphans or lacking:
        log.warning("store repaired", extra={"orphaned_vectors": len(orphans), "articles_to_embed": len(lacking)})
    return len(orphans), len(lacking)
