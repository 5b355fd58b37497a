"""The QA file and the matching rules: loading items, the tune/check split, selection, gold matching.

The file format is in docs/evaluation.md. An answerable item's requirements are lists of
alternative regexes (case-insensitive); gold articles are matched by exact id or by path
suffix, so gold ``seeds/a.txt`` matches source ``/abs/.../seeds/a.txt``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import AssistantError

TYPES = ("amount", "investor", "acquisition", "date", "entity", "who", "what", "when", "where", "yesno", "comparison",
         "multi", "conversation", "unanswerable")
MULTI_TYPES = ("comparison", "multi")
STYLES = ("lower", "typo", "terse")
RETRIEVAL_K = 10  # passages ranked per question for Hit@k and MRR
HIT_KS = (1, 3, 5)
SPLITS = ("tune", "check")


@dataclass(frozen=True)
class QAItem:
    """One question of the QA file; a conversation is scored on its last turn."""

    id: str
    type: str
    turns: tuple[str, ...]
    must: tuple[tuple[str, ...], ...] = ()
    gold: tuple[str, ...] = ()
    abstain: bool = False
    style: tuple[str, ...] = ()  # how it is typed: "lower", "typo", "terse"

    @property
    def question(self) -> str:
        return self.turns[-1]


def load_qa(path: Path) -> list[QAItem]:
    """Read a QA file (JSON Lines; the format is in docs/evaluation.md).

    Raises:
        AssistantError: naming the line of a malformed item or a duplicate id.
    """
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise AssistantError(f"cannot read QA file {path}: {exc.strerror or exc}") from None
    items: list[QAItem] = []
    seen: set[str] = set()
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"QA file {path} line {lineno}"
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise AssistantError(f"{where} is not JSON: {exc.msg}") from None
        item = _qa_item(raw, where)
        if item.id in seen:
            raise AssistantError(f"{where}: duplicate id {item.id!r}")
        seen.add(item.id)
        items.append(item)
    if not items:
        raise AssistantError(f"QA file {path} holds no questions")
    return items


def _qa_item(raw: Any, where: str) -> QAItem:
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
        raise AssistantError(f"{where}: expected an object with a string \"id\"")
    turns = raw.get("turns") or ([raw["question"]] if raw.get("question") else [])
    if not turns or not all(isinstance(t, str) and t.strip() for t in turns):
        raise AssistantError(f"{where}: needs \"question\" (a string) or \"turns\" (a list of strings)")
    must = raw.get("must") or []
    if not isinstance(must, list) or not all(isinstance(r, list) and r and all(isinstance(a, str) for a in r)
                                             for r in must):
        raise AssistantError(f"{where}: \"must\" must be a list of lists of regexes")
    for requirement in must:
        for pattern in requirement:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise AssistantError(f"{where}: bad regex {pattern!r} in \"must\": {exc}") from None
    abstain = bool(raw.get("abstain", False))
    if not abstain and not must:
        raise AssistantError(f"{where}: an answerable item needs at least one requirement in \"must\"")
    gold = raw.get("gold") or []
    if not isinstance(gold, list) or not all(isinstance(g, str) for g in gold):
        raise AssistantError(f"{where}: \"gold\" must be a list of article ids")
    kind = raw.get("type") or ("conversation" if len(turns) > 1 else "unanswerable" if abstain else "other")
    return QAItem(id=raw["id"], type=str(kind), turns=tuple(turns), must=tuple(tuple(r) for r in must),
                  gold=tuple(gold), abstain=abstain, style=tuple(str(x) for x in raw.get("style") or ()))


def select(items: Sequence[QAItem], ids: str | None = None, limit: int | None = None,
           split: str | None = None) -> list[QAItem]:
    """Items with the given ids (in file order) and of ``split``, then the first ``limit``.

    Raises:
        AssistantError: an id is not in the file.
    """
    chosen = list(items)
    if ids:
        wanted = [i.strip() for i in ids.split(",") if i.strip()]
        unknown = sorted(set(wanted) - {item.id for item in items})
        if unknown:
            raise AssistantError(f"--ids names question(s) not in the QA file: {', '.join(unknown)}")
        chosen = [item for item in chosen if item.id in wanted]
    if split:
        chosen = [item for item in chosen if split_of(item.id) == split]
    if limit is not None:
        if limit <= 0:
            raise AssistantError(f"--limit must be positive, not {limit}")
        chosen = chosen[:limit]
    return chosen


# -- matching ---------------------------------------------------------------------------------------


def split_of(item_id: str) -> str:
    """"tune" or "check", fixed by a hash of the id: read failures on tune only, judge on check."""
    return SPLITS[hashlib.sha256(item_id.encode()).digest()[0] % 2]


def requirement_met(text: str, alternatives: Sequence[str]) -> bool:
    """Whether any alternative regex matches ``text`` (case-insensitive)."""
    return any(re.search(pattern, text, re.IGNORECASE) for pattern in alternatives)


def unmet_requirements(text: str, must: Sequence[Sequence[str]]) -> list[list[str]]:
    """The requirements that no alternative satisfies."""
    return [list(r) for r in must if not requirement_met(text, r)]


def is_gold(source: str, gold: Iterable[str]) -> bool:
    """Exact id match, or one path ends with the other at a path separator."""
    source = source.replace("\\", "/")
    for g in gold:
        g = g.replace("\\", "/")
        if source == g or source.endswith("/" + g.lstrip("/")) or g.endswith("/" + source.lstrip("/")):
            return True
    return False


def first_gold_rank(ranking: Sequence[str], gold: Sequence[str], k: int = RETRIEVAL_K) -> int | None:
    """1-based rank of the first passage (of the top ``k``) whose article is gold."""
    for rank, source in enumerate(ranking[:k], 1):
        if is_gold(source, gold):
            return rank
    return None


def hit_at(ranking: Sequence[str], gold: Sequence[str], k: int) -> bool:
    return first_gold_rank(ranking, gold, k) is not None


def reciprocal_rank(ranking: Sequence[str], gold: Sequence[str], k: int = RETRIEVAL_K) -> float:
    rank = first_gold_rank(ranking, gold, k)
    return 1.0 / rank if rank else 0.0

