"""One text analysis for the index, retrieval, prompting and verification: stems and sentences."""

from __future__ import annotations

from assistant.text import count_terms, index_text, key_terms, money, numbers, split_sentences, stem


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


def test_amounts_say_whether_a_currency_was_written() -> None:
    found = {m.text: (m.value, m.has_currency) for m in money(
        "It raised $600 million and 10 billion yuan, sold for $34-40 million, and made Megatron 530B for 30 million "
        "readers.")}
    assert found == {"$600 million": (6e8, True), "10 billion yuan": (1e10, True), "40 million": (4e7, True),
                     "530B": (5.3e11, False), "30 million": (3e7, False)}


def test_a_number_joined_to_its_scale_by_a_hyphen_is_one_number() -> None:
    assert numbers("DALL-E uses a 12-billion parameter version") == numbers("12 billion parameters") == {12e9}
    assert numbers("a 10-year deal") == {10.0}
