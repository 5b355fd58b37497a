"""Reading a question once: the corpus names it mentions, the period, what it asks, comparisons,
and follow-up rewriting.

All deterministic and instant: a 1.5B model rewriting follow-ups is slower than the
answer itself and often drops the name that retrieval needs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from .entities import Entity, Lexicon
from .event_patterns import MONTHS
from .sanitize import clean_text
from .text import MARKERS

MAX_QUESTION_CHARS = 1000  # longer questions are cut (at a word) with a notice
_YEAR = re.compile(r"\b(20[0-3]\d|19[89]\d)\b")
# Names joined as alternatives ("X or Y", "X vs. Y") are compared; names joined by "and" only
# when the question also compares or asks for each ("Did X and Y both...", "What did X and Y each...").
_ALTERNATIVE = re.compile(r"^[\s,]*(?:or|vs\.?|versus)[\s,]*$", re.IGNORECASE)
# "How much did X raise, and who invested?": a second question joined by "and".
_PART = re.compile(r",?\s+and\s+(?=(?:who|whom|whose|what|when|where|which|how|why|in which|in what)\b)", re.I)
_OWNED = re.compile(r"^['’]s?\s+$")
_CONJUNCTION = re.compile(r"^[\s,]*(?:and|&)[\s,]*$|^\s*,\s*$", re.IGNORECASE)
_COMPARE = re.compile(r"\b(vs\.?|versus|compare[sd]?|comparison|more|less|fewer|\w+er than|earlier|later|first|"
                      r"both|each|either|respectively|difference|which|whose)\b", re.IGNORECASE)
_PRONOUNS = re.compile(
    r"\b(?:the (?:company|startup|firm|business|group)|this (?:company|startup)|that (?:company|startup)|"
    r"it|its|they|their|them|he|she|his|her)\b", re.IGNORECASE)
_ROUND_REF = re.compile(r"\b(?:that|the|this|same) (?:round|deal|funding|financing|raise|investment|acquisition)\b",
                        re.IGNORECASE)
_WHAT_ABOUT = re.compile(r"^\s*(?:(?:and\s+)?(?:what|how)\s+about|and)\s+(.+?)\??\s*$", re.IGNORECASE)
# What is asked, by the first cue found (checked in this order).
_ASKS = (
    ("amount", re.compile(r"\bhow (?:much|many|big|large)\b|\bwhat (?:amount|valuation|price|size|percent\w*|share)\b"
                          r"|\bvaluation\b|\bvalued\b|\bworth\b|\bnumber of\b|\brevenue\b|\bprice\b"
                          r"|\btotal (?:funding|raised|investment|revenue|sales)\b|\bpa(?:y|ys|ying|id)\b"
                          r"|\bcost(?:s|ing)?\b|\bexpensive\b|\bcheaper\b", re.I)),
    ("when", re.compile(r"\bwhen\b|\bwhat (?:year|date|month|day)\b|\bwhich (?:year|month)\b", re.I)),
    ("where", re.compile(r"\bwhere\b|\bwhich (?:city|country|state)\b|\bheadquarter", re.I)),
    ("who", re.compile(r"\bwho\b|\bwhom\b|\bwhose\b|\binvestors?\b|\bbackers?\b|\bfounders?\b|\bceo\b"
                       r"|\bled\b|\blead\b|\bwhich (?:investors?|firms?|funds?|people|person|companies|company)\b",
                       re.I)),
    ("list", re.compile(r"^\s*(?:list|name)\b|\bwhat are\b", re.I)),
    ("yesno", re.compile(r"^\s*(?:is|are|was|were|did|does|do|has|have|had|can|could|will|would)\b", re.I)),
)


@dataclass(frozen=True)
class Question:
    """A question read once: what it names (from the corpus lexicon), the period and what it asks.

    Retrieval, the abstention gate, context focus, the prompt and the verifier all read this
    record instead of re-parsing the text.
    """

    text: str
    entities: tuple[Entity, ...] = ()
    periods: tuple[str, ...] = ()
    asks: str = "what"  # amount, when, where, who, list, yesno or what
    members: tuple[str, ...] = ()  # the names compared or asked about one by one
    owners: tuple[str, ...] = ()  # names that own a member ("Naver" in "Naver's HyperCLOVA vs ...")
    sides: tuple[str, ...] = ()  # each member's phrase, when more than its name ("Luminar with Volvo")
    unknown: tuple[str, ...] = ()  # names it writes that the corpus has never seen
    parts: tuple[str, ...] = ()  # a multi-part question's parts, each standalone ("..., and who invested?")

    @property
    def names(self) -> list[str]:
        """The corpus names asked about, as the articles write them."""
        return [e.name for e in self.entities]

    @property
    def specific(self) -> list[str]:
        """Names that single out articles (not "AI" or "Google" in a corpus of AI news)."""
        return [e.name for e in self.entities if not e.generic]

    @property
    def search_text(self) -> str:
        """The question with misspelt names written as the articles write them."""
        return self._as_written(self.text)

    def _as_written(self, text: str) -> str:
        for entity in self.entities:
            if not entity.exact:
                text = text.replace(entity.said, entity.name)
        return text

    def about(self, name: str) -> Question:
        """The question asked about one member only: the other members taken out."""
        text = self.search_text
        own = self.owners[self.members.index(name)] if name in self.members and self.owners else ""
        sides = [self._as_written(side) for side in self.sides]
        mine = sides[self.members.index(name)] if name in self.members and sides else ""
        joint = r"(?:and|or|vs\.?|versus|compared (?:with|to))"
        for other in sides:  # the other side goes with the word joining it to this one
            if other != mine:
                text = re.sub(rf"(?i)(?:\s+{joint}\s+)?(?<!\w){re.escape(other)}(?!\w)(?:\s+{joint}(?=\s))?", " ", text)
        for other in (*self.members, *self.owners):
            if other not in (name, own, mine) and other and other.lower() not in mine.lower():
                text = re.sub(rf"(?i)(?<!\w){re.escape(other)}(?:['’]s)?(?!\w)", " ", text)
        text = re.sub(rf"\s+{joint}\s*(?=[?,.]|$)", " ", re.sub(r"\s+", " ", text)).strip()
        text = re.sub(rf"(?:(?<=[:,])|^)\s*{joint}\s+", " ", text, flags=re.IGNORECASE).strip()
        text = re.sub(r"\s+(?=[?,.]|$)", "", text)
        if name.lower() not in text.lower():
            text = f"{text.rstrip('?').rstrip()} ({name})?"
        entities = tuple(e for e in self.entities if e.name == name
                         or e.name not in self.members and e.name.lower() in text.lower())
        return replace(self, text=text, entities=entities, members=(), owners=(), sides=(), parts=())


def clean_question(text: str, limit: int = MAX_QUESTION_CHARS) -> tuple[str, bool]:
    """The question as the engine reads it: on one line, without invisible characters or
    ``[n]`` markers (they point at no source of this answer), at most ``limit`` characters (cut
    at a word); and whether it was cut."""
    text = " ".join(MARKERS.sub(" ", clean_text(text)).split())
    if len(text) <= limit:
        return text, False
    cut = text[:limit + 1].rsplit(" ", 1)[0] if " " in text[limit // 2:limit + 1] else text[:limit]
    return cut.rstrip(), True


def read_question(text: str, lexicon: Lexicon | None = None) -> Question:
    """Build the question record; names come only from ``lexicon`` (the corpus), never capital letters."""
    text = text.strip()
    entities = tuple(lexicon.find(text)) if lexicon else ()
    asks = _asks(text)
    groups = _members(text, entities)
    sides = _sides(text, entities, [group[-1] for group in groups]) if len(groups) in (0, 2) else []
    if sides and [member for member, _ in sides] != [group[-1] for group in groups]:
        groups = [[member] for member, _ in sides]  # "Which costs more: Piaggio's Gita robot or Automata's arm?"
    unknown = tuple(lexicon.unknown_names(text, list(entities))) if lexicon else ()
    pieces = [p.strip(" ,") for p in _PART.split(text) if p.strip(" ,?")]
    parts: tuple[str, ...] = ()
    if len(pieces) > 1 and not groups and lexicon:
        # Each later part leans on the first, as a follow-up does: "and in which month did he leave?"
        first = [{"role": "user", "content": pieces[0]}]
        parts = (pieces[0].rstrip("?") + "?",
                 *(standalone_question(p.rstrip("?") + "?", first, lexicon.find) for p in pieces[1:]))
    return Question(text=text, entities=entities, periods=tuple(date_prefixes(text)), asks=asks,
                    members=tuple(group[-1] for group in groups),
                    owners=tuple(group[0] if len(group) > 1 else "" for group in groups), unknown=unknown,
                    sides=tuple(phrase for _, phrase in sides), parts=parts)


def _members(text: str, entities: tuple[Entity, ...]) -> list[list[str]]:
    """The names a question compares or asks about one by one: a run of names joined by "or",
    "vs" or a comma, or by "and" in a question that compares or says "each" or "both". A
    possessive joins an owner to its member: "Naver's HyperCLOVA vs Huawei's PanGu-Alpha"."""
    lowered = text.lower()
    spans = sorted(((lowered.find(e.said.lower()), e) for e in entities if e.said.lower() in lowered),
                   key=lambda span: span[0])
    best: list[list[str]] = []
    run: list[list[str]] = []
    end, owner = 0, False
    for start, entity in spans:
        between = lowered[end:start]
        if run and (_OWNED.match(between) or owner and not between.strip()):
            run[-1].append(entity.name)
        elif run and (_ALTERNATIVE.match(between) or (_CONJUNCTION.match(between) and _COMPARE.search(text))):
            run.append([entity.name])
        else:
            run = [[entity.name]]
        end = start + len(entity.said)
        owner = re.search(r"['’]s?$", entity.said) is not None  # "Naver's" owns what follows
        if len(run) >= len(best):  # ">=": an owned name extends the current run's last member
            best = [list(group) for group in run]
    return best if len(best) >= 2 else []


def _sides(text: str, entities: tuple[Entity, ...], members: list[str]) -> list[tuple[str, str]]:
    """A choice between two described things: "Which costs more: Piaggio's Gita cargo robot or
    Automata's desktop robotic arm?", "Luminar with Volvo or Aurora with Paccar", "MosaicML compared
    with what it paid for Arcion". Each side's member is the one of ``members`` it holds, else its
    name that the fewest articles use (it singles out its article; a quarter such as "Q3" never is
    one). The left phrase runs to the "or", the right one from it to the clause's end."""
    choices = list(_CHOICE.finditer(text))
    if len(choices) != 1:
        return []
    choice = choices[0]
    left = re.split(r"[:;,—(]", text[:choice.start()])[-1]
    right = re.split(r"[?:;,—(]", text[choice.end():])[0]
    left_start = choice.start() - len(left)
    lowered = text.lower()
    spans = [(lowered.find(e.said.lower()), e) for e in entities if not e.generic]
    on_left = [(at, e) for at, e in spans if left_start <= at < choice.start()]
    on_right = [(at, e) for at, e in spans if choice.end() <= at < choice.end() + len(right)]
    if not on_left or not on_right:
        return []

    def member(side: list[tuple[int, Entity]]) -> str:
        named = [s for s in side if not _PERIOD_LABEL.fullmatch(s[1].name)] or side
        return next((e.name for _, e in side if e.name in members), min(named, key=lambda s: s[1].articles)[1].name)

    # The left phrase starts at its member, or at the names joined to it ("Luminar with Volvo", "Google
    # Brain's XLNet"), not at a subject both sides share ("Databricks pay for MosaicML compared with ...").
    on_left.sort(key=lambda span: span[0])
    at = next(i for i, (_, e) in enumerate(on_left) if e.name == member(on_left))
    while at and _JOINED.fullmatch(lowered[on_left[at - 1][0] + len(on_left[at - 1][1].said):on_left[at][0]]):
        at -= 1
    first = on_left[at][0]
    sides = [(member(on_left), text[first:choice.start()].strip()), (member(on_right), right.strip())]
    # (Two bare names, "Cohere or AI21 Labs", are the plain alternatives ``_members`` reads.)
    said = [e.said.lower() for _, e in on_left + on_right]
    described = any(re.sub("|".join(map(re.escape, said)), " ", phrase.lower()).strip(" ?.,'’") for _, phrase in sides)
    return sides if sides[0][0] != sides[1][0] and described else []


_CHOICE = re.compile(r"\s(?:or|vs\.?|versus|compared (?:with|to))\s", re.IGNORECASE)
_JOINED = re.compile(r"(?:['’]s?)?\s*(?:(?:with|and|&|of|from|at)\s+)?")
_PERIOD_LABEL = re.compile(r"(?:Q[1-4]|H[12]|FY\d*)", re.IGNORECASE)  # "intel q3 2020 revenue": Intel is the member
_MONTH_YEAR = re.compile(rf"\b({'|'.join(m[:3] for m in MONTHS)})[a-z]*\.?\s+(20[0-3]\d|19[89]\d)\b", re.IGNORECASE)


def date_prefixes(text: str) -> list[str]:
    """The periods a question names, as date prefixes: "December 2020" -> "2020-12", "in 2019" -> "2019"."""
    found = [f"{year}-{[m[:3] for m in MONTHS].index(month[:3].lower()) + 1:02d}"
             for month, year in _MONTH_YEAR.findall(text)]
    return found + [year for year in _YEAR.findall(text) if not any(f.startswith(year) for f in found)]


def standalone_question(question: str, history: Sequence[dict[str, str]] | None,
                        entities: Callable[[str], list[Entity]]) -> str:
    """Rewrite a follow-up using the conversation so it can be retrieved on its own.

    "Which state fund joined it?" after "How much did SenseTime raise?" becomes
    "Which state fund joined SenseTime?"; "What about Graphcore?" after "Who led Pando's
    Series B?" becomes "Who led Graphcore's Series B?". A question that names its own
    company, or has no earlier turn to lean on, is returned unchanged.
    """
    question = question.strip()
    turns = [t for t in history or [] if t.get("content")]
    previous = [t["content"] for t in turns if t.get("role") == "user"]
    if not previous:
        return question
    def specific(text: str) -> list[Entity]:
        return [e for e in entities(text) if not e.generic]

    said, subject, subject_question = "", "", ""
    for earlier in reversed(previous):
        found = specific(earlier)
        if found:
            said, subject, subject_question = found[0].said, found[0].name, earlier
            break
    named = _answered_name(turns, specific)
    # "the startup" is the one the earlier question named as the subject, unless that question asked
    # which startup: "which company agreed to acquire Ctrl-labs?" -> "what will the startup be folded into?"
    the_startup = bool(_THE_STARTUP.search(question)) and not re.search(r"\bstartups?\b", previous[-1], re.IGNORECASE)
    if named and not the_startup and (_ASKS_WHICH_COMPANY.match(previous[-1]) or _asks_for_a_thing(previous[-1]) or (
            re.match(r"\s*who\b", previous[-1], re.IGNORECASE) and _PERSON.search(question))):
        # "Which company agreed to buy Lyft's unit?" -> "How much is it paying?": "it" is the
        # company the answer named, not Lyft; "what poker AI did Facebook unveil?" -> "how many
        # pros did it beat?": the AI the answer named; likewise "him" after "who stepped down?".
        subject = named
    if not subject:
        return question
    own = specific(question)
    what_about = _WHAT_ABOUT.match(question)
    if own and what_about and len(question.split()) <= 6:
        # Ellipsis: the earlier question, asked about the new company.
        return subject_question.replace(said, own[0].name)
    if own and not _PRONOUNS.search(question):
        return question
    rewritten = _ROUND_REF.sub(lambda m: f"{subject}'s {m.group().split()[-1]}", question)
    rewritten = _PRONOUNS.sub(lambda m: _pronoun(m.group(), subject), rewritten, count=1)
    if rewritten == question:
        rewritten = f"{question.rstrip('?').rstrip()} ({subject})?"
    return rewritten


# A question whose answer is a company ("Which company agreed to buy X?") or a person ("Who ...?").
_ASKS_WHICH_COMPANY = re.compile(r"\s*(?:which|what)\s+(?:[\w-]+\s+)?(?:company|firm|startup|business|buyer|"
                                 r"acquirer|[\w-]*maker|giant|lab)\b", re.IGNORECASE)
_THE_STARTUP = re.compile(r"\b(?:the|this|that) startup\b", re.IGNORECASE)
_PERSON = re.compile(r"\b(?:he|she|him|her|his)\b", re.IGNORECASE)
_AUXILIARY = r"(?:is|was|are|were|did|does|do|has|have|had|will|can)\b"
# "What poker AI did Facebook unveil?": "what", then what is asked for, then the verb's auxiliary.
_WHAT_THING = re.compile(rf"\s*(?:which|what)\s+(?!{_AUXILIARY})(?:[\w-]+\s+){{1,3}}?{_AUXILIARY}", re.IGNORECASE)


def _asks_for_a_thing(question: str) -> bool:
    """Whether ``question`` asks which thing (a product, a model, a company), not an amount, a date
    or a place: its answer's name is then what a follow-up's "it" means."""
    return bool(_WHAT_THING.match(question)) and _asks(question) == "what"


def _asks(text: str) -> str:
    """What ``text`` asks, by the first cue of ``_ASKS`` it holds: "amount", "who", ... or "what"."""
    return next((kind for kind, cue in _ASKS if cue.search(text)), "what")


def _answered_name(turns: Sequence[dict[str, str]], specific: Callable[[str], list[Entity]]) -> str:
    """The first corpus name of the last answer that its question did not already name."""
    if len(turns) < 2 or turns[-1].get("role") != "assistant" or turns[-2].get("role") != "user":
        return ""
    asked = {e.name for e in specific(turns[-2]["content"])}
    return next((e.name for e in specific(turns[-1]["content"]) if e.name not in asked), "")


def _pronoun(word: str, subject: str) -> str:
    return f"{subject}'s" if word.lower() in ("its", "their", "his", "her") else subject
