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
   question asks for an amount, at least one of the sentence's large amounts must also be
   stated in the cited article of the entity asked about (in a sentence naming it, unless the
   article's title does) and, for a valuation, a price or revenue, in a sentence using that
   relation's words ("valued", "acquired", "revenue"): an earlier funding amount is not an
   acquisition price. For "how many X?", one of its numbers must be written in the cited
   article as a count of X ("120 engineers"): "10 countries" is no count of employees. Other
   questions ("who led the team?") need only rule 3's support.
4. A supported sentence keeps its markers. An unsupported one is re-pointed at another
   retrieved passage that supports it, or at the passages that together hold its facts (a
   comparison drawing on two articles), when there are such; otherwise it is removed from the
   answer and listed in ``Answer.removed``. A sentence with no facts is kept as it is.
5. An answer with no supported, cited sentence left, or whose supported sentences all
   decline ("the price was not disclosed [1]") or only restate the question (``adds_facts``),
   is an abstention.

Each citation also records which of its passage's sentences (and whether its title) state the
facts of the sentences it supports (``Citation.support``): the web page highlights exactly those.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

from .asked import AMOUNT_RELATIONS, ANY, NOTHING_ASKED, Asked, asked_by
from .documents import Citation, Passage
from .query import Question
from .text import (
    amounts_in,
    counts,
    key_terms,
    money,
    names,
    numbers,
    spelled_numbers,
    split_sentences,
    stem,
    tokens,
)

_MARKER = re.compile(r"\s*\[(\d+(?:\s*[,;]\s*\d+)*)\]")
_DECLINE = re.compile(
    r"\b(don'?t|do not|does not|doesn'?t|did not|didn'?t|cannot|can'?t|unable to)\b.{0,40}"
    r"\b(say|know|mention|state|specify|provide|contain|disclose|include|determine|find|answer|report)"
    r"|\bno (information|mention|details?|data)\b|\bnot (mentioned|specified|stated|disclosed|provided|available|"
    r"reported|given|known)\b|\bunknown\b|\bundisclosed\b|\bwithout disclosing\b",
    re.IGNORECASE)


# Words a reply uses about its sources rather than about the answer ("the article mentions ...").
_REPLY_TERMS = frozenset(key_terms(
    "article articles source sources passage text mention mentions mentioned state states stated say says said "
    "report reports reported information detail details provide provided specify specified answer question"))
# (Not "may", which is mostly the verb.)
_MONTH_TERMS = frozenset(key_terms("january february march april june july august september october november "
                                   "december"))


@dataclass(frozen=True)
class Checked:
    """The verified answer."""

    text: str
    citations: list[Citation]
    removed: list[str]
    declined: bool


def conflicting_figures(checked: Checked, question: Question, article_text: Callable[[str], str]) -> Checked:
    """Say so when a cited article also gives a different figure for the answer's amount (the
    seed's $600 million body against its $620 million headline), citing it too."""
    given = amounts_in(checked.text)[:1]  # the answer's own figure, not the others it mentions
    if not given:
        return checked
    asked = asked_by(question)
    cue = asked.cue or ANY
    extra: list[tuple[float, str, int]] = []  # value, as written, citation
    for citation in checked.citations:
        text = f"{citation.title}\n{article_text(citation.article_id) or citation.passage}"
        for s, e in split_sentences(text):
            sentence = text[s:e]
            if not cue.search(sentence) or (asked.names and not _names_any(sentence, asked.names)
                                             and not _names_any(citation.title, asked.names)):
                continue
            for value, written in amounts_in(sentence):
                close = [v for v, _ in given if v != value and max(v, value) <= 1.5 * min(v, value)]
                if close and all(value != v for v, _, _ in extra):
                    extra.append((value, written, citation.n))
    if not extra:
        return checked
    figures = "; ".join(f"{written} [{n}]" for _, written, n in extra)
    return replace(checked, text=f"{checked.text} The articles also give a different figure: {figures}.")


_article_numbers = lru_cache(maxsize=32)(numbers)


def is_decline(text: str) -> bool:
    """Whether a reply says the sources don't hold the answer."""
    return bool(_DECLINE.search(text))


def supports(sentence: str, passage: Passage, asked: Asked = NOTHING_ASKED) -> bool:
    """Rule 3: every number, and at least half of the names, appear in the passage; and the
    article states the relation the question asks about for one of the sentence's facts."""
    source = f"{passage.title} ({passage.date})\n{passage.text}"  # the prompt shows the date too
    # Bare numbers under 10 are mostly labels and ordinals ("Fund 1", "3 years"), not facts at stake;
    # numbers from the question ("its 2023 round") may be echoed, its sums of money only when the
    # article states them ("did it raise $9 billion?" is no source for "it raised $9 billion").
    missing = {v for v in numbers(sentence) if v >= 10} - (asked.numbers - asked.amounts) - numbers(source)
    if missing and missing <= asked.amounts and asked.article_text:
        missing -= _article_numbers(asked.article_text(passage.article_id) or "")
    if missing:
        return False
    wanted = names(sentence)
    lowered = source.lower()
    present = sum(1 for n in wanted if _has_word(lowered, n.lower()))
    if present * 2 < len(wanted):
        return False
    return (asked.cue is None or _states_relation(sentence, passage, asked)) and _states_count(sentence, passage, asked)


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
    """An answer's amount must be stated, in the cited article, of what was asked: in a sentence
    using the relation's words and the question's terms and, unless the article is about it,
    naming the entity asked about. For a "who" question, one of the answer's new names must sit in
    a sentence that uses the question's terms or names the entity asked about."""
    assert asked.cue is not None
    text = passage.text + ("\n" + asked.article_text(passage.article_id) if asked.article_text else "")
    stated = [text[s:e] for s, e in split_sentences(text)] + [passage.title]
    if asked.facts == "name":
        # One of the answer's new names sits in a sentence about what was asked: "who led the
        # Series B?" is not answered by the investors who "also participated".
        new = {n.lower() for n in names(sentence)} - asked.names - asked.words
        if not new or not asked.terms:
            return True
        about = [s.lower() for s in stated if _shares_term(asked.terms, s) or _names_any(s, asked.names)]
        return any(_has_word(s, n) for s in about for n in new)
    amounts = {v for v in numbers(sentence) if v >= 10} - asked.numbers
    # Its sums of money when it has any: "Founded in 2019, Neeva raised $77.5 million" pins down the
    # $77.5 million, not the year.
    amounts = {v for v, _ in amounts_in(sentence)} - asked.numbers or amounts
    if not amounts:
        return True  # nothing to pin down (e.g. "terms were not disclosed")
    stated = [s for s in stated if asked.cue.search(s)]
    if asked.terms:
        # ... and about what was asked: "Intrinsic has 10 employees" needs a sentence about employees.
        stated = [s for s in stated if _shares_term(asked.terms, s)]
    if asked.names and not _names_any(passage.title, asked.names):
        # In an article about another company, the amount must be stated of the one asked
        # about: "CrowdStrike ... at a $3 billion valuation" is no answer about Cylance. In an
        # article whose first sentence names it, a sentence naming nobody else before its figures
        # is about it too: "the bot bested 15 human professionals, such as Chris Ferguson" is
        # Pluribus; "TuSimple raised $1 billion" is not Kodiak.
        about = _names_any(_lead(passage, asked), asked.names)
        stated = [s for s in stated if _names_any(s, asked.names) or about and not {
            n.lower() for n in names(re.split(r"\d", s, maxsplit=1)[0])} - asked.names - asked.words]
    return any(value in numbers(s) and (asked.cue is ANY or _relation_near(s, value) in (None, asked.cue))
               for s in stated for value in amounts)


def _relation_near(sentence: str, value: float) -> re.Pattern[str] | None:
    """The cue of the relation whose word stands nearest the amount ``value`` in ``sentence``, within
    four words either side: "Neeva raised $77.5 million in funding prior to being acquired" states
    a funding amount, not a price; "raised $100 million at a $1 billion valuation", a valuation."""
    for found in money(sentence, minimum=1.0):
        if found.value != value:
            continue
        before = re.findall(r"[\w’'-]+", sentence[:found.start])[::-1][:4]
        after = re.findall(r"[\w’'-]+", sentence[found.end:])[:4]
        for distance in range(4):
            for word in (before[distance:distance + 1] + after[distance:distance + 1]):
                if word.lower() == "worth":
                    continue  # ("a deal worth $550 million" is a price, "a company worth $1 billion" a value)
                cue = next((cue for _, cue in AMOUNT_RELATIONS if cue.search(word)), None)
                if cue is not None:
                    return cue
    return None


def _lead(passage: Passage, asked: Asked) -> str:
    """The first sentence of the passage's article."""
    text = asked.article_text(passage.article_id) if asked.article_text else ""
    text = text or (passage.text if passage.start == 0 else "")
    first = split_sentences(text)[:1]
    return text[first[0][0]:first[0][1]] if first else ""


def _states_count(sentence: str, passage: Passage, asked: Asked) -> bool:
    """For "how many X?", one of the answer's numbers is written, in the cited article, as a count
    of X: followed within four words by one of X's words. "10 countries" is no answer to "how many
    employees?"; "100 driverless cars" answers "how many cars?"."""
    given = (numbers(sentence) | spelled_numbers(sentence)) - asked.numbers
    if not asked.counted or not given:
        return True
    text = f"{passage.title}\n{passage.text}" + ("\n" + asked.article_text(passage.article_id)
                                                if asked.article_text else "")
    for value, end in counts(text):
        if value in given:
            following = tokens(text[end:end + 80])[:4]
            if any(stem(word)[:5] in asked.counted for word in following):
                return True
    return False


def _shares_term(terms: frozenset[str], sentence: str) -> bool:
    """Whether the sentence uses one of the question's terms, by their first five letters, so
    that "investors" meets "investment" and "employees" meets "employed"."""
    prefixes = {t[:5] for t in terms}
    return any(stem(word)[:5] in prefixes for word in tokens(sentence))


def has_facts(sentence: str) -> bool:
    return bool(numbers(sentence) or names(sentence))


def adds_facts(sentence: str, asked: Asked, sources: Sequence[str] = ()) -> bool:
    """Whether a sentence tells more than the question did: a number or a name the question did
    not bring, a month, or words of its sources the question did not use. "Apple gave the 200
    employees severance [1]" only restates its question; "the deal runs five years [1]" tells a
    number (bare digits under 10 are mostly labels, as in "GPT-3"), and "Bezos became executive
    chair [1]" a role (two new words, both in the cited passage, so the model did not make them up)."""
    new_numbers = ({v for v in numbers(sentence) if v >= 10} | spelled_numbers(sentence)) - asked.numbers
    new_names = {n.lower() for n in names(sentence)} - asked.names - asked.words
    if new_numbers or new_names:
        return True
    said = {stem(w) for w in asked.words}
    source = set(key_terms(" ".join(sources)))
    new_terms = {t for t in key_terms(sentence) if t not in said and t in source} - _REPLY_TERMS
    return len(new_terms) >= 2 or bool(new_terms & _MONTH_TERMS)


def check_answer(raw: str, passages: Sequence[Passage], question: Question | str = "",
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
    # Only sentences that tell something new answer; for a yes/no question a restatement does.
    answers = [s for s, markers in kept if markers and not is_decline(s)
               and (adds_facts(s, asked, [f"{passages[m - 1].title}\n{passages[m - 1].text}" for m in markers])
                    or asked.yes_no and has_facts(s))]
    declined = not answers
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
    support, title_supports = supporting_sentences(passage, sentences)
    return Citation(n=n, article_id=passage.article_id, title=passage.title, date=passage.date, url=passage.url,
                    source=passage.source,
                    passage=passage.text, start=passage.start, end=passage.end, score=passage.score,
                    sentences=sentences, support=support, title_supports=title_supports)


def supporting_sentences(passage: Passage, sentences: Sequence[str]) -> tuple[tuple[tuple[int, int], ...], bool]:
    """Where ``passage`` states the facts (rule 2) of the answer sentences it supports.

    For each answer sentence, the passage sentence (or the title) stating most of its facts
    not yet accounted for is chosen, then the next, until none adds one: an answer sentence may
    combine two sentences of the passage. Returns the chosen sentences' ``(start, end)`` offsets
    into ``passage.text`` (from ``split_sentences``), in order, and whether the title was chosen.
    """
    spans = split_sentences(passage.text)
    candidates = [passage.text[s:e] for s, e in spans] + [passage.title]  # on a tie, a passage sentence
    chosen: set[int] = set()
    for sentence in sentences:
        remaining = {("number", v) for v in numbers(sentence) if v >= 10} | {
            ("name", n.lower()) for n in names(sentence)}
        held = [_facts_held(remaining, candidate) for candidate in candidates]
        while remaining:
            gains = [len(remaining & facts) for facts in held]
            best = max(range(len(gains)), key=gains.__getitem__)
            if not gains[best]:
                break
            chosen.add(best)
            remaining -= held[best]
    return tuple(spans[i] for i in sorted(chosen) if i < len(spans)), len(spans) in chosen


def _facts_held(facts: set[tuple[str, object]], text: str) -> set[tuple[str, object]]:
    """The facts of ``facts`` that ``text`` states, matched as ``supports`` matches them."""
    values, lowered = numbers(text), text.lower()
    return {(kind, fact) for kind, fact in facts
            if (fact in values if kind == "number" else _has_word(lowered, str(fact)))}
