"""Credentials never cross origins: hostile loopback servers redirect each system's requests to
another port; the server there receives nothing from an API client (the redirect is refused and
named), and from a session without an origin no secret, credential header or cookie.

Every system and every auth method runs its real Test Connection through a *front* that forwards to
the system's sandbox (so sign-ins succeed and session cookies are set) and, from a chosen request
on, answers with a redirect (302, or 307 which keeps the method and the body) to a *catcher* on
another port that records everything it receives.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from almdesk import sandbox
from almdesk.base.records import StepResult
from almdesk.base.settings import ConnectorSettings
from almdesk.jobs.context import JobContext
from almdesk.net.session import CrossOriginError, HttpFactory, origin_of, same_origin
from almdesk.sandbox.base import serve
from almdesk.services.actions import run_steps, settings_step
from almdesk.systems.registry import Registry

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-encoding", "content-length", "server", "date"}


@dataclass
class Seen:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes


class Server:
    """A plain werkzeug server on a free loopback port for one WSGI app (not a sandbox)."""

    def __init__(self, app: Any) -> None:
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class Catcher:
    """Another origin: records every request and answers an empty JSON object."""

    def __init__(self) -> None:
        self.seen: list[Seen] = []

    @Request.application  # type: ignore[misc]
    def __call__(self, request: Request) -> Response:
        self.seen.append(Seen(request.method, request.url, dict(request.headers), request.get_data()))
        return Response("{}", content_type="application/json")


@dataclass
class Front:
    """Forwards the first ``forward`` requests to ``target``, then redirects each one to ``away``."""

    target: str = ""
    away: str = ""
    forward: int = 0
    status: int = 302
    count: int = 0
    redirected: list[str] = field(default_factory=list)

    @Request.application  # type: ignore[misc]
    def __call__(self, request: Request) -> Response:
        self.count += 1
        path = request.full_path if request.query_string else request.path
        if self.count > self.forward:
            self.redirected.append(f"{request.method} {path}")
            return Response("", status=self.status, headers={"Location": self.away + path})
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")}
        r = requests.request(request.method, self.target + path, headers=headers, data=request.get_data(),
                             allow_redirects=False, timeout=10)
        out = Response(r.content, status=r.status_code)
        for k, v in r.raw.headers.items():
            if k.lower() not in HOP_BY_HOP:
                out.headers.add(k, v)
        return out

    def describe(self, base_url: str) -> dict[str, Any]:
        return {}


@dataclass(frozen=True)
class Auth:
    system: str
    label: str
    options: dict[str, Any] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    reach: int = 3  # how many requests its Test Connection sends before it passes or fails


AUTHS = [
    Auth("octane", "api key sign-in"),
    Auth("jira", "cloud api token"),
    Auth("jira", "dc personal access token", {"jira_mode": "dc"}),
    Auth("jira", "dc basic password", {"jira_mode": "dc"}, {"auth_method": "basic"}, {"token": "a-password-4u"},
         reach=2),  # the made-up password fails at the second request
    Auth("github", "token"),
    Auth("rally", "api key"),
    Auth("rally", "basic password", {}, {"auth_method": "basic"}, {"alm_pass": "Sandbox-Rally-1"}),
    Auth("sdelements", "api token"),
]


@pytest.fixture
def catcher() -> Iterator[tuple[Catcher, Server]]:
    app = Catcher()
    server = Server(app)
    yield app, server
    server.stop()


def _connector(auth: Auth, front_url: str, real_url: str) -> ConnectorSettings:
    desc = sandbox.create(auth.system, seed=3, **auth.options).describe(real_url)
    params = {k: (v.replace(real_url, front_url) if isinstance(v, str) else v) for k, v in desc["params"].items()}
    params.update(auth.params)
    secrets = {**desc["secrets"], **auth.secrets}
    return ConnectorSettings(f"{auth.system}-scoped", auth.system, params, secrets)


def _run(registry: Registry, connector: ConnectorSettings) -> list[StepResult]:
    system = registry.get(connector.system)
    connector.params = system.check_connector(dict(connector.params))
    http = HttpFactory(retries=0)
    steps = [settings_step(system, connector), *system.test_steps(connector, None, http)]
    return run_steps(steps, JobContext())


def _leaks(seen: list[Seen], secrets: dict[str, str]) -> list[str]:
    """Every secret value, credential header or cookie the catcher received."""
    found = []
    for s in seen:
        for name in s.headers:
            if name.lower() in ("authorization", "cookie", "zsessionid"):
                found.append(f"{s.method} {s.url}: header {name}")
        blob = " ".join([s.url, *s.headers.values(), s.body.decode("utf-8", "replace")])
        found.extend(f"{s.method} {s.url}: secret {k}" for k, v in secrets.items() if v and v in blob)
    return found


CASES = [pytest.param(a, n, id=f"{a.system}-{a.label}-after-{n}") for a in AUTHS for n in range(a.reach)]


@pytest.mark.parametrize("status", [302, 307])
@pytest.mark.parametrize(("auth", "forward"), CASES)
def test_a_redirect_to_another_origin_carries_no_credential(
        auth: Auth, forward: int, status: int, catcher: tuple[Catcher, Server]) -> None:
    catch, catch_server = catcher
    real = serve(sandbox.create(auth.system, seed=3, **auth.options))
    front_app = Front(target=real.url, away=catch_server.url, forward=forward, status=status)
    front = Server(front_app)
    try:
        connector = _connector(auth, front.url, real.url)
        results = _run(Registry.default(), connector)
    finally:
        front.stop()
        real.stop()
    assert front_app.redirected, "the front never redirected: the test did not test anything"
    assert catch.seen == [], _leaks(catch.seen, connector.secrets)
    failed = [r for r in results if r.status == "failed"]
    assert len(failed) == 1, [(r.key, r.status) for r in results]
    assert "another host" in failed[0].detail or "redirected" in failed[0].detail, failed[0].detail


def test_a_307_sign_in_is_refused_not_re_posted(catcher: tuple[Catcher, Server]) -> None:
    """Octane's sign-in carries the client secret in its body: a 307 to elsewhere is not followed."""
    catch, catch_server = catcher
    real = serve(sandbox.create("octane", seed=3))
    front = Server(Front(target=real.url, away=catch_server.url, forward=1, status=307))  # 1: the version
    try:
        results = _run(Registry.default(), _connector(Auth("octane", "sign-in"), front.url, real.url))
    finally:
        front.stop()
        real.stop()
    failed = next(r for r in results if r.status == "failed")
    assert "redirected" in failed.detail and "Client secret" in failed.detail
    assert catch.seen == []


def test_a_get_redirected_elsewhere_is_followed_without_credentials(catcher: tuple[Catcher, Server]) -> None:
    catch, catch_server = catcher
    front = Server(Front(away=catch_server.url, status=302))
    try:
        session = HttpFactory(retries=0).session()  # no origin: the diagnosis steps' kind of session
        session.set_credential("ZSESSIONID", "zz-secret-zz")
        session.cookies.set("JSESSIONID", "cookie-secret", domain="127.0.0.1")
        r = session.get(front.url + "/slm/webservice/v2.0/workspace", auth=("user", "pw-secret"))
    finally:
        front.stop()
    assert r.status_code == 200 and len(catch.seen) == 1
    assert not _leaks(catch.seen, {"k": "zz-secret-zz", "c": "cookie-secret"})
    assert session.cross_origin_redirects == [catch_server.url + "/slm/webservice/v2.0/workspace"]


class Hop(Catcher):
    """One origin that redirects ``/a`` to its own ``/b`` (``status``) and records what reaches ``/b``."""

    status = 302

    @Request.application  # type: ignore[misc]
    def __call__(self, request: Request) -> Response:
        if request.path == "/a":
            return Response("", status=self.status, headers={"Location": "/b"})
        self.seen.append(Seen(request.method, request.url, dict(request.headers), request.get_data()))
        return Response("{}", content_type="application/json")


@pytest.mark.parametrize("status", [302, 307])
@pytest.mark.parametrize("header", ["ZSESSIONID", "Cookie"])
def test_a_same_origin_redirect_keeps_the_credentials(header: str, status: int) -> None:
    """requests drops a Cookie header on every redirect: a pasted session cookie must survive one on the
    configured origin (and any other credential header too)."""
    app = Hop()
    app.status = status
    server = Server(app)
    try:
        session = HttpFactory(retries=0).session(origin=server.url)
        session.set_credential(header, "JSESSIONID=zz-secret-zz")
        r = session.get(server.url + "/a")
    finally:
        server.stop()
    assert r.status_code == 200 and [seen.url for seen in app.seen] == [server.url + "/b"]
    assert app.seen[0].headers.get(header.capitalize() if header == "Cookie" else "Zsessionid") == \
        "JSESSIONID=zz-secret-zz"
    assert session.cross_origin_redirects == []


def test_a_request_to_another_origin_is_refused(catcher: tuple[Catcher, Server]) -> None:
    """A server answer that names another host (a Rally ``_ref``) is not followed with the credentials."""
    catch, catch_server = catcher
    session = HttpFactory(retries=0).session(origin="https://rally1.rallydev.com")
    session.set_credential("ZSESSIONID", "zz-secret-zz")
    with pytest.raises(CrossOriginError) as exc:
        session.get(catch_server.url + "/slm/webservice/v2.0/defect/1")
    assert "another host" in exc.value.message and catch.seen == []


@pytest.mark.parametrize(("configured", "url", "same"), [
    ("https://a.example", "https://a.example:443/x", True),
    ("https://a.example", "https://A.EXAMPLE/x", True),
    ("http://a.example", "https://a.example/x", True),  # the https upgrade on default ports
    ("https://a.example", "http://a.example/x", False),  # a downgrade is another origin
    ("https://a.example", "https://a.example:8443/x", False),
    ("https://a.example", "https://b.example/x", False),
    ("http://127.0.0.1:8080", "http://127.0.0.1:8081/x", False),
    ("http://a.example:8080", "https://a.example/x", False),
])
def test_origins(configured: str, url: str, same: bool) -> None:
    assert same_origin(origin_of(configured), url) is same


def test_the_connection_test_reports_nothing_extra_for_unused_connection() -> None:
    """A guard against a vacuous suite: the catcher setup itself receives what is sent to it."""
    app = Catcher()
    server = Server(app)
    try:
        requests.get(server.url + "/ping", headers={"Authorization": "x"}, timeout=5)
    finally:
        server.stop()
    assert _leaks(app.seen, {}) == [f"GET {server.url}/ping: header Authorization"]


