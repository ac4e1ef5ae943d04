"""The ALM Octane system: what the app, the CLI and the sync engine use (the ``System`` protocol)."""

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
from almdesk.systems.octane import actions, steps
from almdesk.systems.octane.fields import CONNECTION_FIELDS, CONNECTOR_FIELDS, check_connector, site
from almdesk.systems.octane.location import parse_location
from almdesk.systems.octane.sync import OctaneSyncAdapter


class OctaneSystem:
    """ALM Octane: API-key sign-in, shared space / workspace, defects and stories."""

    name = "octane"
    label = "ALM Octane"
    connector_fields: tuple[Field, ...] = CONNECTOR_FIELDS
    connection_fields: tuple[Field, ...] = CONNECTION_FIELDS
    item_noun = "defect"

    def check_connector(self, params: dict[str, Any]) -> dict[str, Any]:
        return check_connector(params)

    def base_url(self, connector: ConnectorSettings) -> str:
        return site(connector).server

    def parse_location(self, text: str) -> tuple[str, str, str | None]:
        return parse_location(text)

    def test_steps(self, connector: ConnectorSettings, connection: ConnectionSettings | None,
                   http: HttpFactory) -> list[Step]:
        return guard_steps(self.label, steps.test_steps(connector, connection, http))

    def workspaces(self, connector: ConnectorSettings, http: HttpFactory) -> list[tuple[str, str]]:
        """(id, name) of the workspaces the API key can use, for the GUI to offer after sign-in."""
        with answers(self.label):
            return steps.workspaces(connector, http)

    def create_defect(self, connection: ConnectionSettings, request: DefectRequest, http: HttpFactory,
                      ctx: JobContext) -> CreatedItem:
        with answers(self.label):
            return actions.create_defect(connection, request, http, ctx)

    def gate(self, connection: ConnectionSettings, request: GateRequest, http: HttpFactory,
             ctx: JobContext) -> GateResult:
        with answers(self.label):
            return guard_gate(self.label, actions.gate(connection, request, http, ctx))

    def sync_adapter(self, connection: ConnectionSettings, http: HttpFactory, ctx: JobContext) -> OctaneSyncAdapter:
        return OctaneSyncAdapter(connection, http, ctx)
