"""A proxy that wants a password: user in the connector's settings, password only in the keyring,
put into the proxy URL only for the session; Test Connection works through it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from almdesk.errors import ConfigError
from almdesk.sandbox.base import SandboxServer
from almdesk.services import Services
from tests.toy import TOKEN

from .conftest import Tinyproxy

PASSWORD = "proxy-pass-7q1ZzX"


def test_proxy_password_lives_in_keyring(services: Services, toy_server: SandboxServer,
                                         start_tinyproxy: Callable[..., Tinyproxy]) -> None:
    proxy = start_tinyproxy(basic_auth=("proxyuser", PASSWORD))
    network = {"proxy_mode": "explicit", "proxy_url": proxy.url, "proxy_user": "proxyuser", "timeout": 5}
    services.config.save_connector("via proxy", "toy", {"url": toy_server.url, "user": "admin"},
                                   {"token": TOKEN, "proxy_password": PASSWORD}, network)
    info = services.config.connector("via proxy")
    assert info.network["proxy_url"] == proxy.url and "proxy_password" not in info.network
    assert services.secrets.get(info.uid, "proxy_password") == PASSWORD
    proxy.mark()
    result = services.run(services.test_spec(connector="via proxy"))
    assert result.state == "succeeded", result.outcome.message
    assert "GET" in proxy.new_log()
    services.store.close()
    for path in Path(services.paths.root).rglob("*"):
        if path.is_file():
            assert PASSWORD.encode() not in path.read_bytes(), path


def test_wrong_proxy_password_is_named(services: Services, toy_server: SandboxServer,
                                       start_tinyproxy: Callable[..., Tinyproxy]) -> None:
    proxy = start_tinyproxy(basic_auth=("proxyuser", PASSWORD))
    network = {"proxy_mode": "explicit", "proxy_url": proxy.url, "proxy_user": "proxyuser", "timeout": 5}
    services.config.save_connector("bad proxy", "toy", {"url": toy_server.url, "user": "admin"},
                                   {"token": TOKEN, "proxy_password": "wrong-password"}, network)
    result = services.run(services.test_spec(connector="bad proxy"))
    assert result.state == "failed"
    assert "proxy" in result.outcome.message.lower()
    assert "wrong-password" not in result.outcome.message


def test_credentials_in_proxy_url_are_refused(services: Services) -> None:
    with pytest.raises(ConfigError) as info:
        services.config.save_connector("x", "toy", {"url": "https://toy.example.com", "user": "u"}, {"token": "t"},
                                       {"proxy_mode": "explicit", "proxy_url": "http://u:p@127.0.0.1:3128"})
    assert "Proxy password" in str(info.value)
