"""One test per sync rule (issue 7's acceptance list), run against every system's sandbox.

Each test builds a project and a connection through ``Config`` like the app does, syncs through
``run_recorded`` over real HTTP on loopback, and checks the ALM through a fresh adapter.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone

from almdesk.jobs.context import JobContext, JobEvent
from tests.sync.harness import SyncEnv, tasks


def _once(env: SyncEnv, alias: str, ids: list[str]) -> dict[str, object]:
    items = env.alm_items(alias)
    assert sorted(items) == sorted(ids), f"ALM has {sorted(items)}, expected {sorted(ids)}"
    dupes = {tid: [i.key for i in v] for tid, v in items.items() if len(v) != 1}
    assert not dupes, f"duplicates in the ALM: {dupes}"
    return {tid: v[0] for tid, v in items.items()}


def test_first_sync_creates_then_resync_is_noop(env: SyncEnv) -> None:
    project = env.project(tasks("T1", "T2", "T3", "T4"))
    alias = env.connection(project)
    first = env.sync(alias)
    assert first.state == "succeeded", first.outcome.message
    assert first.outcome.counts["created"] == 4
    items = _once(env, alias, ["T1", "T2", "T3", "T4"])
    links = env.links(alias)
    assert len(links) == 4
    assert {link.alm_ref for link in links.values()} == {i.ref for i in items.values()}  # type: ignore[attr-defined]
    assert all(link.url and link.alm_key and link.seen for link in links.values())
    events = env.events(first)
    assert sorted(e.action for e in events if e.status == "ok") == ["create"] * 4
    assert all(e.url for e in events)

    again = env.sync(alias)
    assert again.state == "succeeded", again.outcome.message
    assert again.outcome.counts["created"] == 0 and again.outcome.counts["unchanged"] == 4
    _once(env, alias, ["T1", "T2", "T3", "T4"])


def test_scope_filters(env: SyncEnv) -> None:
    project = env.project([
        {"task_id": "T1", "phase": "development", "priority": 8, "tags": ["web"], "verification": "none"},
        {"task_id": "T2", "phase": "testing", "priority": 8, "tags": ["web"]},  # phase not selected
        {"task_id": "T3", "phase": "development", "priority": 5, "tags": ["web"]},  # priority too low
        {"task_id": "T4", "phase": "development", "priority": 9, "tags": []},  # lacks the tag
        {"task_id": "T5", "phase": "requirements", "priority": 7, "tags": ["web", "pci"], "verification": "fail"},
        {"task_id": "T6", "phase": "requirements", "priority": 7, "tags": ["web"], "verification": "pass"},
    ])
    alias = env.connection(project, alm_phases="requirements,development", sde_min_priority=7,
                           sde_tags_filter="web", sde_verification_filter="none,fail")
    result = env.sync(alias)
    assert result.state == "succeeded", result.outcome.message
    _once(env, alias, ["T1", "T5"])
    assert result.outcome.data["in_scope"] == 2 and result.outcome.data["out_of_scope"] == 4



def test_creation_gate_only_gates_creation(env: SyncEnv) -> None:
    project = env.project([{"task_id": "T1", "status": "TODO"}, {"task_id": "T2", "status": "DONE"},
                           {"task_id": "T3", "status": "NA"}])
    alias = env.connection(project, sde_statuses_in_scope="TODO", conflict_policy="sde")
    result = env.sync(alias)
    assert result.outcome.counts["created"] == 1 and result.outcome.counts["skipped"] == 2
    items = _once(env, alias, ["T1"])
    skipped = [e for e in env.events(result) if e.action == "skip"]
    assert len(skipped) == 2 and all("not selected for creation" in e.message for e in skipped)

    # an existing item is still synced when its task leaves the creation statuses
    env.set_task(project, "T1", status="DONE", updated=datetime.now(UTC))
    result = env.sync(alias)
    assert result.state == "succeeded", result.outcome.message
    assert result.outcome.counts["closed"] == 1
    assert env.alm_items(alias)["T1"][0].done
    assert items["T1"].ref == env.alm_items(alias)["T1"][0].ref  # type: ignore[attr-defined]


def test_fixed_title_lookup_does_not_match_t2_against_t222(env: SyncEnv) -> None:
    project = env.project([{"task_id": "T2", "title": "Short id"}, {"task_id": "T22", "title": "Middle id"}])
    alias = env.connection(project)
    made = env.pre_create(alias, [("T222", "Long id"), ("T22", "Existing item, older title")])
    result = env.sync(alias)
    assert result.state == "succeeded", result.outcome.message
    assert result.outcome.counts["created"] == 1  # T2 only; T22 found by its fixed title
    assert result.outcome.counts["linked"] == 1
    items = env.alm_items(alias)
    assert len(items["T2"]) == 1 and items["T2"][0].ref not in {m.ref for m in made}
    assert [i.ref for i in items["T22"]] == [made[1].ref]
    assert [i.ref for i in items["T222"]] == [made[0].ref]
    links = {link.alm_ref for link in env.links(alias).values()}
    assert made[1].ref in links and made[0].ref not in links


def test_done_task_is_closed_right_after_creation(env: SyncEnv) -> None:
    project = env.project([{"task_id": "T7", "status": "DONE"}, {"task_id": "T8", "status": "NA"},
                           {"task_id": "T9", "status": "TODO"}])
    alias = env.connection(project, sde_statuses_in_scope="TODO,DONE,NA")
    result = env.sync(alias)
    assert result.state == "succeeded", result.outcome.message
    items = _once(env, alias, ["T7", "T8", "T9"])
    assert items["T7"].done and items["T8"].done and not items["T9"].done  # type: ignore[attr-defined]
    assert result.outcome.counts["created"] == 3
    # the next sync sees nothing to do
    again = env.sync(alias)
    assert again.outcome.counts["unchanged"] == 3 and again.outcome.counts["closed"] == 0


def test_policy_alm_updates_the_task_both_ways(env: SyncEnv) -> None:
    # T1: the ALM closes the item of a TODO task; T2: the ALM reopens the item of a DONE task
    project = env.project([{"task_id": "T1", "status": "TODO"}, {"task_id": "T2", "status": "DONE"}])
    alias = env.connection(project, conflict_policy="alm", sde_statuses_in_scope="TODO,DONE")
    assert env.sync(alias).state == "succeeded"
    items = env.alm_items(alias)
    assert not items["T1"][0].done and items["T2"][0].done
    env.set_alm_done(alias, items["T1"][0], True)
    env.set_alm_done(alias, items["T2"][0], False)
    before = env.task(project, "T1").updated
    result = env.sync(alias)
    assert result.state == "succeeded", result.outcome.message
    assert result.outcome.counts["local_updated"] == 2
    assert env.task(project, "T1").status == "DONE" and env.task(project, "T2").status == "TODO"
    assert env.task(project, "T1").updated != before
    items = env.alm_items(alias)
    assert items["T1"][0].done and not items["T2"][0].done  # the ALM was not touched


def test_policy_sde_updates_the_alm_both_ways(env: SyncEnv) -> None:
    # T1: the task becomes DONE (close the item); T2: the task goes back to TODO (reopen the item)
    project = env.project([{"task_id": "T1", "status": "TODO"}, {"task_id": "T2", "status": "DONE"}])
    alias = env.connection(project, conflict_policy="sde", sde_statuses_in_scope="TODO,DONE")
    assert env.sync(alias).state == "succeeded"
    env.set_task(project, "T1", status="DONE")
    env.set_task(project, "T2", status="TODO")
    result = env.sync(alias)
    assert result.state == "succeeded", result.outcome.message
    assert result.outcome.counts["closed"] == 1 and result.outcome.counts["reopened"] == 1
    items = env.alm_items(alias)
    assert items["T1"][0].done and not items["T2"][0].done
    assert env.task(project, "T1").status == "DONE" and env.task(project, "T2").status == "TODO"


def test_policy_timestamp_later_change_wins_across_time_zones(env: SyncEnv) -> None:
    # Both items are closed in the ALM now, both tasks stay TODO. T1's task changed 2 h later than
    # the ALM, T2's 2 h earlier — written in UTC+05:00, where T2's wall clock reads 3 h *later* than
    # the ALM's UTC time: a zone-naive comparison would pick the wrong side for T2.
    project = env.project([{"task_id": "T1", "status": "TODO"}, {"task_id": "T2", "status": "TODO"}])
    alias = env.connection(project, conflict_policy="timestamp")
    assert env.sync(alias).state == "succeeded"
    items = env.alm_items(alias)
    plus5 = timezone(timedelta(hours=5))
    for tid, shift in (("T1", timedelta(hours=2)), ("T2", timedelta(hours=-2))):
        item = env.set_alm_done(alias, items[tid][0], True)
        alm_time = item.updated or datetime.now(UTC)
        env.set_task(project, tid, status="TODO", updated=(alm_time + shift).astimezone(plus5))
    result = env.sync(alias)
    assert result.state == "succeeded", result.outcome.message
    assert result.outcome.counts["reopened"] == 1 and result.outcome.counts["local_updated"] == 1
    items = env.alm_items(alias)
    assert not items["T1"][0].done and env.task(project, "T1").status == "TODO"  # the task was later
    assert items["T2"][0].done and env.task(project, "T2").status == "DONE"  # the ALM was later


def test_status_sync_off(env: SyncEnv) -> None:
    project = env.project([{"task_id": "T1"}, {"task_id": "T2"}])
    alias = env.connection(project, conflict_policy="sde", alm_standard_workflow=False)
    assert env.sync(alias).outcome.counts["created"] == 2
    env.set_task(project, "T1", status="DONE")
    env.set_alm_done(alias, env.alm_items(alias)["T2"][0], True)
    result = env.sync(alias)
    assert result.outcome.counts["unchanged"] == 2
    assert result.outcome.counts["closed"] == 0 and result.outcome.counts["local_updated"] == 0
    items = env.alm_items(alias)
    assert not items["T1"][0].done and items["T2"][0].done
    assert env.task(project, "T2").status == "TODO"


def test_dry_run_plans_and_writes_nothing(env: SyncEnv) -> None:
    project = env.project([{"task_id": "T1"}, {"task_id": "T2", "status": "DONE"}, {"task_id": "T3"}])
    alias = env.connection(project, conflict_policy="alm")
    env.pre_create(alias, [("T3", "Made elsewhere")], done=True)
    result = env.sync(alias, dry_run=True)
    assert result.state == "succeeded", result.outcome.message
    plan = {p["task_id"]: p for p in result.outcome.data["plan"]}
    assert plan["T1"]["action"] == "create" and plan["T1"]["alm_key"] == ""
    assert plan["T2"]["action"] == "skip"
    assert plan["T3"]["action"] == "update-local" and plan["T3"]["alm_key"] and plan["T3"]["url"]
    assert {e.status for e in env.events(result)} == {"planned"}
    assert sorted(env.alm_items(alias)) == ["T3"]
    assert env.links(alias) == {}
    assert env.task(project, "T3").status == "TODO"


def test_cancel_mid_sync_then_next_sync_finishes(env: SyncEnv) -> None:
    project = env.project()
    alias = env.connection(project, toyalm_bulk_size=3) if env.target.name == "toyalm" else env.connection(project)
    adapter = env.adapter(alias)
    bulk = int(adapter.bulk_size)
    adapter.close()
    ids = [f"T{i}" for i in range(1, bulk + 4)]  # more than one chunk
    env.add_tasks(project, tasks(*ids))
    cancel = threading.Event()

    def on_event(ev: JobEvent) -> None:
        if ev.action == "create":
            cancel.set()

    result = env.sync(alias, ctx=JobContext(cancel_event=cancel, on_event=on_event))
    created = result.outcome.counts.get("created", 0)
    assert result.state == "cancelled", result.outcome
    assert 0 < created <= bulk and result.outcome.message == "Cancelled by the user."  # no chunk after the cancel
    again = env.sync(alias)
    assert again.state == "succeeded", again.outcome.message
    assert again.outcome.counts["created"] == len(ids) - created
    _once(env, alias, ids)
