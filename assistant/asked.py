"""What a question asks an answer to pin down: its own names and numbers (an answer may echo
them), the relation an amount must be stated with ("paid" is no valuation), the terms a stating
sentence must use, and what a "how many" question counts. Read once per answer by ``verify``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from .event_patterns import MONTHS
from .query import Question, read_question
from .text import STOPWORDS, amounts_in, key_terms, numbers, spelled_numbers, stem, tokens

# For an amount question: (what it asks about, words a source sentence must use to state that amount).
# An earlier funding amount is not an acquisition price, nor a valuation.
AMOUNT_RELATIONS = (
    (re.compile(r"\bvaluation|\bvalued\b|\bworth\b", re.I), re.compile(r"valu|worth", re.I)),
    (re.compile(r"\b(pay|pays|paying|paid|price|sold for|sell for|purchase|costs?|costing)\b", re.I),
     re.compile(r"acqui|bought|\bbuy|purchas|\bpaid|\bpay|price|\bdeal\b|\bsold\b|\bsale\b|\bcost|retail|\bsells?\b",
                re.I)),
    (re.compile(r"\bprofit|\bloss\b|\bnet income\b", re.I), re.compile(r"profit|loss|net income", re.I)),
    (re.compile(r"\brevenue|\bsales\b|\bincome\b|\bearn", re.I), re.compile(r"revenue|sales|income|earn", re.I)),
    (re.compile(r"\b(rais\w*|fund\w*|secur\w*|land\w*|get|got|bring|bag\w*)\b", re.I),
     re.compile(r"rais|fund|round|secur|land|nab|invest|capital|financ|series|seed|bag|clos", re.I)),
)
ANY = re.compile(r".")
# Words of an amount question that say nothing about what is counted.
_QUANTITY_WORDS = frozenset(key_terms("much many number amount total size big large how what"))
# Words that tell nothing of what was asked: light verbs ("how much is IBM putting into ..."), and the
# period, which the question record reads ("raised by august 2021": the amount need not be dated).
_LIGHT_WORDS = frozenset(key_terms("put putting get getting give giving make making take taking have having "
                                   "long need needed use used " + " ".join(MONTHS)))


@dataclass(frozen=True)
class Asked:
    """What the question brings: its own names and numbers (an answer may echo them), and for an
    amount question, the words a source sentence must use to state the answer's amounts."""

    names: frozenset[str] = frozenset()
    numbers: frozenset[float] = frozenset()
    amounts: frozenset[float] = frozenset()  # its sums of money: an answer may not echo these unsupported
    cue: re.Pattern[str] | None = None
    article_text: Callable[[str], str] | None = None  # the whole article, where the relation may be stated
    words: frozenset[str] = frozenset()  # the question's own words, lower case
    terms: frozenset[str] = frozenset()  # its stemmed terms, other than the names asked about
    yes_no: bool = False
    counted: frozenset[str] = frozenset()  # for "how many X?": X's words, by their first five letters
    facts: str = "amount"  # which of the answer's facts the relation pins down: "amount" or "name"


NOTHING_ASKED = Asked()  # (a bare support check: numbers and names only)


def asked_by(question: Question | str, article_text: Callable[[str], str] | None = None) -> Asked:
    if isinstance(question, str):
        question = read_question(question)
    cue, relation = None, ""
    if question.asks == "amount":
        asks, cue = next(((asks, cue) for asks, cue in AMOUNT_RELATIONS if asks.search(question.text)),
                         (None, ANY))
        relation = " ".join(asks.findall(question.text) if asks else [])
    elif question.asks == "who":
        cue = ANY  # the names must be stated in a sentence about what was asked (below)
    asked_names = {n.lower() for n in question.names} | {e.said.lower() for e in question.entities}
    name_terms = {t for name in asked_names for t in key_terms(name)}
    return Asked(frozenset(asked_names), frozenset(numbers(question.text) | spelled_numbers(question.text)),
                 frozenset(value for value, _ in amounts_in(question.text)), cue, article_text,
                 words=frozenset(_question_words(question.search_text)) | {w for n in asked_names for w in n.split()},
                 # The relation's own verb is the cue's to check: "pay" is stated as "paid" or "acquired".
                 terms=frozenset(t for t in set(key_terms(question.search_text)) - name_terms - _QUANTITY_WORDS
                                 - _LIGHT_WORDS - set(key_terms(relation)) if not t.isdigit()),
                 yes_no=question.asks == "yesno", counted=counted_words(question.search_text),
                 facts="name" if question.asks == "who" else "amount")


_HOW_MANY = re.compile(r"\bhow many\b", re.I)
# Counts of people are written with any of these: "how many employees?" is answered by "200 people".
_PEOPLE = frozenset(stem(w)[:5] for w in "people person employees staff workers jobs positions roles headcount".split())


def counted_words(question: str) -> frozenset[str]:
    """What a "how many" question counts, as the first five letters of its stems: the words after
    "how many" up to the first stop word ("how many human pros did it beat?" -> human, pros)."""
    found = _HOW_MANY.search(question)
    if not found:
        return frozenset()
    words = []
    for word in tokens(question[found.end():])[:3]:
        if word in STOPWORDS:
            break
        words.append(stem(word)[:5])
    return frozenset(words) | (_PEOPLE if _PEOPLE & set(words) else frozenset())


def _question_words(text: str) -> set[str]:
    return {re.sub(r"['’]s?$", "", w) for w in re.findall(r"[\w.&'’-]+", text.lower())}
