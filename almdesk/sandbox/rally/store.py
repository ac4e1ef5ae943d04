"""The sandbox's Rally objects: storage, reference indexes, permissions and validated writes.

Objects are plain dicts with a ``_type`` (the type's element name); references are stored as the
target's ObjectID, ``Tags`` as a list of ObjectIDs, and collections that Rally computes (a story's
``Tasks``, a workspace's ``Projects``…) come from an inverse index kept up to date on every write.
Write problems come back as Rally's ``Errors``/``Warnings`` strings, never as exceptions.
"""

from __future__ import annotations

import random
import re
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from almdesk.sandbox.rally.schema import ARTIFACT_TYPES, TYPES, Attr, TypeDef, display_name, type_for

Obj = dict[str, Any]
WRITE_ROLES = ("Editor", "Project Admin")
_OID_RE = re.compile(r"(?:^|/)(-?\d+)(?:\.js)?/?$")


def iso(moment: datetime) -> str:
    """Rally's timestamp format: ``2024-03-01T12:00:00.000Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def ref_oid(value: Any) -> int | None:
    """The ObjectID of a reference given as ``/defect/12``, a full ``_ref`` URL, ``{"_ref": …}`` or an int."""
    if isinstance(value, dict):
        value = value.get("_ref")
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if not isinstance(value, str):
        return None
    match = _OID_RE.search(value.split("?")[0].strip())
    return int(match.group(1)) if match else None


class WriteResult:
    """Errors and warnings of one write, in Rally's words."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.warnings: list[str] = []


class Store:
    """All objects of one sandbox, with a seeded id/uuid generator and a clock."""

    def __init__(self, seed: int = 0) -> None:
        self.rng = random.Random(seed)
        self.objects: dict[int, Obj] = {}
        self.by_type: dict[str, dict[int, Obj]] = defaultdict(dict)
        self.inverse: dict[tuple[str, str], dict[int, set[int]]] = defaultdict(lambda: defaultdict(set))
        self.counters: dict[tuple[int, str], int] = defaultdict(int)
        self.next_oid = 41_000_000_000 + (seed % 1000) * 10_000_000
        self.next_attr_oid = -50_000
        self.sequence = 0  # creation order: the default order of query results
        self.api_keys: dict[str, int] = {}
        self.read_only_keys: set[str] = set()
        self.passwords: dict[str, str] = {}
        self.base_time = datetime(2024, 1, 8, 9, 0, tzinfo=UTC)

    # --- ids and time -----------------------------------------------------------------------
    def new_oid(self, negative: bool = False) -> int:
        if negative:
            self.next_attr_oid -= 1
            return self.next_attr_oid
        self.next_oid += self.rng.randint(1, 97)
        return self.next_oid

    def new_uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def now(self) -> str:
        return iso(datetime.now(UTC))

    def past(self, days: float) -> str:
        return iso(self.base_time + timedelta(days=days))

    # --- access -----------------------------------------------------------------------------
    def get(self, oid: int | None, type_name: str | None = None) -> Obj | None:
        obj = self.objects.get(oid) if oid is not None else None
        if obj is None or type_name is None:
            return obj
        if type_name == "Artifact":
            return obj if obj["_type"] in ARTIFACT_TYPES else None
        return obj if obj["_type"].lower() == type_name.lower() else None

    def typedef(self, obj: Obj) -> TypeDef:
        td = type_for(obj["_type"])
        assert td is not None
        return td

    def collection(self, obj: Obj, attr: Attr) -> list[int]:
        if attr.inverse:
            return sorted(self.inverse[(attr.target, attr.inverse)].get(obj["ObjectID"], ()))
        return list(obj.get(attr.name) or [])

    def find(self, type_name: str, **fields: Any) -> Obj | None:
        for obj in self.by_type[type_name].values():
            if all(obj.get(k) == v for k, v in fields.items()):
                return obj
        return None

    # --- permissions ------------------------------------------------------------------------
    def role(self, user: Obj, project_oid: int | None) -> str | None:
        if project_oid is None:
            return None
        if user.get("SubscriptionAdmin"):
            return "Project Admin"
        perm = self.find("ProjectPermission", User=user["ObjectID"], Project=project_oid)
        return perm["Role"] if perm else None

    def visible(self, user: Obj, obj: Obj) -> bool:
        if obj["_type"] == "Project":
            return self.role(user, obj["ObjectID"]) is not None
        if obj["_type"] == "Workspace":
            return user.get("SubscriptionAdmin") or any(
                self.role(user, p) for p in self.inverse[("Project", "Workspace")].get(obj["ObjectID"], ()))
        project = obj.get("Project")
        if project is not None and obj["_type"] != "ProjectPermission":
            return self.role(user, project) is not None
        return True

    # --- raw creation (seeding and validated writes both end here) --------------------------
    def insert(self, type_name: str, fields: dict[str, Any], *, oid: int | None = None,
               created: str | None = None) -> Obj:
        td = type_for(type_name)
        assert td is not None, type_name
        self.sequence += 1
        obj: Obj = {"_type": td.element, "_version": 1, "_seq": self.sequence}
        obj["ObjectID"] = oid if oid is not None else self.new_oid()
        obj["ObjectUUID"] = self.new_uuid()
        obj["CreationDate"] = created or self.now()
        for attr in td.attrs:
            if attr.default is not None:
                obj[attr.name] = attr.default == "true" if attr.kind == "BOOLEAN" else attr.default
        if td.element in ARTIFACT_TYPES:
            obj["Tags"] = []
            obj["LastUpdateDate"] = obj["CreationDate"]
        for name, value in fields.items():
            obj[name] = value
        self.objects[obj["ObjectID"]] = obj
        self.by_type[td.element][obj["ObjectID"]] = obj
        for attr in td.attrs:
            if attr.kind == "OBJECT" and obj.get(attr.name) is not None:
                self.inverse[(td.element, attr.name)][obj[attr.name]].add(obj["ObjectID"])
        if td.prefix and "FormattedID" not in fields:
            key = (obj.get("Workspace") or 0, td.prefix)
            self.counters[key] += 1
            obj["FormattedID"] = f"{td.prefix}{self.counters[key]}"
        if td.element == "Task" and obj.get("WorkProduct") is not None:
            obj["TaskIndex"] = len(self.inverse[("Task", "WorkProduct")][obj["WorkProduct"]]) - 1
        if td.element in ARTIFACT_TYPES and "DragAndDropRank" not in obj:
            obj["DragAndDropRank"] = f"P!{obj['ObjectID']:012d}"
        return obj

    def set_ref(self, obj: Obj, name: str, value: int | None) -> None:
        old = obj.get(name)
        if old is not None:
            self.inverse[(obj["_type"], name)][old].discard(obj["ObjectID"])
        obj[name] = value
        if value is not None:
            self.inverse[(obj["_type"], name)][value].add(obj["ObjectID"])

    def delete(self, obj: Obj) -> None:
        td = self.typedef(obj)
        for attr in td.attrs:
            if attr.kind == "OBJECT" and obj.get(attr.name) is not None:
                self.inverse[(td.element, attr.name)][obj[attr.name]].discard(obj["ObjectID"])
        self.objects.pop(obj["ObjectID"], None)
        self.by_type[td.element].pop(obj["ObjectID"], None)

    # --- validated writes (what /create and /{oid} do) --------------------------------------
    def create(self, td: TypeDef, body: dict[str, Any], user: Obj, *, workspace: int | None,
               project: int | None) -> tuple[Obj | None, WriteResult]:
        result = WriteResult()
        if not td.creatable:
            result.errors.append(f"Cannot create objects of type {td.element}")
            return None, result
        values = self._convert(td, body, result, current=None)
        if td.element == "Task" and values.get("Project") is None and values.get("WorkProduct") is not None:
            parent = self.get(values["WorkProduct"])
            values["Project"] = parent.get("Project") if parent else None
        if "Project" in {a.name for a in td.attrs} and values.get("Project") is None:
            values["Project"] = project
        for attr in td.attrs:
            if attr.required and values.get(attr.name) in (None, ""):
                result.errors.append(f"Validation error: {td.element}.{attr.name} should not be null")
        proj = self.get(values.get("Project"), "Project")
        if proj is not None:
            values["Workspace"] = proj["Workspace"]
            if proj.get("State") == "Closed":
                result.errors.append(f'Could not create: Project "{proj["Name"]}" is closed')
            elif td.element != "Tag" and self.role(user, proj["ObjectID"]) not in WRITE_ROLES:
                result.errors.append(f"Not authorized to perform action: Create {td.element} in Project "
                                     f"\"{proj['Name']}\" (your role there is "
                                     f"{self.role(user, proj['ObjectID']) or 'No Access'})")
        elif td.element == "Tag":
            values["Workspace"] = workspace
            if self.find("Tag", Workspace=workspace, Name=values.get("Name")):
                result.errors.append(f'Validation error: A Tag named "{values.get("Name")}" already exists')
        if result.errors:
            return None, result
        tags = values.pop("Tags", None)
        if td.element == "Defect":
            values["SubmittedBy"] = user["ObjectID"]
        obj = self.insert(td.element, values)
        if tags is not None:
            obj["Tags"] = tags
        self._side_effects(obj, None)
        return obj, result

    def update(self, obj: Obj, body: dict[str, Any], user: Obj) -> WriteResult:
        td = self.typedef(obj)
        result = WriteResult()
        project = obj.get("Project")
        if td.element in ARTIFACT_TYPES and self.role(user, project) not in WRITE_ROLES:
            proj = self.get(project)
            result.errors.append(f"Not authorized to perform action: Update {td.element} {obj.get('FormattedID')}"
                                 f" in Project \"{proj['Name'] if proj else project}\"")
            return result
        before = dict(obj)
        values = self._convert(td, body, result, current=obj)
        for attr in td.attrs:
            if attr.required and attr.name in values and values[attr.name] in (None, ""):
                result.errors.append(f"Validation error: {td.element}.{attr.name} should not be null")
        if result.errors:
            return result
        for name, value in values.items():
            found = td.attr(name)
            if found is not None and found.kind == "OBJECT":
                self.set_ref(obj, name, value)
            else:
                obj[name] = value
        if "Project" in values and values["Project"] is not None:
            proj = self.get(values["Project"])
            if proj is not None:
                obj["Workspace"] = proj["Workspace"]
        obj["_version"] = obj.get("_version", 1) + 1
        if td.element in ARTIFACT_TYPES:
            obj["LastUpdateDate"] = self.now()
        self._side_effects(obj, before)
        return result

    def _side_effects(self, obj: Obj, before: Obj | None) -> None:
        def changed(name: str, value: str) -> bool:
            return obj.get(name) == value and (before is None or before.get(name) != value)

        if changed("ScheduleState", "In-Progress"):
            obj["InProgressDate"] = self.now()
        if changed("ScheduleState", "Accepted"):
            obj["AcceptedDate"] = self.now()
        if changed("State", "Closed") and obj["_type"] == "Defect":
            obj["ClosedDate"] = self.now()

    def _convert(self, td: TypeDef, body: dict[str, Any], result: WriteResult,
                 current: Obj | None) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for key, raw in body.items():
            attr = td.attr(key)
            if attr is None or attr.hidden:
                result.warnings.append(f"Ignored JSON element {td.element}.{key} during processing of this request.")
                continue
            if attr.read_only:
                if current is None or str(current.get(attr.name)) != str(raw):
                    result.warnings.append(f"Ignored read-only attribute {td.element}.{attr.name} during "
                                           "processing of this request.")
                continue
            converted = self._value(td, attr, raw, result)
            if converted is not _INVALID:
                values[attr.name] = converted
        return values

    def _value(self, td: TypeDef, attr: Attr, raw: Any, result: WriteResult) -> Any:
        label = display_name(attr)
        if raw is None or (raw == "" and attr.kind in ("OBJECT", "INTEGER", "QUANTITY", "DATE")):
            return None
        kind = attr.kind
        if kind == "OBJECT":
            oid = ref_oid(raw)
            target = self.get(oid, attr.target)
            if target is None:
                result.errors.append(f"Could not read: Could not read referenced object {raw if not isinstance(raw, dict) else raw.get('_ref')}"
                                     f" for {td.element}.{attr.name}")
                return _INVALID
            return oid
        if kind == "COLLECTION":
            if attr.name != "Tags" or not isinstance(raw, list):
                result.errors.append(f"Could not set value for {label}: expected a list of Tag references")
                return _INVALID
            oids = []
            for item in raw:
                oid = ref_oid(item)
                if self.get(oid, "Tag") is None:
                    result.errors.append(f"Could not read: Could not read referenced object {item} for {label}")
                    return _INVALID
                oids.append(oid)
            return oids
        if kind in ("INTEGER", "QUANTITY"):
            try:
                return int(raw) if kind == "INTEGER" else float(raw)
            except (TypeError, ValueError):
                result.errors.append(f'Could not convert: Cannot convert "{raw}" to a number for {label}')
                return _INVALID
        if kind == "BOOLEAN":
            if isinstance(raw, bool):
                return raw
            if str(raw).lower() in ("true", "false"):
                return str(raw).lower() == "true"
            result.errors.append(f'Could not convert: Cannot convert "{raw}" to a boolean for {label}')
            return _INVALID
        text = str(raw)
        if attr.allowed and text not in attr.allowed:
            if text == "" and "None" in attr.allowed:
                return "None"
            result.errors.append(f'Could not set value for {label}: "{text}" is not an allowed value '
                                 f'(allowed: {", ".join(attr.allowed)})')
            return _INVALID
        if attr.max_length and len(text) > attr.max_length:
            result.errors.append(f"Validation error: {td.element}.{attr.name} length must be less than or equal "
                                 f"to {attr.max_length}")
            return _INVALID
        return text


_INVALID = object()


def install_type_definitions(store: Store, workspace: int) -> None:
    """Create the TypeDefinition / AttributeDefinition / AllowedAttributeValue objects of a workspace."""
    typedefs: dict[str, int] = {}
    for td in TYPES:
        tdef = store.insert("TypeDefinition", {
            "Workspace": workspace, "Name": td.display if td.element != "HierarchicalRequirement"
            else "Hierarchical Requirement", "ElementName": td.element, "DisplayName": td.display,
            "TypePath": td.element, "IDPrefix": td.prefix or None, "Abstract": td.abstract,
            "Creatable": td.creatable, "Queryable": True, "ReadOnly": not td.creatable,
            "Parent": typedefs.get(td.parent)}, oid=store.new_oid(negative=True), created=store.past(-300))
        typedefs[td.element] = tdef["ObjectID"]
        for attr in td.attrs:
            if attr.hidden:
                continue
            adef = store.insert("AttributeDefinition", {
                "TypeDefinition": tdef["ObjectID"], "Name": display_name(attr), "ElementName": attr.name,
                "AttributeType": attr.kind, "Required": attr.required, "ReadOnly": attr.read_only,
                "Custom": False, "Hidden": False, "Constrained": bool(attr.allowed), "Filterable": True,
                "MaxLength": attr.max_length or -1}, oid=store.new_oid(negative=True), created=store.past(-300))
            for value in attr.allowed:
                store.insert("AllowedAttributeValue", {"AttributeDefinition": adef["ObjectID"],
                                                       "StringValue": value},
                             oid=store.new_oid(negative=True), created=store.past(-300))
