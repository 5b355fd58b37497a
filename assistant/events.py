"""Startup events as records: a funding round, an acquisition, an IPO, a layoff or what a company
has raised in all, each field with the span of the article it was read from (``event_reader``
reads them), and the rules that decide when two mentions are one event and how their fields
combine.

Two statements of one event can disagree: a headline's "$620 million" over the body's "$600
million", or two valuations. The body's full statement leads and the other figure is kept in
``conflicts``, so an answer can say the sources differ and cite both."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from typing import Any

from .entities import core_name, normal
from .event_patterns import IN_MONTH, IN_YEAR, MONTHS
from .text import Money

ROUND, ACQUISITION, IPO, LAYOFF = "round", "acquisition", "ipo", "layoff"
TOTAL = "total"  # what a company has raised in all, as an article states it: never a round
KINDS = (ROUND, ACQUISITION, IPO, LAYOFF, TOTAL)

@dataclass
class Span:
    """A field's value and where it was read: ``where`` is "title" or "body"; offsets into it."""

    value: Any
    text: str
    where: str
    start: int
    end: int


@dataclass
class Event:
    """One event with its fields as ``Span``s; ``subject`` when the article is about it."""

    kind: str
    fields: dict[str, Span] = field(default_factory=dict)
    lists: dict[str, list[Span]] = field(default_factory=dict)  # lead_investors, investors
    subject: bool = False
    conflicts: dict[str, list[Span]] = field(default_factory=dict)  # other figures stated per field
    exact: bool = False  # while reading: one with another report only on the same figure (an earlier round)

    def value(self, name: str) -> Any:
        span = self.fields.get(name)
        return span.value if span else None

    def names(self, name: str) -> list[str]:
        return [s.value for s in self.lists.get(name, [])]

    @property
    def company(self) -> str:
        """Whose event it is: the company raising, listing or laying off, or the acquirer."""
        return self.value("company") or self.value("acquirer") or ""

    @property
    def figure_key(self) -> str:
        """The field of its main figure: a deal's price, else the amount."""
        return "price" if self.kind == ACQUISITION else "amount"

    @property
    def amount(self) -> float | None:
        return self.value(self.figure_key)

    def parties(self) -> list[tuple[str, str]]:
        """(role, name) for every company and investor it names."""
        found = [(role, self.value(role)) for role in ("company", "acquirer", "target") if self.value(role)]
        found += [("acquirer", self.value("owner"))] if self.value("owner") else []  # the buyer's parent
        return found + [("lead" if key == "lead_investors" else "investor", s.value)
                        for key in ("lead_investors", "investors") for s in self.lists.get(key, [])]

    def to_json(self) -> dict[str, Any]:
        def span(s: Span) -> dict[str, Any]:
            return {"value": s.value, "text": s.text, "where": s.where, "start": s.start, "end": s.end}

        return {"kind": self.kind, "subject": self.subject,
                "fields": {k: span(v) for k, v in self.fields.items()},
                "lists": {k: [span(s) for s in v] for k, v in self.lists.items()},
                "conflicts": {k: [span(s) for s in v] for k, v in self.conflicts.items()}}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Event:
        return cls(data["kind"], {k: Span(**v) for k, v in data["fields"].items()},
                   {k: [Span(**s) for s in v] for k, v in data["lists"].items()}, data["subject"],
                   {k: [Span(**s) for s in v] for k, v in data["conflicts"].items()})


def figure(key: str, m: Money, where: str, offset: int) -> dict[str, Span]:
    """An amount's field (``amount``, ``price`` or ``prior``) and its ``currency``, both at its span."""
    return {key: Span(m.value, m.text, where, offset + m.start, offset + m.end),
            "currency": Span(m.currency, m.text, where, offset + m.start, offset + m.end)}


_CONVERTED = re.compile(r"\s*\(\s*(?:about|around|approximately|approx\.|roughly|some|nearly|~|or|US)?\s*")


def one_amount_each(sentence: str, amounts: list[Money]) -> list[Money]:
    """The amounts of ``sentence``, each one given in two currencies as one amount: the figure written first,
    spanning both ("€12 million ($13.97 million)", "900 million yen (about $7.9 million)"), so that it is one
    round, not two, and what follows the bracket ("... in new funding from Flint Capital") is still read."""
    out: list[Money] = []
    for m in amounts:
        first = out[-1] if out else None
        if first and {first.currency, m.currency} > {"USD"} and _CONVERTED.fullmatch(sentence, first.end, m.start):
            end = m.end + (sentence[m.end:m.end + 1] == ")")
            out[-1] = replace(first, text=sentence[first.start:end], end=end)
        else:
            out.append(m)
    return out


def round_name(said: str) -> str:
    """A round's name as the table keeps it: "series-b" and "Series B" are "Series B", "Seed" is "seed"."""
    name = re.sub(r"[\s-]+", " ", said).strip()
    return f"Series {name[7:8].upper()}{name[8:]}" if name.lower().startswith("series ") else name.lower()


def stated_date(sentence: str, article_date: str, where: str, offset: int) -> Span | None:
    """When ``sentence`` dates its event ("in November" written in May is last year's, "last July", "In 2013"),
    else the article's date (None without one)."""
    match, year = _event_date(IN_MONTH, sentence), article_date[:4]
    if match:
        month = MONTHS.index(match.group(1).lower()) + 1
        stated = match.group(3)
        # "last July" is the previous calendar year's (news writes "in July" for this year's).
        last = match.group().lower().startswith("last")
        if not stated and year.isdigit() and article_date[5:7].isdigit() and (last or month > int(article_date[5:7])):
            stated = str(int(year) - 1)
        value = f"{stated or year}-{month:02d}" if (stated or year) else ""
    elif (found := _event_date(IN_YEAR, sentence)) and found.group(1) != year:
        match, value = found, found.group(1)
    else:  # unless the sentence puts it at some other, unstated time: "A few months later, it picked up X"
        elsewhen = _SOME_OTHER_TIME.search(sentence) and not _NOW.search(sentence)
        return Span(article_date, "", "article", 0, 0) if article_date and not elsewhen else None
    return Span(value, match.group(), where, offset + match.start(), offset + match.end()) if value else None


_SOME_OTHER_TIME = re.compile(r"\b(?:(?:months?|years?|weeks?|days?)\s+(?:later|earlier|ago|before|after)|"
                              r"(?:last|previous|prior)\s+(?:year|month)|previously|back\s+in|at\s+the\s+time)\b",
                              re.IGNORECASE)
_NOW = re.compile(r"\b(?:today|yesterday|this\s+(?:week|morning)|tonight)\b", re.IGNORECASE)
# When the company began, not when its event happened: "Hugging Face, founded in 2016, ... its $100 million series C".
_FOUNDED = re.compile(r"\b(?:founded|established|started|launched|incorporated|formed|created|born)"
                      r"(?:\s+by\s+[^,.;$]{1,50}?)?\s+$", re.IGNORECASE)  # "founded by former Google engineers in 2011"


def _event_date(pattern: re.Pattern[str], sentence: str) -> re.Match[str] | None:
    return next((m for m in pattern.finditer(sentence) if not _FOUNDED.search(sentence, 0, m.start())), None)


def event_columns(event: Event) -> tuple[Any, ...]:
    """The ``events`` row of an event (after its article id): kind, subject, company, its key,
    amount, currency, round, date and the whole event as JSON."""
    return (event.kind, int(event.subject), event.company, core_name(event.company), event.amount,
            event.value("currency"), event.value("round"), event.value("date") or "",
            json.dumps(event.to_json(), ensure_ascii=False))


def combine(events: list[Event], main: str, date: str) -> list[Event]:
    """One event per company, kind and amount, from an article's mentions in reading order:
    details merged into the main company's round, the title's figure kept as a conflict when the
    body states another, and ``subject`` set on the events of ``main`` (not those the text dates
    before the article). Incomplete events are dropped; the article's own come first."""
    merged: list[Event] = []
    for event in events:
        if "details_only" in event.fields:
            event.fields.pop("details_only")
            whose = event.value("company") or main  # (the round of the sentence before, when it says)
            target = next((e for e in merged if e.kind == ROUND and same_company(e.value("company") or "", whose)),
                          None)
            if target is not None:
                _merge(target, event)
            continue
        same = next((e for e in merged if _same(e, event)), None)
        if same is None:
            merged.append(event)
        else:
            _merge(same, event)
    for total in (e for e in merged if e.kind == TOTAL and "prior" in e.fields and "amount" not in e.fields):
        _add_the_round(total, merged, date)
    # A buyer's price called an investment ("recoup its $19.7 billion investment") is no round of the buyer.
    paid = [(e.company, e.amount) for e in merged if e.kind == ACQUISITION and e.amount]
    merged = [e for e in merged if not (e.kind == ROUND and any(
        e.amount == price and same_company(e.company, buyer) for buyer, price in paid))]
    for event in merged:
        event.subject = bool(main) and (same_company(event.company, main)
                                        or same_company(event.value("target") or "", main))
        event.subject = event.subject and not _past(event, date) and not event.exact  # exact: an earlier round
    return sorted((e for e in merged if _complete(e)), key=lambda e: not e.subject)


def same_company(a: str, b: str) -> bool:
    """"Zebra" and "Zebra Technologies", "SenseTime" and "SenseTime Group Ltd.": one name's words
    lead the other's; "ProcessGold" and "Process Gold" are one name spaced two ways."""
    x, y = core_name(a).split(), core_name(b).split()
    return bool(x and y) and (x[:len(y)] == y or y[:len(x)] == x or "".join(x) == "".join(y))


def _same(a: Event, b: Event) -> bool:
    if a.kind != b.kind:
        return False
    keys = {ROUND: ("company",), ACQUISITION: ("target",), IPO: ("company",), LAYOFF: ("company",),
            TOTAL: ("company",)}[a.kind]
    if any(not same_company(a.value(k) or "", b.value(k) or "") for k in keys):
        return False
    amount = "price" if a.kind == ACQUISITION else "amount"
    x, y = a.value(amount), b.value(amount)
    if x is None or y is None or x == y:
        return True
    if a.exact or b.exact:  # not a headline's rounding of it: "$147 million", then "following a $130 million series G"
        return False
    titled = {a.fields[amount].where, b.fields[amount].where} == {"title", "body"}
    return titled and abs(x - y) / max(x, y) < 0.25  # "raises $620 million" over a body's "$600 million"


def _merge(into: Event, other: Event) -> None:
    """Add ``other``'s fields to ``into``. Where both state a figure and they differ, the body's
    full statement of the event leads (a headline rounds, "$620 million" for "$600 million") and
    the other figure is kept as a conflict."""
    amount = "price" if into.kind == ACQUISITION else "amount"
    ours, theirs = into.fields.get(amount), other.fields.get(amount)
    theirs_lead = bool(ours and theirs and ours.where == "title" and theirs.where == "body")
    for name, span in other.fields.items():
        mine = into.fields.get(name)
        if mine is None or (mine.value == span.value and mine.where == "title" and span.where == "body"):
            into.fields[name] = span
        elif mine.value != span.value and name in ("amount", "price", "valuation"):
            if theirs_lead or (mine.where == "title" and span.where == "body"):
                into.fields[name], span = span, mine
                if name == amount and "currency" in other.fields:  # the currency of the figure that leads
                    into.fields["currency"] = other.fields["currency"]
            into.conflicts.setdefault(name, []).append(span)
    for name, spans in other.lists.items():
        known = {normal(s.value) for s in into.lists.get(name, [])}
        into.lists.setdefault(name, []).extend(s for s in spans if normal(s.value) not in known)
    lead = {normal(s.value) for s in into.lists.get("lead_investors", [])}
    if lead and "investors" in into.lists:
        into.lists["investors"] = [s for s in into.lists["investors"] if normal(s.value) not in lead]


def _add_the_round(total: Event, events: list[Event], date: str) -> None:
    """"Uniphore had previously raised $81 million" in the article of its $140 million round: it
    has raised $221 million in all. The sum is kept at the prior figure's span, with both parts."""
    prior = total.fields["prior"]
    this = next((e for e in events if e.kind == ROUND and e.amount and same_company(e.company, total.company)
                 and e.value("currency") == total.value("currency") and not _past(e, date) and not e.exact), None)
    if this is not None:
        total.fields["company"] = this.fields["company"]  # the round's fuller name: "Zorblax Robotics", not "Zorblax"
        total.fields["this_round"] = this.fields["amount"]
        total.fields["amount"] = Span(prior.value + this.fields["amount"].value, prior.text, prior.where,
                                      prior.start, prior.end)


def _complete(event: Event) -> bool:
    need = {ROUND: ("company", "amount"), ACQUISITION: ("acquirer", "target"), IPO: ("company",),
            LAYOFF: ("company",), TOTAL: ("company", "amount")}[event.kind]
    return all(event.value(k) is not None for k in need)


def _past(event: Event, date: str) -> bool:
    stated = event.fields.get("date")
    return bool(stated and stated.where != "article" and date and stated.value[:4] < date[:4])
