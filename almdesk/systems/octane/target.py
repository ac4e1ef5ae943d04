"""A connection's target resolved against the server: workspace, item type, phases, parent, user.

Used by the sync adapter's ``prepare()`` and by the "Connection settings" step of Test Connection,
so both fail the same way, naming the field and listing the valid values.
"""

from __future__ import annotations

import json
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from almdesk.base.fields import split_list
from almdesk.base.settings import ConnectionSettings
from almdesk.errors import ConfigError
from almdesk.systems.octane import query as q
from almdesk.systems.octane import resolve
from almdesk.systems.octane.client import OctaneClient

DEFAULTS: dict[str, dict[str, Any]] = {
    "defect": {"collection": "defects", "new": "phase.defect.new",
               "done": ["phase.defect.closed", "phase.defect.rejected", "phase.defect.duplicate"],
               "close": "phase.defect.closed", "reopen": "phase.defect.opened", "rank_field": "severity",
               "rank_root": "list_node.severity", "user_field": "detected_by",
               "map": {"1-3": "low", "4-6": "medium", "7-8": "high", "9": "very_high", "10": "urgent"}},
    "story": {"collection": "stories", "new": "phase.story.new", "done": ["phase.story.done"],
              "close": "phase.story.done", "reopen": "phase.story.in_progress", "rank_field": "priority",
              "rank_root": "list_node.priority", "user_field": "owner",
              "map": {"1-3": "low", "4-6": "medium", "7-8": "high", "9-10": "urgent"}},
}


@dataclass
class Target:
    workspace: str
    entity: str
    collection: str
    phases: dict[str, dict[str, Any]]  # id -> phase
    new_phase: str
    done: set[str]
    close_phase: str
    reopen_phase: str
    parent: str
    parent_is_root: bool
    rank_field: str
    ranks: list[tuple[int, int, str]] = field(default_factory=list)  # (low, high, list node id)
    user_id: str | None = None
    user_field: str = "detected_by"

    def rank_for(self, priority: int) -> str | None:
        return next((node for low, high, node in self.ranks if low <= priority <= high), None)

    def phase_name(self, phase_id: str | None) -> str:
        return str(self.phases.get(phase_id or "", {}).get("name", phase_id or ""))

    def describe(self) -> str:
        done = ", ".join(self.phase_name(p) for p in sorted(self.done))
        parent = "the backlog root" if self.parent_is_root else f"work item {self.parent}"
        return (f"{self.collection} in workspace {self.workspace} under {parent}; new in "
                f"{self.phase_name(self.new_phase)}, done = {done}; close to {self.phase_name(self.close_phase)}, "
                f"reopen to {self.phase_name(self.reopen_phase)}")


def parse_rank_map(text: str, default: dict[str, str]) -> list[tuple[int, int, str]]:
    """``{"1-3": "Low", "7": "High"}`` -> [(1, 3, 'Low'), (7, 7, 'High')]; ConfigError when malformed."""
    raw: Any = default
    if text.strip():
        try:
            raw = json.loads(text)
        except ValueError:
            raw = None
        if not isinstance(raw, dict):
            raise ConfigError("Priority map is not a JSON object.",
                              'Write it like {"1-3": "Low", "4-6": "Medium", "7-10": "High"}.', field="alm_priority_map")
    out: list[tuple[int, int, str]] = []
    for key, value in raw.items():
        low_text, _, high_text = str(key).partition("-")
        try:
            low = int(low_text)
            high = int(high_text) if high_text else low
        except ValueError:
            raise ConfigError(f"Priority map key {key!r} is not a range like 7-10.",
                              'Use keys such as "1-3" or "7".', field="alm_priority_map") from None
        out.append((low, high, str(value)))
    return out


def resolve_target(client: OctaneClient, connection: ConnectionSettings, workspace: str, user: str, *,
                   lazy: bool = False) -> Target:
    """Resolve and check every setting of the connection's target.

    ``lazy`` (the sync adapter) leaves out the two look-ups a sync can do without: the backlog root
    (``parent`` stays empty; the adapter learns it from its listing or looks it up before creating) and,
    for the default priority map, the severity/priority list nodes (system list nodes are referenced by
    their logical names, which Octane accepts as ids). Everything the user named is still checked.
    The user look-up needs nothing the others find, so it is in flight while they run (one round trip less).
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="almdesk-octane-user") as pool:
        found_user = pool.submit(resolve.workspace_user, client, workspace, user) if user else None
        return _resolve(client, connection, workspace, user, found_user, lazy=lazy)


def _resolve(client: OctaneClient, connection: ConnectionSettings, workspace: str, user: str,
             user_lookup: Future[dict[str, Any] | None] | None, *, lazy: bool) -> Target:
    params = connection.params
    entity = str(params.get("item_type") or "defect")
    if entity not in DEFAULTS:
        raise ConfigError(f"Item type {entity!r} is not supported.", "Use defect or story.", field="item_type")
    d = DEFAULTS[entity]
    phases = resolve.phases(client, workspace, entity)
    by_id = {str(p["id"]): p for p in phases}

    def builtin(logical: str) -> str:
        """A default phase by logical name, or by its name where the space gave the built-in a random id."""
        if any(logical in (str(p.get("id")), str(p.get("logical_name"))) for p in phases):
            return logical
        return logical.rsplit(".", 1)[-1].replace("_", " ")

    def one(param: str, default: str) -> str:
        wanted = str(params.get(param) or "").strip() or builtin(default)
        return str(resolve.match([wanted], phases, f"{entity} phase", param)[0]["id"])

    done_names = split_list(str(params.get("done_phases") or "")) or [builtin(p) for p in d["done"]]
    done = {str(p["id"]) for p in resolve.match(done_names, phases, f"{entity} phase", "done_phases")}
    target = Target(workspace=workspace, entity=entity, collection=str(d["collection"]), phases=by_id,
                    new_phase=one("new_phase", d["new"]), done=done, close_phase=one("close_phase", d["close"]),
                    reopen_phase=one("reopen_phase", d["reopen"]), parent="", parent_is_root=True,
                    rank_field=str(d["rank_field"]), user_field=str(d["user_field"]))
    if target.close_phase not in done:
        raise ConfigError(f"Close-to phase {target.phase_name(target.close_phase)} is not one of the done phases.",
                          "Add it to Done phases, or close to a done phase.", field="close_phase")
    if target.reopen_phase in done:
        raise ConfigError(f"Reopen-to phase {target.phase_name(target.reopen_phase)} is a done phase.",
                          "Reopen to a phase that is not done, such as Opened or New.", field="reopen_phase")
    parent = str(params.get("parent") or "").strip()
    if parent:
        if not parent.isdigit():
            raise ConfigError(f"Parent must be a work item id (a number), not {parent!r}.",
                              "Enter the id of a feature or epic, or leave it empty for the backlog root.",
                              field="parent")
        found, _ = client.get_page(workspace, "work_items", query=q.eq("id", parent), fields=("name", "subtype"),
                                   limit=1)
        if not found:
            raise ConfigError(f"Parent work item {parent} was not found in workspace {workspace}.",
                              "Enter the id of a feature or epic, or leave it empty for the backlog root.",
                              field="parent")
        target.parent, target.parent_is_root = parent, found[0].get("subtype") == "work_item_root"
    elif not lazy:
        target.parent = resolve.backlog_root(client, workspace)
    map_text = str(params.get("alm_priority_map") or "")
    ranks = parse_rank_map(map_text, dict(d["map"]))
    if lazy and not map_text.strip():
        target.ranks = [(low, high, f"{d['rank_root']}.{name}") for low, high, name in ranks]
    else:
        nodes = client.all(workspace, "list_nodes",
                           query=q.ref("list_root", q.eq("logical_name", str(d["rank_root"]))),
                           fields=("name", "logical_name"))
        for low, high, name in ranks:
            node = resolve.match([name], nodes, target.rank_field, "alm_priority_map", resolve.SEVERITY_ALIASES)[0]
            target.ranks.append((low, high, str(node["id"])))
    if user and user_lookup is not None:
        found_user = user_lookup.result()
        if found_user is None:
            raise ConfigError(f"User {user!r} is not a member of workspace {workspace}.",
                              f"Use the login or email of a workspace member: "
                              f"{', '.join(resolve.some_users(client, workspace))}.", field="user")
        target.user_id = str(found_user["id"])
    return target
