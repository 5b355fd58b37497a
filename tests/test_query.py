"""Reading a question: names from the corpus lexicon (any case, typos), what is asked, comparisons,
and deterministic follow-up rewriting."""

from __future__ import annotations

from collections import Counter

from assistant.entities import Lexicon, extract_names, normal
from assistant.query import date_prefixes, read_question, standalone_question

ARTICLES = {
    "seed": ("SenseTime Raises $620 Million", "SenseTime Group Ltd. has raised $600 Million from Alibaba Group "
             "Holding Ltd. and other investors. Roughly 60 people joined. The company said SenseTime will grow. "
             "Temasek Holdings Pte and Suning.com Co. also participated."),
    "scale": ("Scale AI lands $100 million", "During the round, Scale AI raised $100 million led by Founders Fund. "
              "GPUs are scarce, said Alexandr Wang, who founded Scale AI."),
    "graphcore": ("Graphcore raises $222 million", "Graphcore raised $222 million. Rival SambaNova Systems raised "
                  "$676 million, while Graphcore makes IPUs."),
    "hugging": ("Hugging Face raises", "The startup Hugging Face raised $40 million, and Hugging Face hosts models."),
}


def lexicon() -> Lexicon:
    df: Counter[str] = Counter()
    surface: dict[str, str] = {}
    for title, body in ARTICLES.values():
        for name in extract_names(title, body):
            df[normal(name)] += 1
            surface.setdefault(normal(name), name)
    corpus_words = {w.lower().strip(".,$") for _, body in ARTICLES.values() for w in body.split()}
    return Lexicon({k: (surface[k], n) for k, n in df.items()}, len(ARTICLES), lambda w: w in corpus_words)


def test_names_come_from_the_articles_not_the_questions_capitals() -> None:
    lex = lexicon()
    assert [e.name for e in lex.find("how much did sensetime raise?")] == ["SenseTime"]
    assert [e.name for e in lex.find("Roughly how many GPUs did Scale AI buy?")] == ["Scale AI"]
    assert [e.name for e in lex.find("During 2021, who backed hugging face?")] == ["Hugging Face"]
    assert lex.find("Who led the round?") == []


def test_a_name_asked_about_does_not_swallow_the_verb_after_it() -> None:
    lex = Lexicon({"google": ("Google", 9), "google pay": ("Google Pay", 2), "fitbit": ("Fitbit", 3)}, 20)
    assert [e.name for e in lex.find("how much did google pay for fitbit?")] == ["Google", "Fitbit"]
    assert [e.name for e in lex.find("is google pay popular?")] == ["Google Pay"]


def test_a_name_with_an_ampersand_is_found_however_the_and_is_typed() -> None:
    names = extract_names("Quux & Plonk raises $45 million", "Quux & Plonk, a startup, grew. Quux and Plonk hired.")
    assert names["Quux & Plonk"][0] == 3 and "& Plonk" not in names
    lex = Lexicon({normal("Weights & Biases"): ("Weights & Biases", 2), "cohere": ("Cohere", 5)}, 50)
    for question in ("how much has weights & biases raised?", "weights and biases funding",
                     "who backs Weights and Biases?"):
        assert [e.name for e in lex.find(question)] == ["Weights & Biases"], question
    assert [e.name for e in lex.find("cohere and weights & biases")] == ["Cohere", "Weights & Biases"]


def test_a_passage_mentions_a_name_with_ampersand_however_it_writes_the_and() -> None:
    from assistant.retrieval import mentions

    assert mentions("weights and biases raises $45 million", "weights & biases")
    assert mentions("weights & biases' investors include coatue", "weights & biases")
    assert not mentions("weights, biases and more", "weights & biases")


def test_a_name_sharing_its_stem_with_another_name_is_still_a_name() -> None:
    # The keyword index counts "Canva" and "canvas" as one stem; Canvas, the drywall robotics startup,
    # is written as a name as often as any word of that stem is.
    rows = [("canva", "Canva", 7, 28), ("canvas", "Canvas", 4, 18), ("company", "Company", 30, 45)]
    counts = {"canva": 117, "canvas": 117, "company": 10153}
    lex = Lexicon.build(rows, counts.__getitem__, 1000, lambda w: w in counts)
    assert [e.name for e in lex.find("what year was drywall robotics startup canvas founded?")] == ["Canvas"]
    assert lex.find("which company was founded first?") == []


def test_a_company_named_by_a_common_word_is_found_where_the_question_capitalises_it() -> None:
    # One article calls the startup "Observe" eleven times and never uses the verb; the corpus uses "observe",
    # "observability" and "observed" far more. "Face" is mostly written inside "Hugging Face".
    rows = [("observe", "Observe", 3, 28, 11), ("face", "Face", 4, 30, 6), ("hugging face", "Hugging Face", 20, 111, 9)]
    counts = {"observe": 400, "face": 1000, "hugging": 120}
    lex = Lexicon.build(rows, counts.__getitem__, 1000, lambda w: w in counts)
    assert [e.name for e in lex.find("List the funding rounds of Observe, the observability startup.")] == ["Observe"]
    assert lex.find("how do startups observe their systems?") == []
    assert lex.find("Observe how models drift") == []  # a question's first word is capitalised anyway
    assert [e.name for e in lex.find("Who backs Face?")] == []


def test_names_keep_their_initials_and_the_counting_word_they_nearly_always_open_with() -> None:
    names = extract_names("One Quux buys Plonk", "One Quux, owned by J.P. Plonk, bought Frob. Quux\nOne Quux said "
                          "Frob, a rival of Ping Quux, sold to One Quux. One Quux grew. T. Rowe Price invested in "
                          "the company, as did One Quux.")
    assert {"One Quux", "J.P. Plonk", "T. Rowe Price"} <= set(names)
    assert "Quux" not in names and "Rowe Price" not in names


def test_misspelt_names_are_found_but_corpus_words_are_not_typos() -> None:
    lex = lexicon()
    (typo,) = lex.find("how much did SenseTmie raise")
    assert (typo.name, typo.said, typo.exact) == ("SenseTime", "SenseTmie", False)
    assert [e.name for e in lex.find("who invested in graphcoer?")] == ["Graphcore"]
    assert lex.find("how many people joined the startup?") == []  # "people", "joined": words of the corpus
    short = Lexicon({"lynk": ("Lynk", 1), "snyk": ("Snyk", 6), "aura": ("Aura", 1), "aurora": ("Aurora", 9)}, 50)
    assert [e.name for e in short.find("how much money has synk raised in total?")] == ["Snyk"]  # not Lynk
    assert [e.name for e in short.find("did paccar invest in auroa?")] == ["Aurora"]  # the better known of two


def test_question_record() -> None:
    lex = lexicon()
    q = read_question("how much did sensetmie raise in may 2018?", lex)
    assert (q.names, q.asks, q.periods) == (["SenseTime"], "amount", ("2018-05",))
    assert q.search_text == "how much did SenseTime raise in may 2018?"
    assert read_question("who founded scale ai", lex).asks == "who"
    assert read_question("pando investors?", lex).asks == "who"
    assert read_question("When did Graphcore raise?", lex).asks == "when"
    assert read_question("Did Graphcore raise money?", lex).asks == "yesno"
    for terse in ("graphcore total funding 2020?", "how much is graphcore paying?", "which costs more?"):
        assert read_question(terse, lex).asks == "amount"


def test_comparisons_are_split_into_one_question_per_member() -> None:
    q = read_question("Which raised more, graphcore or SambaNova Systems?", lexicon())
    assert q.members == ("Graphcore", "SambaNova Systems")
    graphcore = q.about("Graphcore")
    assert "SambaNova" not in graphcore.text and graphcore.names == ["Graphcore"] and not graphcore.members
    assert read_question("Who invested in SenseTime?", lexicon()).members == ()


def test_follow_ups_become_standalone() -> None:
    find = lexicon().find
    history = [{"role": "user", "content": "how much did sensetime raise?"},
               {"role": "assistant", "content": "SenseTime raised $600 million [1]."}]
    assert standalone_question("Which state fund joined it?", history, find) == "Which state fund joined SenseTime?"
    assert standalone_question("Who led that round?", history, find) == "Who led SenseTime's round?"
    assert standalone_question("What about Graphcore?", history, find) == "how much did Graphcore raise?"
    assert standalone_question("How much did Graphcore raise?", history, find) == "How much did Graphcore raise?"
    assert standalone_question("What was its valuation?", history, find) == "What was SenseTime's valuation?"
    assert standalone_question("How much did SenseTime raise?", None, find) == "How much did SenseTime raise?"


def test_a_follow_up_about_the_company_or_person_the_answer_named() -> None:
    find = lexicon().find
    history = [{"role": "user", "content": "which chipmaker is a rival of graphcore?"},
               {"role": "assistant", "content": "Graphcore's rival is SambaNova Systems [1]."}]
    assert standalone_question("how much did it raise?", history, find) == "how much did SambaNova Systems raise?"
    history = [{"role": "user", "content": "what rival does graphcore face?"},
               {"role": "assistant", "content": "Graphcore faces SambaNova Systems [1]."}]
    assert standalone_question("how much did it raise?", history, find) == "how much did SambaNova Systems raise?"
    history = [{"role": "user", "content": "what valuation did graphcore reach?"},  # an amount, not a thing
               {"role": "assistant", "content": "Graphcore was valued above SambaNova Systems [1]."}]
    assert standalone_question("who founded it?", history, find) == "who founded Graphcore?"
    history = [{"role": "user", "content": "who founded scale ai?"},
               {"role": "assistant", "content": "Alexandr Wang founded Scale AI [1]."}]
    assert standalone_question("what did he say about gpus?", history, find) == "what did Alexandr Wang say about gpus?"
    history = [{"role": "user", "content": "Who led Scale AI's round?"},
               {"role": "assistant", "content": "Founders Fund led it [1]."}]
    assert standalone_question("who is the company's ceo?", history, find) == "who is Scale AI's ceo?"
    history = [{"role": "user", "content": "Which company agreed to acquire Graphcore?"},
               {"role": "assistant", "content": "SambaNova Systems agreed to acquire it [1]."}]
    assert standalone_question("who is its ceo?", history, find) == "who is SambaNova Systems's ceo?"
    # "the startup" is the one the question named, not the company the answer named
    assert standalone_question("which division will the startup join?", history, find) == \
        "which division will Graphcore join?"
    history[0]["content"] = "Which startup did Graphcore acquire?"
    assert standalone_question("when was the startup founded?", history, find) == \
        "when was SambaNova Systems founded?"


def test_dates_named_in_a_question() -> None:
    assert date_prefixes("How much did Graphcore raise in December 2020?") == ["2020-12"]
    assert date_prefixes("Who invested in 2019 or Sept. 2021?") == ["2021-09", "2019"]
    assert date_prefixes("Who led the round?") == []


def test_written_names_the_corpus_never_saw_are_unknown() -> None:
    lex = lexicon()
    assert read_question("Who led Zyxcorp's Series D?", lex).unknown == ("Zyxcorp's",)
    assert read_question("who led zyxcorp's round?", lex).unknown == ()  # lower case: maybe just a word
    assert read_question("Who led SenseTmie's round?", lex).unknown == ()  # a typo of a corpus name
    assert read_question("Which backers joined Graphcore?", lex).unknown == ()  # first word: any word


def test_only_names_joined_as_alternatives_or_each_are_members() -> None:
    lex = lexicon()
    assert read_question("graphcore vs sambanova systems funding", lex).members == ("Graphcore", "SambaNova Systems")
    assert read_question("Did Graphcore and SambaNova Systems both raise?", lex).members == (
        "Graphcore", "SambaNova Systems")
    assert read_question("What did Graphcore and SambaNova Systems announce?", lex).members == ()
    assert read_question("How much more did Alibaba put into SenseTime?", lex).members == ()


def test_possessive_owners_stay_with_their_member() -> None:
    q = read_question("Which raised more: Alibaba's SenseTime or Graphcore?", lexicon())
    assert q.members == ("SenseTime", "Graphcore") and q.owners == ("Alibaba", "")
    assert "Alibaba" in q.about("SenseTime").text and "Alibaba" not in q.about("Graphcore").text


def test_a_multi_part_question_is_split_into_standalone_parts() -> None:
    q = read_question("how much did sensetime raise, and who invested?", lexicon())
    assert q.parts == ("how much did sensetime raise?", "who invested (SenseTime)?") and q.members == ()
    assert read_question("Who invested in SenseTime and Graphcore?", lexicon()).parts == ()


def test_a_choice_between_two_described_things_has_one_member_per_side() -> None:
    lex = Lexicon({"piaggio": ("Piaggio", 1), "gita": ("Gita", 1), "automata": ("Automata", 2),
                   "luminar": ("Luminar", 1), "volvo": ("Volvo", 20), "aurora": ("Aurora", 25),
                   "paccar": ("Paccar", 2)}, 1000)
    q = read_question("Which costs more: Piaggio's Gita cargo robot or Automata's desktop robotic arm?", lex)
    assert (q.asks, q.members) == ("amount", ("Piaggio", "Automata"))
    assert q.about("Piaggio").text == "Which costs more: Piaggio's Gita cargo robot?"
    assert q.about("Automata").text == "Which costs more: Automata's desktop robotic arm?"
    first = read_question("which partnership was announced first, luminar with volvo or aurora with paccarr?", lex)
    assert first.about(first.members[1]).text == "which partnership was announced first, aurora with Paccar?"
    assert first.about(first.members[1]).names == ["Aurora", "Paccar"]
    assert "aurora" not in first.about(first.members[0]).text


def test_names_joined_by_a_hyphen_are_both_found_and_plurals_of_short_words_are_words() -> None:
    lex = Lexicon({"toyota": ("Toyota", 16), "softbank": ("SoftBank", 38), "palette": ("Palette", 1),
                   "gpt-j": ("GPT-J", 1), "pro": ("Pro", 7), "anki": ("Anki", 3)}, 1000, lambda w: w == "pros")
    assert [e.name for e in lex.find("what is the toyota-softbank venture called?")] == ["Toyota", "SoftBank"]
    assert lex.find("what is e-palette?") == []  # one name in a compound word is not that name
    assert [e.name for e in lex.find("how big is gpt-j?")] == ["GPT-J"]
    assert lex.find("how many human pros did it beat?") == []
    assert [e.name for e in lex.find("who bought ankis assets?")] == ["Anki"]


def test_a_name_the_articles_also_write_in_lower_case_is_a_name_only_where_the_question_capitalises_it() -> None:
    # "Capital" is written alone as a name 49 times by the articles that name it, and 20 times in lower case.
    rows = [("capital", "Capital", 43, 49, 3, 20), ("sequoia", "Sequoia", 13, 16, 4, 0)]
    lex = Lexicon.build(rows, {"capital": 60, "sequoia": 20}.__getitem__, 1000, lambda w: True)
    assert lex.find("how much capital does it start with?") == []
    assert [e.name for e in lex.find("who backs Capital?")] == ["Capital"]
    assert [e.name for e in lex.find("what did sequoia invest in?")] == ["Sequoia"]


def test_a_side_starts_at_its_own_names_not_at_a_subject_both_sides_share() -> None:
    lex = Lexicon({"databricks": ("Databricks", 35), "mosaicml": ("MosaicML", 2), "arcion": ("Arcion", 2),
                   "intel": ("Intel", 110), "nvidia": ("Nvidia", 111), "q3": ("Q3", 12), "q4": ("Q4", 19)}, 1000)
    q = read_question("How much did Databricks pay for MosaicML compared with what it paid for Arcion?", lex)
    assert q.members == ("MosaicML", "Arcion")
    assert q.about("MosaicML").text == "How much did Databricks pay for MosaicML?"
    assert q.about("Arcion").text == "How much did Databricks pay for what it paid for Arcion?"
    revenue = read_question("intel q3 2020 revenue vs nvidia fiscal q4 2022 revenue, which is bigger?", lex)
    assert revenue.members == ("Intel", "Nvidia")  # a quarter is a period, not what is compared
    assert revenue.about("Nvidia").text == "nvidia fiscal q4 2022 revenue, which is bigger?"
