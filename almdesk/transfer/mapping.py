"""How sdetools / SD Elements parameter names map to each system's almdesk fields, as data.

Each :class:`SystemMap` lists, per sdetools name, candidate almdesk field names; the first one the
system really declares wins, so the mapping follows the systems' schemas as they evolve.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from almdesk.config import Config
from almdesk.errors import ConfigError
from almdesk.systems.base import Field, FieldKind

URL_KEYS = ("alm_server", "alm_method", "alm_context_root")
PROJECT_KEYS = ("sde_businessunit", "sde_application", "sde_project")
SECRET_KEYS = ("alm_pass", "alm_api_token", "alm_api_key", "alm_client_secret")
# SD Elements bookkeeping that means nothing to almdesk.
SDE_INTERNAL = frozenset({"alm_reference_context", "session_capture_socket", "start_fresh", "selected_tasks",
                          "how_tos_in_scope", "debug_mode"})
RENAMES_ALL = {"title_format": "alm_title_format"}
PLACEHOLDER = "\x00placeholder\x00"


def renamed(key: str) -> str:
    return RENAMES_ALL.get(key, key)


@dataclass(frozen=True)
class SystemMap:
    """How one system's sdetools parameters map to almdesk's field names (first existing name wins)."""

    sde_ids: tuple[str, ...]
    url_fields: tuple[str, ...] = ("url", "server_url", "alm_server", "server", "location")
    renames: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    secrets: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    auth_choices: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # sdetools secret → auth value
    default_host: str = ""
    enterprise_suffix: str = ""  # appended to the URL of a server other than default_host
    cloud_hosts: tuple[str, ...] = ()  # host suffixes of the vendor's cloud
    auth_on_premises: Mapping[str, str] = field(default_factory=dict)  # sdetools secret → auth off the cloud
    retired: Mapping[str, str] = field(default_factory=dict)  # sdetools names almdesk does not need, and why


_USER = ("alm_user", "user", "username", "email")
_PASS = ("alm_pass", "password", "api_token", "token")
_TOKEN = ("alm_api_token", "api_token", "token", "personal_access_token", "pat", "alm_api_key", "api_key")

SYSTEM_MAPS: dict[str, SystemMap] = {
    # Octane is not in sdetools; SD Elements' connector uses the server + API key as user/password.
    "octane": SystemMap(
        sde_ids=("octane", "alm_octane", "hpe_octane", "microfocus_octane", "opentext_octane"),
        url_fields=("location", "url", "server_url"),
        renames={"alm_user": ("client_id",), "octane_client_id": ("client_id",), "alm_client_id": ("client_id",),
                 "octane_shared_space": ("shared_space",), "alm_shared_space": ("shared_space",),
                 "octane_workspace": ("workspace",), "alm_workspace": ("workspace",), "octane_user": ("user",)},
        secrets={"alm_pass": ("client_secret",), "alm_api_token": ("client_secret",),
                 "alm_client_secret": ("client_secret",), "alm_api_key": ("client_secret",)}),
    "jira": SystemMap(
        sde_ids=("jira", "jira_cloud", "jira_server", "jira_dc"),
        renames={"alm_user": ("alm_user", "email", "user", "username")},
        secrets={"alm_pass": ("alm_pass", "api_token", "password", "token"),
                 "alm_api_token": ("alm_api_token", "pat", "personal_access_token", "api_token", "token")},
        auth_choices={"alm_pass": ("api_token",), "alm_api_token": ("pat", "bearer")},
        cloud_hosts=(".atlassian.net", ".jira.com", ".jira-dev.com"), auth_on_premises={"alm_pass": "basic"},
        retired={"jira_version": "almdesk reads the Jira version from the server"}),
    "github": SystemMap(
        sde_ids=("github", "github_enterprise"),
        url_fields=("url", "api_url", "alm_server", "server_url"),
        renames={"alm_user": ("alm_user", "user")},
        secrets={"alm_api_token": _TOKEN, "alm_pass": _TOKEN},
        default_host="api.github.com", enterprise_suffix="/api/v3"),
    "rally": SystemMap(
        sde_ids=("rally", "ca_agile_central", "agile_central", "rally_software"),
        renames={"alm_user": _USER},
        secrets={"alm_pass": ("alm_pass", "password"), "alm_api_key": ("alm_api_key", "api_key"),
                 "alm_api_token": ("alm_api_key", "api_key", "alm_api_token")},
        auth_choices={"alm_pass": ("password", "basic", "user_password"), "alm_api_key": ("api_key", "apikey"),
                      "alm_api_token": ("api_key", "apikey")}),
}
FALLBACK_MAP = SystemMap(sde_ids=(), renames={"alm_user": _USER}, secrets={"alm_pass": _PASS, "alm_api_token": _TOKEN})


def resolve_system(config: Config, raw: Any) -> str:
    sid = raw.get("id") if isinstance(raw, dict) else raw
    sid = str(sid or "").strip().lower().replace("-", "_").replace(" ", "_")
    for name in config.registry.names():
        if sid == name or sid in SYSTEM_MAPS.get(name, FALLBACK_MAP).sde_ids:
            return name
    raise ConfigError(f"unknown system {sid or '(none)'!r}.",
                      f"Use one of: {', '.join(config.registry.names())}.", field="system")


def build_url(raw: Mapping[str, Any], smap: SystemMap) -> str:
    server = str(raw.get("alm_server") or "").strip().rstrip("/")
    if not server:
        return ""
    if "://" not in server:
        server = f"{str(raw.get('alm_method') or 'https').strip().lower()}://{server}"
    root = str(raw.get("alm_context_root") or "").strip().strip("/")
    url = f"{server}/{root}" if root else server
    host = url.split("://", 1)[1].split("/", 1)[0].split(":", 1)[0]
    if smap.enterprise_suffix and host != smap.default_host and "/api/" not in url + "/":
        url += smap.enterprise_suffix
    return url


def first_field(names: tuple[str, ...], fields: Mapping[str, Field], secret: bool | None = None) -> str | None:
    for name in names:
        fld = fields.get(name)
        if fld is not None and (secret is None or (fld.kind is FieldKind.SECRET) == secret):
            return name
    return None
