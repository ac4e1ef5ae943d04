"""A project's tasks as the Projects page shows them, and the task import job.

Read-only queries over the store: the phases of a project, the count of its tasks matching a
:class:`TaskFilter`, and pages of them (keyset paging on the row id: :func:`task_page` returns the
rows above ``after_id``, oldest first, as :class:`TaskLine` values). :func:`import_spec` builds the
job that imports a CSV/JSON file into a project (it writes only through ``sync.tasks_io``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Select, func, or_, select

from almdesk.jobs.context import JobContext, JobOutcome
from almdesk.jobs.record import JobSpec
from almdesk.models import Store, Task


@dataclass(frozen=True)
class TaskFilter:
    """What the task table is narrowed to: phase and status ("" any), a text in id or title, a priority floor."""

    phase: str = ""
    status: str = ""
    text: str = ""
    min_priority: int = 1

    @property
    def narrowed(self) -> bool:
        """True when any filter is set."""
        return bool(self.phase or self.status or self.text.strip() or self.min_priority > 1)


@dataclass(frozen=True)
class TaskLine:
    """One task as a table row: ``row_id`` is the store's id (the paging key); ``updated`` is "" or local text."""

    row_id: int
    task_id: str
    title: str
    phase: str
    priority: int
    status: str
    verification: str
    tags: str
    updated: str

    def cells(self) -> tuple[Any, ...]:
        """The displayed columns: Task, Title, Phase, Priority, Status, Verification, Tags, Updated."""
        return (self.task_id, self.title, self.phase, self.priority, self.status, self.verification, self.tags,
                self.updated)


def _query(columns: Any, project_id: int, f: TaskFilter) -> Select[Any]:
    q = select(*columns).where(Task.project_id == project_id)
    if f.phase:
        q = q.where(Task.phase == f.phase)
    if f.status:
        q = q.where(Task.status == f.status)
    if f.min_priority > 1:
        q = q.where(Task.priority >= f.min_priority)
    text = f.text.strip()
    if text:
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        like = f"%{escaped}%"
        q = q.where(or_(Task.task_id.ilike(like, escape="\\"), Task.title.ilike(like, escape="\\")))
    return q


def task_count(store: Store, project_id: int, f: TaskFilter = TaskFilter()) -> int:
    """How many of the project's tasks match ``f``."""
    with store.session() as s:
        return int(s.scalar(_query([func.count(Task.id)], project_id, f)) or 0)


def task_page(store: Store, project_id: int, f: TaskFilter, after_id: int, limit: int) -> list[TaskLine]:
    """Up to ``limit`` matching tasks with a row id above ``after_id``, in row id order."""
    cols = (Task.id, Task.task_id, Task.title, Task.phase, Task.priority, Task.status, Task.verification,
            Task.tags, Task.updated)
    with store.session() as s:
        page = s.execute(_query(cols, project_id, f).where(Task.id > after_id).order_by(Task.id).limit(limit)).all()
    return [TaskLine(int(r[0]), r[1], r[2], r[3], r[4], r[5], r[6], "; ".join(str(t) for t in (r[7] or [])),
                     r[8].strftime("%Y-%m-%d %H:%M") if r[8] else "") for r in page]


def tasks_ahead(store: Store, project_id: int, f: TaskFilter, after_id: int, limit: int) -> int:
    """How many matching tasks (at most ``limit``) have a row id above ``after_id``: the next page's size."""
    with store.session() as s:
        return len(s.execute(_query((Task.id,), project_id, f).where(Task.id > after_id).limit(limit)).all())


def task_phases(store: Store, project_id: int) -> list[str]:
    """The distinct phases of the project's tasks, sorted."""
    with store.session() as s:
        return [str(p) for p in s.scalars(select(Task.phase).where(Task.project_id == project_id)
                                          .distinct().order_by(Task.phase))]


def import_fn() -> Callable[[Store, int, Path], Any] | None:
    """``almdesk.sync.tasks_io.import_tasks`` when the sync package provides it, else None."""
    try:
        from almdesk.sync.tasks_io import import_tasks
    except ImportError:
        return None
    return import_tasks


def import_available() -> bool:
    """True when this build can import task files."""
    return import_fn() is not None


def import_spec(store: Store, project_id: int, project: str, path: str | Path) -> JobSpec:
    """The job importing ``path`` into project ``project_id`` (named ``project`` in its title and outcome)."""
    fn = import_fn()
    if fn is None:
        raise RuntimeError("Task import is not available in this build (almdesk.sync.tasks_io).")
    file = Path(path)

    def run(ctx: JobContext) -> JobOutcome:
        ctx.progress(0, 0, f"Reading {file.name}")
        result = fn(store, project_id, file)
        ctx.progress(1, 1, "done")
        return import_outcome(result, project, file)

    return JobSpec("import", f"Import tasks into {project} from {file.name}", run)


def import_outcome(result: Any, project: str, path: Path) -> JobOutcome:
    """Describe what ``import_tasks`` returned (a count, a dict of counts, or an object with counts)."""
    counts: dict[str, int] = {}
    if isinstance(result, int):
        counts = {"imported": result}
    elif isinstance(result, dict):
        counts = {k: int(v) for k, v in result.items() if isinstance(v, int)}
    elif result is not None:
        counts = {k: int(v) for k, v in vars(result).items() if isinstance(v, int) and not k.startswith("_")}
    detail = ", ".join(f"{v} {k}" for k, v in counts.items())
    return JobOutcome(True, f"Imported {path.name} into {project}" + (f": {detail}." if detail else "."), counts)
