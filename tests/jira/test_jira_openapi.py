"""The sandbox's Cloud answers, and almdesk's requests, checked against Atlassian's OpenAPI document.

Every exchange almdesk's Jira client has with a Cloud sandbox during Test Connection, Create Defect,
Gate and a sync is recorded and validated with ``openapi-core`` against
``shared/specs/jira-cloud-platform-v3.json``, plus the error bodies almdesk reads (ErrorCollection,
bulk create with every element failing).

Two known quirks of the document are allowed for: ``serverInfo`` is read at ``/rest/api/2`` (same
schema as v3; almdesk must ask before it knows the deployment), and a 204 from a transition has no
body although the document lists ``application/json`` for it (Jira sends none).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from almdesk.base.records import DefectRequest, GateRequest, ItemDraft
from almdesk.jobs.context import JobContext
from almdesk.net.session import AlmSession, HttpFactory
from almdesk.sandbox.base import SandboxServer
from almdesk.services.actions import run_steps
from almdesk.systems.jira import SYSTEM
from tests.jira.conftest import connection_for, connector_for, start

openapi_core = pytest.importorskip("openapi_core")
from jsonschema_path import SchemaPath  # noqa: E402
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse  # noqa: E402

SPEC = Path(__file__).resolve().parents[3] / "shared" / "specs" / "jira-cloud-platform-v3.json"
SPEC_SERVER = "https://your-domain.atlassian.net"


class AsIfCloud(RequestsOpenAPIRequest):
    """A recorded request, addressed as the document's server (and serverInfo as v3)."""

    @property
    def host_url(self) -> str:
        return SPEC_SERVER

    @property
    def path(self) -> str:
        return super().path.replace("/rest/api/2/serverInfo", "/rest/api/3/serverInfo")


def jira_dates(raw: dict[str, Any]) -> dict[str, Any]:
    """The document with serverInfo's dates as Jira sends them (``…+0000``, which the document's
    ``format: date-time`` refuses: RFC 3339 wants ``+00:00``, real Jira Cloud and DC do not)."""
    for name in ("buildDate", "serverTime"):
        raw["components"]["schemas"]["ServerInformation"]["properties"][name].pop("format", None)
    return raw


@pytest.fixture(scope="module")
def spec() -> Any:
    if not SPEC.exists():
        pytest.skip(f"{SPEC} is not available")
    return openapi_core.OpenAPI(SchemaPath.from_dict(jira_dates(json.loads(SPEC.read_text()))),
                                config=openapi_core.Config(spec_validator_cls=None))


class Recorder:
    """An HttpFactory whose sessions record every response (with its request)."""

    def __init__(self) -> None:
        self.responses: list[requests.Response] = []
        self.http = HttpFactory(retries=1, backoff=0.01)
        make = self.http.session

        def session(**kwargs: Any) -> AlmSession:
            s = make(**kwargs)
            s.hooks["response"].append(self._keep)
            return s

        self.http.session = session  # type: ignore[method-assign]

    def _keep(self, response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
        self.responses.append(response)
        return response


def problems(spec: Any, responses: list[requests.Response]) -> tuple[set[str], list[str]]:
    checked: set[str] = set()
    bad: list[str] = []
    for response in responses:
        request = AsIfCloud(response.request)
        name = f"{request.method.upper()} {request.path} -> {response.status_code}"
        checked.add(name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # OAuth2 security scheme: not checked by openapi-core
            try:
                spec.validate_request(request)
            except Exception as exc:
                bad.append(f"request {name}: {exc!r} {getattr(exc, '__cause__', '')}")
            if response.status_code == 204 and not response.content:
                continue
            try:
                spec.validate_response(request, RequestsOpenAPIResponse(response))
            except Exception as exc:
                bad.append(f"response {name}: {exc!r} {getattr(exc, '__cause__', '')}")
    return checked, bad


@pytest.fixture
def cloud_sandbox(stopper: Callable[[SandboxServer], None]) -> Iterator[SandboxServer]:
    server = start("cloud")
    yield server
    stopper(server)


def test_almdesk_exchanges_validate(spec: Any, cloud_sandbox: SandboxServer) -> None:
    rec = Recorder()
    http, ctx = rec.http, JobContext()
    connector = connector_for(cloud_sandbox)
    connection = connection_for(connector, cloud_sandbox)
    assert all(r.status == "ok" for r in run_steps(SYSTEM.test_steps(connector, connection, http), ctx))
    assert all(r.status == "ok" for r in run_steps(SYSTEM.test_steps(connector, None, http), ctx))
    SYSTEM.create_defect(connection, DefectRequest(name="Smoke failed", description="a\n\nb", release="1.0",
                                                   severity="High"), http, ctx)
    result = SYSTEM.gate(connection, GateRequest(threshold=3, severities=["High"], release="1.0"), http, ctx)
    assert result.items is not None
    result.items(0, 5)
    adapter = SYSTEM.sync_adapter(connection, http, ctx)
    adapter.prepare()
    items = list(adapter.iter_items())
    adapter.create_items([ItemDraft("T1", "T1: a", "b", 9, ["x y"], True), ItemDraft("T2", "", "", 5, [], False)])
    adapter.create_items([ItemDraft("T3", "", "", 5, [], False)])  # every element fails: 400 CreatedIssues
    adapter.set_done(items[0], not items[0].done)
    adapter.close()

    checked, bad = problems(spec, rec.responses)
    assert not bad, "\n".join(bad)
    paths = {c.split(" -> ")[0] for c in checked}
    for expected in ("GET /rest/api/3/serverInfo", "GET /rest/api/3/myself", "GET /rest/api/3/project/DEMO",
                     "GET /rest/api/3/project/search", "GET /rest/api/3/mypermissions",
                     "GET /rest/api/3/issue/createmeta/DEMO/issuetypes", "GET /rest/api/3/project/DEMO/statuses",
                     "GET /rest/api/3/project/DEMO/versions", "GET /rest/api/3/priority/search",
                     "GET /rest/api/3/search/jql", "POST /rest/api/3/search/approximate-count",
                     "POST /rest/api/3/issue", "POST /rest/api/3/issue/bulk"):
        assert expected in paths, sorted(paths)
    assert any(c.startswith("POST /rest/api/3/issue/bulk -> 400") for c in checked)
    assert any("/transitions" in c and c.startswith("POST") for c in checked)


def test_error_bodies_validate(spec: Any, cloud_sandbox: SandboxServer) -> None:
    info = cloud_sandbox.describe()
    s = requests.Session()
    s.auth = (info["params"]["user"], info["secrets"]["token"])
    responses = [
        s.post(f"{cloud_sandbox.url}/rest/api/3/issue", timeout=5,
               json={"fields": {"project": {"key": "DEMO"}, "issuetype": {"name": "Bug"}, "summary": ""}}),
        s.post(f"{cloud_sandbox.url}/rest/api/3/search/jql", json={"jql": "ORDER BY key"}, timeout=5),
        s.post(f"{cloud_sandbox.url}/rest/api/3/search/approximate-count", json={"jql": "project = NOPE"},
               timeout=5),
        s.get(f"{cloud_sandbox.url}/rest/api/3/label", timeout=5),
        s.get(f"{cloud_sandbox.url}/rest/api/3/field", timeout=5),
        s.get(f"{cloud_sandbox.url}/rest/api/3/issue/DEMO-1", params={"expand": "transitions"}, timeout=5),
    ]
    assert [r.status_code for r in responses] == [400, 400, 400, 200, 200, 200]
    _, bad = problems(spec, responses)
    assert not bad, "\n".join(bad)


def test_the_check_is_not_vacuous(spec: Any, cloud_sandbox: SandboxServer) -> None:
    info = cloud_sandbox.describe()
    s = requests.Session()
    s.auth = (info["params"]["user"], info["secrets"]["token"])
    good = s.post(f"{cloud_sandbox.url}/rest/api/3/search/approximate-count", json={"jql": "project = DEMO"},
                  timeout=5)
    assert not problems(spec, [good])[1]
    good._content = json.dumps({"count": "many", "extra": 1}).encode()
    good.request.body = json.dumps({"jql": 5}).encode()
    _, bad = problems(spec, [good])
    assert len(bad) == 2 and bad[0].startswith("request") and bad[1].startswith("response")
