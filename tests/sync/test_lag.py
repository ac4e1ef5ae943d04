"""A search that lags behind writes (Jira Cloud's is eventually consistent) must not make a re-sync
create again the items the previous sync just made: linked items missing from the listing are read
directly (``find_items``) before they count as gone."""

from __future__ import annotations

from pathlib import Path

import pytest

from almdesk.net.session import HttpFactory
from almdesk.systems.registry import Registry
from tests.sync.harness import SyncEnv, Target, tasks


def test_resync_right_after_create_finds_lagging_items(tmp_path: Path, sync_registry: Registry) -> None:
    pytest.importorskip("almdesk.systems.jira")
    # every new issue stays out of search results for the next 3 searches (unless reconciled)
    target = Target.start("jira", sync_registry, search_lag=3, issues=10, rate_limit=None)
    try:
        env = SyncEnv(tmp_path, target, sync_registry)
        alias = env.connection(env.project(tasks(*(f"T{i}" for i in range(1, 9)))))
        first = env.sync(alias)
        assert first.state == "succeeded" and first.outcome.counts["created"] == 8
        http = HttpFactory(env.settings(alias).connector.network)
        second = env.sync(alias, http=http)
        counts = second.outcome.counts
        assert second.state == "succeeded", second.outcome.message
        assert counts["created"] == 0 and counts["unchanged"] == 8, counts
        # project, statuses, create screen, 1 search page (it shows none of the 8), 8 issue reads
        assert http.requests == 3 + 1 + 8
        for _ in range(3):  # let the index catch up, then count what Jira holds
            env.alm_items(alias)
        items = env.alm_items(alias)
        assert sorted(items) == [f"T{i}" for i in range(1, 9)]
        assert all(len(v) == 1 for v in items.values()), items
    finally:
        target.stop()


def test_deleted_items_are_still_created_again(tmp_path: Path, sync_registry: Registry) -> None:
    pytest.importorskip("almdesk.systems.jira")
    target = Target.start("jira", sync_registry, issues=10, rate_limit=None)
    try:
        env = SyncEnv(tmp_path, target, sync_registry)
        alias = env.connection(env.project(tasks("T1", "T2")))
        assert env.sync(alias).outcome.counts["created"] == 2
        data = target.app.data  # type: ignore[attr-defined]
        gone = env.links(alias)
        for link in gone.values():
            issue = data.issue(link.alm_key)
            assert issue is not None
            del data.issues[issue.id]  # someone deleted them in Jira
        again = env.sync(alias)
        assert again.state == "succeeded" and again.outcome.counts["created"] == 2
    finally:
        target.stop()
