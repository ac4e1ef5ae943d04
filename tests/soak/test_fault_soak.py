"""Fault soak, short: 10 syncs per system under ~10 % injected faults; 0 duplicates, 0 lost, 0 crashes.

The long version (≥ 200 syncs, a real one-second Retry-After) is ``bench/soak.py --fault-syncs 200``.
Here Retry-After is 0 s (the header path without the wait) and slow answers take 1.5 s against the
connector's 1 s timeout, so timed-out writes the server still made are part of every run. After a
sync in which an answer was slowed, the soak waits until the server has finished it (``patient``):
back to back, the next sync can look for the item before the server made it — the engine's known
window, measured by the long soak and described in docs/performance.md.
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
    report = fault_soak(system, tmp_path, syncs=SYNCS, seed=3, patient=True, registry=registry)
    print(f"\n{system}: {report.syncs} syncs ({report.succeeded} ok, {report.failed} failed as the faults "
          f"said), faults {report.faults}, {report.requests} requests, {report.seconds:.1f} s")
    assert report.syncs == SYNCS
    assert sum(report.faults.values()) > 0, "no fault was injected; the soak proves nothing"
    assert report.crashes == []
    assert report.converged, "syncs without faults kept changing things"
    c = report.check
    assert (c.duplicates, c.lost, c.wrong_done) == (0, 0, 0), c.examples
    assert c.integrity == "ok" and c.journal_left == 0
