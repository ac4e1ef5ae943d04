"""Shared machinery of the sandboxes: one router style, media-type and conditional-request checks,
limits, a latency model, counters, a threaded werkzeug server on loopback, and fault injection.

Each system's sandbox is a :class:`SandboxApp` (a WSGI app with seeded data) in its own package. It
routes with a :class:`Router` (werkzeug ``Map``/``Rule``) and keeps only its rules and handlers; the
base answers everything that is the same for all systems, in this order, for every request:

1. ``GET /__sandbox__/counters`` (never faulted, never delayed): :meth:`SandboxApp.counters` as JSON,
   so a bench can read the counters of a sandbox started by ``almdesk sandbox`` in another process;
2. an injected fault (:class:`Faults`, e.g. ``500:0.05,429:0.05,reset:0.02,slow:0.02,expire:0.01``);
3. the concurrency limits (:class:`Limit`): every request is counted in flight per caller
   (:meth:`SandboxApp.caller`), and a limit either refuses the request beyond it with the system's
   answer (:meth:`SandboxApp.refused`) or makes it wait for a slot;
4. the latency model (:class:`Latency`): a real server-side wait before the answer, and a per-item
   cost for bulk writes (handlers report their items with :meth:`SandboxApp.bulk_items`);
5. the media-type checks (:class:`MediaPolicy`): 415 for a body of a type the service does not take,
   406 for an ``Accept`` it cannot serve, Jira's 403 "XSRF check failed" for form posts, in the
   system's error shape (:meth:`SandboxApp.error`);
6. :meth:`SandboxApp.dispatch`, then conditional requests (``ETag`` + ``If-None-Match`` → 304 where
   :attr:`SandboxApp.etags` says the service does it) and the JSON ``Content-Type`` the service sends
   (:attr:`SandboxApp.json_type`).

Handlers share :class:`RequestContext` (each system extends it). A subclass that only implements
``dispatch(request)`` (the test doubles do) works as is: the hooks all default to doing nothing.
"""

from __future__ import annotations

import json
import socket
import ssl
import struct
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule, RuleFactory
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from almdesk.sandbox.limits import (
    COUNTERS_PATH,
    FAULT_KINDS,
    Concurrency,
    Faults,
    Latency,
    Limit,
    TokenBucket,
)

__all__ = ["COUNTERS_PATH", "FAULT_KINDS", "Concurrency", "Faults", "Latency", "Limit", "TokenBucket"]  # re-exported: systems import them here

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data", "text/plain")


@dataclass
class RequestContext:
    """The request context every system's handlers share (each system extends it with its own data:
    the GitHub sandbox's ``Call`` adds the world and the token, the Jira sandbox's the user and the
    REST version)."""

    request: Request

    def arg(self, name: str, default: str = "") -> str:
        """A query-string argument (the first one of that name)."""
        return str(self.request.args.get(name, default))

    def raw_json(self) -> Any:
        """The body parsed as JSON, None when empty; raises ValueError when it is not JSON."""
        raw = self.request.get_data(as_text=True)
        return json.loads(raw) if raw.strip() else None


class Router:
    """werkzeug ``Map``/``Rule`` routing, the one style of every sandbox.

    ``match(path, method)`` gives ``(endpoint, values)`` or raises werkzeug's ``NotFound`` /
    ``MethodNotAllowed`` (with ``valid_methods``), which each system turns into its own error shape.
    Trailing slashes are tolerated (no redirects), as the real services do for their REST paths.
    """

    def __init__(self, rules: Iterable[RuleFactory]) -> None:
        self.map = Map(list(rules), strict_slashes=False, merge_slashes=False)
        self._adapter = self.map.bind("sandbox", "/")

    def match(self, path: str, method: str) -> tuple[Any, dict[str, Any]]:
        endpoint, values = self._adapter.match(path or "/", method)
        return endpoint, dict(values)

    def allowed(self, path: str) -> list[str]:
        """The methods some rule serves ``path`` with (empty when no rule matches it)."""
        try:
            self._adapter.match(path or "/", "__none__")
        except MethodNotAllowed as exc:
            return sorted(exc.valid_methods or [])
        except NotFound:
            return []
        return []


def rule(path: str, endpoint: Any, methods: str = "GET") -> Rule:
    """A rule with methods written ``"GET|POST"`` (werkzeug adds HEAD to GET rules, as servers do)."""
    return Rule(path, endpoint=endpoint, methods=methods.split("|"))


@dataclass(frozen=True)
class MediaPolicy:
    """What request bodies a service takes and what answers it can serve.

    ``bodies``: media types of request bodies (a body of another or no type answers 415);
    ``serves``: media types the service can answer with (an ``Accept`` naming none of them, nor a
    wildcard, answers ``accept_status``: 406 by default, 415 on GitHub); ``serve_prefixes``: families
    of vendor types it serves too (``application/vnd.github``); ``xsrf``: form posts
    (:data:`FORM_TYPES`) without ``X-Atlassian-Token: no-check`` answer 403 "XSRF check failed" as Jira's
    XSRF filter does; ``check_bodies`` False skips the 415 check (GitHub reads any body as JSON);
    ``applies`` limits the checks to API paths (web pages and sign-in forms are not checked).
    """

    bodies: tuple[str, ...] = ("application/json",)
    serves: tuple[str, ...] = ("application/json",)
    serve_prefixes: tuple[str, ...] = ()
    accept_status: int = 406
    xsrf: bool = False
    check_bodies: bool = True
    applies: Callable[[str], bool] = lambda path: True

    def check(self, request: Request) -> tuple[int, str] | None:
        """None when acceptable, else ``(status, message)``."""
        if not self.applies(request.path):
            return None
        accept = request.headers.get("Accept", "").strip()
        if accept and not any(request.accept_mimetypes[t] for t in self.serves) and not any(
                value.startswith(self.serve_prefixes) for value, quality in request.accept_mimetypes if quality > 0):
            return self.accept_status, f"Not acceptable: this resource is served as {', '.join(self.serves)}."
        if request.method not in BODY_METHODS or not self.check_bodies:
            return None
        if not request.content_length and not request.headers.get("Transfer-Encoding") and not request.get_data(
                cache=True):
            return None
        mimetype = request.mimetype
        if self.xsrf and mimetype in FORM_TYPES and request.headers.get("X-Atlassian-Token", "").lower() != "no-check":
            return 403, "XSRF check failed"
        if mimetype not in self.bodies:
            shown = mimetype or "no Content-Type"
            return 415, f"Unsupported media type: {shown}; send {', '.join(self.bodies)}."
        return None


# --- the app ---------------------------------------------------------------------------------------
class SandboxApp:
    """Base of each system's simulator: a WSGI app with counters, limits, latency and fault hooks.

    Subclasses implement :meth:`dispatch` (werkzeug Request → Response), :meth:`describe` and,
    where the system has sessions, :meth:`expire_sessions`. Optional hooks: :attr:`media`,
    :attr:`etags`, :attr:`json_type`, :meth:`error`, :meth:`caller`, :meth:`concurrency_limits`,
    :meth:`refused`, :meth:`not_modified`, :meth:`standard_headers`.
    """

    system = ""
    media: MediaPolicy | None = None  # media-type checks of the service (None: no checks)
    etags = False  # GET answers carry an ETag and If-None-Match gives 304 (GitHub)
    json_type = ""  # Content-Type of JSON answers, e.g. "application/json; charset=utf-8" ("" = as made)

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self.faults: Faults | None = None
        self.lock = threading.RLock()
        self.requests = 0
        self.log: list[tuple[str, str, int]] = []  # (method, path, status), for tests
        self.base_url = ""
        self.latency = Latency()
        self._concurrency: Concurrency | None = None
        self._local = threading.local()
        self._stats_lock = threading.Lock()
        self.status_counts: dict[int, int] = defaultdict(int)
        self.bulk_written = 0
        self.waited_seconds = 0.0

    # --- to implement ---------------------------------------------------------------------
    def dispatch(self, request: Request) -> Response:
        raise NotImplementedError

    def describe(self, base_url: str) -> dict[str, Any]:
        """``{"system", "url", "params", "secrets", "connection_params"}`` for a working setup."""
        raise NotImplementedError

    def expire_sessions(self) -> None:
        """Invalidate every session (the ``expire`` fault). Systems without sessions ignore it."""

    # --- hooks with defaults ---------------------------------------------------------------
    def error(self, request: Request, status: int, message: str) -> Response:
        """The system's error body for a failure the base detects (media types, refusals)."""
        return json_response({"message": message}, status)

    def concurrency_limits(self) -> Sequence[Limit]:
        """The published concurrency limits (none by default; requests are still counted)."""
        return ()

    def caller(self, request: Request) -> str:
        """Who a request counts against for the concurrency limits (default: its credentials)."""
        header = request.headers.get("Authorization", "")
        return f"auth:{hash(header) & 0xFFFFFFFF:08x}" if header else f"ip:{request.remote_addr}"

    def refused(self, request: Request, limit: Limit) -> Response:
        """The answer to a request beyond ``limit`` (the system's own error)."""
        return self.error(request, 429, f"Too many concurrent requests: at most {limit.limit} at a time.")

    def not_modified(self, request: Request) -> None:
        """Called when a conditional GET was answered 304 (GitHub: such answers are free)."""

    def standard_headers(self, request: Request) -> dict[str, str]:
        """Headers the service puts on every answer, errors included (e.g. a request id)."""
        return {}

    # --- shared ---------------------------------------------------------------------------
    @property
    def concurrency(self) -> Concurrency:
        if self._concurrency is None:
            self._concurrency = Concurrency(self.concurrency_limits())
        return self._concurrency

    def bulk_items(self, count: int) -> None:
        """A handler wrote ``count`` items in one request: the latency model charges each."""
        self._local.items = getattr(self._local, "items", 0) + max(0, count)

    def counters(self) -> dict[str, Any]:
        """Requests by status, concurrency figures, bulk items written and seconds waited."""
        with self._stats_lock:
            stats = {"system": self.system, "requests": self.requests,
                     "statuses": {str(k): v for k, v in sorted(self.status_counts.items())},
                     "bulk_items": self.bulk_written, "waited_seconds": round(self.waited_seconds, 6),
                     "latency": self.latency.seconds, "server_cost": self.latency.server_cost}
        stats["concurrency"] = self.concurrency.snapshot()
        return stats

    def fault_response(self, kind: str) -> Response | None:
        """The response for a drawn fault, or None to go on normally (``slow``/``expire``)."""
        if kind in ("500", "502", "503"):
            return json_response({"message": f"Injected fault {kind}"}, int(kind))
        if kind == "429":
            retry_after = self.faults.retry_after if self.faults else 1
            return json_response({"message": "Too many requests (injected)"}, 429,
                                 headers={"Retry-After": str(retry_after)})
        if kind == "slow":
            time.sleep(self.faults.slow_seconds if self.faults else 3.0)
        elif kind == "expire":
            self.expire_sessions()
        return None

    def _wait(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)  # the latency model's point: a real wait in the serving thread
            with self._stats_lock:
                self.waited_seconds += seconds

    def _pipeline(self, request: Request) -> Response:
        with self.concurrency.slot(self.caller(request), request.method) as refused:
            if refused is not None:
                return self.refused(request, refused)
            self._wait(self.latency.seconds)
            problem = self.media.check(request) if self.media is not None else None
            if problem is not None:
                return self.error(request, *problem)
            self._local.items = 0
            try:
                response = self.dispatch(request)
            except Exception as exc:  # a sandbox bug must show as a 500, not a hang
                import traceback

                traceback.print_exc()
                response = json_response({"message": f"sandbox error: {exc}"}, 500)
            items = getattr(self._local, "items", 0)
            if items:
                with self._stats_lock:
                    self.bulk_written += items
                self._wait(items * self.latency.server_cost)
            return response

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        if request.path == COUNTERS_PATH and request.method == "GET":
            return json_response(self.counters())(environ, start_response)
        kind = environ.get("almdesk.fault")
        response = self.fault_response(kind) if kind else None
        if response is None:
            response = self._pipeline(request)
        for key, value in self.standard_headers(request).items():
            response.headers.setdefault(key, value)
        if self.json_type and response.mimetype == "application/json":
            response.headers["Content-Type"] = self.json_type
        if self.etags and request.method in ("GET", "HEAD") and response.status_code == 200:
            response.add_etag(weak=True)
            response.make_conditional(request)
            if response.status_code == 304:
                self.not_modified(request)
        with self.lock:
            self.requests += 1
            self.log.append((request.method, request.full_path, response.status_code))
        with self._stats_lock:
            self.status_counts[response.status_code] += 1
        return response(environ, start_response)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status=status, headers=headers or {}, content_type="application/json")


class _FaultHandler(WSGIRequestHandler):
    """Request handler that can reset the TCP connection before answering (the ``reset`` fault)."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:  # quiet
        pass

    def log(self, type: str, message: str, *args: Any) -> None:
        if type == "error":
            super().log(type, message, *args)

    def make_environ(self) -> Any:
        environ = super().make_environ()
        app = self.server.app
        faults = getattr(app, "faults", None)
        if faults is not None:
            environ["almdesk.fault"] = faults.draw(environ.get("PATH_INFO", ""))
        return environ

    def run_wsgi(self) -> None:
        if self.environ_fault() == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            try:
                self.connection.close()
            except OSError:
                pass
            return
        super().run_wsgi()

    def environ_fault(self) -> str | None:
        self.environ = self.make_environ()
        fault: str | None = self.environ.get("almdesk.fault")
        # make_environ is called again by run_wsgi; keep the same draw for it
        self.make_environ = lambda: self.environ  # type: ignore[method-assign]
        return fault


class SandboxServer:
    """A running sandbox: ``url``, ``app``, :meth:`counters` and :meth:`stop`. A context manager too."""

    def __init__(self, app: SandboxApp, host: str = "127.0.0.1", port: int = 0,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        self.app = app
        self._server: BaseWSGIServer = make_server(host, port, app, threaded=True, request_handler=_FaultHandler,
                                                   ssl_context=ssl_context)
        scheme = "https" if ssl_context else "http"
        self.host = host
        self.port = self._server.server_port
        self.url = f"{scheme}://{host}:{self.port}"
        app.base_url = self.url
        self._thread = threading.Thread(target=lambda: self._server.serve_forever(poll_interval=0.05),
                                        name=f"sandbox-{app.system}",
                                        daemon=True)
        self._thread.start()

    def describe(self) -> dict[str, Any]:
        return self.app.describe(self.url)

    def counters(self) -> dict[str, Any]:
        """The app's counters (what ``GET /__sandbox__/counters`` answers)."""
        return self.app.counters()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> SandboxServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve(app: SandboxApp, *, host: str = "127.0.0.1", port: int = 0, faults: Faults | None = None,
          ssl_context: ssl.SSLContext | None = None, latency: float | None = None,
          server_cost: float | None = None) -> SandboxServer:
    """Run ``app`` on a free port; ``latency``/``server_cost`` (seconds) set its :class:`Latency`."""
    app.faults = faults
    if latency is not None or server_cost is not None:
        app.latency = Latency(latency if latency is not None else app.latency.seconds,
                              server_cost if server_cost is not None else app.latency.server_cost)
    return SandboxServer(app, host, port, ssl_context)
