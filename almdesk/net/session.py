"""One factory for ``requests`` sessions: timeouts, retries, TLS, proxies, pacing, trace, counting
and credential scoping.

Every system client gets its sessions from an :class:`HttpFactory` built from the connector's
:class:`~almdesk.base.settings.NetworkSettings`; nothing else in almdesk configures HTTP.

Credentials go only to the origin a session is for. An API client's session
(``HttpFactory.session(origin=…)``) refuses a request to another origin and a redirect to one
(:class:`CrossOriginError`, naming both hosts): an answer from elsewhere is neither sent the
credentials nor taken for the API's. A session without an origin (the diagnosis steps) follows a
redirect to another origin only without the credentials (Authorization, cookies, the headers set
with :meth:`AlmSession.set_credential`, any header whose name says it is a secret) and only for a
request without a body; it remembers such hops in ``AlmSession.cross_origin_redirects``.
"""

from __future__ import annotations

import re
import ssl
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

import requests
import truststore
from requests.adapters import HTTPAdapter
from requests.utils import should_bypass_proxies
from urllib3.exceptions import InvalidHeader, ReadTimeoutError
from urllib3.util.retry import Retry

from almdesk import __version__
from almdesk.base.settings import NetworkSettings
from almdesk.errors import CancelledError, RemoteError, UserFacingError
from almdesk.net.caps import read_capped
from almdesk.net.clientcert import explain_refusal, unverified_with_client_cert, with_client_cert
from almdesk.net.diag_route import endpoint, proxy_for, proxy_status_error
from almdesk.net.redact import SECRET_HEADERS, SECRET_KEY_RE
from almdesk.net.trace import TraceRecorder

USER_AGENT = f"almdesk/{__version__}"
RETRY_STATUSES = (429, 500, 502, 503, 504)


class _Retry(Retry):
    """urllib3 Retry that also retries writes on 429 and 503 (the server did not process them),
    caps how long a Retry-After may make us wait, and waits on the job's cancel event (``cancel``,
    bound per factory by :func:`make_retry`) so a Cancel ends the wait at once."""

    max_retry_after = 60.0
    cancel: threading.Event | None = None

    def _wait(self, seconds: float) -> None:
        if self.cancel is None:
            time.sleep(seconds)
        elif self.cancel.wait(seconds):
            raise CancelledError("cancelled while waiting to retry")

    def sleep_for_retry(self, response: Any) -> bool:
        retry_after = self.get_retry_after(response)
        if retry_after:
            self._wait(retry_after)
            return True
        return False

    def _sleep_backoff(self) -> None:
        backoff = self.get_backoff_time()
        if backoff > 0:
            self._wait(backoff)

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        if status_code in (429, 503) and self.total is not None and self.total > 0:
            return True
        return bool(super().is_retry(method, status_code, has_retry_after))

    def get_retry_after(self, response: Any) -> float | None:
        try:
            value = super().get_retry_after(response)
        except (InvalidHeader, ValueError, OverflowError):  # a malformed Retry-After: back off as usual
            return None
        return None if value is None else min(float(value), self.max_retry_after)


def make_retry(total: int = 3, backoff: float = 0.3, cancel: threading.Event | None = None) -> Retry:
    """The retry policy of a session; with ``cancel`` its waits end (CancelledError) when it is set."""
    bound: type[_Retry] = _Retry if cancel is None else type("_CancellableRetry", (_Retry,), {"cancel": cancel})
    return bound(total=total, connect=total, read=total, status=total, backoff_factor=backoff,
                  backoff_max=10, status_forcelist=RETRY_STATUSES, respect_retry_after_header=True,
                  raise_on_status=False, allowed_methods=frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"}))


class _TlsAdapter(HTTPAdapter):
    """HTTPAdapter verifying with the OS trust store (truststore) plus an optional CA bundle, reading
    every answer (redirects' included) within the connector's size and time limits."""

    def __init__(self, context: ssl.SSLContext | None, network: NetworkSettings | None = None,
                 clock: Callable[[], float] = time.monotonic, **kwargs: Any) -> None:
        self._context = context
        self._network = network or NetworkSettings()
        self._clock = clock
        super().__init__(**kwargs)

    def send(self, request: requests.PreparedRequest, stream: bool = False, timeout: Any = None,
             verify: bool | str = True, cert: Any = None, proxies: Any = None) -> requests.Response:
        started = self._clock()
        response = super().send(request, stream=True, timeout=timeout, verify=verify, cert=cert, proxies=proxies)
        if not stream:
            net = self._network
            read_capped(response, int(net.max_answer_mb) * 2**20, started + float(net.request_deadline), self._clock)
        return response

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        if self._context is not None:
            kwargs["ssl_context"] = self._context
        super().init_poolmanager(*args, **kwargs)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        if self._context is not None:
            proxy_kwargs["ssl_context"] = self._context
        return super().proxy_manager_for(proxy, **proxy_kwargs)


Origin = tuple[str, str, int]
_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> Origin:
    """(scheme, host, port) of ``url``, the port filled in from the scheme."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    return scheme, (parts.hostname or "").lower(), port or _DEFAULT_PORTS.get(scheme, 0)


def same_origin(configured: Origin, url: str) -> bool:
    """True when ``url`` is on the ``configured`` origin, or its https upgrade on the default port."""
    other = origin_of(url)
    if other == configured:
        return True
    scheme, host, port = configured
    return scheme == "http" and port == 80 and other == ("https", host, 443)


class CrossOriginError(RemoteError):
    """A request or a redirect would have carried a connector's credentials to another origin."""


def _show(origin: Origin) -> str:
    scheme, host, port = origin
    return f"{scheme}://{host}" + ("" if _DEFAULT_PORTS.get(scheme) == port else f":{port}")


class LockedCookieJar(requests.cookies.RequestsCookieJar):
    """A cookie jar for requests in flight together on one session (the sync's overlapped creates and
    pages). cookielib takes the jar's lock for its writes (a ``Set-Cookie`` being stored); requests reads
    the jar by iterating it, which cookielib does not lock, so a read during a write could see its dict
    change size. Here a read iterates a snapshot taken under that lock."""

    def __iter__(self) -> Any:
        with self._cookies_lock:  # type: ignore[attr-defined]  # cookielib's RLock, not in its stubs
            cookies = list(super().__iter__())
        return iter(cookies)


class AlmSession(requests.Session):
    """A Session with a default timeout, per-connector proxy rules (explicit / none / system) and
    credentials scoped to one origin (see the module docstring).

    ``origin`` is the server the connector is configured for ("" while a caller does not know it:
    then only redirects are scoped, from the origin of the request that was redirected).
    """

    def __init__(self, network: NetworkSettings, origin: str = "") -> None:
        super().__init__()
        self.cookies = LockedCookieJar()
        self.network = network
        self.default_timeout = network.timeout
        self.origin: Origin | None = origin_of(origin) if origin else None
        self.credential_headers: set[str] = set(SECRET_HEADERS)  # Authorization, Cookie, API-key headers…
        self.cross_origin_redirects: list[str] = []
        if network.proxy_mode in ("explicit", "none"):
            self.trust_env = False

    def set_credential(self, header: str, value: str) -> None:
        """Send ``header: value`` with every request to this session's origin, and never elsewhere."""
        self.headers[header] = value
        self.credential_headers.add(header.lower())

    def is_credential(self, header: str) -> bool:
        """A header the trace would mask (the same names) or one a client set with :meth:`set_credential`."""
        low = header.lower()
        return low in self.credential_headers or bool(SECRET_KEY_RE.search(low))

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self.default_timeout)
        target = url.decode() if isinstance(url, bytes) else url
        if self.origin is not None and not same_origin(self.origin, target):
            raise CrossOriginError(
                f"The server pointed almdesk at another host ({_show(origin_of(target))}); the connector's "
                f"credentials are sent only to {_show(self.origin)}.",
                "Check the server URL (it must be the address the server calls itself), or ask the server's "
                "admin why its answers name another host.")
        return super().request(method, url, *args, **kwargs)

    def rebuild_auth(self, prepared_request: requests.PreparedRequest, response: requests.Response) -> None:
        """On a redirect to another origin: drop every credential, and mark the hop refused when the
        session is an API client's or the request has a body (:meth:`send` raises then). requests
        also calls this for ``response.next`` when it does not follow redirects, so it never raises."""
        before = self.origin or origin_of(response.request.url or "")
        after = prepared_request.url or ""
        if same_origin(before, after):  # requests dropped a set Cookie header: it belongs here, send it again
            if "Cookie" in self.headers:
                jar = prepared_request.headers.get("Cookie")
                prepared_request.headers["Cookie"] = "; ".join(filter(None, (str(self.headers["Cookie"]), jar)))
            super().rebuild_auth(prepared_request, response)  # type: ignore[no-untyped-call]  # unannotated in types-requests
            return
        for name in [h for h in prepared_request.headers if self.is_credential(h)]:
            del prepared_request.headers[name]
        there = _show(origin_of(after))
        refused: CrossOriginError | None = None
        if self.origin is not None:
            refused = CrossOriginError(
                f"{_show(before)} redirected almdesk (HTTP {response.status_code}) to another host, {there}; "
                "the connector's credentials were not sent there.",
                f"If the server has moved, use {there} as the server URL; otherwise a portal or a proxy in front "
                "of the server is redirecting API calls: ask its admin.")
        elif prepared_request.body:
            refused = CrossOriginError(
                f"{_show(before)} redirected a {prepared_request.method} with a body (HTTP {response.status_code}) "
                f"to {there}; almdesk did not send it there.",
                "A sign-in or a write is never re-sent to another host. Use the server's own address as the "
                "server URL; a portal or a proxy in front of it may be redirecting.")
        prepared_request.refused = refused  # type: ignore[attr-defined]  # read back by send()
        if refused is None:
            self.cross_origin_redirects.append(after)

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        refused = getattr(request, "refused", None)
        if refused is not None:
            raise refused
        return super().send(request, **kwargs)

    def merge_environment_settings(self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any) -> Any:
        settings = super().merge_environment_settings(url, proxies, stream, verify, cert)
        net = self.network
        if not net.verify:
            # requests swaps a request's verify=None for $REQUESTS_CA_BUNDLE / $CURL_CA_BUNDLE *before*
            # merging the session's verify=False, which would turn validation back on.
            settings["verify"] = False
        if net.proxy_mode == "none":
            settings["proxies"] = {}
        elif net.proxy_mode == "explicit" and net.proxy_url:
            bypass = net.no_proxy and should_bypass_proxies(url, no_proxy=net.no_proxy)
            settings["proxies"] = {} if bypass else {"http": net.proxy_url, "https": net.proxy_url}
        return settings


def build_ssl_context(network: NetworkSettings) -> ssl.SSLContext | None:
    """The context used for verification (with the client certificate), or None when verification is off."""
    if not network.verify:
        return unverified_with_client_cert(network) if network.client_cert else None
    ctx = with_client_cert(truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT), network)
    # Any certificate in the trust store ends a chain (Python 3.13's default), so a server certificate
    # saved with "Trust this certificate" is trusted even when its issuing CA is not in the bundle.
    ctx.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    if network.ca_bundle:
        try:
            ctx.load_verify_locations(cafile=network.ca_bundle)
        except (OSError, ssl.SSLError) as exc:
            raise UserFacingError(f"CA bundle {network.ca_bundle} cannot be read: {exc}.",
                                  "Choose a PEM file with the server's CA certificate, or clear the field.",
                                  field="ca_bundle") from None
    return ctx


class HttpFactory:
    """Builds configured sessions for one connector and counts the requests they send.

    ``trace`` (debug mode) records every exchange redacted; ``secrets`` are scrubbed from it.
    ``clock`` times each request against the connector's ``request_deadline`` (tests inject one).
    """

    def __init__(self, network: NetworkSettings | None = None, *, trace: TraceRecorder | None = None,
                 retries: int = 3, backoff: float = 0.3, clock: Callable[[], float] = time.monotonic) -> None:
        self.network = network or NetworkSettings()
        self.clock = clock
        self.cancel: threading.Event | None = None  # a job's cancel event: retry waits end when it is set
        self.trace = trace
        self.retries = retries
        self.backoff = backoff
        self.requests = 0
        self._count_lock = threading.Lock()

    def session(self, *, retries: int | None = None, origin: str = "") -> AlmSession:
        """A configured session; with ``origin`` (the server's URL) credentials go only there."""
        s = AlmSession(self.network, origin)
        adapter = _TlsAdapter(build_ssl_context(self.network), self.network, self.clock,
                              max_retries=make_retry(self.retries if retries is None else retries, self.backoff,
                                                     self.cancel),
                              pool_maxsize=16)
        s.mount("https://", adapter)
        s.mount("http://", adapter)
        s.verify = self.network.verify
        s.headers["User-Agent"] = USER_AGENT
        s.headers["Accept"] = "application/json"
        s.hooks["response"].append(self._count)
        if self.trace is not None:
            s.hooks["response"].append(self.trace.hook)
        return s

    def _count(self, response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
        with self._count_lock:
            self.requests += 1
        return response

    def add_secrets(self, secrets: Iterable[str]) -> None:
        if self.trace is not None:
            self.trace.add_secrets(secrets)


# ---------------------------------------------------------------------------------------------
# Calling a server and turning failures into messages an admin acts on


def send(session: requests.Session, method: str, url: str, *, what: str = "the server",
         **kwargs: Any) -> requests.Response:
    """``session.request`` with transport failures turned into :class:`RemoteError`."""
    try:
        response = session.request(method, url, **kwargs)
        if response.status_code == 407:  # only a proxy sends 407 (a plain-http request it forwards)
            response.close()
            label, had_auth = _proxy_label(session, url)
            raise proxy_status_error(label, 407, response.reason or "", endpoint(url).hostport, had_auth)
        return response
    except requests.exceptions.SSLError as exc:
        raise (explain_refusal(exc, url, getattr(session, "network", None)) or tls_error(exc, url)) from None
    except requests.exceptions.ProxyError as exc:
        raise proxy_error(exc, session, url) from None
    except requests.exceptions.ConnectTimeout:
        raise RemoteError(f"Connecting to {what} timed out.",
                          "Check the host and port, and whether a firewall or proxy is needed.") from None
    except requests.exceptions.ReadTimeout:
        raise read_timeout_error(what) from None
    except requests.exceptions.ConnectionError as exc:
        if isinstance(getattr(exc.args[0] if exc.args else None, "reason", None), ReadTimeoutError):
            raise read_timeout_error(what) from None  # a read timeout after the last retry
        raise connection_error(exc, url, what) from None
    except requests.exceptions.InvalidURL as exc:
        raise RemoteError(f"The address {url} is not valid: {exc}.", "Fix the server URL.") from None
    except requests.exceptions.RetryError as exc:
        raise RemoteError(f"{what} kept failing after retries: {_root(exc)}.",
                          "The server is busy or failing; try again later.") from None
    except requests.exceptions.TooManyRedirects:
        raise RemoteError(f"{_sentence(what)} redirected in a loop ({url}).",
                          "Check the server URL; a login portal or proxy may be redirecting every request.") from None
    except (requests.exceptions.MissingSchema, requests.exceptions.InvalidSchema) as exc:
        raise RemoteError(f"{_sentence(what)} redirected to an address almdesk cannot follow: {_root(exc)}.",
                          "Check the server URL; it should point at the product's API, not a portal.") from None
    except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError) as exc:
        raise RemoteError(f"The answer from {what} was cut off or garbled: {_root(exc)}.",
                          "A proxy or the network may be dropping data; try again.") from None
    except requests.exceptions.RequestException as exc:  # any other transport failure
        raise RemoteError(f"The request to {what} failed: {_root(exc)}.",
                          "Check the address and your network, then try again.") from None
    except InvalidHeader as exc:
        raise RemoteError(f"{_sentence(what)} sent a malformed header: {_root(exc)}.",
                          "The server or a proxy in between may be failing; try again.") from None


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def read_timeout_error(what: str) -> RemoteError:
    return RemoteError(f"{_sentence(what)} did not answer in time.",
                       "The server may be overloaded; try again, or raise the timeout.")


_DNS_FAILURES = ("name or service not known", "nodename nor servname", "getaddrinfo failed", "name resolution",
                 "no address associated")
_TUNNEL_STATUS = re.compile(r"Tunnel connection failed: (\d{3}) ?([^'\")]*)")


def _proxy_label(session: requests.Session, url: str) -> tuple[str, bool]:
    """("proxy host:port", whether the proxy URL carries credentials) for the proxy ``url`` goes through."""
    if isinstance(session, AlmSession):
        net = session.network
        try:
            proxy = proxy_for(url, net.proxy_mode, net.proxy_url, net.no_proxy)
        except UserFacingError:
            proxy = None
        if proxy is not None:
            return proxy.label, bool(proxy.auth)
    return "proxy", False


def proxy_error(exc: requests.exceptions.ProxyError, session: requests.Session, url: str) -> RemoteError:
    """Name a proxy failure: refused, authentication required (407), forbidden, could not reach the server."""
    label, had_auth = _proxy_label(session, url)
    text = f"{exc} {_root(exc)}"
    status = _TUNNEL_STATUS.search(text)
    if status:
        return proxy_status_error(label, int(status.group(1)), status.group(2).strip(), endpoint(url).hostport,
                                  had_auth)
    low = text.lower()
    if any(s in low for s in _DNS_FAILURES):
        return RemoteError(f"The host of the {label} cannot be found (DNS).",
                           "Check the spelling of the proxy address in the connector's Network tab.",
                           field="proxy_url")
    if "refused" in low:
        return RemoteError(f"The {label} refused the connection ({_root(exc)}).",
                           "Check the proxy address and port in the connector's Network tab, and that the proxy "
                           "is running.", field="proxy_url")
    return RemoteError(f"Cannot connect through the {label}: {_root(exc)}.",
                       "Check the proxy settings in the connector's Network tab.", field="proxy_url")


def _root(exc: BaseException) -> str:
    seen = exc
    while seen.__context__ is not None and seen.__context__ is not seen:
        seen = seen.__context__
    text = str(seen) or type(seen).__name__
    return text[:300]


def connection_error(exc: BaseException, url: str, what: str) -> RemoteError:
    text = _root(exc) + " " + str(exc)
    low = text.lower()
    if any(s in low for s in _DNS_FAILURES):
        return RemoteError(f"The host in {url} cannot be found (DNS).",
                           "Check the spelling of the server address.", field="url")
    if "refused" in low:
        return RemoteError(f"{what} refused the connection ({url}).",
                           "Check the port, and that the server is running.", field="url")
    if "reset" in low or "aborted" in low or "remote end closed" in low:
        return RemoteError(f"The connection to {what} was reset.",
                           "A proxy or firewall may be cutting the connection, or the server restarted; try again.")
    return RemoteError(f"Cannot connect to {what}: {_root(exc)}.", "Check the address and your network.")


def tls_error(exc: BaseException, url: str) -> RemoteError:
    low = (_root(exc) + " " + str(exc)).lower()
    if "self-signed" in low or "self signed" in low:
        msg, hint = ("The server's certificate is self-signed.",
                     "Add the server's certificate to the connector's CA bundle, or (only if you trust the "
                     "network) turn off certificate validation for this connector.")
    elif "expired" in low:
        msg, hint = ("The server's certificate has expired.", "Ask the server's admin to renew the certificate.")
    elif "hostname" in low or "doesn't match" in low or "not valid for" in low or "mismatch" in low:
        msg, hint = ("The server's certificate is for another host name.",
                     "Use the host name the certificate was issued for.")
    elif "wrong version number" in low or "record layer" in low:
        msg, hint = ("The server does not speak TLS on this port.",
                     "Use http:// for this port, or the HTTPS port of the server.")
    elif "unable to get local issuer" in low or "unknown ca" in low or "certificate verify failed" in low:
        msg, hint = ("The server's certificate was issued by an authority this computer does not trust.",
                     "Add the issuing CA to the connector's CA bundle (Network tab).")
    else:
        msg, hint = (f"TLS handshake failed: {_root(exc)}.", "Check the certificate settings in the Network tab.")
    return RemoteError(f"{msg} ({url})", hint, field="url")
