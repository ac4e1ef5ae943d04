"""Crash soak, short: SIGKILL the sync process at 3 random requests per system, resume each time.

After every kill the store passes ``PRAGMA integrity_check``; every resume succeeds; at the end each
task is in the ALM exactly once with the right done state. The long version (50 kills) is
``bench/soak.py --kills 50``.
"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from tests.soak.soaklib import crash_soak
from tests.sync.harness import real_systems

KILLS = 3


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
@pytest.mark.parametrize("system", real_systems())
def test_crash_soak(system: str, tmp_path: Path) -> None:
    report = crash_soak(system, tmp_path, kills=KILLS, seed=5)
    print(f"\n{system}: kills at {report.points}; {report.seconds:.1f} s")
    assert report.kills == KILLS, (report.missed, report.resume_failures)
    assert report.integrity_ok == KILLS and report.integrity_bad == []
    assert report.resume_failures == []
    assert (report.duplicates, report.lost, report.wrong_done) == (0, 0, 0), report.examples
    assert report.journal_left == 0
