"""The Rally system object: field schema, connector checks, and the entry points the app calls."""

from __future__ import annotations

from typing import Any

from almdesk.base.fields import Field
from almdesk.base.settings import ConnectionSettings, ConnectorSettings
from almdesk.jobs.context import JobContext
from almdesk.net.session import HttpFactory
from almdesk.systems.base import (
    ALM_TARGET,
    SDE_USER_NAMES,
    Capability,
    Declared,
    SyncAdapter,
    SystemMap,
    TargetInput,
)
from almdesk.systems.rally import actions, choices, steps
from almdesk.systems.rally.fields import (
    CONNECTION_FIELDS,
    CONNECTOR_FIELDS,
    check_connector,
    normalize_server,
)
from almdesk.systems.rally.sync import RallySyncAdapter


class RallySystem(Declared):
    """Rally (Broadcom Agile Central, formerly CA Agile Central) over WSAPI v2.0."""

    name = "rally"
    label = "Rally"
    item_noun = "work item"
    target = TargetInput("Workspace", "Rally workspace name", ("rally_workspace",))
    client_packages = ("pyral",)
    # The API key travels as the ZSESSIONID header; WSAPI writes carry the security token as ?key=…
    secret_query_keys = ("key",)
    secret_names = ("zsessionid",)
    sde_map = SystemMap(
        sde_ids=("rally", "ca_agile_central", "agile_central", "rally_software"),
        renames={"alm_user": SDE_USER_NAMES},
        secrets={"alm_pass": ("alm_pass", "password"), "alm_api_key": ("alm_api_key", "api_key"),
                 "alm_api_token": ("alm_api_key", "api_key", "alm_api_token")},
        auth_choices={"alm_pass": ("password", "basic", "user_password"), "alm_api_key": ("api_key", "apikey"),
                      "alm_api_token": ("api_key", "apikey")})
    steps_module = steps
    capabilities = ALM_TARGET | {Capability.CHOICES}
    choices_module = choices
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
