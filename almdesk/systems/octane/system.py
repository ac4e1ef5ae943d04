"""The ALM Octane system: what the app, the CLI and the sync engine use (the ``System`` protocol)."""

from __future__ import annotations

from typing import Any

from almdesk.base.fields import Field
from almdesk.base.settings import ConnectionSettings, ConnectorSettings
from almdesk.jobs.context import JobContext
from almdesk.net.session import HttpFactory
from almdesk.systems.base import ALM_TARGET, Capability, Declared, SystemMap, TargetInput
from almdesk.systems.octane import actions, choices, steps
from almdesk.systems.octane.fields import (
    CONNECTION_FIELDS,
    CONNECTOR_FIELDS,
    check_connector,
    connection_workspace,
    site,
)
from almdesk.systems.octane.location import parse_location
from almdesk.systems.octane.sync import OctaneSyncAdapter


class OctaneSystem(Declared):
    """ALM Octane: API-key sign-in, shared space / workspace, defects and stories."""

    name = "octane"
    label = "ALM Octane"
    connector_fields: tuple[Field, ...] = CONNECTOR_FIELDS
    connection_fields: tuple[Field, ...] = CONNECTION_FIELDS
    item_noun = "defect"
    capabilities = ALM_TARGET | {Capability.WORKSPACES, Capability.CHOICES}
    secret_names = ("lwsso",)  # the LWSSO_COOKIE_KEY session cookie, also in sign-in answers
    target = TargetInput("Workspace", "workspace id, e.g. 1002 (empty: the connector's own)", ("workspace",))
    # Octane is not in sdetools; SD Elements' connector uses the server + API key as user/password.
    sde_map = SystemMap(
        sde_ids=("octane", "alm_octane", "hpe_octane", "microfocus_octane", "opentext_octane"),
        url_fields=("location", "url", "server_url"),
        renames={"alm_user": ("client_id",), "octane_client_id": ("client_id",), "alm_client_id": ("client_id",),
                 "octane_shared_space": ("shared_space",), "alm_shared_space": ("shared_space",),
                 "octane_workspace": ("workspace",), "alm_workspace": ("workspace",), "octane_user": ("user",)},
        secrets={"alm_pass": ("client_secret",), "alm_api_token": ("client_secret",),
                 "alm_client_secret": ("client_secret",), "alm_api_key": ("client_secret",)})
    steps_module = steps
    actions_module = actions
    choices_module = choices

    def check_connector(self, params: dict[str, Any]) -> dict[str, Any]:
        return check_connector(params)

    def base_url(self, connector: ConnectorSettings) -> str:
        return site(connector).server

    def parse_location(self, text: str) -> tuple[str, str, str | None]:
        return parse_location(text)

    def workspaces(self, connector: ConnectorSettings, http: HttpFactory) -> list[tuple[str, str]]:
        """(id, name) of the workspaces the API key can use, for the GUI to offer after sign-in."""
        return steps.workspaces(connector, http)

    def target_key(self, connection: ConnectionSettings) -> tuple[str, ...]:
        """The ALM target for sync identity: the server, the shared space and the workspace."""
        info = site(connection.connector)
        return ("octane", info.server.lower(), info.shared_space, connection_workspace(connection))

    def sync_adapter(self, connection: ConnectionSettings, http: HttpFactory, ctx: JobContext) -> OctaneSyncAdapter:
        return OctaneSyncAdapter(connection, http, ctx)
