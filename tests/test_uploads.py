"""Uploads are limited in size and count and checked by content, not just by extension."""

from __future__ import annotations

import gzip
import io
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import SEEDS

from assistant.config import Settings
from assistant.errors import ConfigError, StoreLockedError
from assistant.testing import FakeEmbedder, fake_engine
from ingest.library import add_files, upload_problem, uploads_dir

ARTICLE = ("Zorblax Robotics Raises $42 Million\n\n12 March 2024\n\nZorblax Robotics raised $42 million in a Series B "
           "led by Quux Capital.\n")


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.html", "<html><body>hi</body></html>")
    return buffer.getvalue()


def _pdf() -> bytes:
    from pypdf import PdfWriter

    writer, buffer = PdfWriter(), io.BytesIO()
    writer.add_blank_page(72, 72)
    writer.write(buffer)
    return buffer.getvalue()


# (file name, content, what the rejection says); each is refused before it is copied or parsed.
REJECTED = [
    ("fake.pdf", b"Zorblax Robotics raised $42 million.\n", "not a PDF: it does not start with %PDF-"),
    ("archive.pdf", _zip(), "not a PDF: the content is a ZIP archive (or .docx, .xlsx, .epub)"),
    ("page.html", _zip(), "the content is a ZIP archive (or .docx, .xlsx, .epub), not .html text"),
    ("page.htm", gzip.compress(b"<html>hi</html>"), "the content is gzip-compressed, not .htm text"),
    ("notes.txt", b"Zorblax\x00\x00\x00\x01\x02" * 50, "binary content (NUL bytes), not text"),
    ("noisy.txt", bytes(range(1, 32)) * 20 + b"some words", "binary content (NN% control bytes), not text"),
    ("tool.txt", b"\x7fELF\x02\x01\x01" + bytes(200), "the content is an executable, not .txt text"),
    ("photo.md", b"\x89PNG\r\n\x1a\n" + bytes(100), "the content is a PNG image, not .md text"),
    ("paper.txt", _pdf(), "the content is a PDF, not .txt text"),
    ("store.txt", b"SQLite format 3\x00" + bytes(100), "the content is an SQLite database, not .txt text"),
    ("wide.txt", "Zorblax raised $42M.".encode("utf-16"), "UTF-16 text: save it as UTF-8"),
    ("plain.html", ARTICLE.encode(), "no HTML markup: upload plain text as .txt"),
    ("data.json", b"title: Zorblax\n", "not JSON: it does not start with { or ["),
    ("data.jsonl", b'[{"title": "Zorblax"}]\n', "not JSON Lines: the first line is not a {...} object"),
    ("blank.txt", b" \n\t\n", "empty file"),
    ("empty.md", b"", "empty file"),
    ("big.txt", b"Zorblax raised money. " * 100, "file is 0.0 MB, over the 0.001 MB limit (ingest.max_file_mb)"),
]
ACCEPTED = [
    ("real.pdf", _pdf()),  # a PDF (the loader then finds it has no text layer)
    ("latin1.txt", "Zorblax raised 42 millions d'euros à Paris.".encode("latin-1")),  # not UTF-8, still text
    ("bom.json", b'\xef\xbb\xbf  {"title": "Zorblax"}'),
    ("mz.txt", b"MZ Capital Raises $5M\n\nMZ Capital raised $5 million."),  # "MZ" is also a word
    ("page.html", b"<!doctype html><title>Zorblax</title><p>Zorblax raised $42M.</p>"),
    ("ansi.txt", b"\x1b[1mZorblax\x1b[0m raised $42 million.\n\tTabs\r\nand form feeds\x0c are fine."),
]


@pytest.fixture
def small(settings: Settings) -> Settings:
    return settings.replace(ingest_max_file_mb=0.001)  # 1000 bytes


@pytest.mark.parametrize(("name", "content", "reason"), REJECTED, ids=[r[0] for r in REJECTED])
def test_upload_content_must_match_its_type(small: Settings, tmp_path: Path, name: str, content: bytes,
                                            reason: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    problem = upload_problem(path, small)
    assert problem is not None and re.fullmatch(re.escape(reason).replace("NN", r"\d+"), problem), problem


@pytest.mark.parametrize(("name", "content"), ACCEPTED, ids=[a[0] for a in ACCEPTED])
def test_uploads_that_are_what_they_say_pass(settings: Settings, tmp_path: Path, name: str, content: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    assert upload_problem(path, settings) is None


def test_rejected_uploads_are_reported_and_not_kept(settings: Settings, tmp_path: Path) -> None:
    engine = fake_engine([SEEDS], settings=settings, embedder=FakeEmbedder())
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "zorblax.txt").write_text(ARTICLE)
    paths = [folder / "zorblax.txt"]
    for name, content, _ in REJECTED[:4]:
        paths.append(folder / name)
        paths[-1].write_bytes(content)
    added = add_files(paths, settings, store=engine.store, embedder=engine.embedder)
    results = dict(added.results)
    assert results.pop("zorblax.txt") == "ok" and added.summary.startswith("added 1")
    assert results == {name: f"rejected: {reason}" for name, _, reason in REJECTED[:4]}
    assert sorted(p.name for p in uploads_dir(settings).iterdir()) == ["zorblax.txt"]


def test_too_many_files_at_once_are_refused_whole(settings: Settings, tmp_path: Path) -> None:
    limited = settings.replace(ingest_max_upload_files=3)
    paths = []
    for i in range(4):
        paths.append(tmp_path / f"a{i}.txt")
        paths[-1].write_text(ARTICLE)
    with pytest.raises(ConfigError, match=r"4 files at once is too many: upload at most 3 .*ingest.max_upload_files"):
        add_files(paths, limited)
    assert not uploads_dir(limited).exists() or not any(uploads_dir(limited).iterdir())
    assert Settings().ingest_max_upload_files == 20


def test_two_files_of_one_name_are_both_refused(settings: Settings, tmp_path: Path) -> None:
    for folder in ("x", "y"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "same.txt").write_text(ARTICLE)
    added = add_files([tmp_path / "x" / "same.txt", tmp_path / "y" / "same.txt"], settings)
    assert added.results == [("same.txt", "rejected: two files of this name in one upload; rename one")]
    assert added.summary == "Nothing to ingest."


_HOLD_LOCK = """
import sys
from filelock import FileLock
lock = FileLock(sys.argv[1], timeout=0)
lock.acquire()
print("held", flush=True)
sys.stdin.read()  # until the test closes stdin
"""


def test_an_upload_while_an_ingest_is_writing_stops_and_changes_nothing(settings: Settings, tmp_path: Path) -> None:
    """An upload through the web app while `assistant ingest` (another process) holds the store says
    so, copies nothing over the uploads and writes nothing; once the ingest is done it goes through."""
    engine = fake_engine([SEEDS], settings=settings)
    (tmp_path / "zorblax.txt").write_text(ARTICLE)
    (uploads_dir(settings) / "zorblax.txt").parent.mkdir(parents=True, exist_ok=True)
    (uploads_dir(settings) / "zorblax.txt").write_text("an earlier upload of that name")
    before = engine.store.count()
    holder = subprocess.Popen([sys.executable, "-c", _HOLD_LOCK, str(settings.data_dir / "ingest.lock")],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(StoreLockedError, match="another ingest is writing to .*; wait for it to finish"):
            add_files([tmp_path / "zorblax.txt"], settings, store=engine.store, embedder=engine.embedder)
        assert (uploads_dir(settings) / "zorblax.txt").read_text() == "an earlier upload of that name"
        assert engine.store.count() == before
    finally:
        holder.communicate("", timeout=30)
    added = add_files([tmp_path / "zorblax.txt"], settings, store=engine.store, embedder=engine.embedder)
    assert added.results == [("zorblax.txt", "ok")] and engine.store.count()[0] == before[0] + 1
