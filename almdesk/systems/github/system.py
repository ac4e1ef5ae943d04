"""The GitHub system object: the field schema plus the operations the app, the CLI and sync call."""

from __future__ import annotations

from typing import Any

from almdesk.base.fields import Field
from almdesk.base.settings import ConnectionSettings, ConnectorSettings
from almdesk.jobs.context import JobContext
from almdesk.net.session import HttpFactory
from almdesk.systems.base import (
    ALM_TARGET,
    SDE_TOKEN_NAMES,
    Capability,
    Declared,
    SyncAdapter,
    SystemMap,
    TargetInput,
)
from almdesk.systems.github import actions, choices, fields, steps
from almdesk.systems.github.client import api_url
from almdesk.systems.github.sync import GitHubSyncAdapter


class GitHubSystem(Declared):
    """GitHub.com and GitHub Enterprise Server issues."""

    name = "github"
    label = "GitHub"
    item_noun = "issue"
    target = TargetInput("Repository", "repo or owner/repo", ("alm_project", "github_repo_owner"))
    client_packages = ("PyGithub",)
    sde_map = SystemMap(
        sde_ids=("github", "github_enterprise"),
        url_fields=("url", "api_url", "alm_server", "server_url"),
        renames={"alm_user": ("alm_user", "user")},
        secrets={"alm_api_token": SDE_TOKEN_NAMES, "alm_pass": SDE_TOKEN_NAMES},
        default_host="api.github.com", enterprise_suffix="/api/v3")
    steps_module = steps
    capabilities = ALM_TARGET | {Capability.CHOICES}
    choices_module = choices
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
