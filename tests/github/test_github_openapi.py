"""The sandbox's answers and almdesk's requests checked against GitHub's official OpenAPI document.

The document (``../shared/specs/github-api.github.com-2022.json``, OpenAPI 3.0.3) is loaded with
openapi-core, without validating the document itself (that alone takes seconds). Every request the
sandbox received is checked with its answer: first a battery of direct calls covering each endpoint
and documented error almdesk relies on, then everything almdesk's own client sent during Test
Connection, Create Defect, the gate and a sync.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
import requests
from openapi_core import Config, OpenAPI
from openapi_core.testing import MockRequest, MockResponse

from almdesk.base.records import DefectRequest, GateRequest, ItemDraft
from almdesk.base.settings import ConnectionSettings, ConnectorSettings
from almdesk.jobs.context import JobContext
from almdesk.net.session import HttpFactory
from almdesk.sandbox.base import serve
from almdesk.sandbox.github import GitHubSandbox, Received, create
from almdesk.systems.github import SYSTEM

SPEC = Path(__file__).resolve().parents[3] / "shared" / "specs" / "github-api.github.com-2022.json"
SERVER = "https://api.github.com"
REPO = "/repos/almdesk-demo/webapp"


class Document:
    """The OpenAPI document: openapi-core's view (``api``) and the plain JSON (``paths``)."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.api = OpenAPI.from_dict(raw, config=Config(spec_validator_cls=None))
        self.paths: dict[str, Any] = raw["paths"]
        # literal templates first, so /user/repos wins over /users/{username}-like patterns
        self.patterns = sorted(((re.compile("^" + "/".join("[^/]+" if p.startswith("{") else re.escape(p)
                                                           for p in t.split("/")) + "$"), t) for t in self.paths),
                               key=lambda pair: pair[1].count("{"))

    def documented(self, path: str, method: str, status: int) -> bool:
        for pattern, template in self.patterns:
            item = self.paths[template]
            if pattern.match(path) and method.lower() in item:
                return str(status) in item[method.lower()]["responses"]
        return False


@pytest.fixture(scope="module")
def openapi() -> Document:
    if not SPEC.exists():
        pytest.skip(f"GitHub's OpenAPI document is not at {SPEC}")
    return Document(json.loads(SPEC.read_text(encoding="utf-8")))


def mock_request(r: Received) -> MockRequest:
    args: dict[str, Any] = dict(parse_qsl(r.query, keep_blank_values=True))
    headers = {k: v for k, v in r.headers.items() if k.lower() != "authorization"}
    return MockRequest(SERVER, r.method, r.path, args=args, headers=headers, data=r.body or None,
                       content_type=(r.headers.get("Content-Type") or "application/json").split(";")[0])


def mock_response(r: Received) -> MockResponse:
    headers = r.response_headers or {}
    return MockResponse(r.response_body or b"", r.status, headers,
                        content_type=headers.get("Content-Type", "application/json").split(";")[0])


def check(openapi: Document, received: list[Received], *, requests_too: bool) -> tuple[int, list[str]]:
    """Validate each pair; return how many responses were checked and the problems found."""
    problems: list[str] = []
    checked = 0
    for r in received:
        where = f"{r.method} {r.path}?{r.query} -> {r.status}"
        if requests_too:
            try:
                openapi.api.validate_request(mock_request(r))
            except Exception as exc:
                problems.append(f"request {where}: {exc}")
        if not openapi.documented(r.path, r.method, r.status):
            problems.append(f"undocumented status {where}")
            continue
        try:
            openapi.api.validate_response(mock_request(r), mock_response(r))
            checked += 1
        except Exception as exc:
            problems.append(f"response {where}: {str(exc)[:500]}")
    return checked, problems


def test_sandbox_answers_validate(openapi: Document, gh_app: GitHubSandbox, gh_server: Any, gh_api: str,
                                  auth: dict[str, str]) -> None:
    gh_app.keep_responses = True
    readonly = {"Authorization": f"Bearer {gh_app.tokens['readonly']}"}
    for base in (gh_server.url, gh_api):
        get = [("/", {}), ("/meta", {}), ("/rate_limit", {}), ("/user", {}), ("/users/almdesk-demo", {}),
               ("/users/almdesk-bot", {}), ("/user/repos", {"per_page": 5}), (REPO, {}),
               ("/repos/almdesk-demo/public-site", {}), ("/repos/other-org/secret", {}),
               (f"{REPO}/issues", {"state": "all", "per_page": 100}),
               (f"{REPO}/issues", {"labels": "almdesk", "since": "2024-01-01T00:00:00Z", "sort": "updated"}),
               (f"{REPO}/issues", {"state": "bogus"}), (f"{REPO}/issues/1", {}), (f"{REPO}/issues/99999", {}),
               (f"{REPO}/labels", {"per_page": 100}), (f"{REPO}/labels/bug", {}), (f"{REPO}/labels/none-such", {}),
               (f"{REPO}/milestones", {"state": "all"}), (f"{REPO}/milestones/1", {}), (f"{REPO}/issues/1/labels", {})]
        for path, params in get:
            requests.get(base + path, headers=auth, params=params, timeout=10)
        requests.get(base + "/user", timeout=10)
        requests.get(base + "/user", headers={"Authorization": "token bad"}, timeout=10)
        made = requests.post(f"{base}{REPO}/issues", headers=auth, timeout=10,
                             json={"title": "OpenAPI", "body": "b", "labels": ["bug", {"name": "x"}], "milestone": 1})
        url = f"{base}{REPO}/issues/{made.json()['number']}"
        requests.patch(url, headers=auth, json={"state": "closed", "labels": ["bug"]}, timeout=10)
        requests.patch(url, headers=auth, json={"state": "done"}, timeout=10)
        requests.post(f"{url}/labels", headers=auth, json={"labels": ["enhancement"]}, timeout=10)
        requests.put(f"{url}/labels", headers=auth, json={"labels": ["bug"]}, timeout=10)
        requests.post(f"{base}{REPO}/issues", headers=auth, json={"body": "no title"}, timeout=10)
        requests.post(f"{base}{REPO}/issues", headers=readonly, json={"title": "x"}, timeout=10)
        requests.post(f"{base}/repos/almdesk-demo/legacy/issues", headers=auth, json={"title": "x"}, timeout=10)
        requests.post(f"{base}{REPO}/labels", headers=auth, json={"name": f"new-{len(base)}", "color": "abcdef"},
                      timeout=10)
        requests.post(f"{base}{REPO}/labels", headers=auth, json={"name": "bug"}, timeout=10)
        requests.post(f"{base}{REPO}/milestones", headers=auth, json={"title": f"v{len(base)}"}, timeout=10)
    received = list(gh_app.received)
    checked, problems = check(openapi, received, requests_too=False)
    assert not problems, "\n".join(problems)
    assert checked == len(received) == 68


def test_almdesk_requests_and_their_answers_validate(openapi: Document, gh_app: GitHubSandbox,
                                                     connector: ConnectorSettings, connection: ConnectionSettings,
                                                     http: HttpFactory, ctx: JobContext) -> None:
    gh_app.keep_responses = True
    conn = ConnectionSettings(connection.alias, connector, {**connection.params, "alm_project_version": "v1.0"})
    for step in SYSTEM.test_steps(connector, conn, http):
        step.run()
    SYSTEM.create_defect(conn, DefectRequest(name="A defect", description="d", release="v2.0",
                                             severity="severity:high"), http, ctx)
    SYSTEM.gate(conn, GateRequest(release="v1.0", labels=["bug"], severities=["severity:high"], threshold=3), http,
                ctx)
    adapter = SYSTEM.sync_adapter(conn, http, ctx)
    adapter.prepare()
    list(adapter.iter_items())
    made = adapter.create_items([ItemDraft("T1", "T1: one", "text", 8, [], False),
                                 ItemDraft("T2", "T2: two", "text", 3, [], True)])
    adapter.set_done(made[0], True)
    adapter.set_done(made[0], False)
    adapter.close()
    received = list(gh_app.received)
    assert {r.method for r in received} == {"GET", "POST", "PATCH"}
    checked, problems = check(openapi, received, requests_too=True)
    assert not problems, "\n".join(problems)
    assert checked == len(received)


def test_search_answers_validate(openapi: Document) -> None:
    """``/search/issues``: results (with milestones, labels, pull requests), refusals and the spent search budget."""
    app = create(seed=3, issues=60, search_limit=6)
    app.keep_responses = True
    with serve(app) as server:
        api = server.describe()["params"]["url"]
        headers = {"Authorization": f"token {app.tokens['admin']}"}
        for params in ({"q": 'repo:almdesk-demo/webapp is:issue is:open label:"bug","severity:high"', "per_page": 1},
                       {"q": "repo:almdesk-demo/webapp", "per_page": 100, "sort": "created", "order": "asc"},
                       {"q": 'repo:almdesk-demo/webapp milestone:"v1.0" is:pr'}, {"q": "repo:almdesk-demo/webapp x:y"},
                       {"q": "repo:other-org/secret"}, {"q": "repo:almdesk-demo/webapp"}, {"q": "is:issue"}):
            requests.get(f"{api}/search/issues", params=params, headers=headers, timeout=10)
    received = list(app.received)
    assert [r.status for r in received] == [200, 200, 200, 422, 422, 200, 403]
    checked, problems = check(openapi, received, requests_too=True)
    assert not problems, "\n".join(problems)
    assert checked == len(received)
