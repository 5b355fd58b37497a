"""The last resort for an amount question the model would not answer: the source sentence that the
verifier itself accepts as stating the amount asked for, quoted and cited.

A 1.5B model declines "how many image-text pairs was CLIP trained on?" with "CLIP, a network trained
on 400 million pairs of images and text" in front of it: it wants the question's own words. The
verifier's rules (``verify.supports``: a new number, stated in a sentence with the relation's words
and the question's terms, of the entity asked about, as a count of what was counted) are exactly
what makes a sentence an answer, so a sentence that passes them is quoted rather than abstaining.
A question the sources don't answer ("how many employees does Intrinsic have?") finds no such
sentence and still abstains.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import replace

from .asked import asked_by
from .documents import Passage
from .prompting import sentence_score
from .query import Question
from .retrieval import mentions
from .text import amounts_in, numbers, split_sentences
from .verify import Checked, check_answer

_YEAR = re.compile(r"(?:19|20)\d\d")
_HOW_MUCH = re.compile(r"\bhow much\b|\bvaluation|\bvalued\b|\bworth\b|\bprice\b|\bpa(?:y|id)\b|\bcost|\brevenue"
                       r"|\bprofit", re.IGNORECASE)
MIN_SCORE = 2.0  # at least a question term and an amount (or a name asked about): not any sentence with a number


def quote_amount(asked: Question, passages: Sequence[Passage], article_text: Callable[[str], str]) -> Checked | None:
    """The best-matching sentence of ``passages`` that states a new amount as the question asks it,
    as a verified, cited answer; ``None`` when no sentence does."""
    if asked.asks != "amount" or not all(e.exact for e in asked.entities):
        return None  # (a name read despite a typo, then declined by the model: two doubts, no quote)
    own = numbers(asked.text)
    money_asked = asked_by(asked).cue is not None and _HOW_MUCH.search(asked.text) is not None
    candidates = []
    for n, passage in enumerate(passages):
        article = f"{passage.title}\n{article_text(passage.article_id) or passage.text}".lower()
        named = sum(mentions(article, name.lower()) for name in asked.specific)
        if named < len(asked.specific) - (len(asked.specific) >= 3):
            continue  # an article about the buyer that never names what it bought ("intel cnvrg.io price?")
        for start, end in split_sentences(passage.text):
            sentence = " ".join(passage.text[start:end].split())
            # (Not a spelt "two" ("two-wheeled"), nor a year; for "how much", a sum of money.)
            new = {v for v in numbers(sentence) if v >= 10 and not _YEAR.fullmatch(f"{v:g}")}
            new = {v for v, _ in amounts_in(sentence)} if money_asked else new
            # (Of the period asked about, by its article's date or its own words: "members at its
            # anniversary in january 2022" are not the members an article of 2021 counts.)
            dated = not asked.periods or any(p[:4] in f"{passage.date} {sentence}" for p in asked.periods)
            if new - own and len(sentence) >= 20 and dated:
                candidates.append((sentence_score(asked, sentence), -n, -start, sentence, passage))
    for score, _, _, sentence, passage in sorted(candidates, key=lambda c: c[:3], reverse=True):
        if score < MIN_SCORE:
            break
        checked = check_answer(f"{sentence.rstrip('.')} [1].", [passage], asked, article_text)
        if checked.citations and not checked.declined and not checked.removed:
            return replace(checked, text=f"The article says: “{sentence.rstrip('.')}.” [1]")
    return None
