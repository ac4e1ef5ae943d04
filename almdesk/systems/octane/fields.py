"""The Octane connector and connection fields, and the cross-field checks of a connector.

The Location fills the shared space and workspace fields (which stay editable); a plain server URL
is accepted too when the shared space is given separately.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from almdesk.base.fields import Field, FieldKind, check_url
from almdesk.base.settings import ConnectionSettings, ConnectorSettings
from almdesk.errors import ConfigError
from almdesk.systems.octane.location import EXAMPLE, parse_location

CONNECTOR_FIELDS: tuple[Field, ...] = (
    Field("location", "Location", FieldKind.TEXT, required=True, placeholder=EXAMPLE,
          help="Paste the address from the browser while ALM Octane is open: "
               "https://host[:port][/context]/ui/?p=<shared space>/<workspace>."),
    Field("client_id", "Client ID", FieldKind.TEXT, required=True, placeholder="almdesk_k3y_1d",
          help="API access Client ID (ALM Octane: Settings › Spaces › API Access). It needs the CI/CD Integration "
               "role in the workspaces you use."),
    Field("client_secret", "Client secret", FieldKind.SECRET, required=True,
          help="Shown once when the API access key is created; stored in the system keyring."),
    Field("user", "User", FieldKind.TEXT, placeholder="name@example.com",
          help="Workspace user (login name or email) that created items are attributed to; Test Connection checks "
               "that the user exists. Leave empty to attribute items to the API key."),
    Field("shared_space", "Shared space ID", FieldKind.TEXT, placeholder="1001",
          help="Filled from the Location (the number after p=); change it only if the Location has none."),
    Field("workspace", "Workspace ID", FieldKind.TEXT, placeholder="1002",
          help="Filled from the Location (the number after p=<shared space>/); after signing in, Test Connection "
               "lists the workspaces to pick from."),
)

CONNECTION_FIELDS: tuple[Field, ...] = (
    Field("workspace", "Workspace ID", FieldKind.TEXT, section="Target", placeholder="1002",
          help="The workspace items go to; empty: the connector's workspace."),
    Field("item_type", "Item type", FieldKind.CHOICE, default="defect", choices=("defect", "story"),
          choice_labels=("Defect", "User story"),
          section="Target", help="Create tasks as defects or as user stories."),
    Field("parent", "Parent", FieldKind.TEXT, default="", section="Target", placeholder="backlog root",
          help="Id of the work item (feature, epic) new items go under; empty: the backlog root. When set, only "
               "items under it are matched."),
    Field("new_phase", "Phase for new items", FieldKind.TEXT, default="", section="Status",
          help="Name or logical name (phase.defect.new); empty: the item type's New phase."),
    Field("done_phases", "Done phases", FieldKind.TEXT, default="", section="Status",
          help="Comma-separated names or logical names of phases that mean done; empty: Closed, Rejected, "
               "Duplicate for defects, Done for stories."),
    Field("close_phase", "Close to phase", FieldKind.TEXT, default="", section="Status",
          help="Phase an item is moved to when its task is done; empty: Closed (defects) or Done (stories)."),
    Field("reopen_phase", "Reopen to phase", FieldKind.TEXT, default="", section="Status",
          help="Phase an item is moved to when its task is open again; empty: Opened (defects) or In Progress "
               "(stories)."),
)


def _digits(value: str, field: str, label: str) -> str:
    value = value.strip()
    if value and not value.isdigit():
        raise ConfigError(f"{label} must be a number, not {value!r}.",
                          f"Use the number from the Location (p=<shared space>/<workspace>), e.g. {EXAMPLE}.",
                          field=field)
    return value


def _server_and_ids(params: dict[str, Any]) -> tuple[str, str | None, str | None]:
    location = str(params.get("location") or "")
    try:
        return parse_location(location)
    except ConfigError:
        # A bare server address (no /ui, no query) is fine when the shared space has its own value.
        bare = "://" in location and "/ui" not in location.lower() and "?" not in location
        if not (bare and str(params.get("shared_space") or "").strip()):
            raise
        return check_url(location, CONNECTOR_FIELDS[0]), None, None


def check_connector(params: dict[str, Any]) -> dict[str, Any]:
    """Parse the Location; fill shared space and workspace from it; check they agree."""
    out = dict(params)
    server, space, workspace = _server_and_ids(out)
    given_space = _digits(str(out.get("shared_space") or ""), "shared_space", "Shared space ID")
    given_ws = _digits(str(out.get("workspace") or ""), "workspace", "Workspace ID")
    if given_space and space and given_space != space:
        raise ConfigError(f"Shared space ID {given_space} differs from the Location's p={space}.",
                          "Clear the Shared space ID field to use the Location's, or fix the Location.",
                          field="shared_space")
    out["shared_space"] = given_space or space or ""
    out["workspace"] = given_ws or workspace or ""
    del server
    return out


@dataclass(frozen=True)
class Site:
    """Where and as whom to connect, from a connector."""

    server: str
    shared_space: str
    workspace: str
    client_id: str
    client_secret: str
    user: str


def site(connector: ConnectorSettings) -> Site:
    params = check_connector(connector.params)
    server, _, _ = _server_and_ids(params)
    return Site(server=server, shared_space=str(params["shared_space"]), workspace=str(params["workspace"]),
                client_id=str(params.get("client_id") or "").strip(),
                client_secret=connector.secret("client_secret"), user=str(params.get("user") or "").strip())


def connection_workspace(connection: ConnectionSettings, override: str = "") -> str:
    """The workspace a connection (or a one-off override) targets; ConfigError when there is none."""
    ws = (override or str(connection.params.get("workspace") or "")
          or str(check_connector(connection.connector.params).get("workspace") or "")).strip()
    if not ws:
        raise ConfigError("No workspace is set.", "Enter the workspace ID on the connection or the connector "
                                                  "(Test Connection lists the workspaces you can use).",
                          field="workspace")
    return _digits(ws, "workspace", "Workspace ID")
