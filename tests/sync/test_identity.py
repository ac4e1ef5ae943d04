"""Sync identity over real HTTP on every system's sandbox (issue 13): contexts, shared ALM targets, links.

Two local projects with the same task ids synced into one ALM project under two contexts each get one
item per task, never the other's (by title when the format carries ``$context``, by the context mark
when it does not); a shared target with the same context is refused before anything is written; links
can be listed, detached and attached again, and survive a renamed item. Titles are hostile on purpose.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from almdesk.base.records import ItemDraft, RemoteItem
from almdesk.errors import ConfigError
from almdesk.jobs.record import JobSpec, run_recorded
from almdesk.net.session import HttpFactory
from almdesk.services.actions import test_job as connection_test_job
from almdesk.sync.identity import check_identity, identity_step
from almdesk.sync.link_admin import link_task, list_links, unlink_task
from almdesk.sync.titles import TitleFormat
from almdesk.systems.marks import context_mark
from almdesk.systems.registry import Registry
from tests.sync.harness import SyncEnv, Target, real_systems

CONTEXT_FORMAT = "[$context] $task_id $title"
SHARED_FORMAT = "SDE $task_id $title"  # no $context: both contexts write the same titles (the seeds have none)
PAYMENTS, BILLING = 'Payments "EU" (ü)', "Billing || ^\\ 日本"
HOSTILE = {
    "T1": "Quote \"double\" and 'single'",
    "T2": "Caret ^ and backslash \\ at the end \\",
    "T3": "Pipes || and an open ( paren",
    "T4": "Ünïcödé – ✓ 日本語 ß",
    "T5": "See T2: inside another title",
    "T22": "Twenty-two, not T2",
}


@pytest.fixture(params=real_systems())
def alm(request: pytest.FixtureRequest, tmp_path: Path, sync_registry: Registry) -> Iterator[SyncEnv]:
    """A SyncEnv over a fresh sandbox of each real system."""
    target = Target.start(request.param, sync_registry)
    yield SyncEnv(tmp_path, target, sync_registry)
    target.stop()


def hostile_tasks() -> list[dict[str, Any]]:
    return [{"task_id": tid, "title": title} for tid, title in HOSTILE.items()]


def listed(env: SyncEnv, alias: str) -> list[RemoteItem]:
    adapter = env.adapter(alias)
    try:
        return list(adapter.iter_items())
    finally:
        adapter.close()


def create_raw(env: SyncEnv, alias: str, titles: dict[str, str]) -> list[RemoteItem]:
    """Items with exactly these titles, made through the connection's adapter (so with its mark)."""
    adapter = env.adapter(alias)
    try:
        made = adapter.create_items([ItemDraft(tid, title, "look-alike", 5, [], False) for tid, title in titles.items()])
    finally:
        adapter.close()
    assert all(isinstance(m, RemoteItem) for m in made), made
    return [m for m in made if isinstance(m, RemoteItem)]


def rename(env: SyncEnv, alias: str, item: RemoteItem, title: str) -> None:
    """Rename an item in the ALM through the system's own API, as a person would in its UI."""
    adapter = env.adapter(alias)
    try:
        name = env.target.name
        if name == "jira":
            adapter.client.request("PUT", f"issue/{item.ref}", what="renaming", json={"fields": {"summary": title}},
                                   expected=(200, 204))
        elif name == "github":
            adapter.client.call("PATCH", f"{adapter._issues.path}/{item.ref}", what="renaming", body={"title": title},
                                write=True)
        elif name == "rally":
            adapter.client.update(adapter.card.element, item.ref, {"Name": title}, fetch="Name")
        else:
            adapter.client.update(adapter.workspace, adapter.target.collection, item.ref, {"name": title})
    finally:
        adapter.close()


def title_format(env: SyncEnv, alias: str) -> TitleFormat:
    s = env.settings(alias)
    return TitleFormat.of(s.params, application=s.application, project=s.project)


def refs(env: SyncEnv, alias: str) -> dict[str, str]:
    """Task id -> linked ref of the connection's linked tasks."""
    return {v.task_id: v.alm_ref for v in list_links(env.store, env.config.connection(alias).id) if v.state == "linked"}


def ok(result: Any) -> dict[str, int]:
    assert result.state == "succeeded", result.outcome.message
    return dict(result.outcome.counts)


def test_two_projects_same_ids_two_contexts_one_alm_project(alm: SyncEnv) -> None:
    pay = alm.connection(alm.project(hostile_tasks()), "payments", alm_title_format=CONTEXT_FORMAT,
                         alm_context=PAYMENTS)
    bill = alm.connection(alm.project(hostile_tasks()), "billing", alm_title_format=CONTEXT_FORMAT,
                          alm_context=BILLING)
    # look-alikes made before the first sync, all carrying the Payments mark: a bare fixed title, another
    # context's title, a task id inside a title, and T2 vs T22
    fakes = create_raw(alm, pay, {"T1": "T1: bare look-alike", "T2": f"[{BILLING}] T2: other context",
                                  "T3": f"[{PAYMENTS}] Notes: T3: is mentioned here", "T4": f"[{PAYMENTS}]T44: near"})
    counts = ok(alm.sync(pay))
    assert (counts["created"], counts["linked"]) == (len(HOSTILE), 0)
    counts = ok(alm.sync(bill))
    assert (counts["created"], counts["linked"]) == (len(HOSTILE), 0)

    items = listed(alm, pay)
    for alias, context in ((pay, PAYMENTS), (bill, BILLING)):
        fmt = title_format(alm, alias)
        mine = [i for i in items if fmt.task_id_of(i.title) is not None and context_mark(context) in i.marks
                and i.ref not in {f.ref for f in fakes}]
        assert sorted(fmt.task_id_of(i.title) or "" for i in mine) == sorted(HOSTILE)  # one item per task
        assert {i.title for i in mine} == {fmt.full(t, title) for t, title in HOSTILE.items()}
        assert set(refs(alm, alias).values()) == {i.ref for i in mine}
    assert not set(refs(alm, pay).values()) & set(refs(alm, bill).values())
    assert not {f.ref for f in fakes} & (set(refs(alm, pay).values()) | set(refs(alm, bill).values()))

    for alias in (pay, bill):  # re-syncs create nothing and link nothing new
        counts = ok(alm.sync(alias))
        assert (counts["created"], counts["linked"], counts["unchanged"]) == (0, 0, len(HOSTILE))
    assert len(listed(alm, pay)) == len(items)


def test_same_titles_are_told_apart_by_the_context_mark(alm: SyncEnv, tmp_path: Path) -> None:
    """Without $context the titles of both contexts are the same: the mark keeps them apart."""
    pay = alm.connection(alm.project(hostile_tasks()), "payments", alm_title_format=SHARED_FORMAT,
                         alm_context=PAYMENTS)
    bill = alm.connection(alm.project(hostile_tasks()), "billing", alm_title_format=SHARED_FORMAT,
                          alm_context=BILLING)
    assert ok(alm.sync(pay))["created"] == len(HOSTILE)
    counts = ok(alm.sync(bill))
    assert (counts["created"], counts["linked"]) == (len(HOSTILE), 0)
    by_ref = {i.ref: i for i in listed(alm, pay)}
    for alias, context in ((pay, PAYMENTS), (bill, BILLING)):
        linked = [by_ref[r] for r in refs(alm, alias).values()]
        assert len(linked) == len(HOSTILE) and all(i.marks == (context_mark(context),) for i in linked)
    # a connection made again for Payments (its links lost) finds its own items, never Billing's
    alm.config.delete_connection(pay)
    again = alm.connection(alm.project(hostile_tasks()), "payments-again", alm_title_format=SHARED_FORMAT,
                           alm_context=PAYMENTS)
    counts = ok(alm.sync(again))
    assert (counts["created"], counts["linked"]) == (0, len(HOSTILE))
    assert all(by_ref[r].marks == (context_mark(PAYMENTS),) for r in refs(alm, again).values())
    for alias in (bill, again):
        assert ok(alm.sync(alias))["created"] == 0
    # another almdesk (its own store, so it knows none of these links) under a third context: only the marks
    # tell it that none of the look-alike titles are its own
    (tmp_path / "elsewhere").mkdir()
    elsewhere = SyncEnv(tmp_path / "elsewhere", alm.target, alm.registry)
    ship = elsewhere.connection(elsewhere.project(hostile_tasks()), "shipping", alm_title_format=SHARED_FORMAT,
                                alm_context="Shipping")
    counts = ok(elsewhere.sync(ship))
    assert (counts["created"], counts["linked"]) == (len(HOSTILE), 0)


def test_a_shared_target_with_the_same_context_is_refused_by_test_and_sync(alm: SyncEnv) -> None:
    first = alm.connection(alm.project(hostile_tasks()), "first")  # both contexts empty
    second = alm.connection(alm.project(hostile_tasks()), "second")
    before = len(listed(alm, first))
    result = alm.sync(first)
    assert result.state == "failed" and isinstance(result.error, ConfigError)
    assert "'second'" in result.error.message and "alm_context" in result.error.hint
    assert len(listed(alm, first)) == before and refs(alm, first) == {}  # nothing written on either side

    settings = alm.settings(second)
    http = HttpFactory(settings.connector.network)
    job = connection_test_job(alm.target.system, settings.connector, settings, http,
                              [identity_step(alm.store, alm.target.system, settings)])
    tested = run_recorded(alm.store, JobSpec("test-connection", "Test second", job, None, settings.id))
    failed = [s for s in tested.outcome.data["steps"] if s["status"] == "failed"]
    assert not tested.outcome.succeeded and [s["key"] for s in failed] == ["identity"]
    assert "'first'" in failed[0]["detail"] and "alm_context" in failed[0]["hint"]

    # the fix the message names: another context on one of them; then both sync, each its own items
    alm.config.save_connection(second, alm.connector, settings.project, {**settings.params, "alm_context": "Two"},
                               connection_id=settings.id)
    assert check_identity(alm.store, alm.target.system, alm.settings(first)).neighbours[0].alias == second
    assert ok(alm.sync(first))["created"] == len(HOSTILE)
    assert ok(alm.sync(second))["created"] == len(HOSTILE)


def test_link_unlink_link_round_trip_and_a_renamed_item_stays_linked(alm: SyncEnv) -> None:
    alias = alm.connection(alm.project(hostile_tasks()), "conn", alm_title_format=CONTEXT_FORMAT, alm_context=PAYMENTS)
    assert ok(alm.sync(alias))["created"] == len(HOSTILE)
    cid = alm.config.connection(alias).id
    start = refs(alm, alias)
    by_ref = {i.ref: i for i in listed(alm, alias)}
    t1 = by_ref[start["T1"]]

    view = unlink_task(alm.store, cid, "T1")
    assert (view.state, view.alm_key) == ("detached", t1.key)
    counts = ok(alm.sync(alias))  # neither re-linked by title nor re-created
    assert (counts["created"], counts["linked"], counts["skipped"]) == (0, 0, 1)
    assert "T1" not in refs(alm, alias) and len(listed(alm, alias)) == len(by_ref)
    assert next(v for v in list_links(alm.store, cid) if v.task_id == "T1").state == "detached"

    settings = alm.settings(alias)
    system = alm.target.system

    def link(task: str, text: str) -> str:
        return link_task(alm.store, system, settings, HttpFactory(settings.connector.network), task, text).alm_ref

    assert link("T1", t1.key) == t1.ref  # by key (Octane: its id)
    unlink_task(alm.store, cid, "T2")
    assert link("T2", by_ref[start["T2"]].url) == start["T2"]  # by URL
    with pytest.raises(ConfigError, match="already linked to task T1"):
        link("T3", t1.key)
    with pytest.raises(ConfigError) as missing:
        link("T3", "987654")
    assert missing.value.field == "item"
    with pytest.raises(ConfigError, match="no task"):
        link("T99", t1.key)
    counts = ok(alm.sync(alias))
    assert (counts["created"], counts["unchanged"]) == (0, len(HOSTILE)) and refs(alm, alias) == start

    rename(alm, alias, t1, "Renamed by a person: nothing like the format")
    counts = ok(alm.sync(alias))
    assert (counts["created"], counts["unchanged"]) == (0, len(HOSTILE)) and refs(alm, alias)["T1"] == t1.ref
    view = next(v for v in list_links(alm.store, cid) if v.task_id == "T1")
    assert view.state == "linked" and view.alm_ref == t1.ref and view.url == t1.url and view.seen is not None


def test_an_item_marked_for_another_context_is_not_linked_by_hand(alm: SyncEnv) -> None:
    pay = alm.connection(alm.project(hostile_tasks()), "payments", alm_context=PAYMENTS)
    bill = alm.connection(alm.project(hostile_tasks()), "billing", alm_context=BILLING)
    ok(alm.sync(pay))
    theirs = {i.ref: i for i in listed(alm, pay)}[refs(alm, pay)["T4"]]
    settings = alm.settings(bill)
    unlink_task(alm.store, settings.id or 0, "T4")
    with pytest.raises(ConfigError, match="another context"):
        link_task(alm.store, alm.target.system, settings, HttpFactory(settings.connector.network), "T4", theirs.key)


def test_octane_finds_the_mark_tag_another_sync_made(tmp_path: Path, sync_registry: Registry) -> None:
    """The user tag is made on a first create; a later adapter that lists no item of its context finds it by name."""
    if "octane" not in real_systems():
        pytest.skip("the Octane system is not installed")
    target = Target.start("octane", sync_registry)
    try:
        env = SyncEnv(tmp_path, target, sync_registry)
        alias = env.connection(env.project(), "ctx", alm_context=PAYMENTS)
        first, second = env.adapter(alias), env.adapter(alias)
        try:
            made = first.mark_tag()
            assert second.mark_tag() == made  # its create is refused as a duplicate; the look-up finds it
        finally:
            first.close()
            second.close()
    finally:
        target.stop()
