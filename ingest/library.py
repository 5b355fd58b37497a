"""The corpus as files in the data dir: add uploaded files, remove an article and its file.

Uploads are copied into ``<data_dir>/uploads`` (they outlive the web server's temp dir) under a
safe name, ingested, and deleted again when nothing in them could be read. The web app's
Corpus tab calls these; it keeps no file logic of its own.

Example:
    from ingest.library import add_files, remove_article
    added = add_files(["/tmp/zorblax.txt"], settings, store=engine.store, embedder=engine.embedder)
    print(added.summary, added.results)             # added 1, ... [("zorblax.txt", "ok")]
    remove_article(article_id, settings, store=engine.store)
"""

from __future__ import annotations

import logging
import re
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from . import IngestReport, ingest, writing

if TYPE_CHECKING:
    from assistant.config import Settings
    from assistant.documents import ArticleInfo
    from assistant.protocols import Embedder
    from assistant.store import Store

__all__ = ["SUPPORTED_UPLOADS", "Added", "add_files", "remove_article", "safe_name", "uploads_dir"]

log = logging.getLogger(__name__)

SUPPORTED_UPLOADS = (".txt", ".md", ".html", ".htm", ".pdf", ".json", ".jsonl")


@dataclass(frozen=True)
class Added:
    """What ``add_files`` did: a result per file, and the run's summary line."""

    results: list[tuple[str, str]]  # (file name, "ok" | "rejected: <reason>" | "<n> bad record(s)")
    summary: str
    report: IngestReport | None = None  # None when no file was ingested


def uploads_dir(settings: Settings) -> Path:
    """Where uploaded files are kept: ``<data_dir>/uploads``."""
    return settings.data_dir / "uploads"


def safe_name(name: str) -> str:
    """A file name with no directory part or odd characters."""
    name = re.sub(r"[^\w.\- ]", "_", name).strip(" .") or "upload"
    return name[:120]


def add_files(paths: Sequence[str | Path], settings: Settings, *, store: Store | None = None,
              embedder: Embedder | None = None, progress: Callable[[float, str], None] | None = None) -> Added:
    """Copy uploaded files into ``uploads_dir`` and ingest them.

    Files of an unsupported type are rejected unread (``SUPPORTED_UPLOADS``); files too large
    (``ingest.max_file_mb``), empty or unreadable are rejected by the loader and not kept.
    ``progress(fraction, description)`` is called as files are read.

    Raises:
        StoreLockedError: another ingest is writing to the same data dir.
    """
    results: dict[str, str] = {}
    copies: dict[str, str] = {}  # stored path -> name as uploaded
    folder = uploads_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    for upload in paths:
        name = safe_name(Path(upload).name)
        if not name.lower().endswith(SUPPORTED_UPLOADS):
            results[name] = f"rejected: unsupported file type; upload {', '.join(SUPPORTED_UPLOADS)}"
            continue
        target = folder / name
        shutil.copyfile(upload, target)
        copies[str(target)] = name
        results[name] = "not read"
    if not copies:
        return Added(list(results.items()), "Nothing to ingest.")

    done = 0

    def on_file(path: str, outcome: str) -> None:
        nonlocal done
        done += 1
        name = copies.get(path, Path(path).name)
        results[name] = "read" if outcome == "ok" else outcome
        if progress:
            progress(0.6 * done / len(copies), f"Read {name}")

    if progress:
        progress(0.0, "Reading files…")
    report = ingest(list(copies), settings, store=store, embedder=embedder, progress=False, on_file=on_file)
    if progress:
        progress(1.0, "Done")
    for stored, name in copies.items():
        if results[name] == "read":
            results[name] = "ok"
        elif not results[name].endswith("bad record(s)"):
            Path(stored).unlink(missing_ok=True)  # unreadable: don't keep it
            results[name] = f"rejected: {results[name]}"
    for where, reason in report.failed:  # bad records inside collection files
        if Path(where).name not in results:
            results[Path(where).name] = f"rejected: {reason}"
    for _, warning in report.warnings:
        log.info("ingest warning", extra={"warning": warning})
    return Added(list(results.items()), report.summary().split("\n", 1)[0], report)


def remove_article(article_id: str, settings: Settings, *, store: Store) -> ArticleInfo | None:
    """Delete a stored article, and its uploaded file when no other article comes from it.

    Returns what was removed, or None when there is no such article.

    Raises:
        StoreLockedError: an ingest is writing to the same data dir.
    """
    with writing(settings):
        info = store.article_info(article_id)
        if info is None:
            return None
        paths = store.article_paths(article_id)
        store.remove_article(article_id)
        uploads = uploads_dir(settings).resolve()
        for path in paths:
            if Path(path).parent == uploads and not store.input_keys(path):
                Path(path).unlink(missing_ok=True)
    return info
