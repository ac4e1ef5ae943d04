"""Faults: with the sandbox injecting 5xx, 429 + Retry-After and connection resets (and, for Octane,
session expiry), repeated syncs converge: every in-scope task exactly once, none lost, done ones closed."""

from __future__ import annotations

from pathlib import Path

import pytest

from almdesk.sandbox.base import Faults
from almdesk.sync.journal import WAIT_FACTOR
from almdesk.systems.registry import Registry
from tests.sync.conftest import TARGETS
from tests.sync.harness import SyncEnv, Target

# The mix, and one heavy on connection resets (and Octane session expiry) so that those
# paths are surely hit with the few requests a small sync makes.
SPECS = {"mixed": "500:0.05,429:0.05,reset:0.02", "resets": "reset:0.12,502:0.04"}
MAX_RUNS = 10
# a reset create leaves its fate unknown: the next syncs wait 2 x the connector's timeout before creating
# that task again (the test moves the syncs' clock past that window instead of waiting)
TIMEOUT = 1.5


@pytest.mark.parametrize("kind", list(SPECS))
@pytest.mark.parametrize("system", TARGETS)
def test_repeated_syncs_converge_under_faults(system: str, kind: str, tmp_path: Path,
                                              sync_registry: Registry) -> None:
    spec = SPECS[kind] + (",expire:0.08" if system == "octane" and kind == "resets" else "")
    target = Target.start(system, sync_registry)
    try:
        env = SyncEnv(tmp_path, target, sync_registry)  # set up before the faults start
        env.set_timeout(TIMEOUT)
        n = 16 if system == "toyalm" else 10  # the toy (3 a chunk) makes the most writes, so failures
        done = {f"T{i}" for i in range(1, n + 1) if i % 5 == 0}
        project = env.project([{"task_id": f"T{i}", "status": "DONE" if f"T{i}" in done else "TODO"}
                               for i in range(1, n + 1)])
        extra = {"toyalm_bulk_size": 3, "toyalm_page_size": 5} if system == "toyalm" else {}
        alias = env.connection(project, sde_statuses_in_scope="TODO,DONE", conflict_policy="sde", **extra)
        # a real one-second Retry-After on the toy; 0 s elsewhere keeps the header path without the wait
        faults = Faults.parse(spec, seed=11, retry_after=1 if system == "toyalm" else 0)
        target.app.faults = faults
        states = []
        for _ in range(MAX_RUNS):
            result = env.sync(alias)
            c = result.outcome.counts
            states.append((result.state, c.get("created", 0), c.get("closed", 0), c.get("failed", 0)))
            converged = result.state == "succeeded" and c.get("created", 0) == 0 and c.get("closed", 0) == 0 \
                and c.get("waiting", 0) == 0
            if c.get("waiting", 0):  # an earlier create may still land: sync again once it cannot (a reset
                env.clock.advance(WAIT_FACTOR * TIMEOUT)  # request never reached the sandbox: nothing lands later)
            # a sync of a few requests may meet no fault: sync again (a no-op under faults) until one came
            injected = faults.counts.get("reset", 0) if kind == "resets" else sum(faults.counts.values())
            if converged and injected:
                break
        else:
            pytest.fail(f"no convergence (or no fault) after {MAX_RUNS} syncs: {states}, faults {faults.counts}")
        assert sum(faults.counts.values()) > 0, "no fault was injected; the test proves nothing"
        if kind == "resets":
            assert faults.counts.get("reset", 0) > 0, faults.counts
        target.app.faults = None
        items = env.alm_items(alias)
        assert sorted(items) == sorted(f"T{i}" for i in range(1, n + 1)), states
        assert {tid: len(v) for tid, v in items.items() if len(v) != 1} == {}, states
        assert {tid for tid, v in items.items() if v[0].done} == done
        assert env.store.integrity_check() == "ok"
        print(system, "runs:", states, "faults:", faults.counts)
    finally:
        target.stop()
