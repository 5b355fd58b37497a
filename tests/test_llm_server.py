"""The `openai` backend against a real OpenAI-compatible server: llama.cpp's (``python -m
llama_cpp.server``, the llama-cpp-python[server] extra) serving the packaged Qwen2.5 GGUF, one
server for the module. Fault injection stays with the stub server of test_openai_backend.py."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import SEED_TITLE
from servers import ServerProcess

from assistant.chain import Engine
from assistant.config import Settings, load_settings
from assistant.documents import Answer
from assistant.errors import ModelNotServedError
from assistant.models import GGUF_NAME

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def llm_server(model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    logs = tmp_path_factory.mktemp("llm-server")
    with ServerProcess.llama(model_dir / GGUF_NAME, logs, "--model_alias", "qwen2.5", "--n_ctx", "4096") as server:
        yield server


@pytest.fixture(scope="module")
def server_settings(llm_server: ServerProcess, seed_data_dir: Path, tmp_path_factory: pytest.TempPathFactory,
                    ) -> Settings:
    data = tmp_path_factory.mktemp("llm-server-store") / "data"
    shutil.copytree(seed_data_dir, data)
    return load_settings(data_dir=data, env={}, llm_backend="openai", llm_base_url=f"{llm_server.url}/v1",
                         llm_model="qwen2.5")


def _engine(settings: Settings, real_embedder: Any, **changes: Any) -> Engine:
    return Engine.from_settings(settings.replace(**changes), embedder=real_embedder)


def test_a_streamed_answer_with_citations(server_settings: Settings, real_embedder: Any) -> None:
    events = list(_engine(server_settings, real_embedder).stream("How much did SenseTime raise?"))
    deltas = [event for event in events if isinstance(event, str)]
    answer = events[-1]
    assert isinstance(answer, Answer) and answer.model == "openai:qwen2.5" and not answer.notice, answer
    assert len(deltas) >= 3  # it streamed, token by token, rather than arriving whole
    assert re.search(r"\$?6[02]0 ?(million|m\b)", answer.text, re.I), answer.text
    assert answer.citations and answer.citations[0].title == SEED_TITLE
    print(f"{len(deltas)} deltas, first token after {answer.timings.first_token_s:.1f} s, "
          f"total {answer.timings.total_s:.1f} s")


def test_a_question_the_article_does_not_answer_abstains(server_settings: Settings, real_embedder: Any) -> None:
    # The article names Temasek among the investors but says no individual amounts were outlined:
    # retrieval finds it, and the model served over HTTP declines.
    answer = _engine(server_settings, real_embedder).answer("How much did Temasek invest in SenseTime?")
    assert answer.abstained and not answer.citations, answer
    assert answer.model == "openai:qwen2.5" and answer.timings.first_token_s > 0  # the server's model was asked


def test_a_model_the_server_does_not_serve_is_named(server_settings: Settings, real_embedder: Any) -> None:
    engine = _engine(server_settings, real_embedder, llm_model="gpt-4o")
    # `assistant serve` loads the models first: it refuses to start, saying which models there are.
    with pytest.raises(ModelNotServedError, match="serves 'qwen2.5', not 'gpt-4o'; set llm.model"):
        engine.warm_up()
    answer = engine.answer("How much did SenseTime raise?")  # a question still gets extracted sentences
    assert answer.model == "extractive" and "not 'gpt-4o'" in answer.notice, answer.notice
    assert answer.citations and answer.citations[0].title == SEED_TITLE


def test_a_timeout_falls_back_with_a_notice(server_settings: Settings, real_embedder: Any) -> None:
    # (Last: the server may go on writing the reply it was abandoned for.)
    answer = _engine(server_settings, real_embedder, llm_timeout_s=0.05, llm_max_tokens=16).answer(
        "How much did SenseTime raise?")
    assert answer.model == "extractive" and "did not answer in time" in answer.notice, answer.notice
    assert server_settings.llm_base_url in answer.notice and answer.citations
