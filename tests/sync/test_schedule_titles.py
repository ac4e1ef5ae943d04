"""The schedule (due connections by frequency and last sync job) and the title format rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from almdesk.errors import ConfigError
from almdesk.models import Connection, Connector, Job, Store
from almdesk.sync import due_connections, next_due
from almdesk.sync.schedule import add_period
from almdesk.sync.scope import Scope
from almdesk.sync.titles import TitleFormat

NOW = datetime(2025, 3, 31, 12, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(tmp_path / "s.db")
    with s.session() as session:
        session.add(Connector(id=1, name="c", system="toyalm"))
        for i, freq in enumerate(("manually", "hourly", "daily", "weekly", "monthly", "daily"), start=1):
            session.add(Connection(id=i, alias=f"c{i}-{freq}", connector_id=1, frequency=freq))
    return s


def _job(store: Store, connection_id: int, started: datetime, kind: str = "sync", running: bool = False) -> None:
    with store.session() as s:
        s.add(Job(kind=kind, connection_id=connection_id, started=started, in_progress=running,
                  state="running" if running else "succeeded"))


def test_never_synced_connections_are_due_except_manual(store: Store) -> None:
    assert due_connections(store, NOW) == [2, 3, 4, 5, 6]


def test_due_by_frequency_from_the_last_sync_job(store: Store) -> None:
    _job(store, 2, NOW - timedelta(minutes=59))  # hourly, not yet
    _job(store, 3, NOW - timedelta(days=3))  # daily, missed three runs: due once
    _job(store, 4, NOW - timedelta(days=6, hours=23))  # weekly, not yet
    _job(store, 5, datetime(2025, 2, 28, 12, 0, tzinfo=UTC))  # monthly: due 28 March
    _job(store, 6, NOW - timedelta(hours=1))  # daily, ran an hour ago
    _job(store, 6, NOW - timedelta(minutes=5), kind="dry-run")  # dry runs do not count
    _job(store, 1, NOW - timedelta(days=400))  # manually: never
    assert due_connections(store, NOW) == [3, 5]
    _job(store, 3, NOW)  # it ran: no longer due, and the missed ones do not pile up
    assert due_connections(store, NOW) == [5]
    assert next_due(store, 3, NOW) == NOW + timedelta(days=1)
    assert next_due(store, 1, NOW) is None


def test_running_sync_is_not_due_unless_stale(store: Store) -> None:
    _job(store, 2, NOW - timedelta(hours=2), running=True)
    _job(store, 3, NOW - timedelta(days=2), running=True)  # an app that crashed mid-sync
    assert due_connections(store, NOW) == [3, 4, 5, 6]


def test_time_zones_and_month_ends(store: Store) -> None:
    tokyo = timezone(timedelta(hours=9))
    _job(store, 2, NOW - timedelta(minutes=61))
    assert 2 in due_connections(store, NOW.astimezone(tokyo))
    assert add_period(datetime(2025, 1, 31, tzinfo=UTC), "monthly") == datetime(2025, 2, 28, tzinfo=UTC)
    assert add_period(datetime(2024, 12, 15, tzinfo=UTC), "monthly") == datetime(2025, 1, 15, tzinfo=UTC)
    assert add_period(NOW, "manually") is None


def test_fixed_title_never_matches_a_longer_id() -> None:
    fmt = TitleFormat.parse("$task_id $title")
    assert fmt.full("T2", "Check  input\nnow") == "T2: Check input now"
    assert fmt.full("T2", "") == "T2:"
    assert fmt.task_id_of("T222: Check input") == "T222"
    assert fmt.task_id_of("T222: Check input") != "T2"
    assert fmt.task_id_of("T2: renamed by someone") == "T2" and fmt.task_id_of("  T2:") == "T2"
    assert fmt.task_id_of("Something T2: else") is None


def test_title_format_with_context_application_project() -> None:
    fmt = TitleFormat.parse("[${application} $project] $task_id $title", application="Shop", project="Web 2")
    assert fmt.full("T5", "Use TLS") == "[Shop Web 2] T5: Use TLS"
    assert fmt.full("T5", "") == "[Shop Web 2] T5:"
    assert fmt.task_id_of("[Shop Web 2] T5: anything") == "T5"
    assert fmt.task_id_of("[Shop Web 3] T5: same task, other project") is None
    after = TitleFormat.parse("$title ($task_id)")
    assert after.task_id_of(after.full("T9", "Trailing id")) == "T9"
    assert len(TitleFormat.parse("$task_id $title").full("T1", "x" * 400)) == 255


@pytest.mark.parametrize("template", ["$title", "$task_id", "$task_id $title $task_id", "$task_id $title $colour"])
def test_bad_title_formats(template: str) -> None:
    with pytest.raises(ConfigError) as info:
        TitleFormat.parse(template)
    assert info.value.field == "alm_title_format" and info.value.hint


def test_scope_rules() -> None:
    scope = Scope.from_params({"alm_phases": ["development"], "sde_min_priority": 7, "sde_tags_filter": "a, b",
                               "sde_verification_filter": ["none", "fail"], "sde_statuses_in_scope": ["TODO"]})
    assert scope.excluded_by("development", 7, ["a", "b", "c"], None) == ""
    assert "phase" in scope.excluded_by("testing", 9, ["a", "b"], "none")
    assert "priority" in scope.excluded_by("development", 6, ["a", "b"], "none")
    assert "tag" in scope.excluded_by("development", 9, ["a"], "none")
    assert "verification" in scope.excluded_by("development", 9, ["a", "b"], "pass")
    assert scope.excluded_by("development", 9, ["a", "b"], "") == ""  # no verification counts as none
    assert scope.may_create("TODO") and not scope.may_create("DONE")
    unfiltered = Scope.from_params({"alm_phases": ["development"], "sde_verification_filter": []})
    assert unfiltered.excluded_by("development", 1, [], "pass") == ""
