"""Parse ``[n]`` markers into citations and check each sentence against what it cites.

The rule (deterministic, cheap, documented in docs/citations.md):

1. The answer is split into sentences; each keeps the markers it ends with. Markers that
   point at no source are dropped.
2. A sentence's *facts* are its numbers (amounts are normalised: "$620 million", "$620M"
   and "620 million" are one value; years and counts are numbers too) and its names
   (capitalised words other than a few sentence-glue words).
3. A sentence is *supported* by a passage (or by all the passages it cites, taken together)
   when every number appears in it (bare numbers under 10 excepted) and at least
   half of its names do (names are matched case-insensitively as whole words). When the
   question asks for a specific relation (a valuation, an acquisition price, who led a
   round, how much was raised), at least one of the sentence's amounts (or, for "who led",
   one of its new names) must also sit in a sentence of the cited article that states that relation
   ("valued", "acquired", "led by", "raised"...): an earlier funding amount is not an
   acquisition price.
4. A supported sentence keeps its markers. An unsupported one is re-pointed at another
   retrieved passage that supports it, or at the passages that together hold its facts (a
   comparison drawing on two articles), when there are such; otherwise it is removed from the
   answer and listed in ``Answer.removed``. A sentence with no facts is kept as it is.
5. An answer with no supported, cited sentence left, or whose supported sentences all
   decline ("the price was not disclosed [1]"), is an abstention.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from .documents import Citation, Passage
from .query import names as question_names
from .text import split_sentences

_MARKER = re.compile(r"\s*\[(\d+(?:\s*[,;]\s*\d+)*)\]")
_SCALE = {"thousand": 1e3, "k": 1e3, "million": 1e6, "mn": 1e6, "m": 1e6, "mm": 1e6, "billion": 1e9, "bn": 1e9,
          "b": 1e9, "trillion": 1e12, "tn": 1e12, "t": 1e12}
_NUMBER = re.compile(
    r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)(?:\s*(thousand|million|billion|trillion|mn|bn|tn|mm|[kmbt])\b)?",
    re.IGNORECASE)
_CAPITALISED = re.compile(r"\b[A-Z][\w&'’.-]*[A-Za-z0-9]|\b[a-z]+[A-Z]\w*")
_GLUE = {
    "the", "a", "an", "it", "its", "this", "that", "these", "those", "they", "their", "he", "she", "in", "on",
    "at", "as", "for", "by", "of", "to", "and", "but", "or", "yes", "no", "however", "according", "also",
    "additionally", "both", "each", "meanwhile", "while", "although", "moreover", "furthermore", "overall",
    "together", "among", "based", "source", "sources", "article", "articles", "answer", "series", "round",
    "seed", "ceo", "cto", "cfo", "founder", "co-founder", "inc", "ltd", "corp", "co", "llc", "group",
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
    "november", "december", "ai", "ipo", "us", "u.s", "usd", "i", "we", "there", "then", "so", "with",
    "after", "before", "since", "until", "when", "which", "who", "what", "where", "how", "why", "not",
}
_DECLINE = re.compile(
    r"\b(don'?t|do not|does not|doesn'?t|did not|didn'?t|cannot|can'?t|unable to)\b.{0,40}"
    r"\b(say|know|mention|state|specify|provide|contain|disclose|include|determine|find|answer|report)"
    r"|\bno (information|mention|details?|data)\b|\bnot (mentioned|specified|stated|disclosed|provided|available|"
    r"reported|given|known)\b|\bunknown\b|\bundisclosed\b|\bwithout disclosing\b",
    re.IGNORECASE)


# (what the question asks, words a source sentence must use to state it, which facts to check)
_ASPECTS = (
    (re.compile(r"\bvaluation|\bvalued\b|\bworth\b", re.I), re.compile(r"valu|worth", re.I), "amount"),
    (re.compile(r"\b(pay|paid|price|sold for|sell for|purchase)\b", re.I),
     re.compile(r"acqui|bought|\bbuy|purchas|\bpaid|\bpay|price|\bdeal\b|\bsold\b|\bsale\b", re.I), "amount"),
    # "Led" must be said of a round: "X, who previously led Adobe's ..." names no lead investor.
    (re.compile(r"\b(led|lead|co-led)\b", re.I),
     re.compile(r"\b(led|lead\w*|co-led|spearhead\w*)\b.*\b(round|series|funding|financing|investment|raise)"
                r"|\b(round|series|funding|financing|investment|raise)\b.*\b(led|lead\w*|co-led)\b", re.I), "name"),
    (re.compile(r"\brevenue|\bsales\b|\bincome\b|\bprofit|\bearn", re.I),
     re.compile(r"revenue|sales|income|profit|earn", re.I), "amount"),
    (re.compile(r"\bhow much\b.*\b(rais\w*|fund\w*|secur\w*|land\w*|get|got|bring)\b", re.I),
     re.compile(r"rais|fund|round|secur|land|nab|invest|capital|financ|series|seed|bag|clos", re.I), "amount"),
)


@dataclass(frozen=True)
class Asked:
    """What the question brings: its own names and numbers (an answer may echo them), and the
    relation a source sentence must state for the answer's facts."""

    names: frozenset[str] = frozenset()
    numbers: frozenset[float] = frozenset()
    cue: re.Pattern[str] | None = None
    facts: str = ""  # "amount" or "name": which facts the cue must accompany
    article_text: Callable[[str], str] | None = None  # the whole article, where the relation may be stated


def asked_by(question: str, article_text: Callable[[str], str] | None = None) -> Asked:
    cue, facts = next(((cue, facts) for asks, cue, facts in _ASPECTS if asks.search(question)), (None, ""))
    return Asked(frozenset(n.lower() for n in question_names(question)), frozenset(numbers(question)), cue, facts,
                 article_text)


@dataclass(frozen=True)
class Checked:
    """The verified answer."""

    text: str
    citations: list[Citation]
    removed: list[str]
    declined: bool


def numbers(text: str) -> set[float]:
    """Every number in ``text`` as a value: "$4.5 billion" -> 4.5e9, "2,000" -> 2000."""
    values = set()
    for match in _NUMBER.finditer(text):
        value = float(match.group(1).replace(",", ""))
        scale = (match.group(2) or "").lower()
        values.add(round(value * _SCALE.get(scale, 1.0), 6))
    return values


def names(text: str) -> set[str]:
    found = set()
    for word in _CAPITALISED.findall(text):
        word = re.sub(r"['’]s$", "", word).rstrip(".")
        if word.lower() not in _GLUE and len(word) > 1:
            found.add(word)
    return found


def is_decline(text: str) -> bool:
    """Whether a reply says the sources don't hold the answer."""
    return bool(_DECLINE.search(text))


def supports(sentence: str, passage: Passage, asked: Asked = Asked()) -> bool:
    """Rule 3: every number, and at least half of the names, appear in the passage; and the
    article states the relation the question asks about for one of the sentence's facts."""
    source = f"{passage.title} ({passage.date})\n{passage.text}"  # the prompt shows the date too
    # Bare numbers under 10 are mostly labels and ordinals ("Fund 1", "3 years"), not facts at stake;
    # numbers from the question ("its 2023 round") may be echoed.
    if not {v for v in numbers(sentence) if v >= 10} - asked.numbers <= numbers(source):
        return False
    wanted = names(sentence)
    lowered = source.lower()
    present = sum(1 for n in wanted if _has_word(lowered, n.lower()))
    if present * 2 < len(wanted):
        return False
    return asked.cue is None or _states_relation(sentence, passage, asked)


def _covering(sentence: str, passages: Sequence[Passage], asked: Asked) -> list[int]:
    """The passages that together support a sentence combining facts from several sources
    ("X raised $270 million, while Y raised $155 million"); [] when they don't."""
    amounts = {v for v in numbers(sentence) if v >= 10}
    wanted = {n.lower() for n in names(sentence)}

    def contributes(p: Passage) -> bool:
        if amounts:
            return bool(amounts & numbers(f"{p.title} ({p.date})\n{p.text}"))
        return any(_has_word(f"{p.title} {p.text}".lower(), w) for w in wanted)

    chosen, articles = [], set()
    for n, p in enumerate(passages, 1):
        if contributes(p) and p.article_id not in articles:  # one passage per article is enough
            chosen.append(n)
            articles.add(p.article_id)
    if len(chosen) > 1 and supports(sentence, _merged([passages[n - 1] for n in chosen]), asked):
        return chosen
    return []


def _merged(passages: list[Passage]) -> Passage:
    return replace(passages[0], title=" / ".join(p.title for p in passages),
                   text="\n".join(p.text for p in passages))


def _names_any(text: str, wanted: frozenset[str]) -> bool:
    lowered = text.lower()
    return any(_has_word(lowered, name) for name in wanted)


def _has_word(lowered: str, word: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(word)}(?!\w)", lowered) is not None


def _states_relation(sentence: str, passage: Passage, asked: Asked) -> bool:
    assert asked.cue is not None
    text = passage.text + ("\n" + asked.article_text(passage.article_id) if asked.article_text else "")
    cue_sentences = [text[s:e] for s, e in split_sentences(text)] + [passage.title]
    cue_sentences = [s for s in cue_sentences if asked.cue.search(s)]
    if asked.facts == "amount":
        amounts = {v for v in numbers(sentence) if v >= 1e5}
        if not amounts:
            return True  # nothing to pin down (e.g. "terms were not disclosed")
        if asked.names and not _names_any(passage.title, asked.names):
            # In an article about another company, the amount must be stated of the one asked
            # about: "CrowdStrike ... at a $3 billion valuation" is no answer about Cylance.
            cue_sentences = [s for s in cue_sentences if _names_any(s, asked.names)]
        return any(amounts & numbers(s) for s in cue_sentences)
    new_names = {n.lower() for n in names(sentence)} - asked.names
    if not new_names:
        return True
    return any(_has_word(s.lower(), n) for s in cue_sentences for n in new_names)


def has_facts(sentence: str) -> bool:
    return bool(numbers(sentence) or names(sentence))


def check_answer(raw: str, passages: Sequence[Passage], question: str = "",
                 article_text: Callable[[str], str] | None = None) -> Checked:
    """Apply the rule above to the model's reply; number citations in order of first use.

    ``article_text`` gives an article's whole text by id: the relation the question asks
    about may be stated outside the trimmed passage the model saw.
    """
    asked = asked_by(question, article_text)
    sentences = _sentences_with_markers(raw)
    kept: list[tuple[str, list[int]]] = []
    removed: list[str] = []
    for sentence, markers in sentences:
        valid = [m for m in markers if 1 <= m <= len(passages)]
        if not has_facts(sentence):
            kept.append((sentence, valid))
            continue
        good = [m for m in valid if supports(sentence, passages[m - 1], asked)]
        if not good and len(valid) > 1 and supports(sentence, _merged([passages[m - 1] for m in valid]), asked):
            good = valid  # facts drawn from several cited sources together
        if not good:
            good = [n for n, p in enumerate(passages, 1) if supports(sentence, p, asked)][:1]
        if not good:
            good = _covering(sentence, passages, asked)
        if good:
            kept.append((sentence, good))
        else:
            removed.append(sentence)

    # Renumber: the first source cited becomes [1], and so on.
    order: dict[int, int] = {}
    for _, markers in kept:
        for m in markers:
            order.setdefault(m, len(order) + 1)
    parts, supported_by = [], {m: [] for m in order}
    for sentence, markers in kept:
        tags = "".join(f"[{order[m]}]" for m in dict.fromkeys(markers))
        parts.append(_with_tags(sentence, tags))
        for m in markers:
            supported_by[m].append(sentence)
    citations = [_citation(order[m], passages[m - 1], tuple(supported_by[m])) for m in order]
    text = " ".join(parts).strip()
    declined = not any(markers and has_facts(s) and not is_decline(s) for s, markers in kept)
    return Checked(text=text, citations=citations, removed=removed, declined=declined)


def _with_tags(sentence: str, tags: str) -> str:
    """Markers go before the closing punctuation: "... $620 million [1]."."""
    if not tags:
        return sentence
    body = sentence.rstrip(".!?")
    return f"{body} {tags}{sentence[len(body):]}"


def _sentences_with_markers(raw: str) -> list[tuple[str, list[int]]]:
    """Sentences with the source numbers in their markers; markers are removed from the text."""
    raw = raw.strip()
    out = []
    for start, end in split_sentences(raw):
        piece = raw[start:end]
        markers = [int(n) for group in _MARKER.findall(piece) for n in re.split(r"\s*[,;]\s*", group)]
        sentence = _MARKER.sub("", piece).strip()
        sentence = re.sub(r"\s+([.,;:!?])", r"\1", sentence)
        if sentence in {".", ""}:
            if out and markers:  # markers after the full stop belong to the sentence before
                out[-1][1].extend(markers)
            continue
        out.append((sentence, markers))
    return out


def _citation(n: int, passage: Passage, sentences: tuple[str, ...]) -> Citation:
    return Citation(n=n, article_id=passage.article_id, title=passage.title, date=passage.date, url=passage.url,
                    source=passage.source,
                    passage=passage.text, start=passage.start, end=passage.end, score=passage.score,
                    sentences=sentences)
