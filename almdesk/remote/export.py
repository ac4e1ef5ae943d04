"""The params ``almdesk export`` writes for an item mirrored from a server: the server's own
spelling (what a push would send, secrets left out), so an export of pulled items reproduces the
server's params; None for an item that mirrors nothing (export then writes almdesk's fields)."""

from __future__ import annotations

from typing import Any

from almdesk.config import Config, connection_fields
from almdesk.remote.items import mirror_of
from almdesk.remote.shapes import connection_params, connector_params, public


def server_params(config: Config, kind: str, local_id: int) -> dict[str, Any] | None:
    if kind == "connector":
        mirror = mirror_of(config.store, connector_id=local_id)
        if mirror is None or mirror.server_id is None:
            return None
        info = config.connector(local_id)
        system = config.registry.get(info.system)
        return public(connector_params(system, info.params, mirror.params), system)
    mirror = mirror_of(config.store, connection_id=local_id)
    if mirror is None or mirror.server_id is None:
        return None
    conn = config.connection(local_id)
    system = config.registry.get(conn.system)
    parent = mirror_of(config.store, connector_id=config.connector(conn.connector).id)
    inherited = parent.params if parent else {}
    return public(connection_params(connection_fields(system), conn.params, mirror.params, inherited), system)
