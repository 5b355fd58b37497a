"""The extractive backend: no LLM, the best-supported sentences of the top passages, cited.

Deterministic and instant; also the fallback when the configured LLM is unreachable.
"""

from __future__ import annotations

from collections.abc import Sequence

from .documents import Passage
from .prompting import sentence_score
from .query import Question
from .text import key_terms, split_sentences


def extractive_answer(question: Question, passages: Sequence[Passage], max_sentences: int = 2) -> str:
    """Up to ``max_sentences`` sentences from different passages, each with its ``[n]`` marker."""
    terms = key_terms(question.text)
    wanted_names = [n.lower() for n in question.specific]
    scored = []
    for n, passage in enumerate(passages, 1):
        about = f"{passage.title} {passage.text}".lower()
        if wanted_names and not any(name in about for name in wanted_names):
            continue  # a passage about another company
        for order, (start, end) in enumerate(split_sentences(passage.text)):
            sentence = passage.text[start:end].strip()
            if len(sentence) < 20:
                continue
            score = sentence_score(question, sentence, terms)
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
