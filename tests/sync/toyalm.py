"""A toy ALM for the sync engine's tests: a real HTTP sandbox plus a System and SyncAdapter over it.

The server keeps items (id, title, status, labels, updated) and speaks a small Jira-like API:
``GET /api/items?label=&title_prefix=&offset=&limit=`` (pages of at most 500, ordered by id), ``POST /api/items/bulk``
(at most 100 per request; a title containing ``[reject]`` fails that element only), per-item
workflow transitions (``GET``/``POST /api/items/<id>/transitions``) and Bearer-token auth.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from werkzeug.wrappers import Request, Response

from almdesk.base.fields import Field, FieldKind, split_list
from almdesk.base.records import (
    CreatedItem,
    DefectRequest,
    GateRequest,
    GateResult,
    ItemDraft,
    RemoteItem,
    Step,
)
from almdesk.base.settings import ConnectionSettings, ConnectorSettings
from almdesk.errors import AuthError, ConfigError, RemoteError, UserFacingError
from almdesk.jobs.context import JobContext
from almdesk.net.bodies import json_body
from almdesk.net.session import HttpFactory, send
from almdesk.sandbox.base import SandboxApp, json_response
from almdesk.systems.base import Declared

TOKEN = "toyalm-secret-token-42"
MAX_PAGE = 500
MAX_BULK = 100
# status → {transition name: target status}
WORKFLOW = {
    "New": {"Start": "In Progress", "Close": "Done"},
    "In Progress": {"Stop": "New", "Close": "Done"},
    "Done": {"Reopen": "New", "Archive": "Closed"},
    "Closed": {"Reopen": "New"},
}


@dataclass
class ToyItem:
    id: int
    title: str
    status: str = "New"
    labels: list[str] = field(default_factory=list)
    description: str = ""
    priority: int = 0
    updated: datetime = field(default_factory=lambda: datetime.now(UTC))

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "key": f"TOY-{self.id}", "title": self.title, "status": self.status,
                "labels": self.labels, "priority": self.priority, "updated": self.updated.isoformat()}


class ToyAlmApp(SandboxApp):
    system = "toyalm"

    def __init__(self, seed: int = 0) -> None:
        super().__init__(seed)
        self.items: dict[int, ToyItem] = {}
        self.token = TOKEN
        self._ids = itertools.count(1)

    # --- helpers for tests (what an admin would do in the web UI) ---------------------------------
    def add(self, title: str, status: str = "New", labels: Sequence[str] = ("almdesk",),
            updated: datetime | None = None) -> ToyItem:
        with self.lock:
            item = ToyItem(next(self._ids), title, status, list(labels), updated=updated or datetime.now(UTC))
            self.items[item.id] = item
            return item

    def titles(self) -> list[str]:
        with self.lock:
            return [i.title for i in self.items.values()]

    # --- the API ------------------------------------------------------------------------------------
    def dispatch(self, request: Request) -> Response:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return json_response({"message": "Invalid or missing token"}, 401)
        parts = [p for p in request.path.split("/") if p]
        if parts == ["api", "whoami"]:
            return json_response({"user": "admin"})
        if parts == ["api", "items"] and request.method == "GET":
            return self._list(request)
        if parts == ["api", "items", "bulk"] and request.method == "POST":
            return self._bulk(request)
        if len(parts) == 4 and parts[:2] == ["api", "items"] and parts[3] == "transitions":
            return self._transitions(request, parts[2])
        return json_response({"message": f"No such endpoint {request.method} {request.path}"}, 404)

    def _list(self, request: Request) -> Response:
        label = request.args.get("label", "")
        prefix = request.args.get("title_prefix", "")
        try:
            offset = int(request.args.get("offset", 0))
            limit = min(int(request.args.get("limit", 50)), MAX_PAGE)
        except ValueError:
            return json_response({"message": "offset and limit must be numbers"}, 400)
        with self.lock:
            chosen = [i for i in sorted(self.items.values(), key=lambda i: i.id)
                      if (not label or label in i.labels) and i.title.startswith(prefix)]
            page = [i.to_json() for i in chosen[offset:offset + limit]]
        return json_response({"total": len(chosen), "offset": offset, "items": page})

    def _bulk(self, request: Request) -> Response:
        body = request.get_json(silent=True) or {}
        drafts = body.get("items")
        if not isinstance(drafts, list) or not drafts:
            return json_response({"message": "items must be a non-empty list"}, 400)
        if len(drafts) > MAX_BULK:
            return json_response({"message": f"at most {MAX_BULK} items per request"}, 400)
        out: list[dict[str, Any]] = []
        for d in drafts:
            title = str(d.get("title") or "")
            if not title or "[reject]" in title:
                out.append({"error": f"title {title!r} rejected by the server"})
                continue
            item = self.add(title, "New", d.get("labels") or [])
            item.description = str(d.get("description") or "")
            item.priority = int(d.get("priority") or 0)
            out.append(item.to_json())
        return json_response({"items": out}, 201)

    def _transitions(self, request: Request, raw_id: str) -> Response:
        with self.lock:
            item = self.items.get(int(raw_id)) if raw_id.isdigit() else None
            if item is None:
                return json_response({"message": f"Item {raw_id} does not exist"}, 404)
            allowed = WORKFLOW.get(item.status, {})
            if request.method == "GET":
                return json_response({"transitions": [{"name": n, "to": t} for n, t in allowed.items()]})
            name = str((request.get_json(silent=True) or {}).get("name") or "")
            if name not in allowed:
                return json_response({"message": f"Transition {name!r} is not valid from {item.status}"}, 400)
            item.status = allowed[name]
            item.updated = datetime.now(UTC)
            return json_response(item.to_json())

    def describe(self, base_url: str) -> dict[str, Any]:
        return {"system": "toyalm", "url": base_url, "params": {"url": base_url}, "secrets": {"token": TOKEN},
                "connection_params": {"toyalm_label": "almdesk"}}


# --- the system ------------------------------------------------------------------------------------

class ToyAlmAdapter:
    """SyncAdapter over the toy API: list by label in pages, bulk create, close/reopen by transition."""

    def __init__(self, connection: ConnectionSettings, http: HttpFactory, ctx: JobContext) -> None:
        p = connection.params
        self.base = str(connection.connector.params["url"]).rstrip("/")
        self.label = str(p.get("toyalm_label") or "")
        self.done_statuses = set(split_list(str(p.get("toyalm_done_statuses") or "Done,Closed")))
        self.close_name = str(p.get("toyalm_close_transition") or "Close")
        self.reopen_name = str(p.get("toyalm_reopen_transition") or "Reopen")
        self.bulk_size = int(p.get("toyalm_bulk_size") or MAX_BULK)
        self.page_size = int(p.get("toyalm_page_size") or MAX_PAGE)
        self.ctx = ctx
        self.session = http.session()
        self.session.headers["Authorization"] = f"Bearer {connection.connector.secret('token')}"

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        r = send(self.session, method, self.base + path, what="the toy ALM", **kwargs)
        if r.status_code in (401, 403):
            raise AuthError("The toy ALM refused the token.", "Enter the API token again.", field="token")
        body = json_body(r, "the toy ALM")
        if r.status_code >= 400:
            message = body.get("message", "") if isinstance(body, dict) else ""
            raise RemoteError(f"The toy ALM answered HTTP {r.status_code}: {message}", "Try again later.")
        return body

    def _item(self, data: dict[str, Any]) -> RemoteItem:
        return RemoteItem(str(data["id"]), data["key"], data["title"], f"{self.base}/browse/{data['key']}",
                          data["status"] in self.done_statuses, data["status"],
                          datetime.fromisoformat(data["updated"]))

    def prepare(self) -> None:
        if not self.label:
            raise ConfigError("Label is required.", "Set the connection's label.", field="toyalm_label")
        self._call("GET", "/api/whoami")

    def iter_items(self) -> Iterator[RemoteItem]:
        offset = 0
        while True:
            body = self._call("GET", "/api/items", params={"label": self.label, "offset": offset,
                                                            "limit": self.page_size})
            for data in body["items"]:
                yield self._item(data)
            offset += len(body["items"])
            if not body["items"] or offset >= body["total"]:
                return

    def create_items(self, drafts: Sequence[ItemDraft]) -> list[RemoteItem | Exception]:
        body = self._call("POST", "/api/items/bulk", json={"items": [
            {"title": d.title, "description": d.text, "priority": d.priority, "labels": [self.label, *d.tags]}
            for d in drafts]})
        out: list[RemoteItem | Exception] = []
        for draft, data in zip(drafts, body["items"], strict=True):
            if "error" in data:
                out.append(RemoteError(f"The toy ALM rejected {draft.task_id}: {data['error']}",
                                       "Fix the task's title."))
                continue
            item = self._item(data)
            if draft.done:
                try:
                    item = self.set_done(item, True)
                except UserFacingError as exc:
                    self.ctx.log(f"Created {item.key} but could not close it: {exc}", "warning")
            out.append(item)
        return out

    def set_done(self, item: RemoteItem, done: bool) -> RemoteItem:
        name = self.close_name if done else self.reopen_name
        valid = [t["name"] for t in self._call("GET", f"/api/items/{item.ref}/transitions")["transitions"]]
        if name not in valid:
            field_name = "toyalm_close_transition" if done else "toyalm_reopen_transition"
            raise ConfigError(f"Transition {name!r} is not available for {item.key} (status {item.status}).",
                              f"Valid transitions: {', '.join(valid) or '(none)'}. Set the connection's "
                              f"{'close' if done else 'reopen'} transition to one of them.", field=field_name)
        return self._item(self._call("POST", f"/api/items/{item.ref}/transitions", json={"name": name}))

    def close(self) -> None:
        self.session.close()


class ToyAlmSystem(Declared):
    name = "toyalm"
    label = "Toy ALM"
    item_noun = "item"
    connector_fields: tuple[Field, ...] = (
        Field("url", "Server URL", FieldKind.URL, required=True, section="General"),
        Field("token", "API token", FieldKind.SECRET, required=True, section="General"),
    )
    connection_fields: tuple[Field, ...] = (
        Field("toyalm_label", "Label", FieldKind.TEXT, default="almdesk"),
        Field("toyalm_done_statuses", "Done statuses", FieldKind.TEXT, default="Done,Closed", section="Status"),
        Field("toyalm_close_transition", "Close transition", FieldKind.TEXT, default="Close", section="Status"),
        Field("toyalm_reopen_transition", "Reopen transition", FieldKind.TEXT, default="Reopen", section="Status"),
        Field("toyalm_bulk_size", "Bulk size", FieldKind.INT, default=MAX_BULK, minimum=1, maximum=MAX_BULK),
        Field("toyalm_page_size", "Page size", FieldKind.INT, default=MAX_PAGE, minimum=1, maximum=MAX_PAGE),
    )

    def check_connector(self, params: dict[str, Any]) -> dict[str, Any]:
        return params

    def base_url(self, connector: ConnectorSettings) -> str:
        return str(connector.params["url"])

    def test_steps(self, connector: ConnectorSettings, connection: ConnectionSettings | None,
                   http: HttpFactory) -> list[Step]:
        return []

    def create_defect(self, connection: ConnectionSettings, request: DefectRequest, http: HttpFactory,
                      ctx: JobContext) -> CreatedItem:
        raise ConfigError("The toy ALM has no defects.", "Use a real system.")

    def gate(self, connection: ConnectionSettings, request: GateRequest, http: HttpFactory,
             ctx: JobContext) -> GateResult:
        raise ConfigError("The toy ALM has no gate.", "Use a real system.")

    def sync_adapter(self, connection: ConnectionSettings, http: HttpFactory, ctx: JobContext) -> ToyAlmAdapter:
        return ToyAlmAdapter(connection, http, ctx)
