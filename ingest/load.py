"""Read input files into ``Article`` records, one reader per format.

Each reader turns bytes into articles; problems with a whole file raise ``IngestError``,
problems with one record of a collection come back as ``RecordError`` so the rest goes on.
"""

from __future__ import annotations

import codecs
import json
import os
import re
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.documents import Article
from assistant.errors import IngestError

from .clean import clean_body, normalize, parse_date, plain

SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".json", ".jsonl")
_BODY_FIELDS = ("body", "text", "content")
_DATE_FIELDS = ("date", "published_at", "published", "pub_date")
_KNOWN_FIELDS = {"title", "url", "source", "id", *_BODY_FIELDS, *_DATE_FIELDS}


@dataclass(frozen=True)
class RecordError:
    """One bad record inside a collection file (the other records still load)."""

    ref: str
    reason: str


@dataclass(frozen=True)
class Loaded:
    """What one file yielded."""

    articles: list[Article]
    errors: list[RecordError]
    warnings: list[str]


def find_files(inputs: list[Path], *, follow_links: bool = False) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Expand files and directories into the files to read, each file once.

    Returns the files, and the inputs that cannot be read at all with the reason.
    Inside a directory, hidden files and unsupported extensions are passed over silently;
    a file named explicitly with an unsupported extension is reported. A symbolic link inside
    a directory that points outside it is reported and not followed, unless ``follow_links``.
    """
    files: list[Path] = []
    problems: list[tuple[Path, str]] = []
    seen: set[Path] = set()

    def add(path: Path) -> None:
        if (real := path.resolve()) not in seen:
            seen.add(real)
            files.append(path)

    for path in inputs:
        if not path.is_dir():
            if path.exists():
                add(path)
            else:
                problems.append((path, "no such file or directory"))
            continue
        top, walked = path.resolve(), set()

        def unreadable(exc: OSError, path: Path = path) -> None:
            problems.append((Path(exc.filename or path), f"cannot read directory: {exc.strerror or exc}"))

        for root, dirs, names in os.walk(path, onerror=unreadable, followlinks=follow_links):
            here = Path(root)
            if here.resolve() in walked:  # a link loop
                dirs[:] = []
                continue
            walked.add(here.resolve())
            dirs[:] = [d for d in sorted(dirs) if not d.startswith(".") and _may_follow(here / d, top, follow_links,
                                                                                       problems)]
            for name in sorted(names):
                if (not name.startswith(".") and name.lower().endswith(SUFFIXES)
                        and _may_follow(here / name, top, follow_links, problems)):
                    add(here / name)
    return files, problems


def _may_follow(path: Path, top: Path, follow_links: bool, problems: list[tuple[Path, str]]) -> bool:
    """Not a link, a link that stays inside the walked directory, or ``follow_links``."""
    if follow_links or not path.is_symlink() or path.resolve().is_relative_to(top):
        return True
    problems.append((path, f"symbolic link to {path.resolve()}, outside {top}: not followed "
                           "(name the target itself, or pass --follow-symlinks)"))
    return False


def load_file(path: Path, max_bytes: int) -> Loaded:
    """Read one file into articles.

    Raises:
        IngestError: the file is unreadable, empty, binary, too large or of an unknown type.
    """
    suffix = path.suffix.lower()
    reader = _READERS.get(suffix)
    if reader is None:
        raise IngestError(f"unsupported file type {suffix or '(none)'!r}; supported: {', '.join(SUFFIXES)}")
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):  # a FIFO would block the read forever
            raise IngestError("not a regular file")
        if info.st_size > max_bytes:
            raise IngestError(f"file is {info.st_size / 1e6:.1f} MB, over the {max_bytes / 1e6:.1f} MB limit "
                              "(ingest.max_file_mb)")
        data = path.read_bytes()
    except OSError as exc:
        raise IngestError(f"cannot read: {exc.strerror or exc}") from None
    if not data.strip():
        raise IngestError("empty file")
    warnings: list[str] = []
    if suffix == ".pdf":
        return reader(path, data, warnings)
    text = _decode(data, warnings)
    if not text.strip():
        raise IngestError("empty file")
    return reader(path, text, warnings)


_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))


def _decode(data: bytes, warnings: list[str]) -> str:
    """UTF-8 (with or without a BOM), UTF-16 or UTF-32 with a BOM; bytes that are not UTF-8 are read
    as cp1252 (Windows' Latin-1, the usual stray encoding), with a warning."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError as exc:
                raise IngestError(f"invalid {encoding.upper()} at byte {exc.start} (the file starts with a "
                                  f"{encoding.upper()} byte-order mark)") from None
    if b"\x00" in data[:8192]:
        raise IngestError("binary file (contains NUL bytes), not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        warnings.append(f"invalid UTF-8 at byte {exc.start}; bytes that are not UTF-8 read as cp1252")
        return data.decode("utf-8-sig", errors=_CP1252)


def _cp1252(exc: UnicodeError) -> tuple[str, int]:
    assert isinstance(exc, UnicodeDecodeError)
    return exc.object[exc.start:exc.end].decode("cp1252", errors="replace"), exc.end


_CP1252 = "ingest-cp1252"
codecs.register_error(_CP1252, _cp1252)


def _article(path: Path, record_id: str | None, title: str, body: str, **meta: Any) -> Article:
    """Clean the body; ``ref`` is the record's id in a collection, else the file's path."""
    text = clean_body(body)
    title = normalize(title).replace("\n", " ")
    if not text:
        raise IngestError("no article text found")
    resolved = str(path.resolve())
    key, ref = (f"{resolved}#{record_id}", record_id) if record_id else (resolved, display_path(path))
    return Article(key=key, ref=ref, title=title or _fallback_title(text), text=text, path=resolved, **meta)


def display_path(path: Path) -> str:
    """The path relative to the working directory when inside it, else absolute."""
    resolved = path.resolve()
    try:
        return str(resolved.relative_to(Path.cwd()))
    except ValueError:
        return str(resolved)


def _fallback_title(text: str) -> str:
    first = text.split("\n", 1)[0]
    return first if len(first) <= 120 else first[:117].rsplit(" ", 1)[0] + "..."


def _read_txt(path: Path, text: str, warnings: list[str]) -> Loaded:
    """A headline on the first line, an optional date line next, then the body.

    The first line is a headline only when it looks like one: short, with no final full stop,
    and followed by a blank line or a date line. Otherwise it is the body's first paragraph (it
    often holds the answer) and the title comes from the file name. A date comes from a date
    line, else from a date-like file name ("2018-05-31-sensetime.txt").
    """
    lines = normalize(text).split("\n")
    title, rest = "", lines
    following = lines[1:2] and lines[1]
    if len(lines) > 1 and _is_headline(lines[0]) and (not following or _date_line(following)):
        title, rest = lines[0], lines[1:]
    while rest and not rest[0]:
        rest.pop(0)
    date = ""
    if rest and (date := _date_line(rest[0])):
        rest.pop(0)
    article = _article(path, None, title or _title_from_name(path), "\n".join(rest),
                       date=date or _date_from_name(path))
    return Loaded([article], [], warnings)


def _is_headline(line: str) -> bool:
    return 0 < len(line) <= 160 and not re.search(r"[.!:;,]$", line)


def _date_line(line: str) -> str:
    return parse_date(line) if len(line) <= 40 else ""


_NAME_DATE = re.compile(r"^(\d{4})[-_.](\d{2})[-_.](\d{2})(?=\D|$)")


def _date_from_name(path: Path) -> str:
    match = _NAME_DATE.match(path.stem)
    return parse_date("-".join(match.groups())) if match else ""


def _title_from_name(path: Path) -> str:
    """"05-31-sensetime-raises-620m.txt" -> "Sensetime raises 620m"."""
    words = re.sub(r"^[\d_.-]+(?=[A-Za-z])", "", path.stem).replace("_", " ").replace("-", " ").split()
    return " ".join(words).capitalize() if words else path.stem


_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*(?:\n|\Z)", re.DOTALL)
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_MARKUP = re.compile(r"^[ \t]{0,3}(#{1,6}[ \t]+|>[ \t]?|[-*+][ \t]+(?=\S))|(\*\*|__|`)", re.MULTILINE)


def _read_markdown(path: Path, text: str, warnings: list[str]) -> Loaded:
    """YAML front matter (title, date, url, source, anything else) and a Markdown body."""
    meta: dict[str, Any] = {}
    match = _FRONT_MATTER.match(text)
    if match:
        import yaml

        try:
            meta = yaml.safe_load(match.group(1)) or {}
        # (Also what PyYAML's constructors let through: "date: 2021-13-45", a 5,000-digit number, deep nesting.)
        except (yaml.YAMLError, ValueError, OverflowError, RecursionError) as exc:
            raise IngestError(f"invalid YAML front matter: {_first_line(exc)}") from None
        if not isinstance(meta, dict):
            raise IngestError("front matter is not a mapping of keys to values")
        text = text[match.end():]
    title = str(meta.get("title") or "")
    heading = re.match(r"\s*#\s+(.+)\n", text)
    if heading and (not title or heading.group(1).strip() == title):
        title, text = heading.group(1).strip(), text[heading.end():]
    body = _MD_MARKUP.sub("", _MD_LINK.sub(r"\1", text))
    article = _article(path, None, title, body, **_metadata(meta))
    return Loaded([article], [], warnings)


def _read_html(path: Path, text: str, warnings: list[str]) -> Loaded:
    """Main text by trafilatura (drops navigation, ads, footers); metadata from meta tags.
    Hidden elements are removed first (``hidden.visible_tree``): a reader never sees them."""
    import trafilatura

    from .hidden import visible_tree

    page = visible_tree(text)
    result = trafilatura.bare_extraction(text if page is None else page, with_metadata=True, include_comments=False,
                                         include_tables=False, favor_precision=True)
    if result is None or not getattr(result, "text", None):
        raise IngestError("no article text found in the HTML")
    meta = {"title": result.title, "date": result.date, "url": result.url, "source": result.sitename}
    article = _article(path, None, result.title or "", result.text, **_metadata(meta))
    return Loaded([article], [], warnings)


def _read_pdf(path: Path, data: bytes, warnings: list[str]) -> Loaded:
    """The PDF's text layer; title from its metadata or first line."""
    import io

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
        info = reader.metadata or {}
        title = str(info.get("/Title") or "")
        raw = str(info.get("/CreationDate") or "").removeprefix("D:")  # D:YYYYMMDDhhmmss
    except PdfReadError as exc:
        raise IngestError(f"not a readable PDF: {_first_line(exc)}") from None
    except Exception as exc:  # a damaged PDF makes pypdf raise almost anything (IndexError, AttributeError...)
        raise IngestError(f"not a readable PDF ({type(exc).__name__}: {_first_line(exc)})") from None
    text = "\n".join(pages)
    if not text.strip():
        raise IngestError("PDF has no text layer (scanned images are not supported)")
    if not title:
        title, _, text = normalize(text).partition("\n")
    date = parse_date(f"{raw[:4]}-{raw[4:6]}-{raw[6:8]}") if len(raw) >= 8 else ""
    article = _article(path, None, title, text, date=date)
    return Loaded([article], [], warnings)


def _read_json(path: Path, text: str, warnings: list[str]) -> Loaded:
    """A list of article objects, ``{"articles": [...]}``, or a single article object."""
    data = _parse_json(text, "")
    if isinstance(data, dict) and isinstance(data.get("articles"), list):
        data = data["articles"]
    records = data if isinstance(data, list) else [data]
    return _records(path, ((i, rec) for i, rec in enumerate(records, 1)), "item", warnings)


def _parse_json(text: str, where: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        at = f" at line {exc.lineno}, column {exc.colno}" if not where else where
        raise IngestError(f"{'malformed' if where else 'invalid'} JSON{at}: {exc.msg}") from None
    except RecursionError:
        raise IngestError(f"JSON{where} nested too deeply to read") from None
    except ValueError as exc:  # a number of more than 4,300 digits
        raise IngestError(f"unreadable JSON{where}: {_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().split("\n", 1)[0].split("; use sys.set_int_max_str_digits")[0][:200]


def _read_jsonl(path: Path, text: str, warnings: list[str]) -> Loaded:
    """One article object per line; a malformed line is reported by number and skipped."""
    def lines() -> Iterator[tuple[int, Any]]:
        for number, line in enumerate(text.split("\n"), 1):
            if not line.strip():
                continue
            try:
                yield number, _parse_json(line, f" on line {number}")
            except IngestError as exc:
                yield number, RecordError(f"{path}:{number}", str(exc))

    return _records(path, lines(), "line", warnings)


def _records(path: Path, records: Iterator[tuple[int, Any]], unit: str, warnings: list[str]) -> Loaded:
    articles, errors = [], []
    first: dict[str, int] = {}  # record id -> where it first appeared
    for number, record in records:
        where = f"{path}:{number}"
        if isinstance(record, RecordError):
            errors.append(record)
            continue
        try:
            if not isinstance(record, dict):
                raise IngestError(f"{unit} {number} is not a JSON object")
            body = next((record[f] for f in _BODY_FIELDS if isinstance(record.get(f), str) and record[f].strip()), None)
            if body is None:
                raise IngestError(f"{unit} {number} has no text (expected one of: {', '.join(_BODY_FIELDS)})")
            record_id = plain(record.get("id") or "") or f"{display_path(path)}:{number}"
            if record_id in first:  # it would silently replace the first one
                raise IngestError(f"{unit} {number} repeats the id {record_id[:80]!r} of {unit} {first[record_id]}")
            first[record_id] = number
            meta = {**record, "date": next((record[f] for f in _DATE_FIELDS if record.get(f)), None)}
            articles.append(_article(path, record_id, str(record.get("title") or ""), body,
                                     **_metadata(meta)))
        except IngestError as exc:
            errors.append(RecordError(where, str(exc)))
    if not articles:
        raise IngestError(f"no valid records; first problem: {errors[0].reason}" if errors else "no articles in it")
    return Loaded(articles, errors, warnings)


def _metadata(meta: dict[str, Any]) -> dict[str, Any]:
    """Map common field names onto Article fields; keep the rest (JSON-safe) as extra."""
    extra = {plain(k): plain(v) if isinstance(v, str) else v for k, v in meta.items()
             if isinstance(k, str) and k not in _KNOWN_FIELDS and isinstance(v, (str, int, float, bool))}
    return {
        "date": parse_date(meta.get("date")),
        "url": plain(meta.get("url") or ""),
        "publisher": plain(meta.get("source") or meta.get("publisher") or ""),
        "extra": extra,
    }


_READERS: dict[str, Callable[[Path, Any, list[str]], Loaded]] = {
    ".txt": _read_txt,
    ".md": _read_markdown,
    ".markdown": _read_markdown,
    ".html": _read_html,
    ".htm": _read_html,
    ".pdf": _read_pdf,
    ".json": _read_json,
    ".jsonl": _read_jsonl,
}
