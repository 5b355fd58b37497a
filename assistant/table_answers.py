"""Aggregate questions answered from the fact table: the rows are written in code, each cited to
the passage that states it, so no LLM is needed. When sources disagree on a figure, the row says
so and cites both. When the table has nothing, ``None``: the engine answers by retrieval.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from .aggregate import MAX_LISTED, MAX_ROWS, Aggregate, read_aggregate
from .documents import Citation, Passage
from .entities import core_name
from .events import TOTAL, same_company
from .facttable import Fact, FactQuery, find_facts, is_party, known_as_investor, passage_for
from .text import format_amount, split_sentences

if TYPE_CHECKING:
    from .query import Question
    from .store import Store


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
    if aggregate.op == "most":
        return _most(store, aggregate)
    if aggregate.op == "round":
        return _one_round(store, aggregate)
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
    if aggregate.op == "sum" and not any(f.amount for f in facts):
        # Nothing to add up ("datadog total spent on acquisitions?" where no price was disclosed): declined,
        # with the facts the articles do report.
        figure = "price" if aggregate.query.kind == "acquisition" else "amount"
        rows = [writer.row(f, with_company=not aggregate.query.company) for f in facts[:MAX_LISTED]]
        first = f"The articles state no {figure} to add up. " + _lead(replace(aggregate, op="list"), facts)
        return replace(writer.answer(first + "\n" + "\n".join(rows)), declined=True)
    shown = facts[:aggregate.limit] if aggregate.op in ("rank", "list") else facts[:MAX_LISTED]
    rows = [writer.row(f, with_company=not aggregate.query.company) for f in shown]
    lead = _lead(aggregate, facts)
    stated = max(facts, key=lambda f: f.event.value("deals_so_far") or 0)
    if aggregate.op == "count" and (stated.event.value("deals_so_far") or 0) > len(facts):
        # "Vectrix is the eighth acquisition for Cloudflare": more than the articles name one by one.
        buyer = stated.event.value("acquirer")
        lead = (f"{lead[:-1]}; an article says {buyer} has made {stated.event.value('deals_so_far')} in all "
                f"{writer.cite(stated, 'deals_so_far')}:")
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


_PLURALS = {"round": "funding rounds", "acquisition": "acquisitions", "ipo": "IPOs", "layoff": "layoffs",
            "total": "funding totals"}


def _lead(aggregate: Aggregate, facts: list[Fact]) -> str:
    q = aggregate.query
    what = f"{q.round} {_PLURALS[q.kind]}" if q.round else _PLURALS[q.kind]  # "series B funding rounds"
    owner = q.company if q.company and q.role != "target" else ""
    who = f"{_possessive(owner)} " if owner else ""
    scope = (f" {'led' if q.lead_only else 'backed'} by {q.investor}" if q.investor else
             f" of {_joined(aggregate.companies)}" if aggregate.op == "sum" and aggregate.companies else "")
    when = _when(q)
    limits = ([f"about {q.topic}"] if q.topic else []) + ([when] if when else [])
    period = f" ({', '.join(limits)})" if limits else ""
    if aggregate.op == "count":  # "6 acquisitions by Salesforce", not "6 Salesforce's acquisitions"
        by = f" {'of' if q.kind in ('round', 'total') else 'by'} {owner}" if owner else ""
        return f"The articles report {len(facts)} {what[:-1] if len(facts) == 1 else what}{by}{scope}{period}:"
    if aggregate.op == "sum":
        total, most = (sum(pick(_figures(f), default=0) for f in facts) for pick in (min, max))
        stated = sum(1 for f in facts if f.amount)
        like = next((f.event.fields[n].text for f in facts for n in ("amount", "price") if n in f.event.fields), "$")
        unstated = f"; {len(facts) - stated} more without a stated figure" if stated < len(facts) else ""
        unpriced = [t for t in aggregate.companies
                    if not any(f.amount and same_company(f.event.value("target"), t) for f in facts)]
        unstated += f"; no price for {' or '.join(unpriced)}" if unpriced else ""
        # Where sources disagree on a figure, the sum is a range: Altera at $16.7 or $17 billion.
        low, high = format_amount(total, like), format_amount(most, like)
        figure = (low if most == total else f"about {low} (the sources differ slightly on a figure)" if high == low
                  else f"between {low} and {high} (the sources differ on a figure)")
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
    total = format_amount(sum(f.amount or 0 for f in found), found[0].event.fields["amount"].text)
    missing = tuple(name for name, f in latest.items() if f not in found)
    lead = (f"By the latest figure the articles give for each, {_joined(tuple(f.company for f in found))} have raised "
            f"{total} in all together:" if len(found) > 1 else
            f"By the latest figure in the articles, {found[0].company} has raised {total} in all:")
    gap = f"\nThe articles give no total for {_joined(missing)}." if missing else ""
    return writer.answer(lead + "\n" + "\n".join(writer.row(f) for f in found) + gap)


def _one_round(store: Store, aggregate: Aggregate) -> TableAnswer | None:
    """What one round of one company was: its lead investors, backers, amount or valuation, when exactly
    one round of the table fits the question (its name, amount within 5%, year) and states what is asked;
    else None, and retrieval answers."""
    said = aggregate.amount
    facts = [f for f in find_facts(store, aggregate.query)
             if not said or f.amount and abs(f.amount - said) <= 0.05 * said]
    if len(facts) != 1:
        return None
    fact, asked = facts[0], aggregate.figure
    e, writer = fact.event, _Writer(store)
    money = e.fields.get("amount")
    what = " ".join(filter(None, (_possessive(e.company), money and format_amount(money.value, money.text),
                                  e.value("round"), "round")))  # "Hailo’s $136 million Series C round"
    leads, backers = e.names("lead_investors"), e.names("investors")
    if asked == "lead_investors" and leads:
        lead = f"{_joined(tuple(leads))} led {what} {writer.cite(fact, 'lead_investors')}."
    elif asked == "investors" and (leads or backers):
        lead = (f"{what} was led by {_joined(tuple(leads))}" if leads else f"{what} was backed by "
                f"{_joined(tuple(backers))}") + (f", with {_joined(tuple(backers))}" if leads and backers else "")
        lead += f" {writer.cite(fact, 'lead_investors' if leads else 'investors')}."
    elif asked == "amount" and money:
        lead = f"{e.company} raised {format_amount(money.value, money.text)}" + \
            (f" in its {e.value('round')}" if e.value("round") else "") + f" {writer.cite(fact, 'amount')}."
    elif asked == "valuation" and e.fields.get("valuation") and e.value("valuation") != fact.amount:
        valuation = e.fields["valuation"]  # (not one equal to the amount: a figure read twice)
        lead = f"{what} valued it at {format_amount(valuation.value, valuation.text)} {writer.cite(fact, asked)}."
    else:
        return None
    differ = [f"{span.text} {writer.cite(Fact(report.event, [report]), asked)}"
              for _, report, span in fact.disagreements.get(asked, [])]
    if differ:  # "SenseTime raised $600 million in its Series C [1] (the articles also say $620 Million [1])."
        lead = lead[:-1] + f" (the articles also say {' and '.join(differ)})."
    return writer.answer(lead[:1].upper() + lead[1:] + "\n" + writer.row(fact))


def _possessive(name: str) -> str:
    return f"{name}’" if name.endswith("s") else f"{name}’s"


def _most(store: Store, aggregate: Aggregate) -> TableAnswer | None:
    """Who did the most: each party's facts counted (one investor under two names counted once), the top
    ones listed, each with the facts it counts, cited."""
    def parties(fact: Fact) -> list[str]:
        e = fact.event
        return {"lead": e.names("lead_investors"), "investor": e.names("lead_investors") + e.names("investors"),
                "acquirer": [e.value("acquirer") or ""], "company": [e.company]}[aggregate.party]

    counted: dict[str, tuple[str, list[Fact]]] = {}
    for fact in find_facts(store, aggregate.query):
        for name in dict.fromkeys(core_name(n) for n in parties(fact) if n):
            key = next((k for k in counted if same_company(k, name)), name)
            surface = next(n for n in parties(fact) if core_name(n) == name)
            counted.setdefault(key, (surface, []))[1].append(fact)
    top = sorted(counted.values(), key=lambda item: -len(item[1]))[:aggregate.limit]
    if not top:
        return None
    writer = _Writer(store)
    what = _PLURALS[aggregate.query.kind]
    doing = {"lead": "led", "investor": "backed", "acquirer": "", "company": ""}[aggregate.party]

    def label(fact: Fact) -> str:  # what each counted fact is: the company backed or bought, or the round
        e = fact.event
        if aggregate.party == "company":
            money = e.fields.get(e.figure_key)
            return " ".join(filter(None, (e.value("round"), money and format_amount(money.value, money.text)))) or \
                fact.date or "a round"
        return e.value("target") if fact.kind == "acquisition" else e.company

    rows = []
    for name, facts in top:
        shown = ", ".join(f"{label(f)} {writer.cite(f)}" for f in facts[:5])
        rows.append(f"- {name}: {len(facts)} {what}{' ' + doing if doing else ''} ({shown}"
                    f"{', …' if len(facts) > 5 else ''})")
    when = _when(aggregate.query)
    return writer.answer(f"Counted in the articles{' (' + when + ')' if when else ''}, the most {what}"
                         f"{' ' + doing if doing else ''}:\n" + "\n".join(rows))


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
        buyer = f"{e.value('owner')}’s {e.company}" if e.value("owner") else e.company  # "Automattic’s WordPress VIP"
        who = e.company if e.kind != "acquisition" else f"{buyer} bought {e.value('target')}"
        if with_company or e.kind == "acquisition":
            parts.append(who)
        if e.value("round"):
            parts.append(e.value("round"))
        money = e.fields.get(e.figure_key)
        if money:
            parts.append(format_amount(money.value, money.text))
        if e.value("size"):  # a layoff's, as written: "laid off 150 employees"
            parts.append(f"laid off {e.value('size')}")
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
