"""The store under damage and failure: its SQLite file missing, emptied, truncated, with bad bytes or
a dropped table on start-up; Chroma raising; the disk filling up mid-write.

Each case is either repaired from what survives (and then equals a clean ingest) or stops with one
clear error naming the command to run. None answers from half an index.
"""

from __future__ import annotations

import errno
import json
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from chromadb.api.client import SharedSystemClient
from conftest import SEEDS

from assistant import cli, storecheck
from assistant.chain import Engine
from assistant.config import Settings
from assistant.errors import BackendError, IndexNotFoundError, StoreCorruptError
from assistant.store import Store
from assistant.testing import FakeEmbedder
from ingest import IngestReport, ingest

QUERIES = ("SenseTime Series C", "robotics startup raised", "Investor7 Capital")


@pytest.fixture
def corpus(tmp_path: Path) -> list[Path]:
    """seeds/ and 40 made-up articles: enough that every table spans several pages."""
    path = tmp_path / "generated.jsonl"
    with path.open("w") as out:
        for i in range(40):
            body = " ".join(f"Robotics startup Company{i} said in sentence {j} that it raised ${i + j} million from "
                            f"Investor{(i + j) % 11} Capital." for j in range(30))
            out.write(json.dumps({"id": f"g{i}", "title": f"Company{i} raises money", "body": body}) + "\n")
    return [SEEDS, path]


def _ingest(settings: Settings, paths: list[Path], **kwargs: Any) -> IngestReport:
    return ingest(paths, settings, embedder=FakeEmbedder(), progress=False, **kwargs)


def _contents(data: Path) -> dict[str, Any]:
    """Everything the store holds, everywhere it holds it (ids, so a rebuilt index compares equal)."""
    store = Store(data)
    db = store.db
    got = {
        "articles": sorted(r[0] for r in db.execute("SELECT id FROM articles")),
        "chunks": sorted(r[0] for r in db.execute("SELECT id FROM chunks")),
        "chroma": sorted(store.collection.get(include=[])["ids"]),
        "fts": sorted(r[0] for r in db.execute("SELECT c.id FROM chunks_fts f JOIN chunks c ON c.rowid = f.rowid")),
        "names": db.execute("SELECT count(*), total(n) FROM names").fetchone(),
        "search": [[cid for cid, _ in store.search_keyword(q, 5)] for q in QUERIES],
        "pending": db.execute("SELECT count(*) FROM pending").fetchone()[0],
    }
    store.close()
    assert got["chroma"] == got["chunks"] == got["fts"] and got["pending"] == 0
    return got


@pytest.fixture
def clean(tmp_path: Path, settings: Settings, corpus: list[Path]) -> Callable[[list[Path]], dict[str, Any]]:
    """What a clean ingest of some inputs holds, in a data dir of its own."""
    def build(paths: list[Path]) -> dict[str, Any]:
        data = tmp_path / f"clean-{len(paths)}"
        if not data.exists():
            assert _ingest(settings.replace(data_dir=data), paths).ok
        return _contents(data)

    return build


def _index(settings: Settings) -> Path:
    return settings.data_dir / "index.sqlite3"


def _sql(path: Path, *statements: str) -> None:
    db = sqlite3.connect(path, isolation_level=None)
    for statement in statements:
        db.execute(statement)
    db.close()


def _smash_page(path: Path, table: str) -> None:
    """Overwrite one leaf page of ``table`` with garbage, as a bad sector or a stray write would."""
    db = sqlite3.connect(path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page_size = db.execute("PRAGMA page_size").fetchone()[0]
    pages = [r[0] for r in db.execute("SELECT pageno FROM dbstat WHERE name=? AND pagetype='leaf'", (table,))]
    db.close()
    assert len(pages) > 2, f"{table} spans too few pages for this test"
    with path.open("r+b") as f:
        f.seek((pages[len(pages) // 2] - 1) * page_size)
        f.write(b"\xff" * page_size)


def _cli_error(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, args: list[str]) -> str:
    """Run the CLI; it must fail with one `error:` line (exit 2), not a traceback."""
    monkeypatch.setattr("assistant.backends.make_embedder", lambda settings: FakeEmbedder())
    capsys.readouterr()
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err
    return err


# -- the SQLite file on start-up -----------------------------------------------------------------


@pytest.mark.parametrize("how", ["deleted", "emptied"])
def test_index_gone_but_vectors_left(how: str, settings: Settings, corpus: list[Path], clean: Callable) -> None:
    """No manifest: readers are told to ingest; the next ingest clears the orphaned vectors first."""
    assert _ingest(settings, corpus).ok
    index = _index(settings)
    if how == "deleted":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{index}{suffix}").unlink(missing_ok=True)
    else:
        index.write_bytes(b"")
    engine = Engine.from_settings(settings, embedder=FakeEmbedder(), chat_model=None)
    with pytest.raises(IndexNotFoundError, match="assistant ingest"):
        engine.answer("Who led SenseTime's round?")
    report = _ingest(settings, [SEEDS])  # only part of what was there: the rest must not linger in Chroma
    assert report.ok and len(report.added) == 1
    assert _contents(settings.data_dir) == clean([SEEDS])


def test_keyword_index_dropped_or_out_of_step_is_rebuilt_on_open(settings: Settings, corpus: list[Path],
                                                                 clean: Callable) -> None:
    assert _ingest(settings, corpus).ok
    _sql(_index(settings), "DROP TABLE chunks_vocab", "DROP TABLE chunks_fts")
    assert _contents(settings.data_dir) == clean(corpus)  # a reader's open rebuilt it, from the chunk text
    _sql(_index(settings), "DELETE FROM chunks_fts WHERE rowid % 3 = 0")
    assert _contents(settings.data_dir) == clean(corpus)


def test_bad_bytes_in_the_keyword_index(settings: Settings, corpus: list[Path], clean: Callable,
                                        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Readers refuse (SQLite would have answered from the damaged index); an ingest salvages it."""
    assert _ingest(settings, corpus).ok
    _smash_page(_index(settings), "chunks_fts_data")
    with pytest.raises(StoreCorruptError, match=r"damaged .* assistant ingest <files or folders> --data-dir"):
        Store(settings.data_dir)
    err = _cli_error(capsys, monkeypatch, ["articles", "--data-dir", str(settings.data_dir)])
    assert "damaged" in err
    report = _ingest(settings, corpus)
    assert report.ok and report.unchanged == 41 and report.chunks == 0  # nothing re-embedded
    assert _contents(settings.data_dir) == clean(corpus)
    assert len(list(settings.data_dir.glob("index.sqlite3.damaged-*"))) == 1  # kept, not deleted


@pytest.mark.parametrize("damage", ["bad bytes in the articles", "truncated", "articles table dropped"])
def test_manifest_damaged_beyond_repair(damage: str, settings: Settings, corpus: list[Path], clean: Callable,
                                        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    assert _ingest(settings, corpus).ok
    index = _index(settings)
    if damage == "truncated":
        _sql(index, "PRAGMA wal_checkpoint(TRUNCATE)")
        with index.open("r+b") as f:
            f.truncate(index.stat().st_size // 2)
    elif damage == "articles table dropped":
        _sql(index, "DROP TABLE articles")
    else:
        _smash_page(index, "articles")
    with pytest.raises(StoreCorruptError):
        Store(settings.data_dir)
    err = _cli_error(capsys, monkeypatch, ["ingest", "--no-progress", *map(str, corpus),
                                           "--data-dir", str(settings.data_dir)])
    assert "damaged beyond repair" in err and "Delete that folder and ingest your articles again" in err
    shutil.rmtree(settings.data_dir)  # as the message says (in a new process: forget Chroma's cached client)
    SharedSystemClient.clear_system_cache()
    assert _ingest(settings, corpus).ok
    assert _contents(settings.data_dir) == clean(corpus)


def test_damage_found_after_opening_is_an_error_not_an_empty_answer(settings: Settings, corpus: list[Path]) -> None:
    assert _ingest(settings, corpus).ok
    store = Store(settings.data_dir)

    class Damaged:  # the file went bad while the store was open
        def execute(self, sql: str, *args: Any) -> Any:
            if "MATCH" in sql:
                raise sqlite3.DatabaseError("database disk image is malformed")
            return real.execute(sql, *args)

    real, store.db = store.db, Damaged()  # type: ignore[assignment]
    with pytest.raises(StoreCorruptError, match="assistant ingest"):
        store.search_keyword("SenseTime", 5)
    real.close()


# -- Chroma raising ------------------------------------------------------------------------------


class BrokenCollection:
    """A Chroma collection that fails the way a damaged or unreachable Chroma does."""

    def __init__(self, real: Any, fail: set[str], error: Exception) -> None:
        self.real, self.fail, self.error = real, fail, error

    def __getattr__(self, name: str) -> Any:
        if name in self.fail:
            def broken(*args: Any, **kwargs: Any) -> Any:
                raise type(self.error)(*self.error.args)
            return broken
        return getattr(self.real, name)


def _break_chroma(monkeypatch: pytest.MonkeyPatch, fail: set[str], error: Exception) -> None:
    open_collection = Store._open_collection
    monkeypatch.setattr(Store, "_open_collection",
                        lambda self: BrokenCollection(open_collection(self), fail, error))


def test_chroma_errors_become_one_clear_error(settings: Settings, corpus: list[Path], clean: Callable,
                                              capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    args = ["ingest", "--no-progress", *map(str, corpus), "--data-dir", str(settings.data_dir)]
    _break_chroma(monkeypatch, {"upsert"}, RuntimeError("Error executing plan: Internal error"))
    err = _cli_error(capsys, monkeypatch, args)
    assert "writing vectors to Chroma" in err and "Internal error" in err
    with pytest.raises(BackendError, match="writing vectors to Chroma"):
        _ingest(settings, corpus)

    monkeypatch.undo()
    _break_chroma(monkeypatch, {"delete"}, ValueError("Could not find segment"))  # recover() must delete
    with pytest.raises(BackendError, match="deleting half-written vectors from Chroma.*Could not find segment"):
        _ingest(settings, corpus)

    monkeypatch.undo()
    assert _ingest(settings, corpus).recovered >= 1  # the first group's article ids, journaled
    assert _contents(settings.data_dir) == clean(corpus)

    _break_chroma(monkeypatch, {"delete"}, ValueError("Could not find segment"))  # removal: _finish_deletes
    with pytest.raises(BackendError, match="deleting vectors from Chroma"):
        Store(settings.data_dir).remove_article(clean(corpus)["articles"][0])
    monkeypatch.undo()

    def unopenable(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("Database error: error returned from database: (code: 14) unable to open database file")

    monkeypatch.setattr("chromadb.PersistentClient", unopenable)
    with pytest.raises(BackendError, match="cannot open Chroma in .*unable to open database file"):
        _ingest(settings, corpus)


def test_unreadable_vector_index_is_rebuilt_from_the_manifest(settings: Settings, corpus: list[Path],
                                                              clean: Callable) -> None:
    """A SIGKILL while Chroma persists its HNSW index can leave index_metadata.pickle empty, and Chroma
    then fails every read and write (found by bench/kill_ingest.py; chroma-core/chroma#4218). A
    question gets a clear error; the next ingest re-embeds the stored chunks into a new collection."""
    assert _ingest(settings, corpus).ok
    [segment] = [p for p in (settings.data_dir / "chroma").iterdir() if p.is_dir()]
    (segment / "index_metadata.pickle").write_bytes(b"")
    SharedSystemClient.clear_system_cache()  # read the files afresh, as a new process would
    with pytest.raises(BackendError, match="an ingest rebuilds a damaged vector index: assistant ingest"):
        Store(settings.data_dir).search_dense(FakeEmbedder().embed_query("SenseTime"), 3)
    report = _ingest(settings, corpus)
    assert report.ok and report.unchanged == 41 and report.chunks == 0
    assert [reason for _, reason in report.warnings if "rebuilt from the stored chunks (204 re-embedded)" in reason]
    assert _contents(settings.data_dir) == clean(corpus)


def test_chroma_that_crashes_after_a_killed_writer_is_rebuilt(settings: Settings, corpus: list[Path], clean: Callable,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """A kill can also leave HNSW files that make Chroma segfault when it opens them (bench/kill_ingest.py
    met a 168 GB sparse link_lists.bin). A crash can't be caught, so after a writer died mid-way, a reader
    and the next ingest open Chroma in a subprocess first; the reader stops with a clear error, the
    ingest rebuilds the index from the manifest."""
    assert _ingest(settings, corpus).ok
    assert storecheck.probe_vectors(settings.data_dir, "articles") is None  # a healthy index passes
    gone = subprocess.Popen(["true"])
    gone.wait()
    _sql(_index(settings), f"INSERT INTO meta VALUES('writing', '{gone.pid}')")  # a writer SIGKILLed mid-way
    monkeypatch.setattr(storecheck, "_PROBE", "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)")
    with pytest.raises(StoreCorruptError, match=r"\(Chroma crashed opening it \(signal 11\)\).*assistant ingest"):
        Store(settings.data_dir).search_dense(FakeEmbedder().embed_query("SenseTime"), 3)  # a reader: no crash
    report = _ingest(settings, corpus)
    assert report.ok and report.unchanged == 41 and report.chunks == 0
    assert [r for _, r in report.warnings if "Chroma crashed opening it (signal 11)" in r and "rebuilt" in r]
    assert _contents(settings.data_dir) == clean(corpus)
    assert len(list(settings.data_dir.glob("chroma.damaged-*"))) == 1  # moved aside, not deleted
    monkeypatch.undo()
    again = _ingest(settings, corpus)  # the marker was cleared: no check, nothing to do
    assert again.unchanged == 41 and not again.warnings


# -- the disk filling up -------------------------------------------------------------------------


def test_disk_full_in_chroma(settings: Settings, corpus: list[Path], clean: Callable,
                             monkeypatch: pytest.MonkeyPatch) -> None:
    _break_chroma(monkeypatch, {"upsert"}, OSError(errno.ENOSPC, "No space left on device"))
    with pytest.raises(BackendError, match="the disk is full: writing vectors to Chroma"):
        _ingest(settings, corpus)
    monkeypatch.undo()  # space freed
    assert _ingest(settings, corpus).ok
    assert _contents(settings.data_dir) == clean(corpus)


def test_disk_full_in_sqlite(settings: Settings, corpus: list[Path], clean: Callable) -> None:
    """A real SQLITE_FULL (the file may not grow), after the vectors of the first group are written."""
    assert _ingest(settings, [SEEDS]).ok
    store = Store(settings.data_dir, embedding_model="fake-embedder", embedder=FakeEmbedder(), repair=True)
    store.db.execute(f"PRAGMA max_page_count = {store.db.execute('PRAGMA page_count').fetchone()[0]}")
    with pytest.raises(BackendError, match=r"the disk is full: writing .*index.sqlite3 failed \(database or disk"):
        ingest(corpus, settings, store=store, embedder=FakeEmbedder(), progress=False)
    assert store.collection.count() > store.count()[1] == 4  # vectors written, their articles not: journaled
    store.close()  # space freed
    assert _ingest(settings, corpus).ok
    assert _contents(settings.data_dir) == clean(corpus)
