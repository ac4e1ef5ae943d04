"""Fuzzing task import files (CSV and JSON): a bad file is a ConfigError naming where, and changes nothing.

Three generators feed :func:`almdesk.sync.tasks_io.import_tasks`:

* valid files (CSV, JSON list, SD Elements ``{"results": [...]}`` with slug objects) with **one bad value
  planted** in a known row and column: the error must name that file, line and column;
* valid files **damaged** (truncated, a byte inserted/deleted/flipped, quotes dropped, garbage, BOMs,
  NULs, huge fields, deep nesting, huge numbers, lone surrogates, dates at the ends of time): the import
  either succeeds or raises a ConfigError that says where (line/column, task #, or the whole file);
* JSON of **any shape** (hypothesis' recursive JSON) in place of tasks and values.

Whatever happens, no other exception escapes, and a rejected file leaves the store exactly as it was.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from sqlalchemy import select

from almdesk.errors import ConfigError
from almdesk.models import Project, Store, Task
from almdesk.sync.tasks_io import COLUMNS, import_tasks
from almdesk.systems.common import PHASES, VERIFICATIONS
from tests.fuzz.common import fuzz_settings

WHOLE_FILE = ("has no tasks", "is not UTF-8", "expected a list of tasks", "Cannot read", "nested too deeply",
              "too many digits")
LOCATED = re.compile(r"(line \d+|task #\d+)")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    s = Store(tmp_path_factory.mktemp("fuzz-import") / "almdesk.db")
    with s.session() as session:
        session.add(Project(name="fuzz", business_unit="BU", application="app"))
    yield s
    s.close()


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz-files")


def project_id(store: Store) -> int:
    with store.session() as s:
        pid = s.scalar(select(Project.id).where(Project.name == "fuzz"))
        assert pid is not None
        return int(pid)


def snapshot(store: Store) -> list[tuple[Any, ...]]:
    with store.session() as s:
        return [(t.id, t.project_id, t.task_id, t.title, t.text, t.phase, t.priority, t.status, t.verification,
                 tuple(t.tags or ()), t.updated) for t in s.scalars(select(Task).order_by(Task.id))]


def run_import(store: Store, path: Path) -> ConfigError | None:
    """Import ``path``; on ConfigError check the message and that nothing changed, and return it."""
    before = snapshot(store)
    try:
        import_tasks(store, project_id(store), path)
    except ConfigError as exc:
        assert snapshot(store) == before, f"a rejected file changed the store: {exc}"
        assert exc.message and exc.hint, exc
        assert len(exc.message) < 2000, exc.message[:300]
        assert path.name in exc.message or "Project" in exc.message, exc.message
        assert LOCATED.search(exc.message) or any(w in exc.message for w in WHOLE_FILE), exc.message
        return exc
    return None


# --- valid tasks and their files ---------------------------------------------------------------------

SAFE_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=30)
TITLES = SAFE_TEXT.filter(lambda t: bool(t.split()))
TAG = st.from_regex(r"[a-z][a-z0-9-]{0,8}", fullmatch=True)


@st.composite
def task_dicts(draw: st.DrawFn, n_max: int = 6) -> list[dict[str, Any]]:
    n = draw(st.integers(1, n_max))
    ids = draw(st.lists(st.from_regex(r"T[0-9]{1,4}", fullmatch=True), min_size=n, max_size=n, unique=True))
    out = []
    for tid in ids:
        t: dict[str, Any] = {"task_id": tid, "title": draw(TITLES)}
        if draw(st.booleans()):
            t["text"] = draw(SAFE_TEXT)
        if draw(st.booleans()):
            t["phase"] = draw(st.sampled_from(PHASES))
        if draw(st.booleans()):
            t["priority"] = draw(st.integers(1, 10))
        if draw(st.booleans()):
            t["status"] = draw(st.sampled_from(["TODO", "DONE", "NA", "todo", "Done", "n/a"]))
        if draw(st.booleans()):
            t["verification"] = draw(st.sampled_from(VERIFICATIONS))
        if draw(st.booleans()):
            t["tags"] = draw(st.lists(TAG, max_size=3))
        if draw(st.booleans()):
            t["updated"] = draw(st.sampled_from(["2024-05-31T14:03:00+02:00", "2024-05-31T12:03:00Z",
                                                 "2023-01-01T00:00:00-08:00"]))
        out.append(t)
    return out


def to_csv(tasks: list[dict[str, Any]], columns: list[str]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    for t in tasks:
        row = []
        for c in columns:
            v = t.get(c, "")
            row.append(";".join(v) if c == "tags" and isinstance(v, list) else str(v))
        w.writerow(row)
    return buf.getvalue()


def csv_lines(text: str) -> list[int]:
    """Line on which each data row starts (as a reader sees them; quoted newlines count)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    next(reader)
    out, line = [], reader.line_num + 1
    for _ in reader:
        out.append(line)
        line = reader.line_num + 1
    return out


def to_json(tasks: list[dict[str, Any]], shape: str, indent: int | None) -> tuple[str, list[int]]:
    """The file text and the line each task starts on (1 for compact JSON)."""
    items: list[Any] = tasks
    if shape == "sde":
        items = [{**t, **{k: {"slug": t[k]} for k in ("phase", "status") if k in t}} for t in tasks]
    doc: Any = {"results": items, "count": len(items)} if shape != "list" else items
    text = json.dumps(doc, indent=indent, ensure_ascii=False)
    if indent is None:
        return text, [1] * len(items)
    first = 2 if shape == "list" else 3
    lines, line = [], first
    for item in items:
        lines.append(line)
        line += len(json.dumps(item, indent=indent, ensure_ascii=False).splitlines())
    return text, lines


@st.composite
def valid_files(draw: st.DrawFn) -> tuple[str, str, list[dict[str, Any]], list[int], list[str]]:
    """(suffix, text, tasks, start line of each task, CSV columns or [])."""
    tasks = draw(task_dicts())
    kind = draw(st.sampled_from(["csv", "json-list", "json-sde", "json-compact"]))
    if kind == "csv":
        extra = [c for c in COLUMNS if c not in ("task_id", "title")]
        columns = ["task_id", "title", *draw(st.lists(st.sampled_from(extra), unique=True))]
        columns = draw(st.permutations(columns))
        text = to_csv(tasks, list(columns))
        return ".csv", text, tasks, csv_lines(text), list(columns)
    shape = {"json-list": "list", "json-sde": "sde", "json-compact": "list"}[kind]
    text, lines = to_json(tasks, shape, None if kind == "json-compact" else 2)
    return ".json", text, tasks, lines, []


_counter = iter(range(10**9))


def write(files: Path, suffix: str, content: str | bytes) -> Path:
    path = files / f"tasks{next(_counter)}{suffix}"
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8", errors="surrogatepass")
    else:
        path.write_bytes(content)
    return path


@fuzz_settings(60)
@given(valid_files())
def test_valid_files_import(store: Store, files: Path,
                            case: tuple[str, str, list[dict[str, Any]], list[int], list[str]]) -> None:
    suffix, text, tasks, _lines, _cols = case
    assert run_import(store, write(files, suffix, text)) is None
    with store.session() as s:
        ids = set(s.scalars(select(Task.task_id).where(Task.project_id == project_id(store))))
    assert {t["task_id"] for t in tasks} <= ids


# --- one bad value in a known row and column -------------------------------------------------------------

BAD_VALUES: dict[str, list[Any]] = {
    "task_id": ["", "T 1", "a:b", "x" * 41, "-T1", "T1/2", "ünï"],
    "title": ["", "   ", "\t"],
    "phase": ["design-ish", "prod", "requirements!!x"],
    "priority": ["0", "11", "abc", "7.5", "-3", True, 99, 0.5],
    "status": ["MAYBE", "in progress", "x"],
    "verification": ["bogus", "passed", "nope"],
    "updated": ["yesterday", "2024-05-31T14:03:00", "2024-13-01T00:00:00Z", "31/05/2024",
                "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"],
}


@fuzz_settings(120)
@given(valid_files(), st.data())
def test_a_bad_value_is_named_by_line_and_column(store: Store, files: Path,
                                                 case: tuple[str, str, list[dict[str, Any]], list[int], list[str]],
                                                 data: st.DataObject) -> None:
    suffix, _text, tasks, _lines, columns = case
    usable = [c for c in BAD_VALUES if not columns or c in columns]
    column = data.draw(st.sampled_from(usable))
    bad = data.draw(st.sampled_from(BAD_VALUES[column]))
    k = data.draw(st.integers(0, len(tasks) - 1))
    tasks = [dict(t) for t in tasks]
    if suffix == ".csv":
        tasks[k][column] = str(bad)
        text = to_csv(tasks, columns)
        line = csv_lines(text)[k]
    else:
        tasks[k][column] = bad
        compact = data.draw(st.booleans())
        shape = data.draw(st.sampled_from(["list", "sde"]))
        text, lines = to_json(tasks, shape, None if compact else 2)
        line = lines[k]
    exc = run_import(store, write(files, suffix, text))
    assert exc is not None, f"{column}={bad!r} was accepted"
    assert f"line {line}," in exc.message and f"column {column}" in exc.message, (line, column, exc.message)


@fuzz_settings(50)
@given(valid_files(), st.data())
def test_a_duplicate_task_id_names_both_lines(store: Store, files: Path,
                                              case: tuple[str, str, list[dict[str, Any]], list[int], list[str]],
                                              data: st.DataObject) -> None:
    suffix, _text, tasks, _lines, columns = case
    assume(len(tasks) >= 2)
    j = data.draw(st.integers(0, len(tasks) - 2))
    k = data.draw(st.integers(j + 1, len(tasks) - 1))
    tasks = [dict(t) for t in tasks]
    tasks[k]["task_id"] = tasks[j]["task_id"]
    if suffix == ".csv":
        text = to_csv(tasks, columns)
        lines = csv_lines(text)
    else:
        text, lines = to_json(tasks, "list", 2)
    exc = run_import(store, write(files, suffix, text))
    assert exc is not None
    assert f"line {lines[k]}" in exc.message and f"line {lines[j]}" in exc.message, exc.message


# --- damaged files ---------------------------------------------------------------------------------------

def damage(text: str, data: st.DataObject) -> str | bytes:
    how = data.draw(st.sampled_from(["truncate", "insert", "delete", "flip", "drop-quotes", "garbage", "bom",
                                     "nul", "invalid-utf8", "huge-field", "deep", "huge-int", "surrogate",
                                     "crlf", "semicolons", "empty"]))
    pos = data.draw(st.integers(0, max(0, len(text) - 1)))
    if how == "truncate":
        return text[:pos]
    if how == "insert":
        return text[:pos] + data.draw(st.sampled_from(['"', ",", "\n", "{", "]", "\\", "\x00", ";", "\r"])) + text[pos:]
    if how == "delete":
        return text[:pos] + text[pos + 1:]
    if how == "flip":
        raw = bytearray(text.encode())
        if raw:
            raw[min(pos, len(raw) - 1)] ^= data.draw(st.integers(1, 255))
        return bytes(raw)
    if how == "drop-quotes":
        return text.replace('"', "")
    if how == "garbage":
        return data.draw(st.binary(max_size=200))
    if how == "bom":
        return "\ufeff" + text
    if how == "nul":
        return text.replace(",", ",\x00", 1)
    if how == "invalid-utf8":
        return text.encode()[:pos] + b"\xff\xfe" + text.encode()[pos:]
    if how == "huge-field":
        return text[:pos] + "x" * 200_000 + text[pos:]
    if how == "deep":
        return "[" * 100_000 + "]" * 100_000
    if how == "huge-int":
        return '[{"task_id": "T1", "title": "t", "priority": ' + "9" * 5000 + "}]"
    if how == "surrogate":
        return '[{"task_id": "T1", "title": "bad \\ud800 half"}]'
    if how == "crlf":
        return text.replace("\n", "\r\n")
    if how == "semicolons":
        return text.replace(",", ";")
    return ""


@fuzz_settings(150)
@given(valid_files(), st.data())
def test_damaged_files_fail_clearly_and_change_nothing(
        store: Store, files: Path, case: tuple[str, str, list[dict[str, Any]], list[int], list[str]],
        data: st.DataObject) -> None:
    suffix, text, _tasks, _lines, _cols = case
    suffix = data.draw(st.sampled_from([suffix, suffix, ".txt"]))
    run_import(store, write(files, suffix, damage(text, data)))


# --- JSON of any shape -----------------------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@st.composite
def odd_json(draw: st.DrawFn) -> Any:
    task: dict[str, Any] = {"task_id": draw(st.one_of(st.just("T1"), JSON_VALUES)),
                            "title": draw(st.one_of(st.just("A title"), JSON_VALUES))}
    for key in draw(st.lists(st.sampled_from([*COLUMNS, "id", "description", "verification_status"]),
                             max_size=5, unique=True)):
        task[key] = draw(JSON_VALUES)
    items = draw(st.lists(st.one_of(st.just(task), JSON_VALUES), min_size=0, max_size=4))
    return draw(st.sampled_from([items, {"results": items}, {"results": task}, task, {"results": items, "x": task}]))


@fuzz_settings(120)
@given(odd_json(), st.booleans())
def test_json_of_any_shape(store: Store, files: Path, doc: Any, indent: bool) -> None:
    text = json.dumps(doc, indent=2 if indent else None)
    run_import(store, write(files, ".json", text))


# --- regressions (fixed in almdesk/sync/tasks_io.py) ------------------------------------------------------

@pytest.mark.parametrize(("content", "expected"), [
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ('[{"task_id": "T1", "title": "t", "priority": ' + "9" * 5000 + "}]", "too many digits"),
    ('[{"task_id": "T1", "title": "bad \\ud800 half"}]', "column title"),
    ('[{"task_id": "T1", "title": "t", "updated": "0001-01-01T00:00:00+01:00"}]', "column updated"),
    ('[{"task_id": "T1", "title": "t", "updated": "9999-12-31T23:59:59-01:00"}]', "column updated"),
    ('[{"task_id": "T1", "title": "t", "tags": ["ok", "\\udfff"]}]', "column tags"),
    ("task_id,title\n" + "T" * 100_000 + ",t\n", "column task_id"),
])
def test_regressions(store: Store, files: Path, content: str, expected: str) -> None:
    exc = run_import(store, write(files, ".csv" if content.startswith("task_id") else ".json", content))
    assert exc is not None and expected in exc.message, exc
    assert len(exc.message) < 300, "a bad value is echoed whole"
