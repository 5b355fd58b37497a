"""The store on a real Chroma server (``chroma run`` from the installed chromadb), as a deployment
runs it: ingest, answer, --prune and a re-ingest through the CLI; the server down or restarting
mid-ingest; and two app processes over one store (docs/deploy.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import chromadb
import pytest
from conftest import REPO, SEED, SEED_TITLE
from servers import ServerProcess
from web_helpers import running_server, write_company_articles

from assistant.chain import Engine
from assistant.cli import main
from assistant.config import Settings
from assistant.errors import BackendError, ConfigError
from assistant.store import Store
from assistant.testing import FakeEmbedder
from ingest import ingest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def chroma(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One Chroma server for the module; each test uses a collection of its own."""
    with ServerProcess.chroma(tmp_path_factory.mktemp("chroma-server") / "chroma") as server:
        yield server


def _on(server: ServerProcess, collection: str) -> dict[str, str]:
    return {"ASSISTANT_STORE_HOST": "127.0.0.1", "ASSISTANT_STORE_PORT": str(server.port),
            "ASSISTANT_STORE_COLLECTION": collection}


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``assistant ...`` in a process of its own, as a user runs it (the real MiniLM embedder)."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")} | {"HF_HUB_OFFLINE": "1", **env}
    return subprocess.run([sys.executable, "-m", "assistant.cli", *args], cwd=REPO, env=full, capture_output=True,
                          text=True, timeout=600)


def _server_ids(server: ServerProcess, collection: str) -> set[str]:
    client = chromadb.HttpClient(host="127.0.0.1", port=server.port)
    return set(client.get_collection(collection).get(include=[])["ids"])


def _manifest_ids(data: Path) -> set[str]:
    store = Store(data)
    try:
        return {row[0] for row in store.db.execute("SELECT id FROM chunks")}
    finally:
        store.close()


def test_ingest_answer_prune_and_reingest_through_the_cli(chroma: ServerProcess, tmp_path: Path) -> None:
    corpus, data = tmp_path / "corpus", tmp_path / "data"
    write_company_articles(corpus)
    for extra in set(corpus.glob("company*.txt")) - {corpus / "company0.txt", corpus / "company1.txt"}:
        extra.unlink()  # two fictional articles beside the seed
    (corpus / SEED.name).write_text(SEED.read_text())
    env = {**_on(chroma, "cli-flow"), "ASSISTANT_DATA_DIR": str(data)}

    done = _cli("ingest", str(corpus), "--no-progress", env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("added 3, updated 0, unchanged 0"), done.stdout
    assert not (data / "chroma").exists()  # the vectors went to the server, not to a local folder
    assert _server_ids(chroma, "cli-flow") == _manifest_ids(data) != set()

    asked = _cli("ask", "Who led the Series A of Zorblax Robotics?", "--json", "--backend", "extractive", env=env)
    answer = json.loads(asked.stdout)
    assert "Quux Capital" in answer["answer"] and not answer["abstained"], answer
    assert answer["citations"][0]["title"].startswith("Zorblax Robotics Raises")

    (corpus / "company0.txt").unlink()
    pruned = _cli("ingest", str(corpus), "--prune", "--no-progress", env=env)
    assert "removed 1" in pruned.stdout, pruned.stdout + pruned.stderr
    assert _server_ids(chroma, "cli-flow") == _manifest_ids(data)  # its vectors left the server too

    again = _cli("ingest", str(corpus), "--no-progress", env=env)
    assert again.stdout.startswith("added 0, updated 0, unchanged 2"), again.stdout
    assert "(0 chunks embedded)" in again.stdout
    asked = _cli("ask", "Who led the Series A of Zorblax Robotics?", "--json", "--backend", "extractive", env=env)
    assert not any(c["title"].startswith("Zorblax") for c in json.loads(asked.stdout)["citations"])


class _KillsServerOnCall(FakeEmbedder):
    """Kills the Chroma server (SIGKILL, like a crash) when asked to embed for the ``n``-th time."""

    def __init__(self, server: ServerProcess, n: int) -> None:
        super().__init__()
        self.server, self.n = server, n

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if len(self.calls) + 1 == self.n:
            self.server.stop(kill=True)
        return super().embed_documents(texts)


def test_a_server_down_or_restarting_mid_ingest_is_a_clear_error_and_the_next_run_completes(
        tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        ) -> None:
    server = ServerProcess.chroma(tmp_path / "chroma")  # (its own: this test stops it)
    settings = settings.replace(store_host="127.0.0.1", store_port=server.port, retrieval_min_similarity=0.0)
    corpus = write_company_articles(tmp_path / "corpus")

    # Not running at all: the command says where it looked.
    monkeypatch.setenv("ASSISTANT_STORE_HOST", "127.0.0.1")
    monkeypatch.setenv("ASSISTANT_STORE_PORT", str(server.port))
    assert main(["ingest", str(corpus), "--data-dir", str(tmp_path / "cli-data"), "--no-progress"]) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"error: cannot open the Chroma server at 127.0.0.1:{server.port}"), error
    assert "is it running" in error

    server.start()
    try:
        monkeypatch.setattr(sys.modules["ingest"], "GROUP_CHUNKS", 4)  # a commit every 4 articles
        embedder = _KillsServerOnCall(server, n=2)
        with pytest.raises(BackendError, match=f"writing vectors to the Chroma server at 127.0.0.1:{server.port} "
                                               "failed: .*is the server running.*run the ingest again"):
            ingest([corpus], settings, embedder=embedder, progress=False)
        store = Store(settings.data_dir)
        assert store.count()[0] == 4  # the first group was committed; the second left only a journal entry
        store.close()

        server.start()  # restarted, same folder and port
        report = ingest([corpus], settings, embedder=FakeEmbedder(), progress=False)
        assert report.ok and len(report.added) == 12 and report.unchanged == 4, report.summary()
        assert report.recovered == 4  # the half-written group was cleaned first
        assert _server_ids(server, settings.store_collection) == _manifest_ids(settings.data_dir)

        engine = Engine.from_settings(settings.replace(llm_backend="extractive"), embedder=FakeEmbedder())
        answer = engine.answer("Who led Nettlefield Bio's latest round?")  # from the last group (by retrieval)
        assert "Osprey Bank Ventures" in answer.text and answer.citations

        server.stop(kill=True)  # down while the app runs: a clear error, not a wrong answer
        with pytest.raises(BackendError, match=f"the Chroma server at 127.0.0.1:{server.port} failed"):
            engine.answer("Who led Nettlefield Bio's latest round?")
        server.start()  # back: the same engine answers again
        assert "Osprey Bank Ventures" in engine.answer("Who led Nettlefield Bio's latest round?").text
    finally:
        server.stop()


def test_two_data_dirs_cannot_share_one_collection(chroma: ServerProcess, tmp_path: Path, settings: Settings,
                                                   ) -> None:
    first = settings.replace(store_host="127.0.0.1", store_port=chroma.port, store_collection="claimed")
    assert ingest([SEED], first, embedder=FakeEmbedder(), progress=False).ok
    second = first.replace(data_dir=tmp_path / "other")
    with pytest.raises(ConfigError, match="the vectors of another data dir"):
        ingest([SEED], second, embedder=FakeEmbedder(), progress=False)

    class Other(FakeEmbedder):
        name = "other-model"

    with pytest.raises(ConfigError, match="holds vectors of embedding model 'fake-embedder'"):
        ingest([SEED], first.replace(data_dir=tmp_path / "third"), embedder=Other(), progress=False)
    assert _server_ids(chroma, "claimed") == _manifest_ids(first.data_dir)  # nothing was deleted or mixed


def test_two_app_processes_share_one_store(chroma: ServerProcess, tmp_path: Path) -> None:
    """``assistant serve`` opened the store before an ``assistant ingest`` in another process added an
    article; the running app answers from it (docs/deploy.md, "Several app instances")."""
    from gradio_client import Client

    env = _on(chroma, "two-apps")
    serve = [sys.executable, "-m", "assistant.cli", "serve", "--backend", "extractive", "--ingest", str(SEED)]
    with running_server(tmp_path, command=serve, env=env) as (url, _):
        client = Client(url, verbose=False)
        before = client.predict(question="Who led the Series A of Zorblax Robotics?", api_name="/answer")
        assert before["abstained"] or not any("Zorblax" in c["title"] for c in before["citations"])

        corpus = write_company_articles(tmp_path / "corpus")
        done = _cli("ingest", str(corpus / "company0.txt"), "--no-progress",
                    env={**env, "ASSISTANT_DATA_DIR": str(tmp_path / "data")})
        assert done.returncode == 0 and done.stdout.startswith("added 1"), done.stdout + done.stderr

        after = client.predict(question="Who led the Series A of Zorblax Robotics?", api_name="/answer")
        assert "Quux Capital" in after["answer"] and not after["abstained"], after
        assert after["citations"][0]["title"].startswith("Zorblax Robotics Raises")
        again = client.predict(question="How much did SenseTime raise?", api_name="/answer")
        assert again["citations"][0]["title"] == SEED_TITLE  # what it held before is still there
