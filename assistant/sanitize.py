"""Text from outside, made safe to show or to hand on: no control characters, no links out.

``clean_text`` drops what no reader can see (control and format characters, U+FFFD from
undecodable bytes); ``strip_links`` takes images, links, HTML tags and bare URLs out of an
answer, so that no text a model was talked into writing makes a browser fetch or offer an
outside address. A URL given in ``allowed`` (the cited article's own) may stay as a link or
bare URL; images never do.
"""

from __future__ import annotations

import re
from collections.abc import Collection

# C0 and C1 controls other than tab and newline, DEL, zero-width and direction marks, the
# byte-order mark, lone surrogates (no encoding takes them) and U+FFFD (what invalid UTF-8 decodes to).
_INVISIBLE = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2064\ud800-\udfff\ufeff\ufffd]")
_CARRIAGE = re.compile(r"\r\n?")
# Terminal escape sequences (colours, cursor moves, titles): what a terminal would act on.
_ESCAPE = re.compile(r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]")

_IMAGE = re.compile(r"!\[[^\]\n]*\]\s*\([^)\n]*\)|!\[[^\]\n]*\]\[[^\]\n]*\]")
_LINK = re.compile(r"\[([^\]\n]*)\]\s*\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"\n]*\")?\s*\)")
_REFERENCE = re.compile(r"^[ \t]*\[[^\]\n]+\]:[ \t]*\S+.*$", re.MULTILINE)  # "[x]: http://..." definitions
_AUTOLINK = re.compile(r"<((?:https?|ftp|mailto):[^>\s]*)>", re.IGNORECASE)
_TAG = re.compile(r"</?[A-Za-z][^<>]*>|<!--.*?(?:-->|$)", re.DOTALL)
_URL = re.compile(r"(?:\b(?:https?|ftp)://|\bwww\.|\bdata:[\w/+.-]+;base64,)[^\s<>()\[\]\"'`]*[^\s<>()\[\]\"'`.,;:!?]",
                  re.IGNORECASE)
_SPACES = re.compile(r"[ \t]{2,}")
_SPACE_BEFORE = re.compile(r"[ \t]+(?=[.,;:!?])")


def clean_text(text: str) -> str:
    """``text`` without terminal escape sequences, control, zero-width, direction and replacement
    characters; tabs and newlines kept, carriage returns made newlines."""
    return _INVISIBLE.sub("", _ESCAPE.sub("", _CARRIAGE.sub("\n", text)))


def strip_links(text: str, allowed: Collection[str] = ()) -> str:
    """``text`` without images, HTML tags, links or URLs other than those in ``allowed``.

    A link keeps its text ("[the report](http://x)" reads "the report"); a citation marker
    written as a link ("[1](http://x)") stays "[1]".
    """
    keep = {_bare(url) for url in allowed if url}

    def link(match: re.Match[str]) -> str:
        label, url = match.group(1), match.group(2)
        if _bare(url) in keep:
            return match.group()
        return f"[{label}]" if label.strip().isdigit() else label

    stripped = _IMAGE.sub("", text)
    stripped = _LINK.sub(link, stripped)
    stripped = _REFERENCE.sub("", stripped)
    stripped = _AUTOLINK.sub(lambda m: m.group(1) if _bare(m.group(1)) in keep else "", stripped)
    stripped = _TAG.sub("", stripped)
    stripped = _URL.sub(lambda m: m.group() if _bare(m.group()) in keep else "", stripped)
    if stripped == text:
        return text
    return _SPACE_BEFORE.sub("", _SPACES.sub(" ", stripped))


def _bare(url: str) -> str:
    return url.strip().rstrip("/").lower()


def open_link_start(text: str, limit: int = 500) -> int:
    """Where an image, link, tag or URL that is still being written starts in ``text`` (a
    reply streaming in), or ``len(text)``: text from there on may yet turn into a link.

    The last word is always held back (it may grow into a URL); before it, an unclosed ``[``
    or ``<`` within ``limit`` characters holds back from there.
    """
    space = max(text.rfind(" "), text.rfind("\n"), text.rfind("\t"))
    cut = space + 1 if space + 1 < len(text) else len(text)
    while True:
        head = text[:cut]
        held = cut
        bracket = head.rfind("[", max(0, len(head) - limit))
        if bracket >= 0 and re.fullmatch(r"\[[^\]\n]*(?:\]\s*(?:\([^)\n]*)?)?", head[bracket:]):
            held = bracket - (bracket > 0 and head[bracket - 1] == "!")
        angle = head.rfind("<", max(0, len(head) - limit))
        if angle >= 0 and ">" not in head[angle:]:
            held = min(held, angle)
        if held == cut:
            return cut
        cut = held
