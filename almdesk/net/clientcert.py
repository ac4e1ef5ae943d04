"""The client certificate (mTLS) a connector presents, and what goes wrong with it.

:func:`load_client_cert` loads ``NetworkSettings.client_cert`` / ``client_key`` /
``client_key_password`` into an :class:`ssl.SSLContext` (``load_cert_chain``). OpenSSL reports almost
every problem as "PEM lib", so the files are read first and each failure is named with the field at
fault and its fix: a file missing or unreadable, not PEM (DER or PKCS#12), no key, an encrypted key
without a passphrase, a wrong passphrase, a key that does not match the certificate. The passphrase is
handed to OpenSSL through a callback, so OpenSSL never prompts on a terminal.

:func:`refused_by_server` names the server's TLS alert when it refused the handshake for want of a
(trusted) client certificate: ``certificate required`` (TLS 1.3, no certificate sent), ``unknown ca``
(a certificate from an authority the server does not trust), ``bad certificate`` / ``certificate
unknown`` / ``certificate revoked`` / ``certificate expired``. With TLS 1.3 that alert comes after the
client's side of the handshake is done, and a request sent at once races the server's close: the reset
often swallows the alert (a bare "EOF occurred in violation of protocol"). :func:`probe` hears it on a
connection that sends nothing, and :func:`explain_refusal` uses it for a request that ended that way.
"""

from __future__ import annotations

import socket
import ssl
from pathlib import Path
from urllib.parse import urlsplit

from almdesk.base.settings import CLIENT_CERT_PARAMS, CLIENT_KEY_SECRET, NetworkSettings
from almdesk.errors import ConfigError, RemoteError, UserFacingError
from almdesk.net.diag_route import Route

CERT_FIELD, KEY_FIELD = CLIENT_CERT_PARAMS
PASS_FIELD = CLIENT_KEY_SECRET
_CERT_PEM = b"-----BEGIN CERTIFICATE-----"
_KEY_PEM = b"PRIVATE KEY-----"
_TO_PEM = {
    "der": "openssl x509 -inform der -in {path} -out client.pem",
    "p12": "openssl pkcs12 -in {path} -out client.pem (then use client.pem as both files)",
}


def _read(path: str, what: str, field: str) -> bytes:
    file = Path(path).expanduser()
    if not file.is_file():
        raise ConfigError(f"The {what} file {path} does not exist.",
                          f"Choose the PEM file of the {what} in the connector settings, or clear the field.",
                          field=field)
    try:
        return file.read_bytes()
    except OSError as exc:
        raise ConfigError(f"The {what} file {path} cannot be read ({exc.strerror or exc}).",
                          "Check the file's permissions: almdesk runs as your user and must be able to read it.",
                          field=field) from None


def _not_pem(path: str, data: bytes, what: str, field: str) -> ConfigError:
    kind = "p12" if path.lower().endswith((".p12", ".pfx")) else "der" if data[:1] == b"\x30" else ""
    found = {"p12": "a PKCS#12 (.p12/.pfx) bundle", "der": "binary (DER)"}.get(kind, "not PEM")
    fix = f" Convert it: {_TO_PEM[kind].format(path=path)}." if kind else ""
    return ConfigError(f"The {what} file {path} is {found}; almdesk needs PEM "
                       f"(text with -----BEGIN {'CERTIFICATE' if field == CERT_FIELD else 'PRIVATE KEY'}----- blocks).",
                       f"Export the {what} as PEM.{fix}", field=field)


def _encrypted(key_pem: bytes) -> bool:
    return b"ENCRYPTED PRIVATE KEY-----" in key_pem or b"Proc-Type: 4,ENCRYPTED" in key_pem


def check_files(network: NetworkSettings, *, need_passphrase: bool = True) -> tuple[str, str]:
    """(certificate path, key path) after checking both are readable PEM (and, with ``need_passphrase``,
    that an encrypted key has a passphrase); ConfigError naming the field."""
    cert_path = network.client_cert
    key_path = network.client_key or cert_path
    key_field = KEY_FIELD if network.client_key else CERT_FIELD
    cert_pem = _read(cert_path, "client certificate", CERT_FIELD)
    if _CERT_PEM not in cert_pem:
        raise _not_pem(cert_path, cert_pem, "client certificate", CERT_FIELD)
    key_pem = cert_pem if key_path == cert_path else _read(key_path, "client key", KEY_FIELD)
    if _KEY_PEM not in key_pem:
        if key_path == cert_path or b"-----BEGIN " in key_pem:
            what = "client certificate" if key_path == cert_path else "client key"
            raise ConfigError(f"The {what} file {key_path} holds no private key.",
                              "Choose the key's PEM file as Client key, or use a PEM file that holds both.",
                              field=KEY_FIELD)
        raise _not_pem(key_path, key_pem, "client key", key_field)
    if need_passphrase and _encrypted(key_pem) and not network.client_key_password:
        raise ConfigError(f"The client key in {key_path} is protected by a passphrase, and none is set.",
                          "Enter the key's passphrase (kept in the system keyring).", field=PASS_FIELD)
    return cert_path, key_path


def load_client_cert(context: ssl.SSLContext, network: NetworkSettings) -> None:
    """Present the connector's client certificate on ``context`` (nothing when none is set)."""
    if not network.client_cert:
        return
    cert_path, key_path = check_files(network)
    secret = network.client_key_password.encode("utf-8")
    try:
        context.load_cert_chain(str(Path(cert_path).expanduser()), str(Path(key_path).expanduser()),
                                password=lambda: secret)
    except ssl.SSLError as exc:
        text = f"{exc.reason or ''} {exc}".lower()
        if "mismatch" in text:
            raise ConfigError(f"The client key in {key_path} does not belong to the certificate in {cert_path}.",
                              "Choose the key that was issued with this certificate.", field=KEY_FIELD) from None
        if network.client_key_password and _encrypted(Path(key_path).expanduser().read_bytes()):
            raise ConfigError(f"The passphrase does not unlock the client key in {key_path}.",
                              "Enter the key's passphrase again (it is case-sensitive).", field=PASS_FIELD) from None
        raise ConfigError(f"The client certificate or key cannot be loaded ({exc.reason or exc}).",
                          "Use an unencrypted or passphrase-protected PEM key that matches the certificate.",
                          field=CERT_FIELD) from None


_ALERTS = {
    "certificate required": "no client certificate was sent",
    "unknown ca": "it does not trust the authority that issued the client certificate",
    "bad certificate": "it rejected the client certificate",
    "certificate unknown": "it rejected the client certificate",
    "certificate revoked": "the client certificate is revoked",
    "certificate expired": "the client certificate has expired",
    "unsupported certificate": "it does not accept this kind of client certificate",
}


def server_alert(exc: BaseException) -> str:
    """The client-certificate alert the server sent ("" for any other failure)."""
    text = (getattr(exc, "reason", None) or "") + " " + str(exc)
    low = text.lower().replace("_", " ")
    if "alert" not in low:
        return ""
    return next((alert for alert in _ALERTS if alert in low), "")


def refused_by_server(exc: BaseException, url: str, network: NetworkSettings | None) -> RemoteError | None:
    """A RemoteError naming why the server at ``url`` refused the client certificate, or None for other
    failures (``url`` may also be a bare host:port)."""
    alert = server_alert(exc)
    if not alert:
        return None
    network = network or NetworkSettings()
    parts = urlsplit(url if "//" in url else f"//{url}")
    where = parts.netloc or url
    why = _ALERTS[alert]
    if not network.client_cert:
        return RemoteError(f"The server at {where} requires a client certificate (TLS alert '{alert}'): {why}.",
                           "Choose the client certificate and key files your admin gave you in the connector "
                           "settings (Client certificate, Client key).", field=CERT_FIELD)
    return RemoteError(f"The server at {where} refused the client certificate {network.client_cert} (TLS alert "
                       f"'{alert}'): {why}.",
                       "Ask the server's admin which authority's certificates it accepts, and use a certificate "
                       "issued by it.", field=CERT_FIELD)


def with_client_cert(context: ssl.SSLContext, network: NetworkSettings) -> ssl.SSLContext:
    """``context``, presenting the connector's client certificate when one is set."""
    load_client_cert(context, network)
    return context


def unverified_with_client_cert(network: NetworkSettings) -> ssl.SSLContext:
    """A context that checks nothing about the server (validation off) but presents the client certificate."""
    return with_client_cert(_unverified(), network)


PROBE_WAIT = 2.0  # seconds to wait for a word from a server that sends no session ticket


def probe(sock: socket.socket, context: ssl.SSLContext, host: str, timeout: float) -> BaseException | None:
    """Handshake on ``sock`` (connected, closed here) and wait, without sending anything, for the
    server's first message: TLS 1.3 servers check the client certificate after the client's side of
    the handshake is done and answer with a session ticket (accepted) or an alert (refused). Sending
    a request first would race the server's close: the reset it causes can swallow the alert.
    Returns the alert's SSLError, or None (accepted, or nothing said within :data:`PROBE_WAIT`)."""
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = context.wrap_bio(incoming, outgoing, server_hostname=host)
    with sock:
        sock.settimeout(timeout)
        try:
            while True:
                try:
                    tls.do_handshake()
                    break
                except ssl.SSLWantReadError:
                    _pump(sock, tls, incoming, outgoing)
            sock.sendall(outgoing.read())
            sock.settimeout(min(timeout, PROBE_WAIT))
            while True:
                try:
                    tls.read(1)
                    return None  # the server spoke first: it is not refusing
                except ssl.SSLWantReadError:
                    if tls.version() == "TLSv1.3" and tls.session is not None and tls.session_reused is False \
                            and getattr(tls.session, "has_ticket", False):
                        return None  # a session ticket: the server accepted the handshake
                    _pump(sock, tls, incoming, outgoing)
        except ssl.SSLError as exc:
            return exc
        except (OSError, EOFError):
            return None


def _pump(sock: socket.socket, tls: ssl.SSLObject, incoming: ssl.MemoryBIO, outgoing: ssl.MemoryBIO) -> None:
    pending = outgoing.read()
    if pending:
        sock.sendall(pending)
    data = sock.recv(16384)
    if not data:
        raise EOFError("the server closed the connection")
    incoming.write(data)


_HIDDEN = ("eof occurred", "unexpected eof", "connection reset", "broken pipe", "connection aborted")


def explain_refusal(exc: BaseException, url: str, network: NetworkSettings | None) -> RemoteError | None:
    """:func:`refused_by_server` for a failed request; when the failure is a bare EOF or reset (the
    server's close raced the request and swallowed its alert), one :func:`probe` connection hears it."""
    network = network or NetworkSettings()
    named = refused_by_server(exc, url, network)
    text = f"{getattr(exc, 'reason', None) or ''} {exc} {exc.__context__ or ''}".lower()
    if named is not None or not url.lower().startswith("https:") or not any(h in text for h in _HIDDEN):
        return named
    route = Route(url, mode=network.proxy_mode, proxy_url=network.proxy_url, no_proxy=network.no_proxy,
                  timeout=network.timeout)
    try:
        sock, _hop = route.open()
        context = unverified_with_client_cert(network) if network.client_cert else _unverified()
    except (OSError, UserFacingError):
        return None
    alert = probe(sock, context, route.target.host, network.timeout)
    return refused_by_server(alert, url, network) if alert is not None else None


def _unverified() -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context
