"""Rendering Rally objects as WSAPI v2.0 JSON (``_ref``, ``fetch``, collection summaries) and running queries.

``fetch`` is ``true`` (every attribute), absent/``false`` (only the ``_ref`` stub) or a list of
attribute names, applied to nested objects too, as Rally does. A query result is a
``QueryResult`` with ``TotalResultCount``, 1-based ``StartIndex``, ``PageSize`` (at most 2000) and
``Results``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from almdesk.sandbox.rally.query import QueryError, Ref, evaluate, parse
from almdesk.sandbox.rally.schema import ARTIFACT_TYPES, TypeDef, type_for
from almdesk.sandbox.rally.store import Obj, Store

API = "/slm/webservice/v2.0"
MAX_PAGESIZE = 2000
DEFAULT_PAGESIZE = 20
VERSION = {"_rallyAPIMajor": "2", "_rallyAPIMinor": "0"}


class Fetch:
    """Which attributes to render: all, none, or a case-insensitive set of names."""

    def __init__(self, spec: str | None, default_all: bool = False) -> None:
        spec = (spec or "").strip().strip('"').strip("'")
        self.all = spec.lower() == "true" or (default_all and not spec)
        self.names = {n.strip().lower() for n in spec.split(",") if n.strip()} if not self.all else set()
        self.names.discard("false")
        self.names.discard("true")

    @property
    def none(self) -> bool:
        return not self.all and not self.names

    def includes(self, name: str) -> bool:
        return self.all or name.lower() in self.names


class Renderer:
    """Turns store objects into JSON for one base URL."""

    def __init__(self, store: Store, base_url: str) -> None:
        self.store = store
        self.base = base_url.rstrip("/") + API

    def ref(self, obj: Obj) -> str:
        return f"{self.base}/{obj['_type'].lower()}/{obj['ObjectID']}"

    def ref_name(self, obj: Obj) -> str:
        if obj["_type"] == "User":
            return str(obj.get("DisplayName") or obj.get("UserName"))
        if obj["_type"] == "AllowedAttributeValue":
            return str(obj.get("StringValue"))
        if obj["_type"] == "UserProfile":
            return "UserProfile"
        return str(obj.get("Name") or obj.get("ElementName") or obj["_type"])

    def stub(self, obj: Obj) -> dict[str, Any]:
        return {**VERSION, "_ref": self.ref(obj), "_refObjectUUID": obj["ObjectUUID"],
                "_refObjectName": self.ref_name(obj), "_type": obj["_type"]}

    def render(self, obj: Obj, fetch: Fetch, *, nested: bool = False) -> dict[str, Any]:
        out = self.stub(obj)
        if obj["_type"] == "AllowedAttributeValue":
            out["StringValue"] = obj.get("StringValue")  # Rally always sends it; pyral reads it unfetched
        if fetch.none:
            return out
        td = self.store.typedef(obj)
        if not nested:
            out["_objectVersion"] = str(obj.get("_version", 1))
        for attr in td.attrs:
            if attr.hidden or not fetch.includes(attr.name):
                continue
            if nested and fetch.all:
                continue
            value = obj.get(attr.name)
            if attr.kind == "OBJECT":
                target = self.store.get(value)
                if target is None:
                    out[attr.name] = None
                elif nested:
                    out[attr.name] = self.stub(target)
                else:
                    out[attr.name] = self.render(target, fetch, nested=True)
            elif attr.kind == "COLLECTION":
                if nested:
                    continue
                members = self.store.collection(obj, attr)
                summary: dict[str, Any] = {**VERSION, "_ref": f"{self.base}/{td.element}/{obj['ObjectID']}/{attr.name}",
                                           "_type": attr.target, "Count": len(members)}
                if attr.name == "Tags":
                    tags = [t for t in (self.store.get(m) for m in members) if t is not None]
                    summary["_tagsNameArray"] = [{"Name": t["Name"], "_ref": f"/tag/{t['ObjectID']}"} for t in tags]
                out[attr.name] = summary
            else:
                out[attr.name] = value
        return out

    def read(self, obj: Obj, fetch: Fetch) -> dict[str, Any]:
        """A single-object read: ``{"Defect": {…, "Errors": [], "Warnings": []}}``."""
        body = self.render(obj, fetch)
        body["Errors"] = []
        body["Warnings"] = []
        return {obj["_type"]: body}


# ---------------------------------------------------------------------------------------------
# Queries


def attr_check(td: TypeDef, path: tuple[str, ...], segment: str) -> None:
    """Fail like Rally when a query names an attribute the type does not have."""
    current: list[TypeDef] = [td]
    for i, name in enumerate(path):
        found = None
        for cand in current:
            found = cand.attr(name)
            if found is not None:
                break
        if found is None or found.hidden:
            raise QueryError(f'Could not find attribute "{name}" on type {current[0].element} in the query '
                             f'segment "{segment}"')
        if i < len(path) - 1:
            if found.kind not in ("OBJECT", "COLLECTION"):
                raise QueryError(f'Could not traverse "{name}" in the query segment "{segment}": it is not an object')
            targets = ARTIFACT_TYPES if found.target == "Artifact" else (found.target,)
            current = [t for t in (type_for(x) for x in targets) if t is not None]


class QueryRunner:
    """Filters, orders and pages objects for one query."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def values(self, obj: Obj, path: tuple[str, ...]) -> tuple[list[Any], bool]:
        current: list[Any] = [obj]
        multi = False
        for i, name in enumerate(path):
            last = i == len(path) - 1
            nxt: list[Any] = []
            for item in current:
                if item is None:
                    continue
                td = self.store.typedef(item)
                attr = td.attr(name)
                if attr is None:
                    continue
                if attr.kind == "OBJECT":
                    value = item.get(attr.name)
                    if last:
                        nxt.append(Ref(value) if value is not None else None)
                    else:
                        nxt.append(self.store.get(value))
                elif attr.kind == "COLLECTION":
                    multi = True
                    members = self.store.collection(item, attr)
                    nxt.extend(Ref(m) for m in members) if last else nxt.extend(self.store.get(m) for m in members)
                else:
                    nxt.append(item.get(attr.name))
            current = nxt
        return current, multi

    def select(self, td: TypeDef, candidates: Iterable[Obj], query: str | None, order: str | None) -> list[Obj]:
        items = list(candidates)
        if query and query.strip():
            node = parse(query.strip())
            from almdesk.sandbox.rally.query import clauses

            for clause in clauses(node):
                attr_check(td, clause.path, ".".join(clause.path))
            items = [o for o in items if evaluate(node, o, self.values)]
        items.sort(key=lambda o: int(o.get("_seq", 0)))
        for name, descending in reversed(parse_order(order)):
            path = tuple(name.split("."))
            attr_check(td, path, name)
            items.sort(key=lambda o: _sort_key(self.values(o, path)[0]), reverse=descending)
        return items


def parse_order(order: str | None) -> list[tuple[str, bool]]:
    out: list[tuple[str, bool]] = []
    for part in (order or "").split(","):
        words = part.strip().split()
        if not words:
            continue
        out.append((words[0], len(words) > 1 and words[1].lower() == "desc"))
    return out


def _sort_key(values: list[Any]) -> tuple[int, Any]:
    value = values[0] if values else None
    if value is None:
        return (0, "")
    if isinstance(value, Ref):
        return (1, value.oid)
    if isinstance(value, bool | int | float):
        return (1, float(value))
    text = str(value)
    head = text.rstrip("0123456789")
    if head != text and len(head) <= 2 and head.isalpha():  # FormattedID: US12 after US9
        return (2, (head, int(text[len(head):])))
    return (3, text)


def paging(params: dict[str, str]) -> tuple[int, int, list[str]]:
    """``start`` (1-based) and ``pagesize`` (capped at 2000, with a warning) from the request."""
    warnings: list[str] = []
    try:
        start = max(1, int(params.get("start") or 1))
    except ValueError:
        start = 1
    try:
        size = int(params.get("pagesize") or DEFAULT_PAGESIZE)
    except ValueError:
        size = DEFAULT_PAGESIZE
    if size > MAX_PAGESIZE:
        warnings.append(f"The maximum pagesize is {MAX_PAGESIZE}; the page was cut to {MAX_PAGESIZE} results.")
        size = MAX_PAGESIZE
    return start, max(1, size), warnings
