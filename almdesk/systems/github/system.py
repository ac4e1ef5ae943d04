"""The GitHub system object: the field schema plus the operations the app, the CLI and sync call."""

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
from almdesk.systems.github import actions, fields, steps
from almdesk.systems.github.client import api_url
from almdesk.systems.github.sync import GitHubSyncAdapter


class GitHubSystem(GuardedSystem):
    """GitHub.com and GitHub Enterprise Server issues."""

    name = "github"
    label = "GitHub"
    item_noun = "issue"
    steps_module = steps
    actions_module = actions
    connector_fields: tuple[Field, ...] = fields.CONNECTOR_FIELDS
    connection_fields: tuple[Field, ...] = fields.CONNECTION_FIELDS

    def check_connector(self, params: dict[str, Any]) -> dict[str, Any]:
        return fields.check_connector(params)

    def check_connection(self, params: dict[str, Any], connector: ConnectorSettings | None = None) -> dict[str, Any]:
        """Syntax checks of the connection's GitHub fields (``owner/name`` in Repository is split)."""
        default_owner = str(connector.params.get("github_repo_owner") or "") if connector else ""
        return fields.check_connection(params, default_owner)

    def base_url(self, connector: ConnectorSettings) -> str:
        return api_url(connector)

    def target_key(self, connection: ConnectionSettings) -> tuple[str, ...]:
        """The ALM target for sync identity: the API and the repository (GitHub ignores case in both names)."""
        target = fields.target_of(connection)
        return ("github", self.base_url(connection.connector).lower(), target.owner.lower(), target.repo.lower())

    def sync_adapter(self, connection: ConnectionSettings, http: HttpFactory, ctx: JobContext) -> SyncAdapter:
        return GitHubSyncAdapter(connection, http, ctx)
