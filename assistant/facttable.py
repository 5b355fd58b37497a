"""The table of startup facts: funding rounds, acquisitions, IPOs and layoffs, each cited.

``events`` are read from every article at ingest (``event_reader``) and stored beside it in
the store's SQLite file, so re-ingest, updates, ``--prune`` and the journal keep them in step.
This module queries them with parameterised SQL (never SQL from a model) and joins what
several articles report of one event into one ``Fact`` with every source. Each field keeps
the span it was read from; ``passage_for`` finds the stored passage that holds it, which is
what an answer cites.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

from .documents import Passage
from .entities import core_name
from .events import ACQUISITION, KINDS, Event, Span, round_name, same_company
from .text import format_amount, key_terms

if TYPE_CHECKING:
    from .store import Store

SAME_EVENT_DAYS = 120  # reports of one round (or deal) this close in time, same company and amount


@dataclass(frozen=True)
class FactQuery:
    """Which facts: any field left empty does not filter. Names match case-insensitively and by
    their leading words ("Zebra" finds "Zebra Technologies"); dates are ISO prefixes."""

    company: str = ""  # the company raising, listing or laying off; an acquirer or a target
    investor: str = ""  # a lead or other investor of a round
    lead_only: bool = False  # with investor: only the rounds it led
    round: str = ""  # a round's name: "Series B", "seed"
    kind: str = ""  # round, acquisition, ipo, layoff
    since: str = ""  # YYYY, YYYY-MM or YYYY-MM-DD, inclusive
    until: str = ""
    min_amount: float | None = None
    role: str = ""  # with company: only events where it is the "acquirer" or the "target"
    topic: str = ""  # words the article must have ("robotics" finds "robot", "robots": the index's stems)
    subject_only: bool = False  # only the events the articles are about (not earlier rounds in passing)


@dataclass
class Report:
    """One article's report of a fact."""

    article_id: str
    title: str
    date: str
    url: str
    source: str
    event: Event


@dataclass
class Fact:
    """One real-world event as the articles report it: the first report's fields (the
    article it is about first), every report, and the figures the reports disagree on."""

    event: Event
    reports: list[Report] = field(default_factory=list)
    disagreements: dict[str, list[tuple[Any, Report, Span]]] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return self.event.kind

    @property
    def company(self) -> str:
        return self.event.company

    @property
    def amount(self) -> float | None:
        return self.event.amount

    @property
    def date(self) -> str:
        return self.event.value("date") or self.reports[0].date

    def to_dict(self) -> dict[str, Any]:
        """A flat record for JSON and CSV: every field, its span, the sources and the disagreements."""
        e = self.event
        record: dict[str, Any] = {"kind": e.kind, "company": e.company, "date": self.date}
        for name in ("round", "amount", "currency", "valuation", "valuation_kind", "acquirer", "owner", "target",
                     "price", "listing", "size", "count", "share"):
            if e.value(name) is not None:
                record[name] = e.value(name)
        for name in ("lead_investors", "investors"):
            if e.lists.get(name):
                record[name] = e.names(name)
        first = self.reports[0]
        def span(s: Span) -> dict[str, Any]:
            return {"text": s.text, "where": s.where, "start": s.start, "end": s.end, "article_id": first.article_id}

        record["spans"] = {name: span(s) for name, s in e.fields.items() if s.where in ("title", "body")}
        record["spans"].update({name: [span(s) for s in spans] for name, spans in e.lists.items() if spans})
        if e.fields.get("date") and e.fields["date"].where == "article":
            record["spans"]["date"] = {"text": first.date, "where": "article date", "article_id": first.article_id}
        record["sources"] = [{"article_id": r.article_id, "title": r.title, "date": r.date, "url": r.url,
                              "source": r.source} for r in self.reports]
        record["conflicts"] = {name: [{"value": v, "text": s.text, "article_id": r.article_id} for v, r, s in found]
                               for name, found in self.disagreements.items()}
        return record


def find_facts(store: Store, query: FactQuery = FactQuery(), *, order: str = "date", limit: int = 0) -> list[Fact]:
    """The facts ``query`` asks for, ordered by ``date`` (oldest first) or ``amount`` (largest
    first), at most ``limit`` (0: all)."""
    where, args = ["1=1"], []
    if query.kind:
        if query.kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {query.kind!r}")
        where.append("e.kind = ?")
        args.append(query.kind)
    if query.company:
        key = core_name(query.company)
        roles = (query.role,) if query.role else ("company", "acquirer", "target")
        # Either name's words lead the other's, as ``same_company`` has it: "SambaNova Systems" is the
        # "SambaNova" of the articles too.
        shorter = [" ".join(key.split()[:n]) for n in range(1, len(key.split()))]
        where.append(f"EXISTS (SELECT 1 FROM event_parties p WHERE p.event = e.rowid AND p.role IN "
                     f"({','.join('?' * len(roles))}) AND (p.key IN ({','.join('?' * (1 + len(shorter)))}) "
                     "OR p.key BETWEEN ? AND ?))")
        args += [*roles, key, *shorter, *_longer(key)]
    if query.investor:
        key = core_name(query.investor)
        roles = "'lead'" if query.lead_only else "'lead', 'investor'"
        where.append(f"EXISTS (SELECT 1 FROM event_parties p WHERE p.event = e.rowid AND p.role IN ({roles}) "
                     "AND (p.key = ? OR p.key BETWEEN ? AND ?))")
        args += [key, *_longer(key)]
    if query.round:
        where.append("lower(e.round) = ?")
        args.append(round_name(query.round).lower())
    if query.since:
        where.append("e.date >= ?")
        args.append(query.since)
    if query.until:
        where.append("e.date < ?")
        args.append(_after(query.until))
    if query.min_amount is not None:
        where.append("e.amount >= ?")
        args.append(query.min_amount)
    if query.subject_only:
        where.append("e.subject = 1")
    if query.topic and key_terms(query.topic):
        where.append("e.article_id IN (SELECT c.article_id FROM chunks_fts f JOIN chunks c ON c.rowid = f.rowid "
                     "WHERE chunks_fts MATCH ?)")
        args.append(" AND ".join(f'"{term}"' for term in key_terms(query.topic)))
    rows = store.db.execute(
        "SELECT e.article_id, e.data, a.title, a.date, a.url, a.source FROM events e JOIN articles a ON a.id = "
        f"e.article_id WHERE {' AND '.join(where)} ORDER BY e.subject DESC, a.date", args).fetchall()
    facts = combine_reports([Report(r[0], r[2], r[3], r[4], r[5], Event.from_json(json.loads(r[1]))) for r in rows])
    if order == "amount":
        facts.sort(key=lambda f: -_rough_usd(f))
    else:
        facts.sort(key=lambda f: f.date)
    return facts[:limit] if limit else facts


# Rough dollars per unit, only to rank figures in several currencies (900 million yen is no $900 million round);
# every figure is still shown as written.
_ROUGH_USD = {"USD": 1.0, "EUR": 1.1, "GBP": 1.25, "JPY": 0.007, "CNY": 0.14, "INR": 0.012, "CAD": 0.75, "AUD": 0.66,
              "SGD": 0.74}


def _rough_usd(fact: Fact) -> float:
    return (fact.amount or 0) * _ROUGH_USD.get(fact.event.value("currency") or "USD", 1.0)


def is_party(store: Store, name: str, *, exact: bool = False) -> bool:
    """Whether the fact table knows ``name`` as a company, acquirer, target or investor (with
    ``exact``, by that name alone, not as the start of a longer one: "AI" is not "AI21 Labs")."""
    key = core_name(name)
    low, high = (key, key) if exact else _longer(key)
    return store.db.execute("SELECT 1 FROM event_parties WHERE key = ? OR key BETWEEN ? AND ? LIMIT 1",
                            (key, low, high)).fetchone() is not None


def known_as_investor(store: Store, name: str) -> bool:
    """Whether the fact table names ``name`` as a round's investor more often than as a company,
    acquirer or target: Tiger Global and Insight Partners are, Microsoft is not."""
    key = core_name(name)
    roles = dict(store.db.execute("SELECT role IN ('lead', 'investor'), count(*) FROM event_parties WHERE key = ? "
                                  "OR key BETWEEN ? AND ? GROUP BY 1", (key, *_longer(key))).fetchall())
    return roles.get(1, 0) > roles.get(0, 0)


def combine_reports(reports: list[Report]) -> list[Fact]:
    """Reports of one event (same kind, company, target; amounts within 5% or one unstated;
    dates within ``SAME_EVENT_DAYS``, or one undated; any two reports of one buyer's deal for one
    target; one company's round of one name with one figure, or within those days; a figure retold
    in passing) become one fact, dated by its earliest report; other figures become disagreements."""
    facts: list[Fact] = []
    for report in reports:
        fact = next((f for f in facts if _same_event(f, report)), None)
        if fact is None:
            facts.append(Fact(report.event, [report], {name: [(s.value, report, s) for s in spans]
                                                       for name, spans in report.event.conflicts.items()}))
            continue
        fact.reports.append(report)
        when = report.event.value("date") or report.date
        # A retelling comes after the event; "2015" adds nothing to "2015-06-01".
        if when and (not fact.date or _full(when) < _full(fact.date) and not fact.date.startswith(when)):
            fact.event.fields["date"] = report.event.fields.get("date") or Span(when, "", "article", 0, 0)
        for name in ("amount", "price", "valuation", "round"):
            theirs, ours = report.event.fields.get(name), fact.event.fields.get(name)
            if theirs is None:
                continue
            if ours is None:
                fact.event.fields[name] = theirs
            elif theirs.value != ours.value and not any(v == theirs.value for v, _, _ in
                                                        fact.disagreements.get(name, [])):
                fact.disagreements.setdefault(name, []).append((theirs.value, report, theirs))
        for name in ("lead_investors", "investors"):
            known = {core_name(s.value) for s in fact.event.lists.get(name, [])}
            fact.event.lists.setdefault(name, []).extend(
                s for s in report.event.lists.get(name, []) if core_name(s.value) not in known)
    return facts


def passage_for(store: Store, fact: Fact, name: str = "") -> Passage | None:
    """The stored passage of the first report that holds field ``name`` (or the event's main
    figure, else its first field): what an answer cites for it."""
    report = fact.reports[0]
    names = [name] if name else ["amount", "price", "target", "company", "acquirer"]
    spans = [report.event.fields[n] for n in names if n in report.event.fields] + [
        s for n in names for s in report.event.lists.get(n, [])[:1]]  # (a list's: "lead_investors")
    span = next((s for s in spans if s.where == "body"), None)
    offset = span.start if span else 0
    row = store.db.execute('SELECT id FROM chunks WHERE article_id=? AND start <= ? AND "end" > ? ORDER BY idx '
                           "LIMIT 1", (report.article_id, offset, offset)).fetchone() or store.db.execute(
        "SELECT id FROM chunks WHERE article_id=? ORDER BY idx LIMIT 1", (report.article_id,)).fetchone()
    return store.passages([row[0]]).get(row[0]) if row else None


def _same_event(fact: Fact, report: Report) -> bool:
    a, b = fact.event, report.event
    if a.kind != b.kind or not same_company(a.company, b.company):
        return False
    if a.kind == ACQUISITION:  # a buyer buys a company once: years apart, it is the same deal retold
        return same_company(a.value("target") or "", b.value("target") or "")
    x, y = a.amount, b.amount
    close = not (x and y and abs(x - y) > 0.05 * max(x, y))
    when = b.value("date") or report.date
    named = a.value("round") and a.value("round").lower() == (b.value("round") or "").lower()
    if named and (close or _days_apart(fact.date, when) <= SAME_EVENT_DAYS):
        return True  # one company's Series C of that figure, retold later; or its Series C said two ways at once
    if not close:
        return False
    if x and y and not b.subject and not (a.value("round") and b.value("round")):
        return True  # the figure retold in passing ("it raised $676 million last year"): that round
    if x and y and not (fact.date and when):  # one report undated: the same figure is the same round
        return True
    return _days_apart(fact.date, when) <= SAME_EVENT_DAYS


def _days_apart(a: str, b: str) -> int:
    from datetime import date

    try:
        x, y = date.fromisoformat(_full(a)), date.fromisoformat(_full(b))
    except ValueError:
        return 0 if a[:4] == b[:4] else 10**6
    return abs((x - y).days)


def _full(value: str) -> str:
    return (value + "-01-01"[len(value) - 4:]) if len(value) in (4, 7) else value


def _after(until: str) -> str:
    """The first date after ``until`` (inclusive prefixes): "2021" -> "2022", "2021-03" -> "2021-04"."""
    if len(until) == 4 and until.isdigit():
        return str(int(until) + 1)
    if len(until) == 7:
        year, month = int(until[:4]), int(until[5:])
        return f"{year + month // 12}-{month % 12 + 1:02d}"
    return until + "\uffff"


def _longer(key: str) -> tuple[str, str]:
    """The key range of names that start with ``key``'s words ("zebra" -> "zebra technologies"), as
    an index range rather than a LIKE pattern."""
    return key + " ", key + " \uffff"


COLUMNS = ("date", "kind", "company", "round", "amount", "valuation", "lead_investors", "investors", "target",
           "source")


def print_facts(facts: list[Fact], form: str, out: TextIO) -> None:
    """``facts`` as a text table, JSON records (``Fact.to_dict``) or CSV (one row per fact)."""
    if form == "json":
        json.dump([f.to_dict() for f in facts], out, indent=2, ensure_ascii=False)
        out.write("\n")
        return
    rows = [_row(f) for f in facts]
    if form == "csv":
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        writer.writerows([[row[c] for c in COLUMNS] for row in rows])
        return
    if not rows:
        out.write("No facts match.\n")
        return
    shown = [c for c in COLUMNS if any(row[c] for row in rows)]
    widths = {c: min(max(len(c), *(len(row[c]) for row in rows)), 40) for c in shown}
    out.write("  ".join(c.ljust(widths[c]) for c in shown).rstrip() + "\n")
    for row in rows:
        out.write("  ".join(row[c][:widths[c]].ljust(widths[c]) for c in shown).rstrip() + "\n")


def _row(fact: Fact) -> dict[str, str]:
    e = fact.event
    money = e.fields.get("price" if e.kind == ACQUISITION else "amount")
    amount = format_amount(money.value, money.text) if money else e.value("size") or ""  # (a layoff's size)
    if any(fact.disagreements.get(n) for n in ("amount", "price")):
        amount += " (sources differ: " + ", ".join(s.text for name in ("amount", "price")
                                                   for _, _, s in fact.disagreements.get(name, [])) + ")"
    valuation = e.fields.get("valuation")
    return {"date": fact.date, "kind": e.kind, "company": e.company, "round": e.value("round") or "",
            "amount": amount, "valuation": format_amount(valuation.value, valuation.text) if valuation else "",
            "lead_investors": "; ".join(e.names("lead_investors")), "investors": "; ".join(e.names("investors")),
            "target": e.value("target") or "", "source": fact.reports[0].url or fact.reports[0].source}
