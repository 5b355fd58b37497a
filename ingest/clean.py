"""Conservative cleaning: normalise Unicode and whitespace, drop page debris, never sentences."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime

# Whole lines that are page furniture rather than article text.
_DEBRIS = re.compile(
    r"""^(
        (read\ more|related|also\ read|see\ also|recommended|more\ from|trending|read\ next)\s*[:|»].*
      | (advertisement|sponsored\ content|share\ this\ (article|story)|share\ on\ \w+(\ share\ on\ \w+)*)
      | (click\ here|subscribe|sign\ up)\b.{0,80}(newsletter|here|today|now)\.?
      | (photo|image|photograph|picture)\s*(credit)?\s*:.{0,120}
    )$""",
    re.IGNORECASE | re.VERBOSE,
)
# A photo caption that is only a name: 1-4 capitalised words, no digits or punctuation.
_NAME_LINE = re.compile(r"^(?:[A-Z][\w'’-]*)(?: [A-Z][\w'’-]*){0,3}$")
_SPACES = re.compile(r"[ \t\f\v\u00a0\u2000-\u200b\u202f\u205f\u3000]+")
_ZERO_WIDTH = re.compile(r"[\u200c\u200d\u2060\ufeff\u00ad]")
# Never article text: control characters (NUL included) and lone surrogates, which JSON's "\ud800"
# escapes can produce and which nothing downstream (UTF-8, SQLite, Chroma) can encode.
_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")
_SURROGATES = re.compile(r"[\ud800-\udfff]")


def plain(value: object) -> str:
    """A metadata value (url, source, record id) as storable text: no controls, no lone surrogates."""
    return _SURROGATES.sub("\ufffd", _CONTROLS.sub("", str(value))).strip()


def normalize(text: str) -> str:
    """NFKC, one space between words, stripped lines, at most one blank line in a row."""
    text = _SURROGATES.sub("\ufffd", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _CONTROLS.sub("", unicodedata.normalize("NFKC", text))
    text = _ZERO_WIDTH.sub("", text)
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def clean_body(text: str) -> str:
    """Normalise ``text`` and drop debris lines: link teasers, share bars, name-only captions.

    A short name-only line counts as a caption only when the same name appears in a
    neighbouring paragraph (the seed's "Xu Li" above a quote by Xu Li), so headings and
    one-line paragraphs survive.
    """
    lines = normalize(text).split("\n")
    kept = []
    for i, line in enumerate(lines):
        if _DEBRIS.match(line) or _is_caption(line, lines[max(0, i - 2): i] + lines[i + 1: i + 3]):
            continue
        kept.append(line)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()


def _is_caption(line: str, neighbours: list[str]) -> bool:
    if not _NAME_LINE.match(line) or len(line.split()) < 2:
        return False
    return any(line in other and other != line for other in neighbours)


_DATE_FORMATS = (
    "%Y-%m-%d", "%Y/%m/%d", "%d %B %Y", "%d %b %Y", "%B %d, %Y", "%b %d, %Y", "%B %d %Y",
    "%b %d %Y", "%d.%m.%Y", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S%z",
    "%Y-%m-%d %H:%M:%S", "%a, %d %b %Y %H:%M:%S %z", "%a, %d %b %Y %H:%M:%S %Z", "%b. %d, %Y",
)


def parse_date(value: object) -> str:
    """Return ``value`` as ``YYYY-MM-DD``, or ``""`` when it is not a recognisable date."""
    if value is None:
        return ""
    if hasattr(value, "isoformat"):  # date or datetime from YAML front matter
        return value.isoformat()[:10]
    text = re.sub(r"\s+", " ", str(value)).strip().rstrip(".")
    text = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", text)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}T.*", text):
        text = text[:10]
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            continue
    return ""
