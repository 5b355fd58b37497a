"""Startup facts: events read from articles at ingest, the fact table, `assistant facts`, and
aggregate questions (list, rank, sum, count, both) answered from the table with citations."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from conftest import SEED, SEEDS

from assistant import cli
from assistant.aggregate import read_aggregate
from assistant.chain import Engine
from assistant.config import Settings
from assistant.event_reader import extract_events
from assistant.facttable import FactQuery, Report, combine_reports, find_facts, is_party, known_as_investor
from assistant.query import read_question
from assistant.testing import FakeChatModel, fake_engine
from ingest import ingest
from ingest.load import load_file

# Fictional companies, so nothing here can be answered from memory.
ARTICLES = {
    "zorblax-a.txt": ("Zorblax Robotics raises $12 million for warehouse robots", "2020-03-04",
                      "Zorblax Robotics, a startup that makes warehouse robots, has raised $12 million in a Series A "
                      "round led by Quux Capital, with participation from Frobnitz Partners. The company will hire "
                      "engineers."),
    "zorblax-b.txt": ("Zorblax Robotics lands $40M Series B", "2021-06-10",
                      "Warehouse robot maker Zorblax Robotics today announced it raised $40 million in a Series B "
                      "round. Ostrander Ventures led the round, and Quux Capital also participated. Zorblax had "
                      "previously raised $12 million."),
    "plimsoll.txt": ("Plimsoll Genomics raises $25 million", "2021-02-01",
                     "Plimsoll Genomics has raised $25 million in a Series A round led by Ostrander Ventures. The "
                     "startup sequences genes for clinics. The round brings the company's total funding to $31 "
                     "million."),
    "kestrel-buys.txt": ("Kestrel Ledger buys payments startup Drumlin Pay for $90 million", "2021-09-09",
                         "Kestrel Ledger said it will acquire Drumlin Pay, a payments startup, for $90 million in "
                         "cash. The deal is Kestrel's second this year."),
    "kestrel-buys-2.txt": ("Kestrel Ledger acquires Sableworks", "2021-03-15",
                           "Kestrel Ledger has acquired Sableworks, a maker of speech software. Terms were not "
                           "disclosed."),
    "vantablur-cuts.txt": ("Vantablur Labs lays off 120 employees", "2022-11-02",
                           "Vantablur Labs lays off 120 employees as camera sensor sales slow, the company said."),
}


def _write(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, (title, date, body) in ARTICLES.items():
        (folder / name).write_text(f"{title}\n\n{date}\n\n{body}\n", encoding="utf-8")
    return folder


@pytest.fixture
def engine(settings: Settings, tmp_path: Path) -> Engine:
    return fake_engine([SEEDS, _write(tmp_path / "articles")], settings=settings,
                       chat=FakeChatModel(replies=["The articles don't say."]))


# -- reading events ---------------------------------------------------------------------------


def test_the_seed_round_with_its_conflicting_figures_and_spans() -> None:
    [article] = load_file(SEED, 10**7).articles
    event = extract_events(article.title, article.text, article.date)[0]
    assert (event.kind, event.company, event.value("round"), event.amount) == ("round", "SenseTime", "Series C", 6e8)
    assert event.value("date") == "2018-05-31" and event.subject
    assert [n.split()[0] for n in event.names("investors")] == ["Alibaba", "Temasek", "Suning.com"]
    assert [s.text for s in event.conflicts["amount"]] == ["$620 Million"]  # the headline's figure
    assert [s.value for s in event.conflicts["valuation"]] == [4.5e9] and event.value("valuation") == 3e9
    for name, span in event.fields.items():  # every field points at the words it was read from
        if span.where == "body":
            assert article.text[span.start:span.end] == span.text, name
    for span in event.lists["investors"]:
        assert article.text[span.start:span.end] == span.value


@pytest.mark.parametrize(("title", "body", "expected"), [
    ("Zebra buys RFID company, WhereNet, for $126 million", "Zebra said the deal closes soon.",
     ("acquisition", "Zebra", "WhereNet", 126e6)),
    ("Quux Capital backs robots", "Drumlin Health was acquired by Marrowby Group for $40 million on Monday.",
     ("acquisition", "Marrowby Group", "Drumlin Health", 40e6)),
    ("Quux Capital backs robots", "Its founder sold web access company Drumlin Health to data company Marrowby Group "
     "for $40 million in 2007.", ("acquisition", "Marrowby Group", "Drumlin Health", 40e6)),
    ("Acme raises $5M", "Acme, a startup backed by Foo Ventures, raised $5 million in seed funding led by Bar Capital.",
     ("round", "Acme", "seed", 5e6)),
    ("Vantablur Labs lays off 120 employees", "Vantablur Labs lays off 120 employees.", ("layoff", "Vantablur Labs",
                                                                                         None, None)),
])
def test_events_of_each_kind(title: str, body: str, expected: tuple) -> None:
    event = extract_events(title, body, "2021-01-01")[0]
    kind, company, other, amount = expected
    assert (event.kind, event.company) == (kind, company)
    if kind == "acquisition":
        assert (event.value("target"), event.amount) == (other, amount)
    elif kind == "round":
        assert (event.value("round"), event.amount, event.names("lead_investors")) == (other, amount, ["Bar Capital"])
    else:
        assert event.value("count") == 120


@pytest.mark.parametrize(("body", "leads"), [
    ("Zorblax raised $46 million in a Series E. Existing investors Quux Ventures, Plonk Capital, and Frob Partners "
     "led the round.",
     ["Quux Ventures", "Plonk Capital", "Frob Partners"]),
    ("Zorblax raised $9.5 million. Quux Ventures led Zorblax's investment round announced today.", ["Quux Ventures"]),
    ("Zorblax makes debit cards. To get there it just raised $5 million, with Quux Ventures leading the funding "
     "round.", ["Quux Ventures"]),
    ("Zorblax , a two-year-old startup, today emerged from stealth with $4.5 million in seed funding led by Quux "
     "Ventures.", ["Quux Ventures"]),
    ("Zorblax raised $5 million. Its first round was led by Quux Capital of Austin, Texas and includes Plonk "
     "Factory.", ["Quux Capital"]),  # the firm of a city, not the city's state
    ("Last week Bob Plonk's investment firm, Quux Capital, led a $9 million investment in Zorblax.", ["Quux Capital"]),
    ("Zorblax raised $83 million. The $83 million funding round was led by Quux Capital.", ["Quux Capital"]),
    ("Zorblax raised $3.5 million in a round co-led by Plonk’s corporate fund, Plonk Ventures, and Quux Capital.",
     ["Plonk Ventures", "Quux Capital"]),  # the owner of a backer is not one
    ("Zorblax raised $900 million in a round led by Plonk’s investment.", ["Plonk"]),
    ("Zorblax raised $8 million. Plonk Ventures led the company’s $8 million series A round.", ["Plonk Ventures"]),
    ("Zorblax raised $25 million in a series A led by European venture capital (VC) juggernaut Quux and A.Capital.",
     ["Quux", "A.Capital"]),
    ("Zorblax raised $75 million in a round led by Quux Investment Management (QIM), the London-based firm "
     "cofounded by Bob Plonk.", ["Quux Investment Management"]),
    ("Zorblax raised $25 million in a round led by Quux Ventures, joined by Plonk Capital.", ["Quux Ventures"]),
    ("Zorblax raised $6 million. Quuxia led the round, with Plonk Capital participating.", ["Quuxia"]),
    ("Zorblax raised $6 million. Investors led the round. Other investors came later.", []),
    ("Zorblax raised $40 million in a round led by New Quux Associates. New Quux Associates is a fund.",
     ["New Quux Associates"]),  # a counting word the article always writes before the name is part of it
    ("Zorblax raised $40 million in a round led by March Quux. March Quux is a fund.", ["March Quux"]),  # a month too
    ("Zorblax raised $167 million in a series D round co-led by Quux Partners, Plonk Ventures, and Frob Capital.",
     ["Quux Partners", "Plonk Ventures", "Frob Capital"]),  # the list's last item after a comma and "and"
    ("Zorblax raised $9 million. The round was led by Quux Capital and also included Plonk Ventures, Bob Frob, and "
     "Ann Baz.", ["Quux Capital"]),
    ("Zorblax raised $9 million. In addition to lead investor Quux Ventures, Zorblax's series A round included "
     "participation from Plonk Capital, Frob Partners, and Bob Baz.", ["Quux Ventures"]),
    ("Zorblax raised $26 million from its lead investors, Quux Ventures and Plonk Capital.",
     ["Quux Ventures", "Plonk Capital"]),
    ("Zorblax raised $75 million, which attracted Plonk Capital, in addition to Quux Growth, which led the round.",
     ["Quux Growth"]),
    ("Zorblax raised $5 million. Quux Capital and Plonk Ventures led the series A raised today.",
     ["Quux Capital", "Plonk Ventures"]),
    ("Zorblax raised $13 million. Its latest $13 million cash injection was spearheaded by Quux Catalyst, with "
     "participation from Plonk Capital.", ["Quux Catalyst"]),
    ("Zorblax raised $26 million. With another $26 million in the bank from its lead investors, Quux Ventures and "
     "Plonk Capital, the company said it plans to grow. So with another $26 million in the bank, Zorblax can expand.",
     ["Quux Ventures", "Plonk Capital"]),  # new money in the bank, from investors, is the round
    ("Zorblax raised $152 million. Quux Horowitz, one of the most active game investors with 32 deals this year, "
     "led the round.", ["Quux Horowitz"]),
    ("SAN FRANCISCO, Calif. – Zorblax raised $3 million in a round led by QUUX FINTOP with participation from "
     "Plonk Capital.", ["QUUX FINTOP"]),  # a name in capitals runs on into prose; a dateline's place does not
    ("Zorblax raised $30 million in a round led by T. Quux Price, with J.P. Plonk joining.", ["T. Quux Price"]),
])
def test_lead_investors_however_the_sentence_puts_them(body: str, leads: list[str]) -> None:
    (event,) = extract_events("Zorblax raises money", body, "2021-01-01")
    assert (event.company, event.names("lead_investors")) == ("Zorblax", leads)


def test_a_list_of_backers_is_not_cut_inside_a_name_with_an_ampersand() -> None:
    body = ("Zorblax raised $80 million in a round led by Quux Management & Research Company, with participation "
            "from Brick & Mortar Ventures and Plonk Capital.")
    (event,) = extract_events("Zorblax raises money", body, "2021-01-01")
    assert event.names("lead_investors") == ["Quux Management & Research Company"]
    assert event.names("investors") == ["Brick & Mortar Ventures", "Plonk Capital"]
    # Two names the article also writes alone are two backers: "from Frob & Plonk Capital".
    body = "Zorblax raised $9 million from Frob & Plonk Capital. Frob was early. Plonk Capital was too."
    (event,) = extract_events("Zorblax raises money", body, "2021-01-01")
    assert sorted(event.names("investors")) == ["Frob", "Plonk Capital"]


@pytest.mark.parametrize(("body", "size", "share"), [
    ("Vexatron will cease operations, laying off 90 employees, and was acquired by Quuxcorp.", "90 employees", None),
    ("Last March, Vexatron laid off hundreds of staff before receiving a $125 million debt round.",
     "hundreds of staff", None),
    ("Vexatron took a hard hit and was forced to lay off 40% of its workforce.", "40% of its workforce", 0.4),
    ("Vexatron said it will lay off its entire workforce of just over 200 employees.", "its entire workforce", 1.0),
    ("Vexatron laid off a third of its workforce in May.", "a third of its workforce", 1 / 3),
])
def test_a_layoff_and_its_size_as_written(body: str, size: str, share: float | None) -> None:
    events = extract_events("Vexatron news", f"Vexatron grew. {body}", "2020-01-01")
    (layoff,) = [e for e in events if e.kind == "layoff"]
    assert (layoff.company, layoff.value("size"), layoff.value("share")) == ("Vexatron", size, share)


def test_layoffs_of_several_companies_together_are_no_ones_layoff() -> None:
    body = ("Vexatron grew. Ventures like Quuxcorp, Plonk Robotics, and Vexatron have shed hundreds of employees "
            "collectively. Vexatron plans to cut 20% of its costs.")
    assert [e for e in extract_events("Vexatron news", body, "2020-01-01") if e.kind == "layoff"] == []


def test_the_startup_in_an_article_about_its_purchase_is_the_one_bought() -> None:
    body = ("Quuxcorp has acquired Vexatron, a data startup. In 2019 the startup raised a $30 million series A. "
            "Quuxcorp raised $2 billion last year.")
    rounds = {e.amount: e.company for e in extract_events("Quuxcorp acquires Vexatron", body, "2020-01-01")
              if e.kind == "round"}
    assert rounds == {30e6: "Vexatron", 2e9: "Quuxcorp"}


def test_an_amount_given_in_two_currencies_is_one_round_as_written_first() -> None:
    body = "Zorblax has raised $6.2 million (€5 million) in new funding from Quux Capital."
    (event,) = extract_events("Zorblax news", body, "2021-01-01")
    assert (event.amount, event.value("currency"), event.names("investors")) == (6.2e6, "USD", ["Quux Capital"])
    (event,) = extract_events("Zorblax raises $14 million", "Zorblax closed a €12 million ($13.97 million) round.", "")
    assert (event.amount, event.value("currency")) == (12e6, "EUR")  # the body's figure leads, with its currency


def test_the_other_backers_of_a_round() -> None:
    body = ("Zorblax raised $450 million in a series C led by Quux Capital. The round also included investments from "
            "Plonk Ventures, Frob Partners, and others. Zorblax announced a $235 million round on Monday — the other "
            "participants in the round are Vex Capital and Drum Ventures — at a $4 billion valuation.")
    rounds = {e.amount: e for e in extract_events("Zorblax raises again", body, "2023-08-24") if e.kind == "round"}
    assert set(rounds[450e6].names("investors")) == {"Plonk Ventures", "Frob Partners"}
    assert set(rounds[235e6].names("investors")) == {"Vex Capital", "Drum Ventures"}


def test_a_headline_list_of_targets_ends_at_a_clause() -> None:
    events = extract_events("Drumlin Acquires Vexatron, Creating Global Provider of Consumer Data",
                            "Drumlin grows. Vexatron grows too.", "2021-01-01")
    assert [(e.value("acquirer"), e.value("target")) for e in events if e.kind == "acquisition"] == [
        ("Drumlin", "Vexatron")]


def test_a_headline_backer_is_not_the_articles_company() -> None:
    events = extract_events("Quux Equity-Backed Zorblax Expands with Acquisition of Vexatron",
                            "Zorblax announced its asset acquisition of Vexatron.", "2019-05-30")
    assert [(e.value("acquirer"), e.value("target")) for e in events] == [("Zorblax", "Vexatron")]


def test_a_headline_led_by_the_investor_is_about_the_company_after_in() -> None:
    body = ("Quux Capital has invested in one of the buzziest robotics makers, Zorblax. Zorblax was founded in 2021 "
            "and gained attention when it announced $58 million in funding. Quux Capital led a $30 million "
            "investment in the buzziest robotics makers, Zorblax, this week.")
    events = extract_events("Quux Capital leads $30 million investment in Zorblax", body, "2023-02-03")
    assert {(e.company, e.amount) for e in events if e.kind == "round"} == {("Zorblax", 58e6), ("Zorblax", 30e6)}


def test_acquisitions_in_lists_noun_phrases_and_not_customers() -> None:
    body = ("He cofounded Zorblax (acquired by Quuxcorp), Plonkly (acquired by Frobnitz) and Coin Center. "
            "Drumlin grew after its acquisition of Marrowby Labs, a Spanish startup. "
            "Drumlin picked up its first customer, Vexatron, in 2008.")
    events = extract_events("Drumlin expands", body, "2021-01-01")
    assert {(e.value("acquirer"), e.value("target")) for e in events if e.kind == "acquisition"} == {
        ("Quuxcorp", "Zorblax"), ("Frobnitz", "Plonkly"), ("Drumlin", "Marrowby Labs")}


@pytest.mark.parametrize(("body", "deals"), [
    # pairs read in order
    ("Zorblax and Plonkly, companies acquired last year by Quuxcorp and Frobnitz, respectively, grew.",
     {("Quuxcorp", "Zorblax"), ("Frobnitz", "Plonkly")}),
    ("Vexatron, which Drumlin bought for $3 billion in 2007, makes chips.", {("Drumlin", "Vexatron")}),
    ("Drumlin bought Ohio-based chip maker Vexatron.", {("Drumlin", "Vexatron")}),
    ("Drumlin acquires Gearbox Saga developer Vexatron Studios.", {("Drumlin", "Vexatron Studios")}),
    ("In 2018, Marrowby Labs was acquired by Austin, Texas-based Quuxcorp.", {("Quuxcorp", "Marrowby Labs")}),
    ("Drumlin has been busy, snapping up AI-powered code analysis platform Vexatron.", {("Drumlin", "Vexatron")}),
    # what follows the verb is not a company bought
    ("Drumlin acquires Vexatron, expands Plonkly analytics platform.", {("Drumlin", "Vexatron")}),
    ("It competes with Zorblax, the recently acquired Vexatron, and Plonkly.", set()),
    ("“This is more of a talent buy,” the source told Quuxcorp.", set()),
    ("Funds that bought Drumlin shares lost money.", set()),
    ("Drumlin has decided to buy some of Vexatron’s patents rather than go to court.", set()),  # its things
    ("Drumlin is buying itself a direct route into Vexatron.", set()),
    ("Drumlin confirmed it was buying 17,000 Vexatron headsets.", set()),
    ("As we have seen since its Drumlin acquisition, Vexatron has grown.", set()),  # "its" is Vexatron's, later
    ("Shoppers at Drumlin pick up objects like cans of soup, a mustard bottle, and a box of Vexatron.", set()),
    ("Drumlin will acquire the Plonkly mesh network company.", set()),
    ("Drumlin bought Vexatron, and Quuxcorp bought Plonkly.", {("Drumlin", "Vexatron"), ("Quuxcorp", "Plonkly")}),
    ("Plonkly, a price-tracking app, was acquired by Quux One in 2016.", {("Quux One", "Plonkly")}),
    ("(Will individuals be able to buy a piece of Vexatron?) Drumlin is asking.", set()),  # a question asserts nothing
    ("Last year Drumlin bought France’s Vexatron for more than $16 billion.", {("Drumlin", "Vexatron")}),
    ("Drumlin said that by acquiring Vexatron, Drumlin will grow its team in Costa Rica, Plonkly and Marrowby Labs.",
     {("Drumlin", "Vexatron")}),  # a clause after the target, not a list of targets
    ("Drumlin plans to acquire Plonkly’s Vexatron self-driving unit.", set()),  # a unit of Plonkly, not Plonkly
    ("He worked with Zorblax Smith, who led research at the startup acquired by Drumlin in 2014.", set()),
    # deals not done, and one announced
    ("Drumlin is in talks to acquire Vexatron, people familiar with the matter said.", set()),
    ("A month ago, I didn’t think Drumlin would acquire Vexatron.", set()),
    ("Last week, Drumlin said that it would buy Vexatron for $37 billion.", {("Drumlin", "Vexatron")}),
    ("Drumlin acquires Plonkly observability platform Vexatron.", {("Drumlin", "Vexatron")}),
    # the name an aside describes, not a name inside the aside
    ("Vexatron, a CRM that helps Plonkly manage customers, was acquired by Drumlin for $1 billion.",
     {("Drumlin", "Vexatron")}),
    ("Last year Drumlin — a Plonkly investor — acquired Vexatron for $5 billion.", {("Drumlin", "Vexatron")}),
    ("In 2019, Drumlin, which has 100 employees across the U.S. and Europe, acquired Vexatron.",
     {("Drumlin", "Vexatron")}),
    ("Its rivals include Vexatron, which sold to Plonkly for $7 billion; and Drumlin, which was bought by Quuxcorp.",
     {("Quuxcorp", "Drumlin")}),  # an aside ends at a semicolon
    ("“Different teams had separately purchased Vexatron and Plonkly over the years.", set()),  # a quoted opening
    ("“Now the world is, you know, ‘Can you be bought by Drumlin?’ and that drives down competition.", set()),
    ("The Plonkly Pixel 3 is available for purchase at Drumlin, Vexatron, and other retailers.", set()),
    ("Drumlin, which makes robots, has confirmed the acquisition of Philadelphia-based Vexatron.",
     {("Drumlin", "Vexatron")}),
    ("The deal follows Drumlin’s acquisition of calendar app Vexatron Software earlier this year.",
     {("Drumlin", "Vexatron Software")}),
    ("Drumlin canceled its $80 billion acquisition of chip architecture firm Vexatron.", set()),  # not done
    ("Regulators sued to block Drumlin's $75 billion bid to buy Vexatron.", set()),
    ("It follows Drumlin’s acquisition of intellectual property rights from robotics startup Vexatron.", set()),
    ("Vexatron, the Tel Aviv company Drumlin acquired for $15.3 billion, makes chips.", {("Drumlin", "Vexatron")}),
    ("Zorblax makes robots. Today, the company announced it has acquired Vexatron, an AI startup.",
     {("Zorblax", "Vexatron")}),  # the article's company
    ("Zorblax makes robots. It is a marketplace for buying Vexatron sticks.", set()),
    ("Zorblax makes robots. It acquired an exclusive Vexatron license from Drumlin.", set()),
    ("He cofounded Vexatron, which robotic process automation (RPA) leader Drumlin later acquired.",
     {("Drumlin", "Vexatron")}),
    ("Drumlin has a strong presence in games, outside of Vexatron, which it acquired in 2016.",
     {("Drumlin", "Vexatron")}),  # the sentence's subject
    ("Drumlin's $392M Vexatron acquisition is a done deal.", {("Drumlin", "Vexatron")}),
    ("Regulators blocked Drumlin’s Vexatron acquisition.", set()),
    ("This is Drumlin’s 18th acquisition in 14 years.", set()),
    ("The company names customers including Zorblax, Plonkly and Vexatron, but it was acquired by Drumlin in 2018.",
     set()),  # "it" is none of the customers
    ("Vexatron, which raised $120 million, was sold before it was snapped up by Drumlin.", {("Drumlin", "Vexatron")}),
    ("Drumlin’s purchase of Vexatron comes days after the company snatched up Plonkly.",
     {("Drumlin", "Plonkly")}),  # "the company" is the one the sentence opens with (one deal read per sentence)
    ("He led investments in Drumlin-acquired Vexatron and Zorblax.", {("Drumlin", "Vexatron")}),
    # later deals of one sentence: the same buyer, unless another is named before
    ("Drumlin bought Vexatron, a web startup, in 2015 and in June 2016 acquired Plonkly, a San Jose startup.",
     {("Drumlin", "Vexatron"), ("Drumlin", "Plonkly")}),
    ("Drumlin’s acquisition of Vexatron brought chips, and so did its purchases of Plonkly and Marrowby Labs.",
     {("Drumlin", "Vexatron"), ("Drumlin", "Plonkly"), ("Drumlin", "Marrowby Labs")}),
    ("Drumlin acquired Vexatron in 2008, which in turn was bought out by Zorblax one year later.",
     {("Drumlin", "Vexatron")}),
    ("Drumlin makes chips. Plonkly’s name came up often, and the chipmaker’s acquisition of Vexatron closed.",
     {("Plonkly", "Vexatron")}),  # "the chipmaker" is the last company named
    ("Firms Drumlin has bought are still working there, Zorblax said.", set()),
    ("Reddy cofounded Vexatron, a startup Drumlin acquired in 2017.", {("Drumlin", "Vexatron")}),
    ("Drumlin acquires a startup founded by ex-Vexatron talent.", set()),  # its founders' employer, not it
    ("Drumlin acquired two residential complexes in Plonkly for $26 million.", set()),  # a place
    ("Quux Partners acquired a majority interest in Vexatron in December 2018.", {("Quux Partners", "Vexatron")}),
    ("Players can purchase Vexatron governance tokens.", set()),
    ("Drumlin acquires 'modern' Vexatron, aims to grow.", set()),  # a quoted word: a kind of product
    ("Zorblax grows. The company behind Plonkly and Vexatron just announced it has acquired Marrowby Labs.",
     {("Zorblax", "Marrowby Labs")}),  # the article's company (the title's first name), not its product
    ("Drumlin signed to purchase its Application Migration Business Unit.", set()),
    ("Drumlin announced plans to acquire Vexatron’s Level 5 self-driving unit.", set()),  # a part of it
    ("Zorblax, which Quux Smith founded with Plonkly Jones in 2016, pivoted after it acquired Vexatron.",
     {("Zorblax", "Vexatron")}),  # "it" is the clause's subject, not the last name
])
def test_what_a_buying_verb_takes(body: str, deals: set) -> None:
    # A word opening a sentence is a name when the title has it too.
    events = extract_events("Zorblax, Plonkly, Drumlin, Vexatron and Marrowby Labs: the week", body, "2021-01-01")
    assert {(e.value("acquirer"), e.value("target")) for e in events if e.kind == "acquisition"} == deals


def test_reports_of_one_deal_or_round_become_one_fact() -> None:
    def report(title: str, body: str, date: str) -> list[Report]:
        return [Report(title, title, date, "", "", e) for e in extract_events(title, body, date)]

    # one buyer's deal for one target, retold years later with another figure: one fact, dated by its first report
    deal = report("Drumlin buys Vexatron for $17 billion", "Drumlin bought Vexatron for $17 billion.", "2015-06-01")
    retold = report("Drumlin and Vexatron chips sell", "In 2015 Drumlin bought Vexatron for $16.7 billion.",
                    "2019-03-01")
    [fact] = combine_reports(deal + retold)
    assert fact.date == "2015-06-01" and [v for v, _, _ in fact.disagreements["price"]] == [16.7e9]
    # an undated report of the same figure is the same round
    undated = report("Funding roundup: Zorblax", "Zorblax raised $40 million in a series B round.", "")
    dated = report("Zorblax raises $40 million", "Zorblax raised $40 million in a series B round.", "2021-06-10")
    [round_] = combine_reports(undated + dated)
    assert round_.date == "2021-06-10" and len(round_.reports) == 2
    # one company's Series C of one figure, retold a year on; a round's figure retold in passing
    first = report("Zorblax raises $250 million", "Zorblax raised $250 million in a series C round.", "2020-02-25")
    later = report("Zorblax raises $676 million", "Zorblax raised $676 million in a series D round. It follows "
                   "Zorblax's $250 million series C.", "2021-04-13")
    retold = report("Plonkly hires a CEO", "Plonkly hired a CEO. Its rival Zorblax, which raised $676 million last "
                    "year, opened an office.", "2022-03-03")
    assert sorted(f.amount for f in combine_reports(first + later + retold) if f.kind == "round") == [250e6, 676e6]
    # one round named the same way twice in a week, with two figures: one round, the figures disputed
    [fact] = combine_reports(report("Zorblax gets $400M", "Zorblax raised $400 million in a series F round.",
                                    "2019-10-22") + report("Zorblax news", "Zorblax took €100 million in a "
                                                           "series F round.", "2019-10-24"))
    assert fact.amount == 400e6 and [v for v, _, _ in fact.disagreements["amount"]] == [100e6]
    # one deal whose target is spaced two ways: one fact
    assert len(combine_reports(report("Drumlin buys VexaGold", "Drumlin bought VexaGold.", "2021-12-23")
                               + report("Drumlin news", "Drumlin acquired Vexa Gold.", "2021-12-24"))) == 1


@pytest.mark.parametrize(("title", "body", "deal"), [
    ("Drumlin confirms $16.7B acquisition of Vexatron", "Drumlin makes chips.", ("Drumlin", "Vexatron", 16.7e9)),
    ("Drumlin news", "Drumlin makes chips, as Quuxcorp’s $3.2 billion purchase of Internet of things startup Vexatron "
     "showed.", ("Quuxcorp", "Vexatron", 3.2e9)),  # the company a description of it ends with
    ("Drumlin news", "Drumlin makes chips. Drumlin completes its $970 million purchase of Vexatron.",
     ("Drumlin", "Vexatron", 9.7e8)),
    ("Drumlin and Quuxcorp news", "Drumlin makes chips. Last week, Quuxcorp closed its $13.7 billion acquisition of "
     "Vexatron.", ("Quuxcorp", "Vexatron", 13.7e9)),  # "its" is the sentence's subject's
    ("Drumlin news", "Drumlin makes chips. Drumlin reportedly paid more than $200 million to acquire Vexatron in "
     "2010.", ("Drumlin", "Vexatron", 2e8)),  # the price said before the verb
    ("Drumlin news", "Drumlin makes chips. Drumlin has a pending $35 billion deal to buy chip design firm Vexatron.",
     ("Drumlin", "Vexatron", 35e9)),
    # after "its", the company a description ends with, bought by the name that acts
    ("Drumlin news", "Drumlin makes chips. Meanwhile, the mighty Quuxcorp is pushing through its $2.2 billion "
     "acquisition of European POS startup Vexatron.", ("Quuxcorp", "Vexatron", 2.2e9)),
    # the deal named by its target, owned by the one who completes it
    ("Drumlin completes $6.5B Vexatron acquisition", "Drumlin makes chips.", ("Drumlin", "Vexatron", 6.5e9)),
    ("Plonkly raises $27 million", "Plonkly raised $27 million, as the market moved, with Drumlin recently "
     "completing its $6.5 billion Vexatron acquisition.", ("Drumlin", "Vexatron", 6.5e9)),
])
def test_the_price_between_owner_and_acquisition_of(title: str, body: str, deal: tuple) -> None:
    [event] = [e for e in extract_events(title, body, "2021-01-01") if e.kind == "acquisition"]
    assert (event.value("acquirer"), event.value("target"), event.value("price")) == deal


@pytest.mark.parametrize(("title", "body", "rounds", "totals"), [
    ("Quux Capital leads $1.2M investment in robotics startup Zorblax", "Zorblax makes robots.",
     [("Zorblax", 1.2e6)], []),
    ("Zorblax news", "Zorblax makes robots. Zorblax raised $173.5 million across six fundraising rounds.", [],
     [("Zorblax", 173.5e6)]),
    ("Zorblax news", "Zorblax makes robots. Elsewhere, Plonkly has raised at least $26 million for robots.", [], []),
    ("Zorblax news", "Zorblax makes robots. Zorblax now pulls in $1 billion ARR from robots.", [], []),
    ("Zorblax news", "Zorblax makes robots. Its CEO got a $3.4 million cash bonus.", [], []),
    ("Quux Ventures Raises Oversubscribed $335 Million Hybrid Fund of Funds", "Quux Ventures invests in funds.",
     [], []),  # a headline's capitalised fund is a fund, but "Raises $5M To Fund Robots" is a round
    ("Zorblax Raises $5M To Fund Robots", "Zorblax makes robots.", [("Zorblax", 5e6)], []),
    ("Zorblax news", "Zorblax makes robots. Quux Capital participated in Plonk’s $30 million series B.",
     [("Plonk", 30e6)], []),  # the possessive's round, not the subject's
    ("Quux and Frob double down on robots with $75M Plonk investment", "Plonk makes robots. Quux and Frob are "
     "investors.", [("Plonk", 75e6)], []),  # the name between the amount and "investment"
    ("Zorblax aims to help SMEs cut emissions, raises $22M", "Zorblax makes robots.", [("Zorblax", 22e6)], []),
    ("Zorblax news", "Zorblax makes robots. Meanwhile, Bob Plonk recently secured $40 million for their startup, "
     "Quux Robotics.", [("Quux Robotics", 40e6)], []),  # the startup it was secured for, not its founder
    ("Zorblax's M12 joins $12 million funding extension for fintech startup Plonkly", "Plonkly lends money.",
     [("Plonkly", 12e6)], []),
    ("Zorblax news", "Zorblax raised $92 million in funding for its Lego-like game world.", [("Zorblax", 92e6)], []),
    ("Zorblax news", "Zorblax makes robots. Weeks ago, for example, Plonkly, a San Francisco-based AI startup and "
     "another rival to Quux, announced that it has raised $450 million in series C funding.", [("Plonkly", 450e6)], []),
    ("Plonk creator Zorblax accelerates open-source robots, raises $101M", "Zorblax makes Plonk.",
     [("Zorblax", 101e6)], []),  # a headline's second verb: its opening name raised
    ("Zorblax news", "Zorblax has raised $30 million in new funding. Zorblax has raised at least $30 million of a "
     "possible $35 million it is seeking.", [("Zorblax", 30e6)], []),
    ("Zorblax closes $19.1M financing", "Zorblax makes boxes. (Photo: Quux Wire) Zorblax, Inc. announced today that "
     "it has closed $19.1 million in Series A financing.", [("Zorblax", 19.1e6)], []),
    ("Funding roundup", "Two of the largest rounds were raised in Europe (Zorblax, $110 million) and Spain.",
     [("Zorblax", 110e6)], []),
    # the company is the name right before the headline's funding verb, not the owner before it
    ("Rocket Quux's Amazon clone Zorblax secures $250M", "Rocket Quux backs Zorblax, which sells books. The "
     "company raised $250 million on Monday.", [("Zorblax", 250e6)], []),
    ("Zorblax news", "Zorblax makes robots. Quux Capital led a $25 million investment in Norway’s Plonkly.",
     [("Plonkly", 25e6)], []),  # the place's company
    ("Zorblax news", "Zorblax makes robots. Research and Quux expects the robot market to be worth close to "
     "$18.9 million by 2023.", [], []),  # "close to" is no closing
    ("Zorblax news", "Zorblax makes robots. In June Plonk Data Labs raised $43 million for its models.",
     [("Plonk Data Labs", 43e6)], []),  # a month after "in" is a date, not a name's first word
    ("Zorblax news", "Zorblax makes robots. Zorblax has already raised nearly $480 million in venture funding.", [],
     []),  # what it has raised in all, not a round
    ("Zorblax news", "Zorblax makes robots. In January, Zorblax announced that it had paid security researchers more "
     "than $21 million for bugs.", [], []),
    ("Zorblax news", "Zorblax makes robots. According to a report from Quux Insights, health care startups raised "
     "$80.6 billion in 2020.", [], []),  # many companies, not one
    ("Zorblax news", "Zorblax makes robots. Plonkly.com also says it’s raised $300,000 from Quux Capital.",
     [("Plonkly.com", 3e5)], []),
    ("Zorblax news", "Zorblax makes robots. To grow, Plonkly — whose customers include Quux and Frob Labs — raised "
     "$30 million in a series B round. Plonkly sells tea.", [("Plonkly", 30e6)], []),  # an aside between dashes
    ("Zorblax news", "Zorblax makes robots. Zorblax’s filing said it plans to raise $100 million.", [], []),
    ("Zorblax news", "Zorblax is losing more than $1 billion each quarter, and a new cash infusion is critical.",
     [], []),
    ("Zorblax news", "Zorblax makes robots. Quux Son raised close to $100 billion for his Vision Fund.", [], []),
    ("Plonkly, from ex-Quux team, gets $60M to automate cloud security", "Plonkly makes tools.",
     [("Plonkly", 60e6)], []),
    ("Zorblax news", "Zorblax rivals include Quuxly, Plonk.ai (which this week raised $100 million ), and Frob. "
     "Zorblax makes robots.", [("Plonk.ai", 1e8)], []),  # the name a bracketed "which raised" is about
    ("Zorblax news", "Zorblax makes robots. Its first outside funding came after it bootstrapped its way to $1 "
     "billion in gross sales.", [], []),
    ("Zorblax news", "Zorblax makes robots. Zorblax has announced a new $100 million venture fund for apps.", [], []),
    ("Zorblax news", "Zorblax makes robots. Among companies that disclosed funding, rounds between $50 million and "
     "$100 million doubled.", [], []),
    ("Zorblax gets $100M", "Zorblax makes models. After support from Quuxsoft, the AI startup, known for its "
     "chatbot Plonkly , is raising an additional $100 million.", [("Zorblax", 1e8)], []),  # asides in a row
    # the subject invests: a round of the company named after "in", and of no one when none is
    ("Quuxsoft invests $300M in Plonkly", "Plonkly makes models.", [("Plonkly", 3e8)], []),
    ("Zorblax news", "Zorblax makes robots. Quuxsoft is investing $2.8 million in New Zealand game studio Plonkly "
     "Games.", [("Plonkly Games", 2.8e6)], []),
    ("Zorblax news", "Zorblax makes robots. Zorblax said it will invest $3 billion (with a “b”!) in AI.", [], []),
    ("Zorblax news", "Zorblax makes robots. Zorblax plans to invest more than $1 billion in R&D.", [], []),
    ("Zorblax news", "Zorblax makes robots. Zorblax was initially expected to raise up to $10 billion in the "
     "float.", [], []),
    ("Zorblax news", "Zorblax makes robots. Plonkly used Zorblax to turn support into a stream that brought in $100 "
     "million in three years.", [], []),  # a rate, not a round
    # a market, a fund, assets, income, and what many companies raised
    ("Zorblax news", "Zorblax makes robots, in a market anticipated to reach $91.18 billion by 2025.", [], []),
    ("Zorblax news", "Zorblax announced a 10 billion yuan ($1.52 billion) autonomous driving fund.", [], []),
    ("Zorblax news", "Zorblax makes robots. Quux Ventures, which led the round, is a VC managing $8 billion of "
     "assets.", [], []),
    ("Zorblax news", "Zorblax makes robots. Plonkly made $9.2 billion in net income.", [], []),
    ("Zorblax news", "Zorblax makes robots. Funding grew to $17.9 billion across 841 deals in the third quarter.",
     [], []),
    ("Zorblax news", "Zorblax makes robots. Of the $17.9 billion raised by AI startups worldwide, most went to "
     "Plonkly.", [], []),
    ("Zorblax news", "Zorblax makes robots. They’ve collectively attracted over $6 billion in investments.", [], []),
    ("Zorblax Raises $15 Million to Fund Trials", "Zorblax makes eye tests.", [("Zorblax", 15e6)], []),
    # a title about the article's company, named (even misspelt) or described; not a market's statistic
    ("Zorblxa gets $100M to build models", "Zorblax makes models. Zorblax grows.", [("Zorblax", 1e8)], []),
    ("Cloud security platform lands $20M", "Zorblax makes tools. Zorblax grows.", [("Zorblax", 2e7)], []),
    ("Pandemic drove VC funding for health care to record $80.6 billion", "Zorblax makes tools. Zorblax grows.",
     [], []),
    ("Report: AI startup funding hits record high of $17.9B in Q3", "Zorblax makes tools. Zorblax grows.", [], []),
    ("Drumlin news", "Drumlin announced its $19.7 billion acquisition of Vexatron. Drumlin will recoup its $19.7 "
     "billion investment soon.", [], []),  # the buyer's price called an investment
    ("Quux Insights: AI startup funding hit a new high of $26.6 billion", "Quux Insights counts deals. Quux Insights "
     "grows.", [], []),  # a label, not the subject
    ("Zorblax news", "Zorblax makes robots. As CEO, Plonk Smith secured more than $3 billion in funding for "
     "Zorblax.", [("Zorblax", 3e9)], []),
    ("Zorblax news", "Zorblax makes robots. It said it would raise $1 billion in the offering, and it plans to "
     "separately raise $6 billion in debt financing.", [], []),
    ("Zorblax lands $54M", "Zorblax raised $54 million in a series D round. The round comes three years after its "
     "series C round and takes the total capital raised by the company to well above $100 million.",
     [("Zorblax", 54e6)], [("Zorblax", 1e8)]),  # a total, said at length
    ("Zorblax raises $120M", "Today, SASE-provider Zorblax announced it has raised $120 million as part of a pre-IPO "
     "funding round led by Quux Capital.", [("Zorblax", 1.2e8)], []),  # a pre-IPO round is a round
    ("Zorblax Secures Series A Funding", "AUSTIN, Texas–(BUSINESS WIRE)– Zorblax ( www.zorblax.com ), developer of "
     "a platform designed for data produced by many programs, today announced the closing of $5 million in Series A "
     "funding.", [("Zorblax", 5e6)], []),
    ("Funding daily: big commerce", "Shoppers love Zorblax. Today Zorblax raised $5 million. Read more on Quux Post. "
     "Shoppers love Drumlin. Now Drumlin raised $3 million. Read more on Quux Post. Shoppers love Plonkly. Today, the "
     "startup announced it raised $27 million. Read more on Quux Post.",
     [("Drumlin", 3e6), ("Zorblax", 5e6)], []),  # a roundup: "the startup" is not its commonest name
    ("Quantum venture funding dipped in 2020", "The AI Index report found more than $70 billion in global private "
     "investment in AI.", [], []),
    ("Zorblax announces $3 billion investment in AI", "Zorblax will spend it over three years.", [], []),
    ("Zorblax announces $10 billion 'digitization fund' for India", "Zorblax grows.", [], []),
    ("Zorblax news", "Zorblax makes chips. It brought in $44.3 million during the quarter.", [], []),
    ("Zorblax news", "Zorblax makes chips. It is reportedly seeking $250 million in new funding.", [], []),
    ("Zorblax news", "Zorblax makes chips. Zorblax may receive up to $5 billion in cash under an earn-out.", [], []),
    ("Zorblax news", "Zorblax makes chips. It has facilitated $1 billion in working capital funding.", [], []),
    ("Zorblax news", "Zorblax makes chips. Zorblax has pledged a $2 billion investment in Plonkly Cloud.", [], []),
    ("Zorblax news", "Zorblax makes chips. It has a plan to raise between $1.5 billion and $2 billion.", [], []),
    ("Zorblax news", "Zorblax makes chips. It aims to sell shares, raising between $233 million and $266 million.",
     [], []),  # a range is no round's figure
    ("Zorblax news", "Zorblax makes chips. It announced a $200 million revolving credit facility.", [], []),  # a loan
    ("Zorblax news", "Zorblax makes chips. Its spectrum auction nets $4.47 billion.", [], []),
    ("Zorblax news", "Zorblax counts IPOs. It notes that the 54 IPOs in Q2 raised $11 billion.", [], []),
    ("Introducing the Zorblax Landscape: 170+ companies, $4 billion in funding", "Zorblax Landscape grows.", [], []),
    ("Zorblax news", "Zorblax makes chips. The proceeds value the company at $2.1 billion post-money.", [], []),
    ("Funding Daily: Two times $700M", "Read more on Quux Post. Plonkly makes shoes. Read more on Quux Post.", [], []),
    ("Zorblax news", "Zorblax, a platform used by developers at companies like Plonkly, Drumlin, and Vexatron, "
     "today announced a $530 million series F round.", [("Zorblax", 5.3e8)], []),  # examples did not raise it
    ("Zorblax news", "Zorblax competes with startups like Plonkly and Vexatron, which recently raised $20 million.",
     [("Vexatron", 2e7)], []),
    ("Zorblax news", "Also in June, Quux Ventures participated in the $270 million funding of Canadian generative AI "
     "startup Zorblax.", [("Zorblax", 2.7e8)], []),
    ("Zorblax raises $51 million", "Zorblax, a startup that helps businesses prevent fraudulent use of their "
     "systems, has raised $51 million in a round of funding.", [("Zorblax", 5.1e7)], []),  # "fraudu|lent" is no loan
    ("Zorblax news", "Zorblax makes chips. It raised $25 million in August, following a $5 million investment in "
     "May 2020.", [("Zorblax", 5e6), ("Zorblax", 25e6)], []),
    # a figure's "from" is no investor clause
    ("Zorblax news", "Zorblax makes event software. Over the rest of the year, Zorblax grew from 30 employees to more "
     "than 100 and secured $4.5 million in a seed round.", [("Zorblax", 4.5e6)], []),
    # a round told before a coming listing is a round
    ("Zorblax news", "Zorblax makes games. Zorblax has raised $520 million in a new round of funding, and it will "
     "still go public through a direct listing.", [("Zorblax", 5.2e8)], []),
    # a founder named with the company raises for the company
    ("Zorblax news", "Zorblax founder and chief executive Jane Roe has landed $1 million in additional funding.",
     [("Zorblax", 1e6)], []),
])
def test_what_is_a_round_and_whose(title: str, body: str, rounds: list, totals: list) -> None:
    events = extract_events(title, body, "2021-01-01")
    assert sorted((e.company, e.amount) for e in events if e.kind == "round") == rounds
    assert sorted((e.company, e.amount) for e in events if e.kind == "total") == totals


def test_each_clause_of_a_semicolon_list_says_its_own_round() -> None:
    body = ("Notable financings: Zorblax, an ETL company, raised $565 million at a $5.6 billion valuation; Plonkly, a "
            "data company, raised a $150 million series C; Vexatron, which Drumlin bought for $547 million in 2017; "
            "and Quux Labs raised $12 million from Accel; Index Ventures; and GV.")
    events = extract_events("Zorblax, Plonkly, Vexatron, Drumlin: the landscape", body, "2021-10-16")
    assert sorted((e.company, e.amount, e.value("round")) for e in events if e.kind == "round") == [
        ("Plonkly", 1.5e8, "Series C"), ("Quux Labs", 1.2e7, None), ("Zorblax", 5.65e8, None)]
    assert [(e.value("acquirer"), e.value("target"), e.value("price")) for e in events if e.kind == "acquisition"] \
        == [("Drumlin", "Vexatron", 5.47e8)]
    quux = next(e for e in events if e.company == "Quux Labs")  # a list of backers is not cut into clauses
    assert "Accel" in quux.names("investors")


@pytest.mark.parametrize(("body", "rounds"), [
    # "last October" is the previous calendar year's.
    ("Rivals include Plonkly, which raised $25 million last October, and Vexatron, which raised a whopping $115 "
     "million in July.", [("Plonkly", 2.5e7, "2020-10"), ("Vexatron", 1.15e8, "2020-07")]),
    ("Just a few weeks ago, Plonkly secured $30 million, while Vexatron landed a $3 million investment in April.",
     [("Plonkly", 3e7, None), ("Vexatron", 3e6, "2020-04")]),
    # The end of a list of backers is not a company of its own.
    ("Zorblax raised $70 million from Quux Capital, Norwest, and Drumlin Ventures, bringing its total raised to "
     "$150 million.", [("Zorblax", 7e7, "2021-01-01")]),
])
def test_each_company_of_a_sentence_gets_its_own_round(body: str, rounds: list) -> None:
    events = extract_events("Zorblax raises $70 million", body, "2021-01-01")
    assert sorted((e.company, e.amount, e.value("date")) for e in events if e.kind == "round"
                  and e.company != "Zorblax" or e.kind == "round" and e.amount == 7e7) == rounds


def test_a_company_named_once_at_a_sentences_start_is_still_a_name() -> None:
    events = extract_events("Zorblax raises $676M", "Zorblax makes chips. Vexatron, a startup developing hardware for "
                            "the edge, in March 2020 nabbed $60 million in venture capital.", "2021-04-13")
    assert ("Vexatron", 6e7, "2020-03") in [(e.company, e.amount, e.value("date")) for e in events if e.kind == "round"]


def test_each_target_of_a_list_at_its_own_price() -> None:
    events = extract_events("Drumlin news", "Drumlin makes chips. In the past year, Drumlin bought Plonkly for $2.35 "
                            "billion as well as Vexatron for $1.5 billion.", "2011-08-18")
    assert sorted((e.value("acquirer"), e.value("target"), e.amount) for e in events if e.kind == "acquisition") == [
        ("Drumlin", "Plonkly", 2.35e9), ("Drumlin", "Vexatron", 1.5e9)]


def test_the_raiser_named_after_its_amount() -> None:
    events = extract_events("Zorblax raises $940 million", "Zorblax makes robots. That’s up substantially from the $92 "
                            "million in series A financing Zorblax secured last year. Read more: today Plonkly "
                            "scores $40M Vexatron gets $18.6M to grow.", "2019-02-11")  # (headlines run together)
    assert ("Zorblax", 9.2e7) in [(e.company, e.amount) for e in events if e.kind == "round"]
    assert ("Vexatron", 4e7) not in [(e.company, e.amount) for e in events]


def test_backers_named_after_a_round_are_that_rounds() -> None:
    events = extract_events("Drumlin acquires Vexatron", "Drumlin today announced that it has acquired Vexatron, a "
                            "startup. Vexatron closed a $20.5 million funding round last year. Investors include "
                            "Allen & Co., Quux Ventures, and Lux Capital.", "2016-08-09")
    [round_] = [e for e in events if e.kind == "round"]
    assert round_.company == "Vexatron" and {"Quux Ventures", "Lux Capital"} <= set(round_.names("investors"))


def test_its_total_is_the_named_subjects() -> None:
    events = extract_events("Zorblax raises $56 million", "Zorblax raised $56 million. Elsewhere, Plonkly Labs took "
                            "its total funding to $230 million with a fresh $121 million raise.", "2019-10-16")
    assert ("Plonkly Labs", 2.3e8) in [(e.company, e.amount) for e in events if e.kind == "total"]


def test_what_dates_an_event() -> None:
    body = "Zorblax makes robots. In 2013, the startup announced a $30 million funding round."
    [event] = extract_events("Zorblax news", body, "2015-06-02")
    assert (event.amount, event.value("date")) == (3e7, "2013")
    # the article's date does not date what the sentence puts at some other time, unless it says "today"
    later = extract_events("Zorblax news", "Zorblax makes robots. A few months later, Zorblax raised $5 million.",
                           "2019-01-10")
    today = extract_events("Zorblax news", "Zorblax today closed $6 million, after its previously announced loan.",
                           "2019-01-10")
    assert [e.value("date") for e in later + today] == [None, "2019-01-10"]
    # the year it was founded is not the year of its round
    body = "Zorblax, founded in 2016, raised a $100 million series C announced in 2022."
    [event] = extract_events("Zorblax news", body, "2023-06-02")
    assert (event.amount, event.value("date")) == (1e8, "2022")


def test_a_deal_priced_in_the_next_sentence() -> None:
    body = "Drumlin agreed to buy Vexatron. According to Bloomberg, that deal is valued at about $70 billion."
    (event,) = extract_events("Drumlin is buying Vexatron", body, "2022-01-18")
    assert (event.kind, event.value("acquirer"), event.value("target"), event.amount) == (
        "acquisition", "Drumlin", "Vexatron", 70e9)


def test_totals_and_prices_are_not_rounds() -> None:
    body = ("Acme had previously raised $6 million. Acme has raised $30 million to date. Foo Corp agreed to buy Bar "
            "Inc. for $50 million.")
    events = extract_events("Acme news", body, "2021-01-01")
    assert [(e.kind, e.amount) for e in events] == [("total", 30e6), ("acquisition", 50e6)]


@pytest.mark.parametrize(("body", "total"), [
    ("Acme raised $40 million led by Foo Ventures, bringing its total funding to $79 million.", 79e6),
    ("Acme raised $40 million in a Series B. The round brings the company's total raised to date to $79 million.",
     79e6),
    ("Acme raised $40 million in a Series B. Prior to now, Acme had raised around $39 million.", 79e6),
    ("Acme, founded in 2016, had raised a total of $39 million prior to the new funding of $40 million.", 79e6),
    ("Acme today announced that it had raised $40 million in a round of funding.", None),
    ("Acme has raised $40 million to fuel expansion.", None),
    ("Acme raised $40 million. It expects to process a total of $1 billion in payments.", None),
    ("Acme raised $40 million, which makes up 10% of Acme's $400 million total raised since its inception.", 400e6),
    ("Acme raised $40 million. Acme had previously raised $210 million, including its $64 million series D.",
     250e6),
    ("Acme raised $40 million. Founded in 2011, Acme has raised $294 million from investors thus far.", 294e6),
    ("Acme raised $40 million. Its backers now hold 10% of Acme’s $850 million total raised since its inception.",
     850e6),  # the possessive's total
    ("Acme raised $40 million. Acme says it will grow as it becomes one of the most capitalized AI companies in the "
     "world with over $1 billion raised.", 1e9),
    ("Acme raised $40 million. In May, Acme had a relatively small round with $7.5 million raised.", None),
    ("Acme raised $40 million. Acme has already raised nearly $39 million in venture capital (VC) funding.", 79e6),
])
def test_what_a_company_has_raised_in_all_is_read_as_a_total(body: str, total: float | None) -> None:
    events = extract_events("Acme raises $40 million", body, "2021-01-01")
    assert [e.amount for e in events if e.kind == "total"] == ([total] if total else [])
    assert [e.amount for e in events if e.kind == "round" and e.subject] == [40e6]  # (its $64 million series D too)


def test_an_earlier_round_named_with_its_amount_is_a_round_of_its_own() -> None:
    body = ("Zorblax raised $23 million in a series B round. It brings the company's total raised to $48 million "
            "following a $20 million series A raise in May 2018. Earlier, the company, which raised a $2 million "
            "seed round in late 2016, had one customer.")
    rounds = {(e.amount, e.value("round"), e.value("date"), e.subject)
              for e in extract_events("Zorblax raises $23 million", body, "2020-01-20") if e.kind == "round"}
    assert rounds == {(23e6, "Series B", "2020-01-20", True), (20e6, "Series A", "2018-05", False),
                      (2e6, "seed", "2016", False)}
    body = "Zorblax has raised $147 million. It brings its total to $475 million, following a $130 million series G."
    rounds = {(e.amount, e.value("round")) for e in extract_events("Zorblax gets $147M", body) if e.kind == "round"}
    assert rounds == {(147e6, None), (130e6, "Series G")}  # not the headline's $147 million, nor its name
    body = "Zorblax raised $200 million in January, months ahead of Plonkly's $35 million series C."
    assert {(e.company, e.amount) for e in extract_events("Zorblax raises", body) if e.kind == "round"} == {
        ("Zorblax", 200e6), ("Plonkly", 35e6)}


def test_a_round_a_total_includes_is_an_earlier_round_with_its_own_valuation() -> None:
    body = ("Zorblax raised $200 million in a series E round led by Quux Capital. Prior to now, Zorblax had raised "
            "around $281 million, including a $100 million round last year that pegged the company at a valuation "
            "of more than $1 billion.")
    rounds = {(e.company, e.amount, e.value("valuation"))
              for e in extract_events("Zorblax raises $200 million at $3 billion valuation", body, "2018-06-19")
              if e.kind == "round"}
    assert rounds == {("Zorblax", 200e6, 3e9), ("Zorblax", 100e6, None)}
    body = "Zorblax raised $40 million. Zorblax had previously raised $30 million, including a $15 million tranche."
    assert {e.amount for e in extract_events("Zorblax raises $40M", body) if e.kind == "round"} == {40e6, 15e6}
    # not a part of the round the article reports
    body = "Zorblax raised $50 million, including a $10 million tranche from Quux Capital."
    assert [e.amount for e in extract_events("Zorblax raises $50 million", body) if e.kind == "round"] == [50e6]


def test_a_total_told_with_a_deal_is_still_read() -> None:
    body = ("Zorblax raised $565 million in a series D round. Zorblax had previously raised around $165 million, "
            "and its fresh cash injection could help fund its Plonkly acquisition.")
    events = extract_events("Zorblax raises $565M and acquires Plonkly", body, "2021-09-20")
    assert [e.amount for e in events if e.kind == "total"] == [730e6]
    assert [(e.value("acquirer"), e.value("target")) for e in events if e.kind == "acquisition"] == [
        ("Zorblax", "Plonkly")]


def test_a_round_said_to_be_earlier_is_not_the_sentences_round() -> None:
    body = ("Fresh off a $60 million round in November 2018, Zorblax today announced that it’s secured $135 million "
            "in series C funding led by Quux Capital. The funding brings its total to $230 million, following a $13 "
            "million series A round in August 2016 and a $22 million series B round in November 2017.")
    rounds = {(e.amount, e.value("round"), e.value("date"), tuple(e.names("lead_investors")))
              for e in extract_events("Zorblax raises $135 million", body, "2019-07-16") if e.kind == "round"}
    assert rounds == {(135e6, "Series C", "2019-07-16", ("Quux Capital",)), (60e6, None, "2018-11", ()),
                      (13e6, "Series A", "2016-08", ()), (22e6, "Series B", "2017-11", ())}


@pytest.mark.parametrize("later", [
    "and its latest cash injection was spearheaded by Quux Capital, with participation from Frob Ventures.",
    "and its series B round was led by Quux Capital, with participation from Frob Ventures.",
    "and for its series B round the company brought in investors including lead backer Quux Capital and Frob "
    "Ventures.",
])
def test_backers_said_of_the_latest_round_go_to_it_not_to_the_earlier_one(later: str) -> None:
    body = ("Zorblax raised $50 million in a series B round today. Zorblax raised $17.5 million in its series A round "
            f"of funding three years ago, {later}")
    rounds = {e.value("round"): (e.names("lead_investors"), e.names("investors"))
              for e in extract_events("Zorblax raises $50M", body, "2021-01-01") if e.kind == "round"}
    assert rounds == {"Series B": (["Quux Capital"], ["Frob Ventures"]), "Series A": ([], [])}


# -- the table, kept in step with the store ---------------------------------------------------


def test_the_table_follows_reingest_update_and_prune(tmp_path: Path, settings: Settings) -> None:
    folder = _write(tmp_path / "articles")
    engine = fake_engine([folder], settings=settings)
    store = engine.store
    assert [f.amount for f in find_facts(store, FactQuery(company="zorblax robotics", kind="round"))] == [12e6, 40e6]
    title, date, body = ARTICLES["plimsoll.txt"]
    (folder / "plimsoll.txt").write_text(f"{title}\n\n{date}\n\n{body.replace('$25 million', '$26 million')}\n")
    ingest([folder], settings, store=store, embedder=engine.embedder, progress=False)
    assert [f.amount for f in find_facts(store, FactQuery(company="Plimsoll Genomics", kind="round"))] == [26e6]
    (folder / "plimsoll.txt").unlink()
    ingest([folder], settings, store=store, embedder=engine.embedder, progress=False, prune=True)
    assert find_facts(store, FactQuery(company="Plimsoll Genomics")) == []
    assert store.db.execute("SELECT count(*) FROM event_parties WHERE event NOT IN (SELECT rowid FROM events)"
                            ).fetchone()[0] == 0


def test_filters(engine: Engine) -> None:
    store = engine.store
    assert {f.company for f in find_facts(store, FactQuery(investor="ostrander ventures"))} == {
        "Zorblax Robotics", "Plimsoll Genomics"}
    assert [f.event.value("target") for f in find_facts(store, FactQuery(company="Kestrel Ledger",
                                                                         kind="acquisition"))] == [
        "Sableworks", "Drumlin Pay"]
    assert [f.amount for f in find_facts(store, FactQuery(kind="round", since="2021", until="2021"),
                                         order="amount")] == [40e6, 25e6]
    assert [f.company for f in find_facts(store, FactQuery(kind="round", min_amount=5e8))] == ["SenseTime"]
    assert [f.company for f in find_facts(store, FactQuery(kind="round", topic="genes"))] == ["Plimsoll Genomics"]
    # a longer name than the articles write ("SenseTime Group" for "SenseTime"), as ``same_company`` reads them
    assert [f.company for f in find_facts(store, FactQuery(kind="round", company="SenseTime Group Holdings Asia"))
            ] == ["SenseTime"]


def test_cli_facts_json_csv_and_table(engine: Engine, settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    """The issue's example: SenseTime's round with the conflicting headline figure and every field's span."""
    args = ["facts", "--data-dir", str(settings.data_dir)]
    assert cli.main([*args, "--company", "SenseTime", "--json"]) == 0
    [record] = json.loads(capsys.readouterr().out)
    assert (record["amount"], record["round"], record["date"]) == (6e8, "Series C", "2018-05-31")
    assert [c["text"] for c in record["conflicts"]["amount"]] == ["$620 Million"]
    assert {"amount", "round", "valuation", "investors", "date"} <= set(record["spans"])
    assert any("Temasek" in name for name in record["investors"])
    assert cli.main([*args, "--kind", "round", "--csv", "--sort", "amount"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["company"] for r in rows] == ["SenseTime", "Zorblax Robotics", "Plimsoll Genomics", "Zorblax Robotics"]
    assert cli.main([*args, "--investor", "Quux Capital"]) == 0
    table = capsys.readouterr().out
    assert "Zorblax Robotics" in table and "Plimsoll" not in table
    assert cli.main([*args, "--min-amount", "10b"]) == 0 and "No facts match." in capsys.readouterr().out


def test_facts_from_scripts(engine: Engine, settings: Settings) -> None:
    from assistant import facts

    [fact] = facts("Vantablur Labs", settings=settings)
    assert fact.to_dict()["kind"] == "layoff" and fact.to_dict()["count"] == 120
    assert fact.to_dict()["size"] == "120 employees"
    layoffs = engine.answer("layoffs in 2022")  # each row says how many, as the article does
    assert layoffs.model == "fact table" and "Vantablur Labs, laid off 120 employees [1]" in layoffs.text


# -- aggregate questions ----------------------------------------------------------------------


@pytest.mark.parametrize(("question", "op"), [
    ("List SenseTime's funding rounds.", "list"), ("which startups did kestrel ledger acquire?", "list"),
    ("biggest rounds in 2021", "rank"), ("How much has Kestrel Ledger spent on acquisitions?", "sum"),
    ("How much has Zorblax Robotics raised in total?", "total"), ("how much has zorblax raised so far", "total"),
    ("how much did plimsoll raise in 2021?", None),
    ("how many acquisitions did Kestrel Ledger make?", "count"),
    ("Who invested in both Zorblax Robotics and Plimsoll Genomics?", "both"),
    ("How much did SenseTime raise, and who invested?", None), ("Who led Zorblax's Series B?", "round"),
    # terse and loosely phrased: a list, a count or "both" said without the usual words
    ("kestrel ledger acquisitions?", "list"), ("zorblax robotcs rounds", "list"),
    ("zorblax funding history", "list"), ("Show me every round Zorblax Robotics has closed", "list"),
    ("startups backed by ostrander ventures", "list"), ("ostrander ventures portfolio", "list"),
    ("number of acquisitions by kestrel ledger", "count"),
    ("kestrel ledger acquisitions count?", "count"),  # terse
    ("investors shared by zorblax robotics and plimsoll genomics", "both"),
    ("What was Kestrel Ledger's biggest acquisition?", "rank"), ("zorblax largest round", "rank"),
    ("how many people did vantablur labs lay off?", None), ("which investors joined zorblax's series b?", "round"),
    ("what did kestrel ledger pay for drumlin pay?", None), ("which company acquired drumlin pay?", None),
    ("who has ostrander ventures invested in?", "list"), ("who invested in zorblax robotics?", None),
    ("how many IPOs in 2021?", "count"),  # (the lexicon may know "IPO" as a name: it is the kind)
])
def test_aggregate_questions_are_recognised(engine: Engine, question: str, op: str | None) -> None:
    aggregate = read_aggregate(engine.read(question), lambda name: is_party(engine.store, name, exact=True),
                               lambda name: known_as_investor(engine.store, name))
    assert (aggregate.op if aggregate else None) == op


def test_both_reads_names_the_fact_table_knows_when_the_lexicon_does_not() -> None:
    known = {"time by ping", "density"}  # "density" is a common word: no lexicon name
    aggregate = read_aggregate(read_question("time by ping and density common investor?"),
                               lambda name: name.lower() in known)
    assert aggregate is not None and aggregate.op == "both"
    assert [c.lower() for c in aggregate.companies] == ["time by ping", "density"]


def test_a_name_the_table_knows_as_an_investor_lists_the_rounds_it_backed_or_led(engine: Engine) -> None:
    backed = engine.answer("ostrander ventures rounds")  # no "backed by": the table knows it as an investor
    assert backed.model == "fact table" and "backed by Ostrander Ventures" in backed.text.split("\n")[0]
    assert "Zorblax Robotics" in backed.text and "Plimsoll Genomics" in backed.text
    led = engine.answer("How many rounds did Quux Capital lead?")  # it led the Series A, joined the Series B
    assert led.text.startswith("The articles report 1 funding round led by Quux Capital")
    assert "$12 million" in led.text and "$40 million" not in led.text


def test_a_minimum_amount_and_who_was_laid_off_are_no_topic(engine: Engine) -> None:
    query = read_aggregate(engine.read("which startups raised more than $20 million in 2021?")).query
    assert (query.min_amount, query.topic, query.since) == (20e6, "", "2021")
    assert read_aggregate(engine.read("which companies laid off staff?")).query.topic == ""


def test_a_round_name_picks_those_rounds(engine: Engine) -> None:
    answer = engine.answer("which companies raised a series b in 2021?")
    assert answer.model == "fact table" and answer.text.startswith("Series B funding rounds (2021)")
    assert "Zorblax Robotics, Series B, $40 million" in answer.text and "Plimsoll" not in answer.text


def _cited_rows(answer) -> None:
    """Every row with a figure cites a passage that states that figure."""
    by_n = {c.n: c for c in answer.citations}
    for line in answer.text.splitlines()[1:]:
        if line.startswith("- ") and "$" in line:
            n = int(line.split("[")[1].split("]")[0])
            figure = line.split("$")[1].split()[0].rstrip(",")
            assert figure.rstrip("0").rstrip(".") in by_n[n].passage.replace(",", ""), (line, by_n[n].passage)


def test_list_sum_count_rank_and_both_are_answered_from_the_table(engine: Engine) -> None:
    answer = engine.answer("list zorblax robotcs funding rounds")  # lower case, a typo
    assert answer.model == "fact table" and not answer.abstained
    assert "$12 million" in answer.text and "$40 million" in answer.text and "Ostrander Ventures" in answer.text
    _cited_rows(answer)
    total = engine.answer("How much has Kestrel Ledger spent on acquisitions?")
    assert "$90 million" in total.text.split("\n")[0] and "1 more without a stated figure" in total.text
    count = engine.answer("how many acquisitions did Kestrel Ledger make?")
    assert count.text.startswith("The articles report 2 ") and "Drumlin Pay" in count.text
    assert read_aggregate(engine.read("list kestrel ledger acquisitions")).limit == 25  # a list is shown whole
    assert read_aggregate(engine.read("biggest rounds")).limit == 10  # a ranking, its top
    biggest = engine.answer("What was Kestrel Ledger's biggest acquisition?")  # one company's superlative
    assert biggest.model == "fact table" and "Drumlin Pay, $90 million [1]" in biggest.text
    rank = engine.answer("biggest rounds in 2021?")
    assert rank.text.index("$40 million") < rank.text.index("$25 million") and "SenseTime" not in rank.text
    both = engine.answer("Who invested in both Zorblax Robotics and Plimsoll Genomics?")
    assert "Ostrander Ventures" in both.text and len(both.citations) == 2
    seed = engine.answer("List SenseTime's funding rounds")
    assert "$600 million" in seed.text and "$620 Million" in seed.text  # the sources differ: both cited
    _cited_rows(seed)


def test_rounds_in_other_currencies_rank_by_their_worth_in_dollars(settings: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "yen.txt").write_text("Gizmo Medical raises 900 million yen\n\n2021-04-01\n\nGizmo Medical has raised "
                                    "900 million yen in a Series A round led by Hoshi Ventures.\n", encoding="utf-8")
    (folder / "usd.txt").write_text("Plimsoll Genomics raises $25 million\n\n2021-02-01\n\nPlimsoll Genomics has "
                                    "raised $25 million in a Series A round.\n", encoding="utf-8")
    engine = fake_engine([folder], settings=settings, chat=FakeChatModel(replies=["The articles don't say."]))
    rank = engine.answer("biggest rounds in 2021?").text
    assert rank.index("Plimsoll Genomics") < rank.index("Gizmo Medical"), rank  # about $6 million, not $900 million


def test_who_did_the_most_counts_each_party(engine: Engine) -> None:
    led = engine.answer("who led the most rounds?")
    assert led.model == "fact table"
    assert led.text.split("\n")[1].startswith("- Ostrander Ventures: 2 funding rounds led (Plimsoll Genomics [")
    bought = engine.answer("which company made the most acquisitions")
    assert bought.text.split("\n")[1].startswith("- Kestrel Ledger: 2 acquisitions (")
    assert "Drumlin Pay [" in bought.text and "Sableworks [" in bought.text
    for citation in led.citations[:2]:  # each counted round cites a passage saying Ostrander led it
        assert "Ostrander Ventures" in citation.passage and "led" in citation.passage


def test_a_sum_over_named_deals_adds_only_those(engine: Engine) -> None:
    both = engine.answer("how much did kestrel ledger pay for drumlin pay and sableworks combined?")
    lead = both.text.split("\n")[0]
    assert both.model == "fact table" and "of Drumlin Pay and Sableworks add up to $90 million" in lead
    assert "no price for Sableworks" in lead
    _cited_rows(both)
    assert read_aggregate(engine.read("biggest payments rounds")).query.kind == "round"  # "pay" is a word, not a prefix
    unpriced = engine.answer("How much did Kestrel Ledger pay for Sableworks in total?")
    assert unpriced.model != "fact table" and unpriced.abstained  # no figure to add: retrieval, which declines


def test_a_sum_with_no_figure_stated_is_declined_with_the_deals(settings: Settings, tmp_path: Path) -> None:
    engine = _engine_over(
        tmp_path / "unpriced", settings,
        ("Quuxly acquires Plonkit", "2021-02-12", "Quuxly has acquired Plonkit. Terms were not disclosed."),
        ("Quuxly buys Frobly", "2022-05-03", "Quuxly bought Frobly for an undisclosed amount."))
    answer = engine.answer("quuxly total spent on acquisitions?")
    assert answer.model == "fact table" and answer.abstained
    assert answer.text.startswith("The articles state no price to add up.") and "$0" not in answer.text
    assert "Quuxly bought Plonkit [1]" in answer.text and "Quuxly bought Frobly [2]" in answer.text


def test_a_count_an_article_states_is_told_with_the_deals_it_names(settings: Settings, tmp_path: Path) -> None:
    engine = _engine_over(
        tmp_path / "counted", settings,
        ("Quuxly acquires Plonkit", "2021-12-08", "Quuxly has acquired Plonkit, a startup."),
        ("Quuxly buys Frobly", "2022-05-03", "Quuxly bought Frobly. Frobly is the eighth acquisition for Quuxly since "
         "its founding in 2009. It is Vexatron's fifth acquisition of the year."))
    answer = engine.answer("How many acquisitions has Quuxly made?")
    assert answer.model == "fact table" and answer.text.startswith(
        "The articles report 2 acquisitions by Quuxly; an article says Quuxly has made 8 in all [2]:")
    assert not any(e.value("deals_so_far") for e in extract_events("Vexatron buys Zorblax", "Vexatron bought "
                   "Zorblax. It is Vexatron's fifth acquisition of the year.", "2022-05-03"))  # of a period only


def test_what_a_company_has_raised_in_all(engine: Engine) -> None:
    stated = engine.answer("how much has plimsoll genomics raised altogether")
    assert stated.model == "fact table" and stated.text.startswith("Plimsoll Genomics has raised $31 million in all")
    assert "total funding to $31" in stated.citations[0].passage
    before_and_round = engine.answer("How much has Zorblax Robotics raised in total?")
    assert before_and_round.text.startswith("Zorblax Robotics has raised $52 million in all")
    assert "($12 million before its $40 million round)" in before_and_round.text
    assert "$31 million" not in engine.answer("biggest rounds in 2021?").text  # a total is not a round
    together = engine.answer("how much have plimsoll genomics and zorblax robotics raised in total?")
    assert together.text.startswith("By the latest figure the articles give for each, Plimsoll Genomics and Zorblax "
                                    "Robotics have raised $83 million in all together")
    assert len(together.citations) == 2
    missing = engine.answer("total raised by plimsoll genomics and kestrel ledger combined")
    assert "Plimsoll Genomics has raised $31 million" in missing.text
    assert "The articles give no total for Kestrel Ledger." in missing.text


def test_one_round_asked_about_is_answered_from_the_table_when_it_states_it(engine: Engine) -> None:
    led = engine.answer("who led zorblax robotics' $40 million series b?")
    assert led.model == "fact table" and led.text.startswith(
        "Ostrander Ventures led Zorblax Robotics’ $40 million Series B round [1].")
    assert "Ostrander Ventures led the round" in led.citations[0].passage
    backers = engine.answer("which investors joined zorblax robotics' series b?")
    assert "was led by Ostrander Ventures, with Quux Capital [1]" in backers.text
    amount = engine.answer("how much did zorblax robotics raise in its series a?")
    assert amount.text.startswith("Zorblax Robotics raised $12 million in its Series A [1].")
    seed = engine.answer("how much did sensetime raise in 2018")
    assert seed.text.startswith("SenseTime raised $600 million in its Series C [1] (the articles also say $620 Million")
    # What the table does not state, or a round it cannot single out, goes to retrieval.
    assert engine.answer("what was zorblax robotics' valuation in its series b?").model != "fact table"
    assert engine.answer("who led zorblax robotics' series c?").model != "fact table"
    # Nor a comparison: retrieval answers each side from its own passages.
    assert read_aggregate(engine.read("how much did zorblax robotics raise in its series a compared with its "
                                      "series b?")) is None
    # "after its 2021 series b" is in 2021, not after it.
    assert read_aggregate(engine.read("how much did zorblax robotics raise in the series b, after its 2021 "
                                      "series b?")).query.since == "2021"


def test_open_periods_since_and_before(engine: Engine) -> None:
    since = engine.answer("how many funding rounds since 2021?")
    assert "since 2021" in since.text.split("\n")[0] and "$40 million" in since.text and "$12 million" not in since.text
    before = engine.answer("list funding rounds before 2021")
    assert "$12 million" in before.text and "$40 million" not in before.text and "until 2020" in before.text


def test_none_in_the_period_asked_is_declined_with_what_the_articles_do_report(engine: Engine) -> None:
    answer = engine.answer("which companies did Kestrel Ledger acquire in 2019?")  # its deals are of 2021
    assert answer.model == "fact table" and answer.abstained
    assert answer.text.startswith("The articles report none in 2019.") and "Drumlin Pay" in answer.text
    assert answer.citations


def _engine_over(folder: Path, settings: Settings, *articles: tuple[str, str, str]) -> Engine:
    """An engine over these (title, date, body) articles alone."""
    folder.mkdir()
    for n, (title, date, body) in enumerate(articles):
        (folder / f"{n}.txt").write_text(f"{title}\n\n{date}\n\n{body}\n", encoding="utf-8")
    return fake_engine([folder], settings=settings, chat=FakeChatModel(replies=["The articles don't say."]))


def test_both_matches_an_investor_under_two_names(settings: Settings, tmp_path: Path) -> None:
    engine = _engine_over(
        tmp_path / "pair", settings,
        ("Quuxly raises $20 million", "2023-01-05", "Quuxly has raised $20 million in a Series A round led by "
         "Ostrander."),
        ("Plonkit raises $9 million", "2023-02-07", "Plonkit has raised $9 million in a seed round led by Ostrander "
         "Ventures."))
    answer = engine.answer("who invested in both Quuxly and Plonkit?")
    assert not answer.abstained and "Ostrander / Ostrander Ventures" in answer.text and len(answer.citations) == 2
    shared = engine.answer("did quuxly and plonkit share any investors?")  # asked without "both"
    assert shared.model == "fact table" and "Ostrander / Ostrander Ventures" in shared.text


def test_a_sum_over_figures_the_sources_disagree_on_is_a_range(settings: Settings, tmp_path: Path) -> None:
    engine = _engine_over(
        tmp_path / "deals", settings,
        ("Quuxly buys Plonkit for $17 billion", "2015-06-01", "Quuxly bought Plonkit for $17 billion."),
        ("Quuxly confirms $16.7B acquisition of Plonkit", "2015-12-28",
         "Quuxly makes chips. Quuxly bought Frobly for $2 billion."))
    answer = engine.answer("How much did Quuxly pay for Plonkit and Frobly combined?")
    assert "add up to between $18.7 billion and $19 billion (the sources differ on a figure)" in answer.text
    assert "another figure for the price: $16.7B [2]" in answer.text  # both figures cited


def test_a_deal_of_a_companys_own_unit_is_among_its_acquisitions(settings: Settings, tmp_path: Path) -> None:
    engine = _engine_over(
        tmp_path / "units", settings,
        ("Quuxly's Frob Cloud acquires Plonkit to add analytics", "2021-02-08",
         "Frob Cloud, Quuxly’s enterprise hosting unit, has acquired Plonkit. Quuxly raised $300 million in 2019."),
        ("Germany's Vexatron buys Zorblax", "2021-03-01", "Germany’s Vexatron said it was buying Zorblax."))
    answer = engine.answer("what companies has quuxly acquired")
    assert answer.model == "fact table" and "Quuxly’s Frob Cloud bought Plonkit [1]" in answer.text
    listed = engine.answer("what companies has vexatron acquired").text  # a place owns no buyer
    assert "Vexatron bought Zorblax" in listed and "Germany" not in listed


def test_no_common_investor_is_a_decline_that_lists_their_rounds(engine: Engine) -> None:
    answer = engine.answer("who invested in both Plimsoll Genomics and SenseTime?")
    assert answer.model == "fact table" and answer.abstained
    assert answer.text.startswith("The articles name no investor in both") and "$25 million" in answer.text


def test_with_nothing_in_the_table_the_engine_answers_by_retrieval(engine: Engine) -> None:
    answer = engine.answer("List Frobnitz Partners' acquisitions")
    assert answer.model != "fact table" and answer.abstained


# -- the Startups tab -------------------------------------------------------------------------


def test_startups_tab_rows_and_the_passage_of_a_cell(engine: Engine) -> None:
    from assistant.ui.startups import FIELDS, fact_table, passage_card

    table = fact_table(engine.store, FactQuery(company="Zorblax Robotics"))
    # amounts in $M, numbers: the column sorts by size; the last row is what it has raised in all
    assert [(row[1], row[4]) for row in table.rows] == [("round", 12.0), ("round", 40.0), ("total", 52.0)]
    card = passage_card(engine.store, table.facts[1], FIELDS.index("lead_investors"))
    assert "<mark>" in card and "Ostrander Ventures" in card
    seed = fact_table(engine.store, FactQuery(company="SenseTime"))
    card = passage_card(engine.store, seed.facts[0], FIELDS.index("amount"))
    assert "<mark>SenseTime Group Ltd. has raised $600 Million" in card and "$620 Million" in card  # sources differ


@pytest.mark.slow
def test_startups_tab_in_the_browser(tmp_path: Path) -> None:
    """Filter by a company typed in lower case, read the rows, click an amount: its passage shows
    with the sentence that states it highlighted."""
    from web_helpers import CHROMIUM, CHROMIUM_ARGS, running_server

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    from playwright.sync_api import expect, sync_playwright

    articles = _write(tmp_path / "articles")
    with running_server(tmp_path, ["--ingest", str(SEEDS), str(articles)]) as (url, _), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1100})
            page.set_default_timeout(60_000)
            page.goto(url)
            page.get_by_role("tab", name="Startups").click()
            page.fill("#facts-company textarea, #facts-company input", "zorblax robotics")
            page.click("#facts-show")
            expect(page.locator("#facts-summary")).to_contain_text("3 fact(s)")  # 2 rounds, and the total
            expect(page.locator("#facts-table")).to_contain_text("Ostrander Ventures")
            page.locator("#facts-table [role=gridcell]").filter(has_text="40").first.click()
            expect(page.locator("#facts-card mark")).to_contain_text("raised $40 million in a Series B round")
            page.fill("#facts-company textarea, #facts-company input", "")
            page.fill("#facts-investor textarea, #facts-investor input", "Quux Capital")
            page.click("#facts-show")
            expect(page.locator("#facts-summary")).to_contain_text("2 fact(s)")
            expect(page.locator("#facts-table")).not_to_contain_text("Plimsoll")
        finally:
            browser.close()
