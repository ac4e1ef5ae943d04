"""Fault soak, short: 10 syncs per system under ~10 % injected faults; 0 duplicates, 0 lost, 0 crashes.

The long version (≥ 200 syncs, a real one-second Retry-After) is ``bench/soak.py --fault-syncs 200``.
Here Retry-After is 0 s (the header path without the wait) and slow answers take 1.5 s against the
connector's 1 s timeout, so timed-out writes the server still made are part of every run. Syncs run
back to back (the worst case): the next sync may look for an item before the server has made it, and
the engine must not create it again — it reports the task as waiting for twice the connector's
timeout after an unknown-fate create (tests/sync/test_unknown_fate.py), then finds it by title.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from almdesk.systems.registry import Registry
from tests.soak.soaklib import fault_soak
from tests.sync.harness import make_registry, real_systems

SYNCS = 10


@pytest.fixture(scope="module")
def registry() -> Registry:
    return make_registry()


@pytest.mark.parametrize("system", real_systems())
def test_fault_soak(system: str, tmp_path: Path, registry: Registry) -> None:
    report = fault_soak(system, tmp_path, syncs=SYNCS, seed=3, registry=registry)
    print(f"\n{system}: {report.syncs} syncs ({report.succeeded} ok, {report.failed} failed as the faults "
          f"said), faults {report.faults}, {report.waiting} waiting, {report.requests} requests, {report.seconds:.1f} s")
    assert report.syncs == SYNCS
    assert sum(report.faults.values()) > 0, "no fault was injected; the soak proves nothing"
    assert report.crashes == []
    assert report.converged, "syncs without faults kept changing things"
    c = report.check
    assert (c.duplicates, c.lost, c.wrong_done) == (0, 0, 0), c.examples
    assert c.integrity == "ok" and c.journal_left == 0
