"""The public surface: exported names are pinned and importing stays light."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import SEEDS

import assistant


def test_exported_members() -> None:
    assert sorted(assistant.__all__) == [
        "Answer", "AssistantError", "BackendError", "Citation", "ConfigError", "IndexNotFoundError",
        "IngestError", "ModelAssemblyError", "Passage", "Settings", "StoreLockedError", "Timings",
        "answer", "facts", "load_settings", "retrieve", "stream_answer",
    ]


def test_import_assistant_loads_no_heavy_library() -> None:
    code = ("import sys, json, assistant, assistant.cli; "
            "print(json.dumps([m for m in ('torch', 'sentence_transformers', 'chromadb', 'gradio', 'llama_cpp', "
            "'langchain_core', 'transformers') if m in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == []


def test_shipped_fakes_build_an_engine_for_users_own_tests(tmp_path) -> None:
    """assistant.testing, as its docstring shows it: an engine over real files, no model anywhere."""
    from assistant.testing import FakeChatModel, fake_engine

    chat = FakeChatModel(replies=["Alibaba led SenseTime's $600 million round [1]."])
    engine = fake_engine([SEEDS], data_dir=tmp_path / "store", chat=chat)
    result = engine.answer("Who led SenseTime's round?")
    assert not result.abstained and "Alibaba" in result.text
    assert result.citations[0].title.startswith("SenseTime Raises $620 Million")
    start, end = result.citations[0].support[0]
    assert "Alibaba" in result.citations[0].passage[start:end]  # the verifier's supporting sentence
    assert "Who led SenseTime's round?" in str(chat.received[-1][-1].content)  # the question reached the model
