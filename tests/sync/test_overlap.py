"""Overlapped creates (issue 19): within each vendor's concurrency limit, in order, cancellable.

Each sandbox counts the requests in flight per caller and (Rally, GitHub strict) refuses beyond the
vendor's published limit; a small latency makes requests last long enough to overlap. Asserted: the
peak never passes the adapter's declared concurrency (and reaches 2 or more where it is above 1), no
request was refused, every task has exactly one item, and no journal entry is left over. Then a cancel
during the creates: the chunks in flight finish and are recorded, none after them is sent, and the next
sync creates the rest without a duplicate. :class:`~almdesk.sync.overlap.Overlap` itself is checked for
order, its bound, failures as outcomes and the first call alone.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from almdesk.jobs.context import JobContext, JobEvent
from almdesk.sync.journal import Journal
from almdesk.sync.overlap import Overlap, paged
from almdesk.systems.registry import Registry
from tests.sync.harness import SyncEnv, Target
from tests.sync.test_request_counts import patch, scope_all

LATENCY = 0.05  # seconds the sandbox waits before each answer: requests in flight together overlap
CASES: dict[str, tuple[dict[str, Any], dict[str, int], int, str]] = {
    # system: sandbox options, patches, tasks, the limit's name in the sandbox's counter
    "jira": ({"issues": 0, "rate_limit": None}, {"almdesk.systems.jira.sync:JiraSyncAdapter.bulk_size": 2}, 40, "all"),
    "octane": ({"defects": 0, "stories": 0}, {"almdesk.systems.octane.sync:OctaneSyncAdapter.bulk_size": 2}, 40,
               "all"),
    "rally": ({"items": 0, "strict_rate_limits": True},
              {"almdesk.systems.rally.sync:RallySyncAdapter.bulk_size": 2}, 60, "concurrent"),
    "github": ({"issues": 0, "primary_limit": 100_000, "strict_rate_limits": True}, {}, 12, "concurrent-writes"),
}


@pytest.mark.parametrize("system", sorted(CASES))
def test_creates_overlap_within_the_vendor_limit(system: str, tmp_path: Path, sync_registry: Registry,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip(f"almdesk.systems.{system}")
    options, patches, n, limit_name = CASES[system]
    for where, value in patches.items():
        patch(monkeypatch, where, value)
    target = Target.start(system, sync_registry, latency=LATENCY, **options)
    try:
        env = SyncEnv(tmp_path, target, sync_registry)
        ids = [f"T{i}" for i in range(1, n + 1)]
        alias = env.connection(env.project([{"task_id": t} for t in ids]), **scope_all())
        result = env.sync(alias)
        assert result.state == "succeeded", result.outcome.message
        assert result.outcome.counts["created"] == n
        counter = target.app.concurrency
        adapter = env.adapter(alias)
        width = int(adapter.concurrency)
        adapter.close()
        peak = counter.peak(limit_name)
        assert peak <= width, f"{system}: {peak} requests in flight at once, the adapter allows {width}"
        if width > 1:
            assert peak >= 2, f"{system}: the creates did not overlap (peak {peak})"
        assert sum(counter.refused.values()) == 0, counter.snapshot()
        items = env.alm_items(alias)
        assert sorted(items) == sorted(ids) and all(len(v) == 1 for v in items.values())
        settings = env.settings(alias)
        assert settings.id is not None
        assert list(Journal(env.store, settings.id).entries()) == []  # every create settled, none left
    finally:
        target.stop()


def test_cancel_takes_effect_within_one_in_flight_batch(tmp_path: Path, sync_registry: Registry,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("almdesk.systems.jira")
    from almdesk.systems.jira.sync import JiraSyncAdapter

    patch(monkeypatch, "almdesk.systems.jira.sync:JiraSyncAdapter.bulk_size", 2)
    width = JiraSyncAdapter.concurrency
    target = Target.start("jira", sync_registry, latency=LATENCY, issues=0, rate_limit=None)
    try:
        env = SyncEnv(tmp_path, target, sync_registry)
        ids = [f"T{i}" for i in range(1, 41)]
        alias = env.connection(env.project([{"task_id": t} for t in ids]), **scope_all())
        cancel = threading.Event()
        created: list[str] = []

        def on_event(ev: JobEvent) -> None:
            if ev.action == "create":
                created.append(ev.item)
                if len(created) == 3:  # the second chunk's first item: chunks 2…1+width are in flight
                    cancel.set()

        result = env.sync(alias, ctx=JobContext(cancel_event=cancel, on_event=on_event))
        assert result.state == "cancelled"
        # the first chunk alone, then ``width`` in flight together: all of them finished and were recorded
        assert result.outcome.counts["created"] == 2 * (1 + width)
        assert sum(1 for m, p, _ in target.app.log if m == "POST" and p.split("?")[0].endswith("/issue/bulk")) == 1 + width
        settings = env.settings(alias)
        assert settings.id is not None
        states = [e.state for e in Journal(env.store, settings.id).entries() if e.op == "create"]
        assert states == ["done"] * (2 * (1 + width))  # nothing left pending, nothing journaled unsent
        again = env.sync(alias)
        assert again.state == "succeeded", again.outcome.message
        assert again.outcome.counts["created"] == 40 - 2 * (1 + width)
        items = env.alm_items(alias)
        assert sorted(items) == sorted(ids) and all(len(v) == 1 for v in items.values())
    finally:
        target.stop()


# --- the pool itself --------------------------------------------------------------------------------

def test_overlap_keeps_order_bound_and_failures() -> None:
    lock = threading.Lock()
    in_flight = [0, 0]  # now, peak
    together = threading.Barrier(3, timeout=5)  # calls 1-3 pass only when all three are in flight at once

    def call(n: int) -> int:
        with lock:
            in_flight[0] += 1
            in_flight[1] = max(in_flight[1], in_flight[0])
        try:
            if 1 <= n <= 3:
                together.wait()
        finally:
            with lock:
                in_flight[0] -= 1
        if n == 5:
            raise ValueError("five")
        return n * 10

    pool: Overlap[int, int] = Overlap(call, 3)
    out = list(pool.run(iter(range(8))))
    assert [n for n, _ in out] == list(range(8))
    assert [r for _, r in out if not isinstance(r, Exception)] == [0, 10, 20, 30, 40, 60, 70]
    assert isinstance(out[5][1], ValueError)
    assert in_flight[1] == 3


def test_overlap_stops_taking_items_when_cancelled_and_yields_those_in_flight() -> None:
    stop = threading.Event()
    taken: list[int] = []

    def check() -> None:
        if stop.is_set():
            raise RuntimeError("cancelled")

    def items() -> Any:
        for n in range(20):
            taken.append(n)
            yield n

    pool: Overlap[int, int] = Overlap(lambda n: n, 4, check=check)
    seen: list[int] = []
    with pytest.raises(RuntimeError, match="cancelled"):
        for n, _ in pool.run(items()):
            seen.append(n)
            if n == 1:
                stop.set()
    assert taken == [0, 1, 2, 3, 4]  # the first alone, then four in flight; none taken after the cancel
    assert seen == taken


@pytest.mark.parametrize("cap", [None, 7])
def test_paged_reads_every_item_once_in_order(cap: int | None) -> None:
    """Pages after the first overlap; a server that caps its pages (to 7) or grows meanwhile loses nothing."""
    data = list(range(1, 58))
    calls: list[tuple[int, int]] = []
    lock = threading.Lock()

    def fetch(start: int, size: int) -> tuple[list[int], int]:
        with lock:
            calls.append((start, size))
            if len(calls) == 3:
                data.extend(range(58, 73))  # 15 items added while the listing runs
        n = min(size, cap or size)
        return data[start - 1:start - 1 + n], len(data)  # 1-based, like Rally's start

    out = list(paged(fetch, 10, 4, start=1))
    assert out == list(range(1, 73))
    assert calls[0] == (1, 10)


PAGED = {  # offset-paged listings: system, sandbox options, page-size patches
    "octane": ({"defects": 0, "stories": 0}, {"almdesk.systems.octane.sync:OctaneSyncAdapter.page_size": 5}),
    "rally": ({"items": 0, "strict_rate_limits": True},
              {"almdesk.systems.rally.sync:RallySyncAdapter.page_size": 5}),
    "jira-dc": ({"issues": 0, "rate_limit": None, "mode": "dc"}, {"almdesk.systems.jira.client:DC_PAGE": 5}),
}


@pytest.mark.parametrize("name", sorted(PAGED))
def test_listing_pages_overlap_within_the_limit(name: str, tmp_path: Path, sync_registry: Registry,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    system = name.partition("-")[0]
    pytest.importorskip(f"almdesk.systems.{system}")
    options, patches = PAGED[name]
    for where, value in patches.items():
        patch(monkeypatch, where, value)
    target = Target.start(system, sync_registry, latency=LATENCY, **options)
    try:
        env = SyncEnv(tmp_path, target, sync_registry)
        ids = [f"T{i}" for i in range(1, 41)]
        alias = env.connection(env.project([{"task_id": t} for t in ids]), **scope_all())
        assert env.sync(alias).state == "succeeded"
        target.app._concurrency = None  # count the re-sync alone (its listing: 8 pages of 5 and more)
        again = env.sync(alias)
        assert again.state == "succeeded" and again.outcome.counts["unchanged"] == 40
        counter = target.app.concurrency
        adapter = env.adapter(alias)
        width = int(adapter.concurrency)
        adapter.close()
        assert 2 <= counter.peak() <= width, counter.snapshot()
        assert sum(counter.refused.values()) == 0
    finally:
        target.stop()


@pytest.mark.parametrize("system", ["jira", "rally"])
def test_status_changes_overlap_within_the_limit(system: str, tmp_path: Path, sync_registry: Registry) -> None:
    """Closing 30 linked items (the tasks turned DONE, almdesk's status wins): up to the adapter's
    concurrency in flight, none refused, every item closed, nothing left in the journal."""
    pytest.importorskip(f"almdesk.systems.{system}")
    options, _, _, limit_name = CASES[system]
    target = Target.start(system, sync_registry, latency=LATENCY, **options)
    try:
        env = SyncEnv(tmp_path, target, sync_registry)
        ids = [f"T{i}" for i in range(1, 31)]
        project = env.project([{"task_id": t} for t in ids])
        alias = env.connection(project, **scope_all(), conflict_policy="sde")
        assert env.sync(alias).state == "succeeded"
        for t in ids:
            env.set_task(project, t, status="DONE")
        target.app._concurrency = None  # count the closing sync alone
        result = env.sync(alias)
        assert result.state == "succeeded", result.outcome.message
        assert result.outcome.counts["closed"] == 30
        adapter = env.adapter(alias)
        width = int(adapter.concurrency)
        adapter.close()
        counter = target.app.concurrency
        assert 2 <= counter.peak(limit_name) <= width, counter.snapshot()
        assert sum(counter.refused.values()) == 0
        items = env.alm_items(alias)
        assert sorted(items) == sorted(ids) and all(len(v) == 1 and v[0].done for v in items.values())
        settings = env.settings(alias)
        assert settings.id is not None
        assert list(Journal(env.store, settings.id).entries()) == []
    finally:
        target.stop()
