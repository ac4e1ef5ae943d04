"""The fault soak and the crash soak, shared by the short CI tests (tests/soak) and bench/soak.py.

**Fault soak** (:func:`fault_soak`): one system's sandbox injects 5xx, 429 + Retry-After, connection
resets, slow answers past the connector's timeout and session expiry. Round after round, tasks are
added, some done and some reopened locally (conflict policy ``sde``: the ALM follows), and the
connection is synced under faults. Then faults stop, syncs run until one changes nothing, and the
ALM is compared with the tasks: **duplicates** (a task with more than one item), **lost** tasks (in
scope, no item), items whose **done** state disagrees, and **crashes** (a sync that ended in an
internal error, not a UserFacingError).

**Crash soak** (:func:`crash_soak`): the sync runs in a child process (``tests.sync.sync_child``); the
sandbox kills it with SIGKILL when a randomly chosen request arrives — before the server handles it,
or after it (optionally a few milliseconds later, while the child digests the answer and writes its
journal). After each kill ``PRAGMA integrity_check`` runs on the store; then a clean child run resumes
and the ALM is checked for duplicates and lost tasks.
"""

from __future__ import annotations

import json
import random
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from werkzeug.wrappers import Request

from almdesk.models import Connector, JournalEntry
from almdesk.sandbox.base import Faults
from almdesk.sync.journal import WAIT_FACTOR
from almdesk.systems.registry import Registry
from tests.sync.harness import SyncEnv, Target, intercept, make_registry
from tests.sync.kill import RequestKiller, run_sync_child

FAULT_SPEC = "500:0.03,429:0.03,reset:0.02,slow:0.01,expire:0.01"
SANDBOX_OPTIONS: dict[str, dict[str, Any]] = {"jira": {"rate_limit": None}, "github": {"primary_limit": 10**9}}
SCOPE: dict[str, Any] = {"sde_statuses_in_scope": "TODO,DONE", "conflict_policy": "sde", "sde_min_priority": 1}


# --- the tasks of a soak ------------------------------------------------------------------------------

@dataclass
class Book:
    """The tasks a soak has put into its project and the status each should have in the ALM."""

    rng: random.Random
    done: dict[str, bool] = field(default_factory=dict)  # task id -> DONE locally
    next_id: int = 1

    def new_tasks(self, n: int) -> list[dict[str, Any]]:
        out = []
        for _ in range(n):
            tid = f"T{self.next_id}"
            self.next_id += 1
            is_done = self.rng.random() < 0.25
            self.done[tid] = is_done
            out.append({"task_id": tid, "title": f"Soak task {tid}", "status": "DONE" if is_done else "TODO",
                        "priority": self.rng.randint(1, 10)})
        return out

    def flips(self, n: int) -> list[tuple[str, bool]]:
        """Up to ``n`` existing tasks whose local status flips (DONE <-> TODO)."""
        chosen = self.rng.sample(sorted(self.done), min(n, len(self.done)))
        for tid in chosen:
            self.done[tid] = not self.done[tid]
        return [(tid, self.done[tid]) for tid in chosen]


def apply_round(env: SyncEnv, project: str, book: Book, new: int, flips: int) -> None:
    env.add_tasks(project, book.new_tasks(new))
    for tid, is_done in book.flips(flips):
        env.set_task(project, tid, status="DONE" if is_done else "TODO")


@dataclass
class Check:
    duplicates: int = 0
    lost: int = 0
    wrong_done: int = 0
    integrity: str = "ok"
    journal_left: int = 0
    examples: list[str] = field(default_factory=list)


def check_alm(env: SyncEnv, alias: str, book: Book) -> Check:
    """Compare the ALM (faults off) with the book."""
    items = env.alm_items(alias)
    c = Check(integrity=env.store.integrity_check())
    for tid, found in items.items():
        if tid in book.done and len(found) > 1:
            c.duplicates += len(found) - 1
            c.examples.append(f"duplicate {tid}: {[i.key for i in found]}")
    for tid, is_done in book.done.items():
        found = items.get(tid, [])
        if not found:
            c.lost += 1
            c.examples.append(f"lost {tid}")
        elif any(i.done != is_done for i in found):
            c.wrong_done += 1
            c.examples.append(f"{tid}: ALM done={[i.done for i in found]}, task done={is_done}")
    with env.store.session() as s:
        c.journal_left = s.query(JournalEntry).count()
    return c


def set_timeout(env: SyncEnv, seconds: float) -> None:
    """The connector's network timeout (the form allows 1 s and more)."""
    with env.store.session() as s:
        row = s.scalar(select(Connector).where(Connector.name == env.connector))
        assert row is not None
        row.network = {**(row.network or {}), "timeout": seconds}


# --- fault soak ---------------------------------------------------------------------------------------

@dataclass
class FaultReport:
    system: str
    syncs: int = 0
    succeeded: int = 0
    failed: int = 0  # ended with a UserFacingError or item failures (expected under faults)
    crashes: list[str] = field(default_factory=list)
    settle_syncs: int = 0
    waiting: int = 0  # task-syncs reported as waiting, over the whole soak
    converged: bool = False
    tasks: int = 0
    faults: dict[str, int] = field(default_factory=dict)
    requests: int = 0
    seconds: float = 0.0
    check: Check = field(default_factory=Check)


def fault_soak(system: str, tmp: Path, *, syncs: int, seed: int = 1, spec: str = FAULT_SPEC,
               retry_after: int = 0, slow_seconds: float = 1.5, timeout: float = 1.0, new_per_round: int = 3,
               flips_per_round: int = 1, patient: bool = False, registry: Registry | None = None,
               progress: Callable[[str], None] | None = None) -> FaultReport:
    """``patient``: after a sync during which an answer was slowed past the timeout, wait until the server
    has finished that request before the next sync. Back to back (the default, the worst case) the next
    sync may look before the server made the item; the engine then reports the task as waiting (an
    unknown-fate create) instead of creating it again. While settling, a sync with waiting tasks is
    followed by a pause of twice the connector's timeout, as a user would sync again later."""
    registry = registry or make_registry()
    target = Target.start(system, registry, seed=seed, **SANDBOX_OPTIONS.get(system, {}))
    report = FaultReport(system)
    started = time.monotonic()
    try:
        env = SyncEnv(tmp, target, registry)
        set_timeout(env, timeout)
        book = Book(random.Random(seed))
        project = env.project()
        alias = env.connection(project, **SCOPE)
        faults = Faults.parse(spec, seed=seed, retry_after=retry_after, slow_seconds=slow_seconds)
        for i in range(syncs):
            apply_round(env, project, book, new_per_round, flips_per_round if i else 0)
            slow_before = faults.counts.get("slow", 0)
            target.app.faults = faults
            result = env.sync(alias)
            target.app.faults = None
            if patient and faults.counts.get("slow", 0) != slow_before:
                # the sandbox's slow answer is a wall-clock delay on the server (as a real slow service's):
                # the only way to know that request has finished is to wait it out
                time.sleep(slow_seconds)
            report.syncs += 1
            report.waiting += result.outcome.counts.get("waiting", 0)
            crash = crash_of(env, result)
            if crash:
                report.crashes.append(f"sync {i + 1}: {crash}")
            elif result.state == "succeeded":
                report.succeeded += 1
            else:
                report.failed += 1
            if progress:
                progress(f"{system} sync {i + 1}/{syncs}: {result.state} {result.outcome.counts}")
        report.faults = dict(faults.counts)
        for _ in range(6):  # faults off: settle until a sync changes nothing
            result = env.sync(alias)
            report.settle_syncs += 1
            crash = crash_of(env, result)
            if crash:
                report.crashes.append(f"settling sync: {crash}")
            c = result.outcome.counts
            if result.state == "succeeded" and not any(c.get(k, 0) for k in ("created", "closed", "reopened",
                                                                               "failed", "waiting")):
                report.converged = True
                break
            if c.get("waiting", 0):  # an earlier create may still land: sync again once it cannot have.
                # A real wait, not the syncs' clock: a slowed create of the last faulted sync may still be
                # running on the sandbox (a wall-clock delay), and must land before the window ends
                time.sleep(WAIT_FACTOR * timeout + 0.1)
        report.tasks = len(book.done)
        report.requests = target.app.requests
        report.check = check_alm(env, alias, book)
    finally:
        target.stop()
        report.seconds = time.monotonic() - started
    return report


def crash_of(env: SyncEnv, result: Any) -> str:
    """'' for a sync that ended normally or with a UserFacingError; else what crashed."""
    from almdesk.errors import UserFacingError

    if result.error is not None and not isinstance(result.error, UserFacingError):
        return f"{type(result.error).__name__}: {result.error}"
    for ev in env.events(result):
        if ev.status == "failed" and ("Internal error" in ev.message or "Traceback" in ev.message):
            return f"item {ev.item}: {ev.message}"
    return ""


# --- crash soak ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class KillAt:
    """Kill at the ``nth`` request of the child (1-based), ``before`` or ``after`` the server handles it,
    ``delay`` seconds later (after only)."""

    nth: int
    when: str
    delay: float = 0.0

    def matches(self, request: Request) -> bool:
        return True  # any request

    def __str__(self) -> str:
        return f"request {self.nth} {self.when}" + (f" +{self.delay * 1000:.0f} ms" if self.delay else "")


def run_child(env: SyncEnv, alias: str, killer: RequestKiller, point: KillAt | None,
              timeout: float = 300) -> tuple[int, dict[str, Any] | None, str]:
    """One sync in a child process; returns (exit code, its JSON result or None, stderr tail)."""
    code, out, err = run_sync_child(env, alias, killer, point, timeout)
    try:
        parsed = json.loads(out.strip().splitlines()[-1]) if out.strip() else None
    except ValueError:
        parsed = None
    return code, parsed, err[-1500:]


@dataclass
class CrashReport:
    system: str
    kills: int = 0
    missed: int = 0  # kill points the run never reached (re-drawn)
    integrity_ok: int = 0
    integrity_bad: list[str] = field(default_factory=list)
    resumes: int = 0
    resume_failures: list[str] = field(default_factory=list)
    duplicates: int = 0
    lost: int = 0
    wrong_done: int = 0
    journal_left: int = 0
    tasks: int = 0
    points: list[str] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)
    seconds: float = 0.0


def crash_soak(system: str, tmp: Path, *, kills: int, seed: int = 1, new_per_round: int = 4,
               flips_per_round: int = 1, registry: Registry | None = None,
               progress: Callable[[str], None] | None = None) -> CrashReport:
    registry = registry or make_registry()
    rng = random.Random(seed)
    target = Target.start(system, registry, seed=seed, **SANDBOX_OPTIONS.get(system, {}))
    report = CrashReport(system)
    started = time.monotonic()
    try:
        env = SyncEnv(tmp, target, registry)
        book = Book(random.Random(seed + 1))
        project = env.project()
        alias = env.connection(project, **SCOPE)
        killer = RequestKiller()
        intercept(target.app, killer)
        expected_requests = 8  # learnt from each clean run: the kill point is drawn within it
        attempts = 0
        while report.kills < kills and attempts < kills * 4:
            attempts += 1
            if report.kills == 0 or report.resumes == report.kills:  # new work for the next kill
                apply_round(env, project, book, new_per_round, flips_per_round if report.kills else 0)
            point = KillAt(rng.randint(1, max(2, expected_requests)), rng.choice(["before", "after"]))
            if point.when == "after" and rng.random() < 0.5:
                point = KillAt(point.nth, "after", rng.choice([0.001, 0.005, 0.02, 0.05]))
            code, result, err = run_child(env, alias, killer, point)
            if not killer.fired or code != -signal.SIGKILL:
                report.missed += 1  # the sync ended before the point: it was a clean run
                if result is not None and result.get("state") != "succeeded":
                    report.resume_failures.append(f"unkilled run {point}: {result.get('message')}")
                continue
            report.kills += 1
            report.points.append(f"{point} = {killer.killed_at}")
            integrity = env.store.integrity_check()
            if integrity == "ok":
                report.integrity_ok += 1
            else:
                report.integrity_bad.append(f"after kill at {point}: {integrity}")
            before = target.app.requests
            code, result, err = run_child(env, alias, killer, None)  # resume
            report.resumes += 1
            if code != 0 or result is None or result.get("state") != "succeeded":
                report.resume_failures.append(f"resume after {point}: {code} {result} {err[-300:]}")
            else:
                expected_requests = max(4, target.app.requests - before)
            if progress:
                progress(f"{system} kill {report.kills}/{kills} at {report.points[-1]}; resume "
                         f"{(result or {}).get('state')} {(result or {}).get('counts')}")
        check = check_alm(env, alias, book)
        report.duplicates, report.lost, report.wrong_done = check.duplicates, check.lost, check.wrong_done
        report.journal_left = check.journal_left
        report.examples = check.examples[:10]
        report.tasks = len(book.done)
        if check.integrity != "ok":
            report.integrity_bad.append(f"at the end: {check.integrity}")
    finally:
        target.stop()
        report.seconds = time.monotonic() - started
    return report
