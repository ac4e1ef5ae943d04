"""The server's params in both spellings, and almdesk's fields back in the server's spelling.

The server writes ``title_format`` on connectors and ``alm_title_format`` on connections, ``"7"``
and ``7`` for the same priority: :func:`norm` compares values as the server means them, and a
value almdesk did not change keeps the server's own type. :func:`split_own` takes the params a
connection's answer carries (the connector's merged into its own) and keeps only its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from almdesk.base.fields import Field, FieldKind
from almdesk.systems.base import System
from almdesk.transfer.mapping import PROJECT_KEYS, SECRET_KEYS, first_field, renamed

SERVER_ONLY = frozenset({"alm_reference_context", "session_capture_socket"})


def norm(value: Any) -> str:
    """A value as the server means it: ``"7"`` == ``7``, ``True`` == ``"true"``, lists as ``a,b``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(str(v).strip() for v in value)
    if value is None:
        return ""
    text = str(value).strip()
    return text.lower() if text.lower() in ("true", "false") else text


def same(a: Any, b: Any) -> bool:
    return norm(a) == norm(b)


def keep_type(base: Any, value: Any) -> Any:
    """``value``, or ``base`` when they mean the same (the server's spelling stays)."""
    return base if same(base, value) else value


def split_own(merged: Mapping[str, Any], inherited: Mapping[str, Any]) -> dict[str, Any]:
    """A connection's own params: the merged ones minus what equals the connector's (either spelling),
    minus the project names and bookkeeping the server adds."""
    parent = {renamed(k): v for k, v in inherited.items()}
    out: dict[str, Any] = {}
    for key, value in merged.items():
        if key in PROJECT_KEYS or key in SERVER_ONLY:
            continue
        name = renamed(key)
        if name in parent and same(parent[name], value):
            continue
        out[key] = value
    return out


def secret_keys(system: System, params: Mapping[str, Any]) -> dict[str, str]:
    """Server secret param → the local secret field it fills (the import's mapping)."""
    fields = {f.name: f for f in system.connector_fields}
    out: dict[str, str] = {}
    for key in params:
        if key in SECRET_KEYS or (key in fields and fields[key].kind is FieldKind.SECRET):
            target = key if key in fields and fields[key].kind is FieldKind.SECRET else first_field(
                system.sde_map.secrets.get(key, ()), fields, secret=True)
            if target:
                out[key] = target
    return out


def is_secret_key(system: System | None, key: str) -> bool:
    if key in SECRET_KEYS:
        return True
    fields = {f.name: f for f in system.connector_fields} if system else {}
    return key in fields and fields[key].kind is FieldKind.SECRET


def public(params: Mapping[str, Any], system: System | None) -> dict[str, Any]:
    return {k: v for k, v in params.items() if not is_secret_key(system, k)}


def _url_parts(url: str, base: Mapping[str, Any], suffix: str) -> dict[str, str]:
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    if suffix and path.endswith(suffix) and not str(base.get("alm_server", "")).rstrip("/").endswith(suffix):
        path = path[: -len(suffix)]
    out = {"alm_method": parts.scheme or "https"}
    if "alm_context_root" in base:
        out["alm_server"], out["alm_context_root"] = parts.netloc, path.strip("/")
    else:
        out["alm_server"] = parts.netloc + path
    return out


def connector_params(system: System, local: Mapping[str, Any], base: Mapping[str, Any]) -> dict[str, Any]:
    """The server params of a local connector: the last pulled ones (``base``: settings almdesk keeps
    on connections, e.g. ``alm_phases``, stay as the server has them) with almdesk's fields written
    back in the server's spelling; secrets are not included."""
    smap = system.sde_map
    fields = {f.name: f for f in system.connector_fields}
    out = dict(base)
    url_field = first_field(smap.url_fields, fields, secret=False)
    if url_field and url_field != "alm_server" and local.get(url_field):
        for key, value in _url_parts(str(local[url_field]), base, smap.enterprise_suffix).items():
            if key in base or key == "alm_server" or value not in ("https", ""):
                out[key] = keep_type(base.get(key), value)
    written = {url_field} if url_field != "alm_server" else set()
    for key, names in smap.renames.items():
        target = first_field(names, fields)
        if target and target in local and target != key and (key in base or local[target]):
            out[key] = keep_type(base.get(key), local[target])
            written.add(target)
    for name, fld in fields.items():
        if fld.kind is FieldKind.SECRET or name in ("auth_method", "deployment") or name not in local \
                or name in written:
            continue
        if name in base or (name == url_field == "alm_server") or (local[name] not in (None, "", fld.default)):
            out[name] = keep_type(base.get(name), _server_value(fld, local[name]))
    return out


def _server_value(fld: Field | None, value: Any) -> Any:
    if fld is not None and fld.kind is FieldKind.MULTI_CHOICE and isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return value


def connection_params(fields: tuple[Field, ...], local: Mapping[str, Any], base: Mapping[str, Any],
                      inherited: Mapping[str, Any]) -> dict[str, Any]:
    """A local connection's own server params: what it pulled as its own (``base``), plus every
    setting that differs from what it would inherit from its server connector (or from the field's
    default, when the connector does not say)."""
    parent = {renamed(k): v for k, v in inherited.items()}
    by_name = {f.name: f for f in fields}
    out = {k: v for k, v in base.items()}
    for name, value in local.items():
        fld = by_name.get(name)
        if fld is None:
            continue
        server_key = next((k for k in base if renamed(k) == name), name)
        if server_key in base:
            out[server_key] = keep_type(base[server_key], _server_value(fld, value))
        elif name in parent:
            if not same(parent[name], _server_value(fld, value)):
                out[name] = _server_value(fld, value)
        elif not same(_server_value(fld, fld.default), _server_value(fld, value)):
            out[name] = _server_value(fld, value)
    return out
