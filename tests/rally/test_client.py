"""The Rally client's transport behaviour: retries under injected faults, basic-auth token renewal,
and what non-Rally answers turn into."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.wrappers import Request, Response

from almdesk.base.records import ItemDraft, RemoteItem
from almdesk.base.settings import ConnectorSettings
from almdesk.errors import RemoteError
from almdesk.jobs.context import JobContext
from almdesk.net.session import HttpFactory
from almdesk.sandbox.base import Faults, SandboxApp, SandboxServer, serve
from almdesk.sandbox.rally import RallyApp, create
from almdesk.systems.rally import SYSTEM
from almdesk.systems.rally.client import RallyClient
from almdesk.systems.rally.query import clause
from tests.rally.conftest import make_connection


def _connector(url: str, **params: Any) -> ConnectorSettings:
    secrets = params.pop("secrets", {})
    return ConnectorSettings("c", "rally", SYSTEM.check_connector({"alm_server": url, "auth_method": "api_key",
                                                                   **params}), secrets)


@pytest.fixture
def faulty() -> Iterator[tuple[SandboxServer, RallyApp]]:
    app = create(seed=5, items=30)
    server = serve(app, faults=Faults.parse("500:0.15,503:0.1,429:0.1,reset:0.05", seed=3, retry_after=0))
    yield server, app
    server.stop()


def test_reads_survive_injected_faults(faulty: tuple[SandboxServer, RallyApp]) -> None:
    server, app = faulty
    connector = _connector(server.url, secrets={"alm_api_key": app.info.admin.api_key})
    connection = make_connection(connector, {"rally_workspace": "Acme Delivery", "alm_project": "Online Store"})
    sync = SYSTEM.sync_adapter(connection, HttpFactory(retries=6, backoff=0.01), JobContext())
    sync.prepare()
    sync.page_size = 5  # many pages, many chances to hit a fault
    items = list(sync.iter_items())
    sync.close()
    proj = app.store.find("Project", Name="Online Store")
    assert proj is not None
    expected = {o["FormattedID"] for o in app.store.by_type["HierarchicalRequirement"].values()
                if o["Project"] == proj["ObjectID"]}
    assert {i.key for i in items} == expected
    assert sum(app.faults.counts.values()) > 0 if app.faults else False


def test_failed_batch_reports_each_draft_instead_of_raising() -> None:
    app = create(seed=6, items=6)
    server = serve(app)
    try:
        connector = _connector(server.url, secrets={"alm_api_key": app.info.admin.api_key})
        connection = make_connection(connector, {"rally_workspace": "Acme Delivery", "alm_project": "Online Store"})
        sync = SYSTEM.sync_adapter(connection, HttpFactory(retries=1, backoff=0.01), JobContext())
        sync.prepare()
        app.faults = Faults.parse("500:1.0")  # the batch POST fails and is not retried (not idempotent)
        results = sync.create_items([ItemDraft("T1", "T1: a", "", 8, [], False),
                                     ItemDraft("T2", "T2: b", "", 8, [], False)])
        app.faults = None
        sync.close()
    finally:
        server.stop()
    assert all(isinstance(r, RemoteError) and "HTTP 500" in str(r) for r in results)


def test_basic_auth_renews_the_security_token_once(rally_server: SandboxServer, rally_app: RallyApp) -> None:
    connector = _connector(rally_server.url, auth_method="basic", alm_user=rally_app.info.admin.username,
                           secrets={"alm_pass": "Sandbox-Rally-1"})
    client = RallyClient(connector, HttpFactory(retries=0))
    try:
        workspace = client.query("workspace", query=clause("Name", "=", "Acme Delivery"))[0][0]["_ref"]
        first = client.create("Tag", {"Name": "basic-1"}, fetch="Name", workspace=workspace)
        rally_app.expire_sessions()  # the session behind the token ends, as Rally sessions do
        second = client.create("Tag", {"Name": "basic-2"}, fetch="Name", workspace=workspace)
    finally:
        client.close()
    assert (first["Name"], second["Name"]) == ("basic-1", "basic-2")
    authorizations = [p for m, p, _ in rally_app.log if p.startswith("/slm/webservice/v2.0/security/authorize")]
    assert len(authorizations) >= 2


class _NotRally(SandboxApp):
    """A web server that is not Rally: HTML for everything, JSON garbage under /slm."""

    def dispatch(self, request: Request) -> Response:
        if request.path.startswith("/slm/webservice/v2.0/user"):
            return Response("<html><body>Please sign in</body></html>", content_type="text/html")
        return Response("{not json", content_type="application/json")

    def describe(self, base_url: str) -> dict[str, Any]:
        return {}


def test_non_rally_answers_are_explained() -> None:
    server = serve(_NotRally())
    try:
        client = RallyClient(_connector(server.url, secrets={"alm_api_key": "_k"}), HttpFactory(retries=0))
        with pytest.raises(RemoteError) as page:
            client.read("user")
        with pytest.raises(RemoteError) as garbage:
            client.read("subscription")
        client.close()
    finally:
        server.stop()
    assert "sign-in page (single sign-on or a proxy) instead of the API" in page.value.message
    assert "not valid JSON" in garbage.value.message


def test_created_items_keep_their_data_through_retried_reads(faulty: tuple[SandboxServer, RallyApp]) -> None:
    server, app = faulty
    app.faults = None
    connector = _connector(server.url, secrets={"alm_api_key": app.info.admin.api_key})
    connection = make_connection(connector, {"rally_workspace": "Acme Delivery", "alm_project": "Online Store",
                                             "alm_issue_label": "faulty"})
    sync = SYSTEM.sync_adapter(connection, HttpFactory(retries=6, backoff=0.01), JobContext())
    sync.prepare()
    made = sync.create_items([ItemDraft(f"T{n}", f"T{n}: item", "", 8, [], n % 2 == 0) for n in range(1, 8)])
    assert all(isinstance(m, RemoteItem) for m in made)
    app.faults = Faults.parse("500:0.3,503:0.2", seed=9, retry_after=0)
    listed = {i.key: i.done for i in sync.iter_items()}
    sync.close()
    assert listed == {m.key: m.done for m in made if isinstance(m, RemoteItem)}
