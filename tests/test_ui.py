"""The web chat: pure rendering (fast), the page's adapters over a fake engine, and the real
app in a browser and through gradio_client (slow)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import REPO, SEED_TITLE, SEEDS
from web_helpers import CHROMIUM, CHROMIUM_ARGS, running_server

from assistant.config import Settings
from assistant.documents import Answer, Citation, Passage, Timings
from assistant.errors import ConfigError, StoreLockedError
from assistant.testing import FakeChatModel, FakeEmbedder, fake_engine
from assistant.ui import (
    Turn,
    WebApp,
    chat_messages,
    conversation_markdown,
    example_questions,
    link_markers,
    parse_filters,
    parse_history,
    passage_context,
    render_answer_html,
    render_panel,
    render_sources_html,
    safe_url,
)
from assistant.verify import check_answer

PASSAGE = ("SenseTime Group Ltd. has raised $600 Million from Alibaba Group Holding Ltd. and other investors. "
           "Singaporean state investment firm Temasek Holdings Pte also participated. "
           "It wants to grow its workforce by a third.")
TEMASEK = (PASSAGE.index("Singaporean"), PASSAGE.index(" It wants"))  # the sentence the verifier marks


def _citation(n: int = 1, **changes: object) -> Citation:
    values: dict[str, object] = dict(
        n=n, title="SenseTime raises $600M", date="2018-05-31", url="https://example.com/sensetime",
        source="seeds/sensetime.txt", passage=PASSAGE, start=10, end=10 + len(PASSAGE), score=0.5,
        sentences=("Temasek Holdings took part.",), support=(TEMASEK,))
    values.update(changes)
    return Citation(**values)  # type: ignore[arg-type]


def _answer(text: str = "Temasek Holdings took part [1].", **changes: object) -> Answer:
    values: dict[str, object] = dict(text=text, citations=[_citation()], abstained=False,
                                     standalone_question="Who took part?",
                                     timings=Timings(0.05, 2.0, 4.0), model="fake")
    values.update(changes)
    return Answer(**values)  # type: ignore[arg-type]


def _passage(**changes: object) -> Passage:
    values: dict[str, object] = dict(chunk_id="a:0", article_id="a", text=PASSAGE, start=0, end=len(PASSAGE),
                                     title="SenseTime raises $600M", date="2018-05-31", url="", source="seeds/a.txt",
                                     publisher="", score=0.1)
    values.update(changes)
    return Passage(**values)  # type: ignore[arg-type]


# -- pure rendering ---------------------------------------------------------------------------


def test_markers_link_to_their_source_cards() -> None:
    html = link_markers("Alibaba led [1]. Temasek joined [1, 2]. Unknown [7].", [_citation(1), _citation(2)], turn=3)
    assert html.count('href="#src-3-1"') == 2 and html.count('href="#src-3-2"') == 1
    assert '<a class="cite" href="#src-3-2" title="SenseTime raises $600M (2018-05-31)">[2]</a>' in html
    assert "Unknown [7]." in html  # no such source: left as text


def test_answer_text_is_escaped() -> None:
    html = render_answer_html(_answer("It raised <b>$5</b> & more [1]."))
    assert "&lt;b&gt;$5&lt;/b&gt; &amp; more" in html
    assert "<b>" not in html


def test_article_text_is_escaped_everywhere() -> None:
    evil = _citation(title='<img src=x onerror="alert(1)">', url="javascript:alert(1)", source="<i>s</i>",
                     passage="Intro <script>alert('x')</script> Temasek Holdings took part.")
    html = render_sources_html(_answer(citations=[evil]), contexts={1: ("<svg onload=alert(2)>", "</div>")})
    assert "<script" not in html and "<img" not in html and "<svg" not in html and "<i>" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert "javascript:" not in html
    assert html.count("</div>") == html.count("<div")  # the context's "</div>" was escaped too
    assert link_markers("x [1]", [evil]).count("<img") == 0


def test_links_are_http_only_and_open_safely() -> None:
    assert safe_url("https://venturebeat.com/a?b=1") == "https://venturebeat.com/a?b=1"
    for bad in ("javascript:alert(1)", "data:text/html,x", "//evil.com", "ftp://x", ""):
        assert safe_url(bad) == ""
    html = render_sources_html(_answer())
    assert '<a href="https://example.com/sensetime" target="_blank" rel="noopener noreferrer">' in html


def test_cited_sentences_are_highlighted_in_context() -> None:
    html = render_sources_html(_answer(), turn=2, contexts={1: ("Before text. ", " After text.")})
    assert 'id="src-2-1"' in html
    assert "<mark>Singaporean state investment firm Temasek Holdings Pte also participated.</mark>" in html
    assert html.count("<mark>") == 1  # "Ltd. has raised" stayed one unmarked sentence
    assert '<span class="ctx">Before text. </span>' in html and '<span class="ctx"> After text.</span>' in html


def _verified(text: str, title: str = "SenseTime raises $600M") -> Answer:
    """An answer whose citations the verifier made: the marks shown are the verifier's support."""
    checked = check_answer(text, [_passage(title=title, url="https://example.com/sensetime")])
    return _answer(checked.text, citations=checked.citations)


def test_verified_answer_marks_the_sentence_that_backs_it() -> None:
    html = render_sources_html(_verified("Temasek Holdings took part [1]."))
    assert "<mark>Singaporean state investment firm Temasek Holdings Pte also participated.</mark>" in html
    assert html.count("<mark>") == 1


def test_answer_sentence_combining_two_passage_sentences_marks_both() -> None:
    html = render_sources_html(_verified("SenseTime raised $600 million from Alibaba, and Temasek Holdings "
                                         "participated [1]."))
    assert html.count("<mark>") == 2 and "<mark>SenseTime Group Ltd. has raised $600 Million" in html


def test_title_is_marked_when_it_is_the_support() -> None:
    html = render_sources_html(_verified("SenseTime raised $620 million in its second round [1].",
                                         title="SenseTime Raises $620 Million In Second Round"))
    assert '<span class="src-title"><mark>SenseTime Raises $620 Million In Second Round</mark></span>' in html
    assert html.count("<mark>") == 1


def test_only_the_support_spans_are_marked_and_escaped() -> None:
    assert "<mark>" not in render_sources_html(_answer(citations=[_citation(support=())]))
    sentence = "<b>Acme</b> raised $5M."
    odd = _citation(passage="Intro. " + sentence, support=((7, 7 + len(sentence)), (100, 120)))  # one out of range
    html = render_sources_html(_answer(citations=[odd]))
    assert "Intro. <mark>&lt;b&gt;Acme&lt;/b&gt; raised $5M.</mark>" in html and html.count("<mark>") == 1


def test_abstained_answer_lists_the_closest_articles() -> None:
    answer = _answer("I couldn't find the answer in the articles.", citations=[], abstained=True,
                     suggestions=[_passage(title="Nova <raises> $20M", url="https://example.com/nova")])
    panel = render_sources_html(answer)
    assert "Closest articles" in panel and "Nova &lt;raises&gt; $20M" in panel and "https://example.com/nova" in panel
    assert "closest articles are listed" in render_answer_html(answer)
    bare = _answer("I couldn't find the answer in the articles.", citations=[], abstained=True)
    assert "No article came close" in render_sources_html(bare)


def test_notice_is_shown_with_the_answer() -> None:
    html = render_answer_html(_answer(notice="The LLM server at http://x is unreachable; showing extracted sentences."))
    assert "unreachable" in html and 'class="notice"' in html


def test_panel_keeps_earlier_answers_folded() -> None:
    turns = [Turn("First?", _answer()), Turn("Second?", _answer())]
    panel = render_panel(turns)
    assert panel.index("Sources for: Second?") < panel.index("<details")
    assert 'id="src-2-1"' in panel and 'id="src-1-1"' in panel
    assert "Reading for: Third?" in render_panel(turns, [_passage()], "Third?")
    messages = chat_messages(turns)
    assert [m["role"] for m in messages] == ["user", "assistant"] * 2
    assert 'href="#src-1-1"' in messages[1]["content"] and 'href="#src-2-1"' in messages[3]["content"]


def test_failed_turn_is_shown_but_not_sent_as_history() -> None:
    from assistant.ui import engine_history

    turns = [Turn("Broken?", None, error="no articles"), Turn("Q?", _answer())]
    assert "no articles" in chat_messages(turns)[1]["content"]
    assert engine_history(turns) == [{"role": "user", "content": "Q?"},
                                     {"role": "assistant", "content": "Temasek Holdings took part [1]."}]


def test_conversation_exports_as_markdown_with_numbered_sources() -> None:
    abstained = _answer("I couldn't find the answer in the articles.", citations=[], abstained=True,
                        suggestions=[_passage(title="Nova raises $20M")])
    md = conversation_markdown([Turn("Who took part?", _answer()), Turn("Who founded Nova?", abstained)])
    assert "## Q1. Who took part?" in md and "Temasek Holdings took part [1]." in md
    assert "1. **SenseTime raises $600M** (2018-05-31), https://example.com/sensetime" in md
    assert "   > SenseTime Group Ltd. has raised $600 Million" in md
    assert "## Q2. Who founded Nova?" in md and "- **Nova raises $20M** (2018-05-31), seeds/a.txt" in md


def test_passage_context_is_cut_at_words() -> None:
    text = "word " * 100 + "THE PASSAGE." + " tail" * 100
    start = text.index("THE")
    before, after = passage_context(text, "THE PASSAGE.", start, start + 12, chars=30)
    assert before.startswith("…") and before.endswith("word ") and not before.startswith("…ord")
    assert after.endswith("…") and after.startswith(" tail")
    assert passage_context(text, "THE PASSAGE.", 0, 5, chars=30) == (before, after)  # found by search
    assert passage_context(text, "missing", 0, 7) == ("", "")


def test_example_questions_come_from_funding_headlines() -> None:
    titles = [SEED_TITLE, "Exclusive: Nova Robotics secures $20M", "Why AI winters end"]
    assert example_questions(titles) == ["How much did SenseTime raise?", "Who invested in SenseTime?",
                                         "How much did Nova Robotics raise?", "Who invested in Nova Robotics?"]
    assert example_questions(["Why AI winters end"]) == ["What does the article “Why AI winters end” report?"]
    assert example_questions([]) == []


def test_filters_and_history_are_validated() -> None:
    assert parse_filters("", " ") is None
    assert parse_filters("2018-01-01", "2019-12-31") == {"since": "2018-01-01", "until": "2019-12-31"}
    with pytest.raises(ConfigError, match="Since must be a date"):
        parse_filters("last year", "")
    with pytest.raises(ConfigError, match="after Until"):
        parse_filters("2020-01-01", "2019-01-01")
    assert parse_history('[{"role": "user", "content": "hi"}]') == [{"role": "user", "content": "hi"}]
    for bad in ("{", '{"role": "user"}', '[{"role": "system", "content": "x"}]'):
        with pytest.raises(ConfigError, match="history_json"):
            parse_history(bad)


def test_importing_the_ui_does_not_import_gradio() -> None:
    code = "import sys, assistant.ui; sys.exit('gradio' in sys.modules or 'chromadb' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=REPO).returncode == 0


# -- the page's adapters over a fake engine (real Chroma, fake embedder and LLM) ---------------------


@pytest.fixture
def chat() -> FakeChatModel:
    return FakeChatModel()


@pytest.fixture
def app(settings: Settings, chat: FakeChatModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> WebApp:
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "gradio"))
    return WebApp(fake_engine([SEEDS], settings=settings, embedder=FakeEmbedder(), chat=chat), settings)


def test_respond_shows_sources_first_then_streams_then_the_final_answer(app: WebApp, chat: FakeChatModel) -> None:
    chat.replies = ["SenseTime raised $600 Million from Alibaba [1]."]
    updates = list(app.respond("How much did SenseTime raise?", [], 4, "", "", None))
    assert updates[0].status.startswith("Searching")
    assert updates[1].panel is not None and "Reading for:" in updates[1].panel and SEED_TITLE in updates[1].panel
    assert updates[1].messages[-1]["content"] == "_Writing the answer…_"
    final = updates[-1]
    assert final.turns and final.turns[0].answer and "$600 Million" in final.turns[0].answer.text
    assert 'href="#src-1-1"' in final.messages[-1]["content"] and "▍" not in final.messages[-1]["content"]
    assert 'id="src-1-1"' in final.panel and "<mark>" in final.panel
    assert final.status.startswith("Answered in") and not final.warning
    assert final.turns[0].contexts[1] != ("", "")  # the article text around the passage was found
    exported = Path(final.export).read_text()
    assert exported.startswith("# ") and "How much did SenseTime raise?" in exported and SEED_TITLE in exported

    chat.replies = ["Temasek Holdings Pte participated [1]."]
    follow = list(app.respond("Which Singaporean state firm took part in it?", final.turns, 4, "", "", None))[-1]
    assert len(follow.turns) == 2 and "Temasek" in follow.turns[1].answer.text
    assert "SenseTime" in follow.turns[1].answer.standalone_question  # made standalone from the history


def test_a_question_asked_while_the_models_load_says_so_then_is_answered(
        settings: Settings, chat: FakeChatModel, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """``serve`` shows the page before the models have loaded: a first question is told it waits
    for them (not a silent page), and is answered once they are ready."""
    import threading

    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "gradio"))
    loaded = threading.Event()
    app = WebApp(fake_engine([SEEDS], settings=settings, embedder=FakeEmbedder(), chat=chat), settings, loaded)
    chat.replies = ["SenseTime raised $600 Million from Alibaba [1]."]
    updates = app.respond("How much did SenseTime raise?", [], 4, "", "", None)
    first = next(updates)
    assert first.status.startswith("Loading the model")
    assert first.messages[-1]["content"].startswith("_Loading the model")
    waiting = threading.Thread(target=lambda: updates.__next__())  # blocks until the models are ready
    waiting.start()
    waiting.join(0.3)
    assert waiting.is_alive()
    loaded.set()
    waiting.join(5)
    final = list(updates)[-1]
    assert final.turns and "$600 Million" in final.turns[0].answer.text


def test_serve_refuses_an_llm_server_that_does_not_serve_the_model(settings: Settings, tmp_path: Path) -> None:
    """The models load behind the page, but the LLM server's model list is asked before it comes up:
    a server that does not serve ``llm.model`` refuses the start (docs/deploy.md, "LLM server")."""
    from types import SimpleNamespace

    from assistant.errors import ModelNotServedError
    from assistant.ui import serve

    def load() -> None:
        raise ModelNotServedError("the LLM server at http://x/v1 serves 'qwen2.5', not 'gpt-4o'")

    server_settings = settings.replace(llm_backend="openai")
    engine = fake_engine([SEEDS], settings=server_settings, embedder=FakeEmbedder())
    engine.chat_model = SimpleNamespace(load=load)
    with pytest.raises(ModelNotServedError, match="not 'gpt-4o'"):
        serve(server_settings, engine=engine)


def test_unreachable_llm_warns_with_the_notice(app: WebApp, chat: FakeChatModel) -> None:
    chat.fail = True
    final = list(app.respond("Who invested in SenseTime?", [], None, "", "", None))[-1]
    assert final.warning and "LLM" in final.warning
    assert "notice" in final.messages[-1]["content"]


def test_errors_become_messages_not_tracebacks(settings: Settings, app: WebApp) -> None:
    empty = WebApp(fake_engine([], data_dir=settings.data_dir / "empty", settings=settings, embedder=FakeEmbedder()),
                   settings)
    final = list(empty.respond("How much did SenseTime raise?", [], None, "", "", None))[-1]
    assert "no articles" in final.warning and "Traceback" not in final.status
    assert final.turns and final.turns[0].answer is None
    bad_date = list(app.respond("How much did SenseTime raise?", [], None, "yesterday", "", None))[-1]
    assert "Since must be a date" in bad_date.warning
    assert list(app.respond("  ", [], None, "", "", None))[-1].warning == "Type a question first."
    assert "not available" in list(app.respond("Q?", [], None, "", "", "nonsense"))[-1].warning


def test_backend_switch_shares_the_store(app: WebApp, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(app.settings.llm_api_key_env, raising=False)
    assert app.backends() == ["embedded", "extractive"]  # openai only once configured
    extractive = app.engine_for("extractive")
    assert extractive.store is app.engine.store and extractive.model_name == "extractive"
    assert app.engine_for("extractive") is extractive
    final = list(app.respond("Who invested in SenseTime?", [], 2, "", "", "extractive"))[-1]
    assert final.turns[0].answer.model == "extractive"


def test_upload_reports_each_file_and_remove_deletes(app: WebApp, tmp_path: Path) -> None:
    good = tmp_path / "in" / "zorblax.txt"
    good.parent.mkdir()
    good.write_text("Zorblax Robotics Raises $42 Million\n\n12 March 2024\n\nZorblax Robotics raised $42 million "
                    "in a Series B led by Quux Capital.\n")
    empty = good.with_name("empty.txt")
    empty.write_text("")
    exe = good.with_name("tool.exe")
    exe.write_bytes(b"MZ")
    seen = []
    results, summary = app.add_files([str(good), str(empty), str(exe)], lambda f, d: seen.append(f))
    outcome = dict(results)
    assert outcome["zorblax.txt"] == "ok"
    assert outcome["empty.txt"] == "rejected: empty file"
    assert outcome["tool.exe"].startswith("rejected: unsupported file type")
    assert summary.startswith("added 1") and seen[-1] == 1.0
    assert sorted(p.name for p in app.uploads_dir.iterdir()) == ["zorblax.txt"]  # rejected files not kept
    assert "How much did Zorblax Robotics raise?" in app.example_questions()

    zorblax = app.articles("Zorblax")[0]
    from ingest import store_lock

    with store_lock(app.settings), pytest.raises(StoreLockedError):
        app.remove(zorblax.id)  # not while an ingest is writing to the store
    assert "Removed" in app.remove(zorblax.id)
    assert app.articles("Zorblax") == [] and not (app.uploads_dir / "zorblax.txt").exists()
    with pytest.raises(ConfigError):
        app.remove("")


def test_page_builds_with_only_the_answer_endpoint_public(app: WebApp) -> None:
    from assistant.ui import build_demo

    demo = build_demo(app.engine, app.settings)
    api = demo.get_api_info()
    assert list(api["named_endpoints"]) == ["/answer"] and not api["unnamed_endpoints"]
    assert [p["parameter_name"] for p in api["named_endpoints"]["/answer"]["parameters"]] == ["question",
                                                                                              "history_json"]


# -- the real app (slow) ----------------------------------------------------------------------------

ANSWER_TIMEOUT_MS = 180_000
ZORBLAX = ("Zorblax Robotics Raises $42 Million To Build Warehouse Robots\n\n12 March 2024\n\n"
           "Zorblax Robotics, a Berlin-based maker of warehouse picking robots, has raised $42 million in a "
           "Series B round led by Quux Capital. Existing investors Plonk Ventures and Frobnitz Partners also "
           "participated. The company will use the money to expand into North America.\n")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, model_dir: Path) -> Iterator[str]:
    """``assistant serve --ingest seeds`` in a subprocess on a free port, as ``make run`` starts it."""
    from assistant.models import GGUF_NAME

    root = tmp_path_factory.mktemp("ui-server")
    # The shared assembled model (conftest) saves copying 1.1 GB into every fresh data dir.
    with running_server(root, ["--ingest", str(SEEDS)], env={"ASSISTANT_LLM_MODEL_PATH": str(model_dir / GGUF_NAME)},
                        command=[sys.executable, "-m", "assistant.cli", "serve"]) as (url, _):
        yield url


def _wait_for_answer(page, count: int) -> str:
    """Wait until the chat shows ``count`` finished answers; return the last one's text."""
    page.wait_for_function(
        """(n) => {
            const rows = document.querySelectorAll('#chat .bot-row');
            const status = (document.querySelector('#status') || {}).innerText || '';
            return rows.length >= n && /^\\s*(Answered|No answer|⚠)/.test(status);
        }""", arg=count, timeout=ANSWER_TIMEOUT_MS)
    return page.locator("#chat .bot-row").nth(count - 1).inner_text()


@pytest.mark.slow
def test_browser_chat_citations_follow_up_export_and_upload(server: str, tmp_path: Path) -> None:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    from playwright.sync_api import expect, sync_playwright

    article = tmp_path / "zorblax.txt"
    article.write_text(ZORBLAX)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 950}, accept_downloads=True)
            page.set_default_timeout(60_000)
            page.goto(server)

            # An example question computed from the corpus asks it.
            example = page.locator("#examples button", has_text="How much did SenseTime raise?")
            started = time.monotonic()
            example.click()
            page.wait_for_selector("#sources .src")
            sources_s = time.monotonic() - started
            first = _wait_for_answer(page, 1)
            answer_s = time.monotonic() - started
            assert re.search(r"\$6[02]0 million", first, re.IGNORECASE), first
            expect(page.locator("#sources")).to_contain_text(SEED_TITLE)

            # A marker opens its source card, with the passage showing.
            page.locator("#chat .bot-row").nth(0).locator("a.cite").first.click()
            card = page.locator("#src-1-1")
            expect(card).to_have_class(re.compile(r"\bactive\b"))
            expect(card.locator(".src-passage")).to_be_visible()
            expect(card.locator(".src-passage")).to_contain_text("SenseTime")

            # A follow-up uses the conversation.
            page.fill("#question textarea", "Which Singaporean state firm took part in it?")
            page.press("#question textarea", "Enter")
            second = _wait_for_answer(page, 2)
            assert "Temasek" in second, second
            page.locator("#chat .bot-row").nth(1).locator("a.cite").first.click()
            expect(page.locator("#src-2-1")).to_have_class(re.compile(r"\bactive\b"))
            expect(page.locator("#src-2-1 mark").first).to_be_visible()
            page.screenshot(path=str(tmp_path / "chat.png"))
            if os.environ.get("UPDATE_SCREENSHOT") == "1":
                shutil.copyfile(tmp_path / "chat.png", REPO / "docs" / "screenshot.png")

            # Export downloads the conversation with its sources.
            with page.expect_download() as download:
                page.click("#export")
            exported = Path(download.value.path()).read_text()
            assert "## Q2. Which Singaporean state firm took part in it?" in exported and SEED_TITLE in exported

            # Upload an article in the Corpus tab, then ask about it.
            page.get_by_role("tab", name="Corpus").click()
            page.set_input_files("#upload input[type=file]", str(article))
            # (gradio 6.31 shows the name's stem and extension as two pieces: "zorblax .txt")
            expect(page.locator("#upload")).to_contain_text(re.compile(r"zorblax\s*\.txt"))
            page.click("#ingest")
            expect(page.locator("#ingest-results")).to_contain_text("ok", timeout=120_000)
            expect(page.locator("#articles")).to_contain_text("Zorblax Robotics")
            page.get_by_role("tab", name="Chat").click()
            page.click("#new-chat")
            expect(page.locator("#chat .bot-row")).to_have_count(0)
            page.fill("#question textarea", "Who led Zorblax Robotics' latest round?")
            page.click("#ask")
            assert "Quux Capital" in _wait_for_answer(page, 1)
            page.screenshot(path=str(tmp_path / "upload.png"))

            # Remove it again: click its row, then the button.
            page.get_by_role("tab", name="Corpus").click()
            page.locator("#articles").get_by_text("Zorblax Robotics Raises").click()
            expect(page.locator("#remove-choice input")).to_have_value(re.compile("Zorblax"))
            page.click("#remove")
            expect(page.locator("#ingest-results")).to_contain_text("Removed")
            expect(page.locator("#articles")).not_to_contain_text("Zorblax")
        finally:
            browser.close()
    print(f"sources after {sources_s:.2f} s, first answer after {answer_s:.1f} s")


@pytest.mark.slow
def test_answer_endpoint_through_gradio_client(server: str) -> None:
    from gradio_client import Client

    client = Client(server, verbose=False)
    assert list(client.view_api(return_format="dict", print_info=False)["named_endpoints"]) == ["/answer"]
    first = client.predict(question="How much did SenseTime raise?", api_name="/answer")
    assert re.search(r"\$6[02]0 million", first["answer"], re.IGNORECASE), first
    assert first["citations"] and first["citations"][0]["title"] == SEED_TITLE
    history = [{"role": "user", "content": "How much did SenseTime raise?"},
               {"role": "assistant", "content": first["answer"]}]
    second = client.predict(question="Which Singaporean state firm took part in it?",
                            history_json=json.dumps(history), api_name="/answer")
    assert "Temasek" in second["answer"] and not second["abstained"]
    with pytest.raises(Exception, match="history_json"):
        client.predict(question="Who?", history_json="not json", api_name="/answer")
