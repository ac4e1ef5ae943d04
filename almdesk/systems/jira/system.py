"""The Jira system: what the app, the CLI and the sync engine use (the ``System`` protocol)."""

from __future__ import annotations

from typing import Any

from almdesk.jobs.context import JobContext
from almdesk.net.session import HttpFactory
from almdesk.systems.answers import GuardedSystem
from almdesk.systems.base import (
    ConnectionSettings,
    ConnectorSettings,
    Field,
)
from almdesk.systems.jira import actions, steps
from almdesk.systems.jira.fields import (
    CONNECTION_FIELDS,
    CONNECTOR_FIELDS,
    JiraTarget,
    check_connector,
    normalize_url,
)
from almdesk.systems.jira.sync import JiraSyncAdapter


class JiraSystem(GuardedSystem):
    """Jira Cloud (REST v3, e-mail + API token) and Data Center (REST v2, personal access token)."""

    name = "jira"
    label = "Jira"
    connector_fields: tuple[Field, ...] = CONNECTOR_FIELDS
    connection_fields: tuple[Field, ...] = CONNECTION_FIELDS
    item_noun = "issue"
    steps_module = steps
    actions_module = actions

    def check_connector(self, params: dict[str, Any]) -> dict[str, Any]:
        return check_connector(params)

    def base_url(self, connector: ConnectorSettings) -> str:
        return normalize_url(str(connector.params.get("url") or ""))

    def target_key(self, connection: ConnectionSettings) -> tuple[str, ...]:
        """The ALM target for sync identity: the site and the project key."""
        return ("jira", self.base_url(connection.connector).lower(), JiraTarget.from_connection(connection).project.upper())

    def sync_adapter(self, connection: ConnectionSettings, http: HttpFactory, ctx: JobContext) -> JiraSyncAdapter:
        return JiraSyncAdapter(connection, http, ctx)
