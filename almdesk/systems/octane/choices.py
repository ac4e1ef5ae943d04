"""What ALM Octane can list for a form's pickers: workspaces, the phases of the connection's item
type, and releases (for the gate and Create Defect).

Contract (:class:`~almdesk.systems.base.ChoicesModule`): ``choices(field, connector, params, http)``
returns (value, label) pairs, read with the connector settings and the params as given. Phases and
releases are read in the params' ``workspace`` (else the connector's); phases of ``item_type``
(defect by default) are offered by name, the name being what the phase fields accept.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from almdesk.base.settings import ConnectorSettings
from almdesk.errors import ConfigError
from almdesk.net.session import HttpFactory
from almdesk.systems.octane import resolve
from almdesk.systems.octane.client import OctaneClient
from almdesk.systems.octane.fields import check_connector, site
from almdesk.systems.octane.steps import list_workspaces

PHASE_FIELDS = frozenset({"new_phase", "close_phase", "reopen_phase"})
LISTABLE = frozenset({"workspace", "release", *PHASE_FIELDS})


def _workspace(connector: ConnectorSettings, params: Mapping[str, Any]) -> str:
    ws = str(params.get("workspace") or "").strip() or str(check_connector(connector.params).get("workspace") or "")
    if not ws:
        raise ConfigError("Pick the workspace first.", "The list depends on the workspace; pick it from the "
                          "server or type its id.", field="workspace")
    if not ws.isdigit():
        raise ConfigError(f"Workspace ID must be a number, not {ws!r}.", "Pick the workspace from the server.",
                          field="workspace")
    return ws


def choices(field: str, connector: ConnectorSettings, params: Mapping[str, Any],
            http: HttpFactory) -> list[tuple[str, str]]:
    info = site(connector)
    if not info.shared_space:
        raise ConfigError("No shared space is set.", "Paste a Location with p=<shared space id>.", field="shared_space")
    client = OctaneClient(info.server, info.shared_space, info.client_id, info.client_secret, http)
    try:
        if field == "workspace":
            return [(ident, f"{name} (id {ident})") for ident, name in list_workspaces(client)]
        workspace = _workspace(connector, params)
        if field in PHASE_FIELDS:
            entity = str(params.get("item_type") or "defect")
            return [(str(p["name"]), f"{p['name']} ({p.get('logical_name', '')})")
                    for p in resolve.phases(client, workspace, entity)]
        if field == "release":
            releases = client.all(workspace, "releases", fields=("name",), order_by="name")
            return [(str(r["name"]), str(r["name"])) for r in releases]
        raise ConfigError(f"ALM Octane cannot list {field!r}.", "Type the value instead.", field=field)
    finally:
        client.close()
