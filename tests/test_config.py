"""Settings: defaults, precedence, and errors that name the key and where it came from."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from assistant.config import Settings, load_settings
from assistant.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]


def test_default_toml_documents_exactly_the_defaults() -> None:
    assert load_settings(REPO / "config" / "default.toml", env={}) == Settings()


def test_precedence_arguments_over_env_over_file_over_defaults(tmp_path: Path) -> None:
    config = tmp_path / "user.toml"
    config.write_text('data_dir = "from-file"\n[retrieval]\nk = 7\nper_article = 3\n[llm]\nbackend = "extractive"\n')
    env = {"ASSISTANT_CONFIG": str(config), "ASSISTANT_RETRIEVAL_K": "5", "ASSISTANT_DATA_DIR": "from-env"}

    settings = load_settings(env=env, data_dir="from-args")

    assert settings.data_dir == Path("from-args")  # argument beats env
    assert settings.retrieval_k == 5  # env beats file
    assert settings.retrieval_per_article == 3  # file beats default
    assert settings.llm_backend == "extractive"
    assert settings.retrieval_candidates == Settings().retrieval_candidates  # default


def test_explicit_config_path_beats_assistant_config(tmp_path: Path) -> None:
    a, b = tmp_path / "a.toml", tmp_path / "b.toml"
    a.write_text("[retrieval]\nk = 2\n")
    b.write_text("[retrieval]\nk = 9\n")
    assert load_settings(b, env={"ASSISTANT_CONFIG": str(a)}).retrieval_k == 9


def test_unknown_key_in_file_names_key_and_file(tmp_path: Path) -> None:
    config = tmp_path / "user.toml"
    config.write_text("[retrieval]\ntop_k = 3\n")
    with pytest.raises(ConfigError, match=r"retrieval\.top_k in config file .*user\.toml"):
        load_settings(config, env={})


def test_bad_value_in_env_names_variable() -> None:
    with pytest.raises(ConfigError, match=r"'many' for environment variable ASSISTANT_RETRIEVAL_K: expected int"):
        load_settings(env={"ASSISTANT_RETRIEVAL_K": "many"})


def test_unknown_env_variable_is_rejected() -> None:
    with pytest.raises(ConfigError, match="ASSISTANT_RETREIVAL_K"):
        load_settings(env={"ASSISTANT_RETREIVAL_K": "3"})


def test_bad_backend_and_non_positive_values() -> None:
    with pytest.raises(ConfigError, match="llm.backend must be one of embedded, openai, extractive"):
        load_settings(env={}, llm_backend="gpt")
    with pytest.raises(ConfigError, match="retrieval_k in arguments: must be positive"):
        load_settings(env={}, retrieval_k=0)


def test_invalid_toml_and_missing_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("[retrieval\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(broken, env={})
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "missing.toml", env={})


def test_bool_settings_parse_from_env() -> None:
    assert load_settings(env={"ASSISTANT_WEB_SHARE": "true"}).web_share is True
    with pytest.raises(ConfigError, match="ASSISTANT_WEB_SHARE"):
        load_settings(env={"ASSISTANT_WEB_SHARE": "maybe"})


def test_settings_are_frozen_and_replace_validates() -> None:
    settings = load_settings(env={})
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.retrieval_k = 3  # type: ignore[misc]
    assert settings.replace(retrieval_k=6).retrieval_k == 6
    with pytest.raises(ConfigError):
        settings.replace(retrieval_k="six")


def test_cli_data_dir_flag_beats_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    from assistant.cli import main

    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "env-dir"))
    assert main(["--data-dir", str(tmp_path / "flag-dir"), "articles"]) == 0
    assert (tmp_path / "flag-dir" / "index.sqlite3").exists()
    assert not (tmp_path / "env-dir").exists()
