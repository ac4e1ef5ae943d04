"""Octane's server-backed choices over real HTTP against the sandbox: workspaces, the phases of the
connection's item type (what the phase fields accept), releases for the gate; no workspace names the field."""

from __future__ import annotations

import pytest

from almdesk.errors import ConfigError
from almdesk.net.session import HttpFactory
from almdesk.sandbox.base import SandboxServer
from almdesk.services.choices import list_choices
from almdesk.systems.octane import SYSTEM
from almdesk.systems.octane.client import OctaneClient
from almdesk.systems.octane.fields import site
from almdesk.systems.octane.resolve import match, phases
from tests.octane.conftest import connector_for


def test_workspaces_phases_and_releases(shared_server: SandboxServer, http: HttpFactory) -> None:
    connector = connector_for(shared_server)
    workspace = site(connector).workspace
    listed = dict(list_choices(SYSTEM, "workspace", connector, {}, http).choices)
    assert workspace in listed and listed[workspace].endswith(f"(id {workspace})")

    defect = list_choices(SYSTEM, "close_phase", connector, {"item_type": "defect"}, http).choices
    story = list_choices(SYSTEM, "close_phase", connector, {"item_type": "story"}, http).choices
    assert "Closed" in dict(defect) and "phase.defect.closed" in dict(defect)["Closed"]
    assert dict(defect) != dict(story)
    info = site(connector)
    client = OctaneClient(info.server, info.shared_space, info.client_id, info.client_secret, http)
    try:  # each name offered is one the phase fields accept
        every = phases(client, workspace, "defect")
        assert [p["name"] for p in match([v for v, _ in defect], every, "phase", "close_phase")] == \
            [v for v, _ in defect]
        releases = client.all(workspace, "releases", fields=("name",), order_by="name")
    finally:
        client.close()
    listed_releases = [v for v, _ in list_choices(SYSTEM, "release", connector, {}, http).choices]
    assert listed_releases == list(dict.fromkeys(str(r["name"]) for r in releases)) and listed_releases


def test_a_bad_workspace_names_the_field(shared_server: SandboxServer, http: HttpFactory) -> None:
    connector = connector_for(shared_server)
    with pytest.raises(ConfigError) as info:
        list_choices(SYSTEM, "new_phase", connector, {"workspace": "abc"}, http)
    assert info.value.field == "workspace"
