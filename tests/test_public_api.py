"""The public surface: exported names are pinned and importing stays light."""

from __future__ import annotations

import json
import subprocess
import sys

import assistant


def test_exported_members() -> None:
    assert sorted(assistant.__all__) == [
        "Answer", "AssistantError", "BackendError", "Citation", "ConfigError", "IndexNotFoundError",
        "IngestError", "ModelAssemblyError", "Passage", "Settings", "StoreLockedError", "Timings",
        "answer", "load_settings", "retrieve", "stream_answer",
    ]


def test_import_assistant_loads_no_heavy_library() -> None:
    code = ("import sys, json, assistant, assistant.cli; "
            "print(json.dumps([m for m in ('torch', 'sentence_transformers', 'chromadb', 'gradio', 'llama_cpp', "
            "'langchain_core', 'transformers') if m in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == []
