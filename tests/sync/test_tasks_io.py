"""Task import (CSV, JSON list, SD Elements results): values, errors with line and column, all-or-nothing,
re-import by task_id keeping links; and the demo task generator."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from almdesk.errors import ConfigError
from almdesk.models import Link, Project, Store, Task
from almdesk.models.tables import Connection, Connector
from almdesk.sync import demo_tasks, import_tasks, write_demo_tasks
from almdesk.sync.tasks_io import read_tasks

CSV_OK = """task_id,title,text,phase,priority,status,verification,tags,updated
T21,Validate input,"Line one
line two, with comma",development,8,TODO,none,web;pci,2024-05-31T14:03:00+02:00
1234-T22,Hash passwords,,requirements,10,done,pass,,2024-06-01T00:00:00Z
T23,Log access,,Architecture & Design,7,NA,,gdpr,
"""


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(tmp_path / "t.db")
    with s.session() as session:
        session.add(Project(id=1, name="P"))
    return s


def _tasks(store: Store) -> dict[str, Task]:
    with store.session() as s:
        return {t.task_id: t for t in s.scalars(select(Task).where(Task.project_id == 1))}


def _write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_csv_import_values(tmp_path: Path, store: Store) -> None:
    counts = import_tasks(store, 1, _write(tmp_path, "t.csv", CSV_OK))
    assert counts == {"created": 3, "updated": 0, "unchanged": 0, "total": 3}
    t = _tasks(store)
    assert t["T21"].text == "Line one\nline two, with comma"
    assert t["T21"].tags == ["web", "pci"] and t["T21"].priority == 8
    assert t["T21"].updated.replace(tzinfo=UTC) == datetime(2024, 5, 31, 12, 3, tzinfo=UTC)  # stored as UTC
    assert t["T22"].status == "DONE" and t["T22"].verification == "pass" and t["T22"].phase == "requirements"
    assert t["T23"].status == "NA" and t["T23"].phase == "architecture-design" and t["T23"].verification == "none"


def test_json_list_and_sd_elements_results(tmp_path: Path, store: Store) -> None:
    sde = {"count": 2, "results": [
        {"id": "1234-T5", "task_id": "T5", "title": "Use TLS", "text": "x", "priority": 9,
         "phase": {"id": 2, "name": "Development", "slug": "development"},
         "status": {"id": "TS2", "name": "Complete", "slug": "DONE", "meaning": "DONE"},
         "verification_status": {"slug": "partial"}, "tags": ["web"], "updated": "2024-01-02T03:04:05+00:00",
         "url": "https://sde.example.com/bunits/x/y/z/tasks/phase/development/1234-T5"},
        {"id": "1234-T6", "title": "Encrypt", "priority": 7, "phase": {"slug": "requirements"},
         "status": {"slug": "TODO"}},
    ]}
    assert import_tasks(store, 1, _write(tmp_path, "sde.json", json.dumps(sde, indent=2)))["created"] == 2
    t = _tasks(store)
    assert t["T5"].status == "DONE" and t["T5"].verification == "partial" and t["T6"].phase == "requirements"
    plain = [{"task_id": "T7", "title": "Plain", "tags": "a;b"}]
    assert import_tasks(store, 1, _write(tmp_path, "plain.json", json.dumps(plain)))["created"] == 1
    assert _tasks(store)["T7"].tags == ["a", "b"]


@pytest.mark.parametrize(("text", "where"), [
    ("task_id,title,priority\nT1,ok,8\nT2,bad,11\n", ("line 3", "column priority", "1 (lowest) to 10")),
    ("task_id,title\nT1,ok\n,missing id\n", ("line 3", "column task_id", "T21")),
    ("task_id,title\nT1,ok\nT1,again\n", ("line 3", "already appears on line 2", "only once")),
    ("task_id,title,updated\nT1,ok,2024-05-31T14:03:00\n", ("line 2", "no time zone", "+02:00")),
    ("task_id,title,phase\nT1,ok,coding\n", ("line 2", "column phase", "development")),
    ("task_id,title,status\nT1,ok,WIP\n", ("line 2", "column status", "TODO, DONE or NA")),
    ("task_id,title,colour\nT1,ok,red\n", ("line 1", "'colour'", "task_id, title")),
    ("task_id;title\nT1;ok\n", ("line 1", "semicolons", "commas")),
    ("task_id,title\n\"T1,unterminated\n", ("", "", "")),
])
def test_csv_errors_name_line_and_column_and_change_nothing(tmp_path: Path, store: Store, text: str,
                                                            where: tuple[str, str, str]) -> None:
    import_tasks(store, 1, _write(tmp_path, "first.csv", "task_id,title\nT1,Original\n"))
    before = {k: (v.title, v.updated) for k, v in _tasks(store).items()}
    with pytest.raises(ConfigError) as info:
        import_tasks(store, 1, _write(tmp_path, "bad.csv", text))
    message = str(info.value)
    for part in where:
        assert part in message, message
    assert info.value.hint
    assert {k: (v.title, v.updated) for k, v in _tasks(store).items()} == before


def test_json_errors_name_the_line(tmp_path: Path, store: Store) -> None:
    text = '{"results": [\n  {"task_id": "T1", "title": "ok"},\n  {"task_id": "T2",\n   "title": ""}\n]}'
    with pytest.raises(ConfigError) as info:
        import_tasks(store, 1, _write(tmp_path, "bad.json", text))
    assert "line 3" in info.value.message and "column title" in info.value.message
    with pytest.raises(ConfigError) as info:
        import_tasks(store, 1, _write(tmp_path, "broken.json", '[{"task_id": "T1",\n "title": "x"'))
    assert "line 2" in info.value.message and "not valid JSON" in info.value.message
    assert _tasks(store) == {}


def test_reimport_updates_by_task_id_and_keeps_links(tmp_path: Path, store: Store) -> None:
    import_tasks(store, 1, _write(tmp_path, "a.csv", CSV_OK))
    with store.session() as s:
        s.add(Connector(id=1, name="c", system="toyalm"))
        s.add(Connection(id=1, alias="a", connector_id=1, project_id=1))
        s.flush()
        s.add(Link(connection_id=1, task_pk=_tasks(store)["T21"].id, alm_ref="42", alm_key="TOY-42"))
    pk = _tasks(store)["T21"].id
    changed = CSV_OK.replace("Validate input", "Validate all input").replace(",web;pci,", ",web,")
    counts = import_tasks(store, 1, _write(tmp_path, "b.csv", changed))
    assert counts == {"created": 0, "updated": 1, "unchanged": 2, "total": 3}
    t = _tasks(store)
    assert t["T21"].id == pk and t["T21"].title == "Validate all input" and t["T21"].tags == ["web"]
    with store.session() as s:
        assert s.scalar(select(Link.alm_ref).where(Link.task_pk == pk)) == "42"


def test_unreadable_and_empty_files(tmp_path: Path, store: Store) -> None:
    with pytest.raises(ConfigError, match="Cannot read"):
        import_tasks(store, 1, tmp_path / "missing.csv")
    with pytest.raises(ConfigError, match="has no tasks"):
        import_tasks(store, 1, _write(tmp_path, "empty.csv", "task_id,title\n"))
    (tmp_path / "latin.csv").write_bytes("task_id,title\nT1,caf\xe9\n".encode("latin-1"))
    with pytest.raises(ConfigError, match="UTF-8"):
        import_tasks(store, 1, tmp_path / "latin.csv")


def test_demo_tasks_round_trip(tmp_path: Path) -> None:
    tasks = demo_tasks(50, seed=3)
    assert tasks == demo_tasks(50, seed=3) and len({t["task_id"] for t in tasks}) == 50
    for suffix in (".csv", ".json"):
        rows = read_tasks(write_demo_tasks(tmp_path / f"demo{suffix}", 50, seed=3))
        assert [r.task_id for r in rows] == [t["task_id"] for t in tasks]
        assert [list(r.tags) for r in rows] == [t["tags"] for t in tasks]
