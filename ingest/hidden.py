"""The parts of an HTML page no reader sees, removed before its text is extracted.

Hidden text is where instructions aimed at a language model hide ("ignore previous
instructions" in white on white), and an article's text is what a reader sees: elements
with the ``hidden`` attribute, ``aria-hidden="true"``, an inline style that hides them
(``display:none``, ``visibility:hidden``, ``opacity:0``, ``font-size:0``, white or
transparent text on no background of its own, far off-screen), a hiding class (``hidden``,
``sr-only``, ...), ``<template>``, and comments. Styles from stylesheets are not evaluated.
"""

from __future__ import annotations

import re
from typing import Any

_HIDING_STYLE = re.compile(
    r"display\s*:\s*none|visibility\s*:\s*(?:hidden|collapse)|opacity\s*:\s*0*(?:\.0+)?\s*(?:;|!|$)"
    r"|font-size\s*:\s*0*(?:\.0+)?(?:px|pt|em|rem|%)?\s*(?:;|!|$)|(?:text-indent|left|top)\s*:\s*-\d{3,}",
    re.IGNORECASE)
_WHITE_TEXT = re.compile(
    r"(?<![-\w])color\s*:\s*(?:#fff(?:fff)?\b|white\b|transparent\b|rgba?\(\s*255\s*,\s*255\s*,\s*255\s*[,)])",
    re.IGNORECASE)
_BACKGROUND = re.compile(r"background", re.IGNORECASE)
_HIDING_CLASSES = frozenset({"hidden", "d-none", "invisible", "sr-only", "visually-hidden", "screen-reader-text"})
_KEEP = frozenset({"html", "head", "body"})


def visible_tree(html: str) -> Any:
    """The page parsed (as trafilatura parses it) with its hidden parts removed; ``None`` when
    it does not parse."""
    from trafilatura import load_html

    tree = load_html(html)
    if tree is None:
        return None
    for element in [e for e in tree.iter() if is_hidden(e)]:
        _drop(element)
    return tree


def is_hidden(element: Any) -> bool:
    """Whether no reader sees ``element`` (nor, then, anything inside it)."""
    tag = element.tag
    if not isinstance(tag, str):  # a comment or processing instruction
        return True
    if tag.lower() in _KEEP:
        return False
    if tag.lower() == "template" or element.get("hidden") is not None:
        return True
    if (element.get("aria-hidden") or "").strip().lower() == "true":
        return True
    style = element.get("style") or ""
    if _HIDING_STYLE.search(style) or (_WHITE_TEXT.search(style) and not _BACKGROUND.search(style)):
        return True
    return bool(_HIDING_CLASSES & set((element.get("class") or "").lower().split()))


def _drop(element: Any) -> None:
    """Remove ``element`` and what it holds, keeping the text that follows it."""
    parent = element.getparent()
    if parent is None:
        return
    if element.tail:
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + element.tail
        else:
            parent.text = (parent.text or "") + element.tail
    parent.remove(element)
