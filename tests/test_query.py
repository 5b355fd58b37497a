"""Question reading: names, comparisons and deterministic follow-up rewriting."""

from __future__ import annotations

from assistant.query import comparison_names, date_prefixes, entity_query, names, standalone_question

HISTORY = [{"role": "user", "content": "How much did SenseTime raise?"},
           {"role": "assistant", "content": "SenseTime raised $600 million [1]."}]


def test_names() -> None:
    assert names("Who led Pando's Series B?") == ["Pando"]
    assert names("What does Viz.ai do?") == ["Viz.ai"]
    assert names("Which raised more, Graphcore or SambaNova Systems?") == ["Graphcore", "SambaNova Systems"]
    assert names("How much did SenseTime raise in May 2018?") == ["SenseTime"]


def test_comparisons_get_one_query_per_company() -> None:
    question = "Which raised more, Graphcore or SambaNova Systems?"
    assert comparison_names(question) == ["Graphcore", "SambaNova Systems"]
    assert comparison_names("Who invested in SenseTime?") == []
    assert "SambaNova" not in entity_query(question, "Graphcore", comparison_names(question))


def test_follow_ups_become_standalone() -> None:
    assert standalone_question("Which state fund joined it?", HISTORY) == "Which state fund joined SenseTime?"
    assert standalone_question("Who led that round?", HISTORY) == "Who led SenseTime's round?"
    assert standalone_question("What about Graphcore?", HISTORY) == "How much did Graphcore raise?"
    assert standalone_question("How much did Pando raise?", HISTORY) == "How much did Pando raise?"
    assert standalone_question("What was its valuation?", HISTORY) == "What was SenseTime's valuation?"
    assert standalone_question("How much did SenseTime raise?", None) == "How much did SenseTime raise?"


def test_dates_named_in_a_question() -> None:
    assert date_prefixes("How much did Graphcore raise in December 2020?") == ["2020-12"]
    assert date_prefixes("Who invested in 2019 or Sept. 2021?") == ["2021-09", "2019"]
    assert date_prefixes("Who led the round?") == []
