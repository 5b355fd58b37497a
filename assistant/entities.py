"""The entity lexicon: the names the articles themselves use, found at ingest, matched at question time.

Edited news capitalises names reliably, so the article side is where case helps: a name is a
run of capitalised or mixed-case words that appears away from the start of a sentence (so
"Roughly" and "During" never qualify) outside headline-like lines. Across the corpus, a
one-word name stays in the lexicon only when the corpus mostly writes that word as a name
("Apple", not "Company" or "Founded"). Questions are then matched against the lexicon
case-insensitively, with typo tolerance, and never by their own capital letters:
"sensetime", "SenseTmie" and "SenseTime" all find SenseTime, and a question word is a name
only if the corpus knows it as one.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from rapidfuzz import process
from rapidfuzz.distance import OSA

from .event_patterns import COLLECTIVE, INITIAL, MONTHS
from .text import STOPWORDS, split_sentences, stem

# A capitalised, mixed-case or digit-led word: "SenseTime", "Suning.com", "Run:AI", "eBay", "AI21", "C3.ai", "6D.ai",
# "21st Century Fox" (not a lone "18th", nor the "392M" of "$392M").
_WORD = (rf"(?:{INITIAL}|[A-Z](?:[\w.&'’-]|:(?=[A-Z]))*[\w]|[A-Z]|[a-z]+[A-Z][\w.]*"
         rf"|(?!\d+(?:st|nd|rd|th)\b(?! [A-Z]))\d+[A-Za-z](?:[\w.]*\w)?)")
# A run of them, which a possessive ends: "Google's PaLM" is two names.
_RUN = re.compile(rf"(?<![\w.$€£]){_WORD}(?:(?<!['’]s)[ ](?:{COLLECTIVE}|{_WORD}|of|de|&)(?=[ ,.;:!?'’)\]]|$))*")
_POSSESSIVE = re.compile(r"['’]s?$")  # "Pando's", "Databricks'"
_ADJECTIVE = re.compile(r"-(?:based|powered|made|led|backed|owned|driven|focused|first|like|style|born|founded|"
                        r"funded|related|specific|enabled|native|centric|friendly|ready|level|scale|wide)$", re.I)
# "SenseTime", "AI21", "Suning.com", "IBM", an initial ("T.").
_NAME_SHAPE = re.compile(r"[a-z][A-Z]|\d|\.[a-z]|^[A-Z]{2,}$|^(?:[A-Z]\.)+$")
# Corporate suffixes: "SenseTime Group Ltd" is also known as "SenseTime".
_SUFFIXES = {"inc", "ltd", "llc", "corp", "corporation", "co", "group", "holdings", "holding", "plc", "pte",
             "limited", "gmbh", "sa", "ag"}
_DAYS = {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}
# Words that open sentences or count things, never names on their own or at a name's edge.
_FUNCTION = set("""if so as because while although though once since unless until after before when whenever
where here there now today yesterday tomorrow then thus also even just only still yet but nor not no yes
one two three four five six seven eight nine ten first second third last next new other another each every
all some many most more less few several both either neither such per via like unlike instead meanwhile
however moreover furthermore additionally indeed perhaps maybe already again above below inside outside
mr ms mrs dr series round ceo cto cfo coo vp million billion thousand trillion percent""".split())
_NOT_NAMES = STOPWORDS | set(MONTHS) | _DAYS | _FUNCTION
_DESCRIBED_AFTER = re.compile(r",\s+(?:a|an)\s+(?:[\w.'’-]+\s+){0,5}?(?:startup|company|firm|maker|provider|developer|"
                              r"platform|vendor|chipmaker|unicorn|subsidiary)\b")
# Words that may open a name as well as count or date things: "New Enterprise Associates", "March Capital".
_COUNTING = set("one two three four five six seven eight nine ten first second third next new".split()) | set(MONTHS)
_DATE_BEFORE = r"(?i:in|on|since|until|till|through|last|early|late|mid|this|during)"  # a month after is a date
_AFTER_COUNTING = re.compile(r"(?<![\w.])(?=[A-Z])(?i:" + "|".join(_COUNTING) + r")\s+([A-Z]\w*)")
# How much of the corpus a name may cover and still single out articles: "AI" and "Google" don't.
GENERIC_SHARE = 0.2
FUZZY_MIN_LENGTH = 4
# After "did Google", a verb: "how much did google pay for fitbit" asks about Google, not Google Pay.
_AUXILIARY = {"did", "does", "do", "has", "have", "had", "will", "would", "can", "could"}
_ASKED_VERBS = {"pay", "paid", "raise", "raised", "buy", "bought", "acquire", "acquired", "spend", "spent", "invest",
                "invested", "get", "got", "sell", "sold", "lead", "led", "hire", "hired", "launch", "launched", "sue",
                "sued", "lay", "cut", "make", "made", "go", "close", "closed", "announce", "announced"}


def normal(name: str) -> str:
    """The lexicon key of a name: lower case, possessive and final full stop dropped, spaces single,
    "and" inside it written "&" ("Weights and Biases" is Weights & Biases)."""
    words = [_POSSESSIVE.sub("", w) for w in re.sub(r"[^\w.&'’ -]", " ", name.lower()).split()]
    words = [w for w in words if w]
    return " ".join("&" if w == "and" and 0 < i < len(words) - 1 else w for i, w in enumerate(words)).strip(".")


def core_name(name: str) -> str:
    """A company's lexicon key without its legal suffixes: "SenseTime Group Ltd." -> "sensetime"."""
    words = normal(name).split()
    if len(words) > 1 and words[0] == "the":  # "The Westly Group"
        words = words[1:]
    while len(words) > 1 and words[-1].strip(".") in _SUFFIXES:
        words.pop()
    if words:  # "Celential.ai" is Celential, "Suning.com" Suning
        words[-1] = re.sub(r"\.(?:com|ai|io|co|net|org|app)$", "", words[-1]) or words[-1]
    return " ".join(words)


def extract_names(title: str, text: str) -> dict[str, tuple[int, int]]:
    """Names in an article: how often each is written as a name, and how often in lower case.

    Headline-like lines (the title, Title Case subtitles) capitalise every word, so they only
    add to the count of names the running text has. The lower-case count lets the lexicon drop
    words that are names only now and then ("Model 3", but "the model" far more often).
    """
    counts: Counter[str] = Counter()
    surface: dict[str, str] = {}
    lower_words = Counter(re.findall(r"\b[a-z][\w'’-]*", text))
    in_title = set(re.findall(r"[\w'’.-]+", title))
    sentences = [text[s:e] for s, e in split_sentences(text)]
    headlines = [title] + [s for s in sentences if _title_case(s)]
    for sentence in sentences:
        if _title_case(sentence):
            continue
        lead = len(sentence) - len(sentence.lstrip(" \"'“‘("))  # (not a slice per match: long lines)
        for match in _RUN.finditer(sentence):
            run = match.group()
            opening = match.start() <= lead
            if opening and " " not in run:
                # A lone capitalised word opening a sentence is a name when the title has it too and
                # the article never writes it in lower case ("Pando raises $30M" ... "Pando, a startup").
                # So is one a company description follows: "Hailo, a startup developing hardware, ..." (not an
                # adverb's: "Separately, a startup ...").
                word = _POSSESSIVE.sub("", run).rstrip(".,")
                known = word in in_title or _DESCRIBED_AFTER.match(sentence, match.end()) and not word.endswith("ly")
                opening = not (known and word.lower() not in lower_words and word.lower() not in _NOT_NAMES)
            for name in _names_in_run(run, at_start=opening):
                key = normal(name)
                counts[key] += 1
                surface.setdefault(key, name)
    for line in headlines:
        for match in _RUN.finditer(line):
            for name in _names_in_run(match.group(), at_start=True):
                if normal(name) in counts:
                    counts[normal(name)] += 1
    for key, name in [(k, n) for k, n in surface.items() if " & " in n]:
        counts[key] += text.count(and_spelling(name))  # "Weights & Biases" written "Weights and Biases"
    # "New Enterprise Associates", "One Kings Lane", "March Capital": a counting word or month the
    # article always writes before the name is part of it (not "Two Google engineers": Google
    # appears alone too; not "in June Domino Data Labs raised"). Only names that follow a counting
    # word somewhere are checked: one scan of the text per name is slow.
    counted = {m.group(1) for m in _AFTER_COUNTING.finditer(text)}
    for key, name in [(k, n) for k, n in surface.items() if re.match(r"\w*", n).group() in counted]:
        found = re.findall(rf"(?<![\w.])(?:(\w+)\s+)?{re.escape(name)}(?!\w)", text)
        # Nearly always: "One Identity" is also once a heading's "Identity" and once "Ping Identity".
        first = max(set(found), key=found.count) if found else ""
        dated = first.lower() in MONTHS and re.search(
            rf"\b{_DATE_BEFORE}\s+{first}\s+{re.escape(name)}", text)  # "in June Domino Data Labs raised"
        if (found.count(first) >= max(1, 2 / 3 * len(found)) and first.lower() in _COUNTING and first[0].isupper()
                and not dated):
            whole = f"{first} {name}"
            counts[normal(whole)], surface[normal(whole)] = counts.pop(key), whole
    return {surface[k]: (n, lower_words[k] if " " not in k else text.count(k)) for k, n in counts.items()}


def and_spelling(name: str) -> str:
    """``name`` with its "&" written out: the other way articles spell "Weights & Biases"."""
    return name.replace(" & ", " and ")


def _title_case(line: str) -> bool:
    words = [w for w in re.findall(r"[A-Za-z][\w'’-]*", line) if len(w) > 3]
    return len(words) >= 3 and sum(w[0].isupper() for w in words) >= 0.8 * len(words)


def _names_in_run(run: str, *, at_start: bool) -> list[str]:
    words = [_POSSESSIVE.sub("", w).rstrip(",") for w in run.split()]
    words[-1:] = [w.rstrip(".") for w in words[-1:]]  # an initial's full stop stays: "T. Rowe Price"
    while words and words[0].lower() in _NOT_NAMES | {"&"}:
        words, at_start = words[1:], False
    while words and words[-1].lower() in _NOT_NAMES | {"of", "de", "&"} and not (len(words) > 1 and words[-1] == "One"):
        words.pop()  # but "Capital One": a capitalised "One" after a name ends it
    if not words or (len(words) == 1 and (len(words[0]) < 2 or at_start and not _NAME_SHAPE.search(words[0]))):
        return []  # a lone capitalised word opening a sentence may be any word; "SenseTime" is still a name
    found = [" ".join(words)]
    if at_start and len(words) > 1 and not _NAME_SHAPE.search(words[0]):
        found += _names_in_run(" ".join(words[1:]), at_start=False)  # "Rival SambaNova Systems raised"
    if len(words) > 1 and words[-1].lower() in _SUFFIXES:
        core = list(words)
        while len(core) > 1 and core[-1].lower() in _SUFFIXES:
            core.pop()
        if len(core) > 1 or not at_start:
            found.append(" ".join(core))
    # Not "AI-powered" or "California-based": an adjective, not a name.
    return [name for name in found if not name.replace(".", "").isdigit() and not _ADJECTIVE.search(name)]


@dataclass(frozen=True)
class Entity:
    """A name of the corpus as found in a question."""

    name: str  # as the articles write it: "SenseTime"
    said: str  # as the question wrote it: "sensetmie"
    articles: int  # how many articles mention it
    exact: bool  # False when matched despite a typo
    generic: bool  # mentioned by so much of the corpus that it singles out nothing


# A word is a name's when the corpus writes it as part of names at least this share of the times
# it writes it at all: "Apple" (583 of 1,047), not "Company" (75 of 10,169) or "Founded".
NAME_SHARE = 0.3
# Or when one article writes it as a name this often and never as a word: Observe, the observability
# startup, though "observe" and "observability" are common words. A question must then capitalise it.
PROPER_IN_ONE_ARTICLE = 5
# A one-word name that the articles naming it also write in lower case this share of the times is a
# word as well ("Capital" and "venture capital", "Robotics"): a question must capitalise it too.
LOWER_SHARE = 0.25


@dataclass
class Lexicon:
    """Names of the corpus by their normal form, with how many articles mention each."""

    names: dict[str, tuple[str, int]] = field(default_factory=dict)  # normal -> (surface, article count)
    total_articles: int = 0
    # Whether a lower-case word occurs in the corpus: such a word is spelt right, so never a typo of a name.
    known_word: Callable[[str], bool] = lambda word: False
    capitalised_only: frozenset[str] = frozenset()  # names that are words too (PROPER_IN_ONE_ARTICLE, LOWER_SHARE)
    _fuzzy_keys: list[str] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self._fuzzy_keys = [k for k in self.names if len(k) >= FUZZY_MIN_LENGTH - 1]

    @classmethod
    def build(cls, rows: list[tuple], word_counts: Callable[[str], int], total_articles: int,
              known_word: Callable[[str], bool]) -> Lexicon:
        """From ``(normal, surface, articles, mentions[, proper])`` rows, keeping the names of several words
        and the one-word names that the corpus mostly writes as names (``word_counts``: all occurrences
        of a word, in any case). "Bear Flag Robotics" stays a name; "Company" and "Founded" do not.
        The keyword index counts by stem, so its count for "canvas" holds Canva's too: a one-word name
        is weighed with the one-word names of its stem. ``proper``: the most mentions one article that
        never writes the word in lower case gives it; ``lower``: how often the articles naming it write
        it in lower case."""
        as_name: Counter[str] = Counter()
        in_longer: Counter[str] = Counter()  # mentions as a word of a longer name
        alone_by_stem: Counter[str] = Counter()
        for norm, _, _, mentions, *_ in rows:
            for word in norm.split():
                as_name[word] += mentions
                in_longer[word] += mentions if " " in norm else 0
            if " " not in norm:
                alone_by_stem[stem(norm)] += mentions

        def name_word(word: str, surface: str) -> bool:
            if word in _NOT_NAMES:
                return False
            total = word_counts(word)
            named = max(as_name[word], alone_by_stem[stem(word)])
            return bool(_NAME_SHAPE.search(surface)) or not total or named >= NAME_SHARE * total

        kept = {norm: (surface, articles) for norm, surface, articles, *_ in rows
                if (" " in norm and any(w not in _NOT_NAMES for w in norm.split())) or name_word(norm, surface)}
        # (Not a word mostly written inside longer names: the "Face" of "Hugging Face".)
        words_too = {row[0]: (row[1], row[2]) for row in rows if row[0] not in kept and row[0] not in _NOT_NAMES
                     and len(row) > 4 and row[4] >= PROPER_IN_ONE_ARTICLE and in_longer[row[0]] <= row[3]}
        both_ways = {row[0] for row in rows if row[0] in kept and " " not in row[0] and len(row) > 5
                     and row[5] >= LOWER_SHARE * row[3]}
        return cls(kept | words_too, total_articles, known_word, frozenset(words_too) | both_ways)

    def find(self, question: str) -> list[Entity]:
        """The corpus names in ``question``, longest first at each position, in question order."""
        words = []
        for m in re.finditer(r"[\w&][\w.&'’-]*", question):
            word = normal(m.group()).strip(".")
            parts = [(m.start() + p.start(), m.start() + p.end(), p.group()) for p in re.finditer(r"[^-]+", word)]
            if word not in self.names and sum(p in self.names for _, _, p in parts) >= 2:
                words += parts  # "the Toyota-SoftBank venture": two names
            else:
                words.append((m.start(), m.end(), word))
        found: list[Entity] = []
        i = 0
        while i < len(words):
            for n in range(min(5, len(words) - i), 0, -1):
                phrase = " ".join(w for _, _, w in words[i:i + n])
                entity = self._lookup(phrase, question[words[i][0]:words[i + n - 1][1]], written_as_name=i > 0)
                if entity and n > 1 and words[i + n - 1][2] in _ASKED_VERBS and i and words[i - 1][2] in _AUXILIARY:
                    continue  # the subject, then its verb: the shorter name (if any) is the one asked about
                if entity:
                    found.append(entity)
                    i += n
                    break
            else:
                i += 1
        unique: dict[str, Entity] = {}
        for entity in found:
            unique.setdefault(entity.name.lower(), entity)
        return list(unique.values())

    def unknown_names(self, question: str, found: list[Entity] | None = None) -> list[str]:
        """Names the question writes that the corpus has never seen, not even as a word or a near
        spelling: "Zyxcorp" in "Who led Zyxcorp's Series D?". Only written names count (capitalised
        past the first word, or mixed case), since a lower-case word may be a synonym. ``found``:
        the names ``find`` already matched in it."""
        known = {w for e in (self.find(question) if found is None else found) for w in normal(e.said).split()}
        unknown = []
        for i, match in enumerate(re.finditer(r"[\w][\w.&'’-]*", question)):
            word = normal(match.group()).strip(".")
            shaped = _NAME_SHAPE.search(match.group()) or (i > 0 and match.group()[:1].isupper())
            if (shaped and len(word) >= 3 and word.isalpha() and word not in known and word not in _NOT_NAMES
                    and not self.known_word(word)):
                unknown.append(match.group())
        return unknown

    def _lookup(self, phrase: str, said: str, written_as_name: bool = True) -> Entity | None:
        """``written_as_name``: a capital letter in ``said`` marks a name (not at the question's start)."""
        phrase = normal(phrase)  # ("weights and biases")
        if not phrase or phrase in _NOT_NAMES or phrase.isdigit():
            return None
        # "Ankis assets": a possessive typed without its apostrophe (not a short word's plural: "pros").
        hit = self.names.get(phrase) or (self.names.get(phrase[:-1]) if phrase.endswith("s") and len(phrase) > 4
                                         else None)
        exact = hit is not None
        words = phrase.split()
        if (hit is None and len(phrase) >= FUZZY_MIN_LENGTH and phrase.isascii() and len(words) < 3
                and not any(w in _NOT_NAMES for w in words) and not all(self.known_word(w) for w in words)):
            # A misspelt name: within one or two slips (a transposition is one) of a name of the
            # corpus with the same first letter, and itself no corpus word.
            near = [(distance, -self.names[key][1], key) for key, distance, _ in process.extract(
                phrase, self._fuzzy_keys, scorer=OSA.distance, score_cutoff=1 if len(phrase) < 8 else 2, limit=25)
                if key[0] == phrase[0]]  # ("synk" is Snyk, not Lynk)
            if near:
                hit = self.names[min(near)[2]]
        if hit is None or normal(hit[0]) in self.capitalised_only and not (written_as_name and said[:1].isupper()):
            return None  # ("how do startups observe their systems": a word; "Observe" may be the startup)
        surface, articles = hit
        generic = self.total_articles > 10 and articles > GENERIC_SHARE * self.total_articles
        return Entity(name=surface, said=said, articles=articles, exact=exact, generic=generic)
