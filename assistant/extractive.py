"""The extractive backend: no LLM, the best-supported sentences of the top passages, cited.

Deterministic and instant; also the fallback when the configured LLM is unreachable.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .documents import Passage
from .query import names
from .store import count_terms, keyword_terms
from .text import split_sentences
from .verify import numbers

_AMOUNT_QUESTION = re.compile(r"\b(how much|amount|raise[sd]?|valu(ed|ation)|price|paid|worth|size)\b", re.I)
_WHO_QUESTION = re.compile(r"\b(who|which (company|firm|investors?|fund))\b", re.I)


def extractive_answer(question: str, passages: Sequence[Passage], max_sentences: int = 2) -> str:
    """Up to ``max_sentences`` sentences from different passages, each with its ``[n]`` marker."""
    terms = keyword_terms(question)
    wanted_names = [n.lower() for n in names(question)]
    scored = []
    for n, passage in enumerate(passages, 1):
        about = f"{passage.title} {passage.text}".lower()
        if wanted_names and not any(name in about for name in wanted_names):
            continue  # a passage about another company
        for order, (start, end) in enumerate(split_sentences(passage.text)):
            sentence = passage.text[start:end].strip()
            if len(sentence) < 20:
                continue
            score = _score(question, sentence, terms, wanted_names)
            if score > 0:
                # Earlier passages and earlier sentences break ties: they are the better-ranked ones.
                scored.append((score, -n, -order, n, sentence))
    scored.sort(reverse=True)
    chosen, used = [], set()
    for score, _, _, n, sentence in scored:
        if n in used or score < 1.0:
            continue
        used.add(n)
        chosen.append(f"{sentence.rstrip()} [{n}]")
        if len(chosen) >= max_sentences:
            break
    return " ".join(chosen)


def _score(question: str, sentence: str, terms: list[str], wanted_names: list[str]) -> float:
    lowered = sentence.lower()
    score = float(count_terms(terms, lowered))
    score += sum(1.5 for name in wanted_names if name in lowered)
    if _AMOUNT_QUESTION.search(question) and any(v >= 1e5 for v in numbers(sentence)):
        score += 1.5
    if _WHO_QUESTION.search(question) and re.search(r"\b(led|participat\w*|acquired|bought|joined|backed)\b", lowered):
        score += 1.0
    return score
