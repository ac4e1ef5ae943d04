"""The Rally system object: field schema, connector checks, and the entry points the app calls."""

from __future__ import annotations

from typing import Any

from almdesk.jobs.context import JobContext
from almdesk.net.session import HttpFactory
from almdesk.systems.answers import GuardedSystem
from almdesk.systems.base import (
    ConnectionSettings,
    ConnectorSettings,
    Field,
    SyncAdapter,
)
from almdesk.systems.rally import actions, steps
from almdesk.systems.rally.fields import (
    CONNECTION_FIELDS,
    CONNECTOR_FIELDS,
    check_connector,
    normalize_server,
)
from almdesk.systems.rally.sync import RallySyncAdapter


class RallySystem(GuardedSystem):
    """Rally (Broadcom Agile Central, formerly CA Agile Central) over WSAPI v2.0."""

    name = "rally"
    label = "Rally"
    item_noun = "work item"
    steps_module = steps
    actions_module = actions
    connector_fields: tuple[Field, ...] = CONNECTOR_FIELDS
    connection_fields: tuple[Field, ...] = CONNECTION_FIELDS

    def check_connector(self, params: dict[str, Any]) -> dict[str, Any]:
        return check_connector(params)

    def base_url(self, connector: ConnectorSettings) -> str:
        return normalize_server(str(connector.params.get("alm_server") or ""))

    def target_key(self, connection: ConnectionSettings) -> tuple[str, ...]:
        """The ALM target for sync identity: the server, the workspace and the project (names as Rally has them)."""
        p = connection.params
        return ("rally", self.base_url(connection.connector).lower(), str(p.get("rally_workspace") or "").strip(),
                str(p.get("alm_project") or "").strip())

    def sync_adapter(self, connection: ConnectionSettings, http: HttpFactory, ctx: JobContext) -> SyncAdapter:
        return RallySyncAdapter(connection, http, ctx)
