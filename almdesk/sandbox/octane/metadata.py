"""Octane's metadata API in the sandbox: ``metadata/entities`` and ``metadata/fields`` of a workspace.

``GET …/metadata/entities[?query="name EQ 'defect'"]`` lists entity types with their features:
``hierarchy`` (``root {"type": "work_item_root", "id": "1001"}``, ``parent_types``), ``rest`` (url,
methods), ``subtype_of``, ``phases``, ``drafts`` (where a POST without ``is_draft: false`` makes a
draft), ``attachments``, ``comments``, ``user_defined_fields``, ``business_rules``.
``GET …/metadata/fields[?query="entity_name EQ 'defect'; required EQ true"]`` lists fields with
``name``, ``entity_name``, ``label``, ``field_type``, ``required``, ``editable``, ``final``,
``field_type_data`` (reference targets). As Octane documents, metadata queries take ``;`` (AND)
only: ``||`` and ``limit``/``offset`` answer 400. Follows admhelp's "Entity metadata reference" and
"Field metadata reference" (Octane 16.x / ValueEdge 24.4).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from almdesk.sandbox.octane import query as q
from almdesk.sandbox.octane.data import ROOT_ID
from almdesk.sandbox.octane.entities import DRAFT_TYPES, REFERENCES, OctaneFault

WORK_ITEM_METHODS = ["GET", "POST", "PUT", "DELETE"]
READ_METHODS = ["GET"]
# entity name -> (label, collection url, subtype_of, phases?, methods)
ENTITIES: dict[str, tuple[str, str, str | None, bool, list[str]]] = {
    "work_item": ("Backlog Item", "work_items", None, True, WORK_ITEM_METHODS),
    "work_item_root": ("Backlog", "work_item_roots", "work_item", False, READ_METHODS),
    "defect": ("Defect", "defects", "work_item", True, WORK_ITEM_METHODS),
    "story": ("User Story", "stories", "work_item", True, WORK_ITEM_METHODS),
    "feature": ("Feature", "features", "work_item", True, WORK_ITEM_METHODS),
    "phase": ("Phase", "phases", None, False, READ_METHODS),
    "transition": ("Transition", "transitions", None, False, READ_METHODS),
    "release": ("Release", "releases", None, False, READ_METHODS),
    "list_node": ("List Node", "list_nodes", None, False, READ_METHODS),
    "workspace_user": ("Workspace User", "workspace_users", None, False, READ_METHODS),
}
PARENT_TYPES = {"defect": ["feature", "work_item_root"], "story": ["feature", "work_item_root"],
                "feature": ["epic", "work_item_root"]}
# required fields of a non-draft item (what the sandbox's create/update enforce)
REQUIRED = {"defect": {"name", "phase", "parent", "severity"}, "story": {"name", "phase", "parent"},
            "feature": {"name", "phase", "parent"}}
WORK_ITEM_FIELDS: dict[str, tuple[str, str]] = {  # name -> (label, field_type)
    "id": ("ID", "string"), "name": ("Name", "string"), "description": ("Description", "memo"),
    "subtype": ("Subtype", "string"), "creation_time": ("Creation time", "date_time"),
    "last_modified": ("Last modified", "date_time"), "version_stamp": ("Version stamp", "integer"),
    "is_draft": ("Is draft", "boolean"), "parent": ("Backlog Item", "reference"), "phase": ("Phase", "reference"),
    "severity": ("Severity", "reference"), "priority": ("Priority", "reference"),
    "release": ("Release", "reference"), "owner": ("Owner", "reference"), "author": ("Author", "reference"),
    "detected_by": ("Detected by", "reference"), "item_origin": ("Item origin", "reference"),
    "user_tags": ("Tags", "reference"),
}
READ_ONLY_FIELDS = {"id", "subtype", "creation_time", "last_modified", "version_stamp", "author"}


def entity_metadata(name: str) -> dict[str, Any]:
    label, url, parent, phases, methods = ENTITIES[name]
    features: list[dict[str, Any]] = [{"name": "rest", "url": url, "methods": methods}]
    if parent == "work_item" or name == "work_item":
        features.append({"name": "hierarchy", "root": {"type": "work_item_root", "id": ROOT_ID},
                         "parent_types": PARENT_TYPES.get(name, ["work_item_root"]), "child_types": []})
        features += [{"name": "attachments"}, {"name": "comments"}, {"name": "user_defined_fields", "max": 400},
                     {"name": "business_rules"}]
    if parent:
        features.append({"name": "subtype_of", "type": parent})
    if phases:
        features.append({"name": "phases"})
    if name in DRAFT_TYPES:
        features.append({"name": "drafts"})
    return {"type": "entity_metadata", "name": name, "label": label, "can_modify_label": False,
            "features": features}


def field_metadata(entity: str) -> list[dict[str, Any]]:
    if entity not in ENTITIES:
        return []
    if ENTITIES[entity][2] != "work_item" and entity != "work_item":
        names = {"id": ("ID", "string"), "name": ("Name", "string")}
    else:
        names = WORK_ITEM_FIELDS
    out = []
    for name, (label, field_type) in names.items():
        field: dict[str, Any] = {"type": "field_metadata", "name": name, "entity_name": entity, "label": label,
                                 "field_type": field_type, "required": name in REQUIRED.get(entity, {"id"}),
                                 "editable": name not in READ_ONLY_FIELDS, "final": name == "id",
                                 "filterable": True, "sortable": field_type != "memo"}
        if field_type == "reference":
            target = "workspace_user" if name == "user_tags" else REFERENCES.get(name, ("work_item", None))[0]
            field["field_type_data"] = {"targets": [{"type": "user_tag" if name == "user_tags" else target}],
                                        "multiple": name == "user_tags"}
        out.append(field)
    return out


def _filter(items: list[dict[str, Any]], args: Mapping[str, str], kind: str) -> dict[str, Any]:
    for name in ("limit", "offset"):
        if name in args:
            raise OctaneFault(400, "platform.invalid_parameter",
                              f"Metadata queries do not take '{name}': they always answer everything.")
    raw = (args.get("query") or "").strip()
    if raw:
        text = raw[1:-1] if len(raw) >= 2 and raw[0] == raw[-1] == '"' else raw
        try:
            node = q.parse(text)
        except q.QueryError as exc:
            raise OctaneFault(400, "platform.query_parse_error", f"Invalid query: {exc}.") from None
        if _has_or(node):
            raise OctaneFault(400, "platform.query_parse_error",
                              "Metadata queries support only ';' (AND) between conditions, not '||'.")
        known = set(items[0]) if items else set()
        unknown = sorted(q.fields_of(node) - known - {"entity_name", "name", "required"})
        if unknown:
            raise OctaneFault(400, "platform.unknown_field", f"Field '{unknown[0]}' does not exist for {kind}.")
        ctx = q.Context(resolve=lambda ref: None, macros={})
        items = [i for i in items if _matches(node, i, ctx)]
    return {"total_count": len(items), "data": items, "exceeds_total_count": False}


def _has_or(node: q.Node) -> bool:
    if isinstance(node, q.Or):
        return True
    if isinstance(node, q.And):
        return any(_has_or(p) for p in node.parts)
    if isinstance(node, q.Not):
        return _has_or(node.part)
    return False


def _matches(node: q.Node, item: dict[str, Any], ctx: q.Context) -> bool:
    try:
        return q.evaluate(node, item, ctx)
    except KeyError:
        return False


def entities(args: Mapping[str, str]) -> dict[str, Any]:
    return _filter([entity_metadata(n) for n in ENTITIES], args, "entity metadata")


def fields(args: Mapping[str, str]) -> dict[str, Any]:
    return _filter([f for n in ENTITIES for f in field_metadata(n)], args, "field metadata")
