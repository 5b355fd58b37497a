"""Sentence splitting shared by chunking, context trimming and citation checks."""

from __future__ import annotations

import re

_ABBREVIATIONS = {
    "inc", "ltd", "co", "corp", "mr", "mrs", "ms", "dr", "st", "jr", "sr", "vs", "u.s", "u.k", "e.g",
    "i.e", "no", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
    "etc", "approx", "est", "gov", "prof", "gen", "rep", "sen", "pte", "plc", "bros", "mt", "ft",
}
# A sentence ends at . ! ? (optionally followed by a closing quote or bracket) before a space and
# a capital, digit or opening quote; or at a line break.
_BOUNDARY = re.compile(r"(?<=[.!?])[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9$])|\n+")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Return ``(start, end)`` offsets of the sentences of ``text``."""
    spans, start = [], 0
    for match in _BOUNDARY.finditer(text):
        if match.group().strip() == "" and "\n" not in match.group():
            before = text[start:match.start()].rsplit(None, 1)
            if before and before[-1].rstrip(".").lower() in _ABBREVIATIONS:
                continue
            if re.search(r"\b[A-Z]\.$", text[max(start, match.start() - 3):match.start()]):
                continue  # an initial, as in "John D. Rockefeller"
        end = match.start()
        if text[start:end].strip():
            spans.append((start, end))
        start = match.end()
    if text[start:].strip():
        spans.append((start, len(text)))
    return [_strip(text, s, e) for s, e in spans]


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
