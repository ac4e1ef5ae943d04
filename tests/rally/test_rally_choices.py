"""Rally's server-backed choices over real HTTP against the sandbox: open workspaces, a workspace's projects,
the states of the card type; no workspace names the field."""

from __future__ import annotations

from typing import Any

import pytest

from almdesk.base.settings import ConnectorSettings
from almdesk.errors import ConfigError
from almdesk.net.session import HttpFactory
from almdesk.services.choices import list_choices
from almdesk.systems.rally import SYSTEM


def test_workspaces_projects_and_states(connector: ConnectorSettings, rally_desc: dict[str, Any],
                                        http: HttpFactory) -> None:
    params = dict(rally_desc["connection_params"])
    workspaces = [v for v, _ in list_choices(SYSTEM, "rally_workspace", connector, {}, http).choices]
    assert params["rally_workspace"] in workspaces
    projects = [v for v, _ in list_choices(SYSTEM, "alm_project", connector, params, http).choices]
    assert params["alm_project"] in projects
    story = [v for v, _ in list_choices(SYSTEM, "rally_done_statuses", connector, params, http).choices]
    task = [v for v, _ in list_choices(SYSTEM, "rally_new_status", connector,
                                       {**params, "rally_card_type": "Task"}, http).choices]
    assert {"Defined", "Completed", "Accepted"} <= set(story)
    assert "Accepted" not in task and {"Defined", "Completed"} <= set(task)


def test_needs_the_workspace_first(connector: ConnectorSettings, http: HttpFactory) -> None:
    with pytest.raises(ConfigError) as info:
        list_choices(SYSTEM, "alm_project", connector, {"rally_workspace": ""}, http)
    assert info.value.field == "rally_workspace"
