"""The Jira system: what the app, the CLI and the sync engine use (the ``System`` protocol)."""

from __future__ import annotations

from typing import Any

from almdesk.jobs.context import JobContext
from almdesk.net.session import HttpFactory
from almdesk.systems.answers import answers, guard_gate, guard_steps
from almdesk.systems.base import (
    ConnectionSettings,
    ConnectorSettings,
    CreatedItem,
    DefectRequest,
    Field,
    GateRequest,
    GateResult,
    Step,
)
from almdesk.systems.jira import actions, steps
from almdesk.systems.jira.fields import CONNECTION_FIELDS, CONNECTOR_FIELDS, check_connector, normalize_url
from almdesk.systems.jira.sync import JiraSyncAdapter


class JiraSystem:
    """Jira Cloud (REST v3, e-mail + API token) and Data Center (REST v2, personal access token)."""

    name = "jira"
    label = "Jira"
    connector_fields: tuple[Field, ...] = CONNECTOR_FIELDS
    connection_fields: tuple[Field, ...] = CONNECTION_FIELDS
    item_noun = "issue"

    def check_connector(self, params: dict[str, Any]) -> dict[str, Any]:
        return check_connector(params)

    def base_url(self, connector: ConnectorSettings) -> str:
        return normalize_url(str(connector.params.get("url") or ""))

    def test_steps(self, connector: ConnectorSettings, connection: ConnectionSettings | None,
                   http: HttpFactory) -> list[Step]:
        return guard_steps(self.label, steps.test_steps(connector, connection, http))

    def create_defect(self, connection: ConnectionSettings, request: DefectRequest, http: HttpFactory,
                      ctx: JobContext) -> CreatedItem:
        with answers(self.label):
            return actions.create_defect(connection, request, http, ctx)

    def gate(self, connection: ConnectionSettings, request: GateRequest, http: HttpFactory,
             ctx: JobContext) -> GateResult:
        with answers(self.label):
            return guard_gate(self.label, actions.gate(connection, request, http, ctx))

    def sync_adapter(self, connection: ConnectionSettings, http: HttpFactory, ctx: JobContext) -> JiraSyncAdapter:
        return JiraSyncAdapter(connection, http, ctx)
