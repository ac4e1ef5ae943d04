"""The sync adapter for ALM Octane (the contract is :class:`almdesk.systems.base.SyncAdapter`).

``prepare`` signs in and resolves the target with as few requests as it can (sign-in, phases, the
user; see :func:`~almdesk.systems.octane.target.resolve_target` with ``lazy``). ``iter_items`` reads
every defect (or story) of the workspace — under the connection's parent when one is set — in pages
of 1000 with only the fields the engine needs (the pages after the first up to ``concurrency`` at
once); the items' ``parent`` tells the backlog root, which new items go under, so creating needs no
look-up of its own. ``create_items`` posts up to 200 drafts in one request (409 = partial success; the
engine sends up to ``concurrency``, 4, at once: Octane publishes no limit), then closes the ones whose
task is done with one bulk PUT per step of the workflow (the workspace's ``transitions``, read once:
New → Closed takes several steps).
``get_item`` reads one item named by id or entity-navigation URL for ``almdesk link``, in the target.

Context mark: every new item carries the user tag :func:`~almdesk.systems.marks.context_mark` of the
connection's ``alm_context``. A user tag because Octane's tags are free-form labels any workspace member
may create and set (a user-defined field would need a workspace admin and a form change), the name
people read stays as it was, and the listing reads the tags' names as one more field (``user_tags{name}``)
of the same pages. The tag's id is learnt from a listed item of ours; failing that, the first create of a
sync makes the tag (one request; when it exists already, a look-up by name follows).
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
from almdesk.systems.marks import context_mark, marks_in
from almdesk.systems.octane import query as q
from almdesk.systems.octane import resolve
from almdesk.systems.octane.actions import html_text
from almdesk.systems.octane.client import BULK_SIZE, PAGE_SIZE, OctaneClient
from almdesk.systems.octane.fields import connection_workspace, site
from almdesk.systems.octane.target import Target, resolve_target

FIELDS = ("name", "phase", "last_modified", "user_tags{name}")
TAGS = "user_tags"
LIST_FIELDS = (*FIELDS, "parent")  # the parent of items under the backlog root names the root
ROOT_TYPE = "work_item_root"


def parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else None


class OctaneSyncAdapter:
    """One connection's view of Octane for the sync engine."""

    bulk_size = BULK_SIZE
    page_size = PAGE_SIZE
    concurrency = 4  # bulk POSTs in flight at once: Octane publishes no limit, so a small pool

    def __init__(self, connection: ConnectionSettings, http: HttpFactory, ctx: JobContext) -> None:
        self.connection = connection
        self.ctx = ctx
        self.info = site(connection.connector)
        self.workspace = connection_workspace(connection)
        self.client = OctaneClient(self.info.server, self.info.shared_space, self.info.client_id,
                                   self.info.client_secret, http, ctx)
        self._target: Target | None = None
        self._workflow: dict[str, list[str]] | None = None  # phase id -> next phase ids (read once)
        # chunks in flight at once read the workflow, the backlog root and the mark's tag once
        self._once = threading.RLock()
        self.mark = context_mark(connection.params.get("alm_context"))
        self._mark_tag: str | None = None  # the id of the mark's user tag, found or made on the first create

    @property
    def target(self) -> Target:
        if self._target is None:
            self.prepare()
        assert self._target is not None
        return self._target

    def prepare(self) -> None:
        self.client.sign_in()
        self._target = resolve_target(self.client, self.connection, self.workspace, self.info.user, lazy=True)
        self.ctx.log(f"ALM Octane target: {self._target.describe()}")

    def _parent(self) -> str:
        """The work item new items go under: the connection's parent, else the backlog root."""
        target = self.target
        with self._once:
            if not target.parent:
                target.parent = resolve.backlog_root(self.client, self.workspace)
        return target.parent

    def _item(self, entity: dict[str, Any]) -> RemoteItem:
        target = self.target
        phase = entity.get("phase") or {}
        phase_id = str(phase.get("id", "")) if isinstance(phase, dict) else ""
        ident = str(entity["id"])
        tags = entity.get(TAGS)
        listed = [t for t in tags.get("data") or [] if isinstance(t, dict)] if isinstance(tags, dict) else []
        names = [t.get("name") for t in listed]
        if self._mark_tag is None:  # an item of ours names the mark's tag: no look-up when creating
            self._mark_tag = next((str(t["id"]) for t in listed if t.get("id") and
                                   str(t.get("name") or "").lower() == self.mark.lower()), None)
        return RemoteItem(ref=ident, key=ident, title=text(entity, "name", server="ALM Octane", what=f"item {ident}",
                                                           optional=True),
                          url=self.client.entity_url(self.workspace, ident), done=phase_id in target.done,
                          status=target.phase_name(phase_id), updated=parse_time(entity.get("last_modified")),
                          marks=marks_in(names))

    def mark_tag(self) -> str:
        """The id of the user tag named after this connection's context (made when missing)."""
        with self._once:
            if self._mark_tag is None:  # made first (a new context's first sync: one request), else looked up
                (made,) = self.client.create(self.workspace, TAGS, [{"name": self.mark}])
                if not isinstance(made, Exception):
                    self._mark_tag = str(made["id"])
                    return self._mark_tag
                found, _ = self.client.get_page(self.workspace, TAGS, query=q.eq("name", self.mark),
                                                fields=("name",), limit=1)
                if not found:
                    raise made
                self._mark_tag = str(found[0]["id"])
            return self._mark_tag

    def get_item(self, text: str) -> RemoteItem:
        """The item ``text`` names (its id or an entity-navigation URL), checked to be in the target."""
        target = self.target
        text = text.strip()
        match = re.search(r"[?&]id=(\d+)", text)
        ident = match.group(1) if match else text if text.isdigit() else ""
        if not ident:
            raise ConfigError(f"{text!r} is not an ALM Octane item id or URL.",
                              "Write its id (e.g. 1042) or paste its entity-navigation link.", field="item")
        statement = q.eq("id", ident) if target.parent_is_root else q.all_of(
            [q.eq("id", ident), q.ref_id("parent", target.parent)])
        found, _ = self.client.get_page(self.workspace, target.collection, query=statement, fields=FIELDS, limit=1)
        if not found:
            raise ConfigError(f"Workspace {self.workspace} has no {target.entity} {ident}"
                              + ("" if target.parent_is_root else f" under work item {target.parent}") + ".",
                              f"Link a {target.entity} of the connection's target.", field="item")
        return self._item(found[0])

    def iter_items(self) -> Iterator[RemoteItem]:
        target = self.target
        statement = "" if target.parent_is_root else q.ref_id("parent", target.parent)
        learn_root = not target.parent
        for entity in self.client.iter_all(self.workspace, target.collection, query=statement,
                                           fields=LIST_FIELDS if learn_root else FIELDS, page_size=self.page_size,
                                           width=self.concurrency):
            if learn_root:
                parent = entity.get("parent")
                if isinstance(parent, dict) and parent.get("type") == ROOT_TYPE and parent.get("id"):
                    target.parent, learn_root = str(parent["id"]), False
            yield self._item(entity)

    def _entity(self, draft: ItemDraft) -> dict[str, Any]:
        target = self.target
        entity: dict[str, Any] = {"name": draft.title, "parent": {"type": "work_item", "id": self._parent()},
                                  "phase": {"type": "phase", "id": target.new_phase}, "is_draft": False}
        if draft.text.strip():
            entity["description"] = html_text(draft.text)
        rank = target.rank_for(draft.priority)
        if rank is not None:
            entity[target.rank_field] = {"type": "list_node", "id": rank}
        if target.user_id:
            entity[target.user_field] = {"type": "workspace_user", "id": target.user_id}
        entity[TAGS] = {"data": [{"type": "user_tag", "id": self.mark_tag()}]}
        return entity

    def create_items(self, drafts: Sequence[ItemDraft]) -> list[RemoteItem | Exception]:
        target = self.target
        if len(drafts) > self.bulk_size:
            raise ValueError(f"at most {self.bulk_size} drafts per call, got {len(drafts)}")
        try:
            self.mark_tag()
        except UserFacingError as exc:  # nothing was created: each draft fails with the reason
            return [exc for _ in drafts]
        try:
            results = self.client.create(self.workspace, target.collection, [self._entity(d) for d in drafts],
                                         fields=FIELDS)
        except UserFacingError as exc:
            # a timeout, a reset after sending or a 504: Octane may still make the items, and the engine
            # must not create them again at once
            fate = with_fate(exc)
            return [fate for _ in drafts]
        out: list[RemoteItem | Exception] = [r if isinstance(r, Exception) else self._item(r) for r in results]
        to_close = [i for i, (d, r) in enumerate(zip(drafts, out, strict=True))
                    if d.done and isinstance(r, RemoteItem) and not r.done]
        if to_close:
            closed: list[dict[str, Any] | Exception] = [{} for _ in to_close]
            for phase in self.phase_path(target.new_phase, target.close_phase):  # one bulk PUT a workflow step
                moving = [n for n, r in enumerate(closed) if not isinstance(r, Exception)]
                updates = [{"id": out[to_close[n]].ref, "phase": {"type": "phase", "id": phase}}  # type: ignore[union-attr]
                           for n in moving]
                try:
                    step: list[dict[str, Any] | Exception] = list(
                        self.client.update_many(self.workspace, target.collection, updates, fields=FIELDS))
                except UserFacingError as exc:
                    step = [exc for _ in moving]
                for n, result in zip(moving, step, strict=True):
                    closed[n] = result
            for index, result in zip(to_close, closed, strict=True):
                if isinstance(result, Exception):
                    created = out[index]
                    assert isinstance(created, RemoteItem)
                    out[index] = RemoteError(f"Created {target.entity} {created.key} but could not close it: {result}",
                                             "Close it in ALM Octane, or run the sync again.")
                else:
                    out[index] = self._item(result)
        return out

    def set_done(self, item: RemoteItem, done: bool) -> RemoteItem:
        target = self.target
        wanted = target.close_phase if done else target.reopen_phase
        current = next((pid for pid in target.phases if target.phase_name(pid) == item.status), None)
        entity: dict[str, Any] = {}
        for phase in self.phase_path(current, wanted):
            entity = self.client.update(self.workspace, target.collection, item.ref,
                                        {"phase": {"type": "phase", "id": phase}}, fields=FIELDS)
        return self._item(entity)

    def phase_path(self, source: str | None, target_phase: str) -> list[str]:
        """The phases to set, one workflow step each, to move an item from ``source`` to ``target_phase``.

        Octane's phase field follows the workflow (a New defect cannot jump to Closed), so the shortest
        path through the workspace's ``transitions`` is taken; it is read once, on the first change of
        phase. Without a known source, a workflow or a path, the one direct change is tried.
        """
        if source is None or source == target_phase:
            return [target_phase]
        with self._once:
            if self._workflow is None:
                workflow: dict[str, list[str]] = {}
                try:
                    rows = self.client.all(self.workspace, "transitions", query=q.eq("entity", self.target.entity),
                                           fields=("source_phase", "target_phase"))
                except UserFacingError as exc:
                    self.ctx.log(f"ALM Octane: the workflow could not be read ({exc}); phases are set directly")
                    rows = []
                for row in rows:
                    src, dst = row.get("source_phase"), row.get("target_phase")
                    if isinstance(src, dict) and isinstance(dst, dict):
                        workflow.setdefault(str(src.get("id")), []).append(str(dst.get("id")))
                self._workflow = workflow
        if target_phase in self._workflow.get(source, []):
            return [target_phase]
        came: dict[str, str] = {source: ""}
        todo = [source]
        while todo:
            here = todo.pop(0)
            for nxt in self._workflow.get(here, []):
                if nxt not in came:
                    came[nxt] = here
                    todo.append(nxt)
            if target_phase in came:
                path = [target_phase]
                while came[path[-1]] != source:
                    path.append(came[path[-1]])
                return path[::-1]
        return [target_phase]

    def close(self) -> None:
        self.client.close()
