"""Scope, titles and the plan (conflict policies) as pure functions, pinned action by action.

Written against the mutation report (docs/mutation.md): each test fixes a behaviour of
``almdesk.sync.scope``, ``almdesk.sync.titles`` or ``almdesk.sync.plan`` that the sync tests over the
sandboxes exercise only in passing (reason texts, defaults, boundaries, the order of the checks).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone

import pytest

from almdesk.base.records import RemoteItem
from almdesk.errors import ConfigError
from almdesk.sync.plan import ItemIndex, LinkSnapshot, PlanEntry, Rules, TaskSnapshot, aware, make_plan
from almdesk.sync.scope import Scope, task_done
from almdesk.sync.titles import MAX_TITLE, TitleFormat, check_title_settings


def fmt() -> TitleFormat:
    """The default format, made per call (a module-level instance would outlive a mutated TitleFormat)."""
    return TitleFormat.parse("$task_id $title")


T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def task(pk: int = 1, tid: str = "T1", status: str = "TODO", updated: datetime | None = None,
         title: str = "Do it") -> TaskSnapshot:
    return TaskSnapshot(pk, tid, title, "", "development", 7, status, "", (), updated)


def item(ref: str = "10", title: str = "T1: Do it", done: bool = False, status: str = "",
         updated: datetime | None = None) -> RemoteItem:
    return RemoteItem(ref, f"K-{ref}", title, f"http://alm/{ref}", done, status, updated)


def link(pk: int = 1, ref: str = "10", key: str = "K-10") -> LinkSnapshot:
    return LinkSnapshot(pk, ref, key, f"http://alm/{ref}", False)


def index(*items: RemoteItem) -> ItemIndex:
    idx = ItemIndex(fmt())
    for it in items:
        idx.add(it)
    return idx


def plan_one(t: TaskSnapshot, *items: RemoteItem, lnk: LinkSnapshot | None = None, rules: Rules | None = None,
             may: bool = True, leftover: set[int] | None = None,
             waiting: dict[int, datetime] | None = None) -> PlanEntry:
    entries = make_plan([t], {t.pk: lnk} if lnk else {}, index(*items), fmt(), rules or Rules(),
                        lambda status: may, leftover or set(), waiting=waiting)
    assert len(entries) == 1
    return entries[0]


# ---- scope -------------------------------------------------------------------------------------

def test_scope_defaults_from_missing_params() -> None:
    scope = Scope.from_params({})
    assert scope.phases == frozenset() and scope.min_priority == 1 and scope.tags == frozenset()
    assert scope.excluded_by("development", 10, [], None) == "phase development not in the connection's phases"
    assert scope.excluded_by("", 10, [], None) == "phase (none) not in the connection's phases"
    assert not scope.may_create("TODO")


def test_scope_boundaries_and_reasons() -> None:
    scope = Scope.from_params({"alm_phases": "Development, Testing", "sde_min_priority": "5",
                               "sde_tags_filter": ["a", " b ", ""], "sde_verification_filter": "none, Pass",
                               "sde_statuses_in_scope": ["todo", "done"]})
    assert scope.phases == {"development", "testing"} and scope.tags == {"a", "b"}
    assert scope.excluded_by("TESTING", 5, ["b", "a", "c"], "PASS") == ""
    assert scope.excluded_by("testing", 4, ["a", "b"], None) == "priority 4 below 5"
    assert scope.excluded_by("testing", 9, ["b"], None) == "missing tag(s) a"
    assert scope.excluded_by("testing", 9, [], None) == "missing tag(s) a, b"
    assert scope.excluded_by("testing", 9, ["a", "b"], None) == ""  # no verification counts as none
    assert scope.excluded_by("testing", 9, ["a", "b"], "partial") == "verification partial not selected"
    assert scope.may_create("TODO") and scope.may_create("Done") and not scope.may_create("NA")


def test_scope_is_frozen_and_hashable() -> None:
    scope = Scope.from_params({"alm_phases": ["x"]})
    with pytest.raises(dataclasses.FrozenInstanceError):
        scope.min_priority = 3  # type: ignore[misc]
    assert hash(scope) == hash(Scope.from_params({"alm_phases": "x"}))


def test_task_done() -> None:
    assert task_done("DONE") and task_done("na") and not task_done("TODO") and not task_done("")


# ---- titles ------------------------------------------------------------------------------------

def test_empty_format_is_the_default_one() -> None:
    assert TitleFormat.parse("  ").template == "$task_id $title"
    assert TitleFormat.of({}).full("T3", "Name") == "T3: Name"
    assert TitleFormat.of({"alm_title_format": "[$context] $task_id $title", "alm_context": "Ctx"}).full(
        "T3", "Name") == "[Ctx] T3: Name"


def test_full_title_is_cut_to_255_with_an_ellipsis() -> None:
    assert MAX_TITLE == 255
    exact = fmt().full("T1", "x" * 251)  # "T1: " + 251 = 255
    assert exact == "T1: " + "x" * 251
    cut = fmt().full("T1", "x" * 252)
    assert len(cut) == 255 and cut.endswith("x…") and cut.startswith("T1: x")
    assert fmt().full("T1", "a\n  b\tc") == "T1: a b c"


def test_fixed_and_matching() -> None:
    fmt = TitleFormat.parse("${project} - $task_id $title", project="Web")
    assert fmt.full("T9", "") == "Web - T9:"
    assert fmt.task_id_of("Web - T9: anything at all") == "T9"
    assert fmt.task_id_of("  Web  -  T9:  spaced  ") == "T9"
    assert fmt.task_id_of("Shop - T9: other project") is None
    assert fmt.task_id_of("prefix Web - T9: x") is None  # the whole title must fit, not a part of it
    assert fmt.task_id_of("Web - T9: x") == "T9" and fmt.task_id_of("Web - T9: x") != "T99"


def test_the_whole_title_must_fit_also_at_the_end() -> None:
    fmt = TitleFormat.parse("$title ($task_id)")
    assert fmt.task_id_of("Fix it (T9:)") == "T9"
    assert fmt.task_id_of("Fix it (T9:) and more") is None


def test_literal_text_after_the_task_id_allows_whitespace() -> None:
    fmt = TitleFormat.parse("$task_id - $title")
    assert fmt.full("T9", "x") == "T9: - x"
    assert fmt.task_id_of(fmt.full("T9", "x")) == "T9"
    assert fmt.task_id_of("T9:-x") == "T9"


def test_title_format_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        fmt().template = "$title $task_id"  # type: ignore[misc]


def test_format_errors_name_their_field() -> None:
    with pytest.raises(ConfigError) as err:
        TitleFormat.parse("$task_id $title $nope $zzz")
    assert err.value.field == "alm_title_format" and "$nope, $zzz" in str(err.value)
    for bad in ("$title", "$task_id", "$task_id $task_id $title", "$task_id $title ${title}"):
        with pytest.raises(ConfigError):
            TitleFormat.parse(bad)
    assert TitleFormat.parse("$task_id ${title}").full("T1", "x") == "T1: x"


def test_check_title_settings() -> None:
    assert check_title_settings({"alm_title_format": "$task_id $title"}) == {}
    assert check_title_settings({}) == {}
    errors = check_title_settings({"alm_title_format": "$context $task_id $title"})
    assert list(errors) == ["alm_context"]
    assert list(check_title_settings({"alm_title_format": "$task_id"})) == ["alm_title_format"]


# ---- plan: helpers -----------------------------------------------------------------------------

def test_aware() -> None:
    assert aware(None) is None
    assert aware(datetime(2026, 1, 1, 8, 0)) == datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
    plus2 = datetime(2026, 1, 1, 8, 0, tzinfo=timezone(timedelta(hours=2)))
    assert aware(plus2) is plus2


def test_item_index_by_ref_by_task_and_duplicates() -> None:
    a, b, c, stray = item("1", "T1: a"), item("2", "T1: b"), item("3", "T2: c"), item("4", "no id here")
    idx = index(a, b, c, stray)
    assert len(idx) == 4 and idx.by_ref["4"] is stray and "4" not in {i.ref for v in idx.by_task.values() for i in v}
    assert idx.by_task == {"T1": [a, b], "T2": [c]}
    assert idx.duplicates() == {"T1": [a, b]}


def test_rules_from_params() -> None:
    assert Rules.from_params({}) == Rules("alm", True)
    assert Rules.from_params({"conflict_policy": "sde"}).policy == "sde"
    assert Rules.from_params({"conflict_policy": "timestamp"}).policy == "timestamp"
    assert Rules.from_params({"conflict_policy": "newest"}).policy == "alm"
    for off in ("0", "false", " No ", "OFF", False):
        assert Rules.from_params({"alm_standard_workflow": off}).status_sync is False
    for on in ("1", "true", "yes", True):
        assert Rules.from_params({"alm_standard_workflow": on}).status_sync is True


def test_snapshots_and_rules_are_frozen_with_their_defaults() -> None:
    assert Rules() == Rules("alm", True)
    assert link().id == 0 and link().alm_status == ""
    assert PlanEntry(task(), "create", "T1: x").new_link is False
    for value, name in ((task(), "status"), (link(), "alm_ref"), (Rules(), "policy")):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(value, name, "x")


def test_plan_entry_as_dict() -> None:
    entry = plan_one(task(status="DONE"), item(done=True, status="Closed"))
    assert entry.as_dict() == {"task_id": "T1", "title": "T1: Do it", "action": "link", "alm_key": "K-10",
                               "alm_ref": "10", "url": "http://alm/10", "alm_status": "Closed",
                               "task_status": "DONE", "reason": "found by title"}
    created = plan_one(task()).as_dict()
    assert (created["alm_key"], created["alm_ref"], created["url"], created["alm_status"]) == ("", "", "", "")


# ---- plan: no item -----------------------------------------------------------------------------

def test_create_skip_and_wait() -> None:
    entry = plan_one(task(title="Fix  the\nthing"))
    assert (entry.action, entry.title, entry.reason, entry.item) == ("create", "T1: Fix the thing", "new item", None)
    assert not entry.new_link and entry.stale_link == ""
    assert plan_one(task(status="DONE")).reason == "new item, closed right after creation"
    skip = plan_one(task(status="NA"), may=False)
    assert (skip.action, skip.reason) == ("skip", "no item, and status NA is not selected for creation")
    wait = plan_one(task(), waiting={1: T0})
    assert wait.action == "wait"
    assert wait.reason == ("waiting: an earlier create may still land (not created again before "
                           "2026-03-01 12:00:00Z)")
    assert plan_one(task(), waiting={2: T0}).action == "create"  # another task's wait
    assert plan_one(task(), may=False, waiting={1: T0}).action == "skip"


def test_stale_link_is_reported_and_the_task_created_again() -> None:
    entry = plan_one(task(), lnk=link(key="K-77", ref="77"))
    assert entry.action == "create" and entry.stale_link == "K-77"
    assert entry.reason == "linked item K-77 is no longer in the ALM target; new item"
    assert plan_one(task(), lnk=link(key="", ref="77")).stale_link == "77"


def test_stale_link_with_an_item_found_by_title() -> None:
    entry = plan_one(task(), item("11"), lnk=link(ref="77", key="K-77"))
    assert entry.action == "link" and entry.item is not None and entry.item.ref == "11"
    assert entry.new_link and entry.stale_link == "K-77"


# ---- plan: linked or found ---------------------------------------------------------------------

def test_linked_and_agreeing_is_unchanged() -> None:
    entry = plan_one(task(), item(title="renamed in the ALM"), lnk=link())
    assert (entry.action, entry.reason, entry.title, entry.new_link) == ("unchanged", "", "renamed in the ALM", False)


def test_found_by_title_takes_the_first_match() -> None:
    entry = plan_one(task(), item("5"), item("6"))
    assert entry.action == "link" and entry.item is not None and entry.item.ref == "5" and entry.new_link
    assert entry.reason == "found by title"


def test_found_by_title_with_status_sync_off() -> None:
    entry = plan_one(task(status="DONE"), item(), rules=Rules("sde", False))
    assert (entry.action, entry.reason) == ("link", "found by title (status sync is off)")


def test_found_by_title_with_a_mismatch() -> None:
    entry = plan_one(task(status="DONE"), item(status="Open"), rules=Rules("sde"))
    assert entry.action == "close" and entry.new_link
    assert entry.reason == "found by title; task DONE, ALM Open; almdesk's status wins"


def test_resumed_creation_of_a_done_task_is_closed_whatever_the_policy() -> None:
    entry = plan_one(task(status="DONE"), item(), lnk=link(), rules=Rules("alm", False), leftover={1})
    assert (entry.action, entry.reason) == ("close", "finishing an interrupted creation of a done task")
    assert plan_one(task(status="DONE"), item(done=True), lnk=link(), leftover={1}).action == "unchanged"
    assert plan_one(task(), item(), lnk=link(), leftover={1}).action == "unchanged"
    assert plan_one(task(status="DONE"), item(), lnk=link(), leftover={2}).action == "update-local"


@pytest.mark.parametrize(("status", "done", "action", "reason"), [
    ("DONE", False, "update-local", "task DONE, ALM open; the ALM's status wins"),
    ("TODO", True, "update-local", "task TODO, ALM done; the ALM's status wins"),
])
def test_policy_alm(status: str, done: bool, action: str, reason: str) -> None:
    entry = plan_one(task(status=status), item(done=done), lnk=link())
    assert (entry.action, entry.reason) == (action, reason)


def test_policy_sde_both_ways() -> None:
    assert plan_one(task(status="DONE"), item(), lnk=link(), rules=Rules("sde")).action == "close"
    reopen = plan_one(task(status="TODO"), item(done=True, status="Closed"), lnk=link(), rules=Rules("sde"))
    assert (reopen.action, reopen.reason) == ("reopen", "task TODO, ALM Closed; almdesk's status wins")


def test_status_sync_off() -> None:
    entry = plan_one(task(status="DONE"), item(), lnk=link(), rules=Rules("sde", False))
    assert (entry.action, entry.reason) == ("unchanged", "status sync is off")


def test_policy_timestamp() -> None:
    rules = Rules("timestamp")
    later, earlier = T0 + timedelta(minutes=1), T0 - timedelta(minutes=1)
    ours_later = plan_one(task(status="DONE", updated=later), item(updated=T0), lnk=link(), rules=rules)
    assert ours_later.action == "close"
    assert ours_later.reason == ("task DONE, ALM open; task changed later (2026-03-01 12:01:00Z > "
                                 "2026-03-01 12:00:00Z)")
    reopen = plan_one(task(status="TODO", updated=later), item(done=True, updated=T0), lnk=link(), rules=rules)
    assert reopen.action == "reopen"
    theirs_later = plan_one(task(status="DONE", updated=earlier), item(updated=T0), lnk=link(), rules=rules)
    assert (theirs_later.action, theirs_later.reason) == (
        "update-local", "task DONE, ALM open; ALM changed later (2026-03-01 12:00:00Z ≥ 2026-03-01 11:59:00Z)")
    same = plan_one(task(status="DONE", updated=T0), item(updated=T0), lnk=link(), rules=rules)
    assert same.action == "update-local"  # a tie goes to the ALM
    never = plan_one(task(status="DONE"), item(updated=T0), lnk=link(), rules=rules)
    assert (never.action, never.reason) == ("update-local", "task DONE, ALM open; ALM changed later "
                                                            "(2026-03-01 12:00:00Z ≥ never)")
    no_time = plan_one(task(status="DONE", updated=later), item(), lnk=link(), rules=rules)
    assert (no_time.action, no_time.reason) == (
        "update-local", "task DONE, ALM open; the ALM gives no change time, so its status wins")
    naive = plan_one(task(status="DONE", updated=datetime(2026, 3, 1, 12, 1)), item(updated=T0), lnk=link(),
                     rules=rules)
    assert naive.action == "close"  # SQLite's naive datetimes are UTC


def test_plan_keeps_the_task_order() -> None:
    tasks = [task(3, "T3"), task(1, "T1"), task(2, "T2")]
    entries = make_plan(tasks, {}, index(), fmt(), Rules(), lambda s: True, set())
    assert [e.task.task_id for e in entries] == ["T3", "T1", "T2"]
