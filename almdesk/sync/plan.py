"""Deciding what a sync does, without doing it: the same plan drives a real sync and a dry run.

Input is plain data (task snapshots, stored links, the ALM items listed once); output is one
:class:`PlanEntry` per in-scope task saying which item it maps to and what to do:

``create``        no item: create it (closed right after when the task is DONE/NA)
``skip``          no item, and the task's status is not in ``sde_statuses_in_scope``
``wait``          no item, but an earlier create of the task failed with an unknown fate (timeout, 504,
                  reset) so recently that the server may still make it: not created again yet
``close``/``reopen``  change the ALM item's status (policy ``sde``, a later task change, or finishing
                  an interrupted creation of a DONE task)
``update-local``  change the task's status to the ALM's (policy ``alm`` or a later ALM change)
``link``          an item found by fixed title becomes the task's link; statuses agree
``unchanged``     linked and in agreement (or status sync off)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from almdesk.sync.scope import task_done
from almdesk.sync.titles import TitleFormat
from almdesk.systems.base import RemoteItem

POLICIES = ("alm", "sde", "timestamp")


def aware(value: datetime | None) -> datetime | None:
    """Datetimes from SQLite come back naive; almdesk stores UTC, so naive means UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


@dataclass(frozen=True)
class TaskSnapshot:
    """The parts of a task the sync needs, read in one short session."""

    pk: int
    task_id: str
    title: str
    text: str  # "" as the engine loads it: the text is read only for tasks to create
    phase: str
    priority: int
    status: str
    verification: str
    tags: tuple[str, ...]
    updated: datetime | None

    @property
    def done(self) -> bool:
        return task_done(self.status)


@dataclass(frozen=True)
class LinkSnapshot:
    task_pk: int
    alm_ref: str
    alm_key: str
    url: str
    alm_done: bool
    id: int = 0  # the link row (0: not known)
    alm_status: str = ""


@dataclass
class PlanEntry:
    task: TaskSnapshot
    action: str
    title: str  # the full title to create with, or the item's title
    item: RemoteItem | None = None
    reason: str = ""
    new_link: bool = False  # the item was found by title (or the stored link changed)
    stale_link: str = ""  # the stored link's key when its item is gone

    def as_dict(self) -> dict[str, Any]:
        item = self.item
        return {"task_id": self.task.task_id, "title": self.title, "action": self.action,
                "alm_key": item.key if item else "", "alm_ref": item.ref if item else "",
                "url": item.url if item else "", "alm_status": item.status if item else "",
                "task_status": self.task.status, "reason": self.reason}


@dataclass
class ItemIndex:
    """The ALM items of one listing pass, by ref and by the task id their title was made for."""

    fmt: TitleFormat
    by_ref: dict[str, RemoteItem] = field(default_factory=dict)
    by_task: dict[str, list[RemoteItem]] = field(default_factory=dict)
    unmatched: int = 0

    def add(self, item: RemoteItem) -> None:
        self.by_ref[item.ref] = item
        tid = self.fmt.task_id_of(item.title)
        if tid is None:
            self.unmatched += 1
        else:
            self.by_task.setdefault(tid, []).append(item)

    def __len__(self) -> int:
        return len(self.by_ref)

    def duplicates(self) -> dict[str, list[RemoteItem]]:
        return {tid: items for tid, items in self.by_task.items() if len(items) > 1}


@dataclass(frozen=True)
class Rules:
    policy: str = "alm"
    status_sync: bool = True

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> Rules:
        policy = str(params.get("conflict_policy") or "alm")
        workflow = params.get("alm_standard_workflow", True)
        if isinstance(workflow, str):
            workflow = workflow.strip().lower() not in ("0", "false", "no", "off")
        return cls(policy if policy in POLICIES else "alm", bool(workflow))


def make_plan(tasks: Iterable[TaskSnapshot], links: Mapping[int, LinkSnapshot], index: ItemIndex,
              fmt: TitleFormat, rules: Rules, may_create: Any, leftover_creates: set[int], *,
              waiting: Mapping[int, datetime] | None = None) -> list[PlanEntry]:
    """One entry per task, in the order given. ``may_create(status) -> bool`` is the creation gate.

    ``waiting`` maps task pks whose earlier create may still land to the time until which they are not
    created again (see :meth:`almdesk.sync.journal.Journal.waiting_creates`).
    """
    waiting = waiting or {}
    plan: list[PlanEntry] = []
    for task in tasks:
        link = links.get(task.pk)
        item: RemoteItem | None = None
        stale = ""
        new_link = False
        if link is not None:
            item = index.by_ref.get(link.alm_ref)
            if item is None:
                stale = link.alm_key or link.alm_ref
        if item is None:
            found = index.by_task.get(task.task_id)
            if found:
                item = found[0]
                new_link = True
        if item is None:
            title = fmt.full(task.task_id, task.title)
            why = f"linked item {stale} is no longer in the ALM target; " if stale else ""
            if may_create(task.status) and task.pk in waiting:
                action = "wait"
                reason = why + (f"waiting: an earlier create may still land (not created again before "
                                f"{_stamp(waiting[task.pk])})")
            elif may_create(task.status):
                action = "create"
                reason = why + ("new item, closed right after creation" if task.done else "new item")
            else:
                action = "skip"
                reason = why + f"no item, and status {task.status} is not selected for creation"
            plan.append(PlanEntry(task, action, title, None, reason, False, stale))
            continue
        action, reason = _status_action(task, item, rules, resumed=task.pk in leftover_creates)
        if action == "unchanged" and new_link:
            action, reason = "link", "found by title" + (f" ({reason})" if reason else "")
        elif new_link:
            reason = f"found by title; {reason}"
        plan.append(PlanEntry(task, action, item.title, item, reason, new_link or bool(stale), stale))
    return plan


def _status_action(task: TaskSnapshot, item: RemoteItem, rules: Rules, *, resumed: bool) -> tuple[str, str]:
    if resumed and task.done and not item.done:
        return "close", "finishing an interrupted creation of a done task"
    if not rules.status_sync:
        return "unchanged", "status sync is off"
    if task.done == item.done:
        return "unchanged", ""
    alm_side = f"ALM {item.status or ('done' if item.done else 'open')}"
    mismatch = f"task {task.status}, {alm_side}"
    if rules.policy == "sde":
        return ("close" if task.done else "reopen"), f"{mismatch}; almdesk's status wins"
    if rules.policy == "timestamp":
        ours, theirs = aware(task.updated), aware(item.updated)
        if theirs is None:
            return "update-local", f"{mismatch}; the ALM gives no change time, so its status wins"
        if ours is not None and ours > theirs:
            return ("close" if task.done else "reopen"), (
                f"{mismatch}; task changed later ({_stamp(ours)} > {_stamp(theirs)})")
        return "update-local", f"{mismatch}; ALM changed later ({_stamp(theirs)} ≥ {_stamp(ours)})"
    return "update-local", f"{mismatch}; the ALM's status wins"


def _stamp(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ") if value else "never"
