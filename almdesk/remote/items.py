"""The local mirror of a server's items (``remote_item`` rows) as plain dicts, and reading the server.

Rows cross the boundary as :class:`Item` (no ORM objects); :func:`save` upserts one row by its
(source, kind, server id) in its own transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from almdesk.errors import ConfigError
from almdesk.models import Connector, RemoteItem, Store
from almdesk.systems.sdelements.client import SdeClient

EDIT_PERMISSION = "Edit ALM connections"


@dataclass
class Item:
    id: int
    kind: str
    server_id: int | None
    name: str
    system_id: str
    connector_id: int | None
    connection_id: int | None
    mirrored: bool
    params: dict[str, Any] = field(default_factory=dict)
    secret_keys: dict[str, str] = field(default_factory=dict)
    server: dict[str, Any] = field(default_factory=dict)
    read_only: str = ""


def _item(row: RemoteItem) -> Item:
    return Item(row.id, row.kind, row.server_id, row.name, row.system_id, row.connector_id, row.connection_id,
                row.mirrored, dict(row.params or {}), dict(row.secret_keys or {}), dict(row.server or {}),
                row.read_only or "")


def source_id(store: Store, source: str) -> int:
    """The id of SD Elements connector ``source``; ConfigError for another system or an unknown name."""
    with store.session() as s:
        row = s.scalar(select(Connector).where(Connector.name == source))
        if row is None:
            names = s.scalars(select(Connector.name).where(Connector.system == "sdelements")).all()
            raise ConfigError(f"No connector named {source!r}.",
                              f"SD Elements connectors: {', '.join(names)}." if names else
                              "Add an SD Elements connector first (almdesk connector add --system sdelements).",
                              field="connector")
        if row.system != "sdelements":
            raise ConfigError(f"Connector {source!r} is a {row.system} connector, not SD Elements.",
                              "Name the SD Elements connector whose server holds the ALM connectors.",
                              field="connector")
        return row.id


def items(store: Store, source: int, kind: str | None = None) -> list[Item]:
    with store.session() as s:
        query = select(RemoteItem).where(RemoteItem.source_id == source)
        if kind:
            query = query.where(RemoteItem.kind == kind)
        return [_item(r) for r in s.scalars(query.order_by(RemoteItem.kind.desc(), RemoteItem.id))]


def mirror_of(store: Store, *, connector_id: int | None = None, connection_id: int | None = None) -> Item | None:
    """The remote row mirroring a local connector or connection (any source), or None."""
    with store.session() as s:
        query = select(RemoteItem)
        query = query.where(RemoteItem.connector_id == connector_id, RemoteItem.kind == "connector") \
            if connector_id is not None else query.where(RemoteItem.connection_id == connection_id)
        row = s.scalars(query.order_by(RemoteItem.id)).first()
        return _item(row) if row is not None else None


def save(store: Store, source: int, kind: str, server_id: int | None, *, row_id: int | None = None,
         **values: Any) -> int:
    """Insert or update the row of (source, kind, server_id) (or ``row_id``) with ``values``."""
    with store.session() as s:
        row = s.get(RemoteItem, row_id) if row_id else None
        if row is None and server_id is not None:
            row = s.scalar(select(RemoteItem).where(RemoteItem.source_id == source, RemoteItem.kind == kind,
                                                    RemoteItem.server_id == server_id))
        if row is None:
            row = RemoteItem(source_id=source, kind=kind, server_id=server_id, name=str(values.get("name", "")),
                             system_id=str(values.get("system_id", "")))
            s.add(row)
        row.server_id = server_id
        for key, value in values.items():
            setattr(row, key, value)
        if row.connector_id is not None or row.connection_id is not None:
            row.mirrored = True
        row.pulled = datetime.now(UTC)
        s.flush()
        return row.id


def forget(store: Store, row_id: int) -> None:
    with store.session() as s:
        row = s.get(RemoteItem, row_id)
        if row is not None:
            s.delete(row)


def read_all(client: SdeClient, path: str, what: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for page in client.pages(path, what=what, params=params):
        out.extend(x for x in page if isinstance(x, dict))
    return out


def read_server(client: SdeClient) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every ALM connector and connection on the server (all pages; connections with their last job)."""
    connectors = read_all(client, "connectors/alm/", "reading the ALM connectors")
    connections = read_all(client, "connections/alm/", "reading the ALM connections", {"include": "last_job"})
    return connectors, connections


def server_facts(raw: dict[str, Any]) -> dict[str, Any]:
    """What the server says of a connection that is not a setting: shown in the lists."""
    keys = ("frequency", "debug_mode", "inaccessible", "in_progress", "last_job", "connector", "project", "command",
            "system", "alias", "name")
    return {k: raw[k] for k in keys if k in raw}
