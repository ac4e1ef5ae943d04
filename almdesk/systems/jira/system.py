"""The Jira system: what the app, the CLI and the sync engine use (the ``System`` protocol)."""

from __future__ import annotations

from typing import Any

from almdesk.base.fields import Field
from almdesk.base.settings import ConnectionSettings, ConnectorSettings
from almdesk.jobs.context import JobContext
from almdesk.net.session import HttpFactory
from almdesk.systems.base import ALM_TARGET, Capability, Declared, SystemMap, TargetInput
from almdesk.systems.jira import actions, choices, steps
from almdesk.systems.jira.fields import (
    CONNECTION_FIELDS,
    CONNECTOR_FIELDS,
    JiraTarget,
    check_connector,
    normalize_url,
)
from almdesk.systems.jira.sync import JiraSyncAdapter


class JiraSystem(Declared):
    """Jira Cloud (REST v3, e-mail + API token) and Data Center (REST v2, personal access token)."""

    name = "jira"
    label = "Jira"
    connector_fields: tuple[Field, ...] = CONNECTOR_FIELDS
    connection_fields: tuple[Field, ...] = CONNECTION_FIELDS
    item_noun = "issue"
    target = TargetInput("Project key", "e.g. SHOP", ("alm_project",))
    client_packages = ("jira",)
    sde_map = SystemMap(
        sde_ids=("jira", "jira_cloud", "jira_server", "jira_dc"),
        renames={"alm_user": ("alm_user", "email", "user", "username")},
        secrets={"alm_pass": ("alm_pass", "api_token", "password", "token"),
                 "alm_api_token": ("alm_api_token", "pat", "personal_access_token", "api_token", "token")},
        auth_choices={"alm_pass": ("api_token",), "alm_api_token": ("pat", "bearer")},
        cloud_hosts=(".atlassian.net", ".jira.com", ".jira-dev.com"), auth_on_premises={"alm_pass": "basic"},
        retired={"jira_version": "almdesk reads the Jira version from the server"})
    steps_module = steps
    actions_module = actions
    capabilities = ALM_TARGET | {Capability.CHOICES}
    choices_module = choices

    def check_connector(self, params: dict[str, Any]) -> dict[str, Any]:
        return check_connector(params)

    def base_url(self, connector: ConnectorSettings) -> str:
        return normalize_url(str(connector.params.get("url") or ""))

    def target_key(self, connection: ConnectionSettings) -> tuple[str, ...]:
        """The ALM target for sync identity: the site and the project key."""
        return ("jira", self.base_url(connection.connector).lower(), JiraTarget.from_connection(connection).project.upper())

    def sync_adapter(self, connection: ConnectionSettings, http: HttpFactory, ctx: JobContext) -> JiraSyncAdapter:
        return JiraSyncAdapter(connection, http, ctx)
