"""Naming why a TLS handshake failed: self-signed, untrusted issuer, expired, wrong host, not TLS at all.

OpenSSL (Linux, and truststore's OpenSSL path) reports a verify code; other platforms' trust
stores only give text, so the cause is then read from the certificate itself.
"""

from __future__ import annotations

import datetime as dt
import ssl

from almdesk.base.settings import NetworkSettings
from almdesk.errors import RemoteError
from almdesk.net.certs import CertInfo
from almdesk.net.clientcert import refused_by_server

# OpenSSL X509_V_ERR_* codes
_SELF_SIGNED = {18}
_UNTRUSTED = {2, 19, 20, 21, 27}
_EXPIRED = {10}
_NOT_YET_VALID = {9}
_HOSTNAME = {62, 63, 64}

SELF_SIGNED, UNTRUSTED, EXPIRED, NOT_YET_VALID, HOSTNAME, OTHER = (
    "self-signed", "untrusted", "expired", "not-yet-valid", "hostname", "other")
CAUSE_TEXT = {
    SELF_SIGNED: "the certificate is self-signed",
    UNTRUSTED: "its issuer is not trusted",
    EXPIRED: "the certificate has expired",
    NOT_YET_VALID: "the certificate is not valid yet",
    HOSTNAME: "the certificate is for another host name",
    OTHER: "the certificate is rejected",
}


def cause(exc: ssl.SSLCertVerificationError, cert: CertInfo, host: str,
          now: dt.datetime | None = None) -> str:
    """Which of the known causes made verification fail."""
    code = getattr(exc, "verify_code", None)
    for codes, name in ((_SELF_SIGNED, SELF_SIGNED), (_UNTRUSTED, UNTRUSTED), (_EXPIRED, EXPIRED),
                        (_NOT_YET_VALID, NOT_YET_VALID), (_HOSTNAME, HOSTNAME)):
        if code in codes:
            return name
    if code not in (None, 0, 1):
        return OTHER
    # No OpenSSL code (macOS / Windows trust stores): read the certificate.
    now = now or dt.datetime.now(dt.UTC)
    text = str(exc).lower()
    if cert.not_after < now:
        return EXPIRED
    if cert.not_before > now:
        return NOT_YET_VALID
    if not cert.matches_host(host):
        return HOSTNAME
    if cert.self_signed and not cert.chain:
        return SELF_SIGNED
    if "revoked" in text:
        return OTHER
    return UNTRUSTED


def _names(cert: CertInfo) -> str:
    names = [n for n in cert.sans if not n.startswith(("email:", "URI:"))]
    if not names:
        cn = cert.facts.common_name
        names = [cn] if cn else []
    return ", ".join(names) or "no host name at all"


def certificate_error(exc: ssl.SSLCertVerificationError, cert: CertInfo, host: str, port: int,
                      ca_bundle: str, now: dt.datetime | None = None) -> RemoteError:
    """A message naming why the server's certificate was rejected, with what the certificate says."""
    now = now or dt.datetime.now(dt.UTC)
    kind = cause(exc, cert, host, now)
    checked = f"the system trust store and the CA bundle {ca_bundle}" if ca_bundle else "the system trust store"
    fingerprint = f"SHA-256 fingerprint {cert.sha256}"
    if kind == SELF_SIGNED:
        return RemoteError(f"The server's certificate is self-signed ({cert.subject}); nothing in {checked} "
                           "vouches for it.",
                           f"If this is your server, compare the {fingerprint} with the one its admin gives "
                           "you, then use Trust this certificate to add it to the connector's CA bundle. "
                           "Turning off certificate validation also works, but is not recommended.",
                           field="ca_bundle")
    if kind == UNTRUSTED:
        return RemoteError(f"The server's certificate was issued by an authority this computer does not trust "
                           f"(issuer: {cert.issuer}; checked {checked}).",
                           "Add the issuing CA certificate to the connector's CA bundle (Network tab, or Trust "
                           "this certificate), or ask IT to install it in the system trust store.",
                           field="ca_bundle")
    if kind == EXPIRED:
        days = (now - cert.not_after).days
        return RemoteError(f"The server's certificate expired on {cert.not_after:%Y-%m-%d} "
                           f"({days} day{'s' if days != 1 else ''} ago; {cert.subject}).",
                           "Ask the server's admin to renew the certificate. Turning off certificate "
                           "validation for this connector works around it, but is not recommended.",
                           field="verify")
    if kind == NOT_YET_VALID:
        return RemoteError(f"The server's certificate is not valid before {cert.not_before:%Y-%m-%d %H:%M} UTC.",
                           "Check this computer's date, time and time zone; if they are right, ask the "
                           "server's admin about the certificate.", field="verify")
    if kind == HOSTNAME:
        example = next((n for n in cert.sans if not n.startswith(("*", "email:", "URI:"))), "")
        better = f" (for example https://{example}:{port})" if example else ""
        return RemoteError(f"The server's certificate is for {_names(cert)}, not for {host}.",
                           f"Use a host name the certificate was issued for in the server URL{better}, or "
                           f"ask the server's admin for a certificate that includes {host}.", field="url")
    reason = getattr(exc, "verify_message", "") or exc.reason or str(exc)
    return RemoteError(f"The server's certificate was rejected: {reason} ({cert.subject}).",
                       "Ask the server's admin to check the certificate, or add its CA to the connector's "
                       "CA bundle.", field="ca_bundle")


def not_tls_error(host_port: str, answer: str) -> RemoteError:
    return RemoteError(f"The server at {host_port} speaks plain HTTP, not HTTPS (it answered {answer!r}).",
                       f"Use http://{host_port} if plain HTTP is intended, or the server's HTTPS port.",
                       field="url")


def handshake_error(exc: BaseException, host_port: str, timeout: float,
                    network: NetworkSettings | None = None) -> RemoteError:
    """A TLS handshake that failed for reasons other than the server's certificate (the client
    certificate the server refused is named with :func:`~almdesk.net.clientcert.refused_by_server`)."""
    refused = refused_by_server(exc, host_port, network)
    if refused is not None:
        return refused
    if isinstance(exc, TimeoutError):
        return RemoteError(f"The server at {host_port} accepted the connection but did not answer the TLS "
                           f"handshake within {timeout:g} s.",
                           "Check that this is the server's HTTPS port; the server may be overloaded, or a "
                           "firewall may be holding the connection.", field="url")
    if isinstance(exc, ssl.SSLError):
        reason = (exc.reason or str(exc)).lower().replace("_", " ")
        if ("version" in reason and "protocol" in reason) or "unsupported protocol" in reason:
            return RemoteError(f"The server at {host_port} offers only TLS versions this computer refuses "
                               f"({exc.reason}).",
                               "Ask the server's admin to enable TLS 1.2 or 1.3.", field="url")
        if "handshake failure" in reason:
            sent = network is not None and bool(network.client_cert)
            return RemoteError(f"The server at {host_port} ended the TLS handshake ({exc.reason}).",
                               ("The server may refuse the client certificate" if sent else
                                "The server may require a client certificate (Client certificate in the "
                                "connector settings)") + ", or share no cipher with this computer; ask the "
                               "server's admin.", field="url")
        return RemoteError(f"The TLS handshake with {host_port} failed ({exc.reason or exc}).",
                           "Check that the URL points at the server's HTTPS port.", field="url")
    return RemoteError(f"The connection to {host_port} was closed during the TLS handshake ({exc}).",
                       "A proxy or firewall may be intercepting HTTPS, or this is not an HTTPS port.",
                       field="url")
