"""Rally Create Defect and Gate against the sandbox."""

from __future__ import annotations

from typing import Any

import pytest

from almdesk.base.records import DefectRequest, GateRequest
from almdesk.base.settings import ConnectionSettings, ConnectorSettings
from almdesk.errors import AuthError, ConfigError
from almdesk.jobs.context import JobContext
from almdesk.net.session import HttpFactory
from almdesk.sandbox.rally import RallyApp
from almdesk.systems.rally import SYSTEM
from almdesk.systems.rally.client import RallyApiError, RallyClient
from tests.rally.conftest import make_connection


def _defects(app: RallyApp, project: str) -> list[dict[str, Any]]:
    store = app.store
    proj = store.find("Project", Name=project)
    assert proj is not None
    scope = {proj["ObjectID"], *store.inverse[("Project", "Parent")].get(proj["ObjectID"], set())}
    return [d for d in store.by_type["Defect"].values() if d["Project"] in scope]


def _release_name(app: RallyApp, obj: dict[str, Any]) -> str | None:
    release = app.store.get(obj.get("Release"))
    return release["Name"] if release else None


def test_create_defect_returns_key_and_url(connection: ConnectionSettings, http: HttpFactory, ctx: JobContext,
                                          rally_app: RallyApp) -> None:
    request = DefectRequest(name="Checkout <b>totals</b> wrong", description="Steps:\n1. add & pay\n\nSeen in prod",
                            release="2024 Q2", severity="Major Problem", phase="Open")
    item = SYSTEM.create_defect(connection, request, http, ctx)
    assert item.key.startswith("DE") and item.title == "Checkout <b>totals</b> wrong"
    stored = rally_app.store.get(int(item.id))
    assert stored is not None and stored["FormattedID"] == item.key
    project = rally_app.store.get(stored["Project"])
    assert project is not None and project["Name"] == "Online Store"
    assert item.url == f"{connection.connector.params['alm_server']}/#/{project['ObjectID']}d/detail/defect/{item.id}"
    assert (stored["Severity"], stored["State"], _release_name(rally_app, stored)) == ("Major Problem", "Open",
                                                                                        "2024 Q2")
    assert stored["Description"] == "<p>Steps:<br />1. add &amp; pay</p><p>Seen in prod</p>"
    assert any(e.action == "create" and e.item == item.key for e in ctx.events)


@pytest.mark.parametrize(("request_fields", "field", "text"), [
    ({"severity": "Blocker"}, "severity", "Crash/Data Loss"),
    ({"phase": "Resolved"}, "phase", "Submitted, Open, Fixed, Closed"),
    ({"release": "2025 Q9"}, "release", "2024 Q1"),
    ({"name": "  "}, "name", "needs a name"),
])
def test_create_defect_rejects_unknown_names(connection: ConnectionSettings, http: HttpFactory, ctx: JobContext,
                                             request_fields: dict[str, str], field: str, text: str) -> None:
    request = DefectRequest(**{"name": "A defect", **request_fields})
    with pytest.raises(ConfigError) as exc:
        SYSTEM.create_defect(connection, request, http, ctx)
    assert exc.value.field == field and text in str(exc.value)


def test_errors_in_a_200_answer_fail_the_job(connector: ConnectorSettings, rally_desc: dict[str, Any],
                                             http: HttpFactory, ctx: JobContext) -> None:
    viewer_only = make_connection(connector, {**rally_desc["connection_params"], "alm_project": "Finance Reports"})
    with pytest.raises(AuthError) as exc:
        SYSTEM.create_defect(viewer_only, DefectRequest(name="Not allowed here"), http, ctx)
    assert "Not authorized" in exc.value.message and exc.value.hint
    client = RallyClient(connector, http)
    try:
        with pytest.raises(RallyApiError) as api_exc:
            client.create("Defect", {"Name": "x", "Severity": "Blocker"}, fetch="FormattedID")
    finally:
        client.close()
    assert "not an allowed value" in api_exc.value.message and api_exc.value.exit_code == 1


def test_gate_counts_with_one_query_and_pages_items(connection: ConnectionSettings, http: HttpFactory,
                                                   ctx: JobContext, rally_app: RallyApp) -> None:
    request = GateRequest(release="2024 Q2", phases=["Submitted", "Open"],
                          severities=["Crash/Data Loss", "Major Problem"], threshold=3, operator="LT")
    expected = [d for d in _defects(rally_app, "Online Store")
                if _release_name(rally_app, d) == "2024 Q2" and d["State"] in ("Submitted", "Open")
                and d["Severity"] in ("Crash/Data Loss", "Major Problem")]
    before = http.requests
    result = SYSTEM.gate(connection, request, http, ctx)
    assert result.count == len(expected) > 0
    assert result.operator == "<=" and result.passed == (len(expected) <= 3)
    assert result.requests == http.requests - before <= 14
    assert 'Release.Name = "2024 Q2"' in result.query
    assert result.items is not None
    first = result.items(0, 2)
    rest = result.items(2, 100)
    keys = [i.key for i in first + rest]
    assert sorted(keys) == sorted(d["FormattedID"] for d in expected)
    assert all(i.url.endswith(f"/detail/defect/{i.id}") and i.status in ("Submitted", "Open") for i in first)


def test_gate_operators_tags_and_workspace_wide(connector: ConnectorSettings, rally_desc: dict[str, Any],
                                               http: HttpFactory, ctx: JobContext, rally_app: RallyApp) -> None:
    project = make_connection(connector, rally_desc["connection_params"])
    all_count = len(_defects(rally_app, "Online Store"))
    assert SYSTEM.gate(project, GateRequest(threshold=all_count, operator="="), http, ctx).passed
    assert not SYSTEM.gate(project, GateRequest(threshold=all_count, operator="<"), http, ctx).passed
    tagged = SYSTEM.gate(project, GateRequest(labels=["no-such-tag"], threshold=0, operator="="), http, ctx)
    assert tagged.count == 0 and tagged.passed
    # connector + workspace (no project): the whole workspace, chosen by the request's workspace
    bare = ConnectionSettings(alias="", connector=connector, params={})
    whole = SYSTEM.gate(bare, GateRequest(workspace="Acme Delivery", threshold=0, operator=">"), http, ctx)
    visible = [d for d in rally_app.store.by_type["Defect"].values()
               if rally_app.store.get(d["Project"])["Workspace"] == rally_app.store.find("Workspace",
                                                                                       Name="Acme Delivery")["ObjectID"]]
    assert whole.count == len(visible) > all_count and "workspace Acme Delivery" in whole.query


def test_gate_rejects_unknown_names(connection: ConnectionSettings, http: HttpFactory, ctx: JobContext) -> None:
    with pytest.raises(ConfigError) as exc:
        SYSTEM.gate(connection, GateRequest(release="Nope", threshold=0), http, ctx)
    assert exc.value.field == "release" and "2024 Q2" in exc.value.hint
    with pytest.raises(ConfigError) as exc:
        SYSTEM.gate(connection, GateRequest(phases=["Done"], threshold=0), http, ctx)
    assert exc.value.field == "phase" and "Submitted" in exc.value.hint
    with pytest.raises(ConfigError) as exc:
        SYSTEM.gate(connection, GateRequest(operator="~", threshold=0), http, ctx)
    assert exc.value.field == "operator"


def test_connector_only_defect_goes_to_the_users_default_project(connector: ConnectorSettings, http: HttpFactory,
                                                                 ctx: JobContext, rally_app: RallyApp) -> None:
    workspace = rally_app.store.find("Workspace", Name="Acme Delivery")
    assert workspace is not None
    bare = ConnectionSettings(alias="", connector=connector, params={})
    item = SYSTEM.create_defect(bare, DefectRequest(name="From the connector", workspace=str(workspace["ObjectID"])),
                                http, ctx)
    stored = rally_app.store.get(int(item.id))
    assert stored is not None and rally_app.store.get(stored["Project"])["Name"] == "Online Store"  # type: ignore[index]
    with pytest.raises(ConfigError) as exc:
        SYSTEM.create_defect(bare, DefectRequest(name="x", workspace="Acme Research"), http, ctx)
    assert exc.value.field == "alm_project" and "default project" in exc.value.message
