"""The plan's identity rules on plain data (the sandbox tests cover them over HTTP): marks, taken items,
detached links; and migration 0004, which gives existing links the state ``linked``."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from almdesk.base.records import RemoteItem
from almdesk.models import Base, Link, Store
from almdesk.models.store import head_revision
from almdesk.sync.plan import DETACHED, ItemIndex, LinkSnapshot, Rules, TaskSnapshot, make_plan
from almdesk.sync.titles import TitleFormat
from almdesk.systems.marks import MARK_PREFIX, context_mark, mark_verdict, marks_in

FMT = TitleFormat.parse("$task_id $title")
MINE, THEIRS = context_mark("Payments"), context_mark("Billing")


def task(pk: int, tid: str) -> TaskSnapshot:
    return TaskSnapshot(pk, tid, "t", "", "development", 8, "TODO", "none", (), None)


def item(ref: str, title: str, *marks: str) -> RemoteItem:
    return RemoteItem(ref, ref, title, f"http://alm/{ref}", False, "Open", None, tuple(marks))


def plan_for(items: list[RemoteItem], links: dict[int, LinkSnapshot] | None = None,
             taken: frozenset[str] = frozenset(), tasks: list[TaskSnapshot] | None = None) -> list[tuple[str, str]]:
    index = ItemIndex(FMT, MINE)
    for i in items:
        index.add(i)
    plan = make_plan(tasks or [task(1, "T1")], links or {}, index, FMT, Rules(), lambda _s: True, set(), taken=taken)
    return [(e.action, e.item.ref if e.item else "") for e in plan]


def test_marks_are_stable_safe_label_names_that_tell_contexts_apart() -> None:
    assert context_mark(" Shop \n Web ") == context_mark("Shop Web") != context_mark("shop-web")
    assert context_mark("").startswith(MARK_PREFIX + "default-")
    for context in ("", "Payments", 'Pay "EU" || ^\\ (ü) 日本' * 5):
        mark = context_mark(context)
        assert len(mark) <= 45 and " " not in mark and mark.isascii() and mark == mark.lower()
    assert marks_in(["SD-Elements", MINE, MINE.upper(), "x"]) == (MINE, MINE.upper())
    assert mark_verdict([], MINE) == "unmarked" and mark_verdict([MINE.upper()], MINE) == "ours"
    assert mark_verdict([THEIRS], MINE) == "other" and mark_verdict([THEIRS, MINE], MINE) == "ours"


def test_a_marked_item_is_preferred_and_another_contexts_item_never_taken() -> None:
    unmarked, ours, theirs = item("1", "T1: a"), item("2", "T1: b", MINE), item("3", "T1: c", THEIRS)
    assert plan_for([unmarked, ours]) == [("link", "2")]  # listed second, taken first
    assert plan_for([theirs, unmarked]) == [("link", "1")]
    assert plan_for([theirs]) == [("create", "")]
    index = ItemIndex(FMT, MINE)
    for i in (theirs, ours, unmarked):
        index.add(i)
    assert index.foreign == 1 and index.by_task["T1"] == [ours, unmarked] and "3" in index.by_ref
    assert index.duplicates()["T1"] == [ours, unmarked]  # another context's look-alike is no duplicate


def test_items_linked_elsewhere_are_not_taken_by_title() -> None:
    a, b = item("1", "T1: a", MINE), item("2", "T1: b")
    assert plan_for([a, b], taken=frozenset({"1"})) == [("link", "2")]  # linked by another connection
    # linked by hand to task T2 of this connection: T1 may not take it
    links = {2: LinkSnapshot(2, "1", "1", "", False, 7)}
    assert plan_for([a], links, tasks=[task(1, "T1"), task(2, "T2")]) == [("create", ""), ("unchanged", "1")]


def test_a_detached_task_is_neither_looked_up_nor_created() -> None:
    links = {1: LinkSnapshot(1, "", "", "", False, 3, "", DETACHED)}
    plan = plan_for([item("1", "T1: a", MINE)], links)
    assert plan == [("skip", "")]
    detached = LinkSnapshot(1, "1", "1", "", False, 3, "", DETACHED)
    assert plan_for([item("1", "T1: a", MINE)], {1: detached}) == [("skip", "")]


def test_upgrade_from_0003_keeps_links_as_linked(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = Store(path, revision="0003_journal_timeout")
    with old.engine.begin() as conn:
        conn.exec_driver_sql("insert into connector (uid, name, system, params, network, inaccessible, created, "
                             "updated) values ('u', 'c', 'jira', '{}', '{}', 0, '2026-01-01', '2026-01-01')")
        conn.exec_driver_sql("insert into project (name, business_unit, application, created) "
                             "values ('p', '', '', '2026-01-01')")
        conn.exec_driver_sql("insert into connection (alias, connector_id, project_id, frequency, debug_mode, params, "
                             "inaccessible, in_progress, created, updated) values ('a', 1, 1, 'manually', 0, '{}', 0, "
                             "0, '2026-01-01', '2026-01-01')")
        conn.exec_driver_sql("insert into task (project_id, task_id, title, text, phase, priority, status, "
                             "verification, tags, updated) values (1, 'T1', 't', '', 'development', 7, 'TODO', "
                             "'none', '[]', '2026-01-01')")
        conn.exec_driver_sql("insert into link (connection_id, task_pk, alm_ref, alm_key, url, alm_status, alm_done, "
                             "seen) values (1, 1, 'DEMO-1', 'DEMO-1', 'http://j/browse/DEMO-1', 'Open', 0, "
                             "'2026-01-01')")
    old.close()
    with sqlite3.connect(path) as raw:
        assert "state" not in {r[1] for r in raw.execute("pragma table_info(link)")}
    store = Store(path)
    assert store.current_revision() == head_revision()
    with store.session() as s:
        (link,) = s.query(Link).all()
        assert (link.alm_ref, link.state) == ("DEMO-1", "linked")
    with store.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
