"""Text analysis shared by the store, retrieval, prompting, verification and the UI.

One tokenizer, one stemmer and one sentence splitter, so the keyword index and every
in-Python term count agree: the index stores stemmed tokens (``index_text``) and questions
are reduced to the same stems (``key_terms``), so "raise" finds "raised" and "raising".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer

STOPWORDS = frozenset(
    "a an and are as at be by did do does for from had has have how in is it its of on or that the "
    "their them they this to was were what when where which who whom whose why will with would "
    "about after also any been before but can could into more most much many other over same "
    "than then there these those through under up we you your our us me my i s "
    "tell give show please whats who's what's get got".split()
)

_AMOUNT = re.compile(r"(\d)\s*([mb])(?:n)?\b", re.IGNORECASE)
_TOKEN = re.compile(r"\w+")
MARKERS = re.compile(r"\[\s*\d+(?:\s*[,;]\s*\d+)*\s*\]")  # citation markers: "[1]", "[2, 3]"
_STEMMER = snowballstemmer.stemmer("english")


def keyword_text(text: str) -> str:
    """Amount shorthands spelled out: "$30M" and "$30 million" both read "30 million"."""
    return _AMOUNT.sub(lambda m: f"{m.group(1)} {'million' if m.group(2).lower() == 'm' else 'billion'}", text)


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """The Snowball (Porter2) stem of a lower-case word, accents dropped as the index drops them:
    "raised" -> "rais", "investors" -> "investor", "reykjavík" -> "reykjavik"."""
    if not word.isascii():
        word = "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))
    return _STEMMER.stemWord(word) if word.isalpha() else word


def tokens(text: str) -> list[str]:
    """Lower-case word tokens, amounts spelled out."""
    return _TOKEN.findall(keyword_text(text).lower())


def key_terms(text: str) -> list[str]:
    """The distinctive stemmed terms of ``text``, stopwords dropped, order kept, no repeats."""
    seen: dict[str, None] = {}
    for word in tokens(text):
        if word in STOPWORDS or (len(word) < 2 and not word.isdigit()):
            continue
        seen.setdefault(stem(word), None)
    return list(seen)


def index_text(text: str) -> str:
    """``text`` as the keyword index stores it: every token stemmed, separated by spaces."""
    return " ".join(stem(word) for word in tokens(text))


def stems(text: str) -> set[str]:
    """The stems of every token of ``text``, stopwords included (to look terms up in)."""
    return {stem(word) for word in tokens(text)}


def count_terms(wanted: list[str], text: str) -> int:
    """How many of ``wanted`` (from ``key_terms``) occur in ``text``."""
    present = stems(text)
    return sum(1 for term in wanted if term in present)


_ABBREVIATIONS = {
    "inc", "ltd", "co", "corp", "mr", "mrs", "ms", "dr", "st", "jr", "sr", "vs", "u.s", "u.k", "e.g",
    "i.e", "no", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
    "etc", "approx", "est", "gov", "prof", "gen", "rep", "sen", "pte", "plc", "bros", "mt", "ft",
}
# Words that start sentences, not names: after "U.S." or "Series A." they mean a new sentence.
_OPENERS = STOPWORDS | {"he", "she", "we", "but", "however", "meanwhile", "still", "yet", "so", "while",
                        "according", "last", "earlier", "later", "today", "now", "since", "although"}
# A sentence ends at . ! ? (optionally followed by a closing quote or bracket) before a space and
# a capital, digit or opening quote; or at a line break.
_BOUNDARY = re.compile(r"(?<=[.!?])[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9$])|\n+")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Return ``(start, end)`` offsets of the sentences of ``text``.

    A full stop after an abbreviation or an initial ("Inc.", "U.S.", "John D. Rockefeller")
    ends the sentence only when the next word opens a sentence ("...the U.S. It raised"). A
    round's letter is no initial: "...a Series B. Acme had raised" is two sentences.
    """
    spans, start = [], 0
    for match in _BOUNDARY.finditer(text):
        if match.group().strip() == "" and "\n" not in match.group() and _ambiguous_stop(text, start, match):
            following = _TOKEN.match(text, match.end() + (text[match.end()] in "\"'“‘([" if match.end() < len(text)
                                                         else 0))
            if not following or following.group().lower() not in _OPENERS:
                continue
        end = match.start()
        if text[start:end].strip():
            spans.append((start, end))
        start = match.end()
    if text[start:].strip():
        spans.append((start, len(text)))
    return [_strip(text, s, e) for s, e in spans]


def _ambiguous_stop(text: str, start: int, match: re.Match[str]) -> bool:
    before = text[start:match.start()].rsplit(None, 1)
    if before and before[-1].rstrip(".").lower() in _ABBREVIATIONS:
        return True
    if re.search(r"\b(?:series|class|round|tier)\s+[A-Z]\.$", text[max(start, match.start() - 10):match.start()],
                 re.IGNORECASE):
        return False  # "a Series B. Acme had raised": a round's letter, not an initial
    return re.search(r"\b[A-Z]\.$", text[max(start, match.start() - 3):match.start()]) is not None


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


# -- money ------------------------------------------------------------------------------------

SCALE = {"thousand": 1e3, "k": 1e3, "million": 1e6, "mn": 1e6, "m": 1e6, "mm": 1e6, "billion": 1e9, "bn": 1e9,
         "b": 1e9, "trillion": 1e12, "tn": 1e12, "t": 1e12}
_SIGNS = {"$": "USD", "us$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR", "usd": "USD", "eur": "EUR",
          "gbp": "GBP", "dollars": "USD", "euros": "EUR", "pounds": "GBP", "yuan": "CNY", "rmb": "CNY", "yen": "JPY",
          "rupees": "INR", "cad": "CAD", "c$": "CAD", "a$": "AUD", "aud": "AUD", "s$": "SGD", "sgd": "SGD"}
_RANGE_FROM = re.compile(r"[$€£¥₹]\d[\d.,]*\s*(?:-|–|to)\s*$")  # "$34-" of "$34-40 million"
_MONEY = re.compile(
    r"(?:(?P<sign>US\$|[CAS]\$|[$€£¥₹]|\b(?:USD|EUR|GBP|CAD|AUD|SGD)\s?)\s?)?"
    r"(?<![\w.,])(?P<number>\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)\s*"
    r"(?P<scale>thousand|million|billion|trillion|mn|bn|mm|[kmb])?\b"
    r"(?:\s+(?P<word>dollars|euros|pounds|yuan|RMB|yen|rupees|USD|EUR|GBP)\b)?", re.IGNORECASE)


@dataclass(frozen=True)
class Money:
    """An amount of money as written: "$600 Million" at ``start:end`` is 6e8 USD."""

    value: float
    currency: str
    text: str
    start: int
    end: int
    # With a currency, not a scale alone: "$530 billion", "$34-40 million"; not "Megatron 530B", "10 million users".
    has_currency: bool = True



def money(text: str, minimum: float = 1e4) -> list[Money]:
    """The amounts of money in ``text``: a currency (sign or word) or a scale is required, so
    "2,000 employees" is not money."""
    found = []
    for match in _MONEY.finditer(text):
        sign, scale, word = match.group("sign"), (match.group("scale") or "").lower(), match.group("word")
        if not (sign or word or scale):
            continue
        value = float(match.group("number").replace(",", "")) * SCALE.get(scale, 1.0)
        if value < minimum:
            continue
        currency = _SIGNS.get((sign or word or "$").strip().lower(), "USD")
        found.append(Money(round(value, 6), currency, match.group().strip(), match.start(), match.start()
                           + len(match.group().rstrip()),
                           bool(sign or word or _RANGE_FROM.search(text[max(0, match.start() - 12):match.start()]))))
    return found


def amounts_in(text: str) -> list[tuple[float, str]]:
    """Amounts of at least 100,000 in ``text`` with how they are written: [(6e8, "$600 million")]."""
    return [(m.value, m.text) for m in money(text, minimum=1e5)]


def format_amount(value: float, like: str = "") -> str:
    """``value`` written like ``like`` (its currency sign): 4.8e8 -> "$480 million"."""
    sign = like[0] if like[:1] in "$€£¥" and like else ""
    for scale, word in ((1e12, "trillion"), (1e9, "billion"), (1e6, "million")):
        if value >= scale:
            return f"{sign}{value / scale:.3g} {word}"
    return f"{sign}{value:,.0f}"


# -- the facts of a sentence: its numbers and names -------------------------------------------

_NUMBER = re.compile(
    r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)(?:(?:\s*|-(?=[mbt]illion|thousand))"  # ("a 12-billion parameter")
    r"(thousand|million|billion|trillion|mn|bn|tn|mm|[kmbt])\b)?",
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


def numbers(text: str) -> set[float]:
    """Every number in ``text`` as a value: "$4.5 billion" -> 4.5e9, "2,000" -> 2000."""
    return {_value(match) for match in _NUMBER.finditer(text)}


def _value(match: re.Match[str]) -> float:
    """The value of a ``_NUMBER`` match (or of a pattern starting with it): digits times scale."""
    return round(float(match.group(1).replace(",", "")) * SCALE.get((match.group(2) or "").lower(), 1.0), 6)


# From two: "one" is mostly a pronoun ("one of its investors").
_WORD_NUMBERS = {w: float(n) for n, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split()) if n >= 2}


def spelled_numbers(text: str) -> set[float]:
    """Numbers written as words: "a five-year deal" -> {5.0}."""
    return {_WORD_NUMBERS[w] for w in re.findall(r"[a-z]+", text.lower()) if w in _WORD_NUMBERS}


def names(text: str) -> set[str]:
    """The capitalised words of ``text`` other than sentence glue: a sentence's names."""
    found = set()
    for word in _CAPITALISED.findall(text):
        word = re.sub(r"['’]s$", "", word).rstrip(".")
        if word.lower() not in _GLUE and len(word) > 1:
            found.add(word)
    return found


_COUNT = re.compile(rf"{_NUMBER.pattern}|\b({'|'.join(_WORD_NUMBERS)})\b", re.IGNORECASE)


def counts(text: str) -> Iterator[tuple[float, int]]:
    """Each number of ``text``, in digits or a spelled word from "two" to "twenty", with where it ends."""
    for match in _COUNT.finditer(text):
        word = match.group(3)
        yield (_WORD_NUMBERS[word.lower()] if word else _value(match)), match.end()
