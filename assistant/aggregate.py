"""Questions no single passage answers, read into an aggregate over the fact table: list, rank,
sum, count, both, total, most, and one company's round.

"List SenseTime's funding rounds", "biggest AI rounds in 2021", "how much has Databricks spent
on acquisitions?", "how many acquisitions did Google make in 2016?", "who invested in both
Anthropic and Cohere?", "how much has Uniphore raised altogether?", "who led hailo's $136 million
series c?". A small grammar reads the
question (its words, and the names and period of the question record) into an ``Aggregate``: an
operation and a ``FactQuery``, which becomes parameterised SQL. Never SQL from a model.
``table_answers`` writes the rows.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from .entities import core_name
from .event_patterns import MONTHS, ROUND_NAME
from .events import round_name
from .facttable import FactQuery
from .text import amounts_in, key_terms, stem, tokens

if TYPE_CHECKING:
    from .query import Question

# total: what one company has raised in all; most: who did the most ("who led the most rounds?");
# round: one company's one round, named by its name, amount or year ("who led hailo's $136 million series c?")
OPS = ("list", "rank", "sum", "count", "both", "total", "most", "round")
MAX_ROWS = 10  # of a ranking
MAX_LISTED = 25  # of a list or a sum, which the reader wants whole
# Investors named: "did mythic and nervana share any investors?" asks for those in both.
_BACKERS = re.compile(r"\b(?:investors?|backers?|vcs?|funders?)\b", re.IGNORECASE)
_KIND_WORDS = {
    "acquisition": {"acquir", "acquisit", "buy", "bought", "purchas", "deal", "merger", "takeov"},
    "ipo": {"ipo", "ipos", "public", "spac", "spacs"},
    "layoff": {"layoff", "laid", "lay", "cut", "job"},
    "round": {"rais", "round", "fund", "invest", "investor", "financ", "valu", "backer", "back", "portfolio"},
}
_KIND_NAMES = set().union(*_KIND_WORDS.values())
_PAID = {"pay", "paid", "pays", "paying"}  # "how much did X pay for Y and Z combined?"
_RANK = {"biggest", "largest", "top", "highest", "most", "smallest", "lowest", "fewest"}
_SMALLEST = {"smallest", "lowest", "fewest"}
_SUM = {"total", "altogether", "combin", "spent", "spend", "overal", "cumul"}
_LIST = {"list", "which", "what", "all", "every", "name", "show"}
_SO_FAR = re.compile(r"\b(?:so far|to date|in all)\b", re.IGNORECASE)  # "how much has X raised so far?"
_QUESTION_WORDS = set("how much many what which who whom list all name show both the a an of in on for by to did "
                      "does do has have had is are was were its their and or with from since after before last "
                      "year years month this that there any ever so far until make made get got happen happened "
                      "report reported announce announced see saw give gave tell go goes went gone going".split())
_NUMBERS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
# Plurals of events (or of what events are about): "rounds", "acquisitions", "startups". Not
# "investors": "which investors joined its round?" asks about one round, which retrieval answers.
# Also "every round", "its funding history" and "X's portfolio": a list said in one word.
_PLURAL_EVENT = re.compile(r"\b(?:rounds|acquisitions|deals|investments|ipos|raises|layoffs|startups|companies"
                           r"|targets|purchases|buys|fundraises|financings|portfolio|history"
                           r"|every\s+(?:\w+\s+)?(?:round|acquisition|deal|investment))\b", re.IGNORECASE)
# Words that make a question of a phrase: without one, "kestrel ledger acquisitions?" asks for the list.
_ASKING = set("how what which who whom whose when where why did does do is are was were has have had can "
              "could will would should".split())
_EVENTS = r"(?:rounds|acquisitions|deals|investments|ipos|raises|layoffs|startups|companies|targets|purchases|times)"
# (Terse too: "ownbackup acquisitions count?")
_HOW_MANY_EVENTS = re.compile(rf"\b(?:how many|number of|count of)\s+(?:\w+\s+){{0,2}}?{_EVENTS}\b"
                              rf"|\b{_EVENTS}\s+(?:count|number)\b", re.IGNORECASE)
# A superlative of one company's events: "Kestrel Ledger's biggest acquisition", "zorblax largest round".
_SUPERLATIVE_EVENT = re.compile(r"\b(?:biggest|largest|top|highest|most|smallest|lowest)\s+(?:[\w-]+\s+){0,2}?"
                                r"(?:round|acquisition|deal|purchase|investment|raise|funding|ipo|layoff)s?\b",
                                re.IGNORECASE)
# "Who led the most rounds?", "which company made the most acquisitions?": facts counted per party.
_MOST_PARTY = re.compile(r"^\s*(?:who|which\s+(?:[\w-]+\s+)?(?:investors?|firms?|vcs?|funds?|companies|company|"
                         r"startups?|buyers?|acquirers?))\b.*\b(?:the\s+)?most\b(?!\s+(?:money|cash|capital|funding)\b)",
                         re.IGNORECASE)
# A comparison: "which raised more", "bigger round", "X vs Y", "compared with", "compare".
_COMPARED = re.compile(r"\b(?:more|less|bigger|larger|greater|higher|smaller|lower|vs\.?|versus"
                       r"|compar(?:e|es|ed|ing|ison))\b", re.IGNORECASE)
_OVER = re.compile(r"\b(?:over|more than|above|at least|exceeding|bigger than|larger than)\s+$", re.IGNORECASE)
_LED = re.compile(r"\b(?:led|lead|leads|leading|spearhead(?:s|ed)?)\b", re.IGNORECASE)
_INVESTOR_SUBJECT = re.compile(r"\b(?:did|has|have)\s+(?P<name>.+?)\s+(?:invest|back|fund)|\bbacked by\s+(?P<by>.+)"
                               r"|(?P<own>.+?)['’]s\s+(?:investments|portfolio|bets)|(?P<holder>.+?)\s+portfolio\b",
                               re.IGNORECASE)


@dataclass(frozen=True)
class Aggregate:
    """What an aggregate question asks: ``op`` over the facts ``query`` selects; for "both", the
    companies whose investors are intersected; for a sum of one acquirer's deals, the targets named."""

    op: str
    query: FactQuery
    companies: tuple[str, ...] = ()
    smallest: bool = False
    limit: int = MAX_ROWS
    party: str = ""  # of "most": whose facts are counted ("lead", "investor", "acquirer" or "company")
    figure: str = ""  # of "round": what is asked: "lead_investors", "investors", "amount" or "valuation"
    amount: float | None = None  # of "round": the amount the question names it by


def read_aggregate(question: Question, is_company: Callable[[str], bool] | None = None,
                   is_investor: Callable[[str], bool] | None = None) -> Aggregate | None:
    """The aggregate a question asks for, or None for an ordinary question. Names that single out
    articles are companies or investors; of the common ones, ``is_company`` tells those the fact
    table knows ("Microsoft") from topics ("AI"), and ``is_investor`` those it knows as investors
    ("tiger global rounds" are the rounds Tiger Global backed)."""
    words = tokens(question.text)
    stems = set(key_terms(question.text)) | set(words)
    kind = next((k for k, cues in _KIND_WORDS.items() if any(s.startswith(tuple(cues)) for s in stems)), "")
    kind = kind or ("acquisition" if _PAID & set(words) else "")  # whole words: not "payments"
    names = [e.name for e in question.entities if (not e.generic or (is_company and is_company(e.name)))
             and e.name.lower() not in _KIND_NAMES]  # "how many IPOs?": the kind, not a company
    plural = _PLURAL_EVENT.search(question.text)
    rounds = tuple(dict.fromkeys(round_name(m.group()) for m in ROUND_NAME.finditer(question.text)))
    said = [value for value, _ in amounts_in(question.text)]
    # (Not a comparison, "its series B compared with its series C": retrieval answers each side.)
    if ((kind or ("round" if rounds else "")) == "round" and len(names) == 1 and not plural and not question.parts
            and (rounds or said or question.periods) and len(rounds) < 2 and not _COMPARED.search(question.text)
            and question.asks not in ("yesno", "when", "where")):
        # "who led hailo's $136 million series c?", "zorblax series b amount", "which investors joined zorblax's
        # series b?": the table's one round of that name, amount or year, when it states what is asked.
        figure = ("lead_investors" if _LED.search(question.text) else "investors" if question.asks == "who"
                  else "valuation" if any(s.startswith("valu") for s in stems)
                  else "amount" if question.asks == "amount" and not stems & _SUM and not _SO_FAR.search(
                      question.text) else "")
        if figure and not (is_investor and is_investor(names[0])):
            query = _with_period(FactQuery(kind="round", company=names[0], round=rounds[0] if rounds else ""),
                                 question)
            return Aggregate("round", query, (names[0],), figure=figure, amount=said[0] if said else None)
    if {"both", "common", "shared"} & set(words) or {"share", "overlap"} & stems and _BACKERS.search(question.text):
        op = "both"  # (and "did mythic and nervana share any investors?")
    elif _MOST_PARTY.search(question.text) and not names and kind:
        op = "most"
    elif _HOW_MANY_EVENTS.search(question.text):  # not "how many people did X lay off": one event's size
        op = "count"
    elif _RANK & set(words) and (plural or not names or _SUPERLATIVE_EVENT.search(question.text)) or re.search(
            r"\btop\s+\d+\b", question.text, re.I):
        op = "rank"
    elif ("how" in words and "much" in words and (stems & _SUM or _SO_FAR.search(question.text))) or (
            stems & _SUM and kind):
        op = "sum"
    elif plural and (_LIST & set(words) or question.asks in ("list", "who") or not _ASKING & set(words)):
        op = "list"
    elif words[:1] in (["who"], ["which"], ["what"]) and is_investor and (investor := _investor(question)) \
            and is_investor(investor):
        op = "list"  # "who has sequoia invested in?": its portfolio
    else:
        return None
    if op == "both":
        if len(names) < 2 and is_company:
            names += [n for n in _sides(question.text, is_company) if core_name(n) not in map(core_name, names)]
        return Aggregate(op, FactQuery(kind="round"), tuple(names[:2])) if len(names) >= 2 else None
    if not kind:
        return None
    if op == "most":
        party = ("acquirer" if kind == "acquisition" else "lead" if _LED.search(question.text) else "investor"
                 if re.search(r"\b(?:invest\w*|back\w*|fund(?:ed|s)?|portfolio|investors?|vcs?)\b", question.text,
                              re.IGNORECASE) else "company")
        query = _with_period(FactQuery(kind=kind, round=round_name(r.group()) if (r := ROUND_NAME.search(
            question.text)) and kind == "round" else ""), question)
        return Aggregate(op, query, party=party, limit=5)
    if op == "sum" and kind == "round" and names:
        # "How much has X raised in total?": what the articles say X has raised in all ("bringing
        # its total funding to $X", or "had previously raised $Y" plus the round), the latest
        # first. Adding up the rounds the table read falls short when it missed one. Within a
        # period it is a sum of that period's rounds, which retrieval reads.
        return None if question.periods else Aggregate("total", FactQuery(kind="total", company=names[0]),
                                                        tuple(names))
    named_round = ROUND_NAME.search(question.text)
    query = FactQuery(kind=kind, subject_only=not names, min_amount=_minimum(question.text),
                      round=round_name(named_round.group()) if named_round and kind == "round" else "",
                      topic="" if names else _topic(question, tokens(ROUND_NAME.sub(" ", question.text)), names))
    query = _with_period(query, question)
    investor = _investor(question) or (
        names[0] if kind == "round" and len(names) == 1 and is_investor and is_investor(names[0]) else "")
    if investor:
        query = replace(query, investor=investor, kind="round", lead_only=bool(_LED.search(question.text)))
    elif names:
        bought = re.search(r"\b(?:acquired|bought|purchased) by\b|\bwho (?:acquired|bought|purchased)\b",
                           question.search_text, re.IGNORECASE)
        role = ("target" if bought else "acquirer") if kind == "acquisition" else ""
        query = replace(query, company=names[0], role=role)
        if op == "sum" and role == "acquirer" and len(names) > 1:
            # "How much did Intel pay for Altera, Mobileye and Habana Labs combined?": those deals only.
            return Aggregate(op, query, tuple(names[1:]))
    number = re.search(r"\btop\s+(\d+)\b|\b(\d+|" + "|".join(_NUMBERS) + r")\s+(?:biggest|largest|smallest|top)\b",
                       question.text, re.IGNORECASE)
    limit = MAX_ROWS if op == "rank" else MAX_LISTED
    if number:
        said = (number.group(1) or number.group(2)).lower()
        limit = min(int(said) if said.isdigit() else _NUMBERS.index(said) + 1, MAX_LISTED)
    return Aggregate(op, query, smallest=bool(_SMALLEST & set(words)), limit=limit)


def _sides(text: str, is_company: Callable[[str], bool]) -> list[str]:
    """The names either side of "and" that the fact table knows, for a "both" question whose names
    the lexicon lacks (a company called by a common word: "Time By Ping and Density common investor?")."""
    match = re.search(r"(.+?)\s+(?:and|&)\s+(.+)", text)
    if not match:
        return []
    left, right = (re.findall(r"[\w.'’-]+", side) for side in match.groups())
    found = []
    for spans in ([left[-n:] for n in (3, 2, 1)], [right[:n] for n in (3, 2, 1)]):
        found += [" ".join(words) for words in spans if words and is_company(" ".join(words))][:1]
    return found


def _minimum(text: str) -> float | None:
    for value, written in amounts_in(text):
        before = text[:text.find(written)]
        if _OVER.search(before):
            return value
    return None


# The words of a minimum ("more than $500 million"), of whom a layoff is of, of who raised it, and of the
# articles themselves ("the largest round in the articles").
_NOT_TOPICS = set("""startups startup companies company firms much money funding million billion dollars usd over
more than above least exceeding bigger larger off staff employees workers people positions articles article news
stories corpus reported mentioned covered ever""".split())


def _topic(question: Question, words: list[str], names: list[str]) -> str:
    """For a question about no company, the words left once its grammar, kind and numbers are
    taken out: "robotics" in "biggest robotics rounds in 2021", "ai" in "biggest AI rounds"."""
    named = {w for name in names for w in tokens(name)}
    cues = set().union(*_KIND_WORDS.values()) | _RANK | _SUM | _LIST
    left = [w for w in words if w not in _QUESTION_WORDS and w not in named and not w.isdigit()
            and w not in _NUMBERS and not any(w.startswith(c) or c.startswith(stem(w)) for c in cues)
            and w not in _NOT_TOPICS]
    return " ".join(left)


# (A month may come between, "since march 2019"; not another word: "after its 2021 round" is in 2021.)
_OPEN_PERIOD = re.compile(r"\b(?P<bound>since|after|from|starting(?: in)?|before|until|till|prior to|up to)\s+"
                          r"(?:(?:early|late|mid-?)\s*)?(?:(?:" + "|".join(m[:3] for m in MONTHS) + r")[a-z]*\.?\s+)?"
                          r"(?:19|20)\d\d\b", re.IGNORECASE)


def _with_period(query: FactQuery, question: Question) -> FactQuery:
    """The question's period: "in 2021" is that year; "since 2019" and "after 2019" have no end,
    "before 2019" and "until 2019" no start (after and before leave the year out)."""
    periods = question.periods
    if not periods:
        return query
    since, until = min(periods), max(periods)
    bound = _OPEN_PERIOD.search(question.text)
    if bound and len(periods) == 1:
        word = bound.group("bound").lower()
        if word in ("after", "before") and len(since) == 4:
            since = until = str(int(since) + (1 if word == "after" else -1))
        if word in ("since", "after", "from") or word.startswith("starting"):
            until = ""
        else:
            since = ""
    return replace(query, since=since, until=until)


def _investor(question: Question) -> str:
    """The investor a question is about, when a name is the one investing: "which startups did
    Sequoia invest in?", "companies backed by Accel"."""
    match = _INVESTOR_SUBJECT.search(question.search_text)
    if not match:
        return ""
    said = next((said for said in match.groups() if said), "")
    return next((name for name in question.names if name.lower() in said.lower()), "")
