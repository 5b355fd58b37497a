"""The Startups tab: the fact table (rounds, acquisitions, IPOs, layoffs) with filters, a chart,
and, for any cell clicked, the passage that states it with that sentence highlighted.

The rows come from ``facttable.find_facts`` (the same records as `assistant facts`); nothing is
computed here but the layout. Amounts are shown in millions as numbers, so the table's own
column sort orders them by size.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..events import KINDS, TOTAL
from ..facttable import Fact, FactQuery, find_facts, passage_for
from ..text import split_sentences
from .render import esc, safe_url

if TYPE_CHECKING:
    import gradio as gr

    from ..store import Store

HEADERS = ["Date", "Kind", "Company", "Round", "Amount ($M)", "Valuation ($M)", "Lead investors", "Investors",
           "Target", "Source"]
# The event field each column shows: a click on the cell shows the passage that states it.
FIELDS = ["date", "kind", "company", "round", "amount", "valuation", "lead_investors", "investors", "target", ""]
MAX_ROWS = 500


@dataclass
class Table:
    """What the tab shows: the facts (in row order) and their rows."""

    facts: list[Fact]
    rows: list[list[Any]]


def fact_table(store: Store, query: FactQuery, order: str = "date") -> Table:
    facts = find_facts(store, query, order=order, limit=MAX_ROWS)
    return Table(facts, [_row(f) for f in facts])


def _row(fact: Fact) -> list[Any]:
    e = fact.event
    money = e.amount
    valuation = e.value("valuation")
    report = fact.reports[0]
    return [fact.date, e.kind, e.company, e.value("round") or "", round(money / 1e6, 2) if money else None,
            round(valuation / 1e6, 1) if valuation else None, ", ".join(e.names("lead_investors")),
            ", ".join(e.names("investors")), e.value("target") or "", report.title]


def passage_card(store: Store, fact: Fact, column: int) -> str:
    """The passage that states the clicked cell's field, that sentence highlighted, the other
    figures the sources give, and a link to the article."""
    name = FIELDS[column] if 0 <= column < len(FIELDS) else ""
    field = "price" if name == "amount" and fact.kind == "acquisition" else name
    passage = passage_for(store, fact, field if field in fact.event.fields else "")
    report = fact.reports[0]
    if passage is None:
        return '<div class="src-note">No stored passage for this row.</div>'
    span = report.event.fields.get(field) or report.event.fields.get("amount") or report.event.fields.get("price")
    text = esc(passage.text)
    if span and span.where == "body":
        for start, end in split_sentences(passage.text):
            if passage.start + start <= span.start < passage.start + end:
                text = (esc(passage.text[:start]) + f"<mark>{esc(passage.text[start:end])}</mark>"
                        + esc(passage.text[end:]))
                break
    url = safe_url(report.url)
    title = f'<a href="{esc(url)}" target="_blank" rel="noopener noreferrer">{esc(report.title)}</a>' if url \
        else esc(report.title)
    others = "".join(f"<li>{esc(n)}: {esc(s.text)} ({esc(r.title)})</li>" for n, found in fact.disagreements.items()
                     for _, r, s in found)
    differ = f'<div class="src-note">The sources differ:<ul>{others}</ul></div>' if others else ""
    more = "".join(f"<li>{esc(r.title)} {esc(r.date)}</li>" for r in fact.reports[1:])
    also = f'<div class="src-note">Also reported by:<ul>{more}</ul></div>' if more else ""
    return (f'<div class="src-card" id="fact-passage"><div class="src-title">{title}</div>'
            f'<div class="src-meta">{esc(report.date)} · {esc(name or "row")}</div>'
            f'<div class="src-text">{text}</div>{differ}{also}</div>')


def chart_data(table: Table, query: FactQuery) -> Any:
    """For one company, its rounds (or deals) over time; otherwise the ten largest amounts. Totals
    (what a company has raised in all) only when they are asked for: they are not rounds."""
    import pandas as pd

    rows = []
    for f in table.facts:
        if f.amount and (f.kind != TOTAL or query.kind == TOTAL):
            who = f.company if f.kind != "acquisition" else f"{f.company} → {f.event.value('target')}"
            label = f"{f.date} {f.event.value('round') or f.kind}" if query.company else who
            rows.append((label, round(f.amount / 1e6, 2)))
    if not query.company:
        rows = sorted(rows, key=lambda r: -r[1])[:10]
    return pd.DataFrame(rows, columns=["who", "amount ($M)"])


def startups_tab(store: Store) -> None:
    """The tab's components and events (inside the page's Blocks)."""
    import gradio as gr

    private = {"api_visibility": "private"}
    with gr.Tab("Startups"):
        gr.Markdown("Funding rounds, acquisitions, IPOs, layoffs and funding totals read from the articles. Click a "
                    "cell to see the passage that states it; click a column header to sort.")
        with gr.Row():
            company = gr.Textbox(label="Company", placeholder="e.g. SenseTime", elem_id="facts-company")
            investor = gr.Textbox(label="Investor", placeholder="e.g. Sequoia", elem_id="facts-investor")
            kind = gr.Dropdown(["", *KINDS], value="", label="Kind", elem_id="facts-kind")
        with gr.Row():
            since = gr.Textbox(label="Since", placeholder="YYYY or YYYY-MM-DD")
            until = gr.Textbox(label="Until", placeholder="YYYY or YYYY-MM-DD")
            minimum = gr.Number(label="At least ($M)", value=None, minimum=0)
            mentions = gr.Checkbox(label="Include earlier rounds mentioned in passing", value=False)
        search = gr.Button("Show", variant="primary", elem_id="facts-show")
        summary = gr.Markdown("", elem_id="facts-summary")
        grid = gr.Dataframe(headers=HEADERS, datatype=["str", "str", "str", "str", "number", "number", "str", "str",
                                                       "str", "str"],
                            interactive=False, wrap=True, elem_id="facts-table", max_height=520,
                            column_widths=["9%", "7%", "12%", "7%", "7%", "8%", "12%", "14%", "9%", "15%"])
        chart = gr.BarPlot(x="who", y="amount ($M)", title="Amounts ($M): a company's over time, or the largest",
                           elem_id="facts-chart", height=280, x_label_angle=-30, sort=None)
        card = gr.HTML('<div class="src-note">Click a cell to see its passage.</div>', elem_id="facts-card")
        shown = gr.State([])

        def show(company_: str, investor_: str, kind_: str, since_: str, until_: str, minimum_: float | None,
                 mentions_: bool) -> tuple[Any, ...]:
            query = FactQuery(company=company_.strip(), investor=investor_.strip(), kind=kind_ or "",
                              since=since_.strip(), until=until_.strip(),
                              min_amount=minimum_ * 1e6 if minimum_ else None, subject_only=not mentions_)
            table = fact_table(store, query)
            note = f"**{len(table.facts)} fact(s).**" + (" Showing the first 500." if len(table.facts) >= MAX_ROWS
                                                         else "")
            return note, table.rows, chart_data(table, query), table.facts

        def select(facts: list[Fact], evt: gr.SelectData) -> str:
            row, column = evt.index if isinstance(evt.index, list | tuple) else (evt.index, 0)
            return passage_card(store, facts[row], column) if 0 <= row < len(facts) else ""

        select.__annotations__["evt"] = gr.SelectData  # (PEP 563 strings: Gradio needs the class)
        inputs = [company, investor, kind, since, until, minimum, mentions]
        for trigger in (search.click, company.submit, investor.submit):
            trigger(show, inputs, [summary, grid, chart, shown], **private)
        grid.select(select, shown, card, **private)
