"""The web app's exposure: who may log in (settings, the start-up policy, a real server), and
that no file outside the app's own is readable through its routes (a real server, probed)."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

import pytest
from conftest import SEEDS
from web_helpers import REPO, running_server

from assistant.config import load_settings
from assistant.errors import ConfigError
from assistant.ui.access import access, is_loopback

PASSWORD = "correct horse battery staple"

# -- settings ---------------------------------------------------------------------------------


def test_login_settings_come_from_file_env_and_arguments(tmp_path: Path) -> None:
    config = tmp_path / "user.toml"
    config.write_text('[web]\nhost = "0.0.0.0"\nauth_user = "alice"\nauth_password_env = "CHAT_PW"\n')
    settings = load_settings(config, env={})
    assert (settings.web_host, settings.web_auth_user, settings.web_auth_password_env) == ("0.0.0.0", "alice",
                                                                                           "CHAT_PW")
    assert not settings.web_no_auth
    assert load_settings(config, env={"ASSISTANT_WEB_AUTH_USER": "bob"}).web_auth_user == "bob"
    assert load_settings(config, env={"ASSISTANT_WEB_NO_AUTH": "yes"}).web_no_auth
    assert load_settings(env={}).web_auth_user == ""  # no login by default (on 127.0.0.1)


@pytest.mark.parametrize("key", ["web.auth_password", "web.password", "llm.api_password"])
def test_a_password_value_in_a_settings_file_is_refused(tmp_path: Path, key: str) -> None:
    section, name = key.split(".")
    config = tmp_path / "user.toml"
    config.write_text(f'[{section}]\n{name} = "hunter2"\n')
    with pytest.raises(ConfigError, match=rf"{key} in config file .*never goes in the settings") as raised:
        load_settings(config, env={})
    assert "hunter2" not in str(raised.value)


def test_a_password_in_the_environment_or_arguments_is_refused_too() -> None:
    with pytest.raises(ConfigError, match="ASSISTANT_WEB_AUTH_PASSWORD.*never goes in the settings"):
        load_settings(env={"ASSISTANT_WEB_AUTH_PASSWORD": "hunter2"})
    with pytest.raises(ConfigError, match="never goes in the settings"):
        load_settings(env={}, web_auth_password="hunter2")


@pytest.mark.parametrize("bad", ["hunter2!", "my password", "ASSISTANT_WEB_PW", "", "1ABC"])
def test_password_env_must_name_a_variable_and_is_not_echoed(bad: str) -> None:
    with pytest.raises(ConfigError, match="must be the name of an environment variable") as raised:
        load_settings(env={}, web_auth_password_env=bad)
    assert not bad or bad not in str(raised.value)


# -- the start-up policy ------------------------------------------------------------------------


def test_loopback_hosts() -> None:
    for host in ("127.0.0.1", "127.8.9.10", "localhost", "LOCALHOST", "::1", "[::1]"):
        assert is_loopback(host), host
    for host in ("0.0.0.0", "::", "192.168.1.5", "10.0.0.1", "example.com", ""):
        assert not is_loopback(host), host


def test_loopback_needs_no_login_but_uses_one_when_configured() -> None:
    assert access(load_settings(env={}), env={}).auth is None
    granted = access(load_settings(env={}, web_auth_user="alice"), env={"WEB_CHAT_PASSWORD": PASSWORD})
    assert granted.auth == ("alice", PASSWORD) and not granted.warnings


@pytest.mark.parametrize("changes", [{"web_host": "0.0.0.0"}, {"web_host": "::"}, {"web_host": "192.168.1.5"},
                                     {"web_share": True}])
def test_off_loopback_without_a_login_refuses_to_start(changes: dict) -> None:
    settings = load_settings(env={}, **changes)
    with pytest.raises(ConfigError, match=r"refusing to start: the server (binds|creates a public share).*--no-auth"):
        access(settings, env={})
    granted = access(settings.replace(web_no_auth=True), env={})  # explicitly opted out: starts, and warns
    assert granted.auth is None and "NO login" in granted.warnings[0]
    granted = access(settings.replace(web_auth_user="alice"), env={"WEB_CHAT_PASSWORD": PASSWORD})
    assert granted.auth == ("alice", PASSWORD) and "must log in as 'alice'" in granted.warnings[0]
    assert PASSWORD not in granted.warnings[0]


def test_a_login_without_its_password_refuses_to_start() -> None:
    settings = load_settings(env={}, web_host="0.0.0.0", web_auth_user="alice", web_auth_password_env="CHAT_PW")
    for env in ({}, {"CHAT_PW": ""}):
        with pytest.raises(ConfigError, match="CHAT_PW .* unset or empty"):
            access(settings, env=env)
    assert access(settings, env={"CHAT_PW": PASSWORD}).auth == ("alice", PASSWORD)


def test_serve_refuses_before_loading_anything(monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    from assistant import cli
    from assistant.chain import Engine

    def no_models(*args: object, **kwargs: object) -> None:
        raise AssertionError("models loaded before the login check")

    monkeypatch.setattr(Engine, "from_settings", no_models)
    assert cli.main(["serve", "--host", "0.0.0.0"]) == 2
    assert "refusing to start" in capsys.readouterr().err
    monkeypatch.setenv("ASSISTANT_WEB_AUTH_USER", "alice")
    assert cli.main(["serve", "--host", "0.0.0.0"]) == 2
    assert "WEB_CHAT_PASSWORD" in capsys.readouterr().err
    assert cli.main(["serve", "--share", "true", "--host", "127.0.0.1"]) == 2


def test_no_auth_flag_reaches_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    import assistant.ui as ui
    from assistant import cli

    seen = {}
    monkeypatch.setattr(ui, "serve", lambda settings, ingest_paths=(): seen.update(settings=settings))
    assert cli.main(["serve", "--host", "0.0.0.0", "--no-auth", "--port", "9999"]) == 0
    assert seen["settings"].web_no_auth and seen["settings"].web_host == "0.0.0.0"
    assert cli.main(["serve"]) == 0 and not seen["settings"].web_no_auth


# -- a real server (slow) -----------------------------------------------------------------------------


@pytest.mark.slow
def test_server_with_a_login_refuses_unauthenticated_calls(tmp_path: Path) -> None:
    import httpx
    from gradio_client import Client

    with running_server(tmp_path, ["--ingest", str(SEEDS), "--host", "127.0.0.1", "--auth-user", "alice"],
                        env={"WEB_CHAT_PASSWORD": PASSWORD}) as (url, _):
        refused = {path: httpx.get(url + path).status_code
                   for path in ("/config", "/gradio_api/info", "/gradio_api/queue/status",
                                "/gradio_api/file=" + quote(str(SEEDS / "000_6892b4931faf7592.txt")))}
        refused["POST /gradio_api/call/answer"] = httpx.post(url + "/gradio_api/call/answer",
                                                             json={"data": ["Who?", "[]"]}).status_code
        refused["POST /gradio_api/upload"] = httpx.post(url + "/gradio_api/upload",
                                                        files={"files": ("a.txt", b"x")}).status_code
        assert set(refused.values()) == {401}, refused
        with pytest.raises(Exception):  # noqa: B017 - gradio_client raises its own or httpx's error
            Client(url, verbose=False).predict(question="How much did SenseTime raise?", api_name="/answer")
        with pytest.raises(Exception, match="(?i)login|credentials"):
            Client(url, auth=("alice", "wrong password"), verbose=False)
        assert httpx.post(url + "/login", data={"username": "bob", "password": PASSWORD}).status_code == 400

        client = Client(url, auth=("alice", PASSWORD), verbose=False)
        answer = client.predict(question="How much did SenseTime raise?", api_name="/answer")
        assert answer["citations"] and not answer["abstained"], answer
    print(f"unauthenticated requests refused: {len(refused)} routes + gradio_client without and with a wrong login")


TARGETS = {  # the file, and a string its content has
    "/etc/passwd": "root:",
    "index.sqlite3": "SQLite format 3",  # the data dir's, resolved below
    "config.toml": "auth_password_env",  # the --config file, resolved below
    str(REPO / "config" / "default.toml"): "[retrieval]",
}
FILE_ROUTES = ["/file=", "/gradio_api/file=", "/file/", "/gradio_api/file/", "/static/", "/assets/",
               "/gradio_api/static/", "/gradio_api/assets/", "/gradio_api/custom_component/x/client/x/"]


def _spellings(target: str, inside: str) -> list[str]:
    """Ways to write ``target``'s path in a URL: absolute, relative, climbing out of an allowed
    dir, percent-encoded (once, twice, mixed case), with backslashes, a NUL, a scheme."""
    rel = target.lstrip("/")
    up = "../" * 12 + rel
    return [target, "/" + target, rel, up, quote(up, safe=""), quote(up, safe="").replace("%2F", "%2f"),
            up.replace("/", "%252f"), up.replace("../", "..%2f"), up.replace("../", "%2e%2e/"),
            up.replace("/", "\\"), f"{inside}/{up}", quote(f"{inside}/{up}", safe=""), "file://" + target,
            target + "%00.png", "....//" * 12 + rel, quote(target, safe="")]


@pytest.mark.slow
def test_no_file_outside_the_apps_own_is_readable(tmp_path: Path) -> None:
    import httpx

    config = tmp_path / "config.toml"
    config.write_text('[web]\nauth_password_env = "CHAT_PW"\n')
    with running_server(tmp_path, ["--ingest", str(SEEDS)], env={"ASSISTANT_CONFIG": str(config)}) as (url, _):
        data = tmp_path / "data"
        targets = {str(data / "index.sqlite3") if t == "index.sqlite3" else str(config) if t == "config.toml" else t:
                   marker for t, marker in TARGETS.items()}
        assert all(Path(t).is_file() for t in targets)
        inside = str(tmp_path / "gradio")  # Gradio's temp dir, which it does serve
        statuses: dict[int, int] = {}
        with httpx.Client(base_url=url, timeout=30) as client:
            # The routes work: an uploaded file is served back (so a refusal below is a refusal).
            uploaded = client.post("/gradio_api/upload", files={"files": ("probe.txt", b"probe upload")}).json()[0]
            assert client.get("/gradio_api/file=" + uploaded).text == "probe upload"
            for target, marker in targets.items():
                for route in FILE_ROUTES:
                    for spelling in _spellings(target, inside):
                        response = client.get(route + spelling)
                        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                        assert response.status_code in (403, 404), (route + spelling, response.status_code)
                        assert marker not in response.text, route + spelling
            # Gradio's run history is off (no answers kept in browsers), its routes gone.
            for path in ("/gradio_api/runs", "/gradio_api/run-history/buckets", "/gradio_api/run-history/records"):
                assert client.get(path).status_code == 404, path
    probes = sum(statuses.values())
    assert probes == len(targets) * len(FILE_ROUTES) * len(_spellings("/x", inside))
    print(f"{probes} file-route probes for {len(targets)} files, all refused: {json.dumps(statuses)}")
