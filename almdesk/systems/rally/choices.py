"""What Rally can list for a form's pickers: the subscription's open workspaces, a workspace's open
projects, and the states of the connection's card type (ScheduleState, or State for tasks).

Contract (:class:`~almdesk.systems.base.ChoicesModule`): ``choices(field, connector, params, http)``
returns (value, label) pairs, read with the connector settings and the params as given. Projects and
states need ``rally_workspace``: without it, a ConfigError names that field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from almdesk.base.settings import ConnectorSettings
from almdesk.errors import ConfigError
from almdesk.net.session import HttpFactory
from almdesk.systems.rally.client import RallyClient
from almdesk.systems.rally.fields import CARD_TYPES
from almdesk.systems.rally.resolve import Resolver

STATUS_FIELDS = frozenset({"rally_new_status", "rally_done_statuses"})
LISTABLE = frozenset({"rally_workspace", "alm_project", *STATUS_FIELDS})


def choices(field: str, connector: ConnectorSettings, params: Mapping[str, Any],
            http: HttpFactory) -> list[tuple[str, str]]:
    client = RallyClient(connector, http)
    try:
        resolver = Resolver(client)
        if field == "rally_workspace":
            _, spaces = resolver.workspaces()
            return [(str(w.get("Name")), str(w.get("Name"))) for w in spaces if w.get("State") != "Closed"]
        name = str(params.get("rally_workspace") or "").strip()
        if not name:
            raise ConfigError("Enter the workspace first.", "The list depends on the workspace; pick it from "
                              "the server or type its name.", field="rally_workspace")
        workspace = resolver.find_workspace(name)
        if field == "alm_project":
            found, _ = client.query("project", workspace=workspace.ref, fetch="Name,State", pagesize=500,
                                    what="the workspace's projects")
            return [(str(p.get("Name")), str(p.get("Name"))) for p in found if p.get("State") != "Closed"]
        if field in STATUS_FIELDS:
            card = CARD_TYPES.get(str(params.get("rally_card_type") or "Story"), CARD_TYPES["Story"])
            return [(v, v) for v in resolver.allowed_values(workspace, card.element, card.status_field)]
        raise ConfigError(f"Rally cannot list {field!r}.", "Type the value instead.", field=field)
    finally:
        client.close()
