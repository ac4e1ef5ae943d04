"""Rally's sync adapter (the :class:`~almdesk.systems.base.SyncAdapter` contract).

``iter_items`` reads every card of the connection's type in the project (not its child
projects), narrowed to the parent story for tasks and to the tag when one is set, 2000 per page
(Rally's maximum; the pages after the first up to ``concurrency`` at once). ``create_items`` sends up to
``bulk_size`` creates in one ``POST /batch``, the engine up to ``concurrency`` batches at once: Rally's
documented 12 concurrent requests per user;
a draft that is already done is created straight in the first done status, so it needs no
second request. ``set_done`` moves the card to the first done status or back to the new status.
``get_item`` reads one card named by FormattedID, ObjectID or URL for ``almdesk link``, in the project.

Context mark: every new card carries the tag :func:`~almdesk.systems.marks.context_mark` of the
connection's ``alm_context`` (next to ``alm_issue_label``'s tag). A tag because tags are Rally's own way to
mark work items across a workspace (sdetools already tags cards), they need no custom field, which only a
workspace admin can add, and the name people read stays as it was. ``prepare`` looks the tag up in the
batch it sends anyway (no extra request); it is created on the first create that needs it, once.
Listings fetch ``Tags``, whose summary carries the tag names (``_tagsNameArray``), at no extra request.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from almdesk.base.failures import with_fate
from almdesk.base.records import ItemDraft, RemoteItem
from almdesk.base.settings import ConnectionSettings
from almdesk.base.shapes import text
from almdesk.errors import ConfigError, RemoteError, UserFacingError
from almdesk.jobs.context import JobContext
from almdesk.net.session import HttpFactory
from almdesk.sync.overlap import paged
from almdesk.systems.marks import context_mark, marks_in
from almdesk.systems.rally.client import MAX_PAGESIZE, RallyApiError, RallyClient, messages, oid_of, short_ref
from almdesk.systems.rally.fields import card_type, done_statuses, new_status, required_text
from almdesk.systems.rally.query import all_of, clause
from almdesk.systems.rally.resolve import Named, Resolver
from almdesk.systems.rally.writes import browser_url, description_html, item_name, priority_map

_PREFIX = {"Story": "US", "Defect": "DE", "Task": "TA"}
BATCH_SIZE = 25  # entries per POST /batch; Rally documents no limit, so stay well inside a request's time
CONCURRENT_REQUESTS = 12  # Rally's documented limit: 12 concurrent requests per user (KB 95713)


def _tag_names(tags: Any) -> list[dict[str, Any]]:
    """The tags of a fetched card: the collection summary's ``_tagsNameArray`` (or a plain list)."""
    names = tags.get("_tagsNameArray") if isinstance(tags, dict) else tags
    return [t for t in names if isinstance(t, dict)] if isinstance(names, list) else []


def parse_time(value: Any) -> datetime | None:
    """Rally's ``2024-03-01T12:00:00.000Z`` as an aware datetime."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


class RallySyncAdapter:
    bulk_size = BATCH_SIZE
    page_size = MAX_PAGESIZE
    concurrency = CONCURRENT_REQUESTS

    def __init__(self, connection: ConnectionSettings, http: HttpFactory, ctx: JobContext) -> None:
        self.connection = connection
        self.params = connection.params
        self.http = http
        self.ctx = ctx
        self.card = card_type(self.params)
        self.new = new_status(self.params)
        self.done = done_statuses(self.params)
        self.label = str(self.params.get("alm_issue_label") or "").strip()
        self.client = RallyClient(connection.connector, http)
        self.resolver = Resolver(self.client)
        self.workspace: Named | None = None
        self.project: Named | None = None
        self.parent_ref: str | None = None
        self.tag: Named | None = None
        self.priorities: dict[int, str] = {}
        self.fetch = f"ObjectID,FormattedID,Name,{self.card.status_field},LastUpdateDate,Tags"
        self.mark = context_mark(self.params.get("alm_context"))
        self.mark_tag: Named | None = None
        self._tags_lock = threading.Lock()  # creates in flight at once make a missing tag once

    # --- contract ---------------------------------------------------------------------------
    def prepare(self) -> None:
        """Check and resolve the settings in four requests: the workspace; one batch of the queries that
        need only the workspace (project, type definition, parent, tag); the status attribute and its
        allowed values."""
        ws_name = required_text(self.params, "rally_workspace", "Workspace", "Enter the Rally workspace name.")
        project_name = required_text(self.params, "alm_project", "Project", "Enter the Rally project name.")
        parent = str(self.params.get("alm_parent_issue") or "").strip()
        if self.card.name == "Task" and not parent:
            raise ConfigError("Card type Task needs a parent user story.",
                              "Enter the parent story's FormattedID (for example US12) in Parent.",
                              field="alm_parent_issue")
        resolver = self.resolver
        self.workspace = workspace = resolver.find_workspace(ws_name)
        specs = [resolver.project_spec(workspace, project_name), resolver.type_spec(workspace, self.card.element)]
        if parent:
            specs.append(resolver.parent_spec(workspace, parent, self.card))
        if self.label:
            specs.append(resolver.tag_spec(workspace, self.label))
        specs.append(resolver.tag_spec(workspace, self.mark))
        pages = resolver.prefetch(workspace, specs)
        self.mark_tag = resolver.tag(workspace, self.mark, pages[-1])
        pages = pages[:-1]
        self.project = resolver.project(workspace, project_name, pages[0])
        resolver.check_statuses(workspace, self.card, self.new, self.done, pages[1])
        if parent:
            self.parent_ref = short_ref(str(resolver.parent(workspace, parent, self.card, pages[2])["_ref"]))
        if self.label:
            self.tag = resolver.tag(workspace, self.label, pages[-1])
        if self.card.name == "Defect":
            self.priorities = priority_map(self.params)
        self.ctx.log(f"Rally: {self.card.label} items of project {self.project.name} in {self.workspace.name}"
                     + (f", tag {self.label}" if self.label else ""))

    def _ready(self) -> tuple[Named, Named]:
        if self.workspace is None or self.project is None:
            raise RuntimeError("prepare() must run before the adapter is used")
        return self.workspace, self.project

    def candidates_query(self) -> str | None:
        return all_of(clause("WorkProduct", "=", self.parent_ref) if self.card.name == "Task" and self.parent_ref
                      else None,
                      clause("Tags.Name", "=", self.label) if self.label else None)

    def iter_items(self) -> Iterator[RemoteItem]:
        workspace, project = self._ready()
        if self.label and self.tag is None:
            return  # the tag does not exist yet, so nothing carries it
        query = self.candidates_query()

        def page(start: int, size: int) -> tuple[list[dict[str, Any]], int]:
            return self.client.query(self.card.element.lower(), query=query, fetch=self.fetch, order="ObjectID",
                                     workspace=workspace.ref, project=project.ref, scope_down=False, start=start,
                                     pagesize=size, what=f"the project's {self.card.label} items")

        # the pages after the first (which tells the total) go up to ``concurrency`` at once, in order
        for obj in paged(page, self.page_size, self.concurrency, start=1, check=self.ctx.check_cancelled):
            yield self.remote(obj)

    def create_items(self, drafts: Sequence[ItemDraft]) -> list[RemoteItem | Exception]:
        workspace, project = self._ready()
        if len(drafts) > self.bulk_size:  # the engine sends at most bulk_size; split anything larger
            out: list[RemoteItem | Exception] = []
            for start in range(0, len(drafts), self.bulk_size):
                out.extend(self.create_items(drafts[start:start + self.bulk_size]))
            return out
        if not drafts:
            return []
        try:  # nothing is created when the tags cannot be had: each draft fails with the reason
            self._ensure_tags(workspace)
        except UserFacingError as exc:
            return [exc for _ in drafts]
        entries = [{"Path": f"/{self.card.element.lower()}/create?fetch={self.fetch}", "Method": "POST",
                    "Body": {self.card.element: self.fields(d, project)}} for d in drafts]
        try:
            results = self.client.batch(entries, workspace=workspace.ref,
                                        what=f"creating {len(drafts)} {self.card.label} item(s)")
        except UserFacingError as exc:
            # a timeout, a reset after sending or a 504: Rally may still make the items, and the engine
            # must not create them again at once
            fate = with_fate(exc)
            return [fate for _ in drafts]
        made: list[RemoteItem | Exception] = []
        for draft, result in zip(drafts, results, strict=True):
            errors = [self.client.clean(e) for e in messages(result, "Errors")] if isinstance(result, dict) \
                else ["no result"]
            obj = result.get("Object") if isinstance(result, dict) else None
            if errors or not isinstance(obj, dict):
                made.append(self._create_error(draft, errors or ["Rally returned no object"]))
            else:
                made.append(self.remote(obj))
        return made

    def _ensure_tags(self, workspace: Named) -> None:
        with self._tags_lock:
            if self.label and self.tag is None:
                self.tag = self.resolver.ensure_tag(workspace, self.label)
            if self.mark_tag is None:  # prepare found none: make it (one request, once per workspace and context)
                try:
                    obj = self.client.create("Tag", {"Name": self.mark}, fetch="Name,ObjectID",
                                             workspace=workspace.ref, what=f"creating the tag {self.mark!r}")
                    self.mark_tag = Named(short_ref(str(obj["_ref"])), str(obj.get("ObjectID")), self.mark)
                except RallyApiError:  # made meanwhile by another sync
                    self.mark_tag = self.resolver.ensure_tag(workspace, self.mark)

    def set_done(self, item: RemoteItem, done: bool) -> RemoteItem:
        status = self.done[0] if done else self.new
        obj = self.client.update(self.card.element, item.ref, {self.card.status_field: status}, fetch=self.fetch,
                                 what=f"{'closing' if done else 'reopening'} {item.key}")
        return self.remote(obj)

    def get_item(self, text: str) -> RemoteItem:
        """The card ``text`` names (``US12``, its ObjectID, its URL), checked to be in the project."""
        workspace, project = self._ready()
        text = text.strip()
        url = re.search(r"/detail/[a-z]+/(\d+)", text)
        oid = url.group(1) if url else text if text.isdigit() else ""
        formatted = "" if oid else text.upper()
        if not oid and not re.fullmatch(r"[A-Z]{1,4}\d+", formatted):
            raise ConfigError(f"{text!r} is not a Rally FormattedID, ObjectID or URL.",
                              f"Write it like {_PREFIX.get(self.card.name, 'US')}12, 123456 or the card's URL.", field="item")
        where = clause("ObjectID", "=", oid) if oid else clause("FormattedID", "=", formatted)
        page, _ = self.client.query(self.card.element.lower(), query=where, fetch=self.fetch, workspace=workspace.ref,
                                    project=project.ref, scope_down=False, pagesize=1, what=f"the card {text}")
        if not page:
            raise ConfigError(f"Project {project.name} has no {self.card.label} {text}.",
                              f"Link a {self.card.label} of project {project.name} (child projects do not count).",
                              field="item")
        return self.remote(page[0])

    def close(self) -> None:
        self.client.close()

    # --- helpers ------------------------------------------------------------------------------
    def fields(self, draft: ItemDraft, project: Named) -> dict[str, Any]:
        fields: dict[str, Any] = {"Name": item_name(draft.title), "Project": project.ref,
                                  "Description": description_html(draft.text),
                                  self.card.status_field: self.done[0] if draft.done else self.new}
        if self.parent_ref:
            fields[self.card.parent_field] = self.parent_ref
        fields["Tags"] = [{"_ref": t.ref} for t in (self.tag, self.mark_tag) if t is not None]
        if self.priorities and draft.priority in self.priorities:
            fields["Priority"] = self.priorities[draft.priority]
        return fields

    def remote(self, obj: dict[str, Any]) -> RemoteItem:
        _, project = self._ready()
        oid = str(obj.get("ObjectID") or oid_of(str(obj.get("_ref") or "")))
        status = str(obj.get(self.card.status_field) or "")
        name = text(obj, "Name", server="Rally", what=f"{self.card.label} {obj.get('FormattedID') or oid}",
                    optional=True)
        return RemoteItem(ref=oid, key=str(obj.get("FormattedID") or oid), title=name,
                          url=browser_url(self.client.server, self.card, project.oid, oid),
                          done=status in self.done, status=status, updated=parse_time(obj.get("LastUpdateDate")),
                          marks=marks_in(t.get("Name") for t in _tag_names(obj.get("Tags"))))

    def _create_error(self, draft: ItemDraft, errors: list[str]) -> UserFacingError:
        text = "; ".join(errors)[:400]
        if any("Not authorized" in e for e in errors):
            return RemoteError(f"Rally refused to create {draft.task_id}: {text}.",
                               "Ask a Rally admin to make this user an Editor of the project.", field="alm_project")
        return RallyApiError(f"Rally refused to create {draft.task_id}: {text}.",
                             "Check the connection's settings (statuses, parent, tag) with Test Connection.",
                             errors=errors)
