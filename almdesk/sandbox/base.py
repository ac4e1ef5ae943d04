"""Shared machinery of the sandboxes: a threaded werkzeug server on loopback, and fault injection.

Each system's sandbox is a :class:`SandboxApp` (a WSGI app with seeded data) in its own package.
:func:`serve` runs one on a free port in a daemon thread; :class:`Faults` injects 5xx, 429,
connection resets, slow answers and session expiry at the rates of a spec such as
``500:0.05,429:0.05,reset:0.02,slow:0.02,expire:0.01``.
"""

from __future__ import annotations

import json
import random
import socket
import ssl
import struct
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

FAULT_KINDS = ("500", "502", "503", "429", "reset", "slow", "expire")


@dataclass
class Faults:
    """Fault rates by kind, drawn from a seeded random generator.

    ``exempt`` holds path fragments never faulted (e.g. sign-in, so tests stay meaningful).
    ``slow_seconds`` is how long a ``slow`` answer waits; ``retry_after`` what 429 asks for.
    """

    rates: dict[str, float] = field(default_factory=dict)
    seed: int = 0
    slow_seconds: float = 3.0
    retry_after: int = 1
    exempt: tuple[str, ...] = ()
    counts: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()

    @classmethod
    def parse(cls, spec: str, seed: int = 0, **kwargs: Any) -> Faults:
        rates: dict[str, float] = {}
        for part in filter(None, (p.strip() for p in (spec or "").split(","))):
            kind, _, rate = part.partition(":")
            if kind not in FAULT_KINDS:
                raise ValueError(f"unknown fault {kind!r}; known: {', '.join(FAULT_KINDS)}")
            try:
                value = float(rate)
            except ValueError:
                raise ValueError(f"fault {kind!r} needs a rate like {kind}:0.05") from None
            if not 0 <= value <= 1:
                raise ValueError(f"fault rate for {kind!r} must be between 0 and 1")
            rates[kind] = value
        return cls(rates=rates, seed=seed, **kwargs)

    def draw(self, path: str) -> str | None:
        if not self.rates or any(e in path for e in self.exempt):
            return None
        with self._lock:
            roll = self._rng.random()
            acc = 0.0
            for kind, rate in self.rates.items():
                acc += rate
                if roll < acc:
                    self.counts[kind] = self.counts.get(kind, 0) + 1
                    return kind
        return None


class SandboxApp:
    """Base of each system's simulator: a WSGI app with a request counter and fault hooks.

    Subclasses implement :meth:`dispatch` (werkzeug Request → Response), :meth:`describe` and,
    where the system has sessions, :meth:`expire_sessions`.
    """

    system = ""

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self.faults: Faults | None = None
        self.lock = threading.RLock()
        self.requests = 0
        self.log: list[tuple[str, str, int]] = []  # (method, path, status), for tests
        self.base_url = ""

    # --- to implement ---------------------------------------------------------------------
    def dispatch(self, request: Request) -> Response:
        raise NotImplementedError

    def describe(self, base_url: str) -> dict[str, Any]:
        """``{"system", "url", "params", "secrets", "connection_params"}`` for a working setup."""
        raise NotImplementedError

    def expire_sessions(self) -> None:
        """Invalidate every session (the ``expire`` fault). Systems without sessions ignore it."""

    # --- shared ---------------------------------------------------------------------------
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

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        kind = environ.get("almdesk.fault")
        response = self.fault_response(kind) if kind else None
        if response is None:
            try:
                response = self.dispatch(request)
            except Exception as exc:  # a sandbox bug must show as a 500, not a hang
                import traceback

                traceback.print_exc()
                response = json_response({"message": f"sandbox error: {exc}"}, 500)
        with self.lock:
            self.requests += 1
            self.log.append((request.method, request.full_path, response.status_code))
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
    """A running sandbox: ``url``, ``app`` and :meth:`stop`. Use as a context manager too."""

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

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> SandboxServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve(app: SandboxApp, *, host: str = "127.0.0.1", port: int = 0, faults: Faults | None = None,
          ssl_context: ssl.SSLContext | None = None) -> SandboxServer:
    app.faults = faults
    return SandboxServer(app, host, port, ssl_context)
