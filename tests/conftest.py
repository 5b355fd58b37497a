"""Shared fixtures: isolated settings, the shipped fakes (``assistant.testing``), real-model fixtures (slow)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from assistant.config import Settings, load_settings
from assistant.testing import FakeEmbedder

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "seeds"
SEED = SEEDS / "000_6892b4931faf7592.txt"
SEED_TITLE = "SenseTime Raises $620 Million, Its Second Funding Round In Two Months"
VB_CORPUS = REPO.parent / "shared" / "corpora" / "vb-startup-funding" / "articles.jsonl"


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test gets its own data dir and no ASSISTANT_* settings from the outside."""
    import os

    for var in list(os.environ):
        if var.startswith("ASSISTANT_"):
            monkeypatch.delenv(var)
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(data_dir=tmp_path / "data")


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


# -- real models (slow) ---------------------------------------------------------------------


@pytest.fixture(scope="session")
def real_embedder() -> Any:
    from assistant.backends import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder()


@pytest.fixture(scope="session")
def seed_data_dir(tmp_path_factory: pytest.TempPathFactory, real_embedder: Any) -> Path:
    """A data dir with the seed article ingested by the real model into real Chroma."""
    from ingest import ingest

    data = tmp_path_factory.mktemp("seed-store")
    report = ingest([SEEDS], load_settings(data_dir=data, env={}), embedder=real_embedder, progress=False)
    assert report.ok, report.summary()
    return data


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One assembled GGUF shared by every slow test (assembling copies 1.1 GB)."""
    from assistant.models import assemble_gguf

    cache = REPO / "data" / "models"
    return assemble_gguf(cache).parent


@pytest.fixture(scope="session")
def real_engine(seed_data_dir: Path, real_embedder: Any, model_dir: Path, tmp_path_factory: pytest.TempPathFactory,
                ) -> Any:
    """The embedded LLM over a copy of the seed store (so tests may add articles to it)."""
    from assistant.chain import Engine

    data = tmp_path_factory.mktemp("engine-store") / "data"
    shutil.copytree(seed_data_dir, data)
    model = model_dir / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
    settings = load_settings(data_dir=data, env={}, llm_model_path=str(model))
    return Engine.from_settings(settings, embedder=real_embedder)
