"""One text analysis for the index, retrieval, prompting and verification: stems and sentences."""

from __future__ import annotations

from assistant.text import count_terms, index_text, key_terms, split_sentences, stem


def test_question_terms_and_index_share_one_stemmer() -> None:
    assert key_terms("How much did SenseTime raise?") == ["sensetim", "rais"]
    assert stem("raised") == stem("raise") == stem("raising")
    assert index_text("SenseTime raised $600M") == "sensetim rais 600 million"
    assert count_terms(key_terms("who invested in it?"), "Temasek was an investor, investing early.") == 1


def test_sentences_split_after_rounds_and_abbreviations_but_not_initials() -> None:
    text = ("Acme closed a Series A. The round was led by Foo. It is based in the U.S. It raised more. "
            "John D. Rockefeller invested via Acme Inc. in 2019. Its Series B. Acme had raised before.")
    assert [text[s:e] for s, e in split_sentences(text)] == [
        "Acme closed a Series A.", "The round was led by Foo.", "It is based in the U.S.", "It raised more.",
        "John D. Rockefeller invested via Acme Inc. in 2019.", "Its Series B.", "Acme had raised before.",
    ]
