"""Every exchange almdesk's Rally code has with the sandbox, checked against an OpenAPI description of
Rally WSAPI v2.0 (see :mod:`tests.rally.wsapi_spec`): our requests and the sandbox's answers."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from openapi_core import OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse

from almdesk.base.records import DefectRequest, GateRequest, ItemDraft, RemoteItem
from almdesk.base.settings import ConnectorSettings
from almdesk.jobs.context import JobContext
from almdesk.net.session import AlmSession, HttpFactory
from almdesk.sandbox.base import SandboxServer
from almdesk.sandbox.rally import RallyApp
from almdesk.systems.rally import SYSTEM
from tests.rally.conftest import make_connection
from tests.rally.wsapi_spec import build


class ValidatingFactory(HttpFactory):
    """An HttpFactory whose sessions check each exchange against the OpenAPI document."""

    def __init__(self, api: OpenAPI) -> None:
        super().__init__(retries=0)
        self.api = api
        self.problems: list[str] = []
        self.checked = 0

    def session(self, *, retries: int | None = None, origin: str = "") -> AlmSession:
        s = super().session(retries=retries, origin=origin)
        s.hooks["response"].append(self._check)
        return s

    def _check(self, response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
        request = RequestsOpenAPIRequest(response.request)
        where = f"{response.request.method} {response.request.url}"
        authenticated = "ZSESSIONID" in response.request.headers or "Authorization" in response.request.headers
        try:
            if authenticated:
                self.api.validate_request(request)
            self.api.validate_response(request, RequestsOpenAPIResponse(response))
        except Exception as exc:  # collect every problem, report them all at the end
            causes = getattr(exc, "__cause__", None)
            self.problems.append(f"{where}: {exc!r} {causes!r}"[:600])
        self.checked += 1
        return response


@pytest.fixture
def factory(rally_server: SandboxServer) -> ValidatingFactory:
    return ValidatingFactory(OpenAPI.from_dict(build(rally_server.url)))


def test_all_traffic_matches_the_openapi_description(factory: ValidatingFactory, connector: ConnectorSettings,
                                                     rally_desc: dict[str, Any], rally_app: RallyApp) -> None:
    ctx = JobContext()
    connection = make_connection(connector, {**rally_desc["connection_params"], "alm_issue_label": "openapi-run"})
    for step in SYSTEM.test_steps(connector, connection, factory):
        step.run()
    task_conn = make_connection(connector, {**rally_desc["connection_params"], "rally_card_type": "Task",
                                            "alm_parent_issue": rally_app.info.parent_story,
                                            "rally_done_statuses": "Completed"})
    for step in SYSTEM.test_steps(connector, task_conn, factory):
        step.run()
    SYSTEM.create_defect(connection, DefectRequest(name="OpenAPI defect", release="2024 Q3",
                                                   severity="Cosmetic", phase="Open"), factory, ctx)
    result = SYSTEM.gate(connection, GateRequest(release="2024 Q2", phases=["Open"], threshold=5), factory, ctx)
    assert result.items is not None
    result.items(0, 3)
    sync = SYSTEM.sync_adapter(connection, factory, ctx)
    sync.prepare()
    list(sync.iter_items())
    made = sync.create_items([ItemDraft("T1", "T1: one", "text", 8, [], False),
                              ItemDraft("T2", "T2: two", "text", 8, [], True)])
    assert all(isinstance(m, RemoteItem) for m in made)
    sync.set_done(made[0], True)  # type: ignore[arg-type]
    assert len(list(sync.iter_items())) == 2
    sync.close()
    assert factory.checked > 30
    assert factory.problems == []
