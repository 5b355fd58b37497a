"""Who may reach the web chat: the login policy, checked before anything loads.

On 127.0.0.1 (the default) no login is needed. Bound to any other interface, or with a public
share link, the page is reachable from the network, so the server starts only with a login
(``web.auth_user`` and a password in the environment variable that ``web.auth_password_env``
names) or with an explicit ``web.no_auth`` (``assistant serve --no-auth``); it warns either way.
The password is read from the environment when the server starts and never stored in settings.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass

from ..config import Settings
from ..errors import ConfigError


@dataclass(frozen=True)
class Access:
    """What ``serve`` passes to Gradio's ``launch(auth=...)``, and what to tell the operator."""

    auth: tuple[str, str] | None
    warnings: tuple[str, ...] = ()


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable only from this machine (127.0.0.0/8, ::1, localhost)."""
    host = host.strip().strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name other than localhost: assume it faces the network


def access(settings: Settings, env: Mapping[str, str] | None = None) -> Access:
    """The login to require, given where the server binds; ``ConfigError`` when it must not start.

    Raises:
        ConfigError: a non-loopback host or a share link with neither a login nor ``no_auth``;
            a login user whose password variable is unset or empty.
    """
    env = os.environ if env is None else env
    exposed = [f"binds {settings.web_host}"] if not is_loopback(settings.web_host) else []
    if settings.web_share:
        exposed.append("creates a public share link")
    auth = None
    if settings.web_auth_user and not settings.web_no_auth:
        password = env.get(settings.web_auth_password_env, "")
        if not password:
            raise ConfigError(f"web.auth_user is set but the environment variable {settings.web_auth_password_env} "
                              "(web.auth_password_env) holding the password is unset or empty")
        auth = (settings.web_auth_user, password)
    if not exposed:
        return Access(auth)
    where = " and ".join(exposed)
    if auth is None and not settings.web_no_auth:
        raise ConfigError(f"refusing to start: the server {where}, so anyone on the network could use it. "
                          f"Set web.auth_user (ASSISTANT_WEB_AUTH_USER) and the password in "
                          f"${settings.web_auth_password_env}, or pass --no-auth (web.no_auth) to serve it "
                          "without a login")
    if auth is None:
        return Access(None, (f"WARNING: the server {where} with NO login (--no-auth): anyone who can reach it "
                             "can ask questions, upload and remove articles.",))
    return Access(auth, (f"WARNING: the server {where}; visitors must log in as {auth[0]!r}. Gradio's login "
                         "is over plain HTTP unless a TLS proxy fronts it.",))
