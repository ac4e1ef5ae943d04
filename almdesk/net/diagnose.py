"""The network steps every system's Test Connection starts with: DNS, TCP, TLS, HTTP.

:func:`network_steps` returns four :class:`~almdesk.base.records.Step` objects sharing one
:class:`Diagnosis`. Each step opens what it needs itself (no socket is kept between steps), so
the list may stop anywhere. Failures are :class:`~almdesk.errors.UserFacingError` with ``field``
set to the setting at fault (``url``, ``proxy_url``, ``ca_bundle``, ``verify``). A detail starting
with :data:`WARNING` marks a step that passed with a warning (validation off, plain http…).
"""

from __future__ import annotations

import ipaddress
import os
import ssl
from dataclasses import replace

import requests
import urllib3

from almdesk.base.records import Step
from almdesk.base.settings import NetworkSettings, is_loopback
from almdesk.errors import RemoteError
from almdesk.net.certs import CertInfo, Handshake, handshake, route_for, unverified_context
from almdesk.net.clientcert import probe, refused_by_server
from almdesk.net.diag_route import Route, read_head
from almdesk.net.diag_tls import CAUSE_TEXT, cause, certificate_error, handshake_error, not_tls_error
from almdesk.net.diag_x509 import DerError
from almdesk.net.session import HttpFactory, build_ssl_context, send

WARNING = "⚠ "
EXPIRY_WARNING_DAYS = 30
_BODY_PEEK = 4096


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


class Diagnosis:
    """The state the four steps share: the URL, the connector's network settings and the route."""

    def __init__(self, url: str, network: NetworkSettings) -> None:
        self.url = url
        self.network = network
        self._route: Route | None = None

    @property
    def route(self) -> Route:
        if self._route is None:
            self._route = route_for(self.url, self.network)
        return self._route

    def _via(self) -> str:
        route = self.route
        if route.proxy is None:
            return ""
        source = "system proxy" if self.network.proxy_mode == "system" else "proxy"
        return f"{source} {route.proxy.endpoint.hostport}"

    # --- DNS ----------------------------------------------------------------------------------
    def dns(self) -> str:
        route = self.route
        hop = route.hop
        addresses = ", ".join(dict.fromkeys(addr for _family, (addr, _port) in route.addresses()))
        try:
            ipaddress.ip_address(hop.host)
            found = f"{hop.host} is an IP address (no lookup needed)"
        except ValueError:
            found = f"{hop.host} → {addresses}"
        if route.proxy is not None:
            return f"{self._via()}: {found}; the proxy resolves {route.target.host}"
        return found

    # --- TCP ----------------------------------------------------------------------------------
    def tcp(self) -> str:
        route = self.route
        failed_first = ""
        sock, hop = route.open()
        sock.close()
        tried = route.addresses()
        if len(tried) > 1 and tried[0][1][0] != hop.address:
            failed_first = f" (earlier addresses did not answer; used {hop.address})"
        if route.proxy is None:
            return f"Connected to {route.target.hostport} in {_ms(hop.seconds)}{failed_first}"
        if route.tunnelled:
            return (f"Connected to {self._via()} in {_ms(hop.seconds)}{failed_first}; it opened a tunnel to "
                    f"{route.target.hostport}")
        return (f"Connected to {self._via()} in {_ms(hop.seconds)}{failed_first}; it forwards the requests to "
                f"{route.target.hostport}")

    # --- TLS ----------------------------------------------------------------------------------
    def tls(self) -> str:
        route = self.route
        if route.target.scheme != "https":
            if is_loopback(route.target.host):
                return "Not used: plain http:// to this computer"
            return (f"{WARNING}Not used: http:// is not encrypted, so passwords and tokens cross the network in "
                    "clear text. Use https:// if the server offers it.")
        context = self._context(self.network)
        if context is None or not self.network.verify:
            return self._tls_unverified()
        shake = self._handshake(context)
        self._client_cert_accepted(context, shake)
        try:
            cert = shake.certificate
        except DerError as exc:
            return f"{shake.version}; verified (the certificate details cannot be shown: {exc})"
        detail = (f"{shake.version}; certificate {cert.subject}, issued by {cert.issuer}; "
                  f"names {', '.join(cert.sans) or '(none)'}; expires {cert.not_after:%Y-%m-%d}")
        days = cert.days_left()
        if days < EXPIRY_WARNING_DAYS:
            return (f"{WARNING}{detail} — in {days} day{'s' if days != 1 else ''}: ask for a renewal soon"
                    f"{self._client_cert_note()}")
        return f"{detail} (in {days} days){self._client_cert_note()}"

    @staticmethod
    def _context(network: NetworkSettings) -> ssl.SSLContext | None:
        """The verifying context requests use: in system mode they also load $REQUESTS_CA_BUNDLE."""
        context = build_ssl_context(network)
        if context is not None and network.verify and network.proxy_mode == "system":
            env_bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
            if env_bundle and os.path.isfile(env_bundle):
                context.load_verify_locations(cafile=env_bundle)
        return context

    def _handshake(self, context: ssl.SSLContext) -> Handshake:
        route = self.route
        try:
            return handshake(route, context)
        except ssl.SSLCertVerificationError as exc:
            cert = self._certificate(self._handshake(unverified_context()))
            raise certificate_error(exc, cert, route.target.host, route.target.port,
                                    self.network.ca_bundle) from None
        except (ssl.SSLError, TimeoutError, ConnectionError) as exc:
            answer = self._plain_http_answer()
            if answer:
                raise not_tls_error(route.target.hostport, answer) from None
            raise handshake_error(exc, route.target.hostport, self.network.timeout, self.network) from None
        except OSError as exc:
            raise handshake_error(exc, route.target.hostport, self.network.timeout, self.network) from None

    def _client_cert_accepted(self, context: ssl.SSLContext, shake: Handshake) -> None:
        """Raise the server's refusal of the connector's client certificate. With TLS 1.3 the handshake
        completes on the client's side before the server checks the certificate; its alert (``unknown
        ca``, ``bad certificate``) comes after (see :func:`~almdesk.net.clientcert.probe`). Without a
        client certificate no extra connection is made here: a server that requires one (``certificate
        required``) is named by the HTTP step."""
        if shake.version == "TLSv1.3" and self.network.client_cert:  # up to TLS 1.2 the handshake fails
            self._raise_refusal(context)

    def _raise_refusal(self, context: ssl.SSLContext) -> None:
        """One more connection, to hear the server's client-certificate alert; raise it when there is one."""
        route = self.route
        try:
            sock, _hop = route.open()
        except (OSError, RemoteError):
            return
        alert = probe(sock, context, route.target.host, self.network.timeout)
        refused = refused_by_server(alert, route.target.hostport, self.network) if alert else None
        if refused is not None:
            raise refused

    def _client_cert_note(self) -> str:
        cert = self.network.client_cert
        return f"; presented the client certificate {cert}" if cert else ""

    def _certificate(self, shake: Handshake) -> CertInfo:
        try:
            return shake.certificate
        except DerError as exc:
            raise RemoteError(f"The certificate of {self.route.target.hostport} cannot be read: {exc}.",
                              "Ask the server's admin for its CA certificate as a PEM file, and choose it as "
                              "the connector's CA bundle.", field="ca_bundle") from None

    def _tls_unverified(self) -> str:
        context = build_ssl_context(self.network) or unverified_context()  # it presents the client certificate
        shake = self._handshake(context)
        self._client_cert_accepted(context, shake)
        cert = self._certificate(shake)
        verdict = "it would pass validation: turn validation back on"
        try:
            handshake(self.route, self._context(replace(self.network, verify=True)) or unverified_context())
        except ssl.SSLCertVerificationError as exc:
            verdict = f"it would NOT pass: {CAUSE_TEXT[cause(exc, cert, self.route.target.host)]}"
        except (OSError, RemoteError) as exc:
            verdict = f"it could not be checked: {exc}"
        return (f"{WARNING}Certificate validation is off for this connector ({verdict}). {shake.version}; "
                f"certificate {cert.subject}, issued by {cert.issuer}; SHA-256 {cert.sha256}"
                f"{self._client_cert_note()}")

    def _plain_http_answer(self) -> str:
        """The status line when the server answers plain HTTP on the port, else ''."""
        route = self.route
        try:
            sock, _hop = route.open()
        except (OSError, RemoteError):
            return ""
        with sock:
            try:
                sock.sendall(f"HEAD / HTTP/1.0\r\nHost: {route.target.hostport}\r\n\r\n".encode("latin-1"))
                head = read_head(sock)
            except OSError:
                return ""
        line = head.split(b"\r\n", 1)[0].decode("latin-1", "replace")
        return line if line.startswith("HTTP/") else ""

    def _speaks_tls(self) -> bool:
        try:
            handshake(self.route, unverified_context())
        except (OSError, RemoteError):
            return False
        return True

    # --- HTTP ---------------------------------------------------------------------------------
    def http(self) -> str:
        route = self.route
        session = HttpFactory(self.network, retries=0).session()
        try:
            try:
                resp = send(session, "GET", self.url, what=f"the server {route.target.hostport}",
                            allow_redirects=False, stream=True)
            except RemoteError as exc:
                if route.target.scheme == "http" and route.proxy is None and self._speaks_tls():
                    raise self._speaks_https_error() from None
                if route.target.scheme == "https" and " was reset" in exc.message:  # it may hide the alert
                    context = build_ssl_context(self.network) or unverified_context()
                    self._raise_refusal(context)
                raise
            with resp:
                return self._http_answer(resp)
        finally:
            session.close()

    def _speaks_https_error(self) -> RemoteError:
        hostport = self.route.target.hostport
        return RemoteError(f"The server at {hostport} speaks HTTPS, but the URL says http://.",
                           f"Change the server URL to https://{hostport}.", field="url")

    def _http_answer(self, resp: requests.Response) -> str:
        route = self.route
        code, reason = resp.status_code, resp.reason or ""
        said = f"HTTP {code} {reason}".strip()
        try:
            peek = resp.raw.read(_BODY_PEEK, decode_content=True) if code >= 400 else b""
        except (OSError, urllib3.exceptions.HTTPError):
            peek = b""
        if code == 400 and b"plain http request was sent to https port" in peek.lower():
            raise self._speaks_https_error()
        html = "html" in resp.headers.get("Content-Type", "").lower()
        if route.proxy is not None and not route.tunnelled and code in (500, 502, 503, 504) and html:
            raise RemoteError(f"The {route.proxy.label} answered {said} for {route.target.hostport}: it could "
                              "not reach the server, or the server failed.",
                              "Check the server address and port. If the server is on the internal network, "
                              "add it to the no-proxy list.", field="url")
        detail = f"{said} in {_ms(resp.elapsed.total_seconds())}"
        server = resp.headers.get("Server", "")
        if server:
            detail += f" from {server[:60]}"
        if route.proxy is not None:
            detail += f" through the {self._via()}"
        location = resp.headers.get("Location", "")
        if 300 <= code < 400 and location:
            detail += f"; redirects to {location[:120]}"
            if route.target.scheme == "http" and location.startswith("https://"):
                return f"{WARNING}{detail} — use the https:// address in the server URL"
        return detail


def network_steps(url: str, network: NetworkSettings) -> list[Step]:
    """DNS, TCP, TLS and HTTP steps for ``url`` with the connector's ``network`` settings, in order."""
    diag = Diagnosis(url, network)
    return [
        Step("dns", "Resolve host", diag.dns),
        Step("tcp", "Open TCP connection", diag.tcp),
        Step("tls", "TLS handshake", diag.tls),
        Step("http", "HTTP reachable", diag.http),
    ]
