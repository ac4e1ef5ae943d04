"""The SD Elements system object: a task **source**, not an ALM target.

It declares Test Connection and the task source (``project_test_steps`` checks a bound project);
Create Defect, the gate and sync targets are refused with a message saying what SD Elements is for.
"""

from __future__ import annotations

from typing import Any

from almdesk.base.fields import Field
from almdesk.base.records import CreatedItem, DefectRequest, GateRequest, GateResult, Step
from almdesk.base.settings import ConnectionSettings, ConnectorSettings
from almdesk.errors import ConfigError
from almdesk.jobs.context import JobContext
from almdesk.net.session import HttpFactory
from almdesk.systems.base import Capability, Declared, SyncAdapter, TargetInput
from almdesk.systems.sdelements import fields, steps
from almdesk.systems.sdelements.fields import server_root

NOT_A_TARGET = ("SD Elements is the task source, not an ALM target.",
                "Bind a project to it (almdesk project add NAME --source CONNECTOR --sde-project ID) and sync "
                "that project through a connection to Octane, Jira, GitHub or Rally.")


class SdeSystem(Declared):
    """An SD Elements server (API v2): where projects' tasks come from and sync results go back to."""

    name = "sdelements"
    label = "SD Elements"
    item_noun = "task"
    capabilities = frozenset({Capability.TEST, Capability.TASK_SOURCE})
    target = TargetInput("Project", "SD Elements project id", ())
    connector_fields: tuple[Field, ...] = fields.CONNECTOR_FIELDS
    connection_fields: tuple[Field, ...] = ()

    def check_connector(self, params: dict[str, Any]) -> dict[str, Any]:
        return fields.check_connector(params)

    def check_connection(self, params: dict[str, Any], connector: ConnectorSettings | None = None) -> dict[str, Any]:
        raise ConfigError(*NOT_A_TARGET, field="connector")

    def base_url(self, connector: ConnectorSettings) -> str:
        return server_root(str(connector.params.get("url") or "")) + "/api/v2/"

    def test_steps(self, connector: ConnectorSettings, connection: ConnectionSettings | None,
                   http: HttpFactory) -> list[Step]:
        return steps.test_steps(connector, None, http)

    def project_test_steps(self, connector: ConnectorSettings, project: int, http: HttpFactory) -> list[Step]:
        """Test Connection for a project bound to server project ``project``."""
        return steps.test_steps(connector, project, http)

    def create_defect(self, connection: ConnectionSettings, request: DefectRequest, http: HttpFactory,
                      ctx: JobContext) -> CreatedItem:
        raise ConfigError(*NOT_A_TARGET, field="connector")

    def gate(self, connection: ConnectionSettings, request: GateRequest, http: HttpFactory,
             ctx: JobContext) -> GateResult:
        raise ConfigError(*NOT_A_TARGET, field="connector")

    def sync_adapter(self, connection: ConnectionSettings, http: HttpFactory, ctx: JobContext) -> SyncAdapter:
        raise ConfigError(*NOT_A_TARGET, field="connector")
