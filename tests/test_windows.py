"""What of an article the model is shown: the best windows within a character budget."""

from __future__ import annotations

from assistant.documents import Passage
from assistant.prompting import best_windows, fit_passages
from assistant.query import Question

FILLER = "Orbix makes warehouse robots that sort parcels for retailers. "
ARTICLE = (
    "Orbix said its robots are now in 40 warehouses. " + FILLER * 12
    + "Orbix reported revenue of $30 million for 2021, its chief executive said. " + FILLER * 20
    + "The company finished the year with a $4 million profit. " + FILLER * 6
)


def _article(text: str = ARTICLE) -> Passage:
    return Passage(chunk_id="c0", article_id="a0", text=text, start=0, end=len(text), title="Orbix grows",
                   date="2022-02-01", url="", source="orbix", publisher="", score=1.0)


def test_the_wide_look_shows_the_best_sentences_even_far_apart() -> None:
    """One window around the best sentence would miss the profit, stated far from the rest."""
    question = Question("How much profit did Orbix report for 2021?", asks="amount")
    windows = best_windows(question, _article(), 900)
    shown = " ".join(w.text for w in windows)
    assert "$4 million profit" in shown and "revenue of $30 million" in shown
    assert sum(len(w.text) for w in windows) <= 900
    assert all(ARTICLE[w.start:w.end] == w.text for w in windows)  # real spans, for citations
    assert [w.start for w in windows] == sorted(w.start for w in windows)
    single = fit_passages(question, [_article()], 900)[0].text
    assert "$4 million profit" not in single


def test_a_short_article_is_one_window() -> None:
    short = "Orbix made a $4 million profit."
    assert [w.text for w in best_windows(Question("How much profit?", asks="amount"), _article(short), 900)] == [short]
