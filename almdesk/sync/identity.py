"""Sync identity: which ALM target a connection writes to, and who else in this store writes there.

Two connections of one store that target the same ALM project (same server, and the same Jira
project / GitHub repository / Rally workspace and project / Octane shared space and workspace) with
the same ``alm_context`` — both empty included — would take each other's items for their own: a look-up
by title cannot tell them apart, and neither can the context mark. That is a *conflict*:
:func:`check_identity` raises a :class:`~almdesk.errors.ConfigError` naming the other connection(s) and
the fix (set ``alm_context``). Test Connection runs it as a step; the sync engine runs it before it
reads or writes anything.

With distinct contexts the connections may share the target: :class:`Identity` carries this
connection's mark (:func:`almdesk.systems.marks.context_mark`) and ``taken``, the refs the other
connections on the target link, which a look-up by title never takes.

A system says what its target is with ``target_key(connection) -> tuple[str, ...]`` (its declaration;
by default the system's base URL and ``alm_project``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from almdesk.base.records import Step
from almdesk.base.settings import ConnectionSettings, ConnectorSettings
from almdesk.errors import ConfigError, UserFacingError
from almdesk.models import Connection, Connector, Link, Store
from almdesk.systems.base import System
from almdesk.systems.common import COMMON_CONNECTION_FIELDS
from almdesk.systems.marks import clean_context, context_mark
from almdesk.systems.registry import Registry

IN_CHUNK = 500


@dataclass(frozen=True)
class Neighbour:
    """Another connection of the store on the same ALM target."""

    id: int
    alias: str
    context: str


@dataclass(frozen=True)
class Identity:
    """What the sync needs to keep to its own items on a shared target."""

    mark: str
    neighbours: tuple[Neighbour, ...] = ()
    taken: frozenset[str] = frozenset()


def target_key(system: System, connection: ConnectionSettings) -> tuple[str, ...] | None:
    """The ALM target of ``connection`` as comparable text (None when its settings do not name one)."""
    try:
        key = system.target_key(connection)
        return tuple(str(k) for k in key) if key else None
    except (UserFacingError, ValueError, KeyError):
        return None


def describe_target(key: Sequence[str]) -> str:
    return " / ".join(k for k in key if k)


def neighbours(store: Store, system: System, connection: ConnectionSettings) -> tuple[tuple[str, ...] | None,
                                                                                       list[Neighbour]]:
    """This connection's target key and the other connections of the store on the same target."""
    mine = target_key(system, connection)
    if mine is None:
        return None, []
    defaults = {f.name: f.default for f in (*COMMON_CONNECTION_FIELDS, *system.connection_fields)}
    with store.session() as s:
        rows = s.execute(select(Connection.id, Connection.alias, Connection.params, Connector.name, Connector.params,
                                Connector.uid)
                         .join(Connector, Connection.connector_id == Connector.id)
                         .where(Connector.system == system.name).order_by(Connection.alias)).all()
    out: list[Neighbour] = []
    for cid, alias, params, cname, cparams, uid in rows:
        if cid == connection.id:
            continue
        other = ConnectionSettings(alias, ConnectorSettings(cname, system.name, dict(cparams or {}), uid=uid),
                                   {**defaults, **(params or {})}, id=cid)
        if target_key(system, other) == mine:
            out.append(Neighbour(cid, alias, clean_context(other.params.get("alm_context"))))
    return mine, out


def conflict_error(key: Sequence[str], alias: str, context: str, clashing: Sequence[Neighbour]) -> ConfigError:
    names = ", ".join(repr(n.alias) for n in clashing)
    what = f"context {context!r}" if context else "an empty context"
    return ConfigError(
        f"Connection {alias!r} shares its ALM target ({describe_target(key)}) with {names}, with the same "
        f"alm_context ({what}): each would take the other's items for its own.",
        f"Set a different Context (alm_context) on {alias!r} or on {names} before syncing, and put $context "
        "in the title format so people can tell the items apart too.", field="alm_context")


def check_identity(store: Store, system: System, connection: ConnectionSettings) -> Identity:
    """This connection's :class:`Identity`; a :class:`ConfigError` when another connection of the store
    targets the same ALM project with the same context (see the module docstring)."""
    context = clean_context(connection.params.get("alm_context"))
    key, near = neighbours(store, system, connection)
    clashing = [n for n in near if n.context == context]
    if key is not None and clashing:
        raise conflict_error(key, connection.alias, context, clashing)
    taken: set[str] = set()
    if near:
        ids = [n.id for n in near]
        with store.session() as s:
            for i in range(0, len(ids), IN_CHUNK):
                taken.update(r for r in s.scalars(select(Link.alm_ref).where(
                    Link.connection_id.in_(ids[i:i + IN_CHUNK]), Link.state == "linked")) if r)
    return Identity(context_mark(context), tuple(near), frozenset(taken))


def identity_problem(store: Store, registry: Registry, connection_id: int) -> str:
    """The conflict of a saved connection as one line for a form ("" when there is none), from the store
    alone: no keyring, no network, so the connection editor can show it before the first sync."""
    with store.session() as s:
        row = s.execute(select(Connection.alias, Connection.params, Connector.name, Connector.system,
                               Connector.params, Connector.uid)
                        .join(Connector, Connection.connector_id == Connector.id)
                        .where(Connection.id == connection_id)).first()
    if row is None or row[3] not in registry:
        return ""
    alias, params, cname, system_name, cparams, uid = row
    system = registry.get(system_name)
    defaults = {f.name: f.default for f in (*COMMON_CONNECTION_FIELDS, *system.connection_fields)}
    settings = ConnectionSettings(alias, ConnectorSettings(cname, system_name, dict(cparams or {}), uid=uid),
                                  {**defaults, **(params or {})}, id=connection_id)
    try:
        check_identity(store, system, settings)
    except ConfigError as exc:
        return str(exc)
    return ""


def identity_step(store: Store, system: System, connection: ConnectionSettings) -> Step:
    """The Test Connection step that fails on a shared target with the same context."""

    def run() -> str:
        found = check_identity(store, system, connection)
        if found.neighbours:
            others = ", ".join(f"{n.alias!r} ({n.context or 'empty context'})" for n in found.neighbours)
            if "context" not in str(connection.params.get("alm_title_format") or ""):
                return (f"⚠ Shared with {others}; the contexts differ (mark {found.mark}), but the title format "
                        "has no $context, so people cannot tell the connections' items apart by their titles")
            return f"Shared with {others}; this connection's context differs (mark {found.mark})"
        return f"No other connection of this store syncs into this ALM target (mark {found.mark})"

    return Step("identity", "Check the ALM target is not shared with the same context", run)
