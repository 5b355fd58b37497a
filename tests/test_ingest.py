"""Ingest into real Chroma + the SQLite keyword index: metadata, idempotency, failures, recovery."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO, SEED, SEED_TITLE, SEEDS, VB_CORPUS

from assistant.config import Settings
from assistant.errors import StoreLockedError
from assistant.store import Store
from assistant.testing import FakeEmbedder
from ingest import ingest, store_lock, writing


def _open(settings: Settings, embedder: FakeEmbedder) -> Store:
    return Store(settings.data_dir, embedding_model=embedder.name, embedder=embedder)


def _run(paths: list[Path], settings: Settings, embedder: FakeEmbedder, **kwargs: object):
    return ingest(paths, settings, store=_open(settings, embedder), embedder=embedder, progress=False, **kwargs)


def _chroma_ids(store: Store) -> list[str]:
    return store.collection.get(include=[])["ids"]


def _consistent(store: Store) -> tuple[int, int]:
    """Chroma and the keyword index hold exactly the same chunks, none orphaned."""
    chroma = _chroma_ids(store)
    rows = [r[0] for r in store.db.execute("SELECT id FROM chunks")]
    fts = store.db.execute("SELECT count(*) FROM chunks_fts").fetchone()[0]
    assert len(chroma) == len(set(chroma)), "duplicate chunk ids in Chroma"
    assert sorted(chroma) == sorted(rows) and fts == len(rows)
    articles = {r[0] for r in store.db.execute("SELECT id FROM articles")}
    assert {cid.split(":")[0] for cid in chroma} == articles
    assert store.db.execute("SELECT count(*) FROM pending").fetchone()[0] == 0
    return len(articles), len(rows)


def test_seed_ingest_metadata_and_offsets(settings: Settings, fake_embedder: FakeEmbedder) -> None:
    report = _run([SEEDS], settings, fake_embedder)
    assert (len(report.added), report.unchanged, report.failed) == (1, 0, [])
    store = _open(settings, fake_embedder)
    assert _consistent(store)[0] == 1
    got = store.collection.get(include=["metadatas", "documents"])
    text = store.article_text(got["metadatas"][0]["article_id"])
    for meta, doc in zip(got["metadatas"], got["documents"]):
        assert meta["title"] == SEED_TITLE and meta["date"] == "2018-05-31"
        assert meta["source"].endswith("seeds/000_6892b4931faf7592.txt") and meta["path"] == str(SEED.resolve())
        assert text[meta["start"]:meta["end"]] == doc
    assert "Read More" not in text and "\nXu Li\n" not in text
    # The embedded text carries the title/date header; the stored one is the raw chunk.
    assert fake_embedder.calls[0][0].startswith(f"{SEED_TITLE} (2018-05-31)\n")
    assert not got["documents"][0].startswith(SEED_TITLE)


def test_reingest_is_idempotent_then_change_and_prune(tmp_path: Path, settings: Settings,
                                                      fake_embedder: FakeEmbedder) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    other = corpus / "other.md"
    other.write_text("---\ntitle: Foo raises $3M\ndate: 2020-02-02\n---\nFoo raised $3 million from Bar.\n")
    assert len(_run([corpus], settings, fake_embedder).added) == 2
    before = _consistent(_open(settings, fake_embedder))

    again = _run([corpus], settings, fake_embedder)
    assert (again.added, again.updated, again.unchanged, again.chunks) == ([], [], 2, 0)
    assert _consistent(_open(settings, fake_embedder)) == before

    other.write_text("---\ntitle: Foo raises $4M\ndate: 2020-02-02\n---\nFoo raised $4 million from Baz.\n")
    changed = _run([corpus], settings, fake_embedder)
    assert len(changed.updated) == 1 and changed.unchanged == 1
    store = _open(settings, fake_embedder)
    assert _consistent(store)[0] == 2
    assert [a.title for a in store.list_articles("Foo")] == ["Foo raises $4M"]
    assert store.search_keyword("Baz", 5) and not store.search_keyword("Bar", 5)

    other.unlink()
    kept = _run([corpus], settings, fake_embedder)
    assert kept.removed == 0 and _consistent(_open(settings, fake_embedder))[0] == 2  # no --prune: kept
    pruned = _run([corpus], settings, fake_embedder, prune=True)
    assert pruned.removed == 1 and _consistent(_open(settings, fake_embedder))[0] == 1


def test_same_article_under_two_paths_is_stored_once(tmp_path: Path, settings: Settings,
                                                     fake_embedder: FakeEmbedder) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    shutil.copy(SEED, tmp_path / "a" / "x.txt")
    shutil.copy(SEED, tmp_path / "b" / "y.txt")
    report = _run([tmp_path / "a", tmp_path / "b"], settings, fake_embedder)
    assert len(report.added) == 1 and len(report.duplicates) == 1
    store = _open(settings, fake_embedder)
    assert _consistent(store)[0] == 1
    # Removing one copy keeps the article; removing both deletes it.
    (tmp_path / "a" / "x.txt").unlink()
    assert _run([tmp_path / "b"], settings, fake_embedder, prune=True).removed == 0
    (tmp_path / "b" / "y.txt").unlink()
    assert _run([tmp_path / "b"], settings, fake_embedder, prune=True).removed == 1
    assert _consistent(_open(settings, fake_embedder))[0] == 0


def test_jsonl_record_removed_from_file_is_removed(tmp_path: Path, settings: Settings,
                                                   fake_embedder: FakeEmbedder) -> None:
    path = tmp_path / "c.jsonl"
    rows = [{"id": f"r{i}", "title": f"T{i}", "body": f"Company {i} raised {i} million."} for i in range(3)]
    path.write_text("\n".join(json.dumps(r) for r in rows))
    _run([path], settings, fake_embedder)
    path.write_text("\n".join(json.dumps(r) for r in rows[:2]))
    report = _run([path], settings, fake_embedder)
    assert report.removed == 1 and report.unchanged == 2


def test_one_bad_file_never_aborts_the_rest(tmp_path: Path, settings: Settings, fake_embedder: FakeEmbedder) -> None:
    (tmp_path / "good.txt").write_text("Good raises $1M\n\nGood Inc raised $1 million.")
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "binary.txt").write_bytes(b"\x00\x01\x02\x03")
    (tmp_path / "broken.jsonl").write_text('{"title": "ok", "body": "Fine body."}\n{oops\n')
    report = _run([tmp_path, tmp_path / "missing.md", tmp_path / "x.docx"], settings, fake_embedder)
    assert len(report.added) == 2 and not report.ok
    reasons = {Path(where.split(":")[0]).name: reason for where, reason in report.failed}
    assert reasons["empty.txt"] == "empty file"
    assert "binary" in reasons["binary.txt"]
    assert "malformed JSON on line 2" in reasons["broken.jsonl"]
    assert reasons["missing.md"] == "no such file or directory"
    assert "failed: " in report.summary() and "added 2" in report.summary()


def test_cli_exit_code_and_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
                                   fake_embedder: FakeEmbedder) -> None:
    from assistant import cli

    monkeypatch.setattr("assistant.backends.make_embedder", lambda settings: fake_embedder)
    (tmp_path / "empty.txt").write_text("")
    assert cli.main(["ingest", "--no-progress", str(SEED)]) == 0
    assert "added 1" in capsys.readouterr().out
    assert cli.main(["ingest", "--no-progress", str(SEED), str(tmp_path / "empty.txt")]) == 1
    out = capsys.readouterr().out
    assert "unchanged 1" in out and "empty.txt: empty file" in out


def test_second_writer_gets_a_clear_error(settings: Settings, fake_embedder: FakeEmbedder) -> None:
    with store_lock(settings):
        with pytest.raises(StoreLockedError, match="another ingest is writing to"):
            _run([SEEDS], settings, fake_embedder)


def test_crash_between_chroma_and_sqlite_is_recovered(settings: Settings, fake_embedder: FakeEmbedder,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt  # as if killed right after the vectors were written

    monkeypatch.setattr(Store, "_insert_article", crash)
    with pytest.raises(KeyboardInterrupt):
        _run([SEEDS], settings, fake_embedder)
    store = _open(settings, fake_embedder)
    assert _chroma_ids(store) and store.count() == (0, 0)  # half-written: vectors without a manifest
    monkeypatch.undo()
    report = _run([SEEDS], settings, fake_embedder)
    assert report.recovered == 1 and len(report.added) == 1
    assert _consistent(_open(settings, fake_embedder))[0] == 1


def test_crash_between_a_prune_and_its_chroma_deletes_is_recovered(tmp_path: Path, settings: Settings,
                                                                   fake_embedder: FakeEmbedder,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Killed after SQLite forgot a pruned article but before Chroma dropped its vectors: the
    journal names it, and the next run deletes the vectors; nothing else is touched."""
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    (corpus / "other.txt").write_text("Acme raises $5 million\n\nAcme raised $5 million from Foo Ventures.\n")
    assert len(_run([corpus], settings, fake_embedder).added) == 2
    (corpus / "other.txt").unlink()

    finish_deletes = Store._finish_deletes

    def crash(store: Store, article_ids: list[str]) -> None:
        if article_ids:
            raise KeyboardInterrupt  # as if killed right after the SQLite transaction
        finish_deletes(store, article_ids)

    monkeypatch.setattr(Store, "_finish_deletes", crash)
    with pytest.raises(KeyboardInterrupt):
        _run([corpus], settings, fake_embedder, prune=True)
    store = _open(settings, fake_embedder)
    assert store.count()[0] == 1 and store.db.execute("SELECT count(*) FROM pending").fetchone()[0] == 1
    assert len({cid.split(":")[0] for cid in _chroma_ids(store)}) == 2  # the pruned article's vectors linger
    monkeypatch.undo()
    report = _run([corpus], settings, fake_embedder, prune=True)
    assert report.recovered == 1 and report.unchanged == 1 and not report.added
    assert _consistent(_open(settings, fake_embedder))[0] == 1


@pytest.mark.slow
def test_sigkill_mid_ingest_then_resume(tmp_path: Path) -> None:
    """A real `assistant ingest` killed with SIGKILL; the next run completes the store exactly."""
    corpus = tmp_path / "many.jsonl"
    with corpus.open("w") as out:
        for i in range(400):
            body = " ".join(f"Startup{i} sentence {j} says it raised {i * 10 + j} million from Investor{j}."
                            for j in range(40))
            out.write(json.dumps({"id": f"a{i}", "title": f"Startup{i} raises money", "body": body}) + "\n")
    data = tmp_path / "data"
    env = {**os.environ, "ASSISTANT_DATA_DIR": str(data)}
    cmd = [sys.executable, "-m", "assistant.cli", "ingest", "--no-progress", str(corpus)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    try:
        while time.time() < deadline:  # kill once some, but not all, articles are committed
            if (data / "index.sqlite3").exists():
                with sqlite3.connect(data / "index.sqlite3") as db:
                    try:
                        done = db.execute("SELECT count(*) FROM articles").fetchone()[0]
                    except sqlite3.OperationalError:
                        done = 0
                if done >= 20:
                    break
            assert proc.poll() is None, "ingest finished before it could be killed"
            time.sleep(0.2)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL

    resumed = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
    assert resumed.returncode == 0, resumed.stderr
    assert "unchanged" in resumed.stdout
    store = Store(data)
    assert store.count()[0] == 400
    _consistent(store)


def test_sigkill_loop_equals_a_clean_ingest() -> None:
    """bench/kill_ingest.py with three kills: ingests SIGKILLed at random points and re-run until done
    leave the same articles, chunks, Chroma ids and keyword index as a clean ingest (the fake embedder;
    the corpus's first 80 articles, or seeds/ and 80 made-up ones without the shared corpus)."""
    script = REPO / "bench" / "kill_ingest.py"
    done = subprocess.run([sys.executable, str(script), "--fake-embedder", "--kills", "3", "--max-rounds", "30",
                           "--limit", "80", "--generated", "80", "--seed", "3", "--no-record"],
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "RESULT: the killed store equals the clean one" in done.stdout


_GATED_INGEST = """
import sys, time
from pathlib import Path
from assistant.config import load_settings
from assistant.testing import FakeEmbedder
from ingest import ingest

data, gate, corpus = sys.argv[1:]

class Gated(FakeEmbedder):  # holds the ingest mid-way (lock taken, store open, files read) until the gate opens
    def embed_documents(self, texts):
        Path(gate + ".waiting").touch()
        while not Path(gate).exists():
            time.sleep(0.05)
        return super().embed_documents(texts)

report = ingest([corpus], load_settings(env={}, data_dir=data), embedder=Gated(), progress=False)
print(len(report.added), report.unchanged)
"""


def test_two_ingest_processes_at_once(tmp_path: Path) -> None:
    """A second `assistant ingest` while another process is mid-ingest stops with a clear message and
    writes nothing; the first finishes as if alone."""
    corpus, data, gate = tmp_path / "c.jsonl", tmp_path / "data", tmp_path / "gate"
    corpus.write_text("\n".join(json.dumps({"id": f"a{i}", "title": f"Startup{i} raises money",
                                            "body": f"Startup{i} raised {i} million from Investor{i}."})
                                for i in range(50)))
    first = subprocess.Popen([sys.executable, "-c", _GATED_INGEST, str(data), str(gate), str(corpus)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 120
        while not Path(f"{gate}.waiting").exists():
            assert first.poll() is None and time.time() < deadline, first.stderr.read() if first.stderr else ""
            time.sleep(0.1)
        second = subprocess.run([sys.executable, "-m", "assistant.cli", "ingest", "--no-progress", str(corpus),
                                 "--data-dir", str(data)], capture_output=True, text=True, timeout=300)
        assert second.returncode == 2 and second.stdout == ""
        assert second.stderr.startswith(f"error: another ingest is writing to {data}")
        assert "Traceback" not in second.stderr
        assert first.poll() is None  # still mid-ingest: the second never touched the store
    finally:
        gate.touch()
        out, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    assert out.split() == ["50", "0"]
    again = subprocess.run([sys.executable, "-c", _GATED_INGEST, str(data), str(gate), str(corpus)],
                           capture_output=True, text=True, timeout=300)
    assert again.stdout.split() == ["0", "50"], again.stderr
    store = Store(data)
    assert _consistent(store) == (50, 50)


def test_global_options_after_the_subcommand(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch, fake_embedder: FakeEmbedder) -> None:
    """`assistant ingest seeds/ --data-dir D`, the way most people type it, and D is where the store goes."""
    from assistant import cli

    monkeypatch.setattr("assistant.backends.make_embedder", lambda settings: fake_embedder)
    store = tmp_path / "typed-after"
    assert cli.main(["ingest", str(SEEDS), "--data-dir", str(store), "-v", "--no-progress"]) == 0
    assert "added 1" in capsys.readouterr().out
    assert (store / "index.sqlite3").exists()
    assert cli.main(["articles", "--data-dir", str(store)]) == 0
    assert SEED_TITLE in capsys.readouterr().out
    # before the subcommand still works, and a subcommand without the option doesn't reset it
    assert cli.main(["--data-dir", str(store), "articles"]) == 0
    assert SEED_TITLE in capsys.readouterr().out


def test_the_writer_lock_nests_in_its_thread_and_stops_other_threads(settings: Settings) -> None:
    """The web app's upload holds the lock while it copies files and then ingests them (nested); a
    second visitor's upload or remove, in another thread, is told an ingest is writing."""
    from concurrent.futures import ThreadPoolExecutor

    def other_thread() -> str:
        try:
            with writing(settings):
                return "acquired"
        except StoreLockedError as exc:
            return str(exc)

    with writing(settings), writing(settings), ThreadPoolExecutor(1) as pool:
        assert pool.submit(other_thread).result().startswith(f"another ingest is writing to {settings.data_dir}")
    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(other_thread).result() == "acquired"  # released once the outer one ends


def _store_contents(settings: Settings) -> dict[str, object]:
    store = Store(settings.data_dir)
    try:
        _consistent(store)
        got = store.collection.get(include=["embeddings", "documents"])
        return {
            "articles": sorted(store.db.execute("SELECT id, title, date, source, n_chunks FROM articles").fetchall()),
            "inputs": sorted(store.db.execute("SELECT key, article_id FROM inputs").fetchall()),
            "chunks": sorted(store.db.execute("SELECT id, article_id, text FROM chunks").fetchall()),
            "fts": sorted(store.db.execute("SELECT * FROM chunks_fts").fetchall()),
            "vectors": sorted((i, d, [round(float(x), 6) for x in e])
                              for i, d, e in zip(got["ids"], got["documents"], got["embeddings"], strict=True)),
        }
    finally:
        store.close()


def test_workers_build_the_same_store_and_report_broken_files(tmp_path: Path, settings: Settings) -> None:
    """``--workers 2`` reads, chunks and embeds in worker processes: the store (articles, chunk ids,
    keyword rows, vectors) and the report are exactly those of one process, and a broken file read
    by a worker is reported while the rest go in."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    # The shared corpus where it is checked out beside the repository, else made-up articles.
    lines = VB_CORPUS.read_text().splitlines() if VB_CORPUS.exists() else [json.dumps(
        {"id": f"g{i}", "title": f"Company{i} raises money", "body": " ".join(
            f"Robotics startup Company{i} said in sentence {j} that it raised ${i + j} million." for j in range(40))})
        for i in range(46)]
    (corpus / "funding.jsonl").write_text("\n".join(lines[:40]) + "\n{oops\n")
    for i, line in enumerate(lines[40:46]):
        record = json.loads(line)
        (corpus / f"article{i}.txt").write_text(f"{record['title']}\n\n{record['body']}")
    (corpus / "empty.txt").write_text("")
    (corpus / "binary.txt").write_bytes(b"\x00\x01\x02\x03")
    shutil.copy(SEED, corpus / SEED.name)

    reports = {}
    for workers in (1, 2):
        run = settings.replace(data_dir=tmp_path / f"w{workers}", ingest_workers=workers)
        reports[workers] = ingest([corpus], run, embedder=FakeEmbedder(), progress=False)
    one, two = reports[1], reports[2]
    assert one.summary() == two.summary()
    assert len(two.added) == 40 + 6 + 1 and two.chunks > 100
    reasons = {Path(where.split(":")[0]).name: reason for where, reason in two.failed}
    assert reasons["empty.txt"] == "empty file" and "binary" in reasons["binary.txt"]
    assert "malformed JSON on line 41" in reasons["funding.jsonl"]
    assert _store_contents(settings.replace(data_dir=tmp_path / "w1")) == _store_contents(
        settings.replace(data_dir=tmp_path / "w2"))
    again = ingest([corpus], settings.replace(data_dir=tmp_path / "w2", ingest_workers=2), embedder=FakeEmbedder(),
                   progress=False)
    assert again.unchanged == 47 and not again.added and again.chunks == 0
