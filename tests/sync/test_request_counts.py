"""Request counts of a sync (issue 7): a first sync that creates, then a no-op re-sync, against each sandbox.

Counts are deterministic, so they are asserted exactly: one more request anywhere (a read-back per
chunk, a look-up per page, a prepare step) fails here. Bulk and page sizes are made small so that a few
dozen tasks span several chunks and pages; the sandboxes start with few items of their own. Each row
says where every request goes. The 5,000-task figures are printed by ``bench/sync.py``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from almdesk.net.session import HttpFactory
from almdesk.systems.common import PHASES, VERIFICATIONS
from almdesk.systems.registry import Registry
from tests.sync.harness import SyncEnv, Target

N = 36  # tasks; every 6th is DONE (created, then closed where the system needs a second write)
BULK, PAGE = 10, 15


@dataclass
class Case:
    system: str
    sandbox: dict[str, Any]
    patches: dict[str, int]  # "module:attribute" -> value (bulk and page sizes)
    create: int  # requests of the first sync
    noop: int  # requests of the re-sync
    connection: dict[str, Any] = field(default_factory=dict)


CASES = [
    # toy: who-am-I; list 1 (nothing there yet); 4 bulk POSTs; per done item a transition look-up and
    # a transition | who-am-I, 3 pages of 15
    Case("toyalm", {}, {}, 1 + 1 + 4 + 2 * (N // 6), 1 + 3, {"toyalm_bulk_size": BULK, "toyalm_page_size": PAGE}),
    # Octane: sign-in, phases, user; list 1 page (5 seeded defects, whose parent names the backlog root);
    # the context mark's user tag made (no item of ours lists it yet); 4 bulk POSTs; the workflow
    # (transitions) read once; per chunk 4 bulk PUTs walking its done ones New → Opened → Fixed →
    # Proposed Closed → Closed; sign-out | sign-in, phases, user, 3 pages of 15 (41 defects), sign-out
    Case("octane", {"defects": 5, "stories": 0},
         {"almdesk.systems.octane.sync:OctaneSyncAdapter.bulk_size": BULK,
          "almdesk.systems.octane.sync:OctaneSyncAdapter.page_size": PAGE},
         3 + 1 + 1 + 4 + 1 + 4 * 4 + 1, 3 + 3 + 1),
    # Jira Cloud: project, statuses, create screen (the connector names its deployment: no serverInfo);
    # list 1 page; 4 bulk POSTs; for the 6 done ones one transition look-up and 6 transitions | 3 + 3 pages (36 + 8)
    Case("jira", {"issues": 12, "rate_limit": None}, {"almdesk.systems.jira.client:CLOUD_PAGE": PAGE,
                                                       "almdesk.systems.jira.sync:JiraSyncAdapter.bulk_size": BULK},
         3 + 1 + 4 + 1 + 6, 3 + 3),
    # Jira Data Center: the same with startAt paging
    Case("jira", {"issues": 12, "rate_limit": None, "mode": "dc"},
         {"almdesk.systems.jira.client:DC_PAGE": PAGE, "almdesk.systems.jira.sync:JiraSyncAdapter.bulk_size": BULK},
         3 + 1 + 4 + 1 + 6, 3 + 3),
    # Rally: workspace, one /batch of look-ups (the context mark's tag among them), status attribute, its allowed
    # values; list 1 page; the mark's tag made (the workspace has none yet); 4 /batch creates (done ones are
    # created straight in a done state) | 4 + 4 pages (36 + the project's 12)
    Case("rally", {"items": 6},
         {"almdesk.systems.rally.sync:RallySyncAdapter.bulk_size": BULK,
          "almdesk.systems.rally.sync:RallySyncAdapter.page_size": PAGE},
         4 + 1 + 1 + 4, 4 + 4),
    # GitHub (no bulk create): repository; list 1 page; 36 POSTs and 6 PATCHes closing | repository, 3 pages (36 + 3)
    Case("github", {"issues": 8, "primary_limit": 100_000}, {"almdesk.systems.github.client:PER_PAGE": PAGE},
         1 + 1 + N + N // 6, 1 + 3),
]


def scope_all() -> dict[str, Any]:
    return {"alm_phases": ",".join(PHASES), "sde_min_priority": 1, "sde_verification_filter": ",".join(VERIFICATIONS),
            "sde_statuses_in_scope": "TODO,DONE"}


def patch(monkeypatch: pytest.MonkeyPatch, where: str, value: int) -> None:
    module, _, attr = where.partition(":")
    owner: Any = __import__(module, fromlist=["_"])
    *path, name = attr.split(".")
    for part in path:
        owner = getattr(owner, part)
    monkeypatch.setattr(owner, name, value)


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.system}-{c.sandbox.get('mode', 'default')}")
def test_sync_request_counts(case: Case, tmp_path: Path, sync_registry: Registry,
                             monkeypatch: pytest.MonkeyPatch) -> None:
    if case.system != "toyalm":
        pytest.importorskip(f"almdesk.systems.{case.system}")
    for where, value in case.patches.items():
        patch(monkeypatch, where, value)
    target = Target.start(case.system, sync_registry, **case.sandbox)
    try:
        env = SyncEnv(tmp_path, target, sync_registry)
        tasks = [{"task_id": f"T{i}", "status": "DONE" if i % 6 == 0 else "TODO"} for i in range(1, N + 1)]
        alias = env.connection(env.project(tasks), **scope_all(), **case.connection)
        http = HttpFactory(env.settings(alias).connector.network)
        first = env.sync(alias, http=http)
        assert first.state == "succeeded", first.outcome.message
        assert first.outcome.counts["created"] == N and first.outcome.counts["closed"] == N // 6
        assert http.requests == case.create
        again = HttpFactory(env.settings(alias).connector.network)
        second = env.sync(alias, http=again)
        assert second.state == "succeeded" and second.outcome.counts["unchanged"] == N
        assert again.requests == case.noop
        # the re-sync target at this scale: ≤ ceil(items listed / page) + 5
        adapter = env.adapter(alias)
        listed = sum(1 for _ in adapter.iter_items())
        adapter.close()
        assert again.requests <= math.ceil(listed / PAGE) + 5
    finally:
        target.stop()
