"""`assistant eval`: metric functions on hand-made results, resuming with a fake engine, and one
slow end-to-end run with the real models on a small corpus."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

import assistant.eval as ev
from assistant.documents import Answer, Citation, Passage, Timings

REPO_ROOT = Path(__file__).resolve().parents[1]
QA_PATH = REPO_ROOT / "tests" / "data" / "qa_dev.jsonl"
VB_CORPUS = REPO_ROOT.parent / "shared" / "corpora" / "vb-startup-funding" / "articles.jsonl"
SEED = "seeds/000_6892b4931faf7592.txt"


def item(id: str = "q1", *, type: str = "amount", turns: tuple[str, ...] = ("How much?",),
         must: tuple[tuple[str, ...], ...] = (("620 million",),), gold: tuple[str, ...] = ("vb-1",),
         abstain: bool = False) -> ev.QAItem:
    return ev.QAItem(id=id, type=type, turns=turns, must=() if abstain else must, gold=gold, abstain=abstain)


def result(it: ev.QAItem, answer: str = "", *, abstained: bool = False, cited: tuple[str, ...] = (),
           context: tuple[str, ...] | None = None, ranking: tuple[str, ...] = (), total_s: float = 1.0,
           first_token_s: float = 0.5) -> ev.Result:
    return ev.score(it, "engine", answer=answer, abstained=abstained, standalone=it.question, cited=cited,
                    context=cited if context is None else context, ranking=ranking, retrieve_s=0.1,
                    first_token_s=first_token_s, total_s=total_s)


# -- matching rules -------------------------------------------------------------------------------


def test_requirements_need_one_alternative_each_case_insensitively():
    must = (("(?<![\\d.])6[02]0 ?(million|mn\\b|m\\b)",), ("Alibaba", "Temasek"))
    assert ev.unmet_requirements("It raised $620 million from temasek [1].", must) == []
    assert ev.unmet_requirements("It raised $600M from ALIBABA.", must) == []
    assert ev.unmet_requirements("It raised $6200 million from Alibaba.", must) == [list(must[0])]
    assert ev.unmet_requirements("No investors named.", must) == [list(r) for r in must]


def test_answerable_is_correct_only_with_every_requirement_and_no_abstention():
    it = item(must=(("620 million",), ("Alibaba",)))
    assert result(it, "$620 million from Alibaba").ok
    assert not result(it, "$620 million").ok
    assert not result(it, "$620 million from Alibaba", abstained=True).ok


def test_unanswerable_is_right_only_when_abstained():
    it = item("u1", type="unanswerable", abstain=True)
    assert result(it, "I couldn't find it.", abstained=True).ok
    invented = result(it, "It paid $5 million.")
    assert not invented.ok and invented.reason == "invented answer" and invented.unmet == []


@pytest.mark.parametrize("source, gold, expected", [
    ("vb-1af98a80626d", ["vb-1af98a80626d"], True),
    ("vb-1af98a80626d", ["vb-1af98a80626"], False),
    ("/abs/work/main/seeds/000_x.txt", ["seeds/000_x.txt"], True),
    ("seeds/000_x.txt", ["seeds/000_x.txt"], True),
    ("seeds/000_x.txt", ["/data/seeds/000_x.txt"], True),
    ("/abs/xseeds/000_x.txt", ["seeds/000_x.txt"], False),
    ("C:\\corpus\\seeds\\000_x.txt", ["seeds/000_x.txt"], True),
    ("seeds/001_y.txt", ["seeds/000_x.txt", "vb-2"], False),
])
def test_gold_matches_exact_ids_or_path_suffixes(source, gold, expected):
    assert ev.is_gold(source, gold) is expected


def test_hit_at_k_and_reciprocal_rank_are_passage_level():
    ranking = ["vb-9", "vb-9", "/abs/seeds/a.txt", "vb-1"]
    assert ev.first_gold_rank(ranking, ["seeds/a.txt"]) == 3
    assert not ev.hit_at(ranking, ["seeds/a.txt"], 1)
    assert ev.hit_at(ranking, ["seeds/a.txt"], 3)
    assert ev.reciprocal_rank(ranking, ["vb-1", "seeds/a.txt"]) == pytest.approx(1 / 3)
    assert ev.reciprocal_rank(ranking, ["vb-404"]) == 0.0
    assert ev.reciprocal_rank(["vb-9"] * 10 + ["vb-1"], ["vb-1"], k=10) == 0.0


def test_percentiles_interpolate_like_numpy():
    assert ev.percentile([], 50) is None
    assert ev.percentile([3.0], 95) == 3.0
    assert ev.percentile([4.0, 1.0, 3.0, 2.0], 50) == pytest.approx(2.5)
    assert ev.percentile([1.0, 2.0, 3.0, 4.0], 95) == pytest.approx(3.85)
    assert ev.percentile(list(range(101)), 95) == pytest.approx(95)


# -- aggregates -------------------------------------------------------------------------------------


def _hand_made() -> list[ev.Result]:
    a1 = item("a1", gold=("vb-1",))
    a2 = item("a2", type="investor", must=(("Alibaba",),), gold=("seeds/s.txt",))
    a3 = item("a3", type="investor", must=(("Temasek",),), gold=("vb-3",))
    a4 = item("a4", gold=("vb-4",))
    c1 = item("c1", type="conversation", turns=("Who?", "How much?"), gold=("vb-5",))
    u1 = item("u1", type="unanswerable", abstain=True, gold=("vb-6",))
    u2 = item("u2", type="unanswerable", abstain=True, gold=("vb-7",))
    return [
        # correct, cites gold and one other article (two passages of vb-1 count once)
        result(a1, "$620 million [1][2]", cited=("vb-1", "vb-1", "vb-8"), ranking=("vb-1", "vb-8")),
        # correct, cites only a non-gold article: counts against coverage
        result(a2, "Alibaba [1]", cited=("vb-9",), context=("/x/seeds/s.txt", "vb-9"),
               ranking=("vb-9", "/x/seeds/s.txt")),
        # wrong answer with the gold in context
        result(a3, "Sequoia [1]", cited=("vb-3",), ranking=("vb-3",)),
        # false abstention caused by retrieval: gold never reached the model
        result(a4, "I couldn't find it.", abstained=True, context=("vb-8",), ranking=("vb-8",),
               first_token_s=0.0),
        # conversation answered right
        result(c1, "It raised $620 million [1].", cited=("vb-5",), ranking=("vb-2", "vb-2", "vb-5")),
        # unanswerable: abstained (right) and invented (wrong; its citation does not count)
        result(u1, "I couldn't find it.", abstained=True, first_token_s=0.0),
        result(u2, "They paid $9 million [1].", cited=("vb-7",)),
    ]


def test_summary_counts_add_up_and_rates_follow_the_definitions():
    s = ev.summarize(_hand_made())
    assert (s["n"], s["n_answerable"], s["n_unanswerable"]) == (7, 5, 2)
    assert s["n_ok"] + s["n_failed"] == s["n"]
    assert sum(t["n"] for t in s["by_type"].values()) == s["n"]
    assert s["accuracy"] == pytest.approx(3 / 5)
    assert s["overall"] == pytest.approx(4 / 7)
    assert s["correct_abstention_rate"] == pytest.approx(1 / 2)
    assert s["false_abstention_rate"] == pytest.approx(1 / 5)
    # micro over cited articles of non-abstained answerable answers: a1 {vb-1 ✓, vb-8 ✗}, a2 {vb-9 ✗},
    # a3 {vb-3 ✓}, c1 {vb-5 ✓}; u2's citation is not counted.
    assert (s["n_gold_citations"], s["n_citations"]) == (3, 5)
    assert s["citation_precision"] == pytest.approx(3 / 5)
    # correct answers a1, a2, c1; a2 cites no gold article
    assert s["citation_coverage"] == pytest.approx(2 / 3)
    assert s["conversation_accuracy"] == 1.0
    assert s["by_type"]["investor"] == {"n": 2, "ok": 1, "accuracy": 0.5, "abstained": 0, "abstention_rate": 0.0}
    assert list(s["by_type"]) == ["amount", "investor", "conversation", "unanswerable"]
    r = s["retrieval"]
    assert r["n"] == 5
    assert r["hit@1"] == pytest.approx(2 / 5)  # a1, a3
    assert r["hit@3"] == pytest.approx(4 / 5)  # + a2 (rank 2), c1 (rank 3)
    assert r["mrr@10"] == pytest.approx((1 + 1 / 2 + 1 + 0 + 1 / 3) / 5)
    assert r["gold_in_context"] == pytest.approx(4 / 5)
    # first token only counts answers where the model ran
    assert s["latency"]["first_token_s"]["n"] == 5
    assert s["latency"]["total_s"] == {"n": 7, "p50": 1.0, "p95": 1.0}


def test_failure_table_lists_exactly_the_failed_ids_with_reasons():
    results = _hand_made()
    s = ev.summarize(results)
    assert s["failed_ids"] == ["a3", "a4", "u2"]
    assert [r.id for r in ev.failures(results)] == s["failed_ids"]
    assert {r.id: r.reason for r in ev.failures(results)} == {
        "a3": "wrong answer", "a4": "retrieval miss", "u2": "invented answer"}
    assert s["failure_reasons"] == {"retrieval miss": 1, "false abstention": 0, "wrong answer": 1,
                                    "invented answer": 1}
    false_abstention = result(item("a5", gold=("vb-1",)), "", abstained=True, context=("vb-1",))
    assert false_abstention.reason == "false abstention"
    markdown = ev.format_markdown(ev.Run(meta=_meta(), results={"engine": results},
                                         summaries={"engine": s}))
    failure_rows = [line for line in markdown.splitlines() if line.startswith("| ") and "|" in line[2:]
                    and line.split("|")[1].strip() in {r.id for r in results}]
    # Only the tune split's failures are listed (a4 falls in check): read failures on tune only.
    assert [ev.split_of(i) for i in ("a3", "a4", "u2")] == ["tune", "check", "tune"]
    assert [row.split("|")[1].strip() for row in failure_rows] == ["a3", "u2"]
    assert "## Tune and check splits" in markdown


def test_split_is_a_fixed_hash_of_the_id():
    ids = [f"q{i:03d}" for i in range(200)]
    splits = [ev.split_of(i) for i in ids]
    assert splits == [ev.split_of(i) for i in ids] and 70 < splits.count("check") < 130
    assert [i.id for i in ev.select([item(x) for x in ("a2", "a4")], split="check")] == ["a4"]


def test_abstentions_say_where_they_came_from():
    it = item("a1", gold=("vb-1",))
    gate = ev.score(it, "engine", answer="I couldn't find it.", abstained=True, standalone="", cited=(),
                    context=("vb-1",), ranking=(), first_token_s=0.0)
    declined = ev.score(it, "engine", answer="I couldn't find it.", abstained=True, standalone="", cited=(),
                        context=("vb-1",), ranking=(), first_token_s=1.0, raw="The articles don't say.")
    verified = ev.score(it, "engine", answer="I couldn't find it.", abstained=True, standalone="", cited=(),
                        context=("vb-1",), ranking=(), first_token_s=1.0, raw="It raised $9 million [1].",
                        removed=["It raised $9 million."])
    answered = result(it, "$1 [1]", cited=("vb-1",))
    assert [r.stage for r in (gate, declined, verified, answered)] == [
        "retrieval gate", "model declined", "verifier", ""]
    assert ev.failure_detail(declined) == "model declined: “The articles don't say.”"
    assert ev.failure_detail(verified) == "verifier removed: “It raised $9 million.”"
    assert ev.failure_detail(answered) == "`620 million`"
    half = result(item("a2", gold=("vb-1", "vb-2")), "$1 [1]", cited=("vb-1",))
    assert half.reason == "wrong answer" and ev.failure_detail(half) == "`620 million`; not in context: vb-2"
    s = ev.summarize([gate, declined, verified, answered])
    assert s["false_abstention_stages"] == {"retrieval gate": 1, "model declined": 1, "verifier": 1}
    assert ev.Result.from_dict(verified.to_dict()) == verified


def test_answer_in_passages_checks_the_requirements_against_what_retrieval_handed_over():
    it = item("a1", must=(("620 million",), ("Alibaba",)))

    def scored(text, passages):
        return ev.score(it, "engine", answer=text, abstained=False, standalone="", cited=("vb-1",),
                        context=("vb-1",), ranking=(), passages_text=passages)

    found = scored("$620 million from Alibaba", "SenseTime raised $620 million.\nAlibaba led.")
    lost = scored("$600 million", "SenseTime raised $620 million from Temasek.")
    assert (found.answer_in_passages, lost.answer_in_passages) == (True, False)
    assert result(it, "x").answer_in_passages is None  # not recorded
    unanswerable = item("u1", type="unanswerable", abstain=True)
    assert ev.score(unanswerable, "engine", answer="", abstained=True, standalone="", cited=(), context=(),
                    ranking=(), passages_text="anything").answer_in_passages is None
    assert ev.failure_detail(lost).endswith("; answer not in the retrieved passages")
    s = ev.summarize([found, lost, result(it, "x")])
    assert (s["retrieval"]["answer_in_passages"], s["retrieval"]["n_answer_in_passages"]) == (0.5, 2)


def test_empty_groups_give_undefined_rates_not_errors():
    s = ev.summarize([result(item("u1", type="unanswerable", abstain=True), "x", abstained=True)])
    assert s["accuracy"] is None and s["citation_precision"] is None and s["retrieval"]["hit@1"] is None
    assert s["correct_abstention_rate"] == 1.0


# -- QA file, selection, progress, reports -----------------------------------------------------------


def test_the_dev_qa_file_loads():
    items = ev.load_qa(QA_PATH)
    assert len(items) == len([line for line in QA_PATH.read_text().splitlines() if line.strip()])
    conversation = next(i for i in items if len(i.turns) > 1)
    assert conversation.question == conversation.turns[-1]
    assert all(i.abstain or i.must for i in items)


@pytest.mark.parametrize("line, message", [
    ('{"id": "x", "question": "Q?", "must": [["("]], "gold": []}', "bad regex"),
    ('{"id": "x", "question": "Q?", "must": [], "gold": []}', "needs at least one requirement"),
    ('{"id": "x", "must": [["a"]]}', "needs \"question\""),
    ('{"id": "x", "question": "Q?", "must": "a"}', "list of lists"),
    ('not json', "is not JSON"),
])
def test_malformed_qa_items_are_reported_with_their_line(tmp_path, line, message):
    path = tmp_path / "qa.jsonl"
    path.write_text('{"id": "ok", "question": "Q?", "abstain": true}\n' + line + "\n")
    with pytest.raises(ev.AssistantError, match=message) as info:
        ev.load_qa(path)
    assert "line 2" in str(info.value)


def test_duplicate_ids_are_rejected(tmp_path):
    path = tmp_path / "qa.jsonl"
    path.write_text('{"id": "a", "question": "Q?", "abstain": true}\n' * 2)
    with pytest.raises(ev.AssistantError, match="duplicate id 'a'"):
        ev.load_qa(path)


def test_select_filters_ids_then_limits():
    items = [item(f"q{i}") for i in range(5)]
    assert [i.id for i in ev.select(items, "q3, q1")] == ["q1", "q3"]
    assert [i.id for i in ev.select(items, None, 2)] == ["q0", "q1"]
    assert [i.id for i in ev.select(items, "q4,q2,q0", 2)] == ["q0", "q2"]
    with pytest.raises(ev.AssistantError, match="q9"):
        ev.select(items, "q1,q9")


def test_progress_keeps_only_lines_of_the_same_fingerprint(tmp_path):
    done = result(item("a1"), "$620 million")
    ev.Progress(tmp_path / "p.jsonl", {"engine": "old"}).append(done)
    progress = ev.Progress(tmp_path / "p.jsonl", {"engine": "new"})
    assert progress.load() == {}
    progress.append(done)
    with (tmp_path / "p.jsonl").open("a") as f:
        f.write('{"system": "engine", "id": "a2", "finger')  # a line cut short by a kill
    loaded = progress.load()
    assert list(loaded) == [("engine", "a1")] and loaded[("engine", "a1")] == done


def _meta() -> dict:
    return {"date": "2024-01-01T00:00:00", "qa_file": "qa.jsonl", "n_items": 7, "articles": 3, "chunks": 9,
            "model": "fake", "cpu_count": 2, "corpus": None, "commit": "", "baseline": None}


def test_reports_are_written(tmp_path):
    results = _hand_made()
    naive = [ev.Result.from_dict(r.to_dict() | {"system": "naive", "ok": False}) for r in results]
    run = ev.Run(meta=_meta(), results={"engine": results, "naive": naive},
                 summaries={"engine": ev.summarize(results), "naive": ev.summarize(naive)})
    paths = ev.write_reports(run, tmp_path / "out", "assistant eval qa.jsonl")
    data = json.loads(paths["json"].read_text())
    assert data["summary"]["engine"]["n"] == 7
    assert data["delta_engine_minus_naive"]["all questions handled right"] == pytest.approx(4 / 7)
    assert [r["id"] for r in data["results"]["engine"] if r["reason"]] == ["a3", "a4", "u2"]
    assert "Δ engine − naive" in paths["markdown"].read_text()
    assert paths["chart"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    terminal = ev.format_terminal(run)
    assert "engine: 2 failure(s) on the tune split" in terminal and "naive: 4 failure(s) on the tune split" in terminal


# -- the eval extra and the code fingerprint -----------------------------------------------------------------


@pytest.mark.parametrize("missing, options", [("matplotlib", []), ("langchain_chroma", ["--baseline", "naive"])])
def test_eval_without_the_extra_stops_at_once_with_a_clear_message(tmp_path, monkeypatch, capsys, missing, options):
    from assistant.cli import main

    monkeypatch.setitem(sys.modules, missing, None)  # `import <missing>` now fails, as when not installed
    out = tmp_path / "out"
    assert main(["eval", str(QA_PATH), "--out", str(out), "--no-progress", *options]) == 2
    err = capsys.readouterr().err
    assert "assistant eval needs the 'eval' extra: pip install 'startup-news-assistant[eval]'" in err
    assert f"(missing: {missing})" in err and "Traceback" not in err
    assert not out.exists()  # nothing was run
    assert ev.missing_packages() == ([] if missing == "langchain_chroma" else [missing])  # only for the baseline


def test_importing_the_evaluator_needs_none_of_the_extra():
    blocked = ("matplotlib", "langchain_text_splitters", "langchain_chroma", "langchain_huggingface")
    code = (f"import sys\nfor m in {blocked!r}: sys.modules[m] = None\n"
            "import assistant.eval, assistant.eval.naive\nprint(assistant.eval.missing_packages('naive'))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == str(["matplotlib", *blocked[1:]])


def test_code_fingerprint_hashes_the_engine_modules_and_the_baseline_files():
    from assistant.eval import run

    engine = sorted(p.name for p in run._ASSISTANT_DIR.glob("*.py") if p.name not in run._NOT_ANSWERING)
    assert "chain.py" in engine and "cli.py" not in engine and "evaluate.py" not in engine
    assert ev.code_fingerprint() == ev.code_fingerprint(engine)
    assert all((run._ASSISTANT_DIR / name).is_file() for name in run.NAIVE_CODE)
    assert len(ev.code_fingerprint(run.NAIVE_CODE)) == 16


# -- the orchestration, with a fake engine ---------------------------------------------------------------


class FakeStore:
    def count(self):
        return 2, 4


class FakeEngine:
    """Answers "$620 million" about everything and cites vb-1; counts the questions it was asked."""

    chat_model = None
    model_name = "fake"

    def __init__(self):
        self.store = FakeStore()
        self.asked: list[tuple[str, list]] = []

    def warm_up(self):
        pass

    def retrieve(self, question, k=None, filters=None):
        return [_passage("vb-2"), _passage("vb-1")][:k]

    def stream(self, question, history=None, filters=None, k=None):
        from assistant.chain import Retrieved

        self.asked.append((question, list(history or [])))
        passages = [_passage("vb-1")]
        yield Retrieved(question, passages, 0.01)
        yield "$620 million [1]."
        yield Answer(text="$620 million [1].", citations=[_citation("vb-1")], abstained=False,
                     standalone_question=question, timings=Timings(0.01, 0.02, 0.03), model="fake")


def _passage(source: str) -> Passage:
    return Passage(chunk_id=source + "#0", article_id=source, text="text", start=0, end=4, title="t", date="",
                   url="", source=source, publisher="", score=1.0, similarity=0.9)


def _citation(source: str) -> Citation:
    return Citation(n=1, title="t", date="", url="", source=source, passage="text", start=0, end=4, score=1.0)


def test_run_resumes_and_fresh_starts_over(tmp_path, monkeypatch):
    from assistant import load_settings
    from assistant.chain import Engine

    fake = FakeEngine()
    monkeypatch.setattr(Engine, "from_settings", classmethod(lambda cls, settings, **kw: fake))
    qa = tmp_path / "qa.jsonl"
    qa.write_text("\n".join(json.dumps(x) for x in [
        {"id": "a", "type": "amount", "question": "How much?", "must": [["620 million"]], "gold": ["vb-1"]},
        {"id": "c", "type": "conversation", "turns": ["Who?", "How much?"], "must": [["Alibaba"]],
         "gold": ["vb-1"]},
        {"id": "u", "type": "unanswerable", "question": "Price?", "abstain": True, "gold": ["vb-1"]},
    ]) + "\n")
    settings = load_settings(env={}, data_dir=tmp_path / "data", llm_backend="extractive")
    items = ev.load_qa(qa)
    out = tmp_path / "out"

    run = ev.evaluate(ev.select(items, limit=2), settings, qa_path=qa, out=out, baseline="naive",
                      show_progress=False)
    assert run.skipped == {"naive": "the extractive backend has no chat model to give the naive baseline"}
    assert len(fake.asked) == 3  # one question + two turns
    assert fake.asked[2] == ("How much?", [{"role": "user", "content": "Who?"},
                                           {"role": "assistant", "content": "$620 million [1]."}])
    assert [r.ok for r in run.results["engine"]] == [True, False]
    assert run.results["engine"][1].reason == "wrong answer"
    assert run.results["engine"][0].ranking == ["vb-2", "vb-1"]
    assert [r.answer_in_passages for r in run.results["engine"]] == [False, False]  # passages hold "text"

    run = ev.evaluate(items, settings, qa_path=qa, out=out, show_progress=False)
    assert len(fake.asked) == 4  # only "u" was new
    assert [r.id for r in run.results["engine"]] == ["a", "c", "u"]
    assert run.summaries["engine"]["failed_ids"] == ["c", "u"]
    assert run.results["engine"][2].ranking == []  # no retrieval metrics for unanswerable questions

    ev.evaluate(items, settings, qa_path=qa, out=out, fresh=True, show_progress=False)
    assert len(fake.asked) == 8
    lines = (out / "progress.jsonl").read_text().splitlines()
    assert len(lines) == 3

    qa.write_text(qa.read_text().replace("Price?", "Share price?"))  # another QA file: a new fingerprint
    ev.evaluate(ev.load_qa(qa), settings, qa_path=qa, out=out, show_progress=False)
    assert len(fake.asked) == 12


# -- end to end, real models ----------------------------------------------------------------------------------

SLOW_IDS = ["q001", "q005", "c001", "u001", "q046", "q093", "c007", "u024", "q035"]


@pytest.mark.slow
def test_eval_command_end_to_end(tmp_path, monkeypatch, capsys):
    from assistant.cli import main

    items = {i.id: i for i in ev.load_qa(QA_PATH)}
    ids = [i for i in items if i in SLOW_IDS  # file order, as the results come back
           and (VB_CORPUS.exists() or all(g.startswith("seeds/") for g in items[i].gold))]
    corpus = [REPO_ROOT / "seeds"]
    if VB_CORPUS.exists():
        wanted = {g for i in ids for g in items[i].gold if g.startswith("vb-")}
        vb = tmp_path / "vb.jsonl"
        with VB_CORPUS.open(encoding="utf-8") as src, vb.open("w", encoding="utf-8") as dst:
            dst.writelines(line for line in src if json.loads(line)["id"] in wanted)
        corpus.append(vb)
    # Temporary stores go under tmp_path, not the shared /tmp.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.chdir(tmp_path)  # seed sources become absolute paths: exercises suffix matching
    # Other people edit the engine while this runs; the resume check below must not see a new fingerprint.
    # (patched where evaluate() looks it up: the run module, not the package that re-exports it)
    monkeypatch.setattr("assistant.eval.run.code_fingerprint", lambda names=None: "pinned")
    monkeypatch.setattr("assistant.eval.run._decline_rule", lambda: "pinned")  # reads verify.py from disk
    out = tmp_path / "out"
    argv = ["eval", str(QA_PATH), "--corpus", *map(str, corpus), "--ids", ",".join(ids), "--out", str(out),
            "--baseline", "naive", "--no-progress"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "answer accuracy" in printed

    data = json.loads((out / "results.json").read_text())
    assert set(data["summary"]) == {"engine", "naive"}
    for system, s in data["summary"].items():
        results = data["results"][system]
        assert [r["id"] for r in results] == ids
        assert s["n"] == len(ids) == s["n_answerable"] + s["n_unanswerable"] == s["n_ok"] + s["n_failed"]
        assert sum(t["n"] for t in s["by_type"].values()) == s["n"]
        assert s["failed_ids"] == [r["id"] for r in results if not r["ok"]]
        assert all(bool(r["reason"]) == (not r["ok"]) for r in results)
        rates = [s[k] for k in ("accuracy", "overall", "correct_abstention_rate", "false_abstention_rate",
                                "citation_precision", "citation_coverage", "conversation_accuracy")]
        rates += [v for k, v in s["retrieval"].items() if not k.startswith("n")]
        assert all(v is None or 0.0 <= v <= 1.0 for v in rates)
        assert s["latency"]["total_s"]["n"] == len(ids)
        assert s["retrieval"]["n"] == sum(1 for i in ids if not items[i].abstain)
        # every failed tune-split id appears in that system's failure section, and no other id does:
        # check-split failures stay unread
        report = (out / "report.md").read_text()
        section = report.split(f"## Failures: {system}")[1].split("## ")[0]
        listed = [line.split("|")[1].strip() for line in section.splitlines() if line.startswith("| ")][1:]
        assert listed == [i for i in s["failed_ids"] if ev.split_of(i) == "tune"]
    engine = {r["id"]: r for r in data["results"]["engine"]}
    assert any(ev.is_gold(s, [SEED]) for s in engine["q001"]["context"])  # absolute seed path matched
    assert (out / "accuracy_by_type.png").read_bytes()[:4] == b"\x89PNG"
    lines = (out / "progress.jsonl").read_text().splitlines()
    assert len(lines) == 2 * len(ids)

    # A rerun resumes: nothing is asked again, the numbers are the same.
    assert main(argv) == 0
    again = json.loads((out / "results.json").read_text())
    assert again["summary"] == data["summary"]
    assert len((out / "progress.jsonl").read_text().splitlines()) == len(lines)
    assert sys.modules.get("assistant.eval") is ev
