"""TLS against real local servers with generated certificates: trusted through the connector's CA
bundle, self-signed, untrusted issuer, expired, wrong host — from the Test Connection steps and from
``HttpFactory(...).session()`` + ``send()`` — and the verify switch."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization

from almdesk.base.settings import NetworkSettings
from almdesk.errors import RemoteError, UserFacingError
from almdesk.net.diagnose import WARNING
from almdesk.net.session import HttpFactory, send

from .conftest import Site
from .helpers import diagnose
from .pki import Issued, Pki

pytestmark = pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")


def trusting(pki: Pki, **kwargs: object) -> NetworkSettings:
    return NetworkSettings(ca_bundle=str(pki.ca_path), timeout=5, **kwargs)  # type: ignore[arg-type]


def request(url: str, network: NetworkSettings) -> int:
    session = HttpFactory(network, retries=0).session()
    with session:
        return send(session, "GET", url + "/api", what="the test server").status_code


def request_error(url: str, network: NetworkSettings) -> RemoteError:
    with pytest.raises(RemoteError) as info:
        request(url, network)
    return info.value


def test_trusted_through_connector_ca_bundle(certs: dict[str, Issued], pki: Pki,
                                             start_site: Callable[..., Site]) -> None:
    site = start_site(certs["good"])
    out = diagnose(site.url, trusting(pki))
    assert out.error is None, out.error
    assert out.details["dns"].startswith("localhost → 127.0.0.1")
    assert out.details["tcp"].startswith(f"Connected to localhost:{site.port} in ")
    tls = out.details["tls"]
    assert tls.startswith("TLSv1.")
    assert "certificate CN=localhost, O=almdesk tests" in tls
    assert "issued by CN=almdesk Test Root CA" in tls
    assert "names localhost, 127.0.0.1" in tls
    assert "expires " in tls and not tls.startswith(WARNING)
    assert out.details["http"].startswith("HTTP 200 OK in ")
    assert request(site.url, trusting(pki)) == 200


def test_ca_bundle_is_needed(certs: dict[str, Issued], start_site: Callable[..., Site]) -> None:
    """Without the connector's bundle the private CA is unknown: the issuer is named as untrusted."""
    site = start_site(certs["good"])
    out = diagnose(site.url, NetworkSettings(timeout=5))
    assert out.failed == "tls" and out.field == "ca_bundle"
    assert "issued by an authority this computer does not trust" in out.message
    assert "issuer: CN=almdesk Test Root CA" in out.message
    assert "does not trust" in request_error(site.url, NetworkSettings(timeout=5)).message


def test_untrusted_issuer(certs: dict[str, Issued], pki: Pki, start_site: Callable[..., Site]) -> None:
    site = start_site(certs["untrusted"])
    out = diagnose(site.url, trusting(pki))
    assert out.failed == "tls" and out.field == "ca_bundle"
    assert "issuer: CN=Unknown Corp Issuing CA" in out.message
    assert f"CA bundle {pki.ca_path}" in out.message
    assert "does not trust" in request_error(site.url, trusting(pki)).message


def test_self_signed(certs: dict[str, Issued], pki: Pki, start_site: Callable[..., Site]) -> None:
    site = start_site(certs["self_signed"])
    out = diagnose(site.url, trusting(pki))
    assert out.failed == "tls" and out.field == "ca_bundle"
    assert out.message.startswith("The server's certificate is self-signed (CN=localhost")
    fingerprint = certs["self_signed"].cert.fingerprint(hashes.SHA256())
    assert ":".join(f"{b:02X}" for b in fingerprint) in out.error.hint  # type: ignore[union-attr]
    assert "Trust this certificate" in out.error.hint  # type: ignore[union-attr]
    assert "self-signed" in request_error(site.url, trusting(pki)).message


def test_expired(certs: dict[str, Issued], pki: Pki, start_site: Callable[..., Site]) -> None:
    site = start_site(certs["expired"])
    out = diagnose(site.url, trusting(pki))
    assert out.failed == "tls" and out.field == "verify"
    expiry = certs["expired"].cert.not_valid_after_utc
    assert out.message.startswith(f"The server's certificate expired on {expiry:%Y-%m-%d} (")
    assert "renew" in out.error.hint  # type: ignore[union-attr]
    assert "expired" in request_error(site.url, trusting(pki)).message


def test_wrong_host(certs: dict[str, Issued], pki: Pki, start_site: Callable[..., Site]) -> None:
    site = start_site(certs["wrong_host"])
    out = diagnose(site.url, trusting(pki))
    assert out.failed == "tls" and out.field == "url"
    assert out.message == "The server's certificate is for other.example, www.other.example, not for localhost."
    assert f"https://other.example:{site.port}" in out.error.hint  # type: ignore[union-attr]
    assert "another host name" in request_error(site.url, trusting(pki)).message


def test_each_failure_has_its_own_message(certs: dict[str, Issued], pki: Pki,
                                          start_site: Callable[..., Site]) -> None:
    steps, sends = set(), set()
    for name in ("self_signed", "untrusted", "expired", "wrong_host"):
        site = start_site(certs[name])
        out = diagnose(site.url, trusting(pki))
        assert out.failed == "tls"
        steps.add(out.message.split("(")[0])
        sends.add(request_error(site.url, trusting(pki)).message.split("(")[0])
    assert len(steps) == 4 and len(sends) == 4


@pytest.mark.parametrize(("name", "verdict"), [
    ("self_signed", "it would NOT pass: the certificate is self-signed"),
    ("expired", "it would NOT pass: the certificate has expired"),
    ("wrong_host", "it would NOT pass: the certificate is for another host name"),
    ("untrusted", "it would NOT pass: its issuer is not trusted"),
    ("good", "it would pass validation"),
])
def test_verify_off_passes_with_a_warning(name: str, verdict: str, certs: dict[str, Issued], pki: Pki,
                                          start_site: Callable[..., Site]) -> None:
    site = start_site(certs[name])
    off = trusting(pki, verify=False)
    out = diagnose(site.url, off)
    assert out.error is None, out.error
    assert out.details["tls"].startswith(WARNING + "Certificate validation is off for this connector")
    assert verdict in out.details["tls"]
    assert out.details["http"].startswith("HTTP 200")
    assert request(site.url, off) == 200


def test_verify_off_beats_requests_ca_bundle_env(certs: dict[str, Issued], start_site: Callable[..., Site],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """requests swaps verify=None for $REQUESTS_CA_BUNDLE; the switch must still turn validation off."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    site = start_site(certs["self_signed"])
    assert request(site.url, NetworkSettings(verify=False, proxy_mode="system", timeout=5)) == 200
    assert "self-signed" in request_error(site.url, NetworkSettings(proxy_mode="system", timeout=5)).message


def test_certificate_expiring_soon_warns(certs: dict[str, Issued], pki: Pki,
                                         start_site: Callable[..., Site]) -> None:
    site = start_site(certs["expiring"])
    out = diagnose(site.url, trusting(pki))
    assert out.error is None
    assert out.details["tls"].startswith(WARNING) and "ask for a renewal soon" in out.details["tls"]


def test_unreadable_ca_bundle_names_the_field(certs: dict[str, Issued], tmp_path: Path,
                                              start_site: Callable[..., Site]) -> None:
    site = start_site(certs["good"])
    bad = tmp_path / "not-a-bundle.pem"
    bad.write_text("hello")
    for bundle in (bad, tmp_path / "missing.pem"):
        network = NetworkSettings(ca_bundle=str(bundle), timeout=5)
        out = diagnose(site.url, network)
        assert out.failed == "tls" and out.field == "ca_bundle"
        assert str(bundle) in out.message
        with pytest.raises(UserFacingError) as info:
            HttpFactory(network).session()
        assert info.value.field == "ca_bundle"


def test_plain_http_on_an_https_url(start_site: Callable[..., Site]) -> None:
    site = start_site()  # plain HTTP server
    url = f"https://localhost:{site.port}"
    out = diagnose(url, NetworkSettings(timeout=5))
    assert out.failed == "tls" and out.field == "url"
    assert out.message.startswith(f"The server at localhost:{site.port} speaks plain HTTP, not HTTPS")
    assert f"http://localhost:{site.port}" in out.error.hint  # type: ignore[union-attr]
    assert "does not speak TLS" in request_error(url, NetworkSettings(timeout=5)).message


def test_http_url_on_a_tls_port(certs: dict[str, Issued], pki: Pki, start_site: Callable[..., Site]) -> None:
    site = start_site(certs["good"])
    url = f"http://localhost:{site.port}"
    out = diagnose(url, trusting(pki))
    assert out.details["tls"] == "Not used: plain http:// to this computer"
    assert out.failed == "http" and out.field == "url"
    assert out.message == f"The server at localhost:{site.port} speaks HTTPS, but the URL says http://."
    assert out.error.hint == f"Change the server URL to https://localhost:{site.port}."  # type: ignore[union-attr]


def test_server_chain_gives_the_root_as_trust_anchor(pki: Pki, tmp_path: Path, certs: dict[str, Issued],
                                                     start_site: Callable[..., Site]) -> None:
    from almdesk.net.certs import fetch_certificate

    issued = certs["good"]
    chain = tmp_path / "chain.pem"
    chain.write_bytes(issued.cert.public_bytes(serialization.Encoding.PEM) + pki.ca_pem.encode())
    site = start_site(issued, chain_file=chain)
    info = fetch_certificate(site.url, NetworkSettings(timeout=5))
    assert info.subject == "CN=localhost, O=almdesk tests" and not info.self_signed
    assert [c.subject for c in info.chain] == ["CN=almdesk Test Root CA, O=almdesk tests"]
    assert info.trust_anchor.pem.strip() == pki.ca_pem.strip()


def test_system_mode_honours_requests_ca_bundle_like_requests(certs: dict[str, Issued], pki: Pki,
                                                              start_site: Callable[..., Site],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """In system mode requests trusts $REQUESTS_CA_BUNDLE; the TLS step checks the same way."""
    site = start_site(certs["good"])
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(pki.ca_path))
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    system = NetworkSettings(proxy_mode="system", timeout=5)
    assert diagnose(site.url, system).error is None
    assert request(site.url, system) == 200
    explicit_none = NetworkSettings(proxy_mode="none", timeout=5)  # no environment: the CA is unknown
    assert diagnose(site.url, explicit_none).field == "ca_bundle"
    assert "does not trust" in request_error(site.url, explicit_none).message
