"""Two processes over one data dir: a reader that opened the store before a writer changed it sees
the change at its next question (SQLite WAL; docs/deploy.md, "Several app instances"). The real
two-process test, with a Chroma server, is in test_chroma_server.py."""

from __future__ import annotations

from pathlib import Path

from assistant.chain import Engine
from assistant.config import Settings
from assistant.store import Store
from assistant.testing import FakeEmbedder
from ingest import ingest

ARTICLE = ("{name} Raises $12M\n\n4 March 2024\n\n{name}, a startup that makes code review tools, has raised "
           "$12 million in a Series A round led by Pellucid Ventures.\n")


def test_a_reader_sees_an_article_another_writer_replaced(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "article.txt"
    path.write_text(ARTICLE.format(name="Brindlecode"))
    assert ingest([path], settings, embedder=FakeEmbedder(), progress=False).ok
    reader = Engine.from_settings(settings.replace(llm_backend="extractive"), embedder=FakeEmbedder(),
                                  store=Store(settings.data_dir, embedding_model="fake-embedder"))
    assert "Pellucid Ventures" in reader.answer("Who led Brindlecode's Series A?").text

    # Another writer replaces the article: same number of articles and chunks, a new name.
    path.write_text(ARTICLE.format(name="Quillfern"))
    report = ingest([path], settings, embedder=FakeEmbedder(), progress=False)
    assert report.updated and reader.store.count() == (1, 1)

    answer = reader.answer("Who led Quillfern's Series A?")
    assert "Pellucid Ventures" in answer.text and answer.citations[0].title == "Quillfern Raises $12M"
