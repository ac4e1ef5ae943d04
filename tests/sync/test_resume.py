"""Crash safety: SIGKILL a sync subprocess at several points, re-run it, and find no duplicates.

The sandbox runs in this process; the sync runs in a child process (``tests.sync.sync_child``). A
hook in the sandbox kills the child with SIGKILL when a chosen request arrives — *before* the
server handles it (the write never happened) or *after* (the write happened, its answer is lost).
After a chain of killed runs a clean run must leave every in-scope task exactly once in the ALM,
done tasks closed, the journal settled and the database passing ``PRAGMA integrity_check``.
"""

from __future__ import annotations

import json
import signal
from dataclasses import dataclass
from pathlib import Path

import pytest
from werkzeug.wrappers import Request

from almdesk.models import JournalEntry
from tests.sync.conftest import TARGETS
from tests.sync.harness import SyncEnv, intercept, is_write
from tests.sync.kill import RequestKiller, run_sync_child


@dataclass(frozen=True)
class KillPoint:
    kind: str  # "write" (any data-changing request) or a path fragment of a GET
    nth: int
    when: str  # before | after
    required: bool = True  # False: the run may finish without reaching it (nothing left to write)
    delay: float = 0.0  # kill at once

    def matches(self, request: Request) -> bool:
        if self.kind == "write":
            return is_write(request)
        return request.method == "GET" and self.kind in request.path


def run_child(env: SyncEnv, alias: str, killer: RequestKiller, point: KillPoint | None) -> tuple[int, str]:
    code, out, err = run_sync_child(env, alias, killer, point, timeout=120)
    if point is not None and (point.required or killer.fired):
        assert killer.fired, f"kill point {point} never reached; child said {out} {err[-2000:]}"
        assert code == -signal.SIGKILL, (code, out, err[-2000:])
    return code, out


TOY_CHAIN = [KillPoint("/api/items", 1, "before"), KillPoint("write", 2, "after"), KillPoint("write", 1, "before"),
             KillPoint("/transitions", 1, "after")]
# Real systems (kept short, each child costs a second): the first write's answer is lost — items
# made, not linked, done ones not closed — and the clean run must find them and finish the closes.
REAL_CHAIN = [KillPoint("write", 1, "after")]


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
@pytest.mark.parametrize("system", TARGETS)
def test_sigkill_at_several_points_then_resume(system: str, tmp_path: Path, sync_registry: object) -> None:
    from tests.sync.harness import Target

    target = Target.start(system, sync_registry)  # type: ignore[arg-type]
    try:
        env = SyncEnv(tmp_path, target, sync_registry)  # type: ignore[arg-type]
        n = 23 if system == "toyalm" else 9
        done = {f"T{i}" for i in range(1, n + 1) if i % 4 == 0}
        project = env.project([{"task_id": f"T{i}", "status": "DONE" if f"T{i}" in done else "TODO"}
                               for i in range(1, n + 1)]
                              + [{"task_id": "T100", "priority": 2}])  # out of scope
        extra = {"toyalm_bulk_size": 4, "toyalm_page_size": 10} if system == "toyalm" else {}
        alias = env.connection(project, sde_min_priority=5, sde_statuses_in_scope="TODO,DONE", **extra)
        killer = RequestKiller()
        intercept(target.app, killer)
        for point in TOY_CHAIN if system == "toyalm" else REAL_CHAIN:
            run_child(env, alias, killer, point)
        code, out = run_child(env, alias, killer, None)
        assert code == 0, out
        result = json.loads(out)
        assert result["state"] == "succeeded", result

        items = env.alm_items(alias)
        expected = [f"T{i}" for i in range(1, n + 1)]
        assert sorted(items) == sorted(expected)
        assert {tid: len(v) for tid, v in items.items() if len(v) != 1} == {}
        assert {tid for tid, v in items.items() if v[0].done} == done
        assert all(env.task(project, tid).status == ("DONE" if tid in done else "TODO") for tid in expected)
        assert len(env.links(alias)) == n
        with env.store.session() as s:
            assert s.query(JournalEntry).count() == 0
        assert env.store.integrity_check() == "ok"
        again = env.sync(alias)
        assert again.outcome.counts["unchanged"] == n and again.outcome.counts["created"] == 0
    finally:
        target.stop()
