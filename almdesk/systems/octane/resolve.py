"""Resolving what users name (releases, phases, severities, users, the backlog root) to Octane ids.

Names match case-insensitively, and phases/list nodes also by logical name (``phase.defect.new``)
or its last part (``new``). A name that matches nothing fails with the list of valid ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from almdesk.errors import ConfigError, RemoteError
from almdesk.systems.octane import query as q
from almdesk.systems.octane.client import OctaneClient

SEVERITY_ALIASES = {"critical": "list_node.severity.urgent", "very high": "list_node.severity.very_high"}
# item_origin nodes that say "created by an integration", best first (XL Release's plugin uses its own)
ORIGIN_PREFERENCE = ("almdesk", "XL Release", "Integration", "API", "Automation")
ENTITY_OF_COLLECTION = {"defects": "defect", "stories": "story"}


def _listing(names: Iterable[str], limit: int = 25) -> str:
    items = list(names)
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def release(client: OctaneClient, workspace: str, name: str, field: str = "release") -> dict[str, Any]:
    """The one release named ``name`` (case-insensitive); otherwise a ConfigError listing candidates."""
    name = name.strip()
    if not name:
        raise ConfigError("Release is required.", "Enter the name of an ALM Octane release.", field=field)
    found, _ = client.get_page(workspace, "releases", query=q.eq("name", name), fields=("name",), limit=50)
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        ids = ", ".join(f"{r['name']} (id {r['id']})" for r in found[:10]) + (", …" if len(found) > 10 else "")
        raise ConfigError(f"{len(found)} releases in workspace {workspace} are named {name!r}: {ids}.",
                          "Rename the duplicates in ALM Octane so the name picks exactly one release.", field=field)
    everything = client.all(workspace, "releases", fields=("name",), order_by="name")
    names = list(dict.fromkeys(str(r["name"]) for r in everything))
    close = [n for n in names if name.casefold() in n.casefold() or n.casefold() in name.casefold()]
    hint = f"Releases in workspace {workspace}: {_listing(close or names)}." if names else (
        f"Workspace {workspace} has no releases; create one in ALM Octane first.")
    raise ConfigError(f"No release named {name!r} in workspace {workspace}.", hint, field=field)


def phases(client: OctaneClient, workspace: str, entity: str) -> list[dict[str, Any]]:
    """Every phase of ``entity`` (defect, story…), custom ones included."""
    return client.all(workspace, "phases", query=q.eq("entity", entity), fields=("name", "logical_name"),
                      order_by="id")


def severities(client: OctaneClient, workspace: str) -> list[dict[str, Any]]:
    return client.all(workspace, "list_nodes", query=q.ref("list_root", q.eq("logical_name", "list_node.severity")),
                      fields=("name", "logical_name"), order_by="id")


def match(wanted: Sequence[str], options: Sequence[Mapping[str, Any]], what: str, field: str,
          aliases: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """Map names/logical names to entities; unknown ones raise ConfigError listing the valid names."""
    out: list[dict[str, Any]] = []
    unknown: list[str] = []
    for raw in wanted:
        key = raw.strip()
        if not key:
            continue
        low = (aliases or {}).get(key.casefold(), key).casefold()
        hit = next((o for o in options if low in (str(o.get("id", "")).casefold(),
                                                  str(o.get("logical_name", "")).casefold(),
                                                  str(o.get("name", "")).casefold())), None)
        if hit is None:
            hit = next((o for o in options if str(o.get("logical_name", "")).casefold().endswith("." + low)), None)
        if hit is None:
            unknown.append(key)
        elif hit not in out:
            out.append(dict(hit))
    if unknown:
        valid = [f"{o.get('name')} ({o.get('logical_name') or o.get('id')})" for o in options]
        raise ConfigError(f"Unknown {what}: {', '.join(unknown)}.",
                          f"Valid {what}s: {_listing(valid, 40)}.", field=field)
    return out


def backlog_root(client: OctaneClient, workspace: str) -> str:
    found, _ = client.get_page(workspace, "work_items", query=q.eq("subtype", "work_item_root"), fields=("name",),
                               limit=5)
    if len(found) != 1:
        raise RemoteError(f"Workspace {workspace} has {len(found)} backlog roots (work_item_root), expected 1.",
                          "Check the workspace in ALM Octane; the backlog root may not be visible to the API key.")
    return str(found[0]["id"])


def origin(client: OctaneClient, workspace: str) -> dict[str, Any] | None:
    """The item_origin list node that fits an integration, or None when the list has none."""
    nodes = client.all(workspace, "list_nodes",
                       query=q.ref("list_root", q.eq("logical_name", "list_node.item_origin")),
                       fields=("name", "logical_name"))
    by_name = {str(n.get("name", "")).casefold(): n for n in nodes}
    for name in ORIGIN_PREFERENCE:
        if name.casefold() in by_name:
            return by_name[name.casefold()]
    return None


def workspace_user(client: OctaneClient, workspace: str, login: str) -> dict[str, Any] | None:
    statement = q.any_of([q.eq("name", login), q.eq("email", login)])
    found, _ = client.get_page(workspace, "workspace_users", query=statement,
                               fields=("name", "email", "full_name"), limit=5)
    return found[0] if found else None


def some_users(client: OctaneClient, workspace: str, limit: int = 8) -> list[str]:
    found, total = client.get_page(workspace, "workspace_users", fields=("name",), limit=limit, order_by="name")
    names = [str(u["name"]) for u in found]
    return names + ([f"… ({total} in all)"] if total > len(names) else [])
