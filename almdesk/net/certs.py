"""Server certificates: the TLS handshake probe, "Trust this certificate", and connector CA bundles.

:func:`fetch_certificate` reads the certificate a server presents (without trusting it) so the GUI
can show its fingerprint; :func:`append_to_bundle` then saves it into the connector's own CA bundle
file, which :func:`almdesk.net.session.build_ssl_context` loads next to the OS trust store.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import ssl
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from almdesk.base.settings import NetworkSettings
from almdesk.errors import ConfigError, RemoteError
from almdesk.net.diag_route import Route, describe_error
from almdesk.net.diag_x509 import DerError, X509Facts, format_name, host_matches, parse_der

_ENCODING_DER = 2  # _ssl.ENCODING_DER, for Certificate.public_bytes() before Python 3.13
_PEM_RE = re.compile(r"-----BEGIN CERTIFICATE-----\s+.*?-----END CERTIFICATE-----", re.DOTALL)


@dataclass(frozen=True)
class CertInfo:
    """One certificate as an admin sees it. ``chain`` holds the others the server sent (leaf excluded)."""

    pem: str
    sha256: str  # colon-separated upper-case hex
    subject: str
    issuer: str
    sans: tuple[str, ...]
    not_before: dt.datetime
    not_after: dt.datetime
    self_signed: bool
    is_ca: bool
    facts: X509Facts = field(repr=False, compare=False)
    chain: tuple[CertInfo, ...] = ()

    @classmethod
    def from_der(cls, der: bytes, chain: Iterable[bytes] = ()) -> CertInfo:
        facts = parse_der(der)
        digest = hashlib.sha256(der).hexdigest().upper()
        return cls(pem=ssl.DER_cert_to_PEM_cert(der), sha256=":".join(digest[i:i + 2] for i in range(0, 64, 2)),
                   subject=format_name(facts.subject), issuer=format_name(facts.issuer), sans=facts.sans,
                   not_before=facts.not_before, not_after=facts.not_after, self_signed=facts.self_issued,
                   is_ca=facts.is_ca, facts=facts, chain=tuple(cls.from_der(d) for d in chain))

    def matches_host(self, host: str) -> bool:
        return host_matches(self.facts, host)

    def days_left(self, now: dt.datetime | None = None) -> int:
        return (self.not_after - (now or dt.datetime.now(dt.UTC))).days

    @property
    def trust_anchor(self) -> CertInfo:
        """What "Trust this certificate" should save: the root CA the server sent, else this certificate."""
        roots = [c for c in self.chain if c.self_signed and c.is_ca]
        return roots[-1] if roots else self

    def summary(self) -> str:
        names = ", ".join(self.sans) or "(none)"
        return (f"{self.subject}; issuer {self.issuer}; names {names}; "
                f"valid {self.not_before:%Y-%m-%d} to {self.not_after:%Y-%m-%d}; SHA-256 {self.sha256}")


@dataclass(frozen=True)
class Handshake:
    """A completed TLS handshake: protocol, cipher and the certificates the server sent (leaf first)."""

    version: str
    cipher: str
    chain: tuple[bytes, ...]

    @property
    def certificate(self) -> CertInfo:
        return CertInfo.from_der(self.chain[0], self.chain[1:])


def unverified_context() -> ssl.SSLContext:
    """A client context that completes any handshake (for reading what a server presents)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def _chain(tls: ssl.SSLSocket) -> tuple[bytes, ...]:
    """The certificates the server sent; the whole chain where this Python exposes it."""
    sslobj: Any = tls
    getter = getattr(sslobj, "get_unverified_chain", None)  # Python 3.13+
    if getter is None:
        getter = getattr(getattr(sslobj, "_sslobj", None), "get_unverified_chain", None)  # 3.10–3.12
    try:
        certs = getter() if getter is not None else None
    except (AttributeError, ssl.SSLError):
        certs = None
    if certs:
        out = tuple(c if isinstance(c, bytes) else c.public_bytes(_ENCODING_DER) for c in certs)
        if out:
            return out
    leaf = tls.getpeercert(binary_form=True)
    return (leaf,) if leaf else ()


def handshake(route: Route, context: ssl.SSLContext) -> Handshake:
    """Open the route and run a TLS handshake with ``context``; ssl/OSError exceptions pass through."""
    sock, _hop = route.open()
    try:
        tls = context.wrap_socket(sock, server_hostname=route.target.host)
    except BaseException:
        sock.close()
        raise
    with tls:
        cipher = tls.cipher()
        chain = _chain(tls)
        if not chain:
            raise ssl.SSLError("the server sent no certificate")
        return Handshake(tls.version() or "TLS", cipher[0] if cipher else "", chain)


def route_for(url: str, network: NetworkSettings) -> Route:
    return Route(url, mode=network.proxy_mode, proxy_url=network.proxy_url, no_proxy=network.no_proxy,
                 timeout=network.timeout)


def fetch_certificate(url: str, network: NetworkSettings) -> CertInfo:
    """The certificate ``url``'s server presents (read, not trusted), through the connector's proxy.

    Raises :class:`ConfigError` for a non-https URL and :class:`RemoteError` when the server cannot be
    reached or does not speak TLS.
    """
    route = route_for(url, network)
    if route.target.scheme != "https":
        raise ConfigError("Only https:// servers have a certificate to trust.", "Use the server's https:// URL.",
                          field="url")
    try:
        return handshake(route, unverified_context()).certificate
    except ssl.SSLError as exc:
        raise RemoteError(f"No TLS handshake with {route.target.hostport}: {exc.reason or exc}.",
                          "Check that the URL points at the server's HTTPS port.", field="url") from None
    except DerError as exc:
        raise RemoteError(f"The certificate of {route.target.hostport} cannot be read: {exc}.",
                          "Ask the server's admin for the CA certificate as a PEM file and choose it as the "
                          "connector's CA bundle.", field="ca_bundle") from None
    except OSError as exc:
        raise RemoteError(f"The TLS handshake with {route.target.hostport} failed ({describe_error(exc)}).",
                          "Check the address and port, then try again.", field="url") from None


# ---------------------------------------------------------------------------------------------
# Connector CA bundle files


def bundle_file(directory: Path | str, connector_uid: str) -> Path:
    """Where a connector's own CA bundle lives: ``<directory>/<connector uid>.pem``."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", connector_uid).strip(".") or "connector"
    return Path(directory) / f"{safe}.pem"


def split_pem(text: str) -> list[str]:
    """The PEM certificate blocks in ``text``."""
    return [m.group(0).strip() + "\n" for m in _PEM_RE.finditer(text)]


def _to_info(block: str, where: str) -> CertInfo:
    try:
        return CertInfo.from_der(ssl.PEM_cert_to_DER_cert(block))
    except (ValueError, DerError) as exc:
        raise ConfigError(f"{where} holds a certificate that cannot be read ({exc}).",
                          "Use a PEM file of CA certificates (-----BEGIN CERTIFICATE----- blocks).",
                          field="ca_bundle") from None


def read_bundle(path: Path | str) -> list[CertInfo]:
    """The certificates of a CA bundle file; :class:`ConfigError` when it is unreadable or holds none."""
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise ConfigError(f"CA bundle {path} cannot be read ({describe_error(exc)}).",
                          "Choose an existing PEM file, or clear the CA bundle field.", field="ca_bundle") from None
    blocks = split_pem(text)
    if not blocks:
        raise ConfigError(f"CA bundle {path} holds no certificate.",
                          "Use a PEM file with -----BEGIN CERTIFICATE----- blocks.", field="ca_bundle")
    return [_to_info(b, f"CA bundle {path}") for b in blocks]


def append_to_bundle(pem: str, bundle_path: Path | str, *, existing: str = "") -> Path:
    """Add the certificate(s) in ``pem`` to the CA bundle file ``bundle_path`` (parents created).

    When the file does not exist yet and ``existing`` names the connector's current bundle, that
    bundle's certificates are copied in first, so nothing trusted before is lost. A certificate
    already in the file is not added twice. The file is replaced atomically. Returns its path.
    """
    new = split_pem(pem)
    if not new:
        raise ConfigError("There is no certificate to save.",
                          "Fetch the server's certificate again, then choose Trust this certificate.",
                          field="ca_bundle")
    path = Path(bundle_path)
    source = path if path.exists() else Path(existing) if existing else None
    infos = read_bundle(source) if source is not None else []  # refuses to build on an unreadable bundle
    added = False
    for block in new:
        info = _to_info(block, "The certificate to save")
        if all(info.sha256 != known.sha256 for known in infos):
            infos.append(info)
            added = True
    if not added and path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".bundle-", suffix=".pem", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write("".join(f"# {i.subject}\n# SHA-256 {i.sha256}\n{i.pem.strip()}\n\n" for i in infos))
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
