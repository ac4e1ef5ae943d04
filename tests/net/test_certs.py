"""Reading certificates (DER facts, bundles) and the "Trust this certificate" round trip:
fetch the server's certificate, save it into the connector's CA bundle, then connect verified."""

from __future__ import annotations

import datetime as dt
import ssl
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from almdesk.base.settings import NetworkSettings
from almdesk.errors import ConfigError, RemoteError
from almdesk.net.certs import CertInfo, append_to_bundle, bundle_file, fetch_certificate, read_bundle
from almdesk.net.diag_x509 import DerError, parse_der
from almdesk.net.session import HttpFactory, send

from .conftest import Site
from .helpers import diagnose
from .pki import Issued, Pki


def info_of(issued: Issued) -> CertInfo:
    return CertInfo.from_der(issued.cert.public_bytes(serialization.Encoding.DER))


def test_der_facts_match_cryptography(certs: dict[str, Issued], pki: Pki) -> None:
    for issued in certs.values():
        cert = issued.cert
        info = info_of(issued)
        assert info.not_after == cert.not_valid_after_utc.replace(microsecond=0)
        assert info.not_before == cert.not_valid_before_utc.replace(microsecond=0)
        assert info.subject.replace(", ", ",") == cert.subject.rfc4514_string()
        assert info.issuer.replace(", ", ",") == cert.issuer.rfc4514_string()
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert list(info.sans) == [str(n.value) for n in san]
        assert info.sha256 == ":".join(f"{b:02X}" for b in cert.fingerprint(hashes.SHA256()))
        assert info.self_signed == (cert.subject == cert.issuer)
    root = CertInfo.from_der(ssl.PEM_cert_to_DER_cert(pki.ca_pem))
    assert root.is_ca and root.self_signed and root.sans == ()


def test_host_matching(certs: dict[str, Issued], pki: Pki) -> None:
    good = info_of(certs["good"])
    assert good.matches_host("localhost") and good.matches_host("LOCALHOST.") and good.matches_host("127.0.0.1")
    assert not good.matches_host("127.0.0.2") and not good.matches_host("example.com")
    wild = info_of(pki.issue("wild", ("*.corp.example", "corp.example")))
    assert wild.matches_host("alm.corp.example") and wild.matches_host("corp.example")
    assert not wild.matches_host("a.b.corp.example") and not wild.matches_host("corpexample")


def test_system_trust_store_certificates_parse() -> None:
    """Real-world certificates (the OS CA store, when present) all decode."""
    path = Path("/etc/ssl/certs/ca-certificates.crt")
    if not path.exists():
        pytest.skip("no system CA bundle at /etc/ssl/certs/ca-certificates.crt")
    infos = read_bundle(path)
    assert len(infos) > 50
    assert all(i.subject and i.not_after > i.not_before for i in infos)


def test_garbage_is_not_a_certificate() -> None:
    for data in (b"", b"\x30\x03\x02\x01", b"\x30\x82\xff\xff" + b"\x00" * 10, b"hello world"):
        with pytest.raises(DerError):
            parse_der(data)


def test_read_bundle_errors(tmp_path: Path) -> None:
    empty = tmp_path / "empty.pem"
    empty.write_text("no certificates here\n")
    broken = tmp_path / "broken.pem"
    broken.write_text("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    for path, text in ((tmp_path / "missing.pem", "cannot be read"), (empty, "holds no certificate"),
                       (broken, "cannot be read")):
        with pytest.raises(ConfigError) as info:
            read_bundle(path)
        assert text in info.value.message and info.value.field == "ca_bundle"


def test_append_to_bundle(tmp_path: Path, certs: dict[str, Issued], pki: Pki) -> None:
    target = bundle_file(tmp_path / "certs", "conn/1 uid")
    assert target == tmp_path / "certs" / "conn_1_uid.pem"
    existing = tmp_path / "company.pem"
    existing.write_text(pki.ca_pem)
    assert append_to_bundle(certs["self_signed"].pem, target, existing=str(existing)) == target
    saved = read_bundle(target)
    assert [i.subject for i in saved] == ["CN=almdesk Test Root CA, O=almdesk tests", "CN=localhost, O=almdesk tests"]
    assert existing.read_text() == pki.ca_pem  # the user's own bundle is left alone
    before = target.read_bytes()
    append_to_bundle(certs["self_signed"].pem, target)  # already there: unchanged
    assert target.read_bytes() == before
    append_to_bundle(certs["untrusted"].pem, target)
    assert len(read_bundle(target)) == 3
    assert "# SHA-256 " in target.read_text()
    with pytest.raises(ConfigError):
        append_to_bundle("not a certificate", target)
    assert len(read_bundle(target)) == 3


def trust_round_trip(site: Site, tmp_path: Path) -> NetworkSettings:
    """What the GUI's Trust this certificate does: fetch, show the fingerprint, save, use the bundle."""
    info = fetch_certificate(site.url, NetworkSettings(timeout=5))
    bundle = append_to_bundle(info.trust_anchor.pem, bundle_file(tmp_path, "connector-1"))
    return NetworkSettings(ca_bundle=str(bundle), timeout=5)


def test_trust_a_self_signed_server(certs: dict[str, Issued], tmp_path: Path,
                                    start_site: Callable[..., Site]) -> None:
    site = start_site(certs["self_signed"])
    info = fetch_certificate(site.url, NetworkSettings(timeout=5))
    assert info.self_signed and info.sha256 == info_of(certs["self_signed"]).sha256
    assert info.trust_anchor is info
    network = trust_round_trip(site, tmp_path)
    out = diagnose(site.url, network)
    assert out.error is None, out.error
    with HttpFactory(network, retries=0).session() as session:
        assert send(session, "GET", site.url).status_code == 200


def test_trust_the_leaf_of_an_unknown_ca(certs: dict[str, Issued], tmp_path: Path,
                                         start_site: Callable[..., Site]) -> None:
    """The server sends only its own certificate: trusting that certificate is enough."""
    site = start_site(certs["untrusted"])
    network = trust_round_trip(site, tmp_path)
    out = diagnose(site.url, network)
    assert out.error is None, out.error
    with HttpFactory(network, retries=0).session() as session:
        assert send(session, "GET", site.url).status_code == 200


def test_fetch_certificate_errors(closed_port: int, start_site: Callable[..., Site]) -> None:
    with pytest.raises(ConfigError) as cfg:
        fetch_certificate("http://localhost:8080", NetworkSettings())
    assert cfg.value.field == "url"
    with pytest.raises(RemoteError) as refused:
        fetch_certificate(f"https://127.0.0.1:{closed_port}", NetworkSettings(timeout=5))
    assert "refused" in refused.value.message
    plain = start_site()
    with pytest.raises(RemoteError) as not_tls:
        fetch_certificate(f"https://localhost:{plain.port}", NetworkSettings(timeout=5))
    assert not_tls.value.field == "url"


def test_days_left(certs: dict[str, Issued]) -> None:
    info = info_of(certs["expiring"])
    now = dt.datetime.now(dt.UTC)
    assert 8 <= info.days_left(now) <= 10
    assert info_of(certs["expired"]).days_left(now) < 0
