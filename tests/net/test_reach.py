"""Reaching a server at all: unknown host, refused port, connect timeout, a port that never answers,
settings errors — from the Test Connection steps and from ``send()``."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from almdesk.base.settings import NetworkSettings
from almdesk.errors import ConfigError, RemoteError
from almdesk.net.diagnose import WARNING, network_steps
from almdesk.net.session import HttpFactory, send

from .conftest import Site
from .helpers import diagnose

QUICK = NetworkSettings(timeout=0.5, proxy_mode="none")


def send_error(url: str, network: NetworkSettings = QUICK) -> RemoteError:
    with HttpFactory(network, retries=0).session() as session, pytest.raises(RemoteError) as info:
        send(session, "GET", url, what="the server")
    return info.value


def test_unknown_host() -> None:
    out = diagnose("https://alm.almdesk-test.invalid", QUICK)
    assert out.failed == "dns" and out.field == "url"
    assert out.message.startswith("The server host alm.almdesk-test.invalid cannot be found (DNS: ")
    assert "spelling" in out.error.hint  # type: ignore[union-attr]
    assert "cannot be found" in send_error("https://alm.almdesk-test.invalid").message


def test_ip_address_needs_no_lookup(start_site: Callable[..., Site]) -> None:
    site = start_site()
    out = diagnose(f"http://127.0.0.1:{site.port}", QUICK)
    assert out.error is None
    assert out.details["dns"] == "127.0.0.1 is an IP address (no lookup needed)"
    assert out.details["tls"] == "Not used: plain http:// to this computer"
    assert out.details["http"].startswith("HTTP 200 OK")


def test_refused(closed_port: int) -> None:
    out = diagnose(f"https://localhost:{closed_port}", QUICK)
    assert out.failed == "tcp" and out.field == "url"
    assert out.message.startswith(f"The server localhost:{closed_port} refused the connection: nothing is "
                                  "listening on that port (")
    assert "connection refused" in out.message
    assert "refused" in send_error(f"http://127.0.0.1:{closed_port}").message


def test_connect_timeout(full_backlog_port: int) -> None:
    out = diagnose(f"https://127.0.0.1:{full_backlog_port}", QUICK)
    assert out.failed == "tcp" and out.field == "url"
    assert out.message.startswith(f"The server 127.0.0.1:{full_backlog_port} did not answer within 0.5 s "
                                  "(timed out")
    assert "firewall" in out.error.hint  # type: ignore[union-attr]
    assert "timed out" in send_error(f"http://127.0.0.1:{full_backlog_port}").message


def test_tls_port_that_never_answers(silent_port: int) -> None:
    out = diagnose(f"https://127.0.0.1:{silent_port}", QUICK)
    assert out.details["tcp"].startswith(f"Connected to 127.0.0.1:{silent_port}")
    assert out.failed == "tls" and out.field == "url"
    assert out.message == (f"The server at 127.0.0.1:{silent_port} accepted the connection but did not answer "
                           "the TLS handshake within 0.5 s.")


def test_http_port_that_never_answers(silent_port: int) -> None:
    out = diagnose(f"http://127.0.0.1:{silent_port}", QUICK)
    assert out.failed == "http"
    assert out.message == f"The server 127.0.0.1:{silent_port} did not answer in time."
    assert send_error(f"http://127.0.0.1:{silent_port}").message == "The server did not answer in time."


def test_plain_http_to_a_remote_host_warns() -> None:
    """The TLS step of an http:// URL warns without any traffic (only loopback is ever contacted)."""
    tls = network_steps("http://alm.example.invalid:8080", QUICK)[2]
    assert tls.key == "tls" and tls.title == "TLS handshake"
    detail = tls.run()
    assert detail.startswith(WARNING) and "clear text" in detail


def test_step_titles() -> None:
    steps = network_steps("https://localhost", NetworkSettings())
    assert [(s.key, s.title) for s in steps] == [("dns", "Resolve host"), ("tcp", "Open TCP connection"),
                                                 ("tls", "TLS handshake"), ("http", "HTTP reachable")]


@pytest.mark.parametrize(("url", "network", "field", "text"), [
    ("ftp://localhost", NetworkSettings(), "url", "must start with http:// or https://"),
    ("https://localhost:99999", NetworkSettings(), "url", "invalid port"),
    ("https://localhost", NetworkSettings(proxy_mode="explicit"), "proxy_url", "no proxy URL is given"),
    ("https://localhost", NetworkSettings(proxy_mode="explicit", proxy_url="socks5://127.0.0.1:1080"),
     "proxy_url", "Proxy URL must start with http:// or https://"),
])
def test_settings_errors_fail_the_first_step(url: str, network: NetworkSettings, field: str, text: str) -> None:
    out = diagnose(url, network)
    assert out.failed == "dns" and isinstance(out.error, ConfigError)
    assert out.field == field and text in out.message


def test_redirect_to_https_warns(start_site: Callable[..., Site]) -> None:
    """An http:// URL answered with a redirect to https:// passes with advice to use https://."""
    from werkzeug import Request, Response

    site = start_site()
    original = site.app.dispatch

    def redirect(request: Request) -> Response:
        return Response("", status=301, headers={"Location": "https://localhost/ui/"})

    site.app.dispatch = redirect  # type: ignore[method-assign]
    try:
        out = diagnose(site.url, QUICK)
    finally:
        site.app.dispatch = original  # type: ignore[method-assign]
    assert out.details["http"].startswith(WARNING + "HTTP 301 MOVED PERMANENTLY")
    assert "redirects to https://localhost/ui/" in out.details["http"]
