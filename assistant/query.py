"""Reading a question: the names it mentions, comparisons, dates, and follow-up rewriting.

All deterministic and instant: a 1.5B model rewriting follow-ups is slower than the
answer itself and often drops the name that retrieval needs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_QUESTION_WORDS = {
    "how", "what", "who", "whom", "whose", "which", "when", "where", "why", "did", "does", "do", "is", "are",
    "was", "were", "has", "have", "had", "can", "could", "tell", "list", "name", "give", "compare", "and", "or",
    "the", "a", "an", "in", "on", "of", "for", "to", "by", "at", "with", "from", "about", "its", "it", "their",
    "they", "that", "this", "those", "these", "between", "both", "each", "also", "please", "show", "according",
    "series", "seed", "round", "ai", "ipo", "ceo", "cto", "cfo", "vc", "usd", "us", "u.s", "inc", "corp", "ltd",
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
    "november", "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
    "what's", "who's", "and", "more", "less", "most", "then", "than", "first", "second", "latest", "new",
}
# A run of capitalised or mixed-case words (with inner dots, ampersands, digits): "SenseTime",
# "Suning.com", "Viz.ai", "AI21 Labs", "Andreessen Horowitz".
_NAME = re.compile(r"\b(?:[A-Z][\w.&'’-]*[\w]|[a-z]+[A-Z][\w.]*|[A-Z])(?:\s+(?:[A-Z][\w.&'’-]*[\w]|[A-Z]{2,}|\d+\w*))*")
_POSSESSIVE = re.compile(r"['’]s$")
_ROUND = re.compile(r"\b(series [a-h]\b|seed round|seed|pre-seed|ipo|spac)", re.IGNORECASE)
_YEAR = re.compile(r"\b(20[0-3]\d|19[89]\d)\b")
_COMPARE = re.compile(r"\b(vs\.?|versus|compare|compared|comparison|more than|less than|bigger|larger|"
                      r"smaller|both|each|either|which (?:one|company|startup)|or)\b", re.IGNORECASE)
_PRONOUNS = re.compile(
    r"\b(?:the (?:company|startup|firm|business|group)|this (?:company|startup)|that (?:company|startup)|"
    r"it|its|they|their|them|he|she|his|her)\b", re.IGNORECASE)
_ROUND_REF = re.compile(r"\b(?:that|the|this|same) (?:round|deal|funding|financing|raise|investment|acquisition)\b",
                        re.IGNORECASE)
_WHAT_ABOUT = re.compile(r"^\s*(?:and|what|how)\s+(?:about\s+)?(.+?)\??\s*$", re.IGNORECASE)


def names(text: str) -> list[str]:
    """Proper names in ``text``, in order, without question words or possessive endings."""
    found: dict[str, None] = {}
    for match in _NAME.finditer(text):
        words = []
        for word in match.group().rstrip(".").split():
            words.append(_POSSESSIVE.sub("", word))
            if word != words[-1]:
                break  # "Pando's Series B": the name ends at the possessive
        while words and words[0].lower().strip("'’") in _QUESTION_WORDS:
            words.pop(0)
        while words and words[-1].lower() in _QUESTION_WORDS:
            words.pop()
        name = " ".join(words)
        if name and not _ROUND.fullmatch(name) and len(name) > 1 and not name.isdigit():
            found.setdefault(name, None)
    return list(found)


_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
           "november", "december")
_MONTH_YEAR = re.compile(rf"\b({'|'.join(m[:3] for m in _MONTHS)})[a-z]*\.?\s+(20[0-3]\d|19[89]\d)\b", re.IGNORECASE)


def date_prefixes(text: str) -> list[str]:
    """The periods a question names, as date prefixes: "December 2020" -> "2020-12", "in 2019" -> "2019"."""
    found = [f"{year}-{[m[:3] for m in _MONTHS].index(month[:3].lower()) + 1:02d}"
             for month, year in _MONTH_YEAR.findall(text)]
    return found + [year for year in _YEAR.findall(text) if not any(f.startswith(year) for f in found)]


def comparison_names(question: str) -> list[str]:
    """The companies of a comparison question ("Which raised more, X or Y?"), else []."""
    found = names(question)
    return found if len(found) >= 2 and _COMPARE.search(question) else []


def entity_query(question: str, name: str, others: Sequence[str]) -> str:
    """The question asked about one company only: the other names taken out."""
    for other in others:
        if other != name:
            question = question.replace(other, " ")
    return re.sub(r"\s+", " ", question).strip()


def standalone_question(question: str, history: Sequence[dict[str, str]] | None) -> str:
    """Rewrite a follow-up using the conversation so it can be retrieved on its own.

    "Which state fund joined it?" after "How much did SenseTime raise?" becomes
    "Which state fund joined SenseTime?"; "What about Graphcore?" after "Who led Pando's
    Series B?" becomes "Who led Graphcore's Series B?". A question that names its own
    company, or has no earlier turn to lean on, is returned unchanged.
    """
    question = question.strip()
    previous = [turn["content"] for turn in (history or []) if turn.get("role") == "user" and turn.get("content")]
    if not previous:
        return question
    subject, subject_question = "", ""
    for earlier in reversed(previous):
        found = names(earlier)
        if found:
            subject, subject_question = found[0], earlier
            break
    if not subject:
        return question
    own = names(question)
    what_about = _WHAT_ABOUT.match(question)
    if own and what_about and len(question.split()) <= 6:
        # Ellipsis: the earlier question, asked about the new company.
        return subject_question.replace(subject, own[0])
    if own and not _PRONOUNS.search(question):
        return question
    rewritten = _ROUND_REF.sub(lambda m: f"{subject}'s {m.group().split()[-1]}", question)
    rewritten = _PRONOUNS.sub(lambda m: _pronoun(m.group(), subject), rewritten, count=1)
    if rewritten == question:
        rewritten = f"{question.rstrip('?').rstrip()} ({subject})?"
    return rewritten


def _pronoun(word: str, subject: str) -> str:
    return f"{subject}'s" if word.lower() in ("its", "their", "his", "her") else subject
