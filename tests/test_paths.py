"""Paths: symbolic links out of a directory, awkward file names, unreadable files and directories."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.store import Store
from assistant.testing import FakeEmbedder
from ingest import IngestReport, ingest
from ingest.load import find_files

BODY = "Acme raised $5 million in a Series A round led by Foo Ventures.\n"


def _ingest(paths: list[Path], settings: Settings, embedder: FakeEmbedder, **kwargs: object) -> IngestReport:
    store = Store(settings.data_dir, embedding_model=embedder.name, embedder=embedder)
    return ingest(paths, settings, store=store, embedder=embedder, progress=False, **kwargs)


def test_links_out_of_the_directory_are_not_followed(tmp_path: Path, settings: Settings,
                                                     fake_embedder: FakeEmbedder) -> None:
    corpus, outside = tmp_path / "corpus", tmp_path / "outside"
    (outside / "sub").mkdir(parents=True)
    corpus.mkdir()
    (outside / "secret.txt").write_text("Secret raises money\n\nNot for this corpus.\n")
    (outside / "sub" / "more.txt").write_text("More raises money\n\nAlso not for this corpus.\n")
    (corpus / "own.txt").write_text("Own raises money\n\n" + BODY)
    (corpus / "leak.txt").symlink_to(outside / "secret.txt")
    (corpus / "leakdir").symlink_to(outside / "sub")
    (corpus / "zlink.txt").symlink_to(corpus / "own.txt")  # inside: read, once
    (corpus / "loop").symlink_to(corpus)

    files, problems = find_files([corpus])
    assert [f.name for f in files] == ["own.txt"]  # zlink.txt is the same file: read once
    assert sorted(p.name for p, _ in problems) == ["leak.txt", "leakdir"]
    assert all("outside" in reason and "not followed" in reason for _, reason in problems)

    report = _ingest([corpus], settings, fake_embedder)
    assert len(report.added) == 1 and "not followed" in report.summary()
    assert [a.title for a in Store(settings.data_dir).list_articles()] == ["Own raises money"]

    followed, problems = find_files([corpus], follow_links=True)  # asked for: followed, the loop walked once
    assert sorted(f.name for f in followed) == ["leak.txt", "more.txt", "own.txt"] and problems == []
    # A link named on the command line is followed: the user chose it.
    assert find_files([corpus / "leak.txt"]) == ([corpus / "leak.txt"], [])


def test_file_names_with_newlines_spaces_and_non_ascii(tmp_path: Path, settings: Settings,
                                                       fake_embedder: FakeEmbedder) -> None:
    names = ["two\nlines.txt", "with  spaces .md", "Größe – 融资 🚀.txt", "tab\tand\rreturn.jsonl"]
    for i, name in enumerate(names):
        body = f"Company{i} raised {i + 1} million from Investor{i}."
        (tmp_path / name).write_text(f'{{"id": "r{i}", "body": "{body}"}}' if name.endswith(".jsonl") else body)
    report = _ingest([tmp_path], settings, fake_embedder)
    assert len(report.added) == 4 and report.ok
    store = Store(settings.data_dir)
    assert sorted(Path(p).name for a in store.list_articles() for p in store.article_paths(a.id)) == sorted(names)
    assert _ingest([tmp_path], settings, fake_embedder).unchanged == 4
    (tmp_path / "bad\nname.txt").write_text("")
    summary = _ingest([tmp_path], settings, fake_embedder).summary()
    assert "bad\\nname.txt: empty file" in summary  # one line per problem, whatever the name


def test_unreadable_file_is_reported_not_fatal(tmp_path: Path, settings: Settings, fake_embedder: FakeEmbedder,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "good.txt").write_text(BODY)
    locked = tmp_path / "locked.txt"
    locked.write_text("Locked raises money\n\n" + BODY.replace("Acme", "Locked"))
    locked.chmod(0)
    if os.geteuid() == 0 or os.access(locked, os.R_OK):  # root reads anything: deny the read the way the OS would
        read_bytes = Path.read_bytes

        def denied(self: Path) -> bytes:
            if self == locked:
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(self))
            return read_bytes(self)

        monkeypatch.setattr(Path, "read_bytes", denied)
    try:
        report = _ingest([tmp_path], settings, fake_embedder)
    finally:
        locked.chmod(0o644)
    assert len(report.added) == 1 and report.failed == [(str(locked), "cannot read: Permission denied")]


def test_unreadable_directory_and_special_files_are_reported(tmp_path: Path, settings: Settings,
                                                             fake_embedder: FakeEmbedder,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "good.txt").write_text(BODY)
    closed = tmp_path / "closed"
    closed.mkdir()
    (closed / "inside.txt").write_text(BODY)
    os.mkfifo(tmp_path / "pipe.txt")  # reading it would block forever
    scandir = os.scandir

    def denied(path: object = ".") -> object:
        if Path(os.fsdecode(path)) == closed:  # type: ignore[arg-type]
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(closed))
        return scandir(path)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "scandir", denied)
    report = _ingest([tmp_path], settings, fake_embedder)
    assert len(report.added) == 1
    assert sorted(report.failed) == [(str(closed), "cannot read directory: Permission denied"),
                                     (str(tmp_path / "pipe.txt"), "not a regular file")]
