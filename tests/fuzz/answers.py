"""A loopback server we control that spoils one answer of a real sandbox, and the client scenarios it spoils.

:class:`Mangler` is a WSGI app in front of a system's sandbox, served by werkzeug on 127.0.0.1. It
passes every request through, except the n-th one since :meth:`Mangler.arm`, whose answer it replaces
by a :class:`Mutation` of the real one: an HTML page, the body cut short, a JSON node of the wrong type
or missing, an empty body, ``null``, a huge body, another status code, or a transport-level breakage
(body shorter than its Content-Length, a redirect loop, a redirect to a bad URL, garbled gzip, a
malformed Retry-After, JSON nested 100,000 deep). So the fuzz reaches every request a client makes,
deep into paging and writes, not just the first.

:class:`Rig` is one system behind a Mangler with a saved connector and connection (built through
``Config`` like the app does); :func:`run_scenario` drives Test Connection steps, the gate, Create
Defect or the sync adapter against it, letting only ``UserFacingError`` out.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keyring.backends.fail
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.test import run_wsgi_app
from werkzeug.wrappers import Response

from almdesk import sandbox
from almdesk.base.records import DefectRequest, GateRequest, ItemDraft, RemoteItem
from almdesk.base.settings import ConnectionSettings
from almdesk.config import Config
from almdesk.errors import UserFacingError
from almdesk.jobs.context import JobContext
from almdesk.models import Store
from almdesk.net.session import HttpFactory
from almdesk.sandbox.base import SandboxApp
from almdesk.secrets import SecretStore
from almdesk.systems.registry import Registry

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

# Mutations every client must survive with a UserFacingError (or by going on correctly).
CONTENT_KINDS = ("html", "html-error", "truncate", "wrong-type", "drop-key", "empty", "null", "garbage",
                 "huge-string", "huge-html", "huge-list", "status", "no-content-type", "text-plain")
# (also "deep-json-error": a 400 with JSON nested 100,000 deep — Octane reads error bodies with the shared
# json_body, so it is exercised by targeted regressions, not at random)
# Transport-level breakage that almdesk.net.session.send/json_body let escape (see docs/performance.md).
TRANSPORT_KINDS = ("cut", "redirect-loop", "redirect-bad-url", "redirect-ftp", "bad-gzip", "bad-retry-after",
                   "deep-json")
WRONG_VALUES: tuple[Any, ...] = (None, "", "x", 0, -1, 10**12, 1.5, True, [], {}, [1], {"a": 1}, "<html>",
                                 "2024-13-45T99:99:99Z")
STATUSES = (400, 401, 403, 404, 405, 409, 410, 413, 415, 422, 500, 501, 502, 504)
HUGE = 4_000_000  # bytes of a "huge" body


@dataclass(frozen=True)
class Mutation:
    """How to spoil one answer. ``pick`` selects a JSON node / cut point; ``value`` a wrong value; ``status``."""

    kind: str
    pick: int = 0
    value: Any = None
    status: int = 500
    body: str = "original"  # for "status": original | empty | html | json-message

    def apply(self, status: str, headers: list[tuple[str, str]], body: bytes, environ: dict[str, Any]) -> WsgiApp:
        ctype = next((v for k, v in headers if k.lower() == "content-type"), "application/json")
        k = self.kind
        if k == "html":
            return Response("<!DOCTYPE html><html><body><form action=/login>Sign in</form></body></html>",
                            200, content_type="text/html; charset=utf-8")
        if k == "html-error":
            return Response("<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>",
                            502, content_type="text/html")
        if k == "truncate":
            cut = self.pick % max(1, len(body))
            return Response(body[:cut], int(status.split()[0]), content_type=ctype)
        if k in ("wrong-type", "drop-key"):
            try:
                doc = json.loads(body)
            except ValueError:
                return Response(b"\x00\xff not json", 200, content_type="application/json")
            spoil(doc, self.pick, self.value, drop=k == "drop-key")
            return Response(json.dumps(doc), int(status.split()[0]), content_type=ctype)
        if k == "empty":
            return Response(b"", 200, content_type="application/json")
        if k == "null":
            return Response(b"null", 200, content_type="application/json")
        if k == "garbage":
            return Response(bytes((self.pick * 7919 + i * 31) % 256 for i in range(64)), 200,
                            content_type="application/json")
        if k == "huge-string":
            return Response(b'{"message": "' + b"x" * HUGE + b'", "data": []}', 200, content_type="application/json")
        if k == "huge-html":
            return Response(b"<html><body>" + b"<p>overloaded</p>" * (HUGE // 17) + b"</body></html>", 503,
                            content_type="text/html")
        if k == "huge-list":
            try:
                doc = json.loads(body)
            except ValueError:
                doc = None
            grown = grow_lists(doc, 20_000)
            return Response(json.dumps(grown), int(status.split()[0]), content_type=ctype)
        if k == "status":
            text: bytes | str = {"original": body, "empty": b"", "json-message": b'{"message": "no"}',
                                 "html": b"<html><body>Error</body></html>"}[self.body]
            return Response(text, self.status, content_type="text/html" if self.body == "html" else ctype)
        if k == "no-content-type":
            return _raw(status, [(h, v) for h, v in headers if h.lower() not in ("content-type", "content-length")],
                        body)
        if k == "text-plain":
            return Response(body, int(status.split()[0]), content_type="text/plain")
        if k == "cut":
            return _raw("200 OK", [("Content-Type", ctype), ("Content-Length", str(len(body) + 1000)),
                                   ("Connection", "close")], body[: max(0, len(body) // 2)])
        if k == "redirect-loop":
            return Response(b"", 302, headers={"Location": "/__loop"})
        if k == "redirect-bad-url":
            return Response(b"", 302, headers={"Location": "http://[::1/login"})
        if k == "redirect-ftp":
            return Response(b"", 301, headers={"Location": "ftp://example.com/login"})
        if k == "bad-gzip":
            return Response(b"this is not gzip", 200, headers={"Content-Encoding": "gzip"},
                            content_type="application/json")
        if k == "bad-retry-after":
            return Response(b'{"message": "slow down"}', 429, headers={"Retry-After": "soon"},
                            content_type="application/json")
        if k == "deep-json":
            return Response(b"[" * 100_000 + b"]" * 100_000, 200, content_type="application/json")
        if k == "deep-json-error":
            return Response(b"[" * 100_000 + b"]" * 100_000, 400, content_type="application/json")
        raise ValueError(k)


def _raw(status: str, headers: list[tuple[str, str]], body: bytes) -> WsgiApp:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        start_response(status, headers)
        return [body]

    return app


def nodes(doc: Any) -> list[tuple[Any, Any]]:
    """Every (container, key) of a JSON document, depth first."""
    out: list[tuple[Any, Any]] = []
    stack = [doc]
    while stack:
        cur = stack.pop()
        if isinstance(cur, dict):
            for key, val in cur.items():
                out.append((cur, key))
                stack.append(val)
        elif isinstance(cur, list):
            for i, val in enumerate(cur):
                out.append((cur, i))
                stack.append(val)
    return out


def spoil(doc: Any, pick: int, value: Any, *, drop: bool) -> None:
    found = nodes(doc)
    if not found:
        return
    container, key = found[pick % len(found)]
    if drop and isinstance(container, dict):
        del container[key]
    else:
        container[key] = value


def grow_lists(doc: Any, n: int) -> Any:
    """The document with its first non-empty list repeated to ``n`` elements (a huge page)."""
    for container, key in nodes(doc):
        val = container[key]
        if isinstance(val, list) and val:
            container[key] = (val * (n // len(val) + 1))[:n]
            return doc
    return [doc] * n if not isinstance(doc, list) else doc


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


class Mangler:
    """Pass-through in front of ``app`` that spoils the answer to the ``n``-th request after :meth:`arm`."""

    def __init__(self, app: SandboxApp) -> None:
        self.app = app
        self._lock = threading.Lock()
        self.seen = 0
        self.target = -1
        self.mutation: Mutation | None = None
        self.spoiled = ""  # "METHOD path" of the spoiled request, once it happened
        self.match: tuple[str, str] | None = None  # (method, path fragment): spoil the first such request instead
        self._server: BaseWSGIServer = make_server("127.0.0.1", 0, self, threaded=True, request_handler=_Quiet)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        app.base_url = self.url
        self._thread = threading.Thread(target=self._server.serve_forever, name="mangler", daemon=True)
        self._thread.start()

    def arm(self, n: int, mutation: Mutation | None, match: tuple[str, str] | None = None) -> None:
        with self._lock:
            self.seen, self.target, self.mutation, self.spoiled, self.match = 0, n, mutation, "", match

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/__loop":
            return Response(b"", 302, headers={"Location": "/__loop"})(environ, start_response)
        with self._lock:
            index = self.seen
            self.seen += 1
            if self.match is not None:
                method, fragment = self.match
                hit = not self.spoiled and environ.get("REQUEST_METHOD") == method and fragment in str(
                    environ.get("PATH_INFO"))
            else:
                hit = index == self.target
            mutation = self.mutation if hit else None
            if mutation is not None:
                self.spoiled = f"{environ.get('REQUEST_METHOD')} {environ.get('PATH_INFO')}"
        if mutation is None:
            return self.app(environ, start_response)
        app_iter, status, headers = run_wsgi_app(self.app, environ, buffered=True)
        body = b"".join(app_iter)
        return mutation.apply(status, list(headers.items()), body, environ)(environ, start_response)

    def stop(self) -> None:
        threading.Thread(target=self._shutdown, daemon=True).start()

    def _shutdown(self) -> None:
        self._server.shutdown()
        self._server.server_close()


# --- one system behind a Mangler ---------------------------------------------------------------------

SANDBOX_OPTIONS: dict[str, dict[str, Any]] = {"jira": {"rate_limit": None}, "github": {"primary_limit": 10**9}}
CONNECTOR_OVERRIDES: dict[str, dict[str, Any]] = {"github": {"github_write_pace_ms": 0}}
GATE_RELEASE = {"octane": "Release 24.1", "jira": "1.0", "github": "v1.0", "rally": "2024 Q2"}
DEFECT_RELEASE = {"octane": "Release 24.1", "jira": "1.0", "github": "", "rally": "2024 Q2"}
SCENARIOS = ("steps", "gate", "defect", "sync")


@dataclass
class Rig:
    system: str
    app: SandboxApp
    mangler: Mangler
    config: Config
    registry: Registry
    info: dict[str, Any]
    alias: str = "fuzz"
    requests: dict[str, int] = field(default_factory=dict)  # requests an unspoiled run of each scenario makes

    @classmethod
    def start(cls, system: str, tmp: Path, registry: Registry) -> Rig:
        app = sandbox.create(system, seed=5, **SANDBOX_OPTIONS.get(system, {}))
        mangler = Mangler(app)
        info = app.describe(mangler.url)
        store = Store(tmp / "almdesk.db")
        vault = keyring.backends.fail.Keyring()  # type: ignore[no-untyped-call]  # keyring: unannotated
        config = Config(store, SecretStore(vault), registry)
        config.save_connector("fuzz", system, {**info["params"], **CONNECTOR_OVERRIDES.get(system, {})},
                              dict(info["secrets"]))
        config.add_project("Fuzz", "BU", "fuzz-app")
        config.save_connection("fuzz", "fuzz", "Fuzz", {**info["connection_params"], "sde_min_priority": 1})
        return cls(system, app, mangler, config, registry, info)

    def settings(self) -> ConnectionSettings:
        return self.config.connection_settings(self.alias)

    def secrets(self) -> list[str]:
        return [v for v in self.info["secrets"].values() if v]

    def stop(self) -> None:
        self.mangler.stop()
        self.config.store.close()


def run_scenario(rig: Rig, scenario: str) -> str:
    """Run one scenario; return what happened ("ok" or the UserFacingError's text). Other errors escape."""
    conn = rig.settings()
    system = rig.registry.get(rig.system)
    http = HttpFactory(conn.connector.network, retries=2, backoff=0.0)
    ctx = JobContext()
    try:
        if scenario == "steps":
            for step in system.test_steps(conn.connector, conn, http):
                step.run()
        elif scenario == "gate":
            result = system.gate(conn, GateRequest(release=GATE_RELEASE[rig.system], threshold=5), http, ctx)
            assert isinstance(result.count, int) and result.count >= 0, result.count
            if result.items is not None:
                result.items(0, 5)
        elif scenario == "defect":
            made = system.create_defect(conn, DefectRequest(name="Fuzzed defect", description="from the fuzzer",
                                                            release=DEFECT_RELEASE[rig.system]), http, ctx)
            assert made.key, made
        elif scenario == "sync":
            _sync(system.sync_adapter(conn, http, ctx))
        else:
            raise ValueError(scenario)
    except UserFacingError as exc:
        check_message(exc, rig.secrets())
        return f"error: {exc}"
    return "ok"


def _sync(adapter: Any) -> None:
    try:
        adapter.prepare()
        for item in adapter.iter_items():
            assert isinstance(item, RemoteItem), item
        drafts = [ItemDraft("T901", "T901: fuzzed task", "text", 8, ["fuzz"], False),
                  ItemDraft("T902", "T902: fuzzed done task", "text", 5, [], True)]
        results = adapter.create_items(drafts)
        assert len(results) == len(drafts), results
        for r in results:
            if isinstance(r, Exception):
                assert isinstance(r, UserFacingError), f"create_items returned {type(r).__name__}: {r}"
        made = [r for r in results if isinstance(r, RemoteItem)]
        if made:
            adapter.set_done(made[0], True)
    finally:
        adapter.close()


def check_message(exc: UserFacingError, secrets: list[str]) -> None:
    """A clear message: present, short, no traceback, no secret."""
    text = str(exc)
    assert exc.message.strip(), repr(exc)
    assert len(text) < 1200, f"{len(text)}-character message: {text[:200]}…"
    assert "Traceback" not in text, text
    for secret in secrets:
        assert secret not in text, "a secret is in the message"
