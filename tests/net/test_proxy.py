"""Proxies, through a real tinyproxy on loopback: explicit proxy for https (CONNECT) and http (forwarded,
``Via`` header), the no-proxy list, the system proxy from the environment, a refused proxy, a proxy
that wants authentication (407) and one that cannot reach the server."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from almdesk.base.settings import NetworkSettings
from almdesk.errors import RemoteError
from almdesk.net.certs import fetch_certificate
from almdesk.net.session import HttpFactory, send

from .conftest import Site, Tinyproxy
from .helpers import diagnose
from .pki import Issued, Pki


def via(proxy: Tinyproxy | str, pki: Pki | None = None, **kwargs: str) -> NetworkSettings:
    url = proxy if isinstance(proxy, str) else proxy.url
    return NetworkSettings(proxy_mode="explicit", proxy_url=url, ca_bundle=str(pki.ca_path) if pki else "",
                           timeout=5, **kwargs)  # type: ignore[arg-type]


def get(url: str, network: NetworkSettings) -> int:
    with HttpFactory(network, retries=0).session() as session:
        return send(session, "GET", url + "/api", what="the server").status_code


def get_error(url: str, network: NetworkSettings) -> RemoteError:
    with pytest.raises(RemoteError) as info:
        get(url, network)
    return info.value


@pytest.fixture
def proxy(start_tinyproxy: Callable[..., Tinyproxy]) -> Tinyproxy:
    return start_tinyproxy()


@pytest.fixture
def tls_site(certs: dict[str, Issued], start_site: Callable[..., Site]) -> Site:
    return start_site(certs["good"])


def test_https_through_explicit_proxy(proxy: Tinyproxy, tls_site: Site, pki: Pki) -> None:
    proxy.mark()
    out = diagnose(tls_site.url, via(proxy, pki))
    assert out.error is None, out.error
    assert out.details["dns"] == (f"proxy 127.0.0.1:{proxy.port}: 127.0.0.1 is an IP address (no lookup needed); "
                                  "the proxy resolves localhost")
    assert out.details["tcp"].startswith(f"Connected to proxy 127.0.0.1:{proxy.port} in ")
    assert out.details["tcp"].endswith(f"; it opened a tunnel to localhost:{tls_site.port}")
    assert out.details["tls"].startswith("TLSv1.")
    assert out.details["http"].endswith(f"through the proxy 127.0.0.1:{proxy.port}")
    assert f"CONNECT localhost:{tls_site.port}" in proxy.new_log()
    proxy.mark()
    assert get(tls_site.url, via(proxy, pki)) == 200
    assert f"CONNECT localhost:{tls_site.port}" in proxy.new_log()


def test_http_through_explicit_proxy(proxy: Tinyproxy, start_site: Callable[..., Site]) -> None:
    site = start_site()
    site.app.via.clear()
    proxy.mark()
    out = diagnose(site.url, via(proxy))
    assert out.error is None, out.error
    assert out.details["tcp"].endswith(f"; it forwards the requests to localhost:{site.port}")
    assert get(site.url, via(proxy)) == 200
    assert f"GET http://localhost:{site.port}/api" in proxy.new_log()
    assert len(site.app.via) == 2 and all("tinyproxy" in v for v in site.app.via)


def test_no_proxy_list_bypasses_the_proxy(proxy: Tinyproxy, tls_site: Site, pki: Pki,
                                          start_site: Callable[..., Site]) -> None:
    plain = start_site()
    plain.app.via.clear()
    proxy.mark()
    for site in (tls_site, plain):
        network = via(proxy, pki, no_proxy="example.com, localhost")
        out = diagnose(site.url, network)
        assert out.error is None, out.error
        assert out.details["tcp"].startswith(f"Connected to localhost:{site.port} in ")
        assert "proxy" not in out.details["http"]
        assert get(site.url, network) == 200
    assert f"localhost:{tls_site.port}" not in proxy.new_log()
    assert f"localhost:{plain.port}" not in proxy.new_log()
    assert plain.app.via == ["", ""]


def test_system_proxy_from_environment(proxy: Tinyproxy, tls_site: Site, pki: Pki,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "https_proxy", "no_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    network = NetworkSettings(proxy_mode="system", ca_bundle=str(pki.ca_path), timeout=5)
    proxy.mark()
    out = diagnose(tls_site.url, network)
    assert out.error is None, out.error
    assert out.details["tcp"].startswith(f"Connected to system proxy 127.0.0.1:{proxy.port}")
    assert get(tls_site.url, network) == 200
    log = proxy.new_log()
    assert log.count(f"CONNECT localhost:{tls_site.port} HTTP/1.1") == 2  # the TCP and TLS steps
    assert log.count(f"CONNECT localhost:{tls_site.port} HTTP/1.0") == 2  # requests: the HTTP step, then get()
    monkeypatch.setenv("NO_PROXY", "localhost")
    out = diagnose(tls_site.url, network)
    assert out.details["tcp"].startswith(f"Connected to localhost:{tls_site.port}")
    # "none" ignores the environment altogether
    monkeypatch.delenv("NO_PROXY")
    out = diagnose(tls_site.url, NetworkSettings(proxy_mode="none", ca_bundle=str(pki.ca_path), timeout=5))
    assert out.details["tcp"].startswith(f"Connected to localhost:{tls_site.port}")


def test_refused_proxy_is_named(closed_port: int, tls_site: Site, pki: Pki,
                                start_site: Callable[..., Site]) -> None:
    dead = f"http://127.0.0.1:{closed_port}"
    for site in (tls_site, start_site()):
        out = diagnose(site.url, via(dead, pki))
        assert out.failed == "tcp" and out.field == "proxy_url"
        assert out.message.startswith(f"The proxy 127.0.0.1:{closed_port} refused the connection")
        assert "proxy address and port" in out.error.hint  # type: ignore[union-attr]
        err = get_error(site.url, via(dead, pki))
        assert err.field == "proxy_url"
        assert err.message.startswith(f"The proxy 127.0.0.1:{closed_port} refused the connection")


def test_unknown_proxy_host(tls_site: Site, pki: Pki) -> None:
    out = diagnose(tls_site.url, via("http://proxy.almdesk-test.invalid:3128", pki))
    assert out.failed == "dns" and out.field == "proxy_url"
    assert out.message.startswith("The proxy host proxy.almdesk-test.invalid cannot be found")


def test_proxy_authentication(start_tinyproxy: Callable[..., Tinyproxy], tls_site: Site, pki: Pki,
                              start_site: Callable[..., Site]) -> None:
    proxy = start_tinyproxy(basic_auth=("almuser", "Pr0xy-S3cret"))
    plain = start_site()
    for site, step in ((tls_site, "tcp"), (plain, "http")):
        out = diagnose(site.url, via(proxy, pki))
        assert out.failed == step and out.field == "proxy_url"
        assert out.message.startswith(f"The proxy 127.0.0.1:{proxy.port} requires authentication (HTTP 407")
        assert "user and password in the proxy URL" in out.error.hint  # type: ignore[union-attr]
        err = get_error(site.url, via(proxy, pki))
        assert err.field == "proxy_url" and "requires authentication (HTTP 407" in err.message
        if site is tls_site:  # for forwarded http, tinyproxy's 401 cannot be told from the server's own
            wrong = via(proxy.url.replace("http://", "http://almuser:wrong@"), pki)
            out = diagnose(site.url, wrong)
            assert out.failed == step and out.field == "proxy_url"
            assert "refused the user name or password" in out.error.hint  # type: ignore[union-attr]
            assert "refused the user name or password" in get_error(site.url, wrong).hint
        good = via(proxy.url.replace("http://", "http://almuser:Pr0xy-S3cret@"), pki)
        out = diagnose(site.url, good)
        assert out.error is None, out.error
        assert get(site.url, good) == 200
        assert not any("S3cret" in d or "almuser" in d for d in out.details.values())


def test_proxy_cannot_reach_the_server(proxy: Tinyproxy, closed_port: int, pki: Pki) -> None:
    out = diagnose(f"https://localhost:{closed_port}", via(proxy, pki))
    assert out.failed == "tcp" and out.field == "url"
    assert out.message == (f"The proxy 127.0.0.1:{proxy.port} could not reach localhost:{closed_port} "
                           "(HTTP 500 Unable to connect).")
    out = diagnose(f"http://localhost:{closed_port}", via(proxy, pki))
    assert out.failed == "http" and out.field == "url"
    assert out.message.startswith(f"The proxy 127.0.0.1:{proxy.port} answered HTTP 500 Unable to connect")


def test_fetch_certificate_through_the_proxy(proxy: Tinyproxy, certs: dict[str, Issued],
                                             start_site: Callable[..., Site]) -> None:
    site = start_site(certs["self_signed"])
    proxy.mark()
    info = fetch_certificate(site.url, via(proxy))
    assert info.self_signed
    assert f"CONNECT localhost:{site.port}" in proxy.new_log()


def test_proxy_credentials_never_shown(closed_port: int, tls_site: Site, pki: Pki,
                                       start_site: Callable[..., Site]) -> None:
    for proxy_url in (f"http://almuser:Pr0xy-S3cret@127.0.0.1:{closed_port}",
                      "http://almuser:Pr0xy-S3cret@proxy.almdesk-test.invalid:3128"):
        for site in (tls_site, start_site()):
            out = diagnose(site.url, via(proxy_url, pki))
            assert out.field == "proxy_url"
            err = get_error(site.url, via(proxy_url, pki))
            assert err.field == "proxy_url"
            for text in (str(out.error), *out.details.values(), str(err)):
                assert "S3cret" not in text and "almuser" not in text, text
