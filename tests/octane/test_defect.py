"""Create Defect: a draft under the backlog root, with release and origin, and a link that opens it."""

from __future__ import annotations

import pytest
import requests

from almdesk.base.records import DefectRequest
from almdesk.errors import ConfigError
from almdesk.jobs.context import JobContext
from almdesk.net.session import HttpFactory
from almdesk.sandbox.base import SandboxServer
from almdesk.systems.octane import SYSTEM
from tests.octane.conftest import app_of, connection_for, connector_for


def stored(server: SandboxServer, workspace: str, ident: str) -> dict[str, object]:
    return app_of(server).site.workspaces[workspace].of_type("work_item")[ident]


def test_created_defect_is_a_draft_under_the_root_with_release_and_origin(server: SandboxServer, http: HttpFactory,
                                                                         ctx: JobContext) -> None:
    connection = connection_for(connector_for(server), server)
    created = SYSTEM.create_defect(connection, DefectRequest(
        name="Login fails <b>twice</b>", description="Steps:\n1. open\n\n2. fail & retry", release="Release 24.2",
        severity="Critical"), http, ctx)
    entity = stored(server, "1002", created.id)
    assert entity["subtype"] == "defect"
    assert entity["is_draft"] is True
    assert entity["parent"] == {"type": "work_item_root", "id": "1001"}
    assert entity["release"] == {"type": "release", "id": "1002"}
    origin = app_of(server).site.workspaces["1002"].of_type("list_node")[entity["item_origin"]["id"]]  # type: ignore[index]
    assert origin["name"] == "almdesk"
    assert entity["severity"] == {"type": "list_node", "id": "list_node.severity.urgent"}
    assert entity["detected_by"] == {"type": "workspace_user", "id": "1002"}  # alice
    assert entity["name"] == "Login fails <b>twice</b>"
    assert entity["description"] == "<p>Steps:<br>1. open</p><p>2. fail &amp; retry</p>"
    assert created.key == created.id and created.title == entity["name"]
    assert created.url == f"{server.url}/ui/entity-navigation?p=1001/1002&entityType=work_item&id={created.id}"
    hop = requests.get(created.url, allow_redirects=False)
    assert hop.status_code == 302
    assert hop.headers["Location"] == (f"{server.url}/ui/?p=1001/1002#/entity-navigation?entityType=work_item"
                                       f"&id={created.id}")
    assert requests.get(created.url).status_code == 200
    assert any(created.url in text for _, text in ctx.lines)
    assert app_of(server).sign_outs == 1


def test_origin_left_empty_where_no_node_fits_and_workspace_override(server: SandboxServer, http: HttpFactory,
                                                                    ctx: JobContext) -> None:
    connection = connection_for(connector_for(server), server)
    created = SYSTEM.create_defect(connection, DefectRequest(name="Mobile crash", release="Release 24.1",
                                                             workspace="1004"), http, ctx)
    entity = stored(server, "1004", created.id)
    assert entity["item_origin"] is None and entity["is_draft"] is True
    assert any("no item origin" in text for _, text in ctx.lines)
    payments = SYSTEM.create_defect(connection, DefectRequest(name="Refund", release="Release 24.1",
                                                              workspace="1003"), http, ctx)
    node = stored(server, "1003", payments.id)["item_origin"]
    assert app_of(server).site.workspaces["1003"].of_type("list_node")[node["id"]]["name"] == "XL Release"  # type: ignore[index]


@pytest.mark.parametrize(("request_", "field"), [
    (DefectRequest(name="x", release="No such release"), "release"),
    (DefectRequest(name="  ", release="Release 24.1"), "name"),
    (DefectRequest(name="x", release="Release 24.1", severity="Blocker"), "severity"),
    (DefectRequest(name="x", release="Release 24.1", workspace="abc"), "workspace"),
])
def test_bad_requests_create_nothing(server: SandboxServer, http: HttpFactory, ctx: JobContext,
                                     request_: DefectRequest, field: str) -> None:
    before = len(app_of(server).site.workspaces["1002"].of_type("work_item"))
    connection = connection_for(connector_for(server), server)
    with pytest.raises(ConfigError) as info:
        SYSTEM.create_defect(connection, request_, http, ctx)
    assert info.value.field == field
    assert len(app_of(server).site.workspaces["1002"].of_type("work_item")) == before
