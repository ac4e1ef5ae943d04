"""Entity collections of the Octane sandbox: listing (query/fields/order/paging), create and update.

Each function takes a :class:`~almdesk.sandbox.octane.data.Workspace` and returns a JSON-able body
or raises :class:`OctaneFault` carrying Octane's error shape and HTTP status.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from almdesk.sandbox.octane import query as q
from almdesk.sandbox.octane.data import ROOT_ID, WORK_ITEM_FIELDS, Workspace, iso, new_work_item

DEFAULT_LIMIT = 100
MAX_LIMIT = 2000
_CORRELATION = itertools.count(0x5A000)

# collection -> (stored type, subtype filter)
COLLECTIONS: dict[str, tuple[str, str | None]] = {
    "releases": ("release", None),
    "phases": ("phase", None),
    "transitions": ("transition", None),
    "list_nodes": ("list_node", None),
    "workspace_users": ("workspace_user", None),
    "work_items": ("work_item", None),
    "work_item_roots": ("work_item", "work_item_root"),
    "defects": ("work_item", "defect"),
    "stories": ("work_item", "story"),
    "features": ("work_item", "feature"),
    "user_tags": ("user_tag", None),
}
WORK_ITEM_TYPES = {"work_item", "work_item_root", "defect", "story", "feature", "epic"}
READ_ONLY = {"id", "type", "subtype", "creation_time", "last_modified", "version_stamp", "author"}
DRAFT_TYPES = {"defect", "story"}
# reference field -> (target type, list root for list nodes)
REFERENCES: dict[str, tuple[str, str | None]] = {
    "parent": ("work_item", None), "phase": ("phase", None), "release": ("release", None),
    "severity": ("list_node", "list_node.severity"), "priority": ("list_node", "list_node.priority"),
    "item_origin": ("list_node", "list_node.item_origin"), "owner": ("workspace_user", None),
    "author": ("workspace_user", None), "detected_by": ("workspace_user", None),
}
LABELS = {"severity": "Severity", "name": "Name", "phase": "Phase", "parent": "Backlog Item"}


class OctaneFault(Exception):
    """An error to answer with: HTTP status and Octane's error JSON."""

    def __init__(self, status: int, code: str, description: str, **extra: Any) -> None:
        super().__init__(description)
        self.status = status
        self.body = error_body(code, description, **extra)


def error_body(code: str, description: str, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"error_code": code, "correlation_id": f"{next(_CORRELATION):x}",
                            "description": description, "description_translated": description,
                            "properties": None, "business_error": 400 <= extra.pop("status", 400) < 500}
    body.update(extra)
    return body


def now_iso() -> str:
    return iso(datetime.now(UTC))


# --- reading --------------------------------------------------------------------------------


def lookup(ws: Workspace, reference: Mapping[str, Any]) -> dict[str, Any] | None:
    """The entity a reference points at; logical names work as ids."""
    kind = str(reference.get("type", ""))
    ident = str(reference.get("id", ""))
    store = ws.of_type("work_item" if kind in WORK_ITEM_TYPES else kind)
    found = store.get(ident)
    if found is None and kind in ("phase", "list_node"):
        found = next((e for e in store.values() if e.get("logical_name") == ident), None)
    return found


def context(ws: Workspace, user_name: str | None) -> q.Context:
    users = ws.of_type("workspace_user").values()
    me = next((u for u in users if user_name and u["name"] == user_name), None)
    current = next((r for r in ws.of_type("release").values() if r.get("is_default")), None)
    macros = {"current_user": {"type": "workspace_user", "id": me["id"]} if me else None,
              "current_release": {"type": "release", "id": current["id"]} if current else None}
    return q.Context(resolve=lambda r: lookup(ws, r), macros=macros)


def entity_type(entity: Mapping[str, Any]) -> str:
    if entity.get("type") == "work_item" and entity.get("subtype") not in (None, "work_item_root"):
        return str(entity["subtype"])
    if entity.get("type") == "work_item" and entity.get("subtype") == "work_item_root":
        return "work_item_root"
    return str(entity.get("type"))


def render_value(ws: Workspace | None, value: Any) -> Any:
    if isinstance(value, Mapping) and isinstance(value.get("data"), list) and ws is not None:  # multi-reference
        data = [render_value(ws, v) for v in value["data"]]
        return {"total_count": len(data), "data": data}
    if isinstance(value, Mapping) and "type" in value and "id" in value and ws is not None:
        target = lookup(ws, value)
        out: dict[str, Any] = {"type": entity_type(target) if target else value["type"], "id": value["id"]}
        if target is not None:
            for key in ("name", "logical_name"):
                if key in target:
                    out[key] = target[key]
        return out
    return value


def render(ws: Workspace | None, entity: Mapping[str, Any], fields: list[str] | None,
           collection_type: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"type": collection_type or entity_type(entity), "id": entity["id"]}
    keys = fields if fields is not None else [k for k in entity if k not in ("type", "id")]
    for key in keys:
        if key in ("type", "id"):
            continue
        out[key] = render_value(ws, entity.get(key))
    return out


def parse_fields(raw: str | None, known: set[str], kind: str) -> list[str] | None:
    if not raw:
        return None
    names = []
    depth = 0
    current = ""
    for ch in raw:  # drop sub-field selections such as release{name}
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == "," and depth == 0:
            names.append(current.strip())
            current = ""
        elif depth == 0:
            current += ch
    names.append(current.strip())
    names = [n for n in names if n]
    unknown = [n for n in names if n not in known]
    if unknown:
        raise OctaneFault(400, "platform.unknown_field",
                          f"Field '{unknown[0]}' does not exist for entity type '{kind}'.")
    return names


def sort_key(value: Any) -> tuple[int, float, str]:
    if isinstance(value, Mapping):
        value = value.get("id")
    if value is None:
        return (0, 0.0, "")
    try:
        return (1, float(value), "")
    except (TypeError, ValueError):
        return (2, 0.0, str(value).casefold())


def _sorter(name: str) -> Callable[[Mapping[str, Any]], tuple[int, float, str]]:
    return lambda entity: sort_key(entity.get(name))


def list_entities(ws: Workspace | None, entities: Iterable[dict[str, Any]], args: Mapping[str, str], *,
                  kind: str, known: set[str], ctx: q.Context, collection_type: str | None = None) -> dict[str, Any]:
    """The collection response: query filter, order_by, offset/limit paging and field selection."""
    items = list(entities)
    raw_query = args.get("query")
    if raw_query:
        text = raw_query.strip()
        if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
            text = text[1:-1]
        try:
            node = q.parse(text)
        except q.QueryError as exc:
            raise OctaneFault(400, "platform.query_parse_error", f"Invalid query: {exc}.") from None
        unknown = sorted(q.fields_of(node) - known)
        if unknown:
            raise OctaneFault(400, "platform.unknown_field",
                              f"Field '{unknown[0]}' does not exist for entity type '{kind}'.")
        try:
            items = [e for e in items if q.evaluate(node, e, ctx)]
        except KeyError as exc:
            raise OctaneFault(400, "platform.unknown_field",
                              f"Field '{exc.args[0]}' does not exist for the referenced entity.") from None
    order = args.get("order_by") or "id"
    for name in reversed([o.strip() for o in order.split(",") if o.strip()]):
        desc = name.startswith("-")
        name = name.lstrip("-+")
        if name not in known:
            raise OctaneFault(400, "platform.unknown_field", f"Cannot order by unknown field '{name}'.")
        items.sort(key=_sorter(name), reverse=desc)
    limit = _int_arg(args, "limit", DEFAULT_LIMIT)
    offset = _int_arg(args, "offset", 0)
    if limit < 1 or limit > MAX_LIMIT:
        raise OctaneFault(400, "platform.invalid_limit",
                          f"The limit must be between 1 and {MAX_LIMIT} (the maximum page size); got {limit}.")
    if offset < 0:
        raise OctaneFault(400, "platform.invalid_offset", f"The offset must be 0 or more; got {offset}.")
    fields = parse_fields(args.get("fields"), known, kind)
    page = items[offset:offset + limit]
    return {"total_count": len(items), "data": [render(ws, e, fields, collection_type) for e in page],
            "exceeds_total_count": False}


def _int_arg(args: Mapping[str, str], name: str, default: int) -> int:
    raw = args.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(str(raw))
    except ValueError:
        raise OctaneFault(400, f"platform.invalid_{name}", f"The {name} must be a whole number; got '{raw}'.") from None


def known_fields(ws: Workspace, kind: str) -> set[str]:
    if kind == "work_item":
        return set(WORK_ITEM_FIELDS)
    if kind == "user_tag":
        return {"id", "type", "name", "creation_time"}
    keys: set[str] = {"id", "type"}
    for entity in ws.of_type(kind).values():
        keys |= set(entity)
    return keys


# --- writing --------------------------------------------------------------------------------


class ItemError(Exception):
    def __init__(self, code: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.status = status


def _check_reference(ws: Workspace, name: str, value: Any, subtype: str) -> Any:
    target_type, root = REFERENCES[name]
    if value is None:
        if name in ("phase", "parent"):
            raise ItemError("platform.missing_required_field", f"Field '{LABELS[name]}' cannot be empty.")
        return None
    if not isinstance(value, Mapping) or "id" not in value:
        raise ItemError("platform.invalid_field_value",
                        f"Field '{name}' must be a reference like {{\"type\": \"{target_type}\", \"id\": \"…\"}}.")
    kind = str(value.get("type") or target_type)
    if (kind in WORK_ITEM_TYPES) != (target_type == "work_item") or (
            target_type != "work_item" and kind != target_type):
        raise ItemError("platform.invalid_field_value",
                        f"Field '{name}' must reference a {target_type}, not a {kind}.")
    target = lookup(ws, {"type": kind, "id": value["id"]})
    if target is None:
        raise ItemError("platform.entity_not_found", f"The {target_type} with id '{value['id']}' referenced by "
                                                     f"field '{name}' was not found.", 404)
    if root and (target.get("list_root") or {}).get("id") != root:
        raise ItemError("platform.invalid_field_value",
                        f"List node '{value['id']}' is not a value of the list '{root}' used by field '{name}'.")
    if name == "phase" and target.get("entity") != subtype:
        raise ItemError("platform.invalid_field_value",
                        f"Phase '{target['name']}' ({target['id']}) does not belong to entity '{subtype}'.")
    if name == "parent" and target.get("subtype") not in ("work_item_root", "feature", "epic"):
        raise ItemError("platform.invalid_field_value", f"A {subtype} cannot be placed under work item "
                                                        f"{target['id']} (a {target.get('subtype')}).")
    return {"type": entity_type(target), "id": target["id"]}


def _apply(ws: Workspace, item: dict[str, Any], values: Mapping[str, Any], *, creating: bool) -> None:
    subtype = str(item["subtype"])
    for name, value in values.items():
        if name in ("type", "id"):
            continue
        if name not in WORK_ITEM_FIELDS:
            raise ItemError("platform.unknown_field", f"The field '{name}' does not exist for entity '{subtype}'.")
        if name in READ_ONLY:
            raise ItemError("platform.modify_non_editable_field", f"The field '{name}' is read-only.", 403)
        if name in REFERENCES:
            item[name] = _check_reference(ws, name, value, subtype)
        elif name == "name":
            if not isinstance(value, str) or not value.strip():
                raise ItemError("platform.missing_required_field", "Field 'Name' is required.")
            item[name] = value
        elif name == "is_draft":
            if not isinstance(value, bool):
                raise ItemError("platform.invalid_field_value", "Field 'is_draft' must be true or false.")
            if value and not creating and not item.get("is_draft"):
                raise ItemError("platform.invalid_field_value", "An item that is not a draft cannot become one.")
            item[name] = value
        elif name == "description":
            item[name] = "" if value is None else str(value)
        elif name == "user_tags":
            item[name] = _check_tags(ws, value)
        else:
            item[name] = value


def _check_tags(ws: Workspace, value: Any) -> dict[str, Any]:
    """A multi-reference to user tags: ``{"data": [{"type": "user_tag", "id": …}, …]}`` (ids must exist)."""
    data = value.get("data") if isinstance(value, Mapping) else None
    if not isinstance(data, list) or not all(isinstance(v, Mapping) and "id" in v for v in data):
        raise ItemError("platform.invalid_field_value",
                        'Field \'user_tags\' must be like {"data": [{"type": "user_tag", "id": "…"}]}.')
    tags = ws.of_type("user_tag")
    for v in data:
        if str(v["id"]) not in tags:
            raise ItemError("platform.entity_not_found", f"The user_tag with id '{v['id']}' was not found.", 404)
    return {"data": [{"type": "user_tag", "id": str(v["id"])} for v in data]}


def create_user_tag(ws: Workspace, values: Any) -> dict[str, Any]:
    """A new user tag (names are unique in a workspace, ignoring case, as in Octane)."""
    name = values.get("name") if isinstance(values, Mapping) else None
    if not isinstance(name, str) or not name.strip():
        raise ItemError("platform.missing_required_field", "Field 'Name' is required.")
    if any(str(t.get("name", "")).casefold() == name.strip().casefold() for t in ws.of_type("user_tag").values()):
        raise ItemError("platform.duplicate_entity_error", f"A user tag named '{name.strip()}' already exists.", 409)
    tag = {"id": ws.new_id(), "type": "user_tag", "name": name.strip(), "creation_time": now_iso()}
    return ws.add("user_tag", tag)


def _validate_required(item: Mapping[str, Any]) -> None:
    if item.get("is_draft"):
        return
    if item["subtype"] == "defect" and not item.get("severity"):
        raise ItemError("platform.missing_required_field",
                        "Field 'Severity' is required. Set it, or create the defect as a draft.")


TRANSITION_REFUSED = "platform.workflow_transition_not_allowed"  # this sandbox's code (Octane's is unpublished)


def _follow_workflow(ws: Workspace, item: Mapping[str, Any], changed: Mapping[str, Any]) -> None:
    """A phase change must be one of the workflow's transitions (``transitions`` collection)."""
    before = (item.get("phase") or {}).get("id")
    after = (changed.get("phase") or {}).get("id")
    if before is None or after is None or before == after:
        return
    allowed: dict[str, set[str]] = {}
    for t in ws.of_type("transition").values():
        allowed.setdefault(t["source_phase"]["id"], set()).add(t["target_phase"]["id"])
    if after not in allowed.get(before, set()):
        phases = ws.of_type("phase")
        names = [phases[p]["name"] for p in sorted(allowed.get(before, set())) if p in phases]
        raise ItemError(TRANSITION_REFUSED,
                        f"The workflow does not allow moving {item['subtype']} {item['id']} from phase "
                        f"'{phases[before]['name'] if before in phases else before}' to "
                        f"'{phases[after]['name'] if after in phases else after}'. Allowed next phases: "
                        f"{', '.join(names) or 'none'}.")


def create_work_item(ws: Workspace, subtype: str, values: Mapping[str, Any], author_id: str | None) -> dict[str, Any]:
    if not isinstance(values, Mapping):
        raise ItemError("platform.invalid_request_body", "Each entry of data must be a JSON object.")
    if "id" in values:
        raise ItemError("platform.modify_non_editable_field", "The field 'id' cannot be set when creating.", 403)
    if "subtype" in values and subtype == "work_item":
        subtype = str(values["subtype"])
        values = {k: v for k, v in values.items() if k != "subtype"}
    if subtype not in ("defect", "story", "feature"):
        raise ItemError("platform.invalid_field_value", f"Cannot create work items of subtype '{subtype}'.")
    if not isinstance(values.get("name"), str) or not values["name"].strip():
        raise ItemError("platform.missing_required_field", "Field 'Name' is required.")
    item = new_work_item(subtype, "pending", values["name"], is_draft=subtype in DRAFT_TYPES,
                         phase={"type": "phase", "id": f"phase.{subtype}.new"},
                         parent={"type": "work_item_root", "id": ROOT_ID},
                         author={"type": "workspace_user", "id": author_id} if author_id else None)
    _apply(ws, item, values, creating=True)
    _validate_required(item)
    item["id"] = ws.new_id()
    item["creation_time"] = item["last_modified"] = now_iso()
    ws.add("work_item", item)
    return item


def update_work_item(ws: Workspace, subtype: str | None, ident: str, values: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(values, Mapping):
        raise ItemError("platform.invalid_request_body", "Each entry of data must be a JSON object.")
    item = ws.of_type("work_item").get(str(ident))
    if item is None or (subtype is not None and item["subtype"] != subtype):
        raise ItemError("platform.entity_not_found", f"The {subtype or 'work item'} with id '{ident}' was not found.",
                        404)
    if "id" in values and str(values["id"]) != str(ident):
        raise ItemError("platform.invalid_field_value", "The id in the body differs from the id in the URL.")
    draft = dict(item)
    _apply(ws, draft, values, creating=False)
    _validate_required(draft)
    _follow_workflow(ws, item, draft)
    draft["last_modified"] = now_iso()
    draft["version_stamp"] = int(item.get("version_stamp", 1)) + 1
    item.update(draft)
    return item


def bulk(results: list[dict[str, Any] | ItemError], render_one: Any, ok_status: int) -> tuple[int, dict[str, Any]]:
    """Octane's bulk answer: all ok -> ok_status; any failure -> 409 with errors (by index) and data."""
    data = [render_one(r) for r in results if not isinstance(r, ItemError)]
    errors = [dict(error_body(r.code, r.description, status=r.status), index=i)
              for i, r in enumerate(results) if isinstance(r, ItemError)]
    if not errors:
        return ok_status, {"total_count": len(data), "data": data}
    if len(results) == 1:
        err = results[0]
        assert isinstance(err, ItemError)
        return err.status, error_body(err.code, err.description, status=err.status)
    return 409, {"total_count": len(data), "data": data, "errors": errors}
