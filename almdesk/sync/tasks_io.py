"""Importing a project's tasks from CSV or JSON (DESIGN §4 Import), all-or-nothing.

Columns/keys: ``task_id, title, text, phase, priority, status, verification, tags, updated``
(``tags`` ``;``-separated in CSV; ``updated`` ISO 8601 with a time zone). JSON is a list of such
objects or SD Elements' ``{"results": [...]}``, where ``phase``/``status``/``verification`` may be
objects with a ``slug`` and ids like ``"1234-T21"`` keep ``T21``. Every row is checked before anything
is written; the first bad one rejects the file with its line number, the column and the fix.
Re-importing updates tasks by ``task_id`` (their links stay); tasks missing from the file are kept.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from almdesk.errors import ConfigError
from almdesk.models import Project, Store, Task
from almdesk.sync.plan import aware
from almdesk.systems.common import PHASES, STATUSES, VERIFICATIONS

COLUMNS = ("task_id", "title", "text", "phase", "priority", "status", "verification", "tags", "updated")
_JSON_ALIASES = {"verification": ("verification_status",), "text": ("description",)}
_STATUS_ALIASES = {"todo": "TODO", "to do": "TODO", "incomplete": "TODO", "open": "TODO", "new": "TODO",
                   "done": "DONE", "complete": "DONE", "completed": "DONE", "closed": "DONE",
                   "na": "NA", "n/a": "NA", "not applicable": "NA", "not-applicable": "NA"}
_TASK_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,39}")
_SDE_ID = re.compile(r"\d+-(.+)")


@dataclass(frozen=True)
class TaskRow:
    """One valid task read from a file."""

    task_id: str
    title: str
    text: str = ""
    phase: str = "development"
    priority: int = 7
    status: str = "TODO"
    verification: str = "none"
    tags: tuple[str, ...] = ()
    updated: datetime | None = None


class _RowError(Exception):
    def __init__(self, column: str, problem: str, fix: str) -> None:
        super().__init__(problem)
        self.column, self.problem, self.fix = column, problem, fix


def import_tasks(store: Store, project_id: int, path: str | Path) -> dict[str, int]:
    """Read ``path`` (CSV or JSON) and upsert its tasks into the project; return the counts.

    Raises :class:`ConfigError` (nothing written) when the file cannot be read or a row is bad.
    """
    rows = read_tasks(path)
    return upsert_tasks(store, project_id, rows)


def task_from_dict(raw: Mapping[str, Any]) -> TaskRow:
    """One task from an import-shaped dict (JSON rules), checked like a file row; raises ConfigError."""
    try:
        return _row(raw, csv_tags=False)
    except _RowError as exc:
        raise ConfigError(f"Task {_show(raw.get('task_id'))}, {exc.column}: {exc.problem}.", exc.fix,
                          field=exc.column) from None


def read_tasks(path: str | Path) -> list[TaskRow]:
    p = Path(path)
    try:
        text = p.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise ConfigError(f"Cannot read {p}: {exc.strerror or exc}.", "Check the file name and its permissions.",
                          field="file") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{p.name} is not UTF-8 text.", "Save the file as UTF-8 (CSV UTF-8 in Excel).",
                          field="file") from None
    stripped = text.lstrip()
    is_json = p.suffix.lower() == ".json" or (p.suffix.lower() != ".csv" and stripped[:1] in ("[", "{"))
    rows = _read_json(text, p.name) if is_json else _read_csv(text, p.name)
    if not rows:
        raise ConfigError(f"{p.name} has no tasks.", "Add at least one row with task_id and title.", field="file")
    return rows


def upsert_tasks(store: Store, project_id: int, rows: Iterable[TaskRow]) -> dict[str, int]:
    """Create or update tasks by ``task_id`` in one transaction; links are left alone."""
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    now = datetime.now(UTC)
    with store.session() as s:
        if s.get(Project, project_id) is None:
            raise ConfigError(f"Project {project_id} does not exist.", "Choose an existing project.",
                              field="project")
        existing = {t.task_id: t for t in s.scalars(select(Task).where(Task.project_id == project_id))}
        for row in rows:
            task = existing.get(row.task_id)
            values = {f.name: getattr(row, f.name) for f in fields(TaskRow) if f.name not in ("task_id", "updated")}
            values["tags"] = list(row.tags)
            if task is None:
                task = Task(project_id=project_id, task_id=row.task_id, updated=row.updated or now, **values)
                s.add(task)
                existing[row.task_id] = task
                counts["created"] += 1
                continue
            changed = any(getattr(task, k) != v for k, v in values.items())
            if row.updated is not None and aware(task.updated) != row.updated:
                changed = True
            if not changed:
                counts["unchanged"] += 1
                continue
            for k, v in values.items():
                setattr(task, k, v)
            task.updated = row.updated or now
            counts["updated"] += 1
    counts["total"] = counts["created"] + counts["updated"] + counts["unchanged"]
    return counts


# --- CSV ------------------------------------------------------------------------------------------

def _read_csv(text: str, name: str) -> list[TaskRow]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        return []
    except csv.Error as exc:
        raise ConfigError(f"{name}, line 1: the header cannot be read ({exc}).", "Save the file as CSV.",
                          field="file") from None
    columns = [h.strip().lower() for h in header]
    if len(columns) == 1 and ";" in columns[0]:
        raise ConfigError(f"{name}, line 1: the columns are separated by semicolons.",
                          "Separate columns with commas (only tags are separated by ';').", field="file")
    unknown = [c for c in columns if c not in COLUMNS]
    if unknown:
        raise ConfigError(f"{name}, line 1: unknown column(s) {', '.join(_show(c) for c in unknown[:5])}.",
                          f"Use only these columns: {', '.join(COLUMNS)}.", field="file")
    missing = [c for c in ("task_id", "title") if c not in columns]
    if missing:
        raise ConfigError(f"{name}, line 1: required column(s) {', '.join(missing)} missing.",
                          f"The header must name task_id and title; the others are optional: {', '.join(COLUMNS)}.",
                          field="file")
    if len(set(columns)) != len(columns):
        raise ConfigError(f"{name}, line 1: a column appears twice.", "Name each column once.", field="file")
    out: list[TaskRow] = []
    first_line: dict[str, int] = {}
    line = reader.line_num + 1
    while True:
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise ConfigError(f"{name}, line {line}: the row cannot be read ({exc}).",
                              "Check the quotes on that line.", field="file") from None
        start, line = line, reader.line_num + 1
        if not any(v.strip() for v in values):
            continue
        if len(values) > len(columns):
            raise ConfigError(f"{name}, line {start}: {len(values)} values for {len(columns)} columns.",
                              "Quote values that contain commas, or remove the extra values.", field="file")
        raw = dict(zip(columns, values, strict=False))
        out.append(_checked(raw, start, name, first_line, csv_tags=True))
    return out


# --- JSON -----------------------------------------------------------------------------------------

def _read_json(text: str, name: str) -> list[TaskRow]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{name}, line {exc.lineno}, column {exc.colno}: not valid JSON ({exc.msg}).",
                          "Fix the JSON syntax there (a missing comma or quote is the usual cause).",
                          field="file") from None
    except RecursionError:
        raise ConfigError(f"{name}: the JSON is nested too deeply to be a task list.",
                          "Export the tasks as a JSON list of objects.", field="file") from None
    except ValueError:  # an integer longer than Python's 4300-digit limit
        raise ConfigError(f"{name}: a number in the file has too many digits.",
                          "Write priorities as 1 to 10; check the file is a task export.", field="file") from None
    if isinstance(data, dict) and isinstance(data.get("results"), list):
        items = data["results"]
    elif isinstance(data, list):
        items = data
    else:
        raise ConfigError(f"{name}: expected a list of tasks or an object with \"results\": [...].",
                          "Export the tasks as a JSON list, or as SD Elements' task list.", field="file")
    lines = _element_lines(text)
    out: list[TaskRow] = []
    first_line: dict[str, int] = {}
    for i, item in enumerate(items):
        line = lines[i] if i < len(lines) else 0
        where = f"line {line}" if line else f"task #{i + 1}"
        if not isinstance(item, dict):
            raise ConfigError(f"{name}, {where}: a task must be an object, not {type(item).__name__}.",
                              "Write each task as {\"task_id\": ..., \"title\": ...}.", field="file")
        raw: dict[str, Any] = {}
        for key in COLUMNS:
            for candidate in (key, *_JSON_ALIASES.get(key, ())):
                if candidate in item:
                    raw[key] = item[candidate]
                    break
        if raw.get("task_id") in (None, "") and "id" in item:
            raw["task_id"] = item["id"]
        out.append(_checked(raw, line or i + 1, name, first_line, csv_tags=False, where=where))
    return out


def _element_lines(text: str) -> list[int]:
    """Line numbers where each element of the task array starts (top-level list or "results")."""
    dec = json.JSONDecoder()
    i = _skip(text, 0)
    if text[i] == "{":
        i = _skip(text, i + 1)
        while i < len(text) and text[i] != "}":
            key, i = dec.raw_decode(text, i)
            i = _skip(text, _skip(text, i) + 1)  # past ':'
            if key == "results":
                break
            _, i = dec.raw_decode(text, i)
            i = _skip(text, i)
            if text[i] == ",":
                i = _skip(text, i + 1)
        else:
            return []
    if text[i] != "[":
        return []
    lines: list[int] = []
    i = _skip(text, i + 1)
    line, pos = 1, 0
    while i < len(text) and text[i] != "]":
        line += text.count("\n", pos, i)
        pos = i
        lines.append(line)
        _, i = dec.raw_decode(text, i)
        i = _skip(text, i)
        if text[i] == ",":
            i = _skip(text, i + 1)
    return lines


def _skip(text: str, i: int) -> int:
    while i < len(text) and text[i] in " \t\r\n":
        i += 1
    return i


# --- checking one row -----------------------------------------------------------------------------

def _checked(raw: Mapping[str, Any], line: int, name: str, first_line: dict[str, int], *, csv_tags: bool,
             where: str = "") -> TaskRow:
    where = where or f"line {line}"
    try:
        row = _row(raw, csv_tags)
    except _RowError as exc:
        raise ConfigError(f"{name}, {where}, column {exc.column}: {exc.problem}.", exc.fix, field="file") from None
    if row.task_id in first_line:
        raise ConfigError(f"{name}, {where}, column task_id: task {row.task_id} already appears on line "
                          f"{first_line[row.task_id]}.", "Each task_id may appear only once in a file.", field="file")
    first_line[row.task_id] = line
    return row


def _slug(value: Any) -> str:
    if isinstance(value, dict):
        value = value.get("slug") or value.get("meaning") or value.get("name") or ""
    return "" if value is None else str(value).strip()


def _row(raw: Mapping[str, Any], csv_tags: bool) -> TaskRow:
    task_id = _slug(raw.get("task_id"))
    m = _SDE_ID.fullmatch(task_id)
    if m:
        task_id = m.group(1)
    if not task_id:
        raise _RowError("task_id", "task_id is empty", "Give every task an id such as T21.")
    if not _TASK_ID.fullmatch(task_id):
        raise _RowError("task_id", f"task_id {_show(task_id)} is not valid",
                        "Use letters, digits, '-', '_' or '.' (no spaces or ':'), at most 40 characters, e.g. T21.")
    title = _encodable("title", " ".join(_slug(raw.get("title")).split()))
    if not title:
        raise _RowError("title", "title is empty", "Give every task a title.")
    text = raw.get("text")
    text = _encodable("text", "" if text is None else str(text))
    phase = re.sub(r"[^a-z0-9]+", "-", _slug(raw.get("phase")).lower()).strip("-") or "development"
    if phase not in PHASES:
        raise _RowError("phase", f"phase {_show(phase)} is not known", f"Use one of: {', '.join(PHASES)}.")
    tags = _tags(raw.get("tags"), csv_tags)
    for tag in tags:
        _encodable("tags", tag)
    return TaskRow(task_id, title, text, phase, _priority(raw.get("priority")), _status(raw.get("status")),
                   _verification(raw.get("verification")), tags, _updated(raw.get("updated")))


def _show(value: Any) -> str:
    """``repr(value)``, cut to about 60 characters (a bad value may be a whole megabyte)."""
    text = repr(value)
    return text if len(text) <= 60 else text[:56] + "…" + text[-1]


def _encodable(column: str, text: str) -> str:
    """``text`` when it can be stored (UTF-8); JSON's lone ``\\ud800``-style escapes cannot."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise _RowError(column, f"{column} contains an invalid character (a lone \\u surrogate escape)",
                        "Fix or remove that \\u escape; write characters as UTF-8 text.") from None
    return text


def _priority(value: Any) -> int:
    if value is None or (isinstance(value, str) and not value.strip()):
        return 7
    try:
        number = int(str(value).strip()) if not isinstance(value, bool) else -1
    except ValueError:
        number = -1
    if not 1 <= number <= 10:
        raise _RowError("priority", f"priority {_show(value)} is not a whole number from 1 to 10",
                        "Write the priority as 1 (lowest) to 10 (highest).")
    return number


def _status(value: Any) -> str:
    text = _slug(value)
    if not text:
        return "TODO"
    status = _STATUS_ALIASES.get(text.lower(), text.upper())
    if status not in STATUSES:
        raise _RowError("status", f"status {_show(text)} is not known", "Use TODO, DONE or NA.")
    return status


def _verification(value: Any) -> str:
    text = _slug(value).lower() or "none"
    if text not in VERIFICATIONS:
        raise _RowError("verification", f"verification {_show(text)} is not known",
                        f"Use one of: {', '.join(VERIFICATIONS)} (or leave it empty for none).")
    return text


def _tags(value: Any, csv_tags: bool) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, list):
        parts = [_slug(v) for v in value]
    else:
        text = str(value)
        parts = text.split(";") if csv_tags or ";" in text else text.split(",")
    seen: dict[str, None] = {}
    for part in parts:
        if part.strip():
            seen[part.strip()] = None
    return tuple(seen)


def _updated(value: Any) -> datetime | None:
    text = _slug(value)
    if not text:
        return None
    try:
        stamp = datetime.fromisoformat(text)
    except ValueError:
        raise _RowError("updated", f"updated {_show(text)} is not an ISO 8601 date and time",
                        "Write it like 2024-05-31T14:03:00+02:00 or 2024-05-31T12:03:00Z.") from None
    if stamp.tzinfo is None:
        raise _RowError("updated", f"updated {_show(text)} has no time zone",
                        "Add the zone, e.g. 2024-05-31T14:03:00+02:00 or …Z for UTC.")
    try:
        return stamp.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+01:00 is before year 1 in UTC
        raise _RowError("updated", f"updated {_show(text)} is out of range",
                        "Write a date between the years 1 and 9999.") from None
