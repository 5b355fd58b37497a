"""Questions no single passage answers, answered from the fact table: list, rank, sum, count, both
and total.

"List SenseTime's funding rounds", "biggest AI rounds in 2021", "how much has Databricks spent
on acquisitions?", "how many acquisitions did Google make in 2016?", "who invested in both
Anthropic and Cohere?", "how much has Uniphore raised altogether?". A small grammar reads the
question (its words, and the names and period of the question record) into an ``Aggregate``: an
operation and a ``FactQuery``, which becomes parameterised SQL. Never SQL from a model. The rows
are written in code, each cited to the passage that states it, so no LLM is needed. When sources
disagree on a figure, the row says so and cites both. When the table has nothing, ``None``: the
engine answers by retrieval.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from .documents import Citation, Passage
from .entities import core_name
from .event_patterns import ROUND_NAME
from .events import TOTAL, round_name, same_company
from .facttable import Fact, FactQuery, find_facts, is_party, known_as_investor, passage_for
from .text import amounts_in, format_amount, key_terms, split_sentences, stem, tokens

if TYPE_CHECKING:
    from .query import Question
    from .store import Store

OPS = ("list", "rank", "sum", "count", "both", "total")  # total: what one company has raised in all
MAX_ROWS = 10  # of a ranking
MAX_LISTED = 25  # of a list or a sum, which the reader wants whole
_KIND_WORDS = {
    "acquisition": {"acquir", "acquisit", "buy", "bought", "purchas", "deal", "merger", "takeov"},
    "ipo": {"ipo", "ipos", "public", "spac", "spacs"},
    "layoff": {"layoff", "laid", "lay", "cut", "job"},
    "round": {"rais", "round", "fund", "invest", "investor", "financ", "valuat", "backer", "back", "portfolio"},
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
_HOW_MANY_EVENTS = re.compile(r"\b(?:how many|number of|count of)\s+(?:\w+\s+){0,2}?(?:rounds|acquisitions|deals|"
                              r"investments|ipos|raises|layoffs|startups|companies|targets|purchases|times)\b",
                              re.IGNORECASE)
# A superlative of one company's events: "Kestrel Ledger's biggest acquisition", "zorblax largest round".
_SUPERLATIVE_EVENT = re.compile(r"\b(?:biggest|largest|top|highest|most|smallest|lowest)\s+(?:[\w-]+\s+){0,2}?"
                                r"(?:round|acquisition|deal|purchase|investment|raise|funding|ipo|layoff)s?\b",
                                re.IGNORECASE)
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
    if {"both", "common", "shared"} & set(words):
        op = "both"
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


_OPEN_PERIOD = re.compile(r"\b(?P<bound>since|after|from|starting(?: in)?|before|until|till|prior to|up to)\s+"
                          r"(?:(?:early|late|mid-?)\s*)?(?:[a-z]+\.?\s+)?(?:19|20)\d\d\b", re.IGNORECASE)


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


# -- answering -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TableAnswer:
    text: str
    citations: list[Citation]
    passages: list[Passage]
    declined: bool = False  # nothing that answers it (none in the period, no common investor): what there is is listed


def answer_aggregate(store: Store, question: Question) -> TableAnswer | None:
    """The answer from the fact table, or None when the question is not an aggregate one or the
    table has no rows for it."""
    aggregate = read_aggregate(question, lambda name: is_party(store, name, exact=True),
                               lambda name: known_as_investor(store, name))
    if aggregate is None:
        return None
    if aggregate.op == "both":
        return _both(store, aggregate)
    if aggregate.op == "total":
        return _raised_in_all(store, aggregate)
    order = "amount" if aggregate.op == "rank" else "date"
    facts = find_facts(store, aggregate.query, order=order)
    if aggregate.smallest:
        facts = [f for f in facts if f.amount][::-1]
    if aggregate.op == "rank":
        facts = [f for f in facts if f.amount]
    if aggregate.op == "sum" and aggregate.companies:  # the named targets' deals, each with its price
        facts = [f for f in facts if any(same_company(f.event.value("target"), t) for t in aggregate.companies)]
        if not any(f.amount for f in facts):
            return None
    if not facts:
        return _none_in_period(store, aggregate)
    writer = _Writer(store)
    shown = facts[:aggregate.limit] if aggregate.op in ("rank", "list") else facts[:MAX_LISTED]
    rows = [writer.row(f, with_company=not aggregate.query.company) for f in shown]
    lead = _lead(aggregate, facts)
    more = f"\n({len(facts) - len(shown)} more in `assistant facts`.)" if len(facts) > len(shown) else ""
    return writer.answer(lead + "\n" + "\n".join(rows) + more)


def _none_in_period(store: Store, aggregate: Aggregate) -> TableAnswer | None:
    """"Which companies did OneLogin acquire in 2019?" when the table has OneLogin's acquisitions,
    none of them in 2019: that near-miss is declined, and the ones the articles do report are
    listed, rather than left to a model that would answer from another year."""
    q = aggregate.query
    if not (q.company or q.investor) or not (q.since or q.until):
        return None
    anytime = replace(aggregate, query=replace(q, since="", until=""))
    facts = find_facts(store, anytime.query)
    if not facts:
        return None
    writer = _Writer(store)
    rows = [writer.row(f, with_company=not q.company) for f in facts[:MAX_ROWS]]
    first = f"The articles report none in {_when(q)}. " + _lead(replace(anytime, op="list"), facts)
    return replace(writer.answer(first + "\n" + "\n".join(rows)), declined=True)


def _when(q: FactQuery) -> str:
    return (q.since if q.since == q.until else f"{q.since} to {q.until}" if q.since and q.until
            else f"since {q.since}" if q.since else f"until {q.until}" if q.until else "")


def _lead(aggregate: Aggregate, facts: list[Fact]) -> str:
    q = aggregate.query
    what = {"round": "funding rounds", "acquisition": "acquisitions", "ipo": "IPOs", "layoff": "layoffs",
            "total": "funding totals"}[q.kind]
    what = f"{q.round} {what}" if q.round else what  # "series B funding rounds"
    owner = q.company if q.company and q.role != "target" else ""
    who = f"{owner}’ " if owner.endswith("s") else f"{owner}’s " if owner else ""
    scope = (f" {'led' if q.lead_only else 'backed'} by {q.investor}" if q.investor else
             f" of {_joined(aggregate.companies)}" if aggregate.op == "sum" and aggregate.companies else "")
    when = _when(q)
    limits = ([f"about {q.topic}"] if q.topic else []) + ([when] if when else [])
    period = f" ({', '.join(limits)})" if limits else ""
    if aggregate.op == "count":
        return f"The articles report {len(facts)} {who}{what[:-1] if len(facts) == 1 else what}{scope}{period}:"
    if aggregate.op == "sum":
        total, most = (sum(pick(_figures(f), default=0) for f in facts) for pick in (min, max))
        stated = sum(1 for f in facts if f.amount)
        like = next((f.event.fields[n].text for f in facts for n in ("amount", "price") if n in f.event.fields), "$")
        unstated = f"; {len(facts) - stated} more without a stated figure" if stated < len(facts) else ""
        unpriced = [t for t in aggregate.companies
                    if not any(f.amount and same_company(f.event.value("target"), t) for f in facts)]
        unstated += f"; no price for {' or '.join(unpriced)}" if unpriced else ""
        # Where sources disagree on a figure, the sum is a range: Altera at $16.7 or $17 billion.
        figure = (f"between {format_amount(total, like)} and {format_amount(most, like)} (the sources differ on "
                  "a figure)" if most > total else format_amount(total, like))
        return (f"In the articles, {who}{what}{scope}{period} add up to {figure} over the {stated} with a stated "
                f"figure{unstated}:")
    if aggregate.op == "rank":
        size = "smallest" if aggregate.smallest else "largest"
        return f"{who[:1].upper()}{who[1:]}{size} {what}{scope}{period} in the articles:" if who else \
            f"The {size} {what}{scope}{period} in the articles:"
    heading = f"{who[:1].upper()}{who[1:]}{what}" if who else what[:1].upper() + what[1:]
    return f"{heading}{scope}{period} in the articles:"


def _figures(fact: Fact) -> list[float]:
    """A fact's amount (a round's) or price (a deal's), with the other figures its sources give."""
    return [v for v in [fact.amount, *(v for v, _, _ in fact.disagreements.get(fact.event.figure_key, []))] if v]


def _joined(names: tuple[str, ...]) -> str:
    return ", ".join(names[:-1]) + f" and {names[-1]}" if len(names) > 1 else "".join(names)


def _raised_in_all(store: Store, aggregate: Aggregate) -> TableAnswer | None:
    """The largest figure the articles give for what a company has raised in all (a total only
    grows, so this is the latest, even where an article has no date), then the earlier ones. For
    several companies, each one's latest figure and their sum; one the articles give no total for
    is said to be missing."""
    if len(aggregate.companies) > 1:
        return _raised_in_all_together(store, aggregate)
    facts = find_facts(store, aggregate.query, order="amount")[:MAX_ROWS]
    if not facts:
        return None
    writer = _Writer(store)
    rows = [writer.row(f, with_company=False) for f in facts]
    latest = facts[0]
    figure = format_amount(latest.amount or 0, latest.event.fields["amount"].text)
    earlier = "Every figure the articles give, latest first" if len(facts) > 1 else "The article"
    return writer.answer(f"{latest.company} has raised {figure} in all, by the latest figure in the articles. "
                         f"{earlier}:\n" + "\n".join(rows))


def _raised_in_all_together(store: Store, aggregate: Aggregate) -> TableAnswer | None:
    latest = {name: next(iter(find_facts(store, replace(aggregate.query, company=name), order="amount")), None)
              for name in aggregate.companies}
    found = [f for f in latest.values() if f is not None and f.amount]
    if not found:
        return None
    writer = _Writer(store)
    rows = [writer.row(f) for f in found]
    missing = [name for name, f in latest.items() if f is None or not f.amount]
    total = sum(f.amount or 0 for f in found)
    like = found[0].event.fields["amount"].text
    lead = (f"By the latest figure the articles give for each, {_joined(tuple(f.company for f in found))} have raised "
            f"{format_amount(total, like)} in all together:" if len(found) > 1 else
            f"By the latest figure in the articles, {found[0].company} has raised "
            f"{format_amount(total, like)} in all:")
    gap = f"\nThe articles give no total for {_joined(tuple(missing))}." if missing else ""
    return writer.answer(lead + "\n" + "\n".join(rows) + gap)


def _both(store: Store, aggregate: Aggregate) -> TableAnswer | None:
    """Investors named in rounds of every company asked about."""
    per_company = []
    for company in aggregate.companies:
        facts = find_facts(store, replace(aggregate.query, company=company))
        if not facts:
            return None
        per_company.append((company, facts))
    writer = _Writer(store)
    backers = [{core_name(n): (n, f) for f in facts for key in ("lead_investors", "investors")
                for n in f.event.names(key)} for _, facts in per_company]
    # One investor under two names: "Salesforce" in one report, "Salesforce Ventures" in another.
    matches = [[next((k for k in b if same_company(key, k)), None) for b in backers] for key in backers[0]]
    common = [keys for keys in matches if all(keys)]
    names = " and ".join(c for c, _ in per_company)
    if not common:
        rows = [writer.row(f) for _, facts in per_company for f in facts[:3]]
        none = writer.answer(f"The articles name no investor in both {names}. Their rounds:\n" + "\n".join(rows))
        return replace(none, declined=True)
    lines = []
    for keys in common:
        said = list(dict.fromkeys(b[k][0] for b, k in zip(backers, keys, strict=True)))
        cites = " ".join(writer.cite(b[k][1]) for b, k in zip(backers, keys, strict=True))
        lines.append(f"- {' / '.join(said)} {cites}")
    return writer.answer(f"Investors in both {names}, in the articles:\n" + "\n".join(lines))


class _Writer:
    """Numbers the passages that rows cite, one citation per passage."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.passages: list[Passage] = []
        self.sentences: dict[str, list[str]] = {}
        self.spans: dict[str, list[tuple[int, int]]] = {}

    def cite(self, fact: Fact, name: str = "") -> str:
        passage = passage_for(self.store, fact, name)
        if passage is None:
            return ""
        if passage.chunk_id not in {p.chunk_id for p in self.passages}:
            self.passages.append(passage)
        n = next(i for i, p in enumerate(self.passages, 1) if p.chunk_id == passage.chunk_id)
        report = fact.reports[0].event
        field = report.fields.get(name) or report.fields.get("amount") or report.fields.get("price")
        if field and field.where == "body":
            for start, end in split_sentences(passage.text):
                if passage.start + start <= field.start < passage.start + end:
                    self.spans.setdefault(passage.chunk_id, []).append((start, end))
        return f"[{n}]"

    def row(self, fact: Fact, *, with_company: bool = True) -> str:
        e = fact.event
        parts = [fact.date] if fact.date else []
        who = e.company if e.kind != "acquisition" else f"{e.company} bought {e.value('target')}"
        if with_company or e.kind == "acquisition":
            parts.append(who)
        if e.value("round"):
            parts.append(e.value("round"))
        money = e.fields.get(e.figure_key)
        if money:
            parts.append(format_amount(money.value, money.text))
        if e.kind == TOTAL:
            before, this = e.fields.get("prior"), e.fields.get("this_round")
            parts[-1] += (f" in all ({before.text} before its {this.text} round)" if before and this
                          else " in all")
        text = "- " + ", ".join(parts)
        backers = e.names("lead_investors")
        if backers:
            text += f", led by {', '.join(backers)}"
        elif e.names("investors"):
            text += f", from {', '.join(e.names('investors')[:4])}"
        text += " " + self.cite(fact)
        for name, found in fact.disagreements.items():
            for _value, report, span in found:
                other = Fact(report.event, [report])
                text += f" (another figure for the {name}: {span.text} {self.cite(other, name)})"
        return text

    def answer(self, text: str) -> TableAnswer:
        citations = [Citation(n=i, title=p.title, date=p.date, url=p.url, source=p.source, passage=p.text,
                              start=p.start, end=p.end, score=1.0, article_id=p.article_id,
                              sentences=tuple(line for line in text.splitlines() if f"[{i}]" in line),
                              support=tuple(sorted(set(self.spans.get(p.chunk_id, [])))))
                     for i, p in enumerate(self.passages, 1)]
        return TableAnswer(text, citations, list(self.passages))
