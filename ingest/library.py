"""The corpus as files in the data dir: add uploaded files, remove an article and its file.

Uploads are copied into ``<data_dir>/uploads`` (they outlive the web server's temp dir) under a
safe name, ingested, and deleted again when nothing in them could be read. Before that, each is
checked by size and by content, not just by extension (``upload_problem``): a ``.pdf`` must
start like a PDF, a text type must not be binary, an archive, an image or an executable. The
web app's Corpus tab calls these; it keeps no file logic of its own.

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

from assistant.errors import ConfigError

from . import IngestReport, ingest, writing

if TYPE_CHECKING:
    from assistant.config import Settings
    from assistant.documents import ArticleInfo
    from assistant.protocols import Embedder
    from assistant.store import Store

__all__ = ["SUPPORTED_UPLOADS", "Added", "add_files", "remove_article", "safe_name", "upload_problem", "uploads_dir"]

log = logging.getLogger(__name__)

SUPPORTED_UPLOADS = (".txt", ".md", ".html", ".htm", ".pdf", ".json", ".jsonl")
SNIFF_BYTES = 64 * 1024  # how much of an upload its content check reads
# What a file that is not text starts with. (MZ, a Windows executable, is caught as binary:
# as a prefix it is also the start of ordinary words.)
_MAGIC = ((b"PK\x03\x04", "a ZIP archive (or .docx, .xlsx, .epub)"), (b"%PDF-", "a PDF"),
          (b"\x1f\x8b", "gzip-compressed"), (b"\x7fELF", "an executable"), (b"\x89PNG", "a PNG image"),
          (b"\xff\xd8\xff", "a JPEG image"), (b"GIF87a", "a GIF image"), (b"GIF89a", "a GIF image"),
          (b"Rar!\x1a\x07", "a RAR archive"), (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
          (b"\xd0\xcf\x11\xe0", "an old Office document"), (b"SQLite format 3\x00", "an SQLite database"))
_CONTROL = bytes(b for b in range(32) if b not in b"\t\n\r\f\x0b\x1b") + b"\x7f"


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


def upload_problem(path: Path, settings: Settings) -> str | None:
    """Why the upload at ``path`` (of a supported type) must not be ingested, or None.

    Reads the size and the first ``SNIFF_BYTES``: empty, over ``ingest.max_file_mb``, a ``.pdf``
    that does not start like a PDF, or a text type (``.txt .md .html .htm .json .jsonl``) whose
    content is binary (NUL or control bytes), UTF-16, an archive, an image, an executable, an
    ``.html`` with no markup or a ``.json``/``.jsonl`` that does not open with ``{``/``[``.
    """
    suffix = path.suffix.lower()
    try:
        size = path.stat().st_size
        with path.open("rb") as file:
            head = file.read(SNIFF_BYTES)
    except OSError as exc:
        return f"cannot read: {exc.strerror or exc}"
    limit = settings.ingest_max_file_mb * 1e6
    if size > limit:
        return f"file is {size / 1e6:.1f} MB, over the {limit / 1e6:g} MB limit (ingest.max_file_mb)"
    if not head.strip():
        return "empty file"
    kind = next((kind for magic, kind in _MAGIC if head.startswith(magic)), None)
    if suffix == ".pdf":
        if b"%PDF-" in head[:1024]:
            return None
        return f"not a PDF: the content is {kind}" if kind else "not a PDF: it does not start with %PDF-"
    if kind:
        return f"the content is {kind}, not {suffix} text"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "UTF-16 text: save it as UTF-8"
    if b"\x00" in head:
        return "binary content (NUL bytes), not text"
    control = sum(head.count(c) for c in _CONTROL)
    if control > 0.05 * len(head):
        return f"binary content ({control / len(head):.0%} control bytes), not text"
    first = head.removeprefix(b"\xef\xbb\xbf").lstrip()[:1]
    if suffix in (".html", ".htm") and b"<" not in head:
        return "no HTML markup: upload plain text as .txt"
    if suffix == ".json" and first not in (b"{", b"["):
        return "not JSON: it does not start with { or ["
    if suffix == ".jsonl" and first != b"{":
        return "not JSON Lines: the first line is not a {...} object"
    return None


def add_files(paths: Sequence[str | Path], settings: Settings, *, store: Store | None = None,
              embedder: Embedder | None = None, progress: Callable[[float, str], None] | None = None) -> Added:
    """Copy uploaded files into ``uploads_dir`` and ingest them.

    Files of an unsupported type are rejected unread (``SUPPORTED_UPLOADS``), and files too
    large (``ingest.max_file_mb``), empty or whose content is not what their extension says
    (``upload_problem``), or a second file of the same name, are rejected before they are
    copied; files the loader cannot read are not kept. ``progress(fraction, description)`` is
    called as files are read.

    Raises:
        ConfigError: more than ``ingest.max_upload_files`` files at once (none is ingested).
        StoreLockedError: another ingest is writing to the same data dir.
    """
    if len(paths) > settings.ingest_max_upload_files:
        raise ConfigError(f"{len(paths)} files at once is too many: upload at most {settings.ingest_max_upload_files} "
                          "at a time (ingest.max_upload_files)")
    with writing(settings):  # before anything is copied: an upload never replaces a file an ingest is reading
        return _copy_and_ingest(paths, settings, store, embedder, progress)


def _copy_and_ingest(paths: Sequence[str | Path], settings: Settings, store: Store | None, embedder: Embedder | None,
                     progress: Callable[[float, str], None] | None) -> Added:
    results: dict[str, str] = {}
    copies: dict[str, str] = {}  # stored path -> name as uploaded
    folder = uploads_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    names = [safe_name(Path(upload).name) for upload in paths]
    for upload, name in zip(paths, names):
        if names.count(name) > 1:
            results[name] = "rejected: two files of this name in one upload; rename one"
            continue
        if not name.lower().endswith(SUPPORTED_UPLOADS):
            results[name] = f"rejected: unsupported file type; upload {', '.join(SUPPORTED_UPLOADS)}"
            continue
        problem = upload_problem(Path(upload), settings)
        if problem:
            results[name] = f"rejected: {problem}"
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
