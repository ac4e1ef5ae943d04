"""Rally's connector and connection fields (sdetools names where they exist), and card-type facts.

Connector: server, authentication (API key in ``ZSESSIONID``, or user name + password for
on-premises servers where API keys do not exist), user. Connection: workspace, project, card
type (Story / Defect / Task), parent (a Task's work product), tag, new and done statuses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from almdesk.base.fields import Field, FieldKind
from almdesk.errors import ConfigError

DEFAULT_SERVER = "https://rally1.rallydev.com"
API_PATH = "/slm/webservice/v2.0"
KEYS_PAGE = "https://rally1.rallydev.com/login/accounts/index.html#/keys"


@dataclass(frozen=True)
class CardType:
    """How one sdetools card type maps onto WSAPI."""

    name: str  # Story | Defect | Task
    element: str  # WSAPI type (ElementName)
    label: str  # what Rally's UI calls it
    status_field: str  # ScheduleState or State
    parent_field: str  # the attribute the parent goes into
    url_kind: str  # the path segment of the browser URL


CARD_TYPES: dict[str, CardType] = {
    "Story": CardType("Story", "HierarchicalRequirement", "User Story", "ScheduleState", "Parent", "userstory"),
    "Defect": CardType("Defect", "Defect", "Defect", "ScheduleState", "Requirement", "defect"),
    "Task": CardType("Task", "Task", "Task", "State", "WorkProduct", "task"),
}

CONNECTOR_FIELDS: tuple[Field, ...] = (
    Field("alm_server", "Server", FieldKind.URL, default=DEFAULT_SERVER, required=True,
          placeholder=DEFAULT_SERVER,
          help="Rally's address: https://rally1.rallydev.com for Rally SaaS, or your on-premises server."),
    Field("auth_method", "Authentication", FieldKind.CHOICE, default="api_key", choices=("api_key", "basic"),
          choice_labels=("API key", "User name and password"),
          help="api_key: a Rally API key (recommended). basic: user name and password, for on-premises "
               "servers where API keys are not available."),
    Field("alm_api_key", "API key", FieldKind.SECRET,
          help=f"Create one in Rally under your profile → API Keys ({KEYS_PAGE}); it starts with an underscore."),
    Field("alm_user", "User", FieldKind.TEXT, placeholder="name@example.com",
          help="Rally user name (usually an email address). With an API key it is optional and is checked "
               "against the key's owner; with basic authentication it is the login."),
    Field("alm_pass", "Password", FieldKind.SECRET, help="Only used with basic authentication."),
)

CONNECTION_FIELDS: tuple[Field, ...] = (
    Field("rally_workspace", "Workspace", FieldKind.TEXT, required=True, placeholder="Workspace name",
          help="The Rally workspace name, exactly as Rally shows it (names are case-sensitive)."),
    Field("alm_project", "Project", FieldKind.TEXT, required=True, placeholder="Project name",
          help="The Rally project name. If several projects share the name, write the path: Parent // Child."),
    Field("rally_card_type", "Card type", FieldKind.CHOICE, default="Story", choices=tuple(CARD_TYPES),
          choice_labels=tuple(c.label for c in CARD_TYPES.values()),
          help="What each task becomes in Rally: a user story, a defect, or a task under the parent story."),
    Field("alm_parent_issue", "Parent", FieldKind.TEXT, placeholder="US12",
          help="FormattedID of the parent user story. Required for card type Task; for Story it becomes the "
               "parent story, for Defect the story the defect belongs to."),
    Field("alm_issue_label", "Tag", FieldKind.TEXT, default="",
          help="Optional Rally tag put on every item almdesk creates; only items with this tag are synced. "
               "Created in the workspace when missing."),
    Field("rally_new_status", "New status", FieldKind.TEXT, default="Defined", section="Status", placeholder="Defined",
          help="ScheduleState (State for tasks) given to new and reopened items."),
    Field("rally_done_statuses", "Done statuses", FieldKind.MULTI_CHOICE, default=["Completed", "Accepted"],
          section="Status", placeholder="Completed,Accepted",
          help="Comma-separated states that count as done; the first is used to close items. Tasks only "
               "have Defined, In-Progress and Completed."),
)

# Default Rally priority ranges (SD Elements' Rally docs): 9-10 Resolve Immediately, 6-8 High
# Attention, 4-5 Normal, 1-3 Low. Used for card type Defect, the only one with a Priority field.
DEFAULT_PRIORITY_MAP = {"9-10": "Resolve Immediately", "6-8": "High Attention", "4-5": "Normal", "1-3": "Low"}


def normalize_server(url: str) -> str:
    """Trim what people paste from the browser: ``#/123d/dashboard``, ``/slm/…``, a trailing slash."""
    parts = urlsplit(url.strip())
    path = parts.path
    cut = path.find("/slm")
    if cut >= 0:
        path = path[:cut]
    return urlunsplit((parts.scheme, parts.netloc, path.rstrip("/"), "", ""))


def check_connector(params: dict[str, Any]) -> dict[str, Any]:
    """Cross-field checks: basic authentication needs a user; the server URL is normalised."""
    out = dict(params)
    if out.get("alm_server"):
        out["alm_server"] = normalize_server(str(out["alm_server"]))
    if out.get("auth_method", "api_key") == "basic" and not str(out.get("alm_user") or "").strip():
        raise ConfigError("Basic authentication needs a user name.",
                          "Enter the Rally user name (usually an email address), or switch to an API key.",
                          field="alm_user")
    return out


def card_type(params: dict[str, Any]) -> CardType:
    name = str(params.get("rally_card_type") or "Story")
    try:
        return CARD_TYPES[name]
    except KeyError:
        raise ConfigError(f"Card type {name!r} is not known.", f"Choose one of: {', '.join(CARD_TYPES)}.",
                          field="rally_card_type") from None


def done_statuses(params: dict[str, Any]) -> list[str]:
    raw = params.get("rally_done_statuses")
    values = [str(v).strip() for v in raw] if isinstance(raw, list | tuple) else \
        [v.strip() for v in str(raw or "").split(",")]
    values = [v for v in values if v]
    if not values:
        raise ConfigError("Done statuses are empty.", "Enter at least one state, e.g. Completed,Accepted.",
                          field="rally_done_statuses")
    return values


def new_status(params: dict[str, Any]) -> str:
    value = str(params.get("rally_new_status") or "").strip()
    if not value:
        raise ConfigError("New status is empty.", "Enter the state for new items, e.g. Defined.",
                          field="rally_new_status")
    return value


def required_text(params: dict[str, Any], name: str, label: str, hint: str) -> str:
    value = str(params.get(name) or "").strip()
    if not value:
        raise ConfigError(f"{label} is not set.", hint, field=name)
    return value
