"""How sdetools / SD Elements parameter names map to each system's almdesk fields.

Each system declares its :class:`~almdesk.systems.base.SystemMap` (``system.sde_map``): per sdetools
name, candidate almdesk field names; the first one the system really declares wins. This module
holds the names common to every system and the helpers that apply a map.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from almdesk.base.fields import Field, FieldKind
from almdesk.config import Config
from almdesk.errors import ConfigError
from almdesk.systems.base import SystemMap

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


def resolve_system(config: Config, raw: Any) -> str:
    sid = raw.get("id") if isinstance(raw, dict) else raw
    sid = str(sid or "").strip().lower().replace("-", "_").replace(" ", "_")
    for name in config.registry.names():
        if sid == name or sid in config.registry.get(name).sde_map.sde_ids:
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
