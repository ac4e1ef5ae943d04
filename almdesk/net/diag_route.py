"""The path a connector's requests take: target host and port, the proxy that applies, the TCP hop.

Used by the Test Connection network steps and by "Trust this certificate". The proxy choice mirrors
:class:`almdesk.net.session.AlmSession` (explicit / none / system, no-proxy list), so the diagnosis
tests the same path the real requests use. Proxy credentials are never put in any message.
"""

from __future__ import annotations

import base64
import errno
import socket
import ssl
import time
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from requests.utils import get_environ_proxies, select_proxy, should_bypass_proxies

from almdesk import __version__
from almdesk.errors import ConfigError, RemoteError

HEADER_LIMIT = 16 * 1024
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Endpoint:
    """A scheme, host and port (the host as written, IPv6 without brackets)."""

    scheme: str
    host: str
    port: int

    @property
    def hostport(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


@dataclass(frozen=True)
class Proxy:
    """A proxy to go through. ``auth`` is a ready ``Proxy-Authorization`` value (never shown)."""

    endpoint: Endpoint
    auth: str = field(default="", repr=False)

    @property
    def label(self) -> str:
        return f"proxy {self.endpoint.hostport}"


def endpoint(url: str, field_name: str = "url") -> Endpoint:
    """Scheme, host and port of an http(s) URL; :class:`ConfigError` naming ``field_name`` otherwise."""
    what = "Proxy URL" if field_name == "proxy_url" else "Server URL"
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise ConfigError(f"{what} must start with http:// or https://.",
                          "Write the full address, for example http://proxy.example.com:3128."
                          if field_name == "proxy_url" else "Write the full address, for example "
                          "https://server.example.com.", field=field_name)
    try:
        port = parts.port or _DEFAULT_PORTS[scheme]
    except ValueError:
        raise ConfigError(f"{what} has an invalid port.", "The port must be a number from 1 to 65535.",
                          field=field_name) from None
    if not parts.hostname:
        raise ConfigError(f"{what} has no host name.", "Write it like https://server.example.com.",
                          field=field_name)
    return Endpoint(scheme, parts.hostname, port)


def _proxy(proxy_url: str) -> Proxy:
    parts = urlsplit(proxy_url.strip())
    auth = ""
    if parts.username is not None:
        pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        auth = "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")
    return Proxy(endpoint(proxy_url, "proxy_url"), auth)


def proxy_for(url: str, mode: str, proxy_url: str, no_proxy: str) -> Proxy | None:
    """The proxy requests to ``url`` go through, the way AlmSession chooses it (None: direct)."""
    if mode == "none":
        return None
    if mode == "explicit":
        if not proxy_url.strip():
            raise ConfigError("Proxy is set to an explicit address, but no proxy URL is given.",
                              "Enter the proxy URL (http://proxy.example.com:3128), or choose the system "
                              "proxy or no proxy.", field="proxy_url")
        if no_proxy and should_bypass_proxies(url, no_proxy=no_proxy):
            return None
        return _proxy(proxy_url)
    chosen = select_proxy(url, get_environ_proxies(url))
    return _proxy(chosen) if chosen else None


def describe_error(exc: OSError) -> str:
    """A short reason for a socket error, without Python's wrapping."""
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, socket.timeout | TimeoutError):
        return "timed out"
    return exc.strerror or str(exc) or type(exc).__name__


def resolve(ep: Endpoint, field_name: str) -> list[tuple[int, tuple[str, int]]]:
    """(family, sockaddr) of each address of ``ep``; :class:`RemoteError` when the name cannot be found."""
    try:
        infos = socket.getaddrinfo(ep.host, ep.port, type=socket.SOCK_STREAM)
    except UnicodeError:
        raise ConfigError(f"The host name {ep.host} is not a valid internet name.",
                          "Check the address for stray characters.", field=field_name) from None
    except socket.gaierror as exc:
        whose = "proxy" if field_name == "proxy_url" else "server"
        if exc.errno == socket.EAI_AGAIN:
            raise RemoteError(f"The DNS server did not answer for the {whose} host {ep.host} "
                              "(temporary failure in name resolution).",
                              "Check this computer's network connection and DNS settings, then try again.",
                              field=field_name) from None
        hint = ("Check the spelling of the proxy address in the Network tab." if field_name == "proxy_url" else
                "Check the spelling of the server address. If the server is only reachable through a "
                "proxy, set the proxy in the Network tab.")
        raise RemoteError(f"The {whose} host {ep.host} cannot be found (DNS: {exc.strerror}).", hint,
                          field=field_name) from None
    out: list[tuple[int, tuple[str, int]]] = []
    for family, _type, _proto, _name, sockaddr in infos:
        pair = (str(sockaddr[0]), int(sockaddr[1]))
        if (family, pair) not in out:
            out.append((family, pair))
    return out


@dataclass
class Hop:
    """An open TCP connection to the first hop (server or proxy), with how it went."""

    sock: socket.socket
    address: str
    seconds: float


class Route:
    """Where a connector's requests to ``url`` go, and how to open that path."""

    def __init__(self, url: str, *, mode: str, proxy_url: str, no_proxy: str, timeout: float) -> None:
        self.url = url
        self.target = endpoint(url)
        self.timeout = timeout
        self.proxy = proxy_for(url, mode, proxy_url, no_proxy)
        self._addresses: list[tuple[int, tuple[str, int]]] | None = None

    @property
    def hop(self) -> Endpoint:
        return self.proxy.endpoint if self.proxy else self.target

    @property
    def hop_field(self) -> str:
        return "proxy_url" if self.proxy else "url"

    @property
    def tunnelled(self) -> bool:
        """True when TLS to the server runs inside a CONNECT tunnel through the proxy."""
        return self.proxy is not None and self.target.scheme == "https"

    def addresses(self) -> list[tuple[int, tuple[str, int]]]:
        if self._addresses is None:
            self._addresses = resolve(self.hop, self.hop_field)
        return self._addresses

    def connect(self) -> Hop:
        """Open TCP to the first hop, trying each address in turn; failures named for the admin."""
        failures: list[tuple[str, OSError]] = []
        for family, sockaddr in self.addresses():
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.settimeout(self.timeout)
            started = time.monotonic()
            try:
                sock.connect(sockaddr)
            except OSError as exc:
                sock.close()
                failures.append((sockaddr[0], exc))
                continue
            return Hop(sock, sockaddr[0], time.monotonic() - started)
        raise self._connect_error(failures)

    def _connect_error(self, failures: list[tuple[str, OSError]]) -> RemoteError:
        hop = self.hop
        tried = "; ".join(f"{addr}: {describe_error(exc)}" for addr, exc in failures)
        last = failures[-1][1] if failures else OSError("no address")
        if self.proxy:
            whose, fix_port = f"The {self.proxy.label}", "Check the proxy address and port in the Network tab"
        else:
            whose, fix_port = f"The server {hop.hostport}", "Check the port in the server URL"
        if isinstance(last, ConnectionRefusedError):
            return RemoteError(f"{whose} refused the connection: nothing is listening on that port ({tried}).",
                               f"{fix_port}, and that it is running.", field=self.hop_field)
        if isinstance(last, socket.timeout | TimeoutError):
            return RemoteError(f"{whose} did not answer within {self.timeout:g} s (timed out; {tried}).",
                               f"{fix_port}. A firewall may be dropping the connection, the host may be "
                               "down, or a proxy may be needed to leave this network.", field=self.hop_field)
        if last.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
            return RemoteError(f"{whose} cannot be reached from this computer ({tried}).",
                               "Check the network connection and routes (VPN?), or whether a proxy is needed.",
                               field=self.hop_field)
        return RemoteError(f"Cannot open a connection to {hop.hostport} ({tried}).",
                           f"{fix_port}, and the network connection.", field=self.hop_field)

    def open(self) -> tuple[socket.socket, Hop]:
        """A socket to the server: direct, or through a CONNECT tunnel when TLS goes via a proxy.

        For plain http through a proxy the socket is to the proxy itself (requests send absolute URLs).
        An https:// proxy is reached over TLS verified with the system's default CA store.
        """
        hop = self.connect()
        sock = hop.sock
        try:
            if self.proxy and self.proxy.endpoint.scheme == "https":
                try:
                    sock = ssl.create_default_context().wrap_socket(sock, server_hostname=self.proxy.endpoint.host)
                except OSError as exc:
                    raise RemoteError(f"The TLS handshake with the {self.proxy.label} failed "
                                      f"({describe_error(exc)}).",
                                      "Check whether the proxy URL should start with http:// rather than "
                                      "https://.", field="proxy_url") from None
            if self.tunnelled:
                self._connect_tunnel(sock)
        except BaseException:
            sock.close()
            raise
        return sock, hop

    def _connect_tunnel(self, sock: socket.socket) -> None:
        assert self.proxy is not None
        target = self.target.hostport
        lines = [f"CONNECT {target} HTTP/1.1", f"Host: {target}", f"User-Agent: almdesk/{__version__}"]
        if self.proxy.auth:
            lines.append(f"Proxy-Authorization: {self.proxy.auth}")
        try:
            sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
            head = read_head(sock)
        except OSError as exc:
            raise RemoteError(f"The {self.proxy.label} closed or stalled the connection when asked to reach "
                              f"{target} ({describe_error(exc)}).",
                              "Check that this address is an HTTP proxy, and its port.", field="proxy_url") from None
        status_line = head.split(b"\r\n", 1)[0].decode("latin-1", "replace")
        parts = status_line.split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
            raise RemoteError(f"The {self.proxy.label} did not answer like an HTTP proxy "
                              f"({status_line[:60]!r}).", "Check the proxy address and port in the Network tab.",
                              field="proxy_url")
        code, reason = int(parts[1]), (parts[2] if len(parts) > 2 else "").strip()
        if 200 <= code < 300:
            return
        raise proxy_status_error(self.proxy.label, code, reason, target, bool(self.proxy.auth))


def proxy_status_error(label: str, code: int, reason: str, target: str, had_auth: bool) -> RemoteError:
    """The error for a proxy (``label``: "proxy host:port") that answered a CONNECT to ``target`` with ``code``.

    Only the proxy answers a CONNECT, so 401 (what some proxies, e.g. tinyproxy, send for a wrong
    password) is a proxy authentication failure like 407.
    """
    said = f"HTTP {code} {reason}".strip()
    if code in (401, 407):
        hint = ("The proxy refused the user name or password in the proxy URL; correct them." if had_auth else
                "Put the proxy user and password in the proxy URL (http://user:password@proxy:port).")
        return RemoteError(f"The {label} requires authentication ({said}).", hint, field="proxy_url")
    if code == 403:
        return RemoteError(f"The {label} does not allow connections to {target} ({said}).",
                           "Ask the proxy's admin to allow this server and port, or add the server to the "
                           "no-proxy list if it is reachable directly.", field="proxy_url")
    if code >= 500:
        return RemoteError(f"The {label} could not reach {target} ({said}).",
                           "Check the server address and port. If the server is on the internal network, add it "
                           "to the no-proxy list.", field="url")
    return RemoteError(f"The {label} refused to connect to {target} ({said}).",
                       "Check the proxy settings in the Network tab.", field="proxy_url")


def read_head(sock: socket.socket) -> bytes:
    """Read an HTTP response head (up to the blank line) without reading past it."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(1)
        if not chunk:
            if not data:
                raise ConnectionResetError(errno.ECONNRESET, "closed without an answer")
            break
        data += chunk
        if len(data) > HEADER_LIMIT:
            break
    return data
